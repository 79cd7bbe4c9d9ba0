package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/rules"
)

// BenchmarkNightly30 saves 30 nightly scans of a synthetic archive
// (synthEntries; 1,000,000 entries, FTPAUDIT_NIGHTLY_N to change it) with
// 0.1% of its entries changed each night after the first (a third of
// them changed in size, a third removed, a third added), then compares
// the last night with the one before as --baseline does (the saved side
// streamed from the store by fingerprint against the current side, in
// memory: EntryAttrsBeside). It reports
// the database's growth per night, the time of each save after the
// first relative to the first, the time to read the scan at the end of
// the longest chain, and the live heap the comparison adds (sampled
// after a forced collection every 20 ms) and what it allocates per entry.
// FTPAUDIT_NIGHTLY_SNAPSHOT_EVERY lowers snapshotEvery (64), so that the
// nights include periodic snapshots: their save time is reported apart
// (snapshot-save-s, the mean of the snapshots after the first night), and
// the growth then includes them.
//
//	go test ./history -run XXX -bench Nightly30 -benchtime 1x
func BenchmarkNightly30(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("FTPAUDIT_NIGHTLY_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	if v := os.Getenv("FTPAUDIT_NIGHTLY_SNAPSHOT_EVERY"); v != "" {
		every, err := strconv.Atoi(v)
		if err != nil || every < 1 {
			b.Fatalf("FTPAUDIT_NIGHTLY_SNAPSHOT_EVERY=%q", v)
		}
		old := snapshotEvery
		snapshotEvery = every
		defer func() { snapshotEvery = old }()
	}
	for range b.N {
		nightly30(b, n)
	}
}

