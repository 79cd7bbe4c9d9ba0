package ftpconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// Listing over the control connection.
//
// "STAT -a DIR" makes vsftpd, proftpd and pure-ftpd send DIR's "ls -l"
// listing as a multi-line reply on the control connection: no EPSV, no
// data connection, one round trip per directory instead of three. The
// reply is parsed by the same LIST parser. It is used only where it is
// provably the same listing, and only in a form that a hostile name cannot
// subvert:
//
//   - Per host, the first directory is listed both ways (STAT and LIST -a
//     over a data connection) and STAT is used for the rest of the walk
//     only when the two listings are the same line for line.
//   - After that, STAT proves itself on every listing it serves. The host
//     keeps the size (lines and bytes) of the largest STAT listing found
//     identical to the data connection's; a STAT listing is used alone
//     only when it is smaller in both, and any other is listed again over
//     a data connection first (if identical, the bound grows; if not, STAT
//     is turned off for the host and the data listing is used). A server
//     that cuts STAT replies after N lines shows exactly N lines for every
//     larger directory, never fewer than a directory it served whole, so
//     a cut listing is always checked: no directory can lose entries to
//     the cut. (A listing only as large as the largest checked one is
//     checked too: it may be the same cut.)
//   - Every STAT is sent pipelined with "REST <nonce>". A name
//     may contain CR LF and so fake the end of the STAT reply (vsftpd and
//     proftpd send names unescaped); whatever follows a fake end arrives
//     before the REST reply, which must echo the random nonce that no
//     uploader can know. Anything between is proof of such a name: the
//     reader resynchronises on the nonce, discards the STAT reply and the
//     directory is listed over a data connection. The restart offset the
//     nonce leaves is cleared with "REST 0" before the session next does
//     anything else (clearRest): only a transfer would use it, and a walk
//     that lists by STAT sends nothing else.
//   - A path that is not plain (see ftppath.Plain: spaces, glob
//     characters, non-ASCII bytes), which STAT's argument cannot carry
//     verbatim, is entered instead: "CWD dir", "PWD" and "STAT -a ." go
//     in the same write, before the sentinels. The STAT reply counts only
//     when CWD succeeded and PWD names dir exactly (as enter checks);
//     otherwise the directory is listed over a data connection, which
//     enters it again and reports why it cannot. Replies to CWD may carry
//     a directory's message file, which an uploader can write; whatever
//     it fakes stands between the sentinel and the end the reader found,
//     or shows as lines that are not a listing, and is refused like a
//     name that fakes the end.
//   - A STAT reply is accepted only when every line parses, no line holds
//     a bare CR or LF, the reply carries nothing but listing lines, and it
//     lists the directory's own "." entry. Anything else (an unreadable
//     directory, which vsftpd answers with the directory's own line,
//     proftpd with nothing and pure-ftpd with a text; a file; a server
//     note) falls back to LIST over a data connection, whose answers the
//     walker already knows how to read.
//
// Only unencrypted sessions use it.

// statState is a host's verdict on STAT listings, shared by its sessions.
type statState struct {
	mu       sync.Mutex
	verdict  int // statUnknown, statTesting, statOn, statOff
	attempts int
	note     string
	// proven is the size of the largest STAT listing (in lines, and in
	// bytes: the two need not come from one listing) found identical to
	// the same directory's listing over a data connection.
	proven statSize

	listed    atomic.Int64 // directories listed with STAT (those checked against a data connection included)
	checked   atomic.Int64 // STAT listings checked against a data connection after the first
	fallbacks atomic.Int64 // STAT replies refused, listed over a data connection
	resyncs   atomic.Int64 // STAT replies with content after a faked end
	batched   atomic.Int64 // directories of listed whose STAT went in a batch (Prefetch)
	refusedB  atomic.Int64 // batches refused whole
	// lineLen is the length of the longest "STAT -a DIR" line the server
	// answered on its own (see Prefetch).
	lineLen int
	// noBatch is set once a batch's nonce came back early: the server
	// answered fewer replies than it was sent STATs (see Prefetch).
	noBatch bool
}

// statSize is the size of a STAT listing: its listing lines (the "." and
// ".." lines included) and their bytes.
type statSize struct {
	lines, bytes int64
}

