package history

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// downgrade turns s's database back into one written at schema version v
// (4 to 6), with the entries it holds: snapshots saved in chunks are
// rewritten as entries rows (unchunk), then the tables and columns of
// the later versions go (their data with them).
func downgrade(t *testing.T, s *Store, v int) {
	t.Helper()
	var qs []string
	if v < 7 {
		unchunk(t, s)
		qs = append(qs, "DROP TABLE chunks")
	}
	if v < 6 {
		qs = append(qs, "ALTER TABLE entries DROP COLUMN fp", "ALTER TABLE hosts DROP COLUMN fps", "DROP TABLE fp_key")
	}
	if v < 5 {
		qs = append(qs, "DROP TABLE deltas", "DROP TABLE removed_entries")
	}
	for _, q := range append(qs, fmt.Sprintf("PRAGMA user_version = %d", v)) {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rowsOf counts the entries and removed_entries rows of a host.
func rowsOf(t *testing.T, s *Store, hostID int64) int {
	t.Helper()
	return count(t, s, "SELECT count(*) FROM entries WHERE host_id = ?", hostID) +
		count(t, s, "SELECT count(*) FROM removed_entries WHERE host_id = ?", hostID)
}

// TestMigrateV5ToV6 opens a version 5 database holding a snapshot and
// two deltas (rows without fingerprints): it is upgraded in place, every
// scan reads back as saved, and the next save is a delta of the last
// holding only the changes: the old rows, fingerprinted as they are
// read, match the new entries' fingerprints where nothing changed.
func TestMigrateV5ToV6(t *testing.T) {
	ctx := context.Background()
	path := newTestDB(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	g := newNightly(800, 6)
	var saved [][]ftpaudit.Entry
	var hosts []int64
	for night := range 3 {
		es := g.night(min(night, 1) * 4)
		id, err := s.Save(ctx, nightResult(t, es, night), "")
		if err != nil {
			t.Fatal(err)
		}
		saved = append(saved, es)
		hosts = append(hosts, hostsOf(t, s, id)[0])
	}
	downgrade(t, s, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := count(t, s, "PRAGMA user_version"); v != len(migrations) {
		t.Fatalf("user_version %d, want %d", v, len(migrations))
	}
	if c := count(t, s, "SELECT count(*) FROM entries WHERE fp IS NOT NULL") + count(t, s, "SELECT count(*) FROM hosts WHERE fps"); c != 0 {
		t.Errorf("%d rows or hosts with fingerprints after the migration: nothing is converted", c)
	}
	if len(s.key) != keySize {
		t.Fatalf("fingerprint key of %d bytes", len(s.key))
	}
	for i := range saved {
		checkHost(t, s, hosts[i], saved[i])
	}
	es := g.night(4)
	id, err := s.Save(ctx, nightResult(t, es, 3), "")
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(t, s, id)[0]
	if d := depthOf(t, s, h); d != 3 {
		t.Errorf("first save after the migration: depth %d, want 3 (a delta of the version 5 chain)", d)
	}
	if r := rowsOf(t, s, h); r > 4*4+2 {
		t.Errorf("first save after the migration: %d rows for about 12 changes", r)
	}
	if c := count(t, s, "SELECT count(*) FROM entries WHERE host_id = ? AND typeof(fp) = 'integer'", h); c != count(t, s, "SELECT count(*) FROM entries WHERE host_id = ?", h) {
		t.Errorf("rows saved after the migration without a fingerprint")
	}
	checkHost(t, s, h, es)
	for i := range saved {
		checkHost(t, s, hosts[i], saved[i])
	}

	// Pruned down to it: rewritten whole (in chunks, version 7) from
	// rows of version 5 and its own, it has fingerprints (those of the
	// version 5 rows computed as they were read), still reads back, and
	// is the base of the next save.
	p, err := s.PruneWith(ctx, 1, time.Time{})
	if err != nil || p.Materialised != 1 {
		t.Fatalf("prune: %+v, %v", p, err)
	}
	if c := count(t, s, "SELECT fps FROM hosts WHERE id = ?", h); c != 1 {
		t.Errorf("a host rewritten from rows of version 5: fps %d, want 1", c)
	}
	if c, r := count(t, s, "SELECT count(*) FROM chunks WHERE host_id = ?", h), rowsOf(t, s, h); c == 0 || r != 0 {
		t.Errorf("a host rewritten whole: %d chunks, %d entries and removed rows; want chunks only", c, r)
	}
	checkHost(t, s, h, es)
	es2 := g.night(4)
	id, err = s.Save(ctx, nightResult(t, es2, 4), "")
	if err != nil {
		t.Fatal(err)
	}
	h2 := hostsOf(t, s, id)[0]
	if d, r := depthOf(t, s, h2), rowsOf(t, s, h2); d != 1 || r > 4*4+2 {
		t.Errorf("save after the prune: depth %d, %d rows; want a delta of about 12", d, r)
	}
	checkHost(t, s, h2, es2)
}

// Every stored column is in the fingerprint, and where one column ends
// and the next begins: changing any attribute, or moving bytes from one
// to the next, changes it; packing the same entry again, or the entry as
// read back, does not.
func TestFingerprintSeesEveryColumn(t *testing.T) { eachBackend(t, testFingerprintSeesEveryColumn) }

func testFingerprintSeesEveryColumn(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	mod := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	base := ftpaudit.Entry{Path: "/pub/f", Name: "f", Type: ftpaudit.TypeFile, Size: 10, Modified: mod,
		Mode: "-rw-r--r--", Owner: "ab", Group: "c", Raw: "raw line",
		Extra: &ftpaudit.EntryExtra{Perm: "r", Unique: "u", Facts: map[string]string{"type": "file"}, ListRaw: "list", Target: "t"}}
	with := func(f func(e *ftpaudit.Entry, x *ftpaudit.EntryExtra)) ftpaudit.Entry {
		e := base
		x := *base.Extra
		x.Facts = map[string]string{"type": "file"}
		f(&e, &x)
		e.Extra = &x
		return e
	}
	variants := map[string]ftpaudit.Entry{
		"name":           with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Name = "g/f" }),
		"type":           with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Type = ftpaudit.TypeLink }),
		"size":           with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Size = 11 }),
		"unknown size":   with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Size = -1 }),
		"seconds":        with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Modified = mod.Add(time.Second) }),
		"nanoseconds":    with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Modified = mod.Add(1) }),
		"no nanoseconds": with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Modified = mod.Truncate(time.Second) }),
		"no time":        with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Modified = time.Time{} }),
		"mode":           with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Mode = "-rw-rw-rw-" }),
		"owner":          with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Owner = "ab\xff" }),
		"no owner":       with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Owner = "" }),
		"group":          with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Group = "d" }),
		"owner|group":    with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Owner, e.Group = "a", "bc" }),
		"perm":           with(func(_ *ftpaudit.Entry, x *ftpaudit.EntryExtra) { x.Perm = "rw" }),
		"unique":         with(func(_ *ftpaudit.Entry, x *ftpaudit.EntryExtra) { x.Unique = "v" }),
		"target":         with(func(_ *ftpaudit.Entry, x *ftpaudit.EntryExtra) { x.Target = "u" }),
		"facts":          with(func(_ *ftpaudit.Entry, x *ftpaudit.EntryExtra) { x.Facts["type"] = "dir" }),
		"no facts":       with(func(_ *ftpaudit.Entry, x *ftpaudit.EntryExtra) { x.Facts = nil }),
		"empty facts":    with(func(_ *ftpaudit.Entry, x *ftpaudit.EntryExtra) { x.Facts = map[string]string{} }),
		"raw":            with(func(e *ftpaudit.Entry, _ *ftpaudit.EntryExtra) { e.Raw = "raw line\r" }),
		"list raw":       with(func(_ *ftpaudit.Entry, x *ftpaudit.EntryExtra) { x.ListRaw = "" }),
		"raw|list raw":   with(func(e *ftpaudit.Entry, x *ftpaudit.EntryExtra) { e.Raw, x.ListRaw = "raw linel", "ist" }),
	}
	p := newRowPacker(0, s.key)
	p.pack(&base, 0)
	want := p.fp
	p.pack(&ftpaudit.Entry{Path: "/other", Name: "other"}, 0)
	if p.pack(&base, 0); p.fp != want {
		t.Fatal("the same entry packed twice: two fingerprints")
	}
	seen := map[int64]string{want: "base"}
	for name, v := range variants {
		p.pack(&v, 0)
		if other, ok := seen[p.fp]; ok {
			t.Errorf("%s: the fingerprint of %s", name, other)
		}
		seen[p.fp] = name
	}

	// Saved, read back, fingerprinted again: the same. The base is saved
	// with the variants under other paths, then each variant in turn at
	// the base's path: one row each.
	// Other entries, so that the deltas below stay under changeLimit.
	es := synthEntries(150, false)
	for name, v := range variants {
		v.Path = "/pub/" + strings.ReplaceAll(name, " ", "-")
		es = append(es, v)
	}
	es = append(es, base)
	id, err := s.Save(ctx, nightResult(t, es, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(t, s, id)[0]
	for k, err := range readFingerprints(ctx, s.db, h, s.key, false) {
		if err != nil {
			t.Fatal(err)
		}
		var e ftpaudit.Entry
		for _, x := range es {
			if x.Path == k.e.Path {
				e = x
			}
		}
		if p.pack(&e, 0); p.fp != k.fp {
			t.Errorf("%s: stored fingerprint %x, packed %x", k.e.Path, k.fp, p.fp)
		}
	}
	for k, err := range snapshotRows(ctx, s.db, h, false, "") {
		if err != nil {
			t.Fatal(err)
		}
		var e ftpaudit.Entry
		for _, x := range es {
			if x.Path == k.e.Path {
				e = x
			}
		}
		p.pack(&e, 0)
		want := p.fp
		if p.pack(&k.e, 0); p.fp != want {
			t.Errorf("%s read back: fingerprint %x, saved %x", k.e.Path, p.fp, want)
		}
	}
	for name, v := range variants {
		es[len(es)-1] = v
		id, err := s.Save(ctx, nightResult(t, es, 1), "")
		if err != nil {
			t.Fatal(err)
		}
		h := hostsOf(t, s, id)[0]
		if d, r := depthOf(t, s, h), rowsOf(t, s, h); d == 0 || r != 1 {
			t.Errorf("%s: saved at depth %d with %d rows, want a delta of 1", name, d, r)
		}
		checkEntries(t, collect(t, s.Entries(ctx, h)), sorted(es))
	}
}

// Each database has its own fingerprint key.
func TestFingerprintKeyPerDatabase(t *testing.T) { eachBackend(t, testFingerprintKeyPerDatabase) }

func testFingerprintKeyPerDatabase(t *testing.T) {
	a, b := openTemp(t), openTemp(t)
	if string(a.key) == string(b.key) {
		t.Fatal("two databases, one fingerprint key")
	}
	e := ftpaudit.Entry{Path: "/a", Name: "a", Type: ftpaudit.TypeFile}
	pa, pb := newRowPacker(0, a.key), newRowPacker(0, b.key)
	pa.pack(&e, 0)
	if pb.pack(&e, 0); pa.fp == pb.fp {
		t.Error("the same fingerprint under two keys")
	}
}

// A damaged fingerprint (NULL in a host that has them, not an integer) or
// key is an error, never a silent "unchanged".
func TestFingerprintDamaged(t *testing.T) { eachBackend(t, testFingerprintDamaged) }

func testFingerprintDamaged(t *testing.T) {
	ctx := context.Background()
	path := newTestDB(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	g := newNightly(300, 7)
	if _, err := s.Save(ctx, nightResult(t, g.night(0), 0), ""); err != nil {
		t.Fatal(err)
	}
	unchunk(t, s) // a snapshot in entries rows, as version 6 saved it (chunks: TestChunksDamaged)
	for _, c := range []struct{ set, want string }{{"NULL", "has no fingerprint"}, {"x'0102'", "converting"}} {
		if s.pg && c.set != "NULL" {
			continue // a BIGINT column holds nothing else
		}
		if _, err := s.db.Exec("UPDATE entries SET fp = " + c.set + " WHERE path = (SELECT path FROM entries ORDER BY path LIMIT 1)"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Save(ctx, nightResult(t, g.night(1), 1), "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("save against a fingerprint set to %s: %v", c.set, err)
		}
	}
	if _, err := s.db.Exec("DELETE FROM fp_key"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err = Open(ctx, path); err == nil || !strings.Contains(err.Error(), "no fingerprint key") {
		t.Errorf("open without a fingerprint key: %v", err)
	}
}

// setBeside sets besideHook, denseAfter and denseShare for the test.
func setBeside(t *testing.T, after int, share float64, hook func(int, bool)) {
	a, sh := denseAfter, denseShare
	denseAfter, denseShare, besideHook = after, share, hook
	t.Cleanup(func() { denseAfter, denseShare, besideHook = a, sh, nil })
}

// EntryAttrsBeside gives what EntryAttrs gives (cur's entry, as
// EntryAttrs would read it, where the saved one is the same), reading
// whole only the entries that differ from cur; also when most differ
// (it then reads the rest in one query), when cur is out of order, and
// against rows saved before fingerprints.
func TestEntryAttrsBeside(t *testing.T) { eachBackend(t, testEntryAttrsBeside) }

func testEntryAttrsBeside(t *testing.T) {
	ctx := context.Background()
	path := newTestDB(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	g := newNightly(1000, 8)
	var hosts []int64
	var last []ftpaudit.Entry
	for night := range 3 {
		last = g.night(min(night, 1) * 5)
		id, err := s.Save(ctx, nightResult(t, last, night), "")
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, hostsOf(t, s, id)[0])
	}
	// The next night, not saved; and every entry's raw line changed.
	next := g.night(5)
	allChanged := slices.Clone(next)
	for i := range allChanged {
		allChanged[i].Raw += "!"
	}
	var wholes int
	var dense bool
	setBeside(t, 50, 0.125, func(n int, d bool) { wholes, dense = n, d })
	check := func(name string, host int64, cur []ftpaudit.Entry, maxWholes int, wantDense bool) {
		t.Helper()
		want := collect(t, s.EntryAttrs(ctx, host))
		got := collect(t, s.EntryAttrsBeside(ctx, host, entrySeq(cur)))
		for i := range got {
			got[i] = leanOf(got[i])
		}
		checkEntries(t, got, want)
		if wholes > maxWholes || dense != wantDense {
			t.Errorf("%s: %d entries read whole, dense %v; want at most %d, dense %v", name, wholes, dense, maxWholes, wantDense)
		}
	}
	check("last night", hosts[2], next, 20, false)
	check("two nights before", hosts[0], next, 40, false)
	check("itself", hosts[2], last, 0, false)
	unsorted := slices.Clone(next)
	slices.Reverse(unsorted)
	check("unsorted", hosts[2], unsorted, 20, false)
	check("all changed", hosts[2], allChanged, 51, true)
	check("nothing", hosts[2], nil, 51, true)
	setBeside(t, 1<<30, 1, func(n int, d bool) { wholes, dense = n, d })
	check("all changed, one at a time", hosts[2], allChanged, len(next)+10, false)

	// Rows saved before fingerprints: decoded as they are read.
	if s.pg { // no PostgreSQL history predates them: the rows as it would hold them
		unchunk(t, s)
		for _, q := range []string{"UPDATE entries SET fp = NULL", "UPDATE hosts SET fps = 0"} {
			if _, err := s.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		downgrade(t, s, 5)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("version 5 rows", hosts[2], next, 0, false)
	if _, err := collect2(s.EntryAttrsBeside(ctx, 999, entrySeq(next))); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown host: %v", err)
	}
}

// collect2 collects a sequence, returning its error.
func collect2(seq iter.Seq2[ftpaudit.Entry, error]) ([]ftpaudit.Entry, error) {
	var out []ftpaudit.Entry
	for e, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// A fingerprint's fixed-width digits read back, through SQLite's CAST as
// the entry insert does it, as the same integer, whatever its sign.
func TestFingerprintDigits(t *testing.T) {
	s := openTemp(t)
	for _, v := range []int64{0, 1, -1, 9, -10, math.MaxInt64, math.MinInt64, math.MinInt64 + 1, 1234567890123456789} {
		b := make([]byte, fpDigits+3)
		putDigits(b[:fpDigits], v)
		copy(b[fpDigits:], "/pa")
		var got int64
		if err := s.db.QueryRow(fmt.Sprintf("SELECT CAST(substr(?, 1, %d) AS INTEGER)", fpDigits), b).Scan(&got); err != nil || got != v {
			t.Errorf("%d: %q read back as %d, %v", v, b, got, err)
		}
	}
}
