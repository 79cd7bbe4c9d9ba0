// Package memftp is an in-process anonymous FTP server over an in-memory
// archive, built on goftp.io/server/v2. It backs `ftpaudit demo` and the
// hermetic protocol tests of the scanner.
//
// The archive is a tree of Nodes (usually read with ParseSpec). The only
// user is anonymous ("anonymous" or "ftp", any password); its rights on a
// node are the "others" bits of the node's mode, or the owner bits when the
// node is owned by "ftp". As on Unix: looking a name up needs x on the
// directory, listing needs r, creating or removing a name needs w and x on
// the directory (and, with the sticky bit, that the entry or the directory
// is owned by ftp), reading a file needs r, overwriting it needs w.
//
// Names are byte-exact: goftp's path cleaning and LIST option parsing are
// replaced, so names with leading or trailing blanks, dots only, control
// characters or invalid UTF-8 can all be listed and reached. Paths are
// resolved like a kernel inside a chroot: ".." is physical, symlinks are
// followed (absolute targets from the archive root) and loops fail.
//
// Everything binds 127.0.0.1 only; only passive data connections (EPSV,
// PASV) are offered.
package memftp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	server "goftp.io/server/v2"
)

// Node is one entry of an in-memory archive.
type Node struct {
	Name string
	// Mode includes the type bits (os.ModeDir, os.ModeSymlink, ...), the
	// permission bits and os.ModeSetuid/ModeSetgid/ModeSticky.
	Mode         os.FileMode
	Owner, Group string
	Size         int64
	ModTime      time.Time
	Target       string  // symlinks only
	Children     []*Node // directories only, in listing order
}

// Options configure a Server.
type Options struct {
	// MLSD advertises MLST in FEAT and serves MLSD/MLST with proftpd-like
	// RFC 3659 facts (modify, perm, size, type, unique, UNIX.mode,
	// UNIX.owner, UNIX.group). When false the server is LIST-only: FEAT has
	// no MLST and MLSD/MLST are unknown commands.
	MLSD bool
	// EmptyOnUnreadable answers a listing (LIST, NLST, MLSD) of a directory
	// anonymous may not read with 150 and 226 and no data, as vsftpd does,
	// instead of "550 Permission denied".
	EmptyOnUnreadable bool
	// DotEntries adds "." and ".." to listings: type=cdir/type=pdir lines in
	// MLSD (as proftpd does) and "." / ".." lines in LIST -a (as ls -la).
	DotEntries bool
	// Welcome is the 220 greeting; empty for a default one.
	Welcome string
	// Logf, when set, receives the protocol trace and server errors. When
	// nil the server prints nothing at all.
	Logf func(format string, args ...any)
	// Users are named accounts (user name to password) accepted besides
	// the anonymous ones. They see and may do what anonymous users may:
	// they exist to test logins with passwords.
	Users map[string]string
}

// Server is a running server.
type Server struct {
	// Addr is the control address, "127.0.0.1:PORT".
	Addr string

	opt  Options
	fs   *fsys
	ln   *trackListener
	ftpd *server.Server
	log  *logger

	mu     sync.Mutex
	closed bool
	conns  map[*ctrlConn]struct{}

	closeOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{}
	serveDone chan struct{}
	watchDone chan struct{}
}

// dataTimeout bounds the wait for the client to open a passive data
// connection.
const dataTimeout = 30 * time.Second

// closeWait bounds how long Close waits for sessions to end.
const closeWait = 5 * time.Second

