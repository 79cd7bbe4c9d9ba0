package scanner

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// TestWalkObservesEveryEntry checks WalkOptions.Observe: it is given
// every entry the result holds, once, and its listings' filing order
// (seq) puts the entries of one path in the order the result reads them
// back, on walks per directory, recursive (with a section forged twice,
// so that a path is kept twice), and with the entries spilled.
func TestWalkObservesEveryEntry(t *testing.T) {
	type seen struct {
		seq int
		e   ftpaudit.Entry
	}
	cases := []struct {
		name string
		tm   *treeMem // nil: per directory
		opt  WalkOptions
	}{
		{"per directory", nil, WalkOptions{Connections: 3, NoTree: true}},
		{"recursive, a section forged twice", &treeMem{header: "proftpd", forge: "/a/a1"}, WalkOptions{Connections: 2}},
		{"spilled", nil, WalkOptions{Connections: 2, NoTree: true, SpillAfter: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []seen
			seqs := map[int]bool{}
			opt := c.opt
			opt.Backoff = time.Millisecond
			opt.SpillDir = t.TempDir()
			opt.Observe = func(seq int, es []ftpaudit.Entry) {
				mu.Lock()
				defer mu.Unlock()
				if seqs[seq] {
					t.Errorf("listing %d observed twice", seq)
				}
				seqs[seq] = true
				for _, e := range es {
					got = append(got, seen{seq, e.Clone()})
				}
			}
			connect := bigMemTree().connector()
			if c.tm != nil {
				c.tm.memTree = bigMemTree()
				connect = c.tm.connector()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := Walk(ctx, ftpaudit.Target{URL: "ftp://mem", Start: "/"}, connect, opt)
			defer r.Close()
			if !r.Complete {
				t.Fatalf("incomplete: %v %+v", r.Incomplete, r.Errors)
			}
			if len(got) != r.NumEntries() || len(got) == 0 {
				t.Fatalf("observed %d entries, the result holds %d", len(got), r.NumEntries())
			}
			slices.SortStableFunc(got, func(a, b seen) int {
				if c := strings.Compare(a.e.Path, b.e.Path); c != 0 {
					return c
				}
				return cmp.Compare(a.seq, b.seq)
			})
			i := 0
			for e := range r.AllEntries() {
				if !reflect.DeepEqual(*e, got[i].e) {
					t.Fatalf("entry %d read back is %+v; observed, in path and filing order, %+v", i, *e, got[i].e)
				}
				i++
			}
			if err := r.EntriesErr(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
