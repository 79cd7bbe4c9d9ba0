package ftpconn

// This file is the only one that imports github.com/jlaffaye/ftp. The
// library keeps the connection, login, TLS, EPSV/PASV and data-connection
// logic; everything it would lose (raw listing bytes, the final reply text)
// is captured here through the dial function and the debug writer it offers.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/listing"
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
	return o
}

// ftpSession is a Session over one jlaffaye ServerConn.
type ftpSession struct {
	t   ftpaudit.Target
	opt DialOptions
	// tls is the session's own TLS configuration (see sessionTLS); nil
	// for plain FTP.
	tls  *tls.Config
	conn *ftp.ServerConn
	mlsd bool
	// noDashA is set when the server refuses "LIST -a".
	noDashA bool

	replies replyLog

	mu      sync.Mutex
	control net.Conn // the control connection as dialled
	data    *drainConn
	closed  bool
	// fetchLimit, when set, bounds the next data transfer (Fetch).
	fetchLimit int64
	// pasvNote is a PASV reply that named another host than the control
	// peer, waiting to be reported with the next listing; pasvNoted is
	// set once one has been (once per session is enough).
	pasvNote  string
	pasvNoted bool

	// stat is the host's verdict on STAT listings (nil: never use them);
	// ctl reads STAT replies off the control connection.
	stat   *statState
	ctl    *bufio.Reader
	ctlBuf []byte // ctlLine's reused line buffer

	// scratch is the array of the last listing's last chunk, filled
	// first by the next listing (see listBuf).
	scratch []byte
}

// takeScratch hands the session's listing array to a new listBuf.
func (s *ftpSession) takeScratch() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.scratch
	s.scratch = nil
	return b
}

// putScratch keeps a listBuf's array for the next listing.
func (s *ftpSession) putScratch(b []byte) {
	s.mu.Lock()
	s.scratch = b
	s.mu.Unlock()
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
}

// NewDialer returns a Dialer for t.
func NewDialer(t ftpaudit.Target, opt DialOptions) *Dialer {
	return &Dialer{t: t, opt: opt}
}

// Connect connects, logs in and returns a session ready to list: an
// ftpaudit.Connector.
func (d *Dialer) Connect(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
	return dialFTP(ctx, d.t, d.opt, &d.st)
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
	return dialFTP(ctx, t, opt, nil)
}

// dialFTP is DialFTP with the host's shared STAT verdict; st nil turns
// STAT listings off.
func dialFTP(ctx context.Context, t ftpaudit.Target, opt DialOptions, st *statState) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
	opt = opt.withDefaults()
	if opt.NoStat || t.TLS != ftpaudit.TLSNone {
		st = nil
	}
	s, info, err := dialOne(ctx, t, opt)
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
	ls, _, err := dialOne(ctx, t, lopt)
	if err != nil {
		_ = s.Close()
		return nil, info, err
	}
	ls.stat = st
	info.Paired = true
	return &pairSession{mlsd: s, list: ls}, info, nil
}

func dialOne(ctx context.Context, t ftpaudit.Target, opt DialOptions) (*ftpSession, ftpaudit.ServerInfo, error) {
	s := &ftpSession{t: t, opt: opt}
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
			tc := tls.Client(&deadlineConn{Conn: c, idle: s.opt.IdleTimeout}, s.tls)
			c = tc
		}
		dc := &deadlineConn{Conn: c, idle: s.opt.IdleTimeout}
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
	var conn net.Conn = &deadlineConn{Conn: c, idle: s.opt.IdleTimeout}
	if s.t.TLS != ftpaudit.TLSNone {
		// The handshake waits for the first Read or Write: servers
		// start TLS on a data connection only after the command that
		// uses it, which jlaffaye sends after dialling (a handshake here
		// hangs proftpd and pure-ftpd, jlaffaye/ftp#282). Sharing s.tls,
		// and so its session cache, with the control connection makes it
		// resume the control session.
		conn = tls.Client(conn, s.tls)
	}
	limit := s.opt.MaxListingBytes
	s.mu.Lock()
	if s.fetchLimit > 0 {
		limit = s.fetchLimit
	}
	s.mu.Unlock()
	dc := &drainConn{Conn: conn, limit: limit, buf: newListBuf(s.takeScratch())}
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

