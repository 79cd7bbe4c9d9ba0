// Package faultftp is a scriptable, misbehaving FTP server for tests.
//
// It exists to show what ftpaudit does when a server or the network goes
// wrong: a reply that never comes, a data connection that drops half way
// through a listing, a 421 in the middle of a walk, garbage where a reply
// should be, a PASV reply naming another host, a directory of 100,000
// names, a tree without a bottom, names full of escape sequences. It is
// written directly on net.Listener (not on an FTP server library) so that
// it can misbehave at the byte level, and it runs in-process on 127.0.0.1.
//
// # Protocol
//
// By default it speaks just enough FTP, correctly, for ftpaudit and the
// jlaffaye client: a 220 greeting, USER/PASS (anonymous or ftp only), SYST,
// FEAT (with MLST when Options.MLSD is set), OPTS, TYPE, MODE, STRU, PWD,
// CWD, CDUP, EPSV and PASV (each opens a fresh listener on 127.0.0.1; data
// connections are passive only), LIST (options such as "-a" are skipped),
// MLSD, STAT (500 unless Options.Stat), REST, NOOP, ABOR, QUIT, and 550 to
// SIZE, MDTM and RETR. Anything else is answered 502.
//
// Paths are taken literally: a relative path is joined to the current
// directory with "/", a trailing "/." or "/" is dropped, and nothing else
// is cleaned ("..", "a/b" and control characters stay as they are). The
// Tree decides which paths exist.
//
// # The tree
//
// Options.Tree returns the listing lines of a directory (without line
// ends) and whether it exists; it is called for every LIST, MLSD, STAT and
// CWD, so it can generate enormous, endless or changing directories on the
// fly. Entries and Map build a Tree from Entry values, formatted as
// "ls -l" lines for LIST and as RFC 3659 fact lines for MLSD; a Tree
// written by hand can return any bytes at all. Many (a directory of n
// files), Deep (a tree without a bottom) and Changing (new names at every
// listing) are ready-made.
//
// # Faults
//
// Options.Script holds two hooks. Script.Reply sees every reply before it
// is sent (the greeting included), as an *Exchange holding the command and
// the reply the server is about to send; it may change the reply, delay
// it, cut it short, never send it (Stall), or hang up (Hangup, Reset).
// Script.Transfer sees every listing before it goes over a data
// connection, as a *Transfer; it may change or cut the data, end the data
// connection with a FIN, a RST or not at all (End), and change or drop the
// final reply. Options.PASVHost makes PASV replies name another address
// while the server still listens on 127.0.0.1, and Options.NoEPSV refuses
// EPSV so that clients fall back to PASV.
//
// The hooks run on the sessions' goroutines, several at once; a hook that
// keeps state must synchronise it. Exchange.N, Exchange.DirN and
// Transfer.N count across sessions, so that "the first listing of /pub"
// or "the 3rd EPSV" can be scripted without any. For example, a data
// connection reset half way through the first listing of /pub:
//
//	faultftp.Options{Tree: tree, Script: faultftp.Script{
//		Transfer: func(t *faultftp.Transfer) {
//			if t.Dir == "/pub" && t.N == 1 {
//				t.Data, t.End = t.Data[:len(t.Data)/2], faultftp.EndReset
//			}
//		},
//	}}
//
// Afterwards Sessions, Count, CountDir and Listings say what the client
// did (how many connections, commands, listings).
//
// # Lifetime
//
// Close stops the listener, closes every control connection, passive
// listener and data connection, ends every delay and stall, and waits
// for every goroutine the server started.
package faultftp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tree returns the listing of dir, one line per entry without its line
// end, in the form the command asks for: RFC 3659 fact lines when mlsd is
// set (MLSD), "ls -l" lines otherwise (LIST, STAT). ok false means dir
// does not exist: listings and CWD are answered 550.
type Tree func(dir string, mlsd bool) (lines []string, ok bool)

