package rules

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/entrysrc"
)

// viaSource is h with its entries in a Source (as a walk's result has
// them) instead of Entries.
func viaSource(h *ftpaudit.HostResult) *ftpaudit.HostResult {
	c := *h
	c.Source = entrysrc.New(h.Entries)
	c.Entries = nil
	return &c
}

// viaFailingSource is viaSource(h) with a Source that fails with err
// after the first n entries.
func viaFailingSource(h *ftpaudit.HostResult, n int, err error) *ftpaudit.HostResult {
	c := viaSource(h)
	c.Source.(*entrysrc.Source).FailAfter(n, err)
	return c
}

// representations are the two ways a HostResult holds its entries.
var representations = []struct {
	name string
	of   func(*ftpaudit.HostResult) *ftpaudit.HostResult
}{
	{"entries", func(h *ftpaudit.HostResult) *ftpaudit.HostResult { return h }},
	{"source", viaSource},
}

// sameFindings fails t when got is not want, naming the first difference.
func sameFindings(t *testing.T, what string, got, want []ftpaudit.Finding) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: finding %d is\n%+v\nwant (from Entries)\n%+v", what, i, got[i], want[i])
			return
		}
	}
	t.Errorf("%s: %d findings, want (from Entries) %d:\n%s\nwant\n%s", what, len(got), len(want),
		strings.Join(sum(got), "\n"), strings.Join(sum(want), "\n"))
}

// judgeBothWays is Judge(h, p), checked to be the same with h's entries
// in a Source, and after a Prejudge observed them (judgePrejudged).
func judgeBothWays(t *testing.T, h *ftpaudit.HostResult, p *Policy) []ftpaudit.Finding {
	t.Helper()
	want := Judge(h, p)
	sameFindings(t, "Judge from a Source", Judge(viaSource(h), p), want)
	got, _ := judgePrejudged(t, h, p, 2)
	sameFindings(t, "Judge after a Prejudge", got, want)
	got, _ = judgePrejudged(t, viaSource(h), p, 3)
	sameFindings(t, "Judge from a Source after a Prejudge", got, want)
	return want
}

// manifestBothWays is ManifestFindings(h, ms, p), checked to be the same
// with h's entries in a Source.
func manifestBothWays(t *testing.T, h *ftpaudit.HostResult, ms []*ftpaudit.Manifest, p *Policy) []ftpaudit.Finding {
	t.Helper()
	want := ManifestFindings(h, ms, p)
	if h != nil {
		sameFindings(t, "ManifestFindings from a Source", ManifestFindings(viaSource(h), ms, p), want)
	}
	return want
}

// baselineRun compares cur with the baseline old (its entries given as
// cur's own stream seq) and returns the findings and report.
func baselineRun(t *testing.T, cur *ftpaudit.HostResult, seq iter.Seq2[ftpaudit.Entry, error], old []ftpaudit.Entry, p *Policy) ([]ftpaudit.Finding, ftpaudit.BaselineReport) {
	t.Helper()
	j := NewBaselineJudge(cur, Baseline{ScanID: 3, Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, p)
	if err := DiffEntries(SeqOf(old), j.Tap(seq), func(c Change) error { j.Add(c); return nil }); err != nil {
		t.Fatal(err)
	}
	return j.Finish()
}

// sourceCase is a host (and what it is compared with) whose findings
// must not depend on how it holds its entries.
type sourceCase struct {
	name      string
	host      func(t *testing.T) *ftpaudit.HostResult
	policy    string
	manifests func(t *testing.T) []*ftpaudit.Manifest
}

func sourceCases() []sourceCase {
	cs := []sourceCase{
		{name: "policy archive", host: func(*testing.T) *ftpaudit.HostResult { return policyArchive() }, policy: "ignore: [/ign]\n",
			manifests: func(t *testing.T) []*ftpaudit.Manifest {
				return []*ftpaudit.Manifest{mustParseManifest(t, "/ls-lR", ".:\ndrwxr-xr-x 2 a b 4096 Jan 1 2020 ign\ndrwxr-xr-x 2 a b 4096 Jan 1 2020 pub\n")}
			}},
		{name: "manifest root", host: func(*testing.T) *ftpaudit.HostResult { return mfRootHost() }, policy: mfRootPolicy, manifests: mfRootManifests},
		{name: "manifest large", host: func(t *testing.T) *ftpaudit.HostResult { h, _ := mfLarge(t, 20, 30); return h },
			manifests: func(t *testing.T) []*ftpaudit.Manifest { _, m := mfLarge(t, 20, 30); return []*ftpaudit.Manifest{m} }},
		{name: "unsorted entries", host: func(*testing.T) *ftpaudit.HostResult {
			h := randomArchive(rand.New(rand.NewPCG(9, 9)), 20)
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(h.Entries), func(a, b int) { h.Entries[a], h.Entries[b] = h.Entries[b], h.Entries[a] })
			return h
		}},
		{name: "duplicate paths", host: func(*testing.T) *ftpaudit.HostResult {
			return hostOf(
				dirE("/incoming", "drwxrwxrwx", "root"),
				fileE("/incoming/x.exe", "-rw-rw-rw-", "ftp", 1),
				fileE("/incoming/x.exe", "-rw-r--r--", "root", 2),
				dirE("/pub", "drwxr-xr-x", "root"),
				fileE("/pub", "-rw-rw-rw-", "root", 3),
			)
		}},
	}
	for seed := range uint64(3) {
		cs = append(cs, sourceCase{
			name:   fmt.Sprintf("random archive %d", seed),
			host:   func(*testing.T) *ftpaudit.HostResult { return randomArchive(rand.New(rand.NewPCG(seed, 5)), 40) },
			policy: "drop_boxes: [/dropbox]\nignore: [/pub/p010]\nsuspicious:\n  - name: \"*.txt\"\n    reason: text\n",
		})
	}
	return cs
}

