package ftpconn

// Opening a session: options, the dial function handed to jlaffaye for
// every connection, TLS and login.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/jlaffaye/ftp"
)

// DialOptions configure how a session talks to a server.
type DialOptions struct {
	// ConnectTimeout bounds TCP connect (and the TLS handshake).
	ConnectTimeout time.Duration
	// IdleTimeout bounds every single read or write on the control and data
	// connections; the deadline moves forward with each one.
	IdleTimeout time.Duration
	// Password for non-anonymous logins; anonymous logins send
	// AnonymousPassword.
	Password string
	// TLSConfig is used for ftps targets, on the control connection and
	// every data connection. Each session works on a copy whose
	// ServerName defaults to the target's host (the certificate is
	// verified against it) and whose ClientSessionCache is the session's
	// own, so that data connections resume the control connection's TLS
	// session; the ClientSessionCache given here is not used (see
	// sessionTLS). Nil means Go's defaults (system roots).
	TLSConfig *tls.Config
	// MaxListingBytes bounds one listing's size (DefaultMaxListingBytes
	// when zero); a larger listing is cut short and reported as truncated
	// (a recursive one is then not used).
	MaxListingBytes int64
	// NoMLSD forces LIST even where the server offers MLSD.
	NoMLSD bool
	// MLSDOnly skips the LIST -a cross-check on servers that offer MLSD.
	MLSDOnly bool
	// ReplyTimeout bounds one control reply from its first byte to its
	// end, however the server drips it (DefaultReplyTimeout when zero).
	ReplyTimeout time.Duration
	// MaxReplyLine and MaxReplyBytes bound one line of a control reply
	// and a whole reply (DefaultMaxReplyLine, DefaultMaxReplyBytes when
	// zero). Listings over the control connection (STAT) have their own
	// bound, MaxListingBytes.
	MaxReplyLine, MaxReplyBytes int
	// MaxPreliminary bounds the 1xx replies in a row before a final one
	// (DefaultMaxPreliminary when zero).
	MaxPreliminary int
	// MinDataRate, in bytes per second, and RateWindow: a data transfer
	// that brings fewer than MinDataRate*RateWindow bytes in a window is
	// abandoned as stalled (DefaultMinDataRate, DefaultRateWindow when
	// zero).
	MinDataRate int64
	RateWindow  time.Duration
	// NoStat turns off listing over the control connection ("STAT -a",
	// see statlist.go); every LIST then goes over a data connection.
	NoStat bool
}

// AnonymousPassword is sent as the password of anonymous logins.
const AnonymousPassword = "ftpaudit@"

func (o DialOptions) withDefaults() DialOptions {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 15 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.MaxListingBytes <= 0 {
		o.MaxListingBytes = DefaultMaxListingBytes
	}
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = DefaultReplyTimeout
	}
	if o.MaxReplyLine <= 0 {
		o.MaxReplyLine = DefaultMaxReplyLine
	}
	if o.MaxReplyBytes <= 0 {
		o.MaxReplyBytes = DefaultMaxReplyBytes
	}
	if o.MaxPreliminary <= 0 {
		o.MaxPreliminary = DefaultMaxPreliminary
	}
	if o.MinDataRate <= 0 {
		o.MinDataRate = DefaultMinDataRate
	}
	if o.RateWindow <= 0 {
		o.RateWindow = DefaultRateWindow
	}
	return o
}

// DefaultMaxListingBytes bounds one listing transfer: about 3.5 million
// lines, more than --max-dir-entries keeps, so a directory is never cut by
// it first; what it holds is parsed before any entry bound applies, so it
// also bounds the memory one hostile listing can take.
const DefaultMaxListingBytes = 256 << 20

// Dialer opens FTP sessions to one target and keeps what it learns
// across them (whether STAT lists like the data connection).
type Dialer struct {
	t   ftpaudit.Target
	opt DialOptions
	st  statState
	dl  dialectState
}

// NewDialer returns a Dialer for t.
func NewDialer(t ftpaudit.Target, opt DialOptions) *Dialer {
	return &Dialer{t: t, opt: opt}
}

// Connect connects, logs in and returns a session ready to list: an
// ftpaudit.Connector.
func (d *Dialer) Connect(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
	return dialFTP(ctx, d.t, d.opt, &d.st, &d.dl)
}

// Dialect says how the host's directories were asked for.
func (d *Dialer) Dialect() *ftpaudit.DialectReport {
	r := d.dl.report()
	return &r
}

// StatReport says how listing over the control connection went; nil when
// it was off (NoStat, or FTPS).
func (d *Dialer) StatReport() *ftpaudit.StatReport {
	if d.opt.NoStat || d.t.TLS != ftpaudit.TLSNone {
		return nil
	}
	r := d.st.report()
	return &r
}

// DialFTP connects to t, logs in and returns a session ready to list.
// Where the server offers MLSD, and neither NoMLSD nor MLSDOnly is set, the
// session holds a second connection for LIST -a (see pairSession).
func DialFTP(ctx context.Context, t ftpaudit.Target, opt DialOptions) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
	return dialFTP(ctx, t, opt, nil, &dialectState{})
}