// Options configure a Server. The zero value (with a Tree) is a correct,
// LIST-only server.
type Options struct {
	// Tree is the archive. Nil means an empty root directory.
	Tree Tree
	// MLSD advertises MLST in FEAT and serves MLSD; otherwise MLSD is an
	// unknown command (500).
	MLSD bool
	// NoEPSV answers EPSV with 500 (and leaves it out of FEAT), so that
	// clients use PASV.
	NoEPSV bool
	// PASVHost, an IPv4 address, is named in 227 replies instead of
	// 127.0.0.1; the data listener stays on 127.0.0.1.
	PASVHost string
	// Stat answers "STAT [-a] DIR" with DIR's LIST lines on the control
	// connection, as vsftpd does ("213-Status follows:" ... "213 End of
	// status"), with "." and ".." first; LIST then also shows "." and
	// "..", so that both give the same lines. Otherwise STAT is answered
	// 500 and clients that try it give it up.
	Stat bool
	// DotEntries adds "." and ".." lines to LIST (and type=cdir/pdir lines
	// to MLSD).
	DotEntries bool
	// Greeting replaces the 220 greeting (verbatim bytes, CRLF included).
	Greeting string
	// DataTimeout bounds the wait for a client's data connection after a
	// listing command; then 425 is sent. Zero means 5s.
	DataTimeout time.Duration
	// Script holds the faults.
	Script Script
}

// Script holds the hooks that make the server misbehave. Nil hooks change
// nothing.
type Script struct {
	// Reply is called before every reply, the greeting included.
	Reply func(x *Exchange)
	// Transfer is called before every listing goes over a data
	// connection.
	Transfer func(t *Transfer)
}

// Exchange is one command and the reply the server is about to send. The
// Reply hook may change the fields after Reply.
type Exchange struct {
	// Session numbers the control connection: 1 for the first one
	// accepted, 2 for the next, and so on.
	Session int
	// Seq is the command's position in its session (1 for the first);
	// 0 for the greeting.
	Seq int
	// Verb is the command, upper-cased ("" for the greeting); Arg is the
	// rest of the line, verbatim.
	Verb, Arg string
	// Dir is the directory a CWD, LIST, MLSD or STAT names, resolved to an
	// absolute path ("" for other commands).
	Dir string
	// N counts the commands with this Verb received on all sessions so
	// far, this one included; DirN counts those with this Verb and Dir.
	N, DirN int

	// Reply is what is about to be sent, verbatim (CRLF line ends). For
	// LIST and MLSD it is the preliminary reply ("150 ..."): the listing
	// goes over the data connection only if the Reply sent starts with
	// '1'. A multi-line reply, a reply without a code or a line end, or
	// any bytes at all may be put here.
	Reply string
	// Delay is waited before Reply is sent.
	Delay time.Duration
	// Stall, after Reply (which may be empty or cut short), stops the
	// session: nothing more is sent or answered, and the connection stays
	// open until the client closes it or the server is closed.
	Stall bool
	// Hangup closes the control connection after Reply; Reset closes it
	// with a TCP RST instead of a FIN (Reset implies Hangup).
	Hangup, Reset bool
}

// End says how the server ends a data connection after the listing data.
type End int

// Ends of a data connection.
const (
	// EndClose closes the data connection normally (FIN).
	EndClose End = iota
	// EndReset closes it with a TCP RST.
	EndReset
	// EndStall keeps it open, sending nothing more, until the client
	// closes it or the server is closed; then Final is sent.
	EndStall
)