// TestSourceSameFindings runs every judge on hosts holding their entries
// in Entries and in a Source (serially and in batches of one entry on
// several goroutines) and wants the same findings, reports and rescan
// verdicts from both.
func TestSourceSameFindings(t *testing.T) {
	defer func(m, w int) { shardMin, shardWorkers = m, w }(shardMin, shardWorkers)
	for _, tc := range sourceCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPolicy(t, tc.policy)
			h := tc.host(t)
			src := viaSource(h)

			shardMin, shardWorkers = h.NumEntries()+1, 1
			want := Judge(h, p)
			if len(want) == 0 && tc.manifests == nil {
				t.Fatal("no findings: the case exercises nothing")
			}
			sameFindings(t, "Judge from a Source", Judge(src, p), want)
			for _, w := range []int{2, 5} {
				shardMin, shardWorkers = 1, w
				sameFindings(t, fmt.Sprintf("Judge from Entries, %d workers", w), Judge(h, p), want)
				sameFindings(t, fmt.Sprintf("Judge from a Source, %d workers", w), Judge(src, p), want)
			}

			if tc.manifests != nil {
				ms := tc.manifests(t)
				mwant := ManifestFindings(h, ms, p)
				if len(mwant) == 0 {
					t.Error("no manifest findings: the case exercises nothing")
				}
				sameFindings(t, "ManifestFindings from a Source", ManifestFindings(src, ms, p), mwant)
			}

			// The baseline: the host with a few entries dropped and a few
			// sizes changed.
			es := h.EntryList()
			var old []ftpaudit.Entry
			for i, e := range es {
				switch i % 4 {
				case 1:
					continue
				case 3:
					e.Size++
				}
				if len(old) > 0 && old[len(old)-1].Path == e.Path {
					continue // DiffEntries wants each path once
				}
				old = append(old, e)
			}
			cur := h
			if hasDuplicatePaths(es) {
				// DiffEntries refuses a stream with a path twice: compare
				// the host without its duplicates.
				cur = hostOf(slices.CompactFunc(slices.Clone(es), func(a, b ftpaudit.Entry) bool { return a.Path == b.Path })...)
			}
			bwant, rwant := baselineRun(t, cur, SeqOf(cur.EntryList()), old, p)
			if rwant.Added+rwant.Changed == 0 {
				t.Error("no baseline changes: the case exercises nothing")
			}
			for _, r := range representations {
				hr := r.of(cur)
				bgot, rgot := baselineRun(t, hr, HostSeq(hr), old, p)
				sameFindings(t, "BaselineJudge fed HostSeq from "+r.name, bgot, bwant)
				if !reflect.DeepEqual(rgot, rwant) {
					t.Errorf("baseline report from %s: %+v, want %+v", r.name, rgot, rwant)
				}
			}

			// A rescan: every finding, and every entry's path, proven
			// gone or not alike.
			fs := append(slices.Clone(want), ftpaudit.Finding{Rule: ftpaudit.RuleServerPermFacts, Path: "/"})
			for _, e := range es {
				fs = append(fs, ftpaudit.Finding{Rule: ftpaudit.RuleHiddenName, Path: e.Path + "/x"})
			}
			re, rs := NewRescan(h, nil, ""), NewRescan(src, nil, "")
			for _, f := range fs {
				if a, b := re.Unproven(f), rs.Unproven(f); a != b {
					t.Errorf("Unproven(%s %s): %q from a Source, %q from Entries", f.Rule, f.Path, b, a)
				}
			}
		})
	}
}