// dialFTP is DialFTP with the host's shared STAT verdict (st nil turns
// STAT listings off) and listing dialect.
func dialFTP(ctx context.Context, t ftpaudit.Target, opt DialOptions, st *statState, dl *dialectState) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
	opt = opt.withDefaults()
	if opt.NoStat || t.TLS != ftpaudit.TLSNone {
		st = nil
	}
	s, info, err := dialOne(ctx, t, opt, dl)
	if err != nil {
		return nil, info, err
	}
	if !s.mlsd {
		s.stat = st
		return s, info, nil
	}
	if opt.MLSDOnly {
		return s, info, nil
	}
	lopt := opt
	lopt.NoMLSD = true
	ls, _, err := dialOne(ctx, t, lopt, dl)
	if err != nil {
		_ = s.Close()
		return nil, info, err
	}
	ls.stat = st
	info.Paired = true
	return &pairSession{mlsd: s, list: ls}, info, nil
}

func dialOne(ctx context.Context, t ftpaudit.Target, opt DialOptions, dl *dialectState) (*ftpSession, ftpaudit.ServerInfo, error) {
	s := &ftpSession{t: t, opt: opt, dialect: dl}
	s.replies.bounds = newReplyBounds(opt)
	if t.TLS != ftpaudit.TLSNone {
		s.tls = sessionTLS(opt.TLSConfig, t.Host)
	}
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()

	options := []ftp.DialOption{
		ftp.DialWithDialFunc(s.dial),
		ftp.DialWithDebugOutput(&s.replies),
		ftp.DialWithDisabledMLSD(opt.NoMLSD),
	}
	switch t.TLS {
	case ftpaudit.TLSExplicit:
		// jlaffaye sends AUTH TLS and wraps the control connection
		// with tls.Client(conn, s.tls).
		options = append(options, ftp.DialWithExplicitTLS(s.tls))
	case ftpaudit.TLSImplicit:
		// s.dial wraps the control connection itself (jlaffaye does
		// not, given a dial function); the option only makes jlaffaye
		// send PBSZ 0 and PROT P after login.
		options = append(options, ftp.DialWithTLS(s.tls))
	}
	c, err := ftp.Dial(t.Addr(), options...)
	if err != nil {
		if e := noTLS(t, err, s.replies.first()); e != nil {
			s.abort()
			return nil, ftpaudit.ServerInfo{Banner: s.replies.first()}, e
		}
		return nil, ftpaudit.ServerInfo{}, s.classify(ctx, "connect", err)
	}
	s.conn = c
	info := ftpaudit.ServerInfo{Banner: s.replies.first(), Login: t.User, TLS: "none"}
	if t.TLS != ftpaudit.TLSNone {
		info.TLS = "verified"
		if opt.TLSConfig != nil && opt.TLSConfig.InsecureSkipVerify {
			info.TLS = "unverified"
		}
	}
	pass := opt.Password
	if t.User == "anonymous" || t.User == "ftp" {
		if pass == "" {
			pass = AnonymousPassword
		}
	}
	if err := c.Login(t.User, pass); err != nil {
		err = userReply(err, s.replies.last())
		_ = s.Close()
		return nil, info, s.classify(ctx, "login", err)
	}
	s.mlsd = c.IsTimePreciseInList()
	info.MLSD = s.mlsd
	info.Features = s.replies.features()
	if s.mlsd {
		if err := s.askFacts(info.Features); err != nil {
			_ = s.Close()
			return nil, info, s.classify(ctx, "opts mlst", err)
		}
	}
	return s, info, nil
}

// dial is given to jlaffaye for the control connection and every data
// connection. The first call is the control connection.
func (s *ftpSession) dial(network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: s.opt.ConnectTimeout}
	s.mu.Lock()
	first := s.control == nil
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, net.ErrClosed
	}
	if first {
		c, err := d.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		if s.t.TLS == ftpaudit.TLSImplicit {
			// The inner connection keeps the reply deadline too: it
			// sets the socket's deadline last.
			tc := tls.Client(&deadlineConn{Conn: c, idle: s.opt.IdleTimeout, reply: s.replies.bounds}, s.tls)
			c = tc
		}
		dc := &deadlineConn{Conn: c, idle: s.opt.IdleTimeout, reply: s.replies.bounds}
		s.mu.Lock()
		s.control = dc
		s.mu.Unlock()
		return dc, nil
	}
	// A data connection. jlaffaye already replaces a PASV address with the
	// control peer's (it does not trust PASV addresses by default), and
	// EPSV carries only a port, so addr's host is the control peer's.
	s.notePASV(addr)
	c, err := d.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	var conn net.Conn = &deadlineConn{Conn: c, idle: s.opt.IdleTimeout,
		rate: &rateMeter{min: s.opt.MinDataRate, window: s.opt.RateWindow}}
	if s.t.TLS != ftpaudit.TLSNone {
		// The handshake waits for the first Read or Write: servers
		// start TLS on a data connection only after the command that
		// uses it, which jlaffaye sends after dialling (a handshake here
		// hangs proftpd and pure-ftpd, jlaffaye/ftp#282). Sharing s.tls,
		// and so its session cache, with the control connection makes it
		// resume the control session.
		conn = tls.Client(conn, s.tls)
	}
	// A listing's runs of empty lines and over-long lines are collapsed
	// as it is read (listing mode); a download (Fetch) is kept byte for
	// byte.
	limit, listing := s.opt.MaxListingBytes, true
	s.mu.Lock()
	if s.fetchLimit > 0 {
		limit, listing = s.fetchLimit, false
	}
	s.mu.Unlock()
	dc := &drainConn{Conn: conn, limit: limit, buf: newListBuf(s.takeScratch())}
	dc.buf.listing = listing
	s.mu.Lock()
	s.data = dc
	s.mu.Unlock()
	return dc, nil
}

