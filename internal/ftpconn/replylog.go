package ftpconn

// The server's replies, read from jlaffaye's debug stream.

import (
	"bytes"
	"sort"
	"strings"
	"sync"
)

// replyLog receives jlaffaye's debug stream of the control connection
// (commands written and replies read; data never passes through it because
// drainConn hides it). It keeps replies only, never commands, so that no
// password can be retained.
type replyLog struct {
	mu      sync.Mutex
	partial []byte
	multi   []string // lines of a multi-line reply in progress
	replies []string // completed replies, most recent last (bounded)
	// bounds, when set, sees every reply byte and fails the read that
	// takes a reply past one of its bounds (see replyBounds).
	bounds *replyBounds
}

const maxReplies = 8

func (r *replyLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if isCommand(p) {
		if r.bounds != nil {
			if r.bounds.busy() {
				// Inside a reply, a command-shaped chunk is the
				// server's: it counts against the reply's bounds
				// (a failure shows on the next read), but its text
				// is dropped all the same.
				_ = r.bounds.read(p)
			} else {
				r.bounds.command()
			}
		}
		// jlaffaye writes each command it sends to the same stream, in
		// one Write. It is never kept; and a reply in progress around it
		// (a server that sent ahead, or framed a reply differently from
		// jlaffaye's reader) is dropped with it, so that no command can
		// end up inside a kept reply.
		r.partial = r.partial[:0]
		r.multi = nil
		return len(p), nil
	}
	if r.bounds != nil {
		if err := r.bounds.read(p); err != nil {
			// jlaffaye reads through an io.TeeReader into this log:
			// the error fails its read of the reply.
			r.partial = r.partial[:0]
			r.multi = nil
			return len(p), err
		}
	}
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSuffix(string(r.partial[:i]), "\r")
		r.partial = r.partial[i+1:]
		r.line(line)
	}
	if len(r.partial) > 64<<10 { // a hostile endless line
		r.partial = r.partial[:0]
	}
	return len(p), nil
}

// isCommand reports whether one Write of the debug stream is a command
// line: an ASCII letter, then one line ending in CR LF. A chunk of a
// server reply of that shape is dropped as well: losing reply text is
// safe, keeping a command (a password) is not.
func isCommand(p []byte) bool {
	n := len(p)
	if n < 3 || p[n-2] != '\r' || p[n-1] != '\n' || bytes.IndexByte(p[:n-2], '\n') >= 0 {
		return false
	}
	c := p[0]
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func isCode(s string) bool {
	return len(s) >= 4 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

func (r *replyLog) line(line string) {
	if r.multi != nil {
		if len(r.multi) < 256 {
			r.multi = append(r.multi, line)
		}
		if isCode(line) && line[3] == ' ' && line[:3] == r.multi[0][:3] {
			r.push(strings.Join(r.multi, "\n"))
			r.multi = nil
		}
		return
	}
	if !isCode(line) {
		return // a command we sent: never kept
	}
	if line[3] == '-' {
		r.multi = []string{line}
		return
	}
	r.push(line)
}

func (r *replyLog) push(s string) {
	r.replies = append(r.replies, s)
	if len(r.replies) > maxReplies {
		copy(r.replies, r.replies[len(r.replies)-maxReplies:])
		r.replies = r.replies[:maxReplies]
	}
}

func (r *replyLog) reset() {
	r.mu.Lock()
	r.replies = r.replies[:0]
	r.mu.Unlock()
}

func (r *replyLog) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.replies) == 0 {
		return ""
	}
	return r.replies[len(r.replies)-1]
}

func (r *replyLog) first() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.replies) == 0 {
		return ""
	}
	return r.replies[0]
}

// features returns the FEAT lines from the most recent 211 reply.
func (r *replyLog) features() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.replies) - 1; i >= 0; i-- {
		rep := r.replies[i]
		if !strings.HasPrefix(rep, "211") || !strings.Contains(rep, "\n") {
			continue
		}
		var out []string
		for _, l := range strings.Split(rep, "\n") {
			if strings.HasPrefix(l, " ") {
				out = append(out, strings.TrimSpace(l))
			}
		}
		sort.Strings(out)
		return out
	}
	return nil
}