func hasDuplicatePaths(es []ftpaudit.Entry) bool {
	for i := 1; i < len(es); i++ {
		if es[i].Path == es[i-1].Path {
			return true
		}
	}
	return false
}

// TestSourceReadBackFails: a Source whose entries stop short (its
// temporary file unreadable) makes no judge panic or hang; the host says
// so (EntriesErr), the rescan proves nothing gone, and the baseline
// comparison fails with the error instead of reporting the entries not
// read back as removed.
func TestSourceReadBackFails(t *testing.T) {
	defer func(m, w int) { shardMin, shardWorkers = m, w }(shardMin, shardWorkers)
	boom := errors.New("entry store: read /tmp/x: input/output error")
	// DiffEntries wants each path once.
	h := hostOf(slices.CompactFunc(randomArchive(rand.New(rand.NewPCG(3, 5)), 40).Entries, func(a, b ftpaudit.Entry) bool { return a.Path == b.Path })...)
	ms := func() []*ftpaudit.Manifest { _, m := mfLarge(t, 5, 5); return []*ftpaudit.Manifest{m} }()
	p := mustPolicy(t, "drop_boxes: [/dropbox]\n")
	n := h.NumEntries()
	for _, at := range []int{0, 1, n / 3, n - 1} {
		for _, w := range []int{1, 3} {
			t.Run(fmt.Sprintf("after %d entries, %d workers", at, w), func(t *testing.T) {
				shardMin, shardWorkers = 1, w
				hf := viaFailingSource(h, at, boom)
				Judge(hf, p)
				ManifestFindings(hf, ms, p)
				if err := hf.EntriesErr(); !errors.Is(err, boom) {
					t.Errorf("EntriesErr() = %v, want %v", err, boom)
				}
				r := &ftpaudit.Result{Hosts: []*ftpaudit.HostResult{viaFailingSource(h, at, boom)}}
				JudgeResult(r, p)
				if err := r.Hosts[0].EntriesErr(); !errors.Is(err, boom) {
					t.Errorf("after JudgeResult, EntriesErr() = %v, want %v", err, boom)
				}
				got := NewRescan(hf, nil, "").Unproven(ftpaudit.Finding{Rule: ftpaudit.RuleHiddenName, Path: "/pub/p003/.x"})
				if !strings.Contains(got, "could not all be read back") || !strings.Contains(got, boom.Error()) {
					t.Errorf("Unproven = %q, want the read-back error", got)
				}
				old := h.EntryList()
				j := NewBaselineJudge(hf, Baseline{ScanID: 1}, p)
				err := DiffEntries(SeqOf(old), j.Tap(HostSeq(hf)), func(c Change) error { j.Add(c); return nil })
				if !errors.Is(err, boom) {
					t.Errorf("DiffEntries = %v, want %v", err, boom)
				}
			})
		}
	}
}

// TestEachEntryPanicReraised: a panic in a rule on a worker is raised
// again by eachEntry, once the workers and the reader have stopped, and
// the other goroutines do not hang on it.
func TestEachEntryPanicReraised(t *testing.T) {
	defer func(m, w int) { shardMin, shardWorkers = m, w }(shardMin, shardWorkers)
	h := randomArchive(rand.New(rand.NewPCG(4, 5)), 30)
	for _, r := range representations {
		for _, w := range []int{1, 4} {
			shardMin, shardWorkers = 1, w
			j := newJudge(r.of(h), DefaultPolicy())
			got := func() (p any) {
				defer func() { p = recover() }()
				j.eachEntry(func(j *judge, e *ftpaudit.Entry) {
					if strings.Contains(e.Path, "/pub/p005/") {
						panic("rule failed at " + e.Path)
					}
				})
				return nil
			}()
			if s, _ := got.(string); !strings.HasPrefix(s, "rule failed at /pub/p005/") {
				t.Errorf("%s, %d workers: recovered %v", r.name, w, got)
			}
		}
	}
}

