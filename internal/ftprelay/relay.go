// Package ftprelay is a loopback FTP relay that simulates a network
// round-trip time, for benchmarks on a machine without netem.
//
// A Relay listens on 127.0.0.1 (by default) and, for every client control
// connection, dials the upstream FTP server and copies both directions
// through a delay line: a chunk read at time t is written at t + RTT/2,
// in order, with later chunks in flight meanwhile (one reader and one
// writer goroutine per direction, a queue bounded by Window bytes between
// them), so the delay does not cut throughput the way sleeping per chunk
// would. Opening a connection costs one RTT: the relay waits that long
// after accepting the client before dialling upstream, as a TCP handshake
// would.
//
// The relay is FTP-aware in one way only: it reads the server's replies
// line by line (a reply may be split across reads) and rewrites passive
// replies, "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)" and "229
// Entering Extended Passive Mode (|||port|)", to name a listener of its own
// on the client-facing address. That listener accepts one connection,
// dials the upstream data port (on the upstream control connection's
// address: the address inside a 227 reply is ignored) and relays it with
// the same delays and setup cost. A 227 or 229 line inside a multi-line
// reply of another code (a STAT listing, say) is left alone. Every other
// byte, both ways, passes through untouched: names are arbitrary bytes.
//
// Limits:
//   - Active mode (PORT, EPRT) is passed through as it is: the server then
//     connects straight to the client, and that data connection is not
//     delayed. Benchmarks must use passive mode (ftpaudit and rclone do).
//   - TLS (AUTH TLS, ftps) cannot be seen into, so passive replies are not
//     rewritten and data connections bypass the relay.
//   - The kernel completes the client's TCP handshake with the relay at
//     once, so the client's connect() returns without waiting; the setup
//     RTT is spent before upstream is dialled instead. A client that
//     connects a data connection and then sends LIST therefore sees about
//     2.5 RTT from PASV to the end of the listing instead of the 3 RTT of
//     a real path (PASV reply 1, connect 1, LIST to last byte 1): the LIST
//     overtakes the emulated handshake by half an RTT.
//   - The delay is a fixed one-way latency; there is no bandwidth limit
//     beyond Window bytes in flight per direction and connection (so at
//     most Window per RTT/2), no jitter and no loss.
package ftprelay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Relay.
type Config struct {
	// Upstream is the FTP server's control address, host:port.
	Upstream string
	// Listen is the address to listen on; default "127.0.0.1:0".
	Listen string
	// RTT is the simulated round-trip time; zero relays without delay.
	RTT time.Duration
	// Window bounds the bytes in flight (read, not yet written) per
	// direction of each connection; default 1 MiB.
	Window int
	// DataTimeout bounds the wait for the client to open a passive data
	// connection; default 30s.
	DataTimeout time.Duration
	// Logf, when set, receives connection errors.
	Logf func(format string, args ...any)
}

// Stats counts what a Relay did.
type Stats struct {
	Sessions  int64 // control connections accepted
	DataConns int64 // data connections relayed
	PASV      int64 // 227 replies rewritten
	EPSV      int64 // 229 replies rewritten
}

// Relay is a running relay.
type Relay struct {
	cfg    Config
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}

	sessions, dataConns, pasv, epsv atomic.Int64
}

// readSize is the buffer of each direction's reader.
const readSize = 32 << 10

// Start listens and relays until ctx is done or Close is called.
func Start(ctx context.Context, cfg Config) (*Relay, error) {
	if cfg.Upstream == "" {
		return nil, errors.New("ftprelay: no upstream address")
	}
	if cfg.RTT < 0 {
		return nil, errors.New("ftprelay: negative RTT")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Window <= 0 {
		cfg.Window = 1 << 20
	}
	if cfg.DataTimeout <= 0 {
		cfg.DataTimeout = 30 * time.Second
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("ftprelay: %w", err)
	}
	r := &Relay{cfg: cfg, ln: ln, done: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.wg.Add(1)
	go r.acceptLoop()
	go func() {
		<-r.ctx.Done()
		_ = r.ln.Close()
		r.wg.Wait()
		close(r.done)
	}()
	return r, nil
}

// Addr is the address clients connect to.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Done is closed once the relay has stopped (its context done or Close
// called) and every one of its connections and goroutines has ended.
func (r *Relay) Done() <-chan struct{} { return r.done }

// Close stops the relay, closes every connection and waits for all its
// goroutines to end. It may be called more than once.
func (r *Relay) Close() error {
	r.cancel()
	<-r.done
	return nil
}

// Stats returns the counts so far.
func (r *Relay) Stats() Stats {
	return Stats{
		Sessions:  r.sessions.Load(),
		DataConns: r.dataConns.Load(),
		PASV:      r.pasv.Load(),
		EPSV:      r.epsv.Load(),
	}
}

func (r *Relay) logf(format string, args ...any) {
	if r.cfg.Logf != nil && r.ctx.Err() == nil {
		r.cfg.Logf(format, args...)
	}
}

func (r *Relay) acceptLoop() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if r.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				r.cancel()
				return
			}
			// EMFILE and the like: back off a little and go on.
			r.logf("ftprelay: accept: %v", err)
			if !r.sleep(10 * time.Millisecond) {
				return
			}
			continue
		}
		r.sessions.Add(1)
		r.wg.Add(1)
		go r.serveControl(c)
	}
}

