package scanner

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
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
// section only when it proves itself (see treeSection.trusted and
// walker.recordTree) and lists every other directory on its own.

// ListTree lists dir recursively with LIST -aR over a data connection.
func (s *ftpSession) ListTree(ctx context.Context, dir string) (*ftpaudit.TreeListing, error) {
	if s.mlsd || s.noDashA || !plainPath(dir) {
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
		t.Sections, t.Lines = listing.ParseTree(r.text, time.Now())
	}
	t.Warnings = s.takeNotes(&ftpaudit.Listing{Warnings: r.warnings}).Warnings
	return t, nil
}

// ListTree on a pair lists with the LIST connection: recursion is a LIST
// option, and MLSD has none.
func (p *pairSession) ListTree(ctx context.Context, dir string) (*ftpaudit.TreeListing, error) {
	return p.list.ListTree(ctx, dir)
}

// serverCaps are entry counts at which servers are known to cut a
// recursive listing (pure-ftpd's -L default is 10000, its documentation's
// example 2000). Output that stops exactly there is taken as cut, even if
// the reply does not say so.
var serverCaps = []int{1000, 2000, 5000, 10000, 20000, 50000, 100000}

// treeCutReason says why a recursive listing cannot be trusted as a whole,
// or "" when it can.
func treeCutReason(t *ftpaudit.TreeListing) string {
	switch {
	case t.Truncated:
		return "the transfer was cut short after " + strconv.FormatInt(t.Bytes, 10) + " bytes"
	case containsAny(t.Reply, truncatedReplyWords):
		return "the server cut it short: " + oneLine(t.Reply)
	}
	for _, c := range serverCaps {
		if t.Lines == c || t.Lines == c+2 || matchesTotal(t.Reply, c) {
			return "it stopped at " + strconv.Itoa(c) + " entries, a known server cap"
		}
	}
	return ""
}

// matchesTotal reports whether a pure-ftpd style reply ("226 10000 matches
// total") gives exactly n.
func matchesTotal(reply string, n int) bool {
	return strings.Contains(reply, " "+strconv.Itoa(n)+" matches total")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
