package entrystore

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// rewriteTree is a walk whose first listing is held and the others
// spilled (SpillAfter just past the first), with the secret in a
// directory's name, in a file name below it, and in a held name.
func rewriteTree(t *testing.T) (*source, []ftpaudit.Entry) {
	t.Helper()
	file := func(dir, name string, typ ftpaudit.EntryType) ftpaudit.Entry {
		raw := "-rw-r--r--    1 ftp      ftp          3 Jan 01  2020 " + name
		p := dir + "/" + name
		if dir == "/" {
			p = "/" + name
		}
		return ftpaudit.Entry{Path: p, Name: name, Raw: raw, Mode: raw[:10], Size: 3, Type: typ}
	}
	root := []ftpaudit.Entry{file("/", "B", ftpaudit.TypeFile), file("/", "SECRETdir", ftpaudit.TypeDir), file("/", "Z", ftpaudit.TypeFile), file("/", "zz-SECRET", ftpaudit.TypeFile)}
	sub := []ftpaudit.Entry{file("/SECRETdir", "f", ftpaudit.TypeFile), file("/SECRETdir", "g-SECRET", ftpaudit.TypeFile)}
	other := []ftpaudit.Entry{file("/Z0", "x", ftpaudit.TypeFile)}
	s := New(Options{Dir: t.TempDir(), SpillAfter: estimateAll(root) + 1})
	for i, l := range []struct {
		dir string
		es  []ftpaudit.Entry
	}{{"/", root}, {"/SECRETdir", sub}, {"/Z0", other}} {
		if err := s.Add(i, l.dir, slices.Clone(l.es), true); err != nil {
			t.Fatal(err)
		}
	}
	src := s.Seal().(*source)
	t.Cleanup(func() { src.Close() })
	if src.ls[0].held() == nil || s.Spilled() == 0 {
		t.Fatalf("want the root held and the rest spilled")
	}
	return src, slices.Concat(root, sub, other)
}

func redact(e *ftpaudit.Entry) bool {
	changed := false
	for _, p := range []*string{&e.Path, &e.Name, &e.Raw} {
		if strings.Contains(*p, "SECRET") {
			*p = strings.ReplaceAll(*p, "SECRET", "[R]")
			changed = true
		}
	}
	return changed
}

// TestRewriteMovesEntries: a rewrite that changes paths (and so their
// order) leaves every reader in path order, with nothing of the secret,
// and the finder finds the new paths, not the old.
func TestRewriteMovesEntries(t *testing.T) {
	src, all := rewriteTree(t)
	if n := src.Rewrite(redact); n != 4 {
		t.Errorf("Rewrite changed %d entries, want 4", n)
	}
	want := slices.Clone(all)
	for i := range want {
		redact(&want[i])
	}
	slices.SortStableFunc(want, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	var got []ftpaudit.Entry
	for _, e := range collect(src) {
		got = append(got, *e)
	}
	if src.Err() != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after the rewrite, All gives (err %v)\n%v\nwant\n%v", src.Err(), paths(got), paths(want))
	}
	find := src.Finder()
	for _, p := range []string{"/[R]dir", "/[R]dir/f", "/zz-[R]", "/Z0/x"} {
		if e := find(p); e == nil || e.Path != p {
			t.Errorf("finder(%q) = %v", p, e)
		}
	}
	if e := find("/SECRETdir/f"); e != nil {
		t.Errorf("the old path is still found: %+v", e)
	}
	// A second rewrite applies after the first.
	if n := src.Rewrite(func(e *ftpaudit.Entry) bool {
		if e.Name == "f" {
			e.Name = "F"
			return true
		}
		return false
	}); n != 1 {
		t.Errorf("second Rewrite changed %d", n)
	}
	find = src.Finder() // (a finder is not used across a Rewrite)
	if e := find("/[R]dir/f"); e == nil || e.Name != "F" {
		t.Errorf("second rewrite not seen: %+v", e)
	}
}

// TestRewriteReadError: a read error while counting still rewrites the
// entries held in memory, and is reported.
func TestRewriteReadError(t *testing.T) {
	src, _ := rewriteTree(t)
	if _, err := src.f.WriteAt([]byte{0xff, 0xff, 0xff, 0xff}, 0); err != nil {
		t.Fatal(err)
	}
	src.Rewrite(redact)
	if src.Err() == nil {
		t.Error("no error after reading a corrupt block")
	}
	for _, e := range src.ls[0].held() {
		if strings.Contains(e.Raw+e.Path+e.Name, "SECRET") {
			t.Errorf("held entry not rewritten: %+v", e)
		}
	}
	if strings.Contains(src.Err().Error(), "SECRET") {
		t.Errorf("the error names a path: %v", src.Err())
	}
}

func paths(es []ftpaudit.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

// TestRewriteEqualPaths: after a rewrite that moves an entry, entries
// that share a path (a directory listed twice) keep the order of their
// listings' filing, and the finder answers the last of them.
func TestRewriteEqualPaths(t *testing.T) {
	e := func(name string, size int64) ftpaudit.Entry {
		return ftpaudit.Entry{Path: "/x/" + name, Name: name, Raw: name, Size: size, Type: ftpaudit.TypeFile}
	}
	for _, spill := range []int64{0, 1} {
		s := New(Options{Dir: t.TempDir(), SpillAfter: spill})
		if err := s.Add(0, "/x", []ftpaudit.Entry{e("PASS1234", 1), e("Q", 10)}, true); err != nil {
			t.Fatal(err)
		}
		if err := s.Add(1, "/x", []ftpaudit.Entry{e("Q", 20)}, true); err != nil {
			t.Fatal(err)
		}
		src := s.Seal().(*source)
		if n := src.Rewrite(func(e *ftpaudit.Entry) bool {
			if !strings.Contains(e.Path, "PASS1234") {
				return false
			}
			e.Path, e.Name = strings.ReplaceAll(e.Path, "PASS1234", "[R]"), "[R]"
			return true
		}); n != 1 {
			t.Errorf("spill %d: Rewrite changed %d", spill, n)
		}
		var got []string
		for e := range src.All() {
			got = append(got, fmt.Sprintf("%s#%d", e.Path, e.Size))
		}
		if want := "/x/Q#10 /x/Q#20 /x/[R]#1"; strings.Join(got, " ") != want {
			t.Errorf("spill %d: All gives %q, want %q", spill, got, want)
		}
		if e := src.Finder()("/x/Q"); e == nil || e.Size != 20 {
			t.Errorf("spill %d: finder gives %+v, want the later listing's", spill, e)
		}
		src.Close()
	}
}

// TestRewriteInPlace: a file's new path that keeps its listing in order
// is served as it is, without reading every entry into memory.
func TestRewriteInPlace(t *testing.T) {
	src, all := rewriteTree(t)
	n := src.Rewrite(func(e *ftpaudit.Entry) bool {
		if e.Name != "g-SECRET" {
			return false
		}
		e.Path, e.Name = "/SECRETdir/g-SECRET2", "g-SECRET2"
		return true
	})
	if n != 1 || src.mat != nil {
		t.Fatalf("Rewrite changed %d, materialised %v", n, src.mat != nil)
	}
	var got []string
	for e := range src.All() {
		got = append(got, e.Path)
	}
	want := paths(all)
	want[slices.Index(want, "/SECRETdir/g-SECRET")] = "/SECRETdir/g-SECRET2"
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("All gives %q, want %q", got, want)
	}
	if e := src.Finder()("/SECRETdir/g-SECRET2"); e == nil {
		t.Error("the new path is not found")
	}
}
