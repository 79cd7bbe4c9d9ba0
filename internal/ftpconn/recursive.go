package ftpconn

import (
	"context"
	"fmt"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// Recursive listing (LIST -aR): one transfer for a whole subtree.
//
// proftpd and pure-ftpd answer "LIST -aR /dir" with dir's listing followed
// by one section per directory below it, each headed by the directory's
// path and a colon; vsftpd does the same when ls_recurse_enable=YES and
// otherwise ignores the R. What such output leaves out is silent: proftpd
// and vsftpd skip unreadable directories (an empty section, or none),
// pure-ftpd stops at its depth limit without a word and cuts the output at
// its entry limit with only a line in the 226 reply. So the walker trusts a
// section only when it proves itself (see the scanner's walker.listTree)
// and lists every other directory on its own.

// ListTree lists dir recursively with LIST -aR over a data connection.
func (s *ftpSession) ListTree(ctx context.Context, dir string) (*ftpaudit.TreeListing, error) {
	if s.mlsd || s.dialect.current() != formDashAPath || !ftppath.Plain(dir) {
		return nil, ftpaudit.ErrTreeUnsupported
	}
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	r, err := s.transfer(ctx, "list -R "+dir, "-aR "+pathArg(dir))
	if err != nil {
		return nil, err
	}
	// No data connection at all (a bare 226) still gives the first,
	// empty section: it proves nothing, so the directory is listed on its
	// own.
	t := &ftpaudit.TreeListing{Reply: r.reply, Bytes: r.bytes, Truncated: r.truncated, Sections: []ftpaudit.TreeSection{{}}}
	if r.text != nil {
		limit, _ := parseLimit(ctx)
		var cut bool
		t.Sections, t.Lines, cut = listing.ParseTreeLimit(r.text, time.Now(), limit)
		if cut {
			// Not used: the subtree is listed directory by directory.
			t.Truncated = true
			r.warnings = append(r.warnings, fmt.Sprintf("more than %d entries in one recursive listing: not used", limit))
		}
	}
	// Lines too long to be entries were left out of the text, so which
	// section held them is not known: filed under the first, whose
	// unparsed lines keep the whole listing from being used.
	t.Sections[0].Bad = append(t.Sections[0].Bad, r.long...)
	t.Warnings = s.takeNotes(&ftpaudit.Listing{Warnings: r.warnings}).Warnings
	return t, nil
}

// ListTree on a pair lists with the LIST connection: recursion is a LIST
// option, and MLSD has none.
func (p *pairSession) ListTree(ctx context.Context, dir string) (*ftpaudit.TreeListing, error) {
	return p.list.ListTree(ctx, dir)
}