// notePASV notes, once per session, a PASV reply (the reply just read,
// before this data connection) that named another host than addr's, the
// control peer's: the server is misconfigured (NAT) or hostile (a PASV
// reply aimed at a third host). The address is never dialled.
func (s *ftpSession) notePASV(addr string) {
	s.mu.Lock()
	noted := s.pasvNoted
	s.mu.Unlock()
	if noted {
		return
	}
	rep := s.replies.last()
	if !strings.HasPrefix(rep, "227") {
		return
	}
	i, j := strings.IndexByte(rep, '('), strings.LastIndexByte(rep, ')')
	if i < 0 || j < i {
		return
	}
	f := strings.Split(rep[i+1:j], ",")
	if len(f) != 6 {
		return
	}
	named := net.ParseIP(strings.Join(f[:4], "."))
	peer, port, err := net.SplitHostPort(addr)
	if named == nil || err != nil || named.Equal(net.ParseIP(peer)) {
		return
	}
	s.mu.Lock()
	s.pasvNote = fmt.Sprintf("PASV reply named %s; connected to the control peer %s instead",
		net.JoinHostPort(named.String(), port), peer)
	s.mu.Unlock()
}

// userReply restores the reply code that jlaffaye drops when USER gets an
// answer other than 230 or 331 (it returns errors.New(text)). Servers that
// require TLS refuse a plain login right there: vsftpd with
// force_anon_logins_ssl answers "530 Anonymous sessions must use
// encryption." and closes the connection. As a *textproto.Error it is
// classified as the login refusal it is, not as a lost connection.
func userReply(err error, last string) error {
	var te *textproto.Error
	if errors.As(err, &te) || !isCode(last) || last[3] != ' ' || last[0] < '4' {
		return err
	}
	if strings.TrimSpace(last[4:]) != strings.TrimSpace(err.Error()) {
		return err
	}
	code, _ := strconv.Atoi(last[:3])
	return &textproto.Error{Code: code, Msg: err.Error()}
}

// sessionTLS returns the TLS configuration of one session: a copy of base
// (an empty one if nil) with ServerName set to host where base leaves it
// empty, and a client session cache of its own.
//
// Servers that require TLS session reuse (vsftpd's require_ssl_reuse=YES,
// its default; proftpd unless NoSessionReuseRequired) refuse a data
// connection whose handshake does not resume the control connection's
// session ("522 SSL connection failed: session reuse required"). Go
// resumes only a session found in Config.ClientSessionCache under the
// key ServerName (or, without one, the peer's address, which has a new
// port on every data connection), so both are needed, and the data
// connections must use the same cache as their control connection. A
// cache shared by several sessions to one host (the caller's: the CLI
// passes one per host) would let one session's data connection resume
// another session's ticket. vsftpd accepts that (it checks only that some
// session was resumed), but proftpd's mod_tls also requires the session
// to be the control connection's: hence one cache per session, and the
// caller's ClientSessionCache is not used. With TLS 1.3 the ticket comes
// after the handshake; it is read with the first reply on the control
// connection (USER), long before the first data connection. Both TLS 1.2
// (tickets) and 1.3 resume this way; no version cap is needed.
//
// ServerName is also what the certificate is verified against (a DNS
// name or an IP literal, matched to the certificate's SANs); without it,
// or InsecureSkipVerify, Go refuses to handshake at all.
func sessionTLS(base *tls.Config, host string) *tls.Config {
	var c *tls.Config
	if base != nil {
		c = base.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		// An IPv6 literal with a zone ("fe80::1%eth0") is verified as
		// the address alone.
		if i := strings.IndexByte(host, '%'); i >= 0 && net.ParseIP(host[:i]) != nil {
			host = host[:i]
		}
		c.ServerName = host
	}
	c.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	return c
}

// noTLS returns the error for an explicit-TLS target whose server greeted
// (220) and then refused AUTH TLS: it does not offer TLS. Said as such,
// not as the login refusal a "530 Please login" would otherwise read as;
// nil for any other failure.
func noTLS(t ftpaudit.Target, err error, greeting string) error {
	var te *textproto.Error
	if t.TLS != ftpaudit.TLSExplicit || !errors.As(err, &te) || !strings.HasPrefix(greeting, "220") {
		return nil
	}
	return fmt.Errorf("connect: the server does not offer TLS: AUTH TLS was answered %d %s (ftp:// scans it without TLS, if that is acceptable)", te.Code, te.Msg)
}
