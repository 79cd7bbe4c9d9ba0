package faultftp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

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

	dripped atomic.Int64 // bytes sent by Drips
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