// covers reports whether a STAT listing of size n may be used without a
// check: it is smaller, in lines and in bytes, than the largest listings
// already found identical to the data connection's.
func (st *statState) covers(n statSize) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return n.lines < st.proven.lines && n.bytes < st.proven.bytes
}

// prove records a STAT listing of size n found identical to the data
// connection's.
func (st *statState) prove(n statSize) {
	st.mu.Lock()
	st.proven.lines = max(st.proven.lines, n.lines)
	st.proven.bytes = max(st.proven.bytes, n.bytes)
	st.mu.Unlock()
}

const (
	statUnknown = iota
	statTesting
	statOn
	statOff
)

// maxStatGateAttempts bounds how many directories are tried before STAT
// is given up for a host when none gives a clear answer (for example an
// unreadable start directory).
const maxStatGateAttempts = 3

func (st *statState) report() ftpaudit.StatReport {
	if st == nil {
		return ftpaudit.StatReport{Note: "off"}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r := ftpaudit.StatReport{Used: st.verdict == statOn, Note: st.note,
		Listed: st.listed.Load(), Fallbacks: st.fallbacks.Load(), Resyncs: st.resyncs.Load(),
		Batched: st.batched.Load(), BatchesRefused: st.refusedB.Load()}
	if !r.Used && r.Note == "" {
		r.Note = "never checked"
	}
	return r
}

// begin decides how this session lists the next directory: with STAT
// (use), both ways to check (test), or not at all. A directory that
// cannot be tested (one entered with CWD) is only ever used.
func (st *statState) begin(testable bool) (use, test bool) {
	if st == nil {
		return false, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !testable {
		return st.verdict == statOn, false
	}
	switch st.verdict {
	case statOn:
		return true, false
	case statUnknown:
		st.verdict = statTesting
		return false, true
	}
	return false, false
}

// settle records the outcome of a check: on or off, or "no answer" (back
// to unknown, so that another directory is tried).
func (st *statState) settle(on bool, decided bool, note string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.attempts++
	switch {
	case decided && on:
		st.verdict, st.note = statOn, ""
	case decided:
		st.verdict, st.note = statOff, note
	case st.attempts >= maxStatGateAttempts:
		st.verdict, st.note = statOff, "no directory gave a clear answer: "+note
	default:
		st.verdict, st.note = statUnknown, note
	}
}

// count counts a directory listed with STAT, its STAT sent in a batch or
// not.
func (st *statState) count(batched bool) {
	st.listed.Add(1)
	if batched {
		st.batched.Add(1)
	}
}

// answered records that the server answered, with its nonce after it, a
// single STAT whose command line was n bytes long.
func (st *statState) answered(n int) {
	st.mu.Lock()
	st.lineLen = max(st.lineLen, n)
	st.mu.Unlock()
}

// batchable reports whether a STAT command line n bytes long may go in a
// batch: the server answered one at least as long on its own, and has
// not been found answering a batch short.
func (st *statState) batchable(n int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.verdict == statOn && !st.noBatch && n <= st.lineLen
}

// batching reports whether batches are still sent on the host.
func (st *statState) batching() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.verdict == statOn && !st.noBatch
}

// stopBatching stops batches on the host: one came back short.
func (st *statState) stopBatching() {
	st.mu.Lock()
	st.noBatch = true
	st.mu.Unlock()
}

// disable turns STAT off for the host after a protocol surprise.
func (st *statState) disable(note string) {
	st.mu.Lock()
	st.verdict, st.note = statOff, note
	st.mu.Unlock()
}

// errStatDesync means the control connection is no longer in step with
// the server; the session must be dropped.
var errStatDesync = errors.New("control connection out of step after STAT")

// statResult is one STAT exchange, before it is accepted.
type statResult struct {
	lines   listBuf // the listing lines, prefix space removed, each ending in "\n"
	code    string
	final   string // the reply's last line
	bytes   int64
	refused string // non-empty when the reply is not a plain listing
	resync  bool   // content followed a faked end of reply
}

// nonce returns a random decimal restart offset no uploader can guess:
// 15 digits (about 50 bits), as many as vsftpd echoes (it answers 0 for
// longer offsets).
func nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	const lo, span = 100_000_000_000_000, 899_999_999_999_999
	return strconv.FormatUint(lo+binary.BigEndian.Uint64(b[:])%span, 10)
}