// samePASVNote reports whether a and b are both PASV notes (which differ
// by port only on the two connections of a pairSession).
func samePASVNote(a, b string) bool {
	const p = "PASV reply named "
	return strings.HasPrefix(a, p) && strings.HasPrefix(b, p)
}

// takeNotes adds what the session has noted to a listing it returns.
func (s *ftpSession) takeNotes(l *ftpaudit.Listing) *ftpaudit.Listing {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pasvNote != "" {
		l.Warnings = append(l.Warnings, s.pasvNote)
		s.pasvNote, s.pasvNoted = "", true
	}
	return l
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

// abort closes the connections so that any blocked call returns.
func (s *ftpSession) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.control != nil {
		_ = s.control.Close()
	}
	if s.data != nil {
		_ = s.data.Conn.Close()
	}
}

// Close ends the session politely if it can.
func (s *ftpSession) Close() error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if s.conn != nil && !closed {
		_ = s.conn.Quit()
	}
	s.abort()
	return nil
}

// pathArg returns the form of dir to put on the command line: always
// absolute; "/." is appended when the last name ends in white space, which
// servers would otherwise trim.
func pathArg(dir string) string {
	if dir == "" || dir == "/" {
		return "/"
	}
	last := dir[len(dir)-1]
	if last == ' ' || last == '\t' {
		return dir + "/."
	}
	return dir
}

// List lists one directory with MLSD where the server offers it, else
// with LIST -a.
func (s *ftpSession) List(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	if strings.ContainsAny(dir, "\r\n\x00") {
		return nil, &ftpaudit.ReplyError{Code: 0, Msg: "name contains CR, LF or NUL: it cannot be sent to the server"}
	}
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	if s.mlsd {
		return s.listRaw(ctx, dir, pathArg(dir), true)
	}
	return s.listLIST(ctx, dir)
}

// pairSession lists every directory twice, with MLSD on one connection and
// LIST -a on another, at the same time, and merges the two by name:
// servers hide different entries from each (see mergeListings).
type pairSession struct {
	mlsd, list *ftpSession
}

func (p *pairSession) Close() error {
	_ = p.list.Close()
	return p.mlsd.Close()
}

func (p *pairSession) List(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	var ll *ftpaudit.Listing
	var lerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		ll, lerr = p.list.List(ctx, dir)
	}()
	l, err := p.mlsd.List(ctx, dir)
	<-done
	if err != nil {
		return nil, err
	}
	if lerr != nil {
		var re *ftpaudit.ReplyError
		if errors.As(lerr, &re) && !errors.Is(lerr, ftpaudit.ErrConnLost) {
			l.Warnings = append(l.Warnings, "LIST -a refused where MLSD worked: "+re.Error())
			return l, nil
		}
		return nil, lerr
	}
	var only []string
	l.Entries, only = listing.Merge(l.Entries, ll.Entries)
	l.Bad = append(l.Bad, ll.Bad...)
	l.Bytes += ll.Bytes
	l.Truncated = l.Truncated || ll.Truncated
	l.Via = ftpaudit.ViaMLSD + "+" + ll.Via
	if ftpaudit.ReplySaysTruncated(ll.Reply) {
		l.Reply = ll.Reply
	}
	for _, w := range ll.Warnings {
		if !slices.ContainsFunc(l.Warnings, func(x string) bool { return x == w || samePASVNote(x, w) }) {
			l.Warnings = append(l.Warnings, w)
		}
	}
	for _, n := range only {
		l.Warnings = append(l.Warnings, "shown by LIST -a but not by MLSD: "+n)
	}
	return l, nil
}

// listLIST lists dir with LIST -a (or LIST, where the server refuses -a).
// Servers parse LIST's argument like ls: they split it at spaces, expand
// glob characters and take a leading "-" for options (proftpd and pure-ftpd
// list "/" for "LIST -a /  /."; pure-ftpd lists star*name and starXname
// for "LIST -a /star*name"). So only a plain path goes on the command
// line; any other directory is entered with CWD, which takes one path
// verbatim, and listed without an argument.
func (s *ftpSession) listLIST(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	if s.stat != nil && !s.noDashA && ftppath.Plain(dir) {
		use, test := s.stat.begin()
		switch {
		case use:
			l, err := s.listSTAT(dir)
			if err != nil {
				s.abort() // the control connection may be out of step
				return nil, s.classify(ctx, "stat "+dir, err)
			}
			if l != nil {
				return l, nil
			}
		case test:
			l, err := s.listData(ctx, dir)
			if err != nil {
				s.stat.settle(false, false, "LIST -a "+dir+" failed")
				return nil, err
			}
			if err := s.checkSTAT(dir, l); err != nil {
				s.abort() // the listing stands; the session does not
			}
			return l, nil
		}
	}
	return s.listData(ctx, dir)
}

