package scanner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// awkwardNames are names whose byte order is not their order as text, or
// that fall between a directory's path and the paths below it: bytes
// below '/' (space, '!', '-', '.', NUL), UTF-8 and Latin-1 bytes, upper
// case, prefixes of one another; and names holding '/' (which a hostile
// server can list, and whose paths collide with those of other listings).
var awkwardNames = []string{
	"a", "a-b", "a.b", "a b", "a!", "a\x00", "a0", "aa", "a~", "A", "B", "b",
	"é", "e", "z", "\x7f", "\xff", "\xe9t\xe9", "été", "日本", "a/b", "a/", "/a", "-", ".x", " ", "0",
}

// randomListings builds a random tree of listings from start, as the walk
// records them: each listing's entries with Path set from its directory,
// in random order (shuffled, so that arrival order is not tree order). A
// directory entry has a listing of its own with probability pDir. Each
// entry's Size is unique, so that the order of equal paths shows. With
// slash, names may hold '/', and then paths can collide across listings;
// with unsorted, some listings are not in name order; with dupDirs, a
// directory may be listed twice.
func randomListings(r *rand.Rand, start string, slash, unsorted, dupDirs bool) ([]keptList, int) {
	var ls []keptList
	seq := int64(0)
	var build func(dir string, depth int)
	build = func(dir string, depth int) {
		n := r.IntN(12)
		if depth == 0 {
			n = 3 + r.IntN(12)
		}
		names := map[string]bool{}
		var es []ftpaudit.Entry
		var subdirs []string
		for range n {
			var name string
			switch r.IntN(3) {
			case 0:
				name = awkwardNames[r.IntN(len(awkwardNames))]
			case 1:
				name = awkwardNames[r.IntN(len(awkwardNames))] + awkwardNames[r.IntN(len(awkwardNames))]
			default:
				name = fmt.Sprintf("n%d", r.IntN(30))
			}
			if !slash && strings.Contains(name, "/") {
				continue
			}
			if names[name] {
				continue // one entry per name in a listing (prepare)
			}
			names[name] = true
			seq++
			e := ftpaudit.Entry{Name: name, Type: ftpaudit.TypeFile, Size: seq}
			e.Path = string(ftppath.Append(nil, dir, name))
			if r.IntN(3) == 0 {
				e.Type = ftpaudit.TypeDir
				subdirs = append(subdirs, e.Path)
			}
			es = append(es, e)
		}
		sorted := !unsorted || r.IntN(3) > 0
		if sorted {
			slices.SortFunc(es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Name, b.Name) })
		} else {
			r.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
			sorted = slices.IsSortedFunc(es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Name, b.Name) })
		}
		hasSlash := slices.ContainsFunc(es, func(e ftpaudit.Entry) bool { return strings.Contains(e.Name, "/") })
		if len(es) > 0 {
			ls = append(ls, keptList{dir: dir, es: es, sorted: sorted, slash: hasSlash})
		}
		for _, s := range subdirs {
			if depth < 4 && r.IntN(4) > 0 {
				build(s, depth+1)
				if dupDirs && r.IntN(20) == 0 {
					build(s, depth+1)
				}
			}
		}
	}
	build(start, 0)
	r.Shuffle(len(ls), func(i, j int) { ls[i], ls[j] = ls[j], ls[i] })
	n := 0
	for i := range ls {
		n += len(ls[i].es)
		// Each listing its own array, exactly as long as its entries
		// (not the gathering case unless a test asks for it).
		ls[i].es = slices.Clip(ls[i].es)
	}
	return ls, n
}

// wantOrder is the reference: a stable sort by path of the listings'
// entries concatenated in the listings' order.
func wantOrder(ls []keptList) []ftpaudit.Entry {
	var all []ftpaudit.Entry
	for _, l := range ls {
		all = append(all, l.es...)
	}
	slices.SortStableFunc(all, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return all
}

func cloneListings(ls []keptList) []keptList {
	out := slices.Clone(ls)
	for i := range out {
		out[i].es = slices.Clip(slices.Clone(out[i].es))
	}
	return out
}

func sameOrder(t *testing.T, what string, got, want []ftpaudit.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].Path != want[i].Path || got[i].Size != want[i].Size {
			lo, hi := max(i-3, 0), min(i+4, len(got))
			show := func(es []ftpaudit.Entry) string {
				var b strings.Builder
				for _, e := range es[lo:hi] {
					fmt.Fprintf(&b, "\n\t%q #%d", e.Path, e.Size)
				}
				return b.String()
			}
			t.Fatalf("%s: entry %d is %q #%d, want %q #%d\ngot:%s\nwant:%s", what, i, got[i].Path, got[i].Size, want[i].Path, want[i].Size, show(got), show(want))
		}
	}
}

