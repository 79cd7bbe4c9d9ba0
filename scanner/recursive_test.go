package scanner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// treeMem serves a memTree's directories recursively too, the way real
// servers write "LIST -aR": one section per directory, and the faults the
// walker must catch.
type treeMem struct {
	*memTree
	// header: "proftpd" (no header on the first section, "/x"),
	// "pureftpd" ("//x" below the root), "vsftpd" (first section headed).
	header string
	// capAt cuts the output after this many entry lines, with the
	// pure-ftpd reply; silentCap cuts it without a word.
	capAt, silentCap int
	// maxDepth stops sections this many levels below the listed
	// directory, silently (pure-ftpd's -L depth).
	maxDepth int
	// unreadable directories get an empty section (proftpd).
	unreadable map[string]bool
	// ignoreR lists only the directory itself (vsftpd by default).
	ignoreR bool
	// forge adds a second section for this path, listing a fake file.
	forge string
	// trees counts recursive listings per path.
	trees map[string]int
}

func (m *treeMem) connector() ftpaudit.Connector {
	inner := m.memTree.connector()
	return func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		s, info, err := inner(ctx)
		if err != nil {
			return nil, info, err
		}
		return &treeMemSession{memSession: s.(*memSession), t: m}, info, nil
	}
}

type treeMemSession struct {
	*memSession
	t *treeMem
}

func lsLine(e ftpaudit.Entry) string {
	mode := e.Mode
	if mode == "" {
		mode = "-rw-r--r--"
	}
	name := e.Name
	if e.Type == ftpaudit.TypeLink {
		name += " -> " + e.Target()
	}
	return fmt.Sprintf("%s    1 0        0     %10d Mar 04  2021 %s\r\n", mode, max(e.Size, 0), name)
}

func (s *treeMemSession) ListTree(ctx context.Context, dir string) (*ftpaudit.TreeListing, error) {
	m := s.t
	m.mu.Lock()
	if m.trees == nil {
		m.trees = map[string]int{}
	}
	m.trees[dir]++
	m.mu.Unlock()
	var b strings.Builder
	lines := 0
	cut := false
	header := func(p string) string {
		switch {
		case m.header == "pureftpd" && dir == "/":
			return "/" + p
		}
		return p
	}
	var walk func(p string, depth int, first bool)
	walk = func(p string, depth int, first bool) {
		if cut {
			return
		}
		if !first || m.header == "vsftpd" {
			if !first {
				b.WriteString("\r\n")
			}
			b.WriteString(header(p) + ":\r\n")
		}
		if m.unreadable[p] {
			return
		}
		es := m.dirs[p]
		b.WriteString(lsLine(ftpaudit.Entry{Name: ".", Type: ftpaudit.TypeDir, Mode: "drwxr-xr-x", Size: 4096}))
		b.WriteString(lsLine(ftpaudit.Entry{Name: "..", Type: ftpaudit.TypeDir, Mode: "drwxr-xr-x", Size: 4096}))
		for _, e := range es {
			if (m.capAt > 0 && lines == m.capAt) || (m.silentCap > 0 && lines == m.silentCap) {
				cut = true
				return
			}
			b.WriteString(lsLine(e))
			lines++
		}
		if p == m.forge {
			b.WriteString("\r\n" + header(p) + ":\r\n")
			b.WriteString(lsLine(ftpaudit.Entry{Name: ".", Type: ftpaudit.TypeDir, Mode: "drwxr-xr-x"}))
			b.WriteString(lsLine(ftpaudit.Entry{Name: "forged.txt", Type: ftpaudit.TypeFile, Size: 1}))
		}
		if m.ignoreR || (m.maxDepth > 0 && depth >= m.maxDepth) {
			return
		}
		for _, e := range es {
			if e.Type == ftpaudit.TypeDir {
				walk(ftppath.Join(p, e.Name), depth+1, false)
			}
		}
	}
	walk(dir, 0, true)
	reply := "226 Transfer complete"
	if cut && m.capAt > 0 {
		reply = fmt.Sprintf("226-Output truncated to %d matches\n226 %d matches total", m.capAt, m.capAt)
	}
	t := &ftpaudit.TreeListing{Reply: reply, Bytes: int64(b.Len())}
	t.Sections, t.Lines = listing.ParseTree([]string{b.String()}, time.Now())
	return t, nil
}

// bigMemTree is a tree with subtrees at several depths, a name with
// spaces and an unreadable directory.
func bigMemTree() *memTree {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":                         {d("a"), d("b"), d("c"), f("top.txt")},
		"/a":                        {d("a1"), d("a2"), f("x")},
		"/a/a1":                     {f("1"), f("2"), f("3")},
		"/a/a2":                     {d("deep")},
		"/a/a2/deep":                {d("deeper")},
		"/a/a2/deep/deeper":         {d("deepest"), f("d.txt")},
		"/a/a2/deep/deeper/deepest": {f("bottom")},
		"/b":                        {d("sp ace"), d("locked"), f("y")},
		"/b/sp ace":                 {f(" lead"), f("trail ")},
		"/b/locked":                 {f("secret")},
		"/c":                        {},
	}}
	return m
}

