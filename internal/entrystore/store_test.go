package entrystore

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// input is one listing to Add.
type input struct {
	seq    int
	dir    string
	es     []ftpaudit.Entry
	sorted bool
}

// nameTokens make names that sort around "/" and each other.
var nameTokens = []string{"a", "a.b", "a-b", "b", ".", "-", "/", " ", "\x00", "\xff", "ab", "a/b", "\r\n", "z"}

var testZones = []*time.Location{
	time.UTC, time.Local, time.FixedZone("X", 3600), time.FixedZone("", -7*3600), time.FixedZone("odd", 5*3600+1800),
}

func randName(rng *rand.Rand) string {
	var b strings.Builder
	for range 1 + rng.IntN(3) {
		b.WriteString(nameTokens[rng.IntN(len(nameTokens))])
	}
	return b.String()
}

func randBytes(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		switch rng.IntN(4) {
		case 0:
			b[i] = byte(rng.IntN(256))
		default:
			const alpha = "abc -/.\x00\r\n\xff"
			b[i] = alpha[rng.IntN(len(alpha))]
		}
	}
	return string(b)
}

func randTime(rng *rand.Rand) time.Time {
	loc := testZones[rng.IntN(len(testZones))]
	switch rng.IntN(8) {
	case 0:
		return time.Time{}
	case 1:
		return time.Time{}.In(loc)
	case 2:
		return time.Date(2000+rng.IntN(30), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, loc)
	case 3:
		return time.Date(2020, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0, 0, loc)
	case 4:
		return time.Unix(rng.Int64N(1<<40)-1<<39, rng.Int64N(1e9)).In(loc)
	case 5:
		return time.Date(9999, 12, 31, 23, 59, 59, 999999999, loc)
	default:
		return time.Date(2021, 3, 4, 5, 6, rng.IntN(60), 0, loc)
	}
}

func randSize(rng *rand.Rand) int64 {
	switch rng.IntN(6) {
	case 0:
		return -1
	case 1:
		return 0
	case 2:
		return math.MaxInt64
	case 3:
		return math.MinInt64
	default:
		return rng.Int64N(1 << uint(1+rng.IntN(40)))
	}
}

func pick(rng *rand.Rand, xs ...string) string { return xs[rng.IntN(len(xs))] }

// randEntry makes an entry of name in dir, its fields mostly parts of
// Raw as a parser makes them, sometimes not.
func randEntry(rng *rand.Rand, dir, name string, big bool) ftpaudit.Entry {
	e := ftpaudit.Entry{Name: name, Path: ftppath.Join(dir, name), Size: randSize(rng), Modified: randTime(rng)}
	e.Type = ftpaudit.EntryType(rng.IntN(5))
	if rng.IntN(30) == 0 {
		e.Type = ftpaudit.EntryType(7 + rng.IntN(249))
	}
	switch rng.IntN(4) {
	case 0, 1: // a LIST line
		mode := pick(rng, "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", "d---------")
		owner := pick(rng, "ftp", "root", "1000", "a b", "")
		group := pick(rng, "ftp", "root", "wheel", "")
		line := fmt.Sprintf("%s %4d %-8s %-8s %12d Jan 01  2020 ", mode, 1+rng.IntN(3), owner, group, rng.IntN(1e6))
		e.Mode = mode
		e.Owner = line[16 : 16+len(owner)]
		e.Group = line[25 : 25+len(group)]
		line += name
		var target string
		if mode[0] == 'l' {
			target = randName(rng)
			line += " -> " + target
		}
		if big {
			line += strings.Repeat("x", rng.IntN(600))
		}
		e.Raw = line
		e.Mode = line[:10]
		if target != "" {
			e.EnsureExtra().Target = line[len(line)-len(target):]
		}
	case 2: // an MLSD line
		facts := fmt.Sprintf("type=%s;size=%d;perm=%s;unique=%x;", pick(rng, "file", "dir", "cdir"), rng.IntN(1e6), pick(rng, "r", "adfrw", "elc"), rng.Uint32())
		e.Raw = facts + " " + name
		x := e.EnsureExtra()
		x.FactsRaw = e.Raw[:len(facts)]
		if i := strings.Index(facts, "perm="); i >= 0 {
			x.Perm = facts[i+5 : i+5+strings.IndexByte(facts[i:], ';')-5]
		}
		x.Unique = facts[strings.Index(facts, "unique=")+7 : len(facts)-1]
	default: // anything
		e.Raw = randBytes(rng, rng.IntN(40))
		e.Mode = pick(rng, "", "-rw-------", randBytes(rng, 3))
		e.Owner = randBytes(rng, rng.IntN(4))
		e.Group = pick(rng, e.Owner, "grp", "")
	}
	if rng.IntN(4) == 0 {
		x := e.EnsureExtra()
		x.ListRaw = pick(rng, "", e.Raw, randBytes(rng, 20))
		x.Perm = pick(rng, x.Perm, "flcdmpe", "")
		switch rng.IntN(3) {
		case 0:
			x.Facts = map[string]string{}
		case 1:
			x.Facts = map[string]string{"type": "file", "size": "12", randBytes(rng, 3): randBytes(rng, 5), "x": ""}
		}
	}
	if rng.IntN(25) == 0 {
		// A path that is not dir + "/" + name.
		e.Path = pick(rng, "/"+name, dir+"//"+name, "/zz"+randName(rng), dir, "", randBytes(rng, 5))
	}
	return e
}

