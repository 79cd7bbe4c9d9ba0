package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// A walk's entries come through HostResult.Source (an EntrySource),
// streamed: every format writes the same bytes for them as for the same
// entries in HostResult.Entries, and the inventory formats fail when
// they cannot all be read back.

// errSource is the error a fakeSource fails with.
var errSource = errors.New("spill file: unexpected EOF")

// fakeSource is an ftpaudit.EntrySource over a slice sorted by path: All
// yields fresh copies. When failAfter >= 0, All stops after failAfter
// entries, and Err is then errSource.
type fakeSource struct {
	es        []ftpaudit.Entry
	failAfter int

	mu  sync.Mutex
	err error
}

func newFakeSource(es []ftpaudit.Entry) *fakeSource {
	es = slices.Clone(es)
	slices.SortStableFunc(es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return &fakeSource{es: es, failAfter: -1}
}

func (s *fakeSource) Len() int { return len(s.es) }

func (s *fakeSource) All() iter.Seq[*ftpaudit.Entry] {
	return func(yield func(*ftpaudit.Entry) bool) {
		for i := range s.es {
			if i == s.failAfter {
				s.mu.Lock()
				s.err = errSource
				s.mu.Unlock()
				return
			}
			e := s.es[i]
			if e.Extra != nil {
				x := *e.Extra
				e.Extra = &x
			}
			if !yield(&e) {
				return
			}
		}
	}
}

func (s *fakeSource) Finder() func(string) *ftpaudit.Entry {
	return func(p string) *ftpaudit.Entry {
		i := sort.Search(len(s.es), func(i int) bool { return s.es[i].Path > p })
		if i > 0 && s.es[i-1].Path == p {
			e := s.es[i-1]
			return &e
		}
		return nil
	}
}

func (s *fakeSource) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *fakeSource) Close() error { return nil }

// withSources is r with each host's entries in a Source (failing after
// failAfter entries when >= 0) instead of Entries; r is left as it is.
func withSources(r *ftpaudit.Result, failAfter int) *ftpaudit.Result {
	out := *r
	out.Hosts = nil
	for _, h := range r.Hosts {
		if h == nil {
			out.Hosts = append(out.Hosts, nil)
			continue
		}
		c := *h
		src := newFakeSource(h.Entries)
		src.failAfter = failAfter
		c.Source, c.Entries = src, nil
		out.Hosts = append(out.Hosts, &c)
	}
	return &out
}

// sourceResults are the results the tests below render both ways.
func sourceResults() []*ftpaudit.Result {
	results := []*ftpaudit.Result{sample(), findingsSample(), hostileSample(), hostileArchive(), notListedSample(),
		suppressedSample(), sharedURLSample(), {}}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100 {
		r := randResult(rng)
		// Entries of the same path, in the order recorded.
		for _, h := range r.Hosts {
			if len(h.Entries) > 0 {
				e := h.Entries[0]
				e.Raw += " again"
				h.Entries = slices.Insert(h.Entries, 1, e)
			}
		}
		results = append(results, r)
	}
	return results
}

// Every format, with and without the inventory, writes the same bytes
// for entries in a Source as for the same entries in Entries.
func TestReportFromSource(t *testing.T) {
	for i, r := range sourceResults() {
		for _, format := range Formats() {
			for _, inv := range []bool{false, true} {
				rep, err := New(format, Options{Inventory: inv, ToolVersion: "v1"})
				if err != nil {
					t.Fatal(err)
				}
				var want, got bytes.Buffer
				if err := rep.Report(&want, r); err != nil {
					t.Fatal(err)
				}
				if err := rep.Report(&got, withSources(r, -1)); err != nil {
					t.Fatalf("result %d, %s: %v", i, format, err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("result %d, %s, inventory %v: from a Source\n%s\nfrom Entries\n%s", i, format, inv, got.Bytes(), want.Bytes())
				}
			}
		}
		var want, got bytes.Buffer
		now := map[string]time.Time{"ftp://a:21": time.Unix(1e9, 0)}
		if err := WriteMetrics(&want, r, now); err != nil {
			t.Fatal(err)
		}
		if err := WriteMetrics(&got, withSources(r, -1), now); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("result %d, metrics: from a Source\n%s\nfrom Entries\n%s", i, got.Bytes(), want.Bytes())
		}
	}
}

// An inventory whose entries cannot all be read back is an error, not a
// document that claims it is whole: JSON writes no valid document,
// JSONL no more lines. Without the inventory, the entries are not read.
func TestInventorySourceFails(t *testing.T) {
	r := hostileArchive()
	var h *ftpaudit.HostResult
	for _, hh := range r.Hosts {
		if len(hh.Entries) > 3 {
			h = hh
			break
		}
	}
	if h == nil {
		t.Fatal("no host with entries")
	}
	bad := withSources(r, 3)
	wantErr := "read the entries of " + h.Target.URL + " back: " + errSource.Error()
	var out bytes.Buffer
	err := (&JSON{Inventory: true}).Report(&out, bad)
	if err == nil || !errors.Is(err, errSource) || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("JSON: %v, want %q", err, wantErr)
	}
	if json.Valid(out.Bytes()) {
		t.Errorf("JSON: a valid document written:\n%s", out.Bytes())
	}
	out.Reset()
	err = (&JSONL{Inventory: true}).Report(&out, bad)
	if err == nil || !errors.Is(err, errSource) || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("JSONL: %v, want %q", err, wantErr)
	}
	if n := strings.Count(out.String(), `"type":"entry"`); n > 3 {
		t.Errorf("JSONL: %d entry lines written after the Source failed after 3", n)
	}
	for _, j := range []Reporter{&JSON{}, &JSONL{}} {
		if err := j.Report(&out, withSources(r, 0)); err != nil {
			t.Errorf("%T without the inventory: %v", j, err)
		}
	}
}

// Rewrite applies f to the entries kept (All yields copies of them).
func (s *fakeSource) Rewrite(f func(*ftpaudit.Entry) bool) int {
	n := 0
	for i := range s.es {
		if f(&s.es[i]) {
			n++
		}
	}
	return n
}
