package scanner

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Connection management: how many sessions a host gets, and how fast.
//
// Sessions are opened one login at a time, no faster than
// WalkOptions.LoginInterval, and not one more until the first login has
// succeeded: a wrong password is one failed login, and stops the host (a
// permanent 530 is not retried). After that, sessions are opened no faster than
// WalkOptions.LoginInterval, up to WalkOptions.Connections. A server that
// answers a login with "too many connections" (421, or 530 with such a
// text) while other sessions are open has told us its limit: the pool is
// capped at the sessions open, and the cap holds for CapHold before one
// more session is tried (and if that is refused, the cap holds again,
// twice as long). A session lost after sitting idle (servers close idle
// control connections) is replaced without counting against the
// directory's retries.

// Pool defaults.
const (
	DefaultLoginInterval = 20 * time.Millisecond
	DefaultCapHold       = 30 * time.Second
	// DefaultIdleReconnect: a session lost after at least this long idle
	// is taken to have been closed for idleness.
	DefaultIdleReconnect = 5 * time.Second
)

// poolState is the walker's connection bookkeeping; guarded by walker.mu.
type poolState struct {
	limit     int       // sessions allowed now
	until     time.Time // the limit holds until then
	hold      time.Duration
	opening   int // logins in progress
	lastLogin time.Time
	// verified is set once a login has succeeded: until then only one
	// login is tried at a time, so that a wrong password costs one failed
	// login, not one per connection (fail2ban counts them).
	verified bool
}

// waitSlot blocks until this worker may open a session (below the cap,
// and the login rate allows), and reserves it. It returns false when the
// walk is over.
func (w *walker) waitSlot(ctx context.Context) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if w.done || ctx.Err() != nil || w.pending == 0 {
			return false
		}
		now := time.Now()
		p := &w.pool
		var wait time.Duration
		switch {
		case !p.verified && w.alive+p.opening > 0:
			wait = 10 * time.Millisecond // the first login is not answered yet
		case w.alive+p.opening < p.limit:
			if wait = p.lastLogin.Add(w.opt.LoginInterval).Sub(now); wait <= 0 {
				p.opening++
				p.lastLogin = now
				return true
			}
		case p.limit < w.opt.Connections && !now.Before(p.until):
			// The cap has held long enough: try one more.
			p.limit++
			p.until = now.Add(p.hold)
			continue
		default:
			wait = 50 * time.Millisecond
			if p.limit < w.opt.Connections {
				wait = min(wait, p.until.Sub(now))
			}
		}
		w.mu.Unlock()
		ok := sleepCtx(ctx, max(wait, time.Millisecond))
		w.mu.Lock()
		if !ok {
			return false
		}
	}
}

// opened records a login's outcome; err is nil on success.
func (w *walker) opened(err error) {
	w.pool.opening--
	if err == nil {
		w.pool.verified = true
		w.alive++
		w.res.Pool.Logins++
		w.res.Pool.Peak = max(w.res.Pool.Peak, w.alive)
	}
}

// capAt lowers the pool's limit to the sessions open after the server
// refused one more with reply.
func (w *walker) capAt(reply string) {
	p := &w.pool
	r := w.res.Pool
	r.Refusals++
	if r.Reply == "" {
		r.Reply = reply
	}
	// Logins still in progress hold a place at the server too (the one
	// refused is no longer counted in opening).
	n := max(w.alive+p.opening, 1)
	if n < p.limit || !time.Now().Before(p.until) {
		if p.limit > n && (r.Cap == 0 || n < r.Cap) {
			r.Cap = n
		}
		// Refused again right after growing: hold twice as long.
		if p.limit == n+1 && p.hold < 8*w.opt.CapHold {
			p.hold *= 2
		}
		p.limit = n
		p.until = time.Now().Add(p.hold)
	}
}

// poolNote is the host's note about the limit its server imposed, if any.
func (w *walker) poolNote() {
	r := w.res.Pool
	if r.Refusals == 0 {
		return
	}
	w.res.Notes = append(w.res.Notes, ftpaudit.PathError{Path: w.res.Target.Start, Error: fmt.Sprintf(
		"the server refused %d logins as too many (%s): the walk went on with %d connections of the %d asked for, trying one more every %s or longer",
		r.Refusals, r.Reply, cmp.Or(r.Cap, w.pool.limit), r.Asked, w.opt.CapHold)})
}
