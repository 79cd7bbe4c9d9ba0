package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Change-only storage (chain.go): nights of a generated archive with a
// few changes each, read back byte for byte.

// nightly generates an archive of about n entries and, night by night,
// mutates it: a few entries changed in one attribute or another, a few
// removed, a few added, with hostile names, duplicate paths and MLSD
// facts among them.
type nightly struct {
	rng *rand.Rand
	es  []ftpaudit.Entry
	seq int
}

func newNightly(n int, seed uint64) *nightly {
	g := &nightly{rng: rand.New(rand.NewPCG(seed, 1)), es: synthEntries(n, false)}
	// Hostile and unusual entries: a name holding '/', which collides
	// with a real path (dup 1), invalid UTF-8, MLSD facts, an empty map of
	// facts (not nil), a symlink target, a zero time.
	g.es = append(g.es,
		ftpaudit.Entry{Path: "/pub/d0000/sub00", Name: "sub00", Type: ftpaudit.TypeFile, Size: 1, Raw: "collides"},
		ftpaudit.Entry{Path: "/pub/\xff\x1b[31m", Name: "\xff\x1b[31m", Type: ftpaudit.TypeFile, Size: 2, Raw: "-rw \xff"},
		ftpaudit.Entry{Path: "/pub/nul\x00x", Name: "nul\x00x", Type: ftpaudit.TypeFile, Size: 2, Raw: "nul\x00x"},
		ftpaudit.Entry{Path: "/pub/a/b", Name: "a/b", Type: ftpaudit.TypeFile, Size: 3},
		ftpaudit.Entry{Path: "/pub/mlsd", Name: "mlsd", Type: ftpaudit.TypeFile, Size: 4, Modified: time.Unix(1700000000, 123456789).UTC(),
			Extra: &ftpaudit.EntryExtra{Perm: "r", Unique: "u1", Facts: map[string]string{"type": "file", "size": "4"}}},
		ftpaudit.Entry{Path: "/pub/nofacts", Name: "nofacts", Type: ftpaudit.TypeFile, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{}}},
		ftpaudit.Entry{Path: "/pub/link", Name: "link", Type: ftpaudit.TypeLink, Extra: &ftpaudit.EntryExtra{Target: "../etc"}},
	)
	slices.SortStableFunc(g.es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return g
}