// TestOrderEntriesRandom compares the walk's ordering of entries (the
// tree layout, the k-way merge, and orderEntries, which picks) with a
// stable sort by path, on random trees of awkward names: byte order
// against UTF-8, names that fall between a directory and its contents,
// names holding '/' whose paths collide with other listings', listings
// out of name order, directories listed twice.
func TestOrderEntriesRandom(t *testing.T) {
	treeUsed := 0
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 17))
		start := []string{"/", "/pub", "/a b/é", "/pub/"}[seed%4]
		slash, unsorted, dupDirs := seed%5 == 1, seed%3 == 2, seed%7 == 3
		ls, n := randomListings(r, start, slash, unsorted, dupDirs)
		want := wantOrder(ls)
		what := fmt.Sprintf("seed %d (start %q slash %v unsorted %v dupDirs %v, %d listings)", seed, start, slash, unsorted, dupDirs, len(ls))

		// The merge alone (it wants sorted listings).
		m := cloneListings(ls)
		for i := range m {
			if !m[i].sorted {
				sortByName(m[i].es)
			}
		}
		sameOrder(t, what+": mergeListings", mergeListings(m, n), want)

		// The tree layout, where it applies; it must apply to every plain
		// tree (no '/' in names, each directory listed once).
		tr := cloneListings(m)
		got, ok := treeOrder(start, tr, n)
		if ok {
			treeUsed++
			sameOrder(t, what+": treeOrder", got, want)
		} else if !slash && !dupDirs && len(ls) > 0 {
			t.Fatalf("%s: treeOrder gave up on a plain tree", what)
		}

		// What the walk calls.
		sameOrder(t, what+": orderEntries", orderEntries(start, cloneListings(ls), n), want)

		// The gathering case: the largest listing's array has room for
		// all.
		if len(ls) > 1 {
			g := cloneListings(ls)
			big := 0
			for i := range g {
				if len(g[i].es) > len(g[big].es) {
					big = i
				}
			}
			g[big].es = append(make([]ftpaudit.Entry, 0, n), g[big].es...)
			sameOrder(t, what+": gathered", orderEntries(start, g, n), want)
		}
	}
	if treeUsed < 1000 {
		t.Errorf("the tree layout applied to only %d of 3000 trees", treeUsed)
	}
}

// TestOrderEntriesEmpty: a walk that kept nothing has an empty, not a
// nil, inventory (as the sort before gave).
func TestOrderEntriesEmpty(t *testing.T) {
	if es := orderEntries("/", nil, 0); es == nil || len(es) != 0 {
		t.Errorf("orderEntries of nothing: %#v", es)
	}
}

// TestOrderEntriesCollisions: names holding '/' make paths of one listing
// equal to, or fall among, another's; equal paths keep the order of the
// listings.
func TestOrderEntriesCollisions(t *testing.T) {
	mk := func(dir string, size int64, names ...string) keptList {
		l := keptList{dir: dir, sorted: true}
		for i, n := range names {
			l.es = append(l.es, ftpaudit.Entry{Name: n, Path: string(ftppath.Append(nil, dir, n)), Type: ftpaudit.TypeDir, Size: size + int64(i)})
			l.slash = l.slash || strings.Contains(n, "/")
		}
		return l
	}
	ls := []keptList{
		mk("/a", 10, "b", "c"),
		mk("/", 20, "a", "a-1", "a/b", "a/b0"),
		mk("/a/b", 30, "x"),
		mk("/", 40, "a/b"), // the same path a third time
	}
	n := 0
	for _, l := range ls {
		n += len(l.es)
	}
	want := wantOrder(ls)
	got := orderEntries("/", cloneListings(ls), n)
	sameOrder(t, "collisions", got, want)
	var paths []string
	for _, e := range got {
		paths = append(paths, fmt.Sprintf("%s#%d", e.Path, e.Size))
	}
	if s := strings.Join(paths, " "); s != "/a#20 /a-1#21 /a/b#10 /a/b#22 /a/b#40 /a/b/x#30 /a/b0#23 /a/c#11" {
		t.Errorf("order %s", s)
	}

	// Gathered into the largest listing's array, which is not the
	// first: the first listing's entry still comes first.
	ls = []keptList{mk("/", 1, "a/c"), mk("/a", 2, "b", "c")}
	ls[1].es = append(make([]ftpaudit.Entry, 0, 8), ls[1].es...)
	want = wantOrder(ls)
	g := orderEntries("/", ls, 3)
	sameOrder(t, "gathered collisions", g, want)
	if g[1].Path != "/a/c" || g[1].Size != 1 {
		t.Errorf("gathered: %+v", g)
	}
}