// TestEachEntryBoundedBatches: while the batch whose findings are due
// next is still being judged, the reader reads only a few batches ahead
// (those queued for the collector, 2 per worker), not the whole host;
// then every entry is judged, once, and the findings come in path order.
func TestEachEntryBoundedBatches(t *testing.T) {
	defer func(m, w, b int) { shardMin, shardWorkers, shardBatch = m, w, b }(shardMin, shardWorkers, shardBatch)
	const workers, size = 3, 4
	shardMin, shardWorkers, shardBatch = size, workers, size
	h := viaSource(randomArchive(rand.New(rand.NewPCG(6, 5)), 60))
	src := h.Source.(*entrysrc.Source)
	var mu sync.Mutex
	read := 0
	h.Source = countingSource{src, func() { mu.Lock(); read++; mu.Unlock() }}
	first := src.Entries[0].Path
	release := make(chan struct{})
	j := newJudge(h, DefaultPolicy())
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.eachEntry(func(j *judge, e *ftpaudit.Entry) {
			if e.Path == first {
				<-release // the batch due first is slow
			}
			j.add(e.Path, ftpaudit.RuleHiddenName, ftpaudit.SevLow, []string{"x"}, "")
		})
	}()
	// Wait for the reader to start, then to stop reading (a loaded
	// machine may start it late: a reader that read nothing proves
	// nothing).
	last, still := -1, 0
	for deadline := time.Now().Add(20 * time.Second); (still < 10 || last <= 0) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		n := read
		mu.Unlock()
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	// The batch due first, those queued behind it, and the one the
	// reader has filled and waits to queue.
	if last <= 0 {
		t.Fatalf("the reader never read an entry")
	}
	if limit := (2*workers + 2) * size; last > limit {
		t.Errorf("the reader read %d entries ahead of the first batch, want at most %d (of %d)", last, limit, src.Len())
	}
	close(release)
	<-done
	var judged []string
	for _, f := range j.c.out {
		judged = append(judged, f.Path)
	}
	if len(judged) != src.Len() {
		t.Fatalf("%d findings for %d entries", len(judged), src.Len())
	}
	if !slices.IsSorted(judged) {
		t.Error("findings not in path order")
	}
}

// countingSource calls read for every entry its All yields.
type countingSource struct {
	*entrysrc.Source
	read func()
}

func (s countingSource) All() iter.Seq[*ftpaudit.Entry] {
	return func(yield func(*ftpaudit.Entry) bool) {
		for e := range s.Source.All() {
			s.read()
			if !yield(e) {
				return
			}
		}
	}
}

// TestReadAhead: the survey's read-ahead yields exactly what AllEntries
// yields, in order, in batches of any size; a caller that stops early
// stops the reader before it returns (nothing is read after); a panic
// while reading is raised again in the caller.
func TestReadAhead(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("readAhead reads on the caller's goroutine on one core")
	}
	defer func(m, b int) { shardMin, shardBatch = m, b }(shardMin, shardBatch)
	h := randomArchive(rand.New(rand.NewPCG(9, 5)), 40)
	for _, r := range representations {
		hr := r.of(h)
		var want []string
		for e := range hr.AllEntries() {
			want = append(want, e.Path+"\x00"+e.Raw)
		}
		for _, size := range []int{1, 3, 4096} {
			shardMin, shardBatch = size, size
			j := newJudge(hr, DefaultPolicy())
			var got []string
			for e := range j.readAhead() {
				got = append(got, e.Path+"\x00"+e.Raw)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s, batches of %d: %d entries differ from AllEntries' %d", r.name, size, len(got), len(want))
			}
		}
	}

	shardMin, shardBatch = 2, 2
	hs := viaSource(h)
	src := hs.Source.(*entrysrc.Source)
	var mu sync.Mutex
	read := 0
	hs.Source = countingSource{src, func() { mu.Lock(); read++; mu.Unlock() }}
	j := newJudge(hs, DefaultPolicy())
	n := 0
	for range j.readAhead() {
		if n++; n == 5 {
			break
		}
	}
	mu.Lock()
	stopped := read
	mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	after := read
	mu.Unlock()
	// Read at most: the three batches the caller took, four queued, one
	// the reader holds.
	if after != stopped || stopped > 3*2+4*2+2 || stopped >= len(src.Entries) {
		t.Errorf("after a stop at 5 entries the reader read %d, then %d (of %d)", stopped, after, len(src.Entries))
	}

	hs.Source = countingSource{src, func() {
		mu.Lock()
		defer mu.Unlock()
		if read++; read == 9 {
			panic("read failed")
		}
	}}
	read = 0
	got := func() (p any) {
		defer func() { p = recover() }()
		for range newJudge(hs, DefaultPolicy()).readAhead() {
		}
		return nil
	}()
	if got != "read failed" {
		t.Errorf("recovered %v, want the reader's panic", got)
	}
}