// Start serves a deep copy of root on 127.0.0.1 at a random port until
// Close is called or ctx is done.
func Start(ctx context.Context, root *Node, opt Options) (*Server, error) {
	if root == nil {
		return nil, errors.New("memftp: nil root")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	tree, err := copyTree(root, true)
	if err != nil {
		return nil, err
	}
	tree.Name = "/"
	s := &Server{
		opt:       opt,
		fs:        newFS(tree),
		log:       &logger{f: opt.Logf},
		conns:     map[*ctrlConn]struct{}{},
		stop:      make(chan struct{}),
		serveDone: make(chan struct{}),
		watchDone: make(chan struct{}),
	}
	welcome := opt.Welcome
	if welcome == "" {
		welcome = "memftp anonymous FTP server ready."
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("memftp: %w", err)
	}
	s.Addr = ln.Addr().String()
	s.ln = &trackListener{Listener: ln, s: s}
	s.ftpd, err = server.NewServer(&server.Options{
		Name:           "memftp",
		Hostname:       "127.0.0.1",
		Port:           ln.Addr().(*net.TCPAddr).Port,
		Perm:           server.NewSimplePerm("ftp", "ftp"), // required, unused
		Auth:           anonAuth{users: opt.Users},
		Logger:         s.log,
		Commands:       s.commands(),
		WelcomeMessage: welcome,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("memftp: %w", err)
	}
	go func() {
		defer close(s.serveDone)
		// Serve returns when the listener is closed. goftp's Shutdown is
		// not used: it races with Serve's own setup.
		_ = s.ftpd.Serve(s.ln)
	}()
	go func() {
		defer close(s.watchDone)
		select {
		case <-ctx.Done():
			s.closeOnce.Do(s.shutdown)
		case <-s.stop:
		}
	}()
	return s, nil
}

// Close stops the server: the listener, every session and every data
// connection. It waits for the server's goroutines to end; after it
// returns Logf is not called again. It may be called more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(s.shutdown)
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.watchDone
	return nil
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*ctrlConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	// goftp reports the errors this causes (accept on a closed listener,
	// reads from closed sessions); they are noise now.
	s.log.closing.Store(true)
	_ = s.ln.Listener.Close()
	for _, c := range conns {
		_ = c.Conn.Close()
		c.closeData()
	}
	wait, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	select {
	case <-s.serveDone:
	case <-wait.Done():
	}
	for _, c := range conns {
		select {
		case <-c.done:
		case <-wait.Done():
		}
	}
	s.log.off()
}

// Snapshot returns a deep copy of the archive as it is now (with what
// clients created or removed).
func (s *Server) Snapshot() *Node {
	s.fs.mu.RLock()
	defer s.fs.mu.RUnlock()
	n, _ := copyTree(s.fs.root, true)
	return n
}

// trackListener registers every accepted control connection with the
// server so that Close can end it.
type trackListener struct {
	net.Listener
	s *Server
}

func (l *trackListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &ctrlConn{Conn: conn, srv: l.s, cwd: "/", done: make(chan struct{})}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.s.closed {
		conn.Close()
		return nil, net.ErrClosed
	}
	l.s.conns[c] = struct{}{}
	return c, nil
}

// ctrlConn is a control connection and the per-session state our commands
// keep (goftp keeps its own in unexported fields we cannot reach).
type ctrlConn struct {
	net.Conn
	srv  *Server
	done chan struct{}
	once sync.Once

	mu     sync.Mutex // guards pasv, data, closed
	pasv   net.Listener
	data   net.Conn
	closed bool

	// Used only by the session's goroutine.
	cwd        string
	rest       int64
	renameFrom string
}

// sessAddr is what ctrlConn.RemoteAddr returns: the real address, carrying
// the ctrlConn so that commands can find their session state from
// server.Session.RemoteAddr().
type sessAddr struct {
	net.Addr
	c *ctrlConn
}

func (c *ctrlConn) RemoteAddr() net.Addr { return sessAddr{Addr: c.Conn.RemoteAddr(), c: c} }

// Close is called by goftp when the session ends.
func (c *ctrlConn) Close() error {
	err := c.Conn.Close()
	c.closeData()
	c.srv.mu.Lock()
	delete(c.srv.conns, c)
	c.srv.mu.Unlock()
	c.once.Do(func() { close(c.done) })
	return err
}

func (c *ctrlConn) closeData() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.pasv != nil {
		c.pasv.Close()
		c.pasv = nil
	}
	if c.data != nil {
		c.data.Close()
		c.data = nil
	}
}

// listenPassive opens a passive data listener on 127.0.0.1, replacing any
// previous one.
func (c *ctrlConn) listenPassive() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		l.Close()
		return 0, net.ErrClosed
	}
	if c.pasv != nil {
		c.pasv.Close()
	}
	c.pasv = l
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *ctrlConn) hasPassive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pasv != nil
}

// dropPassive forgets the prepared passive listener (a transfer command
// failed before using it).
func (c *ctrlConn) dropPassive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pasv != nil {
		c.pasv.Close()
		c.pasv = nil
	}
}

var errNoPassive = errors.New("Use PASV or EPSV first.")

// acceptData waits for the client on the prepared passive listener.
func (c *ctrlConn) acceptData() (net.Conn, error) {
	c.mu.Lock()
	l := c.pasv
	c.mu.Unlock()
	if l == nil {
		return nil, errNoPassive
	}
	_ = l.(*net.TCPListener).SetDeadline(time.Now().Add(dataTimeout))
	conn, err := l.Accept()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pasv == l {
		c.pasv = nil
	}
	l.Close()
	if err != nil {
		return nil, err
	}
	if c.closed {
		conn.Close()
		return nil, net.ErrClosed
	}
	c.data = conn
	return conn, nil
}

func (c *ctrlConn) closeDataConn(conn net.Conn) {
	conn.Close()
	c.mu.Lock()
	if c.data == conn {
		c.data = nil
	}
	c.mu.Unlock()
}

// logger adapts Options.Logf to goftp's Logger; it is silent when Logf is
// nil and after the server is closed.
type logger struct {
	mu       sync.RWMutex
	f        func(format string, args ...any)
	disabled bool
	closing  atomic.Bool // drop goftp's own messages, keep the protocol trace
}

func (l *logger) logf(format string, args ...any) {
	if l.f == nil {
		return
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if !l.disabled {
		l.f(format, args...)
	}
}

func (l *logger) off() {
	l.mu.Lock()
	l.disabled = true
	l.mu.Unlock()
}

func (l *logger) Print(_ string, message any) {
	if !l.closing.Load() {
		l.logf("memftp: %v", message)
	}
}

func (l *logger) Printf(_ string, format string, v ...any) {
	if !l.closing.Load() {
		l.logf("memftp: %s", fmt.Sprintf(format, v...))
	}
}

func (l *logger) PrintCommand(_ string, command, params string) {
	if strings.EqualFold(command, "PASS") {
		params = "****"
	}
	l.logf("memftp: > %s %q", command, params)
}

func (l *logger) PrintResponse(_ string, code int, message string) {
	l.logf("memftp: < %d %q", code, message)
}

// anonAuth accepts the anonymous users with any password, and the named
// users with theirs.
type anonAuth struct{ users map[string]string }

func (a anonAuth) CheckPasswd(_ *server.Context, user, pass string) (bool, error) {
	if want, ok := a.users[user]; ok {
		return pass == want, nil
	}
	return isAnonymous(user), nil
}

func isAnonymous(user string) bool {
	return strings.EqualFold(user, "anonymous") || strings.EqualFold(user, "ftp")
}
