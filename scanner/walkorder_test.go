package scanner

import (
	"context"
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

// TestWalkEntriesOrder walks a tree of awkward names (those without '/',
// which a directory tree in memory cannot hold) through the walker, its
// entries held and spilled, and checks them against a sort by path of
// what was listed.
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
	for _, opt := range []WalkOptions{{Connections: 1}, {Connections: 4}, {Connections: 4, SpillAfter: 1, SpillDir: t.TempDir()}, {Connections: 1, SpillAfter: 10000, SpillDir: t.TempDir()}} {
		conns := opt.Connections
		r := Walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, m.connector(), opt)
		defer r.Close()
		if !r.Complete {
			t.Fatalf("incomplete: %q", r.Incomplete)
		}
		var got []string
		for _, e := range r.EntryList() {
			got = append(got, e.Path)
		}
		want := slices.Clone(all)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("connections %d, spill after %d: entries\n%q\nwant\n%q", conns, opt.SpillAfter, got, want)
		}
	}
}

// The walk notes AfterWalk's candidates (etc/passwd, published indexes)
// as it files its listings: the same, in the same order, as a reading of
// every entry finds, spilled or not, over one connection or several.
func TestWalkNotesAfterCands(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{}}
	for _, dir := range []string{"/", "/a b", "/a-b", "/a", "/a/etc", "/é", "/a b/etc"} {
		if dir != "/" {
			parent, name := ftppath.Split(dir)
			m.dirs[parent] = append(m.dirs[parent], d(name))
		}
		for _, n := range []string{"SHA256SUMS", "ls-lR.gz", "passwd", "README", "MD5SUMS.asc"} {
			m.dirs[dir] = append(m.dirs[dir], f(n))
		}
		m.dirs[dir] = append(m.dirs[dir], d("ls-lR")) // a directory: no candidate
		m.dirs[string(ftppath.Append(nil, dir, "ls-lR"))] = nil
		slices.Reverse(m.dirs[dir])
	}
	for _, opt := range []WalkOptions{{Connections: 1}, {Connections: 4}, {Connections: 4, SpillAfter: 1, SpillDir: t.TempDir()}} {
		r, got := walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, m.connector(), opt)
		defer r.Close()
		if !r.Complete {
			t.Fatalf("incomplete: %q", r.Incomplete)
		}
		var want afterCands
		for e := range r.AllEntries() {
			want.note(e)
		}
		if len(want.fetch) != 2 || len(want.manifests) != 14 {
			t.Fatalf("the tree has %d passwd files and %d indexes, want 2 and 14: %q %q", len(want.fetch), len(want.manifests), want.fetch, want.manifests)
		}
		if !slices.Equal(got.fetch, want.fetch) || !slices.Equal(got.manifests, want.manifests) {
			t.Errorf("connections %d, spill after %d: noted\n%q %q\nwant\n%q %q", opt.Connections, opt.SpillAfter, got.fetch, got.manifests, want.fetch, want.manifests)
		}
	}
}
