package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/entrysrc"
)

// A walk's entries come through HostResult.Source (an EntrySource),
// streamed: every format writes the same bytes for them as for the same
// entries in HostResult.Entries, and the inventory formats fail when
// they cannot all be read back.

// errSource is the error a failing Source fails with.
var errSource = errors.New("spill file: unexpected EOF")

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
		src := entrysrc.New(h.Entries)
		if failAfter >= 0 {
			src.FailAfter(failAfter, errSource)
		}
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