// statExchange sends "STAT -a dir" with its two REST sentinels and reads
// the three replies from the raw control connection. jlaffaye's reader is
// idle between commands and holds no buffered bytes, so the replies are
// read here and jlaffaye never sees them; on return nothing of them is
// left unread, or the error is errStatDesync. With enter, dir is entered
// with CWD (checked with PWD) and listed as "STAT -a .", all in the same
// write (see the top of this file).
func (s *ftpSession) statExchange(dir string, enter bool) (*statResult, error) {
	s.beginStat()
	defer s.endStat()
	n := nonce()
	cmd := statLine(dir) + "REST " + n + "\r\n"
	if enter {
		cmd = "CWD " + pathArg(dir) + "\r\nPWD\r\nSTAT -a .\r\nREST " + n + "\r\n"
	}
	pending := s.restPending // an offset an earlier sentinel left
	s.restPending = true
	if _, err := s.control.Write([]byte(cmd)); err != nil {
		return nil, err
	}
	r := &statResult{lines: newListBuf(s.takeScratch())}
	limit := s.opt.MaxListingBytes
	entered := ""
	if enter {
		why, lost, err := s.enterReplies(dir, n, &r.bytes, limit)
		if err != nil {
			return nil, err
		}
		if lost == nonceRead {
			return s.pastSentinel(r, why)
		}
		if lost == notInStep {
			if err := s.skipToSentinel(r, n, why); err != nil {
				return nil, err
			}
			return r, nil
		}
		entered = why
	}
	first, err := s.ctlLine(&r.bytes, limit)
	if err != nil {
		return nil, err
	}
	if enter && isNonce(first, n) {
		// A message file faked the replies up to here.
		return s.pastSentinel(r, "the nonce came before the STAT reply")
	}
	if !isCode(string(first)) {
		return nil, fmt.Errorf("%w: reply to STAT does not start with a code: %q", errStatDesync, trunc(first))
	}
	r.code = string(first[:3])
	statNo := false // STAT refused with a one-line reply
	if first[3] == '-' {
		sawNonce, err := s.readReply(r, n, enter, true)
		if err != nil {
			return nil, err
		}
		if sawNonce {
			// A reply whose first line a message file faked, with a
			// code whose end never comes.
			return s.pastSentinel(r, "the nonce came inside the STAT reply")
		}
	} else {
		r.final = string(first)
		r.refused = "not a listing: " + string(trunc(first))
		statNo = first[3] == ' ' && first[0] >= '4'
	}
	// The nonce reply. Anything before it belongs to the STAT reply: a
	// name that faked its end. Skip to the nonce, which only the server
	// can echo.
	for first := true; ; first = false {
		line, err := s.ctlLine(&r.bytes, limit)
		if err != nil {
			return nil, err
		}
		if isNonce(line, n) {
			break
		}
		if first && statNo && isCode(string(line)) && line[3] == ' ' && line[0] >= '4' {
			// STAT and REST both refused, each with a one-line reply
			// (Twisted: 502 for both): a server without STAT, in step.
			// The STAT reply was one line the server wrote, so no name
			// can have faked anything, and this exchange set no offset
			// (an earlier one's may still be set).
			if s.ctl.Buffered() > 0 {
				return nil, fmt.Errorf("%w: %d unexpected bytes after the sentinel", errStatDesync, s.ctl.Buffered())
			}
			s.restPending = pending
			return r, nil
		}
		if first && isCode(string(line)) && line[3] == ' ' && (line[0] >= '4' || bytes.HasPrefix(line, []byte("350 "))) {
			// REST refused, or its offset not echoed: this server does
			// not play along. (A name that fakes such a reply after a
			// faked end of the STAT reply lands here too, and is
			// handled the same way: safely, by giving STAT up.)
			return nil, fmt.Errorf("%w: REST sentinel answered %q", errStatDesync, trunc(line))
		}
		r.resync = true
	}
	if s.ctl.Buffered() > 0 {
		return nil, fmt.Errorf("%w: %d unexpected bytes after the sentinel", errStatDesync, s.ctl.Buffered())
	}
	if r.resync {
		r.refused = "the reply went on after its end (a name holding CR LF)"
	} else if entered != "" {
		r.refused = entered
	}
	return r, nil
}