// listData lists dir with LIST -a over a data connection.
func (s *ftpSession) listData(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	arg := pathArg(dir)
	if !ftppath.Plain(dir) {
		s.replies.reset()
		if err := s.conn.ChangeDir(arg); err != nil {
			return nil, s.classify(ctx, "cwd "+dir, err)
		}
		arg = ""
	}
	if s.noDashA {
		return s.listRaw(ctx, dir, arg, false)
	}
	l, err := s.listRaw(ctx, dir, strings.TrimSpace("-a "+arg), false)
	var re *ftpaudit.ReplyError
	if err != nil && dir == "/" && errors.As(err, &re) && (re.Code == 500 || re.Code == 501 || re.Code == 502) {
		s.noDashA = true
		return s.listRaw(ctx, dir, arg, false)
	}
	return l, err
}

// listRaw runs one listing command and parses its raw bytes.
func (s *ftpSession) listRaw(ctx context.Context, dir, cmdArg string, mlsd bool) (*ftpaudit.Listing, error) {
	// jlaffaye sends "MLSD arg" on a session where the server offered
	// MLSD, "LIST arg" on one dialled with MLSD disabled.
	r, err := s.transfer(ctx, "list "+dir, cmdArg)
	if err != nil {
		return nil, err
	}
	l := &ftpaudit.Listing{Format: ftpaudit.FormatUnix, Reply: r.reply, Via: ftpaudit.ViaList, Bytes: r.bytes, Truncated: r.truncated, Warnings: r.warnings}
	if mlsd {
		l.Format = ftpaudit.FormatMLSD
		l.Via = ftpaudit.ViaMLSD
	}
	if r.text != nil {
		l.Entries, l.Bad = listing.ParseChunks(r.text, mlsd, time.Now())
	}
	if !mlsd && len(l.Entries) > 0 {
		l.Format = dominantFormat(l.Entries)
	}
	return s.takeNotes(l), nil
}

// rawTransfer is what a listing command brought back, unparsed.
type rawTransfer struct {
	text      []string // the data, in line-aligned chunks; nil when no data connection was made
	bytes     int64
	truncated bool
	reply     string // the final reply
	warnings  []string
}

// transfer runs one listing command (LIST or MLSD with cmdArg) and takes
// its raw bytes off the data connection.
func (s *ftpSession) transfer(ctx context.Context, op, cmdArg string) (rawTransfer, error) {
	s.replies.reset()
	_, err := s.conn.List(cmdArg)
	s.mu.Lock()
	data := s.data
	s.data = nil
	s.mu.Unlock()
	if err != nil {
		return rawTransfer{}, s.classify(ctx, op, err)
	}
	r := rawTransfer{reply: s.replies.last()}
	if data == nil {
		return r, nil
	}
	if data.err != nil {
		return rawTransfer{}, s.classify(ctx, op, data.err)
	}
	r.bytes = data.buf.Len()
	r.truncated = data.truncated
	if r.bytes > 0 && data.buf.lastByte() != '\n' && !r.truncated {
		// Servers end every listing line, the last one too, with CRLF:
		// a last line without one means the data connection was closed
		// in the middle of it, whatever the final reply says.
		r.truncated = true
		r.warnings = append(r.warnings, "the listing's last line has no line end: the data connection closed in the middle of it")
	}
	var scratch []byte
	r.text, scratch = data.buf.finish()
	s.putScratch(scratch)
	if r.text == nil {
		r.text = []string{}
	}
	return r, nil
}

