package entrystore

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// benchTree is a walk of nl listings of per entries each: a tree in
// which listing j holds directories for listings 3j+1..3j+3 (its first
// entries), then files; Unix LIST lines, sorted.
type benchTree struct {
	nl, per int
	dirs    []string // of each listing
}

func newBenchTree(nl, per int) *benchTree {
	t := &benchTree{nl: nl, per: per, dirs: make([]string, nl)}
	t.dirs[0] = "/pub"
	for j := 1; j < nl; j++ {
		t.dirs[j] = ftppath.Join(t.dirs[(j-1)/3], dirName(j))
	}
	return t
}

func dirName(j int) string { return "dir-" + pad(j, 5) }

func pad(n, w int) string {
	s := strconv.Itoa(n)
	for len(s) < w {
		s = "0" + s
	}
	return s
}

// listing makes listing j's entries, as a LIST parser would: Name, Mode,
// Owner and Group parts of Raw.
func (t *benchTree) listing(rng *rand.Rand, j int) []ftpaudit.Entry {
	dir := t.dirs[j]
	es := make([]ftpaudit.Entry, 0, t.per)
	recent := time.Date(2025, 3, 14, 12, 34, 0, 0, time.Local)
	for k := range t.per {
		var mode, name string
		var size int64
		typ := ftpaudit.TypeFile
		if c := 3*j + 1 + k; k < 3 && c < t.nl {
			mode, name, size, typ = "drwxr-xr-x", dirName(c), 4096, ftpaudit.TypeDir
		} else {
			mode, name, size = "-rw-r--r--", "file-"+pad(j*t.per+k, 6)+".txt", rng.Int64N(50_000_000)
		}
		var date string
		var mod time.Time
		if rng.IntN(2) == 0 {
			mod = time.Date(2010+rng.IntN(14), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.Local)
			date = mod.Format("Jan _2  2006")
		} else {
			mod = recent.Add(-time.Duration(rng.IntN(200*24*60)) * time.Minute)
			date = mod.Format("Jan _2 15:04")
		}
		b := make([]byte, 0, 80)
		b = append(b, mode...)
		b = append(b, "    1 ftp      ftp      "...)
		sz := strconv.FormatInt(size, 10)
		for range 9 - len(sz) {
			b = append(b, ' ')
		}
		b = append(b, sz...)
		b = append(b, ' ')
		b = append(b, date...)
		b = append(b, ' ')
		b = append(b, name...)
		raw := string(b)
		es = append(es, ftpaudit.Entry{
			Path: ftppath.Join(dir, name), Name: raw[len(raw)-len(name):], Size: size, Modified: mod,
			Mode: raw[:10], Owner: raw[15:18], Group: raw[24:27], Raw: raw, Type: typ,
		})
	}
	return es
}

// readBytes is the bytes this process has read (rchar of /proc/self/io;
// 0 where there is none).
func readBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkAddAll1M adds 1M entries in 20k listings, sequentially, seals
// and reads them back with All, held in memory and spilled; it reports
// the time per entry of Add and All, the spill file's bytes per entry,
// the bytes All reads from the file per entry, and the heap in use after
// Seal (less the ballast). "scattered" adds the listings in random order,
// as a walk's sessions file them.
//
// A spilled All allocates every entry anew (about 350 bytes of it): with
// the benchmark's few MB of live heap, the collector runs every few
// MB allocated, and its cost dominates. The "ballast" case holds 256 MB
// as a walk's process would hold its own data, so that it runs about
// once per 700k entries read.
func BenchmarkAddAll1M(b *testing.B) {
	tree := newBenchTree(20_000, 50)
	n := tree.nl * tree.per
	for _, bc := range []struct {
		name    string
		spill   int64
		ballast int
		shuffle bool // listings added out of path order, as sessions file them
	}{{"held", 0, 0, false}, {"spilled", 1, 0, false}, {"spilled-ballast", 1, 256 << 20, false}, {"spilled-scattered", 1, 256 << 20, true}} {
		b.Run(bc.name, func(b *testing.B) {
			ballast := make([]byte, bc.ballast)
			defer runtime.KeepAlive(ballast)
			var add, all time.Duration
			var disk, read int64
			var heap uint64
			iters := 0
			for b.Loop() {
				rng := rand.New(rand.NewPCG(1, 1))
				base := heapInUse()
				s := New(Options{Dir: b.TempDir(), SpillAfter: bc.spill})
				order := make([]int, tree.nl)
				for j := range order {
					order[j] = j
				}
				if bc.shuffle {
					rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
				}
				for _, j := range order {
					es := tree.listing(rng, j)
					t0 := time.Now()
					if err := s.Add(j, tree.dirs[j], es, true); err != nil {
						b.Fatal(err)
					}
					add += time.Since(t0)
				}
				src := s.Seal()
				disk += s.Spilled()
				if h := heapInUse(); h > base {
					heap += h - base
				}
				t0 := time.Now()
				r0 := readBytes()
				var got int
				var sum int64
				for e := range src.All() {
					got++
					sum += e.Size
				}
				all += time.Since(t0)
				read += readBytes() - r0
				if got != n || src.Err() != nil {
					b.Fatalf("All: %d entries of %d, %v", got, n, src.Err())
				}
				src.Close()
				iters++
			}
			per := float64(iters * n)
			b.ReportMetric(float64(add.Nanoseconds())/per, "add-ns/entry")
			b.ReportMetric(float64(all.Nanoseconds())/per, "all-ns/entry")
			b.ReportMetric(float64(disk)/per, "disk-B/entry")
			b.ReportMetric(float64(read)/per, "read-B/entry")
			b.ReportMetric(float64(heap)/float64(iters)/(1<<20), "heap-MB")
		})
	}
}

// BenchmarkFinder looks up every path of a spilled 1M-entry walk, a
// directory at a time, and some absent ones.
func BenchmarkFinder(b *testing.B) {
	tree := newBenchTree(20_000, 50)
	rng := rand.New(rand.NewPCG(1, 1))
	s := New(Options{Dir: b.TempDir(), SpillAfter: 1})
	var paths []string
	for j := range tree.nl {
		es := tree.listing(rng, j)
		for i := range es {
			paths = append(paths, es[i].Path)
		}
		if err := s.Add(j, tree.dirs[j], es, true); err != nil {
			b.Fatal(err)
		}
	}
	src := s.Seal()
	defer src.Close()
	find := src.Finder()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := paths[i%len(paths)]
		if find(p) == nil || find(p+"x") != nil {
			b.Fatal(p)
		}
	}
}