// Transfer is one listing on its way over a data connection. The Transfer
// hook may change the fields after Data.
type Transfer struct {
	// Session numbers the control connection (see Exchange).
	Session int
	// Verb is "LIST" or "MLSD"; Dir the directory listed.
	Verb, Dir string
	// N counts the listings of Dir with Verb on all sessions so far, this
	// one included.
	N int

	// Data is what is sent on the data connection: the Tree's lines, each
	// ending in CRLF. It may be cut, replaced or emptied.
	Data []byte
	// Delay is waited after the data connection is accepted and before
	// Data is sent.
	Delay time.Duration
	// End says how the data connection ends after Data.
	End End
	// Final is the reply sent on the control connection once the data
	// connection has ended ("226 Transfer complete.\r\n"); "" sends
	// none. Verbatim bytes, like Exchange.Reply.
	Final string
	// Stall, Hangup and Reset act on the control connection after Final,
	// as in Exchange.
	Stall, Hangup, Reset bool
}

// Server is a running faultftp server.
type Server struct {
	// Addr is the control address, "127.0.0.1:PORT".
	Addr string

	opt  Options
	ln   net.Listener
	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[io.Closer]struct{}
	sessions int
	verbs    map[string]int
	dirVerbs map[string]int
	listings map[string]int
}

// Start starts a server on 127.0.0.1 with a free port.
func Start(opt Options) (*Server, error) {
	if opt.Tree == nil {
		opt.Tree = Map(map[string][]Entry{"/": nil})
	}
	if opt.DataTimeout <= 0 {
		opt.DataTimeout = 5 * time.Second
	}
	if opt.PASVHost != "" {
		if ip := net.ParseIP(opt.PASVHost); ip == nil || ip.To4() == nil {
			return nil, fmt.Errorf("faultftp: PASVHost %q is not an IPv4 address", opt.PASVHost)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr:     ln.Addr().String(),
		opt:      opt,
		ln:       ln,
		done:     make(chan struct{}),
		conns:    map[io.Closer]struct{}{},
		verbs:    map[string]int{},
		dirVerbs: map[string]int{},
		listings: map[string]int{},
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URL returns the server's ftp:// URL with path p ("/" when empty).
func (s *Server) URL(p string) string {
	if p == "" {
		p = "/"
	}
	return "ftp://" + s.Addr + p
}

// Close stops the server and waits for all its goroutines. It may be
// called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.done)
	err := s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Sessions returns how many control connections have been accepted.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Count returns how many commands with verb (upper case) the server has
// received.
func (s *Server) Count(verb string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verbs[verb]
}

// CountDir returns how many commands with verb (upper case) naming dir
// (CWD, LIST, MLSD, STAT) the server has received.
func (s *Server) CountDir(verb, dir string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirVerbs[verb+"\x00"+dir]
}

// Listings returns how many listings of dir (LIST and MLSD) the server
// has started over data connections.
func (s *Server) Listings(dir string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listings["LIST\x00"+dir] + s.listings["MLSD\x00"+dir]
}

// track registers c to be closed by Close; false when the server is
// already closed (c is then closed here).
func (s *Server) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c io.Closer) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.sessions++
		id := s.sessions
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			ss := &session{srv: s, id: id, c: c, r: bufio.NewReader(c), cwd: "/"}
			defer ss.closePassive()
			ss.serve()
		}()
	}
}

// sleep waits d, or less if the server is closed; false then.
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// count records one command and returns its N and DirN.
func (s *Server) count(verb, dir string) (n, dirN int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verbs[verb]++
	n = s.verbs[verb]
	if dir != "" {
		k := verb + "\x00" + dir
		s.dirVerbs[k]++
		dirN = s.dirVerbs[k]
	}
	return n, dirN
}

func (s *Server) countListing(verb, dir string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := verb + "\x00" + dir
	s.listings[k]++
	return s.listings[k]
}

// session is one control connection.
type session struct {
	srv      *Server
	id       int
	c        net.Conn
	r        *bufio.Reader
	seq      int
	user     string
	loggedIn bool
	cwd      string
	pasv     net.Listener
}

// maxLine bounds a command line.
const maxLine = 64 << 10

// writeTimeout bounds one write to a client that does not read.
const writeTimeout = time.Minute

