package ftpconn

// One listing transfer, from the command to parsed entries, and how
// errors are classified for the walker.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"syscall"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

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
		limit, ours := parseLimit(ctx)
		var cut bool
		var sum listing.Summary
		l.Entries, l.Bad, cut, sum = listing.ParseChunksSummary(r.text, mlsd, time.Now(), limit)
		if cut && ours {
			// No walker said how many it keeps: the cut must show.
			l.Truncated = true
			l.Warnings = append(l.Warnings, fmt.Sprintf("more than %d entries listed: only the first %d parsed", limit, limit+1))
		}
		if !mlsd {
			if err := dataError(l, sum, strings.HasPrefix(cmdArg, "-a")); err != nil {
				return nil, fmt.Errorf("list %s: %w", dir, err)
			}
		}
	}
	l.Bad = append(l.Bad, r.long...)
	if !mlsd && len(l.Entries) > 0 {
		l.Format = dominantFormat(l.Entries)
	}
	return s.takeNotes(l), nil
}

// dataError returns the error a LIST listing's data holds in place of
// entries (ftpaudit.DataError): error lines alone ("bin: Permission
// denied", as inetutils and netkit ftpd send them with a 226), or, for a
// listing asked for with -a, "total 0" alone, without even the
// directory's own "." that ls -a always shows. Error lines among entries
// stay unparsed lines (the listing is incomplete). Without -a, "total 0"
// alone is also what an empty directory gives: it stands, with a warning.
func dataError(l *ftpaudit.Listing, sum listing.Summary, dashA bool) error {
	switch {
	case sum.ErrorOnly():
		return &ftpaudit.DataError{Reply: l.Reply, Text: sum.ErrorText()}
	case sum.TotalOnly() && dashA:
		return &ftpaudit.DataError{Reply: l.Reply, Text: `"total" alone, without the "." entry that "ls -a" shows for a directory it read`}
	case sum.TotalOnly():
		l.Warnings = append(l.Warnings, `the listing is "total" alone: an empty directory, or one the server could not read (listed without -a, which would show ".")`)
	}
	return nil
}

// DefaultParseLimit is the most entries (plus one) a listing's parser
// keeps when the context names no limit (ftpaudit.WithListLimit): the
// walker's default --max-dir-entries.
const DefaultParseLimit = 2_000_000

// parseLimit is the entry limit for a listing parsed under ctx, and
// whether it is DefaultParseLimit, not one the caller gave.
func parseLimit(ctx context.Context) (limit int, ours bool) {
	if n := ftpaudit.ListLimit(ctx); n > 0 {
		return n, false
	}
	return DefaultParseLimit, true
}

// rawTransfer is what a listing command brought back, unparsed.
type rawTransfer struct {
	text      []string           // the data, in line-aligned chunks; nil when no data connection was made
	long      []ftpaudit.BadLine // lines too long to be entries, left out of text (see listBuf)
	bytes     int64
	truncated bool
	reply     string // the final reply
	warnings  []string
}

// transfer runs one listing command (LIST or MLSD with cmdArg) and takes
// its raw bytes off the data connection.
func (s *ftpSession) transfer(ctx context.Context, op, cmdArg string) (rawTransfer, error) {
	s.replies.reset()
	if err := s.clearRest(); err != nil {
		return rawTransfer{}, s.classify(ctx, op, err)
	}
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
	r.long = data.buf.takeLong()
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
	var place *placeError
	if errors.As(err, &place) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var be *BoundError
	if errors.As(err, &be) || s.replies.bounds != nil && errors.As(s.replies.bounds.failed(), &be) {
		// A reply that reached a bound may fail jlaffaye's read only
		// after the replies it had already buffered: whatever error
		// that gives, the bound is the reason.
		return fmt.Errorf("%s: %w: %w", op, ftpaudit.ErrConnLost, be)
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
	if errors.Is(err, syscall.ECONNREFUSED) {
		// Nothing listens there, or a firewall says no: a definite
		// answer, not a connection that was lost.
		return fmt.Errorf("%s: connection refused by %s", op, s.t.Addr())
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