// randListings makes a random walk's listings: a tree, with directories
// listed twice, directories that are no entry, unsorted listings, and
// now and then a listing larger than a block.
func randListings(rng *rand.Rand, big bool) []input {
	dirs := []string{"/"}
	var ins []input
	nl := 1 + rng.IntN(40)
	for seq := range nl {
		var dir string
		switch r := rng.IntN(10); {
		case r == 0:
			dir = "/" + randName(rng) // (perhaps no entry)
		case r == 1 && len(ins) > 0:
			dir = ins[rng.IntN(len(ins))].dir
		default:
			dir = dirs[rng.IntN(len(dirs))]
		}
		n := rng.IntN(30)
		if big && seq == nl/2 {
			n = maxBlockEntries + 1 + rng.IntN(2000)
		}
		seen := map[string]bool{}
		var es []ftpaudit.Entry
		for range n {
			name := randName(rng)
			if big && n > maxBlockEntries {
				name += strconv.Itoa(rng.IntN(1e6))
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			e := randEntry(rng, dir, name, big && rng.IntN(3) == 0)
			es = append(es, e)
			if e.Type == ftpaudit.TypeDir && e.Path != "" {
				dirs = append(dirs, e.Path)
			}
		}
		in := input{seq: seq * 3, dir: dir, es: es}
		if rng.IntN(2) == 0 {
			slices.SortStableFunc(in.es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
			in.sorted = true
			for i := 1; i < len(in.es); i++ {
				if in.es[i-1].Path >= in.es[i].Path {
					in.sorted = rng.IntN(2) == 0 // (a listing that says so wrongly)
				}
			}
		} else {
			rng.Shuffle(len(in.es), func(i, j int) { in.es[i], in.es[j] = in.es[j], in.es[i] })
			in.sorted = rng.IntN(8) == 0 // (wrongly)
		}
		ins = append(ins, in)
	}
	return ins
}

// reference is what orderEntries gives: a stable sort by path of the
// listings' entries concatenated in seq order.
func reference(ins []input) []ftpaudit.Entry {
	ins = slices.Clone(ins)
	slices.SortFunc(ins, func(a, b input) int { return a.seq - b.seq })
	var all []ftpaudit.Entry
	for _, in := range ins {
		all = append(all, in.es...)
	}
	slices.SortStableFunc(all, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return all
}

// build adds the listings (a copy of each), several at once in a random
// order, and seals the store.
func build(t testing.TB, rng *rand.Rand, ins []input, opt Options) (*Store, *source) {
	t.Helper()
	s := New(opt)
	order := rng.Perm(len(ins))
	var wg sync.WaitGroup
	errs := make(chan error, len(ins))
	work := make(chan input)
	for range 4 {
		wg.Go(func() {
			for in := range work {
				if err := s.Add(in.seq, in.dir, slices.Clone(in.es), in.sorted); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, i := range order {
		work <- ins[i]
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	src := s.Seal().(*source)
	t.Cleanup(func() { src.Close() })
	return s, src
}

func collect(src ftpaudit.EntrySource) []*ftpaudit.Entry {
	var out []*ftpaudit.Entry
	for e := range src.All() {
		out = append(out, e)
	}
	return out
}

func checkAll(src ftpaudit.EntrySource, ref []ftpaudit.Entry) error {
	got := collect(src)
	if err := src.Err(); err != nil {
		return err
	}
	if len(got) != len(ref) {
		return fmt.Errorf("All yields %d entries, want %d", len(got), len(ref))
	}
	for i := range ref {
		if !reflect.DeepEqual(*got[i], ref[i]) {
			return fmt.Errorf("entry %d:\n got %#v\nwant %#v", i, *got[i], ref[i])
		}
	}
	return nil
}

// checkFinder checks a Finder against the reference, for every path and
// for absent ones (absent is called before, in the test's goroutine).
func checkFinder(src ftpaudit.EntrySource, ref []ftpaudit.Entry, absent []string) error {
	last := map[string]*ftpaudit.Entry{}
	for i := range ref {
		last[ref[i].Path] = &ref[i]
	}
	find := src.Finder()
	paths := make([]string, 0, len(last))
	for p := range last {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		got := find(p)
		if got == nil || !reflect.DeepEqual(*got, *last[p]) {
			return fmt.Errorf("Finder(%q) = %+v, want %+v", p, got, last[p])
		}
	}
	for _, p := range absent {
		if last[p] != nil {
			continue
		}
		if got := find(p); got != nil {
			return fmt.Errorf("Finder(%q) = %+v, want nil", p, got)
		}
	}
	return src.Err()
}

// absentPaths makes paths that are mostly not entries: listed
// directories, made-up names, prefixes, extensions.
func absentPaths(rng *rand.Rand, ref []ftpaudit.Entry, ins []input) []string {
	var absent []string
	for _, in := range ins {
		absent = append(absent, in.dir, ftppath.Join(in.dir, randName(rng)), in.dir+"/")
	}
	for i := range ref {
		p := ref[i].Path
		absent = append(absent, p+"\x00", p[:len(p)/2], p+"/a")
	}
	slices.Sort(absent) // (as callers do: a directory at a time)
	return absent
}

func estimateInputs(ins []input) int64 {
	var n int64
	for _, in := range ins {
		n += estimateAll(in.es)
	}
	return n
}

func TestRandomTrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 40 {
		ins := randListings(rng, iter%8 == 3)
		ref := reference(ins)
		total := estimateInputs(ins)
		for _, spill := range []int64{0, 1, total / 2} { // (total/2: some listings held, the others spilled)
			t.Run(fmt.Sprintf("%d/spill=%d", iter, spill), func(t *testing.T) {
				s, src := build(t, rng, ins, Options{Dir: t.TempDir(), SpillAfter: spill})
				if src.Len() != len(ref) || s.Len() != len(ref) {
					t.Fatalf("Len %d, %d, want %d", src.Len(), s.Len(), len(ref))
				}
				held := 0
				for i := range src.ls {
					if src.ls[i].held() != nil {
						held++
					}
				}
				if spill == 1 && held != 0 || spill == 0 && s.Spilled() != 0 {
					t.Fatalf("spill %d: %d listings held, %d bytes spilled", spill, held, s.Spilled())
				}
				if err := checkAll(src, ref); err != nil {
					t.Fatal(err)
				}
				absent := absentPaths(rng, ref, ins)
				if err := checkFinder(src, ref, absent); err != nil {
					t.Fatal(err)
				}
				// At once: All in some goroutines, Finders in others.
				var wg sync.WaitGroup
				errs := make([]error, 5)
				for i := range errs {
					if i%2 == 0 {
						wg.Go(func() { errs[i] = checkAll(src, ref) })
					} else {
						wg.Go(func() { errs[i] = checkFinder(src, ref, absent) })
					}
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// TestMiddleSpill checks a middle budget: the first listings are held,
// and stay held once the budget is passed, the later ones spilled, and
// the source merges both.
func TestMiddleSpill(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ins []input
	for len(ins) < 10 || len(ins[0].es) == 0 || estimateInputs(ins[2:]) == 0 {
		ins = randListings(rng, false)
	}
	ref := reference(ins)
	s := New(Options{Dir: t.TempDir(), SpillAfter: estimateAll(ins[0].es) + estimateAll(ins[1].es) + 1})
	for _, in := range ins {
		if err := s.Add(in.seq, in.dir, slices.Clone(in.es), in.sorted); err != nil {
			t.Fatal(err)
		}
	}
	src := s.Seal().(*source)
	defer src.Close()
	held := 0
	for i := range src.ls {
		if src.ls[i].held() != nil {
			held++
		}
	}
	if s.Spilled() == 0 || held == 0 {
		t.Fatalf("%d listings held, %d bytes spilled: want both", held, s.Spilled())
	}
	if err := checkAll(src, ref); err != nil {
		t.Fatal(err)
	}
	if err := checkFinder(src, ref, absentPaths(rng, ref, ins)); err != nil {
		t.Fatal(err)
	}
}

// TestOrder checks the cases of the merge by hand: names with bytes
// below "/", a directory listed twice, a listing whose directory is no
// entry, a name with a "/".
func TestOrder(t *testing.T) {
	mk := func(dir string, names ...string) []ftpaudit.Entry {
		var es []ftpaudit.Entry
		for _, n := range names {
			es = append(es, ftpaudit.Entry{Path: ftppath.Join(dir, n), Name: n, Raw: n, Size: -1})
		}
		return es
	}
	for _, spill := range []int64{0, 1} {
		s := New(Options{Dir: t.TempDir(), SpillAfter: spill})
		adds := []input{
			{seq: 0, dir: "/", es: mk("/", "a", "a.b", "a-b", "b", "a/y"), sorted: false},
			{seq: 1, dir: "/a", es: mk("/a", "x", "y"), sorted: true},
			{seq: 2, dir: "/a", es: mk("/a", "y", "z"), sorted: true},
			{seq: 3, dir: "/q/r", es: mk("/q/r", "s"), sorted: true},
		}
		for _, in := range slices.Backward(adds) {
			if err := s.Add(in.seq, in.dir, slices.Clone(in.es), in.sorted); err != nil {
				t.Fatal(err)
			}
		}
		src := s.Seal()
		var got []string
		var seqs []string
		for e := range src.All() {
			got = append(got, e.Path)
			seqs = append(seqs, e.Raw)
		}
		want := []string{"/a", "/a-b", "/a.b", "/a/x", "/a/y", "/a/y", "/a/y", "/a/z", "/b", "/q/r/s"}
		if !slices.Equal(got, want) {
			t.Errorf("spill %d: All = %q, want %q", spill, got, want)
		}
		// "/a/y" of "/" (name "a/y") first, then of the two listings of "/a".
		if seqs[4] != "a/y" || seqs[5] != "y" {
			t.Errorf("spill %d: ties %q", spill, seqs)
		}
		find := src.Finder()
		if e := find("/a/y"); e == nil || e.Raw != "y" || e != find("/a/y") {
			t.Errorf("spill %d: Finder(/a/y) = %+v", spill, e)
		}
		if e := find("/a/x"); e == nil || e.Name != "x" {
			t.Errorf("spill %d: Finder(/a/x) = %+v", spill, e)
		}
		if e := find("/q/r/s"); e == nil || e.Name != "s" {
			t.Errorf("spill %d: Finder(/q/r/s) = %+v", spill, e)
		}
		if e := find("/q"); e != nil {
			t.Errorf("spill %d: Finder(/q) = %+v", spill, e)
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSideIndex checks Finder on names with a "/" that a later listing
// of the directory they seem to be in also has, and the other way.
func TestSideIndex(t *testing.T) {
	for _, spill := range []int64{0, 1} {
		s := New(Options{SpillAfter: spill})
		e1 := ftpaudit.Entry{Path: "/d/x", Name: "d/x", Raw: "first"}
		e2 := ftpaudit.Entry{Path: "/d/x", Name: "x", Raw: "second"}
		e3 := ftpaudit.Entry{Path: "/e/x", Name: "x", Raw: "third"}
		e4 := ftpaudit.Entry{Path: "/e/x", Name: "e/x", Raw: "fourth"}
		for _, in := range []input{{0, "/", []ftpaudit.Entry{e1}, true}, {1, "/d", []ftpaudit.Entry{e2}, true}, {2, "/e", []ftpaudit.Entry{e3}, true}, {3, "/", []ftpaudit.Entry{e4}, true}} {
			if err := s.Add(in.seq, in.dir, in.es, in.sorted); err != nil {
				t.Fatal(err)
			}
		}
		src := s.Seal()
		find := src.Finder()
		if e := find("/d/x"); e == nil || e.Raw != "second" {
			t.Errorf("spill %d: Finder(/d/x) = %+v", spill, e)
		}
		if e := find("/e/x"); e == nil || e.Raw != "fourth" {
			t.Errorf("spill %d: Finder(/e/x) = %+v", spill, e)
		}
		src.Close()
	}
}

// TestUnlinked checks that the spill file leaves nothing in Dir.
func TestUnlinked(t *testing.T) {
	dir := t.TempDir()
	s := New(Options{Dir: dir, SpillAfter: 1})
	if err := s.Add(0, "/", []ftpaudit.Entry{{Path: "/a", Name: "a"}}, true); err != nil {
		t.Fatal(err)
	}
	if s.Spilled() == 0 {
		t.Fatal("nothing spilled")
	}
	if fs, _ := os.ReadDir(dir); len(fs) != 0 {
		t.Fatalf("spill file left in %s: %v", dir, fs)
	}
	src := s.Seal()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAddError checks that a listing that cannot be spilled is not kept,
// and that those held stay.
func TestAddError(t *testing.T) {
	bad := t.TempDir() + "/missing"
	s := New(Options{Dir: bad, SpillAfter: 1000})
	small := []ftpaudit.Entry{{Path: "/a", Name: "a", Raw: "a"}}
	if err := s.Add(0, "/", small, true); err != nil {
		t.Fatal(err)
	}
	var big []ftpaudit.Entry
	for i := range 20 {
		n := fmt.Sprintf("f%02d", i)
		big = append(big, ftpaudit.Entry{Path: "/b/" + n, Name: n})
	}
	if err := s.Add(1, "/b", big, true); err == nil {
		t.Fatal("Add: no error")
	}
	if err := s.Add(2, "/c", []ftpaudit.Entry{{Path: "/c/x", Name: "x"}}, true); err == nil {
		t.Fatal("Add: no error")
	}
	if s.Len() != 1 {
		t.Fatalf("Len %d, want 1", s.Len())
	}
	src := s.Seal()
	got := collect(src)
	if len(got) != 1 || got[0].Path != "/a" || src.Err() != nil {
		t.Fatalf("All = %v, %v", got, src.Err())
	}
	if err := s.Add(3, "/d", small, true); err == nil {
		t.Fatal("Add after Seal: no error")
	}
}

// TestManyZones checks the times of more locations than the table
// numbers: past it, a time keeps its instant, zone name and offset.
func TestManyZones(t *testing.T) {
	var es []ftpaudit.Entry
	for i := range maxLocs + 50 {
		name := fmt.Sprintf("f%04d", i)
		loc := time.FixedZone(fmt.Sprintf("Z%d", i), (i-maxLocs/2)*60)
		es = append(es, ftpaudit.Entry{Path: "/" + name, Name: name, Modified: time.Date(2020, 1, 2, 3, 4, 5, i, loc)})
	}
	ref := slices.Clone(es)
	s := New(Options{SpillAfter: 1})
	if err := s.Add(0, "/", es, true); err != nil {
		t.Fatal(err)
	}
	src := s.Seal()
	defer src.Close()
	i := 0
	for e := range src.All() {
		got, want := e.Modified, ref[i].Modified
		gn, go_ := got.Zone()
		wn, wo := want.Zone()
		if !got.Equal(want) || gn != wn || go_ != wo || got.Nanosecond() != want.Nanosecond() {
			t.Fatalf("entry %d: Modified %v, want %v", i, got, want)
		}
		if i < maxLocs && got.Location() != want.Location() {
			t.Fatalf("entry %d: location %p, want %p", i, got.Location(), want.Location())
		}
		i++
	}
	if i != len(ref) || src.Err() != nil {
		t.Fatalf("%d entries, %v", i, src.Err())
	}
}

// estimateAll is the estimate of a listing's entries.
func estimateAll(es []ftpaudit.Entry) int64 {
	var n int64
	for i := range es {
		n += estimate(&es[i])
	}
	return n
}