func (ss *session) serve() {
	greeting := ss.srv.opt.Greeting
	if greeting == "" {
		greeting = "220 faultftp ready.\r\n"
	}
	if !ss.exchange(&Exchange{Session: ss.id, Reply: greeting}) {
		return
	}
	for {
		line, err := ss.readLine()
		if err != nil {
			return
		}
		ss.seq++
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if !ss.handle(verb, arg) {
			return
		}
	}
}

// readLine reads one command line without its line end.
func (ss *session) readLine() (string, error) {
	var b []byte
	for {
		frag, err := ss.r.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > maxLine {
			return "", errors.New("command line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		s := strings.TrimSuffix(string(b), "\n")
		return strings.TrimSuffix(s, "\r"), nil
	}
}

// exchange runs the Reply hook and sends the reply; false when the
// session is over.
func (ss *session) exchange(x *Exchange) bool {
	if h := ss.srv.opt.Script.Reply; h != nil {
		h(x)
	}
	return ss.send(x.Reply, x.Delay, x.Stall, x.Hangup, x.Reset)
}

// send waits delay, writes reply, then stalls or hangs up as told; false
// when the session is over.
func (ss *session) send(reply string, delay time.Duration, stall, hangup, reset bool) bool {
	if !ss.srv.sleep(delay) {
		return false
	}
	if reply != "" {
		_ = ss.c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := io.WriteString(ss.c, reply); err != nil {
			return false
		}
	}
	switch {
	case reset:
		resetConn(ss.c)
		return false
	case hangup:
		return false // serve's caller closes the connection
	case stall:
		// Read and discard until the client (or Close) ends it.
		_, _ = io.Copy(io.Discard, ss.c)
		return false
	}
	return true
}

// resetConn closes c with a TCP RST.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (ss *session) closePassive() {
	if ss.pasv != nil {
		ss.srv.untrack(ss.pasv)
		ss.pasv = nil
	}
}

// resolve turns a command's path argument into an absolute path, literally
// (see the package comment).
func (ss *session) resolve(arg string) string {
	p := arg
	switch {
	case p == "" || p == ".":
		p = ss.cwd
	case !strings.HasPrefix(p, "/"):
		if ss.cwd == "/" {
			p = "/" + p
		} else {
			p = ss.cwd + "/" + p
		}
	}
	for {
		switch {
		case p == "/." || p == "/":
			return "/"
		case strings.HasSuffix(p, "/."):
			p = p[:len(p)-2]
		case strings.HasSuffix(p, "/"):
			p = p[:len(p)-1]
		default:
			return p
		}
	}
}

// listArg returns LIST's path argument: the line after any leading option
// words ("-a", "-la").
func listArg(arg string) string {
	for strings.HasPrefix(arg, "-") {
		_, rest, _ := strings.Cut(arg, " ")
		arg = rest
	}
	return arg
}

func parent(dir string) string {
	i := strings.LastIndexByte(dir, '/')
	if i <= 0 {
		return "/"
	}
	return dir[:i]
}

// handle answers one command; false when the session is over.
func (ss *session) handle(verb, arg string) bool {
	s := ss.srv
	x := &Exchange{Session: ss.id, Seq: ss.seq, Verb: verb, Arg: arg}
	needLogin := func() bool {
		if !ss.loggedIn {
			x.Reply = "530 Please login with USER and PASS.\r\n"
			return false
		}
		return true
	}
	switch verb {
	case "CWD", "XCWD":
		x.Dir = ss.resolve(arg)
	case "CDUP", "XCUP":
		x.Dir = parent(ss.cwd)
	case "LIST":
		x.Dir = ss.resolve(listArg(arg))
	case "MLSD":
		x.Dir = ss.resolve(arg)
	case "STAT":
		if arg != "" {
			x.Dir = ss.resolve(listArg(arg))
		}
	}
	x.N, x.DirN = s.count(verb, x.Dir)

	var listing []string // LIST/MLSD: the lines to send
	switch verb {
	case "USER":
		switch arg {
		case "anonymous", "ftp":
			ss.user, ss.loggedIn = arg, false
			x.Reply = "331 Please specify the password.\r\n"
		default:
			x.Reply = "530 This FTP server is anonymous only.\r\n"
		}
	case "PASS":
		if ss.user == "" {
			x.Reply = "503 Login with USER first.\r\n"
		} else {
			ss.loggedIn = true
			x.Reply = "230 Login successful.\r\n"
		}
	case "SYST":
		x.Reply = "215 UNIX Type: L8\r\n"
	case "FEAT":
		var b strings.Builder
		b.WriteString("211-Features:\r\n")
		if !s.opt.NoEPSV {
			b.WriteString(" EPSV\r\n")
		}
		b.WriteString(" MDTM\r\n")
		if s.opt.MLSD {
			b.WriteString(" MLST type*;size*;modify*;UNIX.mode*;UNIX.owner*;UNIX.group*;\r\n")
		}
		b.WriteString(" PASV\r\n REST STREAM\r\n SIZE\r\n211 End\r\n")
		x.Reply = b.String()
	case "OPTS":
		x.Reply = "200 Always in UTF8 mode.\r\n"
	case "TYPE":
		switch strings.ToUpper(arg) {
		case "I", "A", "L 8", "A N":
			x.Reply = "200 Switching to Binary mode.\r\n"
		default:
			x.Reply = "504 Bad TYPE command.\r\n"
		}
	case "MODE", "STRU":
		x.Reply = "200 OK.\r\n"
	case "NOOP":
		x.Reply = "200 NOOP ok.\r\n"
	case "PWD", "XPWD":
		if needLogin() {
			x.Reply = "257 \"" + strings.ReplaceAll(ss.cwd, `"`, `""`) + "\" is the current directory\r\n"
		}
	case "CWD", "XCWD", "CDUP", "XCUP":
		if needLogin() {
			if _, ok := s.opt.Tree(x.Dir, false); ok {
				ss.cwd = x.Dir
				x.Reply = "250 Directory successfully changed.\r\n"
			} else {
				x.Reply = "550 Failed to change directory.\r\n"
			}
		}
	case "EPSV":
		if s.opt.NoEPSV {
			x.Reply = "500 Unknown command.\r\n"
		} else if needLogin() {
			x.Reply = ss.passive(true)
		}
	case "PASV":
		if needLogin() {
			x.Reply = ss.passive(false)
		}
	case "LIST", "MLSD":
		if verb == "MLSD" && !s.opt.MLSD {
			x.Reply = "500 Unknown command.\r\n"
			break
		}
		if !needLogin() {
			break
		}
		lines, ok := ss.lines(x.Dir, verb == "MLSD")
		switch {
		case !ok:
			x.Reply = "550 Failed to open directory.\r\n"
		case ss.pasv == nil:
			x.Reply = "425 Use PORT or PASV first.\r\n"
		default:
			listing = lines
			if listing == nil {
				listing = []string{}
			}
			x.Reply = "150 Here comes the directory listing.\r\n"
		}
	case "STAT":
		switch {
		case arg == "":
			x.Reply = "211 faultftp status: all is well.\r\n"
		case !s.opt.Stat:
			x.Reply = "500 Unknown command.\r\n"
		case needLogin():
			lines, ok := ss.lines(x.Dir, false)
			if !ok {
				x.Reply = "550 Failed to open directory.\r\n"
				break
			}
			var b strings.Builder
			b.WriteString("213-Status follows:\r\n")
			for _, l := range lines {
				b.WriteString(l)
				b.WriteString("\r\n")
			}
			b.WriteString("213 End of status\r\n")
			x.Reply = b.String()
		}
	case "REST":
		if _, err := strconv.ParseUint(arg, 10, 63); err != nil {
			x.Reply = "501 Bad REST offset.\r\n"
		} else {
			x.Reply = "350 Restart position accepted (" + arg + ").\r\n"
		}
	case "ABOR":
		x.Reply = "225 No transfer to ABOR.\r\n"
	case "SIZE":
		x.Reply = "550 Could not get file size.\r\n"
	case "MDTM":
		x.Reply = "550 Could not get file modification time.\r\n"
	case "RETR":
		x.Reply = "550 Failed to open file.\r\n"
	case "QUIT":
		x.Reply = "221 Goodbye.\r\n"
		x.Hangup = true
	case "AUTH":
		x.Reply = "502 TLS is not offered here.\r\n"
	default:
		x.Reply = "502 Command not implemented.\r\n"
	}
	if !ss.exchange(x) {
		return false
	}
	if listing == nil || !strings.HasPrefix(x.Reply, "1") {
		return true
	}
	return ss.transfer(verb, x.Dir, listing)
}

// lines returns dir's listing lines, with "." and ".." first where the
// options ask for them.
func (ss *session) lines(dir string, mlsd bool) ([]string, bool) {
	o := ss.srv.opt
	lines, ok := o.Tree(dir, mlsd)
	if !ok || !(o.DotEntries || o.Stat) {
		return lines, ok
	}
	var dots []string
	if mlsd {
		dots = []string{"type=cdir;UNIX.mode=0755; " + dir, "type=pdir;UNIX.mode=0755; " + parent(dir)}
	} else {
		dots = []string{Entry{Name: ".", Dir: true}.ListLine(), Entry{Name: "..", Dir: true}.ListLine()}
	}
	return append(dots, lines...), true
}

// passive opens a data listener on 127.0.0.1 (closing any earlier one)
// and returns the 229 or 227 reply naming it.
func (ss *session) passive(epsv bool) string {
	ss.closePassive()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "425 Cannot open a data listener.\r\n"
	}
	if !ss.srv.track(ln) {
		return "421 Server closing.\r\n"
	}
	ss.pasv = ln
	port := ln.Addr().(*net.TCPAddr).Port
	if epsv {
		return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", port)
	}
	host := "127.0.0.1"
	if ss.srv.opt.PASVHost != "" {
		host = ss.srv.opt.PASVHost
	}
	return fmt.Sprintf("227 Entering Passive Mode (%s,%d,%d).\r\n", strings.ReplaceAll(host, ".", ","), port>>8, port&0xff)
}

