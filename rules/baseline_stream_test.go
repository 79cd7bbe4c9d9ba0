package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// The judge keeps only the directories a removal still to come can lie
// below (Tap), not every directory of the current scan. Names that sort
// between a directory and its children ("a b", "a.c", "a-" between "a"
// and "a/") interleave siblings with subtrees; on random trees of such
// names, with subtrees removed, directories turned into files and
// directories made unreadable, it judges every removal as a judge that
// kept every directory would, and holds no more than a path's length of
// them.
func TestBaselineJudgeBoundedDirs(t *testing.T) {
	names := []string{"a", "a b", "a.c", "a-", "ab", "a0", "b", "!x", "a\x01"}
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 16))
		old := randomTree(rng, names)
		cur, unreadable, errs := mutateTree(rng, old)
		h := withUnreadable(hostOf(cur...), unreadable...)
		for _, p := range errs {
			h.Errors = append(h.Errors, ftpaudit.PathError{Path: p, Error: "line 3 not understood"})
		}
		seq := SeqOf(h.Entries)
		if seed%2 == 1 {
			// Every other seed, the entries from a Source (HostSeq).
			h = viaSource(h)
			seq = HostSeq(h)
		}
		j := NewBaselineJudge(h, Baseline{ScanID: 1, Started: time.Unix(0, 0)}, nil)
		maxDirs := 0
		err := DiffEntries(SeqOf(old), j.Tap(seq), func(c Change) error {
			j.Add(c)
			maxDirs = max(maxDirs, len(j.dirs))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		found, rep := j.Finish()
		var removed []string
		for _, f := range found {
			if f.Rule == ftpaudit.RuleRemovedSinceBaseline {
				removed = append(removed, f.Path)
			}
		}
		slices.Sort(removed)
		wantRemoved, wantNotCompared := referenceRemovals(old, h)
		if !slices.Equal(removed, wantRemoved) || rep.NotCompared != wantNotCompared {
			t.Fatalf("seed %d: removed %q, not compared %d; want removed %q, not compared %d\nold %q\ncur %q\nunreadable %q",
				seed, removed, rep.NotCompared, wantRemoved, wantNotCompared, paths(old), paths(h.EntryList()), unreadable)
		}
		if maxDirs > 2+4*len(names[1]) {
			t.Errorf("seed %d: the judge held %d directories", seed, maxDirs)
		}
	}
}

// randomTree is a tree of up to three levels of names, each a directory
// or a file, sorted.
func randomTree(rng *rand.Rand, names []string) []ftpaudit.Entry {
	var es []ftpaudit.Entry
	var grow func(dir string, depth int)
	grow = func(dir string, depth int) {
		for _, n := range names {
			if rng.IntN(3) == 0 {
				continue
			}
			p := ftppath.Join(dir, n)
			if depth < 3 && rng.IntN(2) == 0 {
				es = append(es, dirE(p, "drwxr-xr-x", "root"))
				grow(p, depth+1)
			} else {
				es = append(es, fileE(p, "-rw-r--r--", "root", 1))
			}
		}
	}
	grow("/", 1)
	slices.SortFunc(es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return es
}

// mutateTree returns old with subtrees removed, directories turned into
// files (their subtrees gone) and directories made unreadable (their
// subtrees unseen), and the unreadable directories; and directories
// listed with an error (a line that did not parse: listed, but not
// entirely seen).
func mutateTree(rng *rand.Rand, old []ftpaudit.Entry) (cur []ftpaudit.Entry, unreadable, errs []string) {
	gone := map[string]bool{} // subtrees left out
	for _, e := range old {
		if e.Type != ftpaudit.TypeDir {
			if rng.IntN(8) == 0 {
				gone[e.Path] = true
			}
			continue
		}
		switch rng.IntN(8) {
		case 0:
			gone[e.Path] = true
		case 1:
			unreadable = append(unreadable, e.Path)
		case 2:
			errs = append(errs, e.Path)
		}
	}
	below := func(p string, set map[string]bool) bool {
		for q := ftppath.Parent(p); q != "/" && q != ""; q = ftppath.Parent(q) {
			if set[q] {
				return true
			}
		}
		return false
	}
	unseen := map[string]bool{}
	for _, u := range unreadable {
		unseen[u] = true
	}
	for _, e := range old {
		switch {
		case gone[e.Path] || below(e.Path, gone) || below(e.Path, unseen):
			continue
		case e.Type == ftpaudit.TypeDir && rng.IntN(10) == 0:
			// Now a file: everything below it is gone.
			gone[e.Path] = true
			e = fileE(e.Path, "-rw-r--r--", "root", 2)
		}
		cur = append(cur, e)
	}
	return cur, unreadable, errs
}

// referenceRemovals judges every entry of old missing from h as the
// judge did when it kept every directory of the scan: the entries
// reported removed, and the number not compared.
func referenceRemovals(old []ftpaudit.Entry, h *ftpaudit.HostResult) (removed []string, notCompared int) {
	dirs := map[string]bool{h.Target.Start: true}
	present := map[string]bool{}
	for _, e := range h.EntryList() {
		present[e.Path] = true
		if e.Type == ftpaudit.TypeDir {
			dirs[e.Path] = true
		}
	}
	blind := map[string]bool{}
	for _, u := range append(h.Unreadable, h.Errors...) {
		blind[u.Path] = true
	}
	for _, e := range old {
		if present[e.Path] {
			continue
		}
		unseen := false
		for q := ftppath.Parent(e.Path); ; q = ftppath.Parent(q) {
			if blind[q] {
				unseen = true
				break
			}
			if !dirs[q] && q != "/" && q != "" {
				continue
			}
			break
		}
		if unseen {
			notCompared++
		} else {
			removed = append(removed, e.Path)
		}
	}
	return removed, notCompared
}

func paths(es []ftpaudit.Entry) []string {
	var out []string
	for _, e := range es {
		s := e.Path
		if e.Type == ftpaudit.TypeDir {
			s += "/"
		}
		out = append(out, fmt.Sprintf("%q", s))
	}
	return out
}