func inventory(r *ftpaudit.HostResult) []string {
	var out []string
	for _, e := range r.EntryList() {
		out = append(out, e.Path+" "+string(e.Type))
	}
	return out
}

func TestWalkTreeMatchesPerDirectory(t *testing.T) {
	perDir := walkMem(t, bigMemTree(), WalkOptions{Connections: 2, NoTree: true})
	if !perDir.Complete || perDir.Tree != nil {
		t.Fatalf("per-directory walk: complete %v, tree %+v", perDir.Complete, perDir.Tree)
	}
	want := inventory(perDir)
	cases := map[string]struct {
		tm    treeMem
		state string
		// check inspects the report and the counts of listings.
		check func(t *testing.T, r *ftpaudit.HostResult, tm *treeMem)
	}{
		"proftpd headers": {tm: treeMem{header: "proftpd"}, state: "used", check: func(t *testing.T, r *ftpaudit.HostResult, tm *treeMem) {
			if r.Tree.Covered < 9 {
				t.Errorf("covered %d directories, want the 9 below the start", r.Tree.Covered)
			}
			if n := tm.listings["/a/a1"]; n != 0 {
				t.Errorf("/a/a1 listed on its own %d times, want 0 (covered)", n)
			}
		}},
		"pure-ftpd headers": {tm: treeMem{header: "pureftpd"}, state: "used"},
		"vsftpd headers":    {tm: treeMem{header: "vsftpd"}, state: "used"},
		"server ignores R": {tm: treeMem{header: "proftpd", ignoreR: true}, state: "unsupported", check: func(t *testing.T, r *ftpaudit.HostResult, tm *treeMem) {
			if r.Tree.Covered != 0 {
				t.Errorf("covered %d with a server that ignores R", r.Tree.Covered)
			}
		}},
		"unreadable directory's empty section": {tm: treeMem{header: "proftpd", unreadable: map[string]bool{"/b/locked": true}}, state: "used", check: func(t *testing.T, r *ftpaudit.HostResult, tm *treeMem) {
			if tm.listings["/b/locked"] != 1 {
				t.Errorf("/b/locked listed on its own %d times, want 1", tm.listings["/b/locked"])
			}
		}},
		"silent depth limit": {tm: treeMem{header: "pureftpd", maxDepth: 1}, state: "used", check: func(t *testing.T, r *ftpaudit.HostResult, tm *treeMem) {
			relisted := 0
			for _, s := range r.Tree.Subtrees {
				relisted += s.Relisted
			}
			if relisted == 0 {
				t.Errorf("nothing relisted below the depth limit: %+v", r.Tree.Subtrees)
			}
		}},
		"truncated with a reply": {tm: treeMem{header: "pureftpd", capAt: 3}, state: "used", check: func(t *testing.T, r *ftpaudit.HostResult, tm *treeMem) {
			if !slices.ContainsFunc(r.Tree.Subtrees, func(s ftpaudit.TreeSubtree) bool {
				return s.Via == "per-directory" && strings.Contains(s.Reason, "cut it short")
			}) {
				t.Errorf("truncation not reported: %+v", r.Tree.Subtrees)
			}
		}},
		"forged duplicate section": {tm: treeMem{header: "proftpd", forge: "/a/a1"}, state: "used", check: func(t *testing.T, r *ftpaudit.HostResult, tm *treeMem) {
			if tm.listings["/a/a1"] != 1 {
				t.Errorf("/a/a1, sectioned twice, listed on its own %d times, want 1", tm.listings["/a/a1"])
			}
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tm := c.tm
			tm.memTree = bigMemTree()
			for _, conns := range []int{1, 3} {
				tm.memTree.listings, tm.trees = nil, nil
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				r := Walk(ctx, ftpaudit.Target{URL: "ftp://mem", Start: "/"}, tm.connector(), WalkOptions{Connections: conns, Backoff: time.Millisecond})
				cancel()
				if !r.Complete {
					t.Fatalf("connections=%d: incomplete: %v %+v", conns, r.Incomplete, r.Errors)
				}
				if got := inventory(r); !slices.Equal(got, want) {
					t.Errorf("connections=%d: inventory differs from the per-directory walk:\n got %q\nwant %q", conns, got, want)
				}
				if r.Tree == nil || r.Tree.State != c.state {
					t.Fatalf("connections=%d: tree report %+v, want state %s", conns, r.Tree, c.state)
				}
				if len(r.Unreadable) != len(perDir.Unreadable) {
					t.Errorf("connections=%d: unreadable %+v, want %+v", conns, r.Unreadable, perDir.Unreadable)
				}
				if c.check != nil {
					c.check(t, r, &tm)
				}
			}
		})
	}
}

