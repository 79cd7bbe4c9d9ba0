package history

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ftpaudit/ftpaudit"
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

// errSource is the error a fakeSource fails with.
var errSource = errors.New("spill file: unexpected EOF")

// fakeSource is an ftpaudit.EntrySource over a slice sorted by path: All
// yields fresh copies. When failAfter >= 0, the failCall-th call of All
// (every call when failCall is 0) stops after failAfter entries, and Err
// is then errSource. lenDelta is added to what Len says.
type fakeSource struct {
	es        []ftpaudit.Entry
	failAfter int
	failCall  int
	lenDelta  int

	mu     sync.Mutex
	calls  int
	err    error
	closed bool
}

func newFakeSource(es []ftpaudit.Entry) *fakeSource {
	return &fakeSource{es: sorted(es), failAfter: -1}
}

func (s *fakeSource) Len() int { return len(s.es) + s.lenDelta }

func (s *fakeSource) All() iter.Seq[*ftpaudit.Entry] {
	return func(yield func(*ftpaudit.Entry) bool) {
		s.mu.Lock()
		s.calls++
		fail := s.failAfter >= 0 && (s.failCall == 0 || s.failCall == s.calls)
		s.mu.Unlock()
		for i := range s.es {
			if fail && i == s.failAfter {
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

func (s *fakeSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// sourceResult is nightResult with the entries in a Source.
func sourceResult(t testing.TB, src *fakeSource, night int) *ftpaudit.Result {
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
		src := newFakeSource(es)
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
		if src.Err() != nil || src.calls > 2 {
			t.Errorf("night %d: source read %d times, err %v", night, src.calls, src.Err())
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
	failing := func(es []ftpaudit.Entry, after, call int) *fakeSource {
		src := newFakeSource(es)
		src.failAfter, src.failCall = after, call
		return src
	}
	const readBack = "read the entries back: " + "spill file"

	es := g.night(0)
	fails("first save", sourceResult(t, failing(es, 1500, 0), 0), errSource, readBack)
	fails("first save, failing at once", sourceResult(t, failing(es, 0, 0), 0), errSource, readBack)
	if _, err := s.Save(ctx, sourceResult(t, newFakeSource(es), 0), ""); err != nil {
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

	short := newFakeSource(next)
	short.lenDelta = 1
	fails("fewer than Len", sourceResult(t, short, 1), nil, fmt.Sprintf("%d entries of %d", len(next), len(next)+1))
	long := newFakeSource(next)
	long.lenDelta = -1
	fails("more than Len", sourceResult(t, long, 1), nil, fmt.Sprintf("%d entries of %d", len(next), len(next)-1))
	disorder := newFakeSource(next)
	disorder.es[10], disorder.es[11] = disorder.es[11], disorder.es[10]
	fails("out of order", sourceResult(t, disorder, 1), nil, "out of order")

	// The next save, as if none of those had been tried.
	id, err := s.Save(ctx, sourceResult(t, newFakeSource(next), 1), "")
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
	cut := newFakeSource(next)
	cut.failAfter = 500
	for name, cur := range map[string]iter.Seq[*ftpaudit.Entry]{
		"entries":   entrySeq(next),
		"source":    newFakeSource(next).All(),
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
func BenchmarkSave1MSource(b *testing.B) {
	ctx := context.Background()
	r := synthResult(1_000_000, false)
	h := r.Hosts[0]
	h.Source, h.Entries = newFakeSource(h.Entries), nil
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(ctx, fmt.Sprintf("%s/h%d.db", b.TempDir(), i))
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
		b.StartTimer()
	}
	b.ReportMetric(float64(h.NumEntries()), "entries")
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
