package history

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/entrysrc"
	"github.com/ftpaudit/ftpaudit/rules"
)

// Run with: go test ./history -run XXX -bench 1M -benchtime 1x
//
// Peak RSS is the whole process's (getrusage), so it includes the
// synthetic result itself: 1M ftpaudit.Entry values take about 300 MB
// before anything is saved. The benchmarks report both.

// synthEntries builds a sorted listing of about n entries laid out like a
// mirror: /pub/dNNNN/subNN/fileNNNNNN.tar.gz, with directory entries and
// Unix LIST lines of about 60 bytes. Each path and each line is one
// exact allocation, Name shares Path's bytes and the attribute strings
// are shared: the least memory a result of this shape can take, about
// 330 MB for a million entries, most of it the Entry structs themselves.
// variant changes about 1% of the files (for the diff benchmark): every
// 300th file is left out, every 300th+100 gets another size, and after
// every 300th+200 comes a new file.
func synthEntries(n int, variant bool) []ftpaudit.Entry {
	const filesPerSub, subsPerDir = 99, 10
	es := make([]ftpaudit.Entry, 0, n+n/200+16)
	mod := time.Date(2021, 3, 3, 12, 0, 0, 0, time.UTC)
	var scratch []byte
	str := func(parts ...string) string {
		scratch = scratch[:0]
		for _, p := range parts {
			scratch = append(scratch, p...)
		}
		return string(scratch)
	}
	num := func(v, width int) string { // into a reused buffer
		var b [20]byte
		i := len(b)
		for ; v > 0 || i > len(b)-width; v /= 10 {
			i--
			b[i] = byte('0' + v%10)
		}
		return string(b[i:]) // small: does not escape
	}
	dir := func(p string) ftpaudit.Entry {
		name := p[lastSlash(p)+1:]
		return ftpaudit.Entry{Path: p, Name: name, Type: ftpaudit.TypeDir, Size: 4096, Modified: mod,
			Mode: "drwxr-xr-x", Owner: "ftp", Group: "ftp",
			Raw: str("drwxr-xr-x    2 ftp      ftp          4096 Mar 03  2021 ", name)}
	}
	file := func(sub string, i, size int, suffix string) ftpaudit.Entry {
		p := str(sub, "/file", num(i, 6), ".tar.gz", suffix)
		name := p[len(sub)+1:]
		return ftpaudit.Entry{Path: p, Name: name, Type: ftpaudit.TypeFile, Size: int64(size),
			Modified: mod.Add(time.Duration(i) * time.Minute), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp",
			Raw: str("-rw-r--r--    1 ftp ftp ", num(size, 9), " Mar 03  2021 ", name)}
	}
	es = append(es, dir("/pub"))
	fileNo := 0
	for d := 0; len(es) < n; d++ {
		dp := str("/pub/d", num(d, 4))
		es = append(es, dir(dp))
		for s := 0; s < subsPerDir && len(es) < n; s++ {
			sp := str(dp, "/sub", num(s, 2))
			es = append(es, dir(sp))
			for f := 0; f < filesPerSub && len(es) < n; f++ {
				fileNo++
				size := 1000 + fileNo*7
				if variant {
					switch fileNo % 300 {
					case 0:
						continue
					case 100:
						size++
					case 200:
						es = append(es, file(sp, fileNo, size, ""), file(sp, fileNo, size, ".new"))
						continue
					}
				}
				es = append(es, file(sp, fileNo, size, ""))
			}
		}
	}
	return es
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func synthResult(n int, variant bool) *ftpaudit.Result {
	t, err := ftpaudit.ParseTarget("ftp://mirror.example.org/pub")
	if err != nil {
		panic(err)
	}
	now := time.Now()
	h := &ftpaudit.HostResult{Target: t, Started: now.Add(-time.Hour), Finished: now, Complete: true,
		Info:    ftpaudit.ServerInfo{Banner: "220 ProFTPD Server ready", Features: []string{"MDTM", "SIZE"}, Login: "230 Anonymous access granted"},
		Entries: synthEntries(n, variant)}
	for i := range h.Entries {
		switch h.Entries[i].Type {
		case ftpaudit.TypeDir:
			h.Stats.Dirs++
		default:
			h.Stats.Files++
		}
	}
	h.Stats.Listed = h.Stats.Dirs
	return &ftpaudit.Result{Started: h.Started, Finished: now, Hosts: []*ftpaudit.HostResult{h}}
}

func maxRSSMB(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Maxrss) / 1024 // KB on Linux
}

func BenchmarkSave1M(b *testing.B) { benchSave1M(b, false) }

// benchSave1M saves a million entries into a new database per
// iteration; with source, from an EntrySource (fresh copies at each
// read, as a walk's spilled entries are decoded) instead of Entries.
func benchSave1M(b *testing.B, source bool) {
	ctx := context.Background()
	r := synthResult(1_000_000, false)
	if source {
		h := r.Hosts[0]
		h.Source, h.Entries = entrysrc.New(h.Entries), nil
	}
	var dbSize int64
	runtime.GC()
	input := maxRSSMB(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), fmt.Sprintf("h%d.db", i))
		s, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.Save(ctx, r, "scan ftp://mirror.example.org/pub"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		dbSize = fi.Size()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(r.Hosts[0].NumEntries()), "entries")
	b.ReportMetric(float64(dbSize)/(1<<20), "db-MB")
	b.ReportMetric(input, "input-RSS-MB")
	b.ReportMetric(maxRSSMB(b), "peak-RSS-MB")
	runtime.KeepAlive(r)
}

// BenchmarkDiff1M streams two saved scans of a million entries each (the
// second with about 1% of the files added, removed or changed) from the
// store into rules.DiffEntries. The scans are saved by a helper
// process, so that the peak RSS reported is the diff's alone.
func BenchmarkDiff1M(b *testing.B) {
	ctx := context.Background()
	db := filepath.Join(b.TempDir(), "h.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSaveProcess$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "FTPAUDIT_HISTORY_HELPER=diffsetup", "FTPAUDIT_HISTORY_DB="+db, "FTPAUDIT_HISTORY_N=1000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("setup: %v\n%s", err, out)
	}
	s, err := Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	scans, err := s.Scans(ctx)
	if err != nil || len(scans) != 2 {
		b.Fatalf("setup saved %d scans, %v", len(scans), err)
	}
	cur, old := scans[0].Hosts[0], scans[1].Hosts[0]
	var kinds map[rules.ChangeKind]int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		kinds = map[rules.ChangeKind]int{}
		err := rules.DiffEntries(s.EntryAttrs(ctx, old.ID), s.EntryAttrs(ctx, cur.ID), func(c rules.Change) error {
			kinds[c.Kind]++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// synthEntries' variant: every 300th file removed, changed, added.
	files := old.Stats.Files
	for _, k := range []rules.ChangeKind{rules.Added, rules.Removed, rules.Changed} {
		if want := files / 300; kinds[k] < want-1 || kinds[k] > want+1 {
			b.Errorf("%d %s, want about %d", kinds[k], k, want)
		}
	}
	b.ReportMetric(float64(old.Entries+cur.Entries), "entries")
	b.ReportMetric(float64(kinds[rules.Added]+kinds[rules.Removed]+kinds[rules.Changed]), "changes")
	b.ReportMetric(maxRSSMB(b), "peak-RSS-MB")
}