// night changes, removes and adds about k entries each, and returns the
// new inventory (a copy: earlier ones stay as they were).
func (g *nightly) night(k int) []ftpaudit.Entry {
	es := slices.Clone(g.es)
	for range k {
		i := g.rng.IntN(len(es))
		e := es[i]
		switch g.rng.IntN(6) {
		case 0:
			e.Size++
		case 1:
			e.Modified = e.Modified.Add(time.Second + time.Nanosecond)
		case 2:
			e.Raw += " \xfe"
		case 3:
			e.Extra = &ftpaudit.EntryExtra{Facts: map[string]string{}} // "empty facts" differs from "no facts"
		case 4:
			e.Mode = "-rwxrwxrwx"
		case 5:
			e.Owner = ""
		}
		es[i] = e
	}
	for range k {
		i := g.rng.IntN(len(es))
		es = slices.Delete(es, i, i+1)
	}
	for range k {
		g.seq++
		e := es[g.rng.IntN(len(es))]
		e.Path += fmt.Sprintf(".new%d", g.seq)
		e.Name = e.Path[strings.LastIndexByte(e.Path, '/')+1:]
		es = append(es, e)
	}
	// A duplicate of an existing path, now and then.
	if g.rng.IntN(3) == 0 {
		e := es[g.rng.IntN(len(es))]
		e.Raw = "dup"
		es = append(es, e)
	}
	slices.SortStableFunc(es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	g.es = es
	// Saved unsorted now and then: Save sorts (stably) itself. (Entries
	// that share a path keep their order: it is the walk's, and numbers
	// them.)
	out := slices.Clone(es)
	if g.rng.IntN(2) == 0 {
		out[0], out[len(out)-1] = out[len(out)-1], out[0]
	}
	return out
}

func nightResult(t testing.TB, es []ftpaudit.Entry, night int) *ftpaudit.Result {
	t.Helper()
	r := synthResult(0, false)
	r.Started = time.Date(2026, 1, 1, 3, 17, 0, 0, time.UTC).AddDate(0, 0, night)
	r.Hosts[0].Entries = es
	return r
}

// sorted is es in the order Save keeps it.
func sorted(es []ftpaudit.Entry) []ftpaudit.Entry {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// checkHost reads host back both ways (streamed and whole) and compares
// it with want.
func checkHost(t *testing.T, s *Store, hostID int64, want []ftpaudit.Entry) {
	t.Helper()
	ctx := context.Background()
	want = sorted(want)
	if c, r := count(t, s, "SELECT count(*) FROM chunks WHERE host_id = ?", hostID), count(t, s, "SELECT count(*) FROM entries WHERE host_id = ?", hostID); c > 0 && r > 0 {
		t.Errorf("host %d has %d chunks and %d entries rows: never both", hostID, c, r)
	}
	checkEntries(t, collect(t, s.Entries(ctx, hostID)), want)
	h, err := s.HostResult(ctx, hostID, true)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, h.Entries, want)
	// EntryAttrs: the same entries, without facts and raw lines.
	lean := collect(t, s.EntryAttrs(ctx, hostID))
	if len(lean) != len(want) {
		t.Fatalf("EntryAttrs: %d entries, want %d", len(lean), len(want))
	}
	for i := range lean {
		if lean[i].Path != want[i].Path || lean[i].Size != want[i].Size || lean[i].Mode != want[i].Mode {
			t.Fatalf("EntryAttrs entry %d: %q, want %q", i, lean[i].Path, want[i].Path)
		}
	}
}

// setSnapshotEvery sets snapshotEvery for the test.
func setSnapshotEvery(t *testing.T, n int) {
	old := snapshotEvery
	snapshotEvery = n
	t.Cleanup(func() { snapshotEvery = old })
}

func depthOf(t *testing.T, s *Store, hostID int64) int {
	t.Helper()
	return count(t, s, "SELECT coalesce((SELECT depth FROM deltas WHERE host_id = ?), 0)", hostID)
}

// TestNightly30 saves 30 nights of a generated archive with a few changes
// each and reads back first, middle and last (and every other), comparing
// with the inventory saved, byte for byte; deltas store only the changes,
// and chains stay shorter than snapshotEvery (8 here, so that there are
// several chains).
func TestNightly30(t *testing.T) { eachBackend(t, testNightly30) }

func testNightly30(t *testing.T) {
	ctx := context.Background()
	setSnapshotEvery(t, 8)
	s := openTemp(t)
	g := newNightly(3000, 1)
	var saved [][]ftpaudit.Entry
	var hosts []int64
	for night := range 30 {
		k := 5
		if night == 0 {
			k = 0
		}
		if night == 17 {
			k = 1000 // more than changeLimit: a snapshot
		}
		es := g.night(k)
		id, err := s.Save(ctx, nightResult(t, es, night), fmt.Sprintf("night %d", night))
		if err != nil {
			t.Fatal(err)
		}
		sc, err := s.Scan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		h := sc.Hosts[0]
		if h.Entries != len(es) {
			t.Errorf("night %d: %d entries counted, saved %d", night, h.Entries, len(es))
		}
		rows := count(t, s, "SELECT count(*) FROM entries WHERE host_id = ?", h.ID) + count(t, s, "SELECT count(*) FROM removed_entries WHERE host_id = ?", h.ID)
		d := depthOf(t, s, h.ID)
		switch {
		case night == 0, night == 17:
			if d != 0 {
				t.Errorf("night %d: depth %d, want a snapshot", night, d)
			}
		case d == 0:
			if night%snapshotEvery != 0 && night != 17+snapshotEvery {
				t.Errorf("night %d: a snapshot, want a delta", night)
			}
		default:
			if rows > 4*k+2 {
				t.Errorf("night %d: %d rows for about %d changes", night, rows, 3*k)
			}
		}
		if d >= snapshotEvery {
			t.Errorf("night %d: depth %d, want below %d", night, d, snapshotEvery)
		}
		saved = append(saved, es)
		hosts = append(hosts, h.ID)
	}
	for _, i := range []int{0, 15, 29} {
		checkHost(t, s, hosts[i], saved[i])
	}
	for i := range saved {
		checkEntries(t, collect(t, s.Entries(ctx, hosts[i])), sorted(saved[i]))
	}
}

// TestPruneChains prunes in the middle of chains: kept scans and accepted
// baselines whose bases go read back as before, and the space is
// reclaimed.
func TestPruneChains(t *testing.T) { eachBackend(t, testPruneChains) }

func testPruneChains(t *testing.T) {
	ctx := context.Background()
	setSnapshotEvery(t, 8) // snapshots on nights 0, 8 and 16
	s := openTemp(t)
	g := newNightly(2000, 2)
	var saved [][]ftpaudit.Entry
	var ids, hosts []int64
	for night := range 20 {
		es := g.night(4)
		id, err := s.Save(ctx, nightResult(t, es, night), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		hosts = append(hosts, hostsOf(t, s, id)[0])
		saved = append(saved, es)
	}
	// Scan 6 (a delta) is accepted: it stays, its bases go.
	if d := depthOf(t, s, hosts[5]); d == 0 {
		t.Fatalf("scan %d is a snapshot; the test wants a delta", ids[5])
	}
	if _, err := s.Accept(ctx, []int64{hosts[5]}, "alice", "good"); err != nil {
		t.Fatal(err)
	}
	// Keep the newest 7: scans 14-20, whose chain starts at the snapshot
	// of night 16 (index 16) or before, so some lose their base.
	bytes := func() int64 { return int64(count(t, s, "PRAGMA page_count") * count(t, s, "PRAGMA page_size")) }
	before := bytes()
	p, err := s.PruneWith(ctx, 7, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Deleted != 12 {
		t.Errorf("deleted %d scans, want 12", p.Deleted)
	}
	if p.Materialised != 2 {
		t.Errorf("rewrote %d hosts whole, want 2: the accepted one and the oldest kept", p.Materialised)
	}
	if after := bytes(); p.Reclaimed != before-after || (p.Reclaimed <= 0) != s.pg { // PostgreSQL: 0
		t.Errorf("reclaimed %d bytes; the file went from %d to %d", p.Reclaimed, before, after)
	}
	t.Logf("%+v", p)
	kept := append([]int{5}, 13, 14, 15, 16, 17, 18, 19)
	for _, i := range kept {
		checkHost(t, s, hosts[i], saved[i])
	}
	if c := count(t, s, "SELECT count(*) FROM scans"); c != len(kept) {
		t.Errorf("%d scans left, want %d", c, len(kept))
	}
	// Prune again by age, down to the accepted scan and the last: the
	// last reads back still.
	if _, err := s.Prune(ctx, 0, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	checkHost(t, s, hosts[5], saved[5])
	if c := count(t, s, "SELECT count(*) FROM scans"); c != 1 {
		t.Errorf("%d scans left, want the accepted one", c)
	}
	if c := count(t, s, "SELECT count(*) FROM deltas"); c != 0 {
		t.Errorf("%d deltas left with no scan but the accepted snapshot", c)
	}
	// The next save is a delta of the accepted one.
	es := g.night(3)
	id, err := s.Save(ctx, nightResult(t, es, 40), "")
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(t, s, id)[0]
	if depthOf(t, s, h) != 1 {
		t.Errorf("save after prune: depth %d, want 1", depthOf(t, s, h))
	}
	checkHost(t, s, h, es)
}

// TestConcurrentDeltaStores saves nights from several stores on one file
// at once: every save lands, as a snapshot or a delta of whichever saved
// before it, and every one reads back as saved.
func TestConcurrentDeltaStores(t *testing.T) { eachBackend(t, testConcurrentDeltaStores) }

func testConcurrentDeltaStores(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	g := newNightly(1500, 3)
	var inventories [][]ftpaudit.Entry
	for range 12 {
		inventories = append(inventories, g.night(3))
	}
	ids := make([]int64, len(inventories))
	var wg sync.WaitGroup
	errs := make(chan error, len(inventories))
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, db)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := w; i < len(inventories); i += 4 {
				if ids[i], err = s.Save(ctx, nightResult(t, inventories[i], i), ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c := count(t, s, "SELECT count(*) FROM deltas"); c == 0 {
		t.Error("no deltas saved")
	}
	for i, id := range ids {
		checkHost(t, s, hostsOf(t, s, id)[0], inventories[i])
	}
}

// TestMigrateV4ToV5 opens a version 4 database: its scans stay full
// snapshots, and the next save of the same host is a delta of the last.
func TestMigrateV4ToV5(t *testing.T) {
	ctx := context.Background()
	path := newTestDB(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	g := newNightly(1000, 4)
	first := g.night(0)
	id1, err := s.Save(ctx, nightResult(t, first, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	// Back to version 4: without version 5's and 6's tables.
	downgrade(t, s, 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := count(t, s, "PRAGMA user_version"); v != len(migrations) {
		t.Fatalf("user_version %d, want %d", v, len(migrations))
	}
	second := g.night(4)
	id2, err := s.Save(ctx, nightResult(t, second, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := hostsOf(t, s, id1)[0], hostsOf(t, s, id2)[0]
	if d := depthOf(t, s, h2); d != 1 {
		t.Errorf("save after the migration: depth %d, want 1", d)
	}
	checkHost(t, s, h1, first)
	checkHost(t, s, h2, second)
}

// TestBrokenChain: a base deleted behind the store's back (without
// foreign keys) makes reading its dependants an error, never a silent
// loss of entries.
func TestBrokenChain(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	g := newNightly(500, 5)
	var ids []int64
	for night := range 2 {
		id, err := s.Save(ctx, nightResult(t, g.night(3), night), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := s.db.Exec("DELETE FROM scans WHERE id = ?", ids[0]); err == nil {
		t.Fatal("deleting a base with foreign keys on: no error")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"PRAGMA foreign_keys = OFF", "DELETE FROM hosts WHERE scan_id = " + fmt.Sprint(ids[0]), "PRAGMA foreign_keys = ON"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range s.Entries(ctx, hostsOf(t, s, ids[1])[0]) {
		if err == nil || !strings.Contains(err.Error(), "changed by hand") {
			t.Fatalf("reading a host whose base is gone: %v", err)
		}
		return
	}
	t.Fatal("reading a host whose base is gone yielded nothing")
}
