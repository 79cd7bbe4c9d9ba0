package scanner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftpconn"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// wideFault is a root with n directories of one file each.
func wideFault(n int) faultftp.Tree {
	m := map[string][]faultftp.Entry{"/": nil}
	for i := range n {
		d := fmt.Sprintf("d%02d", i)
		m["/"] = append(m["/"], faultftp.Dir(d))
		m["/"+d] = []faultftp.Entry{faultftp.File("x", 1)}
	}
	return faultftp.Map(m)
}

// walkFault walks a faultftp server over real FTP sessions.
func walkFault(t *testing.T, opt faultftp.Options, wo WalkOptions) (*ftpaudit.HostResult, *faultftp.Server) {
	t.Helper()
	srv, err := faultftp.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tg, err := ftpaudit.ParseTarget(srv.URL("/"))
	if err != nil {
		t.Fatal(err)
	}
	dial := ftpconn.DialOptions{ConnectTimeout: 2 * time.Second, IdleTimeout: 5 * time.Second, NoStat: true}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if wo.Backoff == 0 {
		wo.Backoff = 10 * time.Millisecond
	}
	r := Walk(ctx, tg, func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		return ftpconn.DialFTP(ctx, tg, dial)
	}, wo)
	return r, srv
}

func TestPoolCapsAtTheServersLimit(t *testing.T) {
	for name, reply := range map[string]string{
		"421": "421 Too many connections (2) from this IP\r\n",
		"530": "530 Sorry, the maximum number of clients (2) for this user are already connected.\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			// Two sessions at a time; the third and later are refused at
			// the greeting (421) or at login (530) while two are open.
			var mu sync.Mutex
			open := map[int]bool{}
			r, srv := walkFault(t, faultftp.Options{Tree: wideFault(12), Script: faultftp.Script{
				Reply: func(x *faultftp.Exchange) {
					mu.Lock()
					defer mu.Unlock()
					login := (name == "421" && x.Seq == 0) ||
						(name == "530" && (x.Verb == "PASS" || x.Verb == "USER" && strings.HasPrefix(x.Reply, "230")))
					switch {
					case x.Verb == "QUIT":
						delete(open, x.Session)
					case login && len(open) >= 2:
						x.Reply, x.Hangup = reply, true
					case login:
						open[x.Session] = true
					}
					if x.Verb == "LIST" {
						// A walk long enough for every login to be answered
						// while it runs, and to try growing.
						x.Delay = 60 * time.Millisecond
					}
				},
			}}, WalkOptions{Connections: 5, CapHold: 100 * time.Millisecond})
			if !r.Complete {
				t.Fatalf("incomplete: %v %+v (login error %q)", r.Incomplete, r.Errors, r.LoginError)
			}
			if r.NumEntries() != 24 {
				t.Errorf("%d entries, want 24", r.NumEntries())
			}
			p := r.Pool
			if p == nil || p.Cap != 2 || p.Refusals < 1 || p.Peak > 2 || !strings.Contains(p.Reply, name) {
				t.Errorf("pool report %+v, want cap 2 learned from a %s", p, name)
			}
			if !slices.ContainsFunc(r.Notes, func(n ftpaudit.PathError) bool { return strings.Contains(n.Error, "went on with 2 connections") }) {
				t.Errorf("notes %+v lack the limit", r.Notes)
			}
			if srv.Sessions() > 2+p.Refusals+2 {
				t.Errorf("%d sessions for %d refusals: the pool kept knocking", srv.Sessions(), p.Refusals)
			}
		})
	}
}

func TestPoolLoginRate(t *testing.T) {
	var mu sync.Mutex
	var greeted []time.Time
	r, _ := walkFault(t, faultftp.Options{Tree: wideFault(8), Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			if x.Seq == 0 {
				mu.Lock()
				greeted = append(greeted, time.Now())
				mu.Unlock()
			}
			if x.Verb == "LIST" {
				x.Delay = 30 * time.Millisecond // long enough for every session to log in
			}
		},
	}}, WalkOptions{Connections: 6, LoginInterval: 40 * time.Millisecond})
	if !r.Complete || r.Pool.Logins < 4 {
		t.Fatalf("complete %v, %d logins", r.Complete, r.Pool.Logins)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.SortFunc(greeted, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(greeted); i++ {
		// Connections are accepted in the order they were dialled, each
		// at least LoginInterval after the one before (a little less
		// for scheduling).
		if d := greeted[i].Sub(greeted[i-1]); d < 30*time.Millisecond {
			t.Errorf("login %d came %s after the one before, want at least 40ms", i, d)
		}
	}
}

func TestPoolSurvivesIdleDisconnects(t *testing.T) {
	// The server drops any session that was idle over 150ms. /slow takes
	// 600ms to list and holds the rest of the work, so the other session
	// sits idle meanwhile and is dropped at its next command. With
	// --retries 1 that loss must not cost the directory its only try.
	var mu sync.Mutex
	last := map[int]time.Time{}
	tree := map[string][]faultftp.Entry{
		"/":        {faultftp.Dir("slow"), faultftp.Dir("fast")},
		"/fast":    {faultftp.File("f", 1)},
		"/slow":    {faultftp.Dir("s1"), faultftp.Dir("s2"), faultftp.Dir("s3")},
		"/slow/s1": {faultftp.File("a", 1)}, "/slow/s2": {faultftp.File("b", 1)}, "/slow/s3": {faultftp.File("c", 1)},
	}
	r, _ := walkFault(t, faultftp.Options{Tree: faultftp.Map(tree), Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			if t0, ok := last[x.Session]; ok && x.Seq > 0 && now.Sub(t0) > 150*time.Millisecond {
				x.Reply, x.Hangup = "421 Timeout.\r\n", true
			}
			last[x.Session] = now
		},
		Transfer: func(tr *faultftp.Transfer) {
			if tr.Dir == "/slow" {
				tr.Delay = 600 * time.Millisecond
			}
			mu.Lock()
			last[tr.Session] = time.Now().Add(tr.Delay)
			mu.Unlock()
		},
	}}, WalkOptions{Connections: 2, Retries: 1, IdleReconnect: 100 * time.Millisecond, NoTree: true})
	if !r.Complete {
		t.Fatalf("incomplete: %v %+v", r.Incomplete, r.Errors)
	}
	if r.NumEntries() != 9 {
		t.Errorf("%d entries, want 9", r.NumEntries())
	}
	if r.Pool.IdleReconnects < 1 {
		t.Errorf("pool report %+v: no idle reconnect counted", r.Pool)
	}
}
