package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// pruneEntries is the number of entries of the first host of each scan
// TestPrune saves: enough for a scan to fill several pages, so that a
// prune frees whole pages for the vacuum to return.
const pruneEntries = 300

// savePruneScans saves 5 scans of sampleResult's shape, started on days 0
// to 4 after base, and returns their ids. Every entry changes from scan to
// scan, so every scan is a full snapshot.
func savePruneScans(t *testing.T, s *Store, base time.Time) []int64 {
	t.Helper()
	var ids []int64
	for i := 0; i < 5; i++ {
		r := sampleResult(t)
		r.Started = base.AddDate(0, 0, i)
		es := make([]ftpaudit.Entry, pruneEntries)
		for j := range es {
			es[j] = ftpaudit.Entry{Path: fmt.Sprintf("/f%05d", j), Name: fmt.Sprintf("f%05d", j), Type: ftpaudit.TypeFile, Raw: strings.Repeat(string(rune('a'+i)), 100)}
		}
		r.Hosts[0].Entries = es
		id, err := s.Save(context.Background(), r, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestPrune(t *testing.T) { eachBackend(t, testPrune) }

func testPrune(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := savePruneScans(t, s, base)
	gone := append(hostsOf(t, s, ids[0]), hostsOf(t, s, ids[1])...)
	pages := 0
	if !s.pg { // PostgreSQL: no file to shrink
		pages = count(t, s, "PRAGMA page_count")
	}

	if n, err := s.Prune(ctx, 0, time.Time{}); err != nil || n != 0 {
		t.Errorf("Prune(no bounds) = %d, %v; want 0", n, err)
	}
	n, err := s.Prune(ctx, 3, time.Time{})
	if err != nil || n != 2 {
		t.Fatalf("Prune(keep 3) = %d, %v; want 2", n, err)
	}
	checkPruned(t, s, ids[:2], gone, ids[2:])
	if !s.pg {
		if c := count(t, s, "PRAGMA freelist_count"); c != 0 {
			t.Errorf("%d free pages after prune: not vacuumed", c)
		}
		if c := count(t, s, "PRAGMA page_count"); c >= pages {
			t.Errorf("%d pages after pruning 2 of 5 scans, %d before: nothing returned to the file system", c, pages)
		}
	}

	// By age: scans started before day 3 (ids[2] started on day 2).
	n, err = s.Prune(ctx, 0, base.AddDate(0, 0, 3))
	if err != nil || n != 1 {
		t.Fatalf("Prune(older than day 3) = %d, %v; want 1", n, err)
	}
	// Either bound deletes: keep 1, and nothing is that old.
	n, err = s.Prune(ctx, 1, base.AddDate(-1, 0, 0))
	if err != nil || n != 1 {
		t.Fatalf("Prune(keep 1) = %d, %v; want 1", n, err)
	}
	checkPruned(t, s, ids[:4], nil, ids[4:])
	// Ids are never reused after a prune.
	id, err := s.Save(ctx, sampleResult(t), "")
	if err != nil || id <= ids[4] {
		t.Errorf("save after prune: id %d, %v; want > %d", id, err, ids[4])
	}
}

// hostsOf returns the host ids of scan id.
func hostsOf(t testing.TB, s *Store, id int64) []int64 {
	t.Helper()
	sc, err := s.Scan(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, h := range sc.Hosts {
		out = append(out, h.ID)
	}
	return out
}

// checkPruned checks that the scans pruned, and their hosts gone, left
// no rows, and that exactly the scans kept are left (in ascending id
// order), with all their entries.
func checkPruned(t *testing.T, s *Store, pruned, gone, kept []int64) {
	t.Helper()
	ctx := context.Background()
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []int64
	for _, sc := range scans {
		left = append(left, sc.ID)
	}
	slices.Reverse(left)
	if !slices.Equal(left, kept) {
		t.Errorf("after pruning: scans %v, want %v", left, kept)
	}
	for _, h := range gone {
		for _, table := range []string{"entries", "chunks", "path_notes", "findings"} {
			if c := count(t, s, "SELECT count(*) FROM "+table+" WHERE host_id = ?", h); c != 0 {
				t.Errorf("host %d: %d rows left in %s", h, c, table)
			}
		}
		if _, err := s.HostResult(ctx, h, false); !errors.Is(err, ErrNotFound) {
			t.Errorf("pruned host %d: %v, want ErrNotFound", h, err)
		}
	}
	for _, id := range pruned {
		if c := count(t, s, "SELECT count(*) FROM findings WHERE scan_id = ?", id); c != 0 {
			t.Errorf("%d orphan findings of pruned scan %d left", c, id)
		}
	}
	// Each scan: pruneEntries entries, all changed (snapshots), and one
	// in its second host, the same every time: stored once, by the oldest
	// kept scan (rewritten whole when its base went), the others deltas
	// without rows.
	if c, want := storedEntries(t, s), len(kept)*pruneEntries+1; c != want {
		t.Errorf("%d entries left, want %d", c, want)
	}
	for _, id := range kept {
		sc, err := s.Scan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range sc.Hosts {
			if got := len(collect(t, s.Entries(ctx, h.ID))); got != h.Entries {
				t.Errorf("kept host %d reads back %d entries, saved %d", h.ID, got, h.Entries)
			}
		}
	}
}