// readReply reads the rest of r's multi-line reply (its first line read,
// its code in r.code) up to its end, a line starting with the code and a
// space, filing every line before it (take; in the text when keep is
// set). Where watch is set, it stops at the nonce's reply if that comes
// first, and says so.
func (s *ftpSession) readReply(r *statResult, n string, watch, keep bool) (sawNonce bool, err error) {
	end, cont := []byte(r.code+" "), []byte(r.code+"-")
	for {
		line, err := s.ctlLine(&r.bytes, s.opt.MaxListingBytes)
		if err != nil {
			return false, err
		}
		if bytes.HasPrefix(line, end) {
			r.final = string(line)
			return false, nil
		}
		if watch && isNonce(line, n) {
			return true, nil
		}
		r.take(line, cont, keep)
	}
}

// take files one line of a multi-line STAT reply (cont is its code and
// "-"), kept in the listing's text when keep is set: server text in the
// reply or a line holding a bare CR or LF refuses the reply.
func (r *statResult) take(line, cont []byte, keep bool) {
	if bytes.HasPrefix(line, cont) {
		r.refused = "server text in the reply: " + string(trunc(line))
	}
	if bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, '\n') >= 0 {
		r.refused = "a line holds a bare CR or LF"
	}
	if !keep {
		return
	}
	if len(line) > 0 && line[0] == ' ' {
		line = line[1:] // proftpd indents every line
	}
	r.lines.writeLine(line)
}

// statLine is the command that lists dir by path over the control
// connection.
func statLine(dir string) string { return "STAT -a " + pathArg(dir) + "\r\n" }

// beginStat readies the control connection for an exchange whose
// replies the session reads itself (ctlLine), up to endStat.
func (s *ftpSession) beginStat() {
	if s.ctl == nil {
		s.ctl = bufio.NewReaderSize(s.control, 16<<10)
	}
	if dc, ok := s.control.(*deadlineConn); ok {
		// A listing over the control connection: it must keep the
		// rate of a data transfer (the reply bounds do not see it).
		dc.rate = &rateMeter{min: s.opt.MinDataRate, window: s.opt.RateWindow}
	}
}

// endStat ends what beginStat began.
func (s *ftpSession) endStat() {
	if dc, ok := s.control.(*deadlineConn); ok {
		dc.rate = nil
	}
}

// inStep checks, right after the nonce's reply, that the server sent
// nothing more: the connection is then in step.
func (s *ftpSession) inStep() error {
	if s.ctl.Buffered() > 0 {
		return fmt.Errorf("%w: %d unexpected bytes after the sentinel", errStatDesync, s.ctl.Buffered())
	}
	return nil
}

// skipToSentinel reads past whatever comes before the nonce's reply,
// refusing r for why: the replies before the sentinel were not
// understood, but the nonce, which only the server can echo, puts the
// connection back in step.
func (s *ftpSession) skipToSentinel(r *statResult, n, why string) error {
	for {
		line, err := s.ctlLine(&r.bytes, s.opt.MaxListingBytes)
		if err != nil {
			return err
		}
		if isNonce(line, n) {
			break
		}
	}
	_, err := s.pastSentinel(r, why)
	return err
}

// pastSentinel ends an exchange whose nonce reply was just read, refusing
// r for why: the server sends nothing after it, so the connection is in
// step unless bytes are left.
func (s *ftpSession) pastSentinel(r *statResult, why string) (*statResult, error) {
	r.refused, r.resync = why, true
	if s.ctl.Buffered() > 0 {
		return nil, fmt.Errorf("%w: %d unexpected bytes after the sentinel", errStatDesync, s.ctl.Buffered())
	}
	return r, nil
}

// isNonce reports whether line is the reply to "REST n".
func isNonce(line []byte, n string) bool {
	return bytes.HasPrefix(line, []byte("350 ")) && hasToken(line, n)
}

