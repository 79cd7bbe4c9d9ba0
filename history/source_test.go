package history

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/entrysrc"
)

// A walk's entries come through HostResult.Source (an EntrySource),
// streamed: a save of them writes exactly what a save of the same
// entries in HostResult.Entries writes, and fails, committing nothing,
// when they cannot all be read back.

// inKeyOrder yields the positions in es, sorted by path as AllEntries
// yields them (order nil) or in order, with each entry's dup.
func inKeyOrder(es []ftpaudit.Entry, order []int32) iter.Seq2[int, int64] {
	return func(yield func(int, int64) bool) {
		dup := int64(0)
		prev := -1
		for k := range es {
			i := k
			if order != nil {
				i = int(order[k])
			}
			if prev >= 0 && es[prev].Path == es[i].Path {
				dup++
			} else {
				dup = 0
			}
			prev = i
			if !yield(i, dup) {
				return
			}
		}
	}
}

// entrySeq is es as EntryAttrsBeside takes a walk's entries: in path
// order, as AllEntries yields them.
func entrySeq(es []ftpaudit.Entry) iter.Seq[*ftpaudit.Entry] {
	return (&ftpaudit.HostResult{Entries: es}).AllEntries()
}

// errSource is the error a failing Source fails with.
var errSource = errors.New("spill file: unexpected EOF")

// sourceResult is nightResult with the entries in a Source.
func sourceResult(t testing.TB, src *entrysrc.Source, night int) *ftpaudit.Result {
	r := nightResult(t, nil, night)
	r.Hosts[0].Source = src
	return r
}

