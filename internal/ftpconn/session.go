package ftpconn

// The session: how a directory is listed (MLSD, STAT, LIST -a, with or
// without CWD), and the pair of sessions that lists with MLSD and LIST -a
// at once.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/listing"
	"github.com/jlaffaye/ftp"
)

// ftpSession is a Session over one jlaffaye ServerConn.
type ftpSession struct {
	t   ftpaudit.Target
	opt DialOptions
	// tls is the session's own TLS configuration (see sessionTLS); nil
	// for plain FTP.
	tls  *tls.Config
	conn *ftp.ServerConn
	mlsd bool
	// dialect is the host's listing dialect (see dialect.go).
	dialect *dialectState
	// vdir is the directory the prober works in by absolute paths,
	// where CWD into it was refused (see ChangeDir); "" otherwise.
	vdir string

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
	// restPending says a STAT sentinel's restart offset may still be
	// set (see clearRest).
	restPending bool

	// scratch is the array of the last listing's last chunk, filled
	// first by the next listing (see listBuf).
	scratch []byte
	// pre holds what Prefetch listed, until List asks for it.
	pre map[string]preListing
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

// listLIST lists dir with LIST in the host's form (see dialect.go).
// Servers parse LIST's argument like ls: they split it at spaces, expand
// glob characters and take a leading "-" for options (proftpd and pure-ftpd
// list "/" for "LIST -a /  /."; pure-ftpd lists star*name and starXname
// for "LIST -a /star*name"). So only a plain path goes on the command
// line; any other directory is entered with CWD, which takes one path
// verbatim, checked with PWD (see enter), and listed without an argument.
func (s *ftpSession) listLIST(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	f, check := s.dialect.pick(dir)
	l, err := s.listPlain(ctx, dir, f)
	if check {
		return s.checkForm(ctx, dir, f, l, err)
	}
	return l, err
}

// listPlain lists dir in form f: over the control connection (STAT) where
// the host allows it, else over a data connection.
func (s *ftpSession) listPlain(ctx context.Context, dir string, f listForm) (*ftpaudit.Listing, error) {
	// A path that is not plain is entered with CWD first (not a name
	// holding 0xFF, which enter may have to send doubled).
	plain := ftppath.Plain(dir)
	if s.stat != nil && f == formDashAPath && (plain || !strings.Contains(dir, "\xff")) {
		use, test := s.stat.begin(plain)
		switch {
		case use:
			l, n, batched, err := s.listSTAT(dir, !plain)
			if err != nil {
				s.abort() // the control connection may be out of step
				return nil, s.classify(ctx, "stat "+dir, err)
			}
			if l != nil {
				return s.useSTAT(ctx, dir, l, n, batched)
			}
		case test:
			l, err := s.listData(ctx, dir, f)
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
	return s.listData(ctx, dir, f)
}

// listData lists dir over a data connection in form f. Until the host's
// form has listed a directory (its first listing: see dialect.go), a
// refusal moves on to the next form, and the first form that lists
// entries becomes the host's; an empty listing after a refusal proves
// nothing, and the refusal stands.
func (s *ftpSession) listData(ctx context.Context, dir string, f listForm) (*ftpaudit.Listing, error) {
	var first error
	f0 := f
	for ; f < numForms; f++ {
		l, err := s.listForm(ctx, dir, f)
		if err == nil {
			if first == nil {
				s.dialect.listed(f, l, false)
				return l, nil
			}
			if len(l.Entries) > 0 || len(l.Bad) > 0 || dir != "/" && s.provenAtRoot(ctx, f0, f) {
				s.dialect.listed(f, l, true)
				return l, nil
			}
			break
		}
		if !formRefused(err) {
			first = err
			break
		}
		if first == nil {
			first = err
		}
		if s.dialect.isSettled() {
			break // the host's form is known: this is dir's answer
		}
		s.dialect.refuse(f, dir, err)
	}
	var de *ftpaudit.DataError
	if errors.As(first, &de) {
		s.dialect.dataErrors.Add(1)
	}
	return nil, first
}

// provenAtRoot reports whether the root shows that the server refuses
// form f0 and lists in form f: a start directory that is empty in f after
// a refusal in f0 proves nothing about the forms by itself.
func (s *ftpSession) provenAtRoot(ctx context.Context, f0, f listForm) bool {
	if _, err := s.listForm(ctx, "/", f0); !formRefused(err) {
		return false
	}
	l, err := s.listForm(ctx, "/", f)
	return err == nil && len(l.Entries) > 0
}

// listForm lists dir once, in form f.
func (s *ftpSession) listForm(ctx context.Context, dir string, f listForm) (*ftpaudit.Listing, error) {
	arg := pathArg(dir)
	if f.cwd() || !ftppath.Plain(dir) {
		s.replies.reset()
		if err := s.enter(dir); err != nil {
			return nil, s.classify(ctx, "cwd "+dir, err)
		}
		arg = ""
	}
	if f.dashA() {
		arg = strings.TrimSpace("-a " + arg)
	}
	return s.listRaw(ctx, dir, arg, false)
}

// checkForm settles whether the path form f lists what its path names
// (see dialect.go): l (with err) is dir's listing in f, or in the form the
// host fell back to on a refusal; dir is listed again in f's CWD twin and
// the names compared. It returns the listing to use: l when the two agree,
// else the CWD form's.
func (s *ftpSession) checkForm(ctx context.Context, dir string, f listForm, l *ftpaudit.Listing, err error) (*ftpaudit.Listing, error) {
	tw := f.cwdTwin()
	if s.dialect.current() != f || err != nil && !formRefused(err) {
		s.dialect.checked(f, false, false, "")
		return l, err
	}
	if err != nil {
		// f refused dir: the CWD twin listing entries there shows f
		// is not understood below the root.
		lt, errt := s.listForm(ctx, dir, tw)
		if errt != nil || len(lt.Entries) == 0 && len(lt.Bad) == 0 {
			s.dialect.checked(f, false, false, "")
			return nil, err
		}
		s.dialect.refuse(f, dir, err)
		s.dialect.checked(f, false, true, fmt.Sprintf("%s refused %s, which %s listed", f, ftpaudit.EvidenceName(dir), tw))
		s.dialect.listed(tw, lt, false)
		return lt, nil
	}
	if len(l.Entries) > checkMaxEntries {
		// Too large to hold twice: the check waits for a smaller
		// directory, and this one is listed again in the CWD form,
		// which needs no check, once the first listing can be
		// collected.
		s.dialect.checked(f, false, false, "")
		l = nil //nolint:ineffassign,wastedassign // collectable while the CWD form is read
		runtime.GC()
		lt, errt := s.listForm(ctx, dir, tw)
		if errt != nil {
			// The CWD form refused (pure-ftpd refuses CWD into a
			// hidden directory) or failed: as below, the path form's
			// listing stands; it is read again.
			return s.listForm(ctx, dir, f)
		}
		return lt, nil
	}
	lt, errt := s.listForm(ctx, dir, tw)
	if errt != nil {
		// The CWD form refused (pure-ftpd refuses CWD into a hidden
		// directory) or failed: no answer here. The session may be
		// gone; the listing in hand stands.
		s.dialect.checked(f, false, false, "")
		return l, nil
	}
	if a, b := listedNames(l), listedNames(lt); !slices.Equal(a, b) {
		s.dialect.checked(f, false, true, fmt.Sprintf("%s and %s listed %s differently (%d and %d names): the path form is not used",
			f, tw, ftpaudit.EvidenceName(dir), len(a), len(b)))
		s.dialect.listed(tw, lt, false)
		return lt, nil
	}
	s.dialect.checked(f, true, true, "")
	return l, nil
}

// checkMaxEntries bounds the listings the path-form check compares: a
// larger one would be held twice.
const checkMaxEntries = 10_000

// listedNames returns a listing's names, sorted.
func listedNames(l *ftpaudit.Listing) []string {
	out := make([]string, len(l.Entries))
	for i := range l.Entries {
		out[i] = l.Entries[i].Name
	}
	slices.Sort(out)
	return out
}

// pairSession lists every directory twice, with MLSD on one connection and
// LIST -a on another, at the same time, and merges the two by name:
// servers hide different entries from each (see listing.Merge).
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
	var re *ftpaudit.ReplyError
	if err != nil {
		// MLSD refused for good where LIST -a listed entries: the two
		// disagree, and the listing that shows more is the one to
		// judge. (An empty LIST -a proves nothing against a refusal:
		// proftpd answers an unreadable directory's LIST with
		// nothing. A transient refusal is retried as a whole.)
		if lerr == nil && errors.As(err, &re) && re.Code >= 500 && !errors.Is(err, ftpaudit.ErrConnLost) && ctx.Err() == nil &&
			(len(ll.Entries) > 0 || len(ll.Bad) > 0) {
			ll.Warnings = append(ll.Warnings, "MLSD refused where LIST -a listed the directory: "+re.Error()+"; the LIST -a listing is used")
			return ll, nil
		}
		return nil, err
	}
	if lerr != nil {
		var de *ftpaudit.DataError
		if errors.As(lerr, &re) && !errors.Is(lerr, ftpaudit.ErrConnLost) {
			l.Warnings = append(l.Warnings, "LIST -a refused where MLSD worked: "+re.Error())
			return l, nil
		}
		if errors.As(lerr, &de) {
			l.Warnings = append(l.Warnings, "LIST -a gave an error message where MLSD worked: "+de.Error())
			return l, nil
		}
		return nil, lerr
	}
	var only, conflicts []string
	l.Entries, only, conflicts = listing.Merge(l.Entries, ll.Entries)
	l.Bad = append(l.Bad, ll.Bad...)
	l.Bytes += ll.Bytes
	l.Truncated = l.Truncated || ll.Truncated
	l.Via = ftpaudit.ViaMLSD + "+" + ll.Via
	if ftpaudit.ReplySaysTruncated(ll.Reply) && !ftpaudit.ReplySaysTruncated(l.Reply) {
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
	l.Warnings = append(l.Warnings, conflicts...)
	return l, nil
}

// ListOnly lists dir on the LIST connection alone, as a recursive
// listing would show it, where that listing is one a recursive listing's
// section would be trusted for: a STAT reply accepted whole (the
// directory's own "." in it, every line parsed, nothing after a faked
// end). Anything else (a refusal, an unreadable directory's empty
// listing, an unparsed line, a data listing) gets every listing the
// server has (List), as a directory without a trusted section does.
func (p *pairSession) ListOnly(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	l, err := p.list.List(ctx, dir)
	if err == nil && l.Via == ftpaudit.ViaStat && len(l.Bad) == 0 && !l.Truncated {
		return l, nil
	}
	if err != nil && (errors.Is(err, ftpaudit.ErrConnLost) || ctx.Err() != nil) {
		return nil, err
	}
	return p.List(ctx, dir)
}

// samePASVNote reports whether a and b are both PASV notes (which differ
// by port only on the two connections of a pairSession).
func samePASVNote(a, b string) bool {
	const p = "PASV reply named "
	return strings.HasPrefix(a, p) && strings.HasPrefix(b, p)
}
