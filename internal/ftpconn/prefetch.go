package ftpconn

// Several directories' STAT replies behind one sentinel (Prefetch).
//
// A walk that lists with STAT spends a round trip and a REST sentinel
// per directory, and the sentinel costs the server as much again as a
// small directory's STAT. Prefetch sends the STATs of a few directories
// the walker is about to list, then one "REST <nonce>", in one write,
// and reads the replies in order. They are accepted all together or not
// at all: every reply must be multi-line with one and the same code C
// (the first reply's), none may hold the nonce, and the nonce's reply
// must come right after the last reply's end.
//
// Why that proves each reply was read whole and as itself. A name can
// add lines to the stream (CR LF in it), never take the server's own
// lines away, and cannot hold the nonce (random, sent after the names
// were listed). Each accepted reply ends at the first line starting
// "C " after its own first line, so no accepted reply spans such a line.
// Suppose the replies as read first differ from the server's at reply i:
// reply i starts where the server's reply i starts (at the server's
// own first line, which is "C-" since reply i is multi-line with code
// C), so it ends early, at a line a name faked; the server's real end
// of reply i, a "C " line, is then still ahead, and ends some later
// reply a > i as read, after which the next reply as read starts at the
// server's reply i+1: the replies as read are now ahead of the server's
// by a - i >= 1, and, by the same step, stay ahead. The server's last
// reply is followed by the nonce's; with the count ahead, the replies as
// read run out (k of them) before the server's last reply ends, and the
// line after the last one read is not the nonce's reply. So an accepted
// batch was read exactly as the server sent it; each reply's content is
// then judged as a single STAT reply's is (statListing).
//
// The argument counts on the server answering every STAT of the batch,
// as RFC 959 has every command answered: a STAT it dropped without a
// word would leave the server's replies one short, which one faked end
// and one faked start could make up for. The one server known to drop a
// command silently, proftpd, does so by length (a line longer than its
// CommandBufferSize, 4,103 bytes by default, is ignored); so a batch
// takes only STAT lines no longer than the longest the server answered
// on its own, with its nonce after it (statState.batchable). A deeper
// directory is listed on its own first, and raises the bound. And a
// batch whose nonce comes back early (fewer replies than STATs, or the
// nonce inside a reply) stops batches on the host for good: a server
// that leaves a STAT unanswered for any other reason is caught the first
// time it does, before names that make up for the missing reply can.
//
// Anything else (an error reply, another code, a faked end, a server that
// does not echo the nonce) refuses the whole batch, with the stream read
// up to the nonce (in step), and every directory of it is listed again
// on its own by List, which refuses only the directory at fault. Replies
// past a budget of held bytes are read, checked and dropped, and their
// directories listed on their own too, so that a batch never holds more
// than one huge directory.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// prefetchHold is how many listing bytes a batch keeps before it drops
// the replies after (see above).
var prefetchHold int64 = 4 << 20 // a variable for tests

// maxPrefetch is the most directories one batch lists.
const maxPrefetch = 16

// preListing is a directory listed by Prefetch, waiting for List: its
// listing and size, or why its reply was refused (l nil).
type preListing struct {
	l   *ftpaudit.Listing
	n   statSize
	why string
}

// Prefetch lists, where it can, the directories of dirs that List would
// list with a STAT by path, all in one exchange; List then takes each
// from what was read. It lists nothing when fewer than two qualify. It
// returns an error only when the session is lost (ErrConnLost), the
// directories unlisted: the caller lists them on another session.
func (s *ftpSession) Prefetch(ctx context.Context, dirs []string) error {
	s.pre = nil // what an earlier batch left that List never asked for
	if !s.Prefetches() {
		return nil
	}
	batch := make([]string, 0, min(len(dirs), maxPrefetch))
	for _, d := range dirs {
		if len(batch) == maxPrefetch {
			break
		}
		// (A plain path holds no space, CR, LF, NUL or byte above
		// ASCII: it goes on the command line as it is.)
		if slices.Contains(batch, d) || !ftppath.Plain(d) || !s.dialect.wouldSTAT(d) || !s.stat.batchable(len(statLine(d))) {
			continue
		}
		batch = append(batch, d)
	}
	if len(batch) < 2 {
		return nil
	}
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	pre, err := s.statBatch(batch)
	if err != nil {
		if errors.Is(err, errStatDesync) {
			s.stat.disable(err.Error())
		}
		s.abort()
		err = s.classify(ctx, "stat "+strings.Join(batch, ", "), err)
		if !errors.Is(err, ftpaudit.ErrConnLost) {
			err = fmt.Errorf("%w: %w", ftpaudit.ErrConnLost, err)
		}
		return err
	}
	s.pre = pre
	return nil
}