// dumpEntries is every row a save of entries writes, as text, in order.
func dumpEntries(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, n_entries FROM hosts ORDER BY id`,
		`SELECT * FROM chunks ORDER BY host_id, first, first_dup`,
		`SELECT * FROM entries ORDER BY host_id, path, dup`,
		`SELECT * FROM removed_entries ORDER BY host_id, path, dup`,
		`SELECT * FROM deltas ORDER BY host_id`,
	} {
		rows, err := s.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s\n", q)
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, " %s=%#v", cols[i], v)
			}
			b.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// sameKey gives store b the fingerprint key of store a, so that the
// same entries are saved as the same bytes in both.
func sameKey(t *testing.T, a, b *Store) {
	t.Helper()
	if _, err := b.db.Exec(`UPDATE fp_key SET key = ? WHERE id = 1`, a.key); err != nil {
		t.Fatal(err)
	}
	b.key = slices.Clone(a.key)
}

// A host saved from a Source is saved byte for byte as from Entries:
// snapshots, deltas whose entries are kept and deltas whose entries are
// read again, a delta too big that becomes a snapshot; and reads back the
// same.
func TestSaveFromSource(t *testing.T) { eachBackend(t, testSaveFromSource) }

func testSaveFromSource(t *testing.T) {
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, newTestDB(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	byEntries, bySource := open(), open()
	sameKey(t, byEntries, bySource)
	keep0 := keepDelta
	t.Cleanup(func() { keepDelta = keep0 })

	g := newNightly(2000, 7)
	for night, c := range []struct {
		changes int
		keep    int
		want    string // what the save must be
	}{
		{0, keep0, "snapshot"},
		{5, keep0, "delta"},
		{20, 3, "delta"}, // more changes than kept: read again
		{20, 0, "delta"},
		{0, 0, "delta"}, // nothing changed
		{700, keep0, "snapshot"},
		{3, 1, "delta"},
	} {
		keepDelta = c.keep
		es := g.night(c.changes)
		// A hand-made Entries out of order (cut between paths): saved
		// as sorted.
		given := es
		if night == 0 {
			k := len(es) / 2
			for es[k-1].Path == es[k].Path {
				k++
			}
			given = append(slices.Clone(es[k:]), es[:k]...)
		}
		src := entrysrc.New(es)
		var ids [2]int64
		for i, r := range []*ftpaudit.Result{nightResult(t, given, night), sourceResult(t, src, night)} {
			s := []*Store{byEntries, bySource}[i]
			id, err := s.Save(ctx, r, "")
			if err != nil {
				t.Fatalf("night %d: %v", night, err)
			}
			ids[i] = hostsOf(t, s, id)[0]
			checkHost(t, s, ids[i], es)
		}
		if ids[0] != ids[1] {
			t.Fatalf("night %d: host %d and %d", night, ids[0], ids[1])
		}
		delta := count(t, bySource, `SELECT count(*) FROM deltas WHERE host_id = ?`, ids[1]) == 1
		if delta != (c.want == "delta") {
			t.Errorf("night %d: delta %v, want a %s", night, delta, c.want)
		}
		if src.Err() != nil || src.Calls() > 2 {
			t.Errorf("night %d: source read %d times, err %v", night, src.Calls(), src.Err())
		}
		if a, b := dumpEntries(t, byEntries), dumpEntries(t, bySource); a != b {
			t.Fatalf("night %d: saved from a Source, not as from Entries:\n%s", night, firstDiff(a, b))
		}
	}
}

// firstDiff shows where a and b first differ, by line.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n entries: %s\n source:  %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines, %d lines", len(al), len(bl))
}

// A save whose Source fails part way (whichever read of it: a snapshot's,
// a delta's plan, a delta's second read, a snapshot after a plan of too
// many changes), or that holds other than its Len or out of order,
// returns an error and commits nothing; the next save goes on as if it
// had not been tried.
func TestSaveSourceFails(t *testing.T) { eachBackend(t, testSaveSourceFails) }

func testSaveSourceFails(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, newTestDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keep0 := keepDelta
	t.Cleanup(func() { keepDelta = keep0 })
	tables := []string{"scans", "hosts", "chunks", "entries", "removed_entries", "deltas", "path_notes"}
	rows := func() map[string]int {
		m := map[string]int{}
		for _, tb := range tables {
			m[tb] = count(t, s, `SELECT count(*) FROM `+tb)
		}
		return m
	}
	g := newNightly(3000, 11)
	fails := func(name string, r *ftpaudit.Result, wantErr error, wantText string) {
		t.Helper()
		before := rows()
		_, err := s.Save(ctx, r, "")
		if err == nil || !strings.Contains(err.Error(), wantText) || (wantErr != nil && !errors.Is(err, wantErr)) {
			t.Errorf("%s: %v, want an error %q", name, err, wantText)
		}
		if after := rows(); !maps.Equal(before, after) {
			t.Errorf("%s: rows %v after, %v before: committed", name, after, before)
		}
	}
	failing := func(es []ftpaudit.Entry, after, call int) *entrysrc.Source {
		return entrysrc.New(es).FailOnCall(call, after, errSource)
	}
	const readBack = "read the entries back: " + "spill file"

	es := g.night(0)
	fails("first save", sourceResult(t, failing(es, 1500, 0), 0), errSource, readBack)
	fails("first save, failing at once", sourceResult(t, failing(es, 0, 0), 0), errSource, readBack)
	if _, err := s.Save(ctx, sourceResult(t, entrysrc.New(es), 0), ""); err != nil {
		t.Fatal(err)
	}

	next := g.night(30)
	fails("delta plan", sourceResult(t, failing(next, 2000, 1), 1), errSource, readBack)
	keepDelta = 5
	fails("delta read again", sourceResult(t, failing(next, 2000, 2), 1), errSource, readBack)
	fails("delta read again, at once", sourceResult(t, failing(next, 0, 2), 1), errSource, readBack)
	keepDelta = keep0
	many := g.night(900)
	fails("snapshot after the plan", sourceResult(t, failing(many, 2500, 2), 1), errSource, readBack)

	short := entrysrc.New(next)
	short.LenDelta = 1
	fails("fewer than Len", sourceResult(t, short, 1), nil, fmt.Sprintf("%d entries of %d", len(next), len(next)+1))
	long := entrysrc.New(next)
	long.LenDelta = -1
	fails("more than Len", sourceResult(t, long, 1), nil, fmt.Sprintf("%d entries of %d", len(next), len(next)-1))
	disorder := entrysrc.New(next)
	disorder.Entries[10], disorder.Entries[11] = disorder.Entries[11], disorder.Entries[10]
	fails("out of order", sourceResult(t, disorder, 1), nil, "out of order")

	// The next save, as if none of those had been tried.
	id, err := s.Save(ctx, sourceResult(t, entrysrc.New(next), 1), "")
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(t, s, id)[0]
	if count(t, s, `SELECT count(*) FROM deltas WHERE host_id = ?`, h) != 1 {
		t.Errorf("not saved as a delta")
	}
	checkHost(t, s, h, next)
}

// EntryAttrsBeside streams the walk's entries: from a Source, as from
// Entries; and never trusts them: out of order, or cut short by a
// Source that fails, it yields what EntryAttrs yields.
func TestEntryAttrsBesideSource(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	g := newNightly(1000, 3)
	id, err := s.Save(ctx, nightResult(t, g.night(0), 0), "")
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(t, s, id)[0]
	want := collect(t, s.EntryAttrs(ctx, h))
	next := g.night(10)
	reversed := sorted(next)
	slices.Reverse(reversed)
	cut := entrysrc.New(next).FailAfter(500, errSource)
	for name, cur := range map[string]iter.Seq[*ftpaudit.Entry]{
		"entries":   entrySeq(next),
		"source":    entrysrc.New(next).All(),
		"cut short": cut.All(),
		"reversed": func(yield func(*ftpaudit.Entry) bool) {
			for i := range reversed {
				if !yield(&reversed[i]) {
					return
				}
			}
		},
	} {
		got := collect(t, s.EntryAttrsBeside(ctx, h, cur))
		for i := range got {
			got[i] = leanOf(got[i])
		}
		t.Run(name, func(t *testing.T) { checkEntries(t, got, want) })
	}
}

// BenchmarkSave1MSource is BenchmarkSave1M with the entries in a Source
// (fresh copies at each read, as a walk's spilled entries are decoded).
//
//	go test ./history -run XXX -bench Save1MSource -benchtime 1x
func BenchmarkSave1MSource(b *testing.B) { benchSave1M(b, true) }