// sleep waits d or until the relay stops; false means it stopped.
func (r *Relay) sleep(d time.Duration) bool {
	if d <= 0 {
		return r.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// connect spends the setup RTT, then dials addr. It closes client on
// failure.
func (r *Relay) connect(client net.Conn, addr string) (net.Conn, bool) {
	stop := context.AfterFunc(r.ctx, func() { client.Close() })
	defer stop()
	if !r.sleep(r.cfg.RTT) {
		client.Close()
		return nil, false
	}
	var d net.Dialer
	up, err := d.DialContext(r.ctx, "tcp", addr)
	if err != nil {
		r.logf("ftprelay: dial %s: %v", addr, err)
		client.Close()
		return nil, false
	}
	return up, true
}

func (r *Relay) serveControl(client net.Conn) {
	defer r.wg.Done()
	up, ok := r.connect(client, r.cfg.Upstream)
	if !ok {
		return
	}
	// Pending passive listeners live as long as the control connection.
	sctx, scancel := context.WithCancel(r.ctx)
	defer scancel()
	clientIP := addrIP(client.LocalAddr())
	upIP := addrIP(up.RemoteAddr())
	f := &replyFilter{
		pasv: func(port int) (net.IP, int, bool) {
			if clientIP.To4() == nil {
				return nil, 0, false
			}
			np, ok := r.openData(sctx, clientIP, upIP, port)
			if ok {
				r.pasv.Add(1)
			}
			return clientIP, np, ok
		},
		epsv: func(port int) (int, bool) {
			np, ok := r.openData(sctx, clientIP, upIP, port)
			if ok {
				r.epsv.Add(1)
			}
			return np, ok
		},
	}
	r.splice(client, up, f)
}

func addrIP(a net.Addr) net.IP {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP
	}
	return nil
}

// openData listens on ip for the client's side of a passive data
// connection to upstream upIP:port and returns the listener's port. The
// listener accepts once, within DataTimeout and while sctx lives.
func (r *Relay) openData(sctx context.Context, ip, upIP net.IP, port int) (int, bool) {
	if ip == nil || upIP == nil || port < 1 || port > 65535 {
		return 0, false
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip})
	if err != nil {
		r.logf("ftprelay: passive listener: %v", err)
		return 0, false
	}
	_ = ln.SetDeadline(time.Now().Add(r.cfg.DataTimeout))
	addr := net.JoinHostPort(upIP.String(), fmt.Sprint(port))
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		stop := context.AfterFunc(sctx, func() { ln.Close() })
		c, err := ln.Accept()
		stop()
		ln.Close()
		if err != nil {
			if sctx.Err() == nil {
				r.logf("ftprelay: passive accept: %v", err)
			}
			return
		}
		r.dataConns.Add(1)
		up, ok := r.connect(c, addr)
		if !ok {
			return
		}
		r.splice(c, up, nil)
	}()
	return ln.Addr().(*net.TCPAddr).Port, true
}

// pair is a client connection and its upstream connection, with the two
// directions' delay lines.
type pair struct {
	conns [2]net.Conn // client, upstream
	qs    [2]*queue   // client->upstream, upstream->client
	done  chan struct{}
	once  sync.Once
}

func (p *pair) close() {
	p.once.Do(func() {
		close(p.done)
		for i := range p.conns {
			p.conns[i].Close()
			p.qs[i].close()
		}
	})
}

// splice relays client and up until both directions have ended or one
// failed, then closes both. f, when set, filters upstream's bytes.
func (r *Relay) splice(client, up net.Conn, f *replyFilter) {
	p := &pair{
		conns: [2]net.Conn{client, up},
		qs:    [2]*queue{newQueue(r.cfg.Window), newQueue(r.cfg.Window)},
		done:  make(chan struct{}),
	}
	stop := context.AfterFunc(r.ctx, p.close)
	defer stop()
	defer p.close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.direction(p, p.qs[0], up, client, nil)
	}()
	go func() {
		defer wg.Done()
		r.direction(p, p.qs[1], client, up, f)
	}()
	wg.Wait()
}

// direction copies src to dst through q, RTT/2 late. On a clean end of
// src it half-closes dst, as TCP would pass the FIN on; on any error it
// tears the pair down.
func (r *Relay) direction(p *pair, q *queue, dst, src net.Conn, f *replyFilter) {
	delay := r.cfg.RTT / 2
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, readSize)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				due := time.Now().Add(delay)
				var out []byte
				if f != nil {
					out = f.feed(buf[:n])
				} else {
					out = append([]byte(nil), buf[:n]...)
				}
				if len(out) > 0 && !q.push(chunk{due: due, b: out}) {
					return
				}
			}
			if err != nil {
				if f != nil {
					if rest := f.flush(); len(rest) > 0 && !q.push(chunk{due: time.Now().Add(delay), b: rest}) {
						return
					}
				}
				q.finish(err)
				return
			}
		}
	}()
	defer func() { <-readDone }()

	var t *time.Timer
	for {
		c, ok, err := q.pop()
		if !ok {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(interface{ CloseWrite() error }); ok {
					if tc.CloseWrite() == nil {
						return
					}
				}
			}
			p.close()
			return
		}
		if d := time.Until(c.due); d > 0 {
			if t == nil {
				t = time.NewTimer(d)
				defer t.Stop()
			} else {
				t.Reset(d)
			}
			select {
			case <-t.C:
			case <-p.done:
				return
			}
		}
		if _, err := dst.Write(c.b); err != nil {
			p.close()
			return
		}
		q.release(len(c.b))
	}
}