// Prefetches reports whether Prefetch can list anything on this session:
// STAT is in use, by path (not a session that lists with MLSD).
func (s *ftpSession) Prefetches() bool {
	return s.stat != nil && !s.mlsd && s.stat.batching()
}

// takePre returns what Prefetch read for dir, and forgets it.
func (s *ftpSession) takePre(dir string) (preListing, bool) {
	p, ok := s.pre[dir]
	if ok {
		delete(s.pre, dir)
	}
	return p, ok
}

// statBatch runs one batch exchange (see the top of this file) and
// returns what it listed, by directory: nothing when the batch was
// refused in step. An error means the session is out of use
// (errStatDesync: out of step).
func (s *ftpSession) statBatch(dirs []string) (map[string]preListing, error) {
	s.beginStat()
	defer s.endStat()
	n := nonce()
	var cmd strings.Builder
	for _, d := range dirs {
		cmd.WriteString(statLine(d))
	}
	cmd.WriteString("REST " + n + "\r\n")
	s.restPending = true
	if _, err := s.control.Write([]byte(cmd.String())); err != nil {
		return nil, err
	}
	limit := s.opt.MaxListingBytes
	type read struct {
		r    *statResult
		text []string
		kept bool
	}
	reads := make([]read, 0, len(dirs))
	scratch := s.takeScratch()
	defer func() { s.putScratch(scratch) }()
	var code string
	held := int64(0)
	refused := "" // why the batch is refused, once it is
	for range dirs {
		r := &statResult{lines: newListBuf(scratch)}
		scratch = nil
		keep := held < prefetchHold
		first, err := s.ctlLine(&r.bytes, limit)
		if err != nil {
			return nil, err
		}
		if isNonce(first, n) {
			s.stat.refusedB.Add(1)
			s.stat.stopBatching()
			return nil, s.inStep() // the replies ended early
		}
		if !isCode(string(first)) || first[3] != '-' || (code != "" && string(first[:3]) != code) {
			refused = "not a multi-line reply of the batch's code: " + string(trunc(first))
			break
		}
		code = string(first[:3])
		r.code = code
		sawNonce, err := s.readReply(r, n, true, keep)
		if err != nil {
			return nil, err
		}
		if sawNonce {
			s.stat.refusedB.Add(1)
			s.stat.stopBatching()
			return nil, s.inStep() // the sentinel inside a reply
		}
		held += r.lines.Len()
		var text []string
		text, scratch = r.lines.finish()
		reads = append(reads, read{r: r, text: text, kept: keep})
	}
	if refused == "" {
		line, err := s.ctlLine(new(int64), limit)
		if err != nil {
			return nil, err
		}
		if isNonce(line, n) {
			if err := s.inStep(); err != nil {
				return nil, err
			}
			pre := make(map[string]preListing, len(reads))
			for i, rd := range reads {
				if !rd.kept {
					continue
				}
				l, sz, why := s.statText(rd.r, rd.text)
				pre[dirs[i]] = preListing{l: l, n: sz, why: why}
			}
			return pre, nil
		}
		if isCode(string(line)) && line[3] == ' ' && (line[0] >= '4' || bytes.HasPrefix(line, []byte("350 "))) {
			// REST refused, or its offset not echoed, right after the
			// last reply: as for a single STAT, this server does not
			// play along.
			return nil, fmt.Errorf("%w: REST sentinel answered %q", errStatDesync, trunc(line))
		}
	}
	// Refused: read up to the nonce, which only the server can echo.
	s.stat.refusedB.Add(1)
	return nil, s.skipToSentinel(&statResult{}, n, refused)
}