func nightly30(b *testing.B, n int) {
	ctx := context.Background()
	b.StopTimer()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "h.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	size := func() int64 {
		var pages, ps int64
		if err := s.db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
			b.Fatal(err)
		}
		if err := s.db.QueryRow("PRAGMA page_size").Scan(&ps); err != nil {
			b.Fatal(err)
		}
		return pages * ps
	}
	rng := rand.New(rand.NewPCG(30, 1))
	r := synthResult(n, false)
	var first, firstSize, maxGrowth, sumGrowth int64
	var saveTimes, snapshotTimes []time.Duration
	var hosts []int64
	prev := int64(0)
	for night := range 30 {
		if night > 0 {
			r.Hosts[0].Entries = mutateNight(r.Hosts[0].Entries, rng, night, n/1000)
		}
		runtime.GC()
		b.StartTimer()
		t0 := time.Now()
		id, err := s.Save(ctx, r, "nightly")
		d := time.Since(t0)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		hosts = append(hosts, hostsOf(b, s, id)[0])
		if night > 0 {
			var depth int
			if err := s.db.QueryRow("SELECT coalesce((SELECT depth FROM deltas WHERE host_id = ?), 0)", hosts[night]).Scan(&depth); err != nil {
				b.Fatal(err)
			}
			if depth == 0 {
				snapshotTimes = append(snapshotTimes, d)
			}
		}
		sz := size()
		if night == 0 {
			first, firstSize = sz, sz
		} else {
			g := sz - prev
			sumGrowth += g
			maxGrowth = max(maxGrowth, g)
			saveTimes = append(saveTimes, d)
		}
		if night == 0 {
			b.ReportMetric(d.Seconds(), "first-save-s")
		}
		prev = sz
	}
	var sum, worst time.Duration
	for _, d := range saveTimes {
		sum += d
		worst = max(worst, d)
	}
	mean := sum / time.Duration(len(saveTimes))
	var snapSum time.Duration
	for _, d := range snapshotTimes {
		snapSum += d
	}

	// The scan at the end of the longest chain: the last before a snapshot.
	deepest, depth := hosts[0], 0
	for _, h := range hosts {
		var d int
		if err := s.db.QueryRow("SELECT coalesce((SELECT depth FROM deltas WHERE host_id = ?), 0)", h).Scan(&d); err != nil {
			b.Fatal(err)
		}
		if d > depth {
			deepest, depth = h, d
		}
	}
	t0 := time.Now()
	read := 0
	for _, err := range s.EntryAttrs(ctx, deepest) {
		if err != nil {
			b.Fatal(err)
		}
		read++
	}
	readDeep := time.Since(t0)
	t0 = time.Now()
	for _, err := range s.EntryAttrs(ctx, hosts[0]) {
		if err != nil {
			b.Fatal(err)
		}
	}
	readSnap := time.Since(t0)

	// --baseline last: the night before, from the store, against the
	// last night's entries in memory. The heap it adds is sampled.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			// The live heap: what the comparison holds, not the garbage
			// it leaves for the collector.
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	t0 = time.Now()
	changes := 0
	err = rules.DiffEntries(s.EntryAttrsBeside(ctx, hosts[len(hosts)-2], r.Hosts[0].AllEntries()), rules.SeqOf(r.Hosts[0].Entries), func(rules.Change) error {
		changes++
		return nil
	})
	cmpTime := time.Since(t0)
	close(done)
	wg.Wait()
	var ms2 runtime.MemStats
	runtime.ReadMemStats(&ms2)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(r.Hosts[0].Entries)), "entries")
	b.ReportMetric(float64(firstSize)/(1<<20), "first-db-MB")
	b.ReportMetric(float64(firstSize)/float64(n), "first-B/entry")
	b.ReportMetric(float64(sumGrowth)/29/(1<<10), "growth-KB/night")
	b.ReportMetric(float64(maxGrowth)/(1<<10), "max-growth-KB/night")
	b.ReportMetric(100*float64(sumGrowth)/29/float64(first), "growth-%first/night")
	b.ReportMetric(float64(sumGrowth)/29/float64(n/1000), "B/changed-entry")
	b.ReportMetric(mean.Seconds(), "save-s/night")
	b.ReportMetric(worst.Seconds(), "max-save-s")
	if len(snapshotTimes) > 0 {
		b.ReportMetric(snapSum.Seconds()/float64(len(snapshotTimes)), "snapshot-save-s")
		b.ReportMetric(float64(len(snapshotTimes)), "snapshots")
	}
	b.ReportMetric(readDeep.Seconds(), "read-depth-s")
	b.ReportMetric(float64(depth), "depth")
	b.ReportMetric(readSnap.Seconds(), "read-snapshot-s")
	b.ReportMetric(cmpTime.Seconds(), "compare-s")
	b.ReportMetric(float64(changes), "changes")
	b.ReportMetric(float64(int64(peak)-int64(before))/(1<<20), "compare-live-heap-MB")
	b.ReportMetric(float64(ms2.TotalAlloc-ms.TotalAlloc)/float64(len(r.Hosts[0].Entries)), "compare-alloc-B/entry")
	b.ReportMetric(float64(size())/(1<<20), "db-MB")
	b.Logf("%d entries: first save %.1f MB; saves after it: mean %v, worst %v, snapshots among them %v; read at depth %d (%d entries) %v, snapshot %v; compare %v, %d changes",
		len(r.Hosts[0].Entries), float64(firstSize)/(1<<20), mean, worst, snapshotTimes, depth, read, readDeep, readSnap, cmpTime, changes)
}

// mutateNight returns es with k entries changed: a third of them files
// grown by a byte, a third removed, a third new files added beside
// existing ones. It builds a new slice, in path order, as the walk gives.
func mutateNight(es []ftpaudit.Entry, rng *rand.Rand, night, k int) []ftpaudit.Entry {
	const (
		keep = iota
		grow
		remove
		add
	)
	what := map[int]int{}
	for len(what) < k {
		i := rng.IntN(len(es))
		if es[i].Type != ftpaudit.TypeFile {
			continue
		}
		if _, ok := what[i]; !ok {
			what[i] = grow + len(what)%3
		}
	}
	out := make([]ftpaudit.Entry, 0, len(es)+k)
	for i, e := range es {
		switch what[i] {
		case grow:
			e.Size++
			out = append(out, e)
		case remove:
		case add:
			out = append(out, e)
			e.Path = fmt.Sprintf("%s.n%d", e.Path, night)
			e.Name = e.Path[lastSlash(e.Path)+1:]
			out = append(out, e)
		default:
			out = append(out, e)
		}
	}
	// A file added beside one that had one added before: in walk order.
	slices.SortStableFunc(out, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return out
}