// dominantFormat reports which LIST parser most entries went through,
// judged by the Mode field (DOS listings carry none).
func dominantFormat(es []ftpaudit.Entry) ftpaudit.ListFormat {
	n := 0
	for i := range es {
		if es[i].Mode != "" {
			n++
		}
	}
	if n*2 >= len(es) {
		return ftpaudit.FormatUnix
	}
	return ftpaudit.FormatDOS
}

// classify turns a jlaffaye or network error into one the walker can act
// on: a *ReplyError for negative replies, ErrConnLost when the connection
// is no longer usable, the context's error after cancellation.
func (s *ftpSession) classify(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, context.Cause(ctx))
	}
	var te *textproto.Error
	if errors.As(err, &te) && (te.Code < 100 || te.Code > 599) {
		// Not an FTP reply (RFC 959 codes are 1yz to 5yz; 6yz are
		// RFC 2228's protected replies, never used here): the control
		// connection is out of step. Never taken for a refusal.
		return fmt.Errorf("%s: %w: malformed reply: %d %s", op, ftpaudit.ErrConnLost, te.Code, te.Msg)
	}
	if errors.As(err, &te) {
		re := &ftpaudit.ReplyError{Code: te.Code, Msg: te.Msg}
		if te.Code == 421 {
			return fmt.Errorf("%s: %w: %w", op, ftpaudit.ErrConnLost, re)
		}
		return fmt.Errorf("%s: %w", op, re)
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		// Not a lost connection: the server's certificate is not trusted.
		// A definite answer, reported as such.
		return fmt.Errorf("%s: TLS certificate not trusted (--ca-file names the CA to trust; --insecure skips the check): %w", op, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: %w: no reply within the idle timeout (%s)", op, ftpaudit.ErrConnLost, s.opt.IdleTimeout)
	}
	var pe textproto.ProtocolError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w: malformed reply: %s", op, ftpaudit.ErrConnLost, pe.Error())
	}
	return fmt.Errorf("%s: %w: %w", op, ftpaudit.ErrConnLost, err)
}

// deadlineConn moves the connection's deadline forward before every read
// and write, so that a silent peer fails the call after idle instead of
// hanging it forever. It also overrides any deadline a library leaves
// behind.
type deadlineConn struct {
	net.Conn
	idle time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// drainConn is handed to jlaffaye as the data connection. On the first
// Read it consumes the whole transfer into buf (up to limit) and then
// reports EOF, so jlaffaye's own lossy parser sees nothing and the raw
// bytes stay with us.
type drainConn struct {
	net.Conn
	limit     int64
	buf       listBuf
	drained   bool
	truncated bool
	err       error
}

// Handshake completes a TLS data connection's handshake. jlaffaye calls it
// after an upload that wrote nothing (Store of an empty file), which would
// otherwise close the connection without ever handshaking.
func (c *drainConn) Handshake() error {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.Handshake()
	}
	return nil
}

func (c *drainConn) Read(p []byte) (int, error) {
	if !c.drained {
		c.drained = true
		n, err := c.buf.readFrom(c.Conn, c.limit)
		if err != nil {
			c.err = err
		} else if n == c.limit {
			// Is there more? One more byte tells.
			var one [1]byte
			if m, _ := c.Conn.Read(one[:]); m > 0 {
				c.truncated = true
			}
		}
	}
	return 0, io.EOF
}

// replyLog receives jlaffaye's debug stream of the control connection
// (commands written and replies read; data never passes through it because
// drainConn hides it). It keeps replies only, never commands, so that no
// password can be retained.
type replyLog struct {
	mu      sync.Mutex
	partial []byte
	multi   []string // lines of a multi-line reply in progress
	replies []string // completed replies, most recent last (bounded)
}

const maxReplies = 8

func (r *replyLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if isCommand(p) {
		// jlaffaye writes each command it sends to the same stream, in
		// one Write. It is never kept; and a reply in progress around it
		// (a server that sent ahead, or framed a reply differently from
		// jlaffaye's reader) is dropped with it, so that no command can
		// end up inside a kept reply.
		r.partial = r.partial[:0]
		r.multi = nil
		return len(p), nil
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

// The Prober methods. They work relative to the current directory, set
// with ChangeDir, so that canary names never travel inside a path a
// server might split or expand.

var _ ftpaudit.Prober = (*ftpSession)(nil)

// ChangeDir enters dir (absolute, exact).
func (s *ftpSession) ChangeDir(ctx context.Context, dir string) (string, error) {
	return s.simple(ctx, "cwd "+dir, func() error { return s.conn.ChangeDir(pathArg(dir)) })
}

// Store uploads an empty file named name into the current directory.
func (s *ftpSession) Store(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "stor "+name, func() error { return s.conn.Stor(name, strings.NewReader("")) })
}

// MakeDir creates a directory named name in the current directory.
func (s *ftpSession) MakeDir(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "mkd "+name, func() error { return s.conn.MakeDir(name) })
}