// clearRest sends "REST 0" when a STAT's sentinel left a restart offset
// set, before the session sends anything else: a transfer would start at
// the nonce. Anything but 350 leaves the offset in doubt, and the session
// out of use (ErrConnLost).
func (s *ftpSession) clearRest() error {
	if !s.restPending {
		return nil
	}
	code, line, err := s.rawCommand("REST 0")
	if err != nil {
		return err
	}
	if code != 350 || s.ctl.Buffered() > 0 {
		// (Bytes after the reply would reach no reader: jlaffaye's
		// reads the connection, not this buffer.) The offset is in
		// doubt: the session is closed, so that nothing after runs on
		// it, and STAT, which leaves offsets to clear, is off for the
		// host.
		note := fmt.Sprintf("REST 0 answered %q", trunc([]byte(line)))
		s.abort()
		if s.stat != nil {
			s.stat.disable(note)
		}
		return fmt.Errorf("%w: %s", ftpaudit.ErrConnLost, note)
	}
	s.restPending = false
	return nil
}

// How the replies before a STAT reply went out of step (enterReplies).
const (
	inStep    = iota
	notInStep // a reply did not start with a code: skip to the nonce
	nonceRead // the nonce's reply came early: nothing is left to read
)

// enterReplies reads the replies to a pipelined "CWD dir" and "PWD" and
// says why the STAT reply after them is not dir's listing: "" when CWD
// succeeded and PWD names dir, as enter requires. lost says how they
// went out of step, when a message file (which an uploader can write)
// faked the end of CWD's reply: with a line that is no reply, on a server
// that does not prefix them, or so that the nonce's reply (n) is read
// where another was expected.
func (s *ftpSession) enterReplies(dir, n string, total *int64, limit int64) (why string, lost int, err error) {
	code, _, lost, err := s.ctlReply(n, total, limit)
	if err != nil || lost != inStep {
		return "CWD's reply is not in step", lost, err
	}
	if code != "250" {
		why = "CWD answered " + code // enter takes nothing else either
	}
	code, line, lost, err := s.ctlReply(n, total, limit)
	if err != nil || lost != inStep {
		return "PWD's reply is not in step", lost, err
	}
	switch {
	case why != "":
	case code != "257" || line == "":
		why = "PWD answered " + code + " (not 257, or over more than one line)"
	default:
		i, j := strings.IndexByte(line, '"'), strings.LastIndexByte(line, '"')
		if i < 0 || j <= i {
			why = "PWD's reply names no directory"
		} else if pwd := strings.ReplaceAll(line[i+1:j], `""`, `"`); !samePlace(pwd, dir) {
			why = fmt.Sprintf("CWD %q went to %q", dir, pwd)
		}
	}
	return why, inStep, nil
}

// ctlReply reads one reply off the control connection and returns its
// code and, for a one-line reply, its text after the code (empty for a
// multi-line reply). lost is notInStep when the first line does not
// start with a code, nonceRead when a line read is the reply to "REST n".
func (s *ftpSession) ctlReply(n string, total *int64, limit int64) (code, line string, lost int, err error) {
	first, err := s.ctlLine(total, limit)
	switch {
	case err != nil:
		return "", "", inStep, err
	case isNonce(first, n):
		return "", "", nonceRead, nil
	case !isCode(string(first)):
		return "", "", notInStep, nil
	}
	code = string(first[:3])
	if first[3] != '-' {
		return code, string(first[4:]), inStep, nil
	}
	end := []byte(code + " ")
	for {
		l, err := s.ctlLine(total, limit)
		switch {
		case err != nil:
			return "", "", inStep, err
		case isNonce(l, n):
			return "", "", nonceRead, nil
		case bytes.HasPrefix(l, end):
			return code, "", inStep, nil
		}
	}
}

// ctlLine reads one CRLF-terminated line (without CRLF) from the control
// connection, counting bytes against limit.
//
// The line is valid until the next call (its buffer, or the reader's,
// is reused).
func (s *ftpSession) ctlLine(total *int64, limit int64) ([]byte, error) {
	line := s.ctlBuf[:0]
	defer func() { s.ctlBuf = line[:0] }()
	for {
		frag, err := s.ctl.ReadSlice('\n')
		*total += int64(len(frag))
		if *total > limit {
			return nil, fmt.Errorf("%w: STAT reply larger than %d bytes", errStatDesync, limit)
		}
		if len(line) == 0 && err == nil && len(frag) >= 2 && frag[len(frag)-2] == '\r' {
			// A whole line in the reader's buffer (nearly all): no copy.
			return frag[:len(frag)-2], nil
		}
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(line) >= 2 && line[len(line)-2] == '\r' {
			return line[:len(line)-2], nil
		}
		// A bare LF: part of a name. Keep reading up to CRLF, keeping
		// the LF, so that the caller sees a line holding it.
	}
}