// transfer sends a listing over the data connection and the final reply;
// false when the session is over.
func (ss *session) transfer(verb, dir string, lines []string) bool {
	s := ss.srv
	n := 0
	for _, l := range lines {
		n += len(l) + 2
	}
	data := make([]byte, 0, n)
	for _, l := range lines {
		data = append(data, l...)
		data = append(data, '\r', '\n')
	}
	t := &Transfer{Session: ss.id, Verb: verb, Dir: dir, N: s.countListing(verb, dir),
		Data: data, Final: "226 Transfer complete.\r\n"}
	if h := s.opt.Script.Transfer; h != nil {
		h(t)
	}
	ln := ss.pasv
	ss.pasv = nil
	if tl, ok := ln.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Now().Add(s.opt.DataTimeout))
	}
	dc, err := ln.Accept()
	s.untrack(ln)
	if err != nil {
		return ss.send("425 Cannot open data connection.\r\n", 0, false, false, false)
	}
	if !s.track(dc) {
		return false
	}
	if !s.sleep(t.Delay) {
		s.untrack(dc)
		return false
	}
	if len(t.Data) > 0 {
		_ = dc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, _ = dc.Write(t.Data)
	}
	switch t.End {
	case EndReset:
		resetConn(dc)
	case EndStall:
		_, _ = io.Copy(io.Discard, dc)
	}
	s.untrack(dc)
	return ss.send(t.Final, 0, t.Stall, t.Hangup, t.Reset)
}
