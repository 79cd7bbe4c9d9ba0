package rules

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// benchTree is a host shaped like testdata/bench/mktree.sh's archive, as
// a LIST walk of it shows it: dirs directories on three levels (about
// cbrt(dirs) per level, the rest at level 3) and files files spread over
// them unevenly (most directories hold a few, some thousands), about 5%
// of names with inner spaces, ls -l lines as Raw. Owners and groups are
// "0" (root, numeric), except the files of about 1% of the directories,
// shown as "ftp": uploads outside every writable area (no directory is
// writable). Entries are sorted by path, their text laid out in that
// order; the same arguments give the same host.
func benchTree(dirs, files int) *ftpaudit.HostResult {
	r := rand.New(rand.NewPCG(20240601, 1))
	words := []string{"pub", "mirror", "dist", "incoming", "docs", "src", "linux", "gnu",
		"contrib", "archive", "old", "releases", "snapshots", "misc", "tools",
		"images", "patches", "people", "projects", "data"}
	exts := []string{".tar.gz", ".tar.xz", ".zip", ".txt", ".iso", ".md5", ".sig", ".deb",
		".rpm", ".pdf", ".c", ".h", ".html", ""}
	mod := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	es := make([]ftpaudit.Entry, 0, dirs+files)
	entry := func(dir, name string, t ftpaudit.EntryType, mode, og string, size int64) {
		p := "/" + name
		if dir != "/" {
			p = dir + "/" + name
		}
		raw := fmt.Sprintf("%s %4d %-8s %-8s %12d Jan 01  2020 %s", mode, 1, og, og, size, name)
		es = append(es, ftpaudit.Entry{Path: p, Name: name, Type: t, Mode: mode, Owner: og, Group: og, Size: size, Modified: mod, Raw: raw})
	}
	dirName := func(level, i int) string {
		w := words[i%len(words)]
		if r.Float64() < 0.05 {
			return fmt.Sprintf("%s Files %d", strings.ToUpper(w[:1])+w[1:], i)
		}
		return fmt.Sprintf("%s-l%d-%04d", w, level, i)
	}
	fileName := func(i int) string {
		switch x := r.Float64(); {
		case x < 0.05:
			return fmt.Sprintf("Release Notes %d%s", i, []string{".txt", ".pdf", ""}[r.IntN(3)])
		case x < 0.07:
			return fmt.Sprintf("README-%d", i)
		}
		return fmt.Sprintf("%s-%d.%d.%d%s", words[r.IntN(len(words))], i, r.IntN(10), r.IntN(31), exts[r.IntN(len(exts))])
	}
	f := max(1, int(math.Ceil(math.Cbrt(float64(dirs)))))
	n1 := min(f, dirs)
	n2 := min(n1*f, dirs-n1)
	holders := []string{"/"}
	add := func(parent string, level, i int) string {
		name := dirName(level, i)
		entry(parent, name, ftpaudit.TypeDir, "drwxr-xr-x", "0", 4096)
		if parent == "/" {
			return "/" + name
		}
		return parent + "/" + name
	}
	for i := range n1 {
		holders = append(holders, add("/", 1, i))
	}
	for i := range n2 {
		holders = append(holders, add(holders[1+i%n1], 2, i))
	}
	parents3 := holders[1+n1:]
	if len(parents3) == 0 {
		parents3 = holders[1:]
	}
	for i := range dirs - n1 - n2 {
		holders = append(holders, add(parents3[i%len(parents3)], 3, i))
	}
	weights := make([]float64, len(holders))
	total := 0.0
	for i := range weights {
		weights[i] = math.Pow(1-r.Float64(), -1/1.3) // Pareto, alpha 1.3
		total += weights[i]
	}
	counts := make([]int, len(holders))
	n := 0
	for i, w := range weights {
		counts[i] = int(float64(files) * w / total)
		n += counts[i]
	}
	for ; n < files; n++ {
		counts[r.IntN(len(counts))]++
	}
	n = 0
	for d, c := range counts {
		og := "0"
		if r.IntN(100) == 0 {
			og = "ftp"
		}
		for range c {
			n++
			size := int64(math.Exp(r.NormFloat64()*2.5 + 9))
			entry(holders[d], fileName(n), ftpaudit.TypeFile, "-rw-r--r--", og, min(size, 8<<30))
		}
	}
	slices.SortFunc(es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	for i := range es {
		// In path order in memory too, as a walk's Source decodes them:
		// not scattered in the order generated.
		es[i] = es[i].Clone()
	}
	return &ftpaudit.HostResult{
		Target:  ftpaudit.Target{URL: testHost, Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"},
		Info:    ftpaudit.ServerInfo{Banner: "220 test", Login: "anonymous"},
		Stats:   ftpaudit.Stats{Files: files, Dirs: dirs, Listed: dirs + 1},
		Entries: es,
	}
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkJudge1M judges a host of 1,050,000 entries (benchTree: 50,000
// directories, 1,000,000 files) with the default policy, as a walk of
// testdata/bench/mktree.sh's archive of that size would give it. Besides
// the wall time (ns/op), it reports the CPU time of every goroutine
// (cpu-ns/op), which other work on the machine disturbs less.
//
// Run with: go test ./rules -run '^$' -bench Judge1M -benchtime 3x -count 3
func BenchmarkJudge1M(b *testing.B) {
	h := benchTree(50_000, 1_000_000)
	p := DefaultPolicy()
	var fs []ftpaudit.Finding
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		fs = Judge(h, p)
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(fs)), "findings")
}