func TestWalkTreeSilentCapFallsBack(t *testing.T) {
	// Output that stops at exactly a known server cap is not trusted,
	// even without a word in the reply.
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("big")}, "/big": nil}}
	for i := range 2000 {
		m.dirs["/big"] = append(m.dirs["/big"], f(fmt.Sprintf("f%04d", i)))
	}
	m.dirs["/big"] = append(m.dirs["/big"], d("sub"))
	m.dirs["/big/sub"] = []ftpaudit.Entry{f("last")}
	tm := &treeMem{memTree: m, header: "proftpd", silentCap: 2000}
	r := Walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, tm.connector(), WalkOptions{Connections: 1})
	if !r.Complete || r.NumEntries() != 2003 {
		t.Fatalf("complete %v, %d entries, want 2003", r.Complete, r.NumEntries())
	}
	if r.Tree == nil || !slices.ContainsFunc(r.Tree.Subtrees, func(s ftpaudit.TreeSubtree) bool {
		return s.Path == "/big" && s.Via == "per-directory" && strings.Contains(s.Reason, "known server cap")
	}) {
		t.Errorf("cap not noticed: %+v", r.Tree)
	}
}

// nothingTree answers every recursive listing with nothing at all (no
// data connection, a bare 226).
type nothingTree struct{ *memSession }

func (nothingTree) ListTree(context.Context, string) (*ftpaudit.TreeListing, error) {
	return &ftpaudit.TreeListing{Reply: "226 Transfer complete"}, nil
}

func TestWalkTreeNothingSent(t *testing.T) {
	m := bigMemTree()
	want := inventory(walkMem(t, bigMemTree(), WalkOptions{Connections: 2, NoTree: true}))
	inner := m.connector()
	r := Walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		s, info, err := inner(ctx)
		if err != nil {
			return nil, info, err
		}
		return nothingTree{s.(*memSession)}, info, nil
	}, WalkOptions{Connections: 2})
	if got := inventory(r); !r.Complete || !slices.Equal(got, want) {
		t.Errorf("complete %v, inventory %q, want %q", r.Complete, got, want)
	}
}

// onlySession is a treeMemSession that can list with LIST alone
// (ftpaudit.ListOnlyLister), and counts the directories it so listed.
type onlySession struct {
	*treeMemSession
	mu   *sync.Mutex
	only map[string]int
}

func (s onlySession) ListOnly(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	s.mu.Lock()
	s.only[dir]++
	s.mu.Unlock()
	return s.List(ctx, dir)
}

// TestWalkListLikeTree: a directory in the recursively listed part of
// the tree that is listed on its own because its path is not plain is
// listed with LIST alone, as the recursive listing would have shown it;
// a plain one, the start, and every directory of a host without
// recursive listing, with List.
func TestWalkListLikeTree(t *testing.T) {
	for _, c := range []struct {
		name     string
		tm       treeMem
		wantOnly []string
	}{
		{"recursive listing used", treeMem{header: "proftpd"}, []string{"/x y", "/x y/in"}},
		{"server ignores R", treeMem{header: "proftpd", ignoreR: true}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			tree := func() *memTree {
				m := bigMemTree()
				m.dirs["/"] = append([]ftpaudit.Entry{d("x y")}, m.dirs["/"]...) // listed last, once the host's verdict is in
				m.dirs["/x y"] = []ftpaudit.Entry{d("in"), f("f")}
				m.dirs["/x y/in"] = []ftpaudit.Entry{f("g")}
				return m
			}
			tm := c.tm
			tm.memTree = tree()
			var mu sync.Mutex
			only := map[string]int{}
			inner := tm.connector()
			connect := func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
				s, info, err := inner(ctx)
				if err != nil {
					return nil, info, err
				}
				return onlySession{treeMemSession: s.(*treeMemSession), mu: &mu, only: only}, info, nil
			}
			r := Walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, connect, WalkOptions{Connections: 1, Backoff: time.Millisecond})
			if !r.Complete {
				t.Fatalf("incomplete: %v", r.Incomplete)
			}
			var got []string
			for dir := range only {
				got = append(got, dir)
			}
			slices.Sort(got)
			if !slices.Equal(got, c.wantOnly) {
				t.Errorf("listed with LIST alone: %q, want %q (tree %+v)", got, c.wantOnly, r.Tree)
			}
			if got := inventory(r); !slices.Equal(got, inventory(walkMem(t, tree(), WalkOptions{Connections: 1, NoTree: true}))) || len(got) < 20 {
				t.Errorf("inventory %q", got)
			}
		})
	}
}