// hasToken reports whether tok is one of line's runs of digits, whole.
func hasToken(line []byte, tok string) bool {
	for i := 0; i < len(line); {
		if line[i] < '0' || line[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(line) && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		if string(line[i:j]) == tok {
			return true
		}
		i = j
	}
	return false
}

func trunc(b []byte) []byte {
	if len(b) > 120 {
		return b[:120]
	}
	return b
}

// statListing turns an accepted exchange into a Listing and its size, or
// says why not. It empties r.lines, giving its array back to s for the
// next listing.
func (s *ftpSession) statListing(r *statResult) (*ftpaudit.Listing, statSize, string) {
	text, scratch := r.lines.finish()
	defer s.putScratch(scratch)
	return s.statText(r, text)
}

// statText is statListing for r's text, taken from r.lines.
func (s *ftpSession) statText(r *statResult, text []string) (*ftpaudit.Listing, statSize, string) {
	if r.refused != "" {
		return nil, statSize{}, r.refused
	}
	if ftpaudit.ReplySaysTruncated(r.final) || ftpaudit.ReplySaysFailed(r.final) {
		return nil, statSize{}, "final reply: " + r.final
	}
	if !listsDot(text) {
		return nil, statSize{}, "no \".\" entry: not a readable directory's listing"
	}
	entries, bad, cut := listing.ParseChunksLimit(text, false, time.Now(), DefaultParseLimit)
	if cut {
		return nil, statSize{}, fmt.Sprintf("more than %d entries", DefaultParseLimit)
	}
	if len(bad) > 0 {
		return nil, statSize{}, "unparsed line: " + bad[0].String()
	}
	var n statSize
	for _, t := range text {
		n.lines += int64(strings.Count(t, "\n"))
		n.bytes += int64(len(t))
	}
	l := &ftpaudit.Listing{Entries: entries, Format: dominantFormat(entries), Reply: r.final, Bytes: r.bytes, Via: ftpaudit.ViaStat}
	return l, n, ""
}

// listSTAT lists dir with STAT where the host allows it, and returns the
// listing with its size, unchecked. It returns nil and no error when the
// directory must be listed over a data connection.
func (s *ftpSession) listSTAT(dir string, enter bool) (l *ftpaudit.Listing, n statSize, batched bool, err error) {
	if p, ok := s.takePre(dir); ok && !enter {
		// Listed by Prefetch.
		if p.l == nil {
			s.stat.fallbacks.Add(1)
		}
		return p.l, p.n, p.l != nil, nil
	}
	r, err := s.statExchange(dir, enter)
	if err != nil {
		if errors.Is(err, errStatDesync) {
			s.stat.disable(err.Error())
		}
		return nil, statSize{}, false, err
	}
	if !enter {
		// The server answered a STAT line this long (see Prefetch).
		s.stat.answered(len(statLine(dir)))
	}
	if r.resync {
		s.stat.resyncs.Add(1)
	}
	l, n, _ = s.statListing(r)
	if l == nil {
		s.stat.fallbacks.Add(1)
		return nil, statSize{}, false, nil
	}
	return l, n, false, nil
}

// useSTAT returns l, dir's STAT listing of size n, where it is smaller
// than the STAT listings already proven; any other is checked first
// against dir's listing over a data connection, which is returned: if the
// two are the same, the bound grows; if not, STAT is turned off for the
// host. The STAT listing is reduced to a keyed digest of its lines before
// the data listing is fetched, so that a huge directory is never held
// twice.
func (s *ftpSession) useSTAT(ctx context.Context, dir string, l *ftpaudit.Listing, n statSize, batched bool) (*ftpaudit.Listing, error) {
	if s.stat.covers(n) {
		s.stat.count(batched)
		return l, nil
	}
	want := digestRaw(l.Entries)
	l = nil //nolint:ineffassign,wastedassign // the listing may be collected while the data listing is read
	if n.bytes >= bigListing {
		// Collect it now: left to the pacer, a huge STAT listing would
		// still take its memory while the data listing grows to its size.
		runtime.GC()
	}
	d, err := s.listData(ctx, dir, formDashAPath)
	if err != nil {
		return nil, err
	}
	s.stat.checked.Add(1)
	got := digestRaw(d.Entries)
	var diff string
	switch {
	case len(d.Bad) > 0:
		diff = fmt.Sprintf("LIST -a has %d unparsed lines", len(d.Bad))
	case got.n != want.n:
		diff = fmt.Sprintf("%d entries against %d", got.n, want.n)
	case got != want:
		diff = "the same number of entries, different lines"
	}
	if diff != "" {
		note := "STAT and LIST -a differ on " + dir + ": " + diff
		s.stat.disable(note)
		d.Warnings = append(d.Warnings, note+" (the STAT reply was cut or is not the same listing): STAT turned off for the host, the LIST -a listing used")
		return d, nil
	}
	s.stat.prove(n)
	s.stat.count(batched)
	return d, nil
}

// rawDigest is an order-independent digest of a listing's raw lines: their
// count and the sums of two keyed hashes of each line. The key is random
// per process, so a server cannot make a cut listing sum like a full one.
type rawDigest struct {
	n      int
	s1, s2 uint64
}

var digestSeed1, digestSeed2 = maphash.MakeSeed(), maphash.MakeSeed()

// bigListing is the size of a STAT listing from which it is collected at
// once when it must be checked against a data listing.
const bigListing = 8 << 20

// digestRaw digests the raw lines of es.
func digestRaw(es []ftpaudit.Entry) rawDigest {
	d := rawDigest{n: len(es)}
	for i := range es {
		d.s1 += maphash.String(digestSeed1, es[i].Raw)
		d.s2 += maphash.String(digestSeed2, es[i].Raw)
	}
	return d
}

// checkSTAT lists dir with STAT and compares the result with data, the
// same directory's LIST -a listing, to decide whether the host's STAT
// listings can stand in for LIST.
func (s *ftpSession) checkSTAT(dir string, data *ftpaudit.Listing) error {
	r, err := s.statExchange(dir, false)
	if err != nil {
		s.stat.settle(false, true, "STAT check failed: "+err.Error())
		return err
	}
	l, n, why := s.statListing(r)
	switch {
	case l == nil:
		// No answer either way (an unreadable directory, say): another
		// directory is tried, up to maxStatGateAttempts.
		s.stat.settle(false, false, why)
	default:
		if d := diffRaw(data, l); d != "" {
			s.stat.settle(false, true, "STAT and LIST -a differ on "+dir+": "+d)
		} else {
			s.stat.prove(n)
			s.stat.settle(true, true, "")
		}
	}
	return nil
}

// listsDot reports whether text (lines, in pieces that each end in
// '\n') holds the directory's own "." entry, which "ls -la" of a readable
// directory always shows.
func listsDot(text []string) bool {
	now := time.Now()
	for _, lines := range text {
		for len(lines) > 0 {
			l := lines
			if i := strings.IndexByte(lines, '\n'); i >= 0 {
				l, lines = lines[:i], lines[i+1:]
			} else {
				lines = ""
			}
			e, _, skip, err := listing.ParseListLine(l, now)
			if err == nil && skip && e.Name == "." && e.Type == ftpaudit.TypeDir {
				return true
			}
		}
	}
	return false
}

// diffRaw compares two listings line by line, order aside.
func diffRaw(a, b *ftpaudit.Listing) string {
	ra := make([]string, len(a.Entries))
	for i := range a.Entries {
		ra[i] = a.Entries[i].Raw
	}
	rb := make([]string, len(b.Entries))
	for i := range b.Entries {
		rb[i] = b.Entries[i].Raw
	}
	slices.Sort(ra)
	slices.Sort(rb)
	if len(a.Bad) > 0 {
		return fmt.Sprintf("LIST -a has %d unparsed lines", len(a.Bad))
	}
	if len(ra) != len(rb) {
		return fmt.Sprintf("%d entries against %d", len(ra), len(rb))
	}
	for i := range ra {
		if ra[i] != rb[i] {
			return fmt.Sprintf("%q against %q", ra[i], rb[i])
		}
	}
	return ""
}