// Delete removes the file name from the current directory.
func (s *ftpSession) Delete(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "dele "+name, func() error { return s.conn.Delete(name) })
}

// RemoveDir removes the directory name from the current directory.
func (s *ftpSession) RemoveDir(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "rmd "+name, func() error { return s.conn.RemoveDir(name) })
}

// Exists reports whether name exists in the current directory, asked with
// SIZE (files) or CWD and back (directories), for directories that cannot
// be listed. A 550 means it does not; other errors are returned.
func (s *ftpSession) Exists(ctx context.Context, dir, name string, isDir bool) (bool, error) {
	var err error
	if isDir {
		_, err = s.simple(ctx, "cwd", func() error { return s.conn.ChangeDir(pathArg(ftppath.Join(dir, name))) })
		if err == nil {
			_, err = s.ChangeDir(ctx, dir)
			return true, err
		}
	} else {
		_, err = s.simple(ctx, "size", func() error { _, e := s.conn.FileSize(name); return e })
		if err == nil {
			return true, nil
		}
	}
	var re *ftpaudit.ReplyError
	if errors.As(err, &re) && !errors.Is(err, ftpaudit.ErrConnLost) && re.Code == 550 {
		return false, nil
	}
	return false, err
}

// Fetch downloads name from the current directory, at most max bytes.
func (s *ftpSession) Fetch(ctx context.Context, name string, max int64) ([]byte, error) {
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	s.mu.Lock()
	s.fetchLimit = max
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.fetchLimit = 0
		s.mu.Unlock()
	}()
	s.replies.reset()
	r, err := s.conn.Retr(name)
	if err != nil {
		return nil, s.classify(ctx, "retr "+name, err)
	}
	_, _ = io.Copy(io.Discard, r) // drainConn has taken the bytes
	err = r.Close()
	s.mu.Lock()
	data := s.data
	s.data = nil
	s.mu.Unlock()
	if err != nil {
		return nil, s.classify(ctx, "retr "+name, err)
	}
	if data == nil {
		return nil, nil
	}
	if data.err != nil {
		return nil, s.classify(ctx, "retr "+name, data.err)
	}
	b, scratch := data.buf.take()
	s.putScratch(scratch)
	return b, nil
}

// simple runs one control-connection command and returns the server's
// final reply text.
func (s *ftpSession) simple(ctx context.Context, op string, f func() error) (string, error) {
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	s.replies.reset()
	err := f()
	s.mu.Lock()
	s.data = nil
	s.mu.Unlock()
	if err != nil {
		err = s.classify(ctx, op, err)
		return err.Error(), err
	}
	return s.replies.last(), nil
}

// The pair session probes over its MLSD connection.

func (p *pairSession) ChangeDir(ctx context.Context, dir string) (string, error) {
	return p.mlsd.ChangeDir(ctx, dir)
}
func (p *pairSession) Store(ctx context.Context, name string) (string, error) {
	return p.mlsd.Store(ctx, name)
}
func (p *pairSession) MakeDir(ctx context.Context, name string) (string, error) {
	return p.mlsd.MakeDir(ctx, name)
}
func (p *pairSession) Delete(ctx context.Context, name string) (string, error) {
	return p.mlsd.Delete(ctx, name)
}
func (p *pairSession) RemoveDir(ctx context.Context, name string) (string, error) {
	return p.mlsd.RemoveDir(ctx, name)
}
func (p *pairSession) Exists(ctx context.Context, dir, name string, isDir bool) (bool, error) {
	return p.mlsd.Exists(ctx, dir, name, isDir)
}
func (p *pairSession) Fetch(ctx context.Context, name string, max int64) ([]byte, error) {
	return p.mlsd.Fetch(ctx, name, max)
}
