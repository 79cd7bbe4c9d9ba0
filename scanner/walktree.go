package scanner

import (
	"context"
	"errors"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// Recursive listing states of a host.
const (
	treeUnknown = iota
	treeYes
	treeNo
)

// treeGate is a host's recursive-listing verdict; guarded by walker.mu.
type treeGate struct {
	state int
}

// wantTree decides whether j is listed recursively. The split is a
// function of the tree alone, so that two scans of the same archive with
// the same flags list each directory the same way (a directory listed
// recursively is seen through LIST only, one listed on its own through
// MLSD too where the server has it; a baseline comparison must not see
// that as a change): subtrees are listed recursively from treeDepth down
// (1 when the start directory has a subdirectory for every connection,
// else 2), and so is every directory below that depth that was not
// covered by one. Until the host's answer is known every session may try:
// a server that ignores the R sends exactly LIST -a, which is used as the
// directory's listing, and one that refuses it costs a round trip per
// session, once.
func (w *walker) wantTree(j dirJob) bool {
	if w.opt.NoTree || j.noTree || j.depth == 0 || !ftppath.Plain(j.path) {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if j.depth < w.treeDepth {
		return false
	}
	return w.tree.state != treeNo
}

// listLikeTree reports whether j, in the part of the tree that is listed
// recursively but not itself listed so because its path is not plain (a
// space, a glob character: see ftppath.Plain), is listed with LIST alone
// (ftpaudit.ListOnlyLister), as a recursive listing would have shown it,
// not with MLSD beside it: every directory from treeDepth down is then
// seen through LIST alone, however it was listed, unless a recursive
// listing that covered it was not trusted (noTree: then it gets every
// listing the server has). Only once recursive listing is known to work
// on the host: before, a directory gets every listing.
func (w *walker) listLikeTree(j dirJob) bool {
	if w.opt.NoTree || j.noTree || j.depth == 0 || ftppath.Plain(j.path) {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return j.depth >= w.treeDepth && w.tree.state == treeYes
}

// setTreeDepth picks the depth of the recursive listings from the start
// directory's listing.
func (w *walker) setTreeDepth(kept []ftpaudit.Entry) {
	dirs := 0
	for i := range kept {
		if kept[i].Type == ftpaudit.TypeDir {
			dirs++
		}
	}
	// A subtree per connection at least; with fewer, split one level
	// lower. (Splitting finer than that measured slower: every recursive
	// listing costs a data connection and a server-side walk start.)
	w.treeDepth = 2
	if dirs >= w.opt.Connections {
		w.treeDepth = 1
	}
}

// settleTree records the host's verdict, once.
func (w *walker) settleTree(state int, note string) {
	if w.tree.state != treeUnknown || state == treeUnknown {
		return
	}
	w.tree.state = state
	r := w.treeReport()
	r.State = map[int]string{treeYes: "used", treeNo: "unsupported"}[state]
	r.Note = note
}

func (w *walker) treeReport() *ftpaudit.TreeReport {
	if w.res.Tree == nil {
		w.res.Tree = &ftpaudit.TreeReport{State: "untested"}
	}
	return w.res.Tree
}

// listTree lists j's subtree with one recursive listing and files what it
// can trust. done is false when j must still be listed on its own.
func (w *walker) listTree(ctx context.Context, tl ftpaudit.TreeLister, j dirJob) (done bool, err error) {
	t, err := tl.ListTree(ctx, j.path)
	if err != nil {
		w.treeFailed(j, err)
		return false, err
	}
	if len(t.Sections) == 0 {
		t.Sections = []ftpaudit.TreeSection{{}} // (a session that gave nothing)
	}
	if !w.treeUsable(j, t) {
		return false, nil
	}
	if len(t.Sections) == 1 {
		// The directory's own listing either way (a server that ignores
		// the R, or a directory without subdirectories).
		root := &t.Sections[0]
		w.record(ctx, j, &ftpaudit.Listing{Entries: root.Entries, Format: ftpaudit.FormatUnix, Reply: t.Reply, Bytes: t.Bytes, Warnings: t.Warnings, Via: ftpaudit.ViaList}, nil, nil)
		return true, nil
	}
	w.recordSections(ctx, j, t)
	return true, nil
}

// treeFailed files a recursive listing of j's subtree that failed: a
// session or server that cannot list recursively settles the host's
// verdict; any other failure is noted for this subtree.
func (w *walker) treeFailed(j dirJob, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var re *ftpaudit.ReplyError
	switch {
	case errors.Is(err, ftpaudit.ErrTreeUnsupported):
		w.settleTree(treeNo, "the session cannot send LIST -aR")
	case errors.As(err, &re) && !errors.Is(err, ftpaudit.ErrConnLost) && (re.Code == 500 || re.Code == 501 || re.Code == 502 || re.Code == 504):
		w.settleTree(treeNo, "LIST -aR "+j.path+" refused: "+re.Error())
	default:
		w.treeReport().Subtrees = append(w.treeReport().Subtrees, ftpaudit.TreeSubtree{Path: j.path, Via: "per-directory", Reason: "recursive listing failed: " + err.Error()})
	}
}

// treeUsable settles the host's verdict from a recursive listing of j's
// subtree (several sections: the server lists recursively; one, although
// there are readable subdirectories: it ignores the R), and reports
// whether the listing can be used: whole, and opening with j's own
// listing.
func (w *walker) treeUsable(j dirJob, t *ftpaudit.TreeListing) bool {
	root := &t.Sections[0]
	multi := len(t.Sections) > 1
	reason := ftpaudit.TreeCutReason(t)
	if reason == "" && (!root.Dot || len(root.Bad) > 0 || (root.Header != "" && listing.TreeHeaderPath(root.Header) != j.path)) {
		reason = "its first section is not this directory's own listing"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case multi:
		w.settleTree(treeYes, "LIST -aR "+j.path+" gave one section per directory")
	case reason == "" && w.hasReadableDir(root.Entries):
		// No section below the first although there are readable
		// subdirectories: the server ignored the R, and its output is
		// exactly LIST -a.
		w.settleTree(treeNo, "LIST -aR "+j.path+" listed no subdirectory although it has readable ones: the server ignores -R")
	}
	if reason != "" {
		// (A lone section without "." is how an unreadable directory
		// answers; listed on its own, it is reported as unreadable.)
		if multi || root.Dot {
			w.treeReport().Subtrees = append(w.treeReport().Subtrees, ftpaudit.TreeSubtree{Path: j.path, Via: "per-directory", Reason: "recursive listing not used: " + reason})
		}
		return false
	}
	return true
}

// dupSection marks, in a section index, a path that no section serves:
// one named by two sections, or one already used.
const dupSection = -1

// sectionIndex indexes the sections below the first by the path they
// name. A path named twice is trusted in neither.
func sectionIndex(t *ftpaudit.TreeListing) map[string]int {
	idx := make(map[string]int, len(t.Sections))
	for i := 1; i < len(t.Sections); i++ {
		p := listing.TreeHeaderPath(t.Sections[i].Header)
		if _, ok := idx[p]; ok {
			idx[p] = dupSection
			continue
		}
		idx[p] = i
	}
	return idx
}

// recordSections files j's subtree from a recursive listing of several
// sections: each directory reached from j whose section proves itself is
// recorded from it, every other one is queued to be listed on its own.
func (w *walker) recordSections(ctx context.Context, j dirJob, t *ftpaudit.TreeListing) {
	root := &t.Sections[0]
	idx := sectionIndex(t)
	type pend struct {
		j   dirJob
		sec *ftpaudit.TreeSection
	}
	stack := []pend{{j, root}}
	used, relisted := 0, 0
	take := func(c *dirJob) bool {
		i, ok := idx[c.path]
		if ok && i != dupSection {
			sec := &t.Sections[i]
			idx[c.path] = dupSection // a section serves one directory only
			if sec.Dot && len(sec.Bad) == 0 {
				stack = append(stack, pend{*c, sec})
				return true
			}
		}
		// No section, or one that proves nothing (an unreadable
		// directory's empty section, lines that did not parse): this
		// directory is listed on its own.
		c.noTree = true
		relisted++
		return false
	}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		l := &ftpaudit.Listing{Entries: p.sec.Entries, Format: ftpaudit.FormatUnix, Reply: t.Reply, Via: ftpaudit.ViaListR}
		if p.sec == root {
			l.Bytes, l.Warnings = t.Bytes, t.Warnings
		}
		w.mu.Lock()
		if w.done || ctx.Err() != nil {
			// The walk is over (a bound, or cancellation): what is left
			// is reported as never listed, like any queued directory.
			w.queue = append(w.queue, p.j)
			w.mu.Unlock()
			continue
		}
		w.mu.Unlock()
		w.record(ctx, p.j, l, nil, take)
		used++
	}
	ignored := 0
	for _, i := range idx {
		if i != dupSection {
			ignored++
		}
	}
	w.mu.Lock()
	r := w.treeReport()
	r.Covered += used
	r.Subtrees = append(r.Subtrees, ftpaudit.TreeSubtree{Path: j.path, Via: "recursive", Dirs: used, Relisted: relisted, Ignored: ignored})
	w.mu.Unlock()
}

// hasReadableDir reports whether es holds a subdirectory whose listed
// attributes let anonymous users read it.
func (w *walker) hasReadableDir(es []ftpaudit.Entry) bool {
	for i := range es {
		e := &es[i]
		if e.Type == ftpaudit.TypeDir && e.Name != "." && e.Name != ".." && anonCanList(e, w.opt.AnonymousOwner, w.opt.AnonymousGroup) {
			return true
		}
	}
	return false
}