// TestWalkEntriesOrder walks a tree of awkward names through the walker
// and checks Entries against a stable sort by path of what was listed.
func TestWalkEntriesOrder(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{}}
	var all []string
	var add func(dir string, depth int)
	add = func(dir string, depth int) {
		for _, n := range awkwardNames {
			if strings.Contains(n, "/") {
				continue
			}
			p := string(ftppath.Append(nil, dir, n))
			all = append(all, p)
			if depth < 2 && (n == "a" || n == "a-b" || n == "é" || n == "a b" || n == " ") {
				m.dirs[dir] = append(m.dirs[dir], d(n))
				add(p, depth+1)
			} else {
				m.dirs[dir] = append(m.dirs[dir], f(n))
			}
		}
		// Listed in the server's order: not sorted by bytes.
		slices.Reverse(m.dirs[dir])
	}
	add("/", 0)
	for _, conns := range []int{1, 4} {
		r := Walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, m.connector(), WalkOptions{Connections: conns})
		if !r.Complete {
			t.Fatalf("incomplete: %q", r.Incomplete)
		}
		var got []string
		for _, e := range r.Entries {
			got = append(got, e.Path)
		}
		want := slices.Clone(all)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("connections %d: entries\n%q\nwant\n%q", conns, got, want)
		}
	}
}

func BenchmarkOrderEntries(b *testing.B) {
	// A tree: 100 directories of 100 subdirectories of 10 files each,
	// the listings recorded depth first, as the walk's LIFO queue does.
	var ls []keptList
	root := keptList{dir: "/", sorted: true}
	for i := range 100 {
		dn := fmt.Sprintf("dir-%03d", i)
		dp := "/" + dn
		root.es = append(root.es, ftpaudit.Entry{Name: dn, Path: dp, Type: ftpaudit.TypeDir})
		sub := keptList{dir: dp, sorted: true}
		for k := range 100 {
			sn := fmt.Sprintf("sub %03d", k)
			sp := dp + "/" + sn
			sub.es = append(sub.es, ftpaudit.Entry{Name: sn, Path: sp, Type: ftpaudit.TypeDir})
			leaf := keptList{dir: sp, sorted: true}
			for f := range 10 {
				fn := fmt.Sprintf("file-%d.tar.gz", f)
				leaf.es = append(leaf.es, ftpaudit.Entry{Name: fn, Path: sp + "/" + fn, Type: ftpaudit.TypeFile})
			}
			ls = append(ls, leaf)
		}
		ls = append(ls, sub)
	}
	ls = append(ls, root)
	n := 0
	for _, l := range ls {
		n += len(l.es)
	}
	b.Run("orderEntries", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			orderEntries("/", ls, n)
		}
	})
	b.Run("merge", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			mergeListings(ls, n)
		}
	})
	b.Run("sortPointers", func(b *testing.B) {
		// The ordering before: a sort of pointers to every entry, then
		// a copy.
		b.ReportAllocs()
		for range b.N {
			ptrs := make([]*ftpaudit.Entry, 0, n)
			for _, c := range ls {
				for i := range c.es {
					ptrs = append(ptrs, &c.es[i])
				}
			}
			slices.SortFunc(ptrs, func(a, b *ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
			out := make([]ftpaudit.Entry, len(ptrs))
			for i, p := range ptrs {
				out[i] = *p
			}
		}
	})
}
