package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/readahead"
)

// Change-only storage (schema version 5).
//
// A saved host whose target and start directory were saved before (its
// base: the newest host row of that target and start) stores only what
// differs from the base: the entries added or changed (by path, dup and
// every stored column) in entries, the keys of those removed in
// removed_entries, and a deltas row naming the base and the depth of the
// chain. A host saved whole, a snapshot, stores every entry: in chunks
// since schema version 7 (chunks.go), in entries rows before. Reading a
// host merges its own rows with its bases', newest first, down to the
// nearest full snapshot, in key order, streaming: each layer is one
// ordered query (of its entries rows, or of its chunks), and memory does
// not grow with the number of entries.
//
// A save finds what changed by fingerprint (fingerprint.go): it reads
// the base's keys and fingerprints in key order, merging its chain the
// same way, against the new entries' own fingerprints, so that its cost
// is one pass over the keys plus writing the changes.
//
// Chains stay bounded: a host is saved whole (a snapshot) when its base
// is snapshotEvery-1 deltas from a snapshot already, so reading any host
// merges at most snapshotEvery-1 deltas, and when the rows of its chain's
// deltas with its own would exceed changeLimit of its entries, so that
// reading it never reads more than 1+changeLimit times its entries.
// Snapshots are therefore rare when little changes: each costs as much
// as the first scan, in time (in chunks, a fraction of a walk's) and in
// bytes, so taking one every 8th night would make the history grow by an
// eighth of a scan every night, whatever changed; with 64, a nightly job
// whose archive changes by 0.1% a night grows by about 1.6% of a scan a
// night for the snapshots, plus its changes (an entries row each, about
// twice an entry's bytes in a chunk: 0.2% of the first scan a night). A
// merge of 64 layers costs a heap of cursors, O(log layers) per entry.

// snapshotEvery and changeLimit bound chains; variables so that tests can
// lower them.
var (
	snapshotEvery = 64
	changeLimit   = 0.25
)

// deltaHook, when set (tests), is called while a delta is written, after
// every saveHookEvery entry rows, with the count so far in the current
// host.
var deltaHook func(n int)

// maxChain guards against a cycle in a damaged database.
const maxChain = 1 << 16

// queryer is what reading needs of a *sql.Tx or *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// keyedEntry is an entry with its dup, or (removed) the key of an entry
// a delta removed. Read by fingerprint (fingerprintRows), e holds only
// the path, unless whole is set.
type keyedEntry struct {
	e       ftpaudit.Entry
	dup     int64
	removed bool
	fp      int64 // the row's fingerprint, when read by fingerprint
	whole   bool  // read by fingerprint, but e holds the whole entry
	layer   int64 // the host whose entries row it is (mergeChain)
}

func keyCmp(a, b *keyedEntry) int {
	if c := strings.Compare(a.e.Path, b.e.Path); c != 0 {
		return c
	}
	switch {
	case a.dup < b.dup:
		return -1
	case a.dup > b.dup:
		return 1
	}
	return 0
}

// hostExistsIn returns ErrNotFound (wrapped) when there is no host hostID.
func hostExistsIn(ctx context.Context, q queryer, hostID int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM hosts WHERE id = ?`, hostID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("host %d: %w", hostID, ErrNotFound)
	}
	return err
}

// hostChain returns hostID and its bases, newest first, ending with a
// full snapshot.
func hostChain(ctx context.Context, q queryer, hostID int64) ([]int64, error) {
	ids := []int64{hostID}
	for {
		var base int64
		var exists bool
		err := q.QueryRowContext(ctx, `SELECT base_id, EXISTS (SELECT 1 FROM hosts WHERE id = base_id)
			FROM deltas WHERE host_id = ?`, ids[len(ids)-1]).Scan(&base, &exists)
		if errors.Is(err, sql.ErrNoRows) {
			return ids, nil
		}
		if err != nil {
			return nil, err
		}
		if !exists {
			// Only possible when rows were deleted without foreign keys.
			return nil, fmt.Errorf("host %d is saved as changes from host %d, which is gone: the database was changed by hand", ids[len(ids)-1], base)
		}
		if len(ids) > maxChain {
			return nil, fmt.Errorf("host %d: chain of bases longer than %d", hostID, maxChain)
		}
		ids = append(ids, base)
	}
}

// removedRows yields the keys a delta host removed, in key order, from
// path from on.
func removedRows(ctx context.Context, q queryer, hostID int64, from string) iter.Seq2[keyedEntry, error] {
	return func(yield func(keyedEntry, error) bool) {
		rows, err := q.QueryContext(ctx, `SELECT path, dup FROM removed_entries WHERE host_id = ? AND path >= ? ORDER BY path, dup`, hostID, blobOf(from))
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			k := keyedEntry{removed: true}
			var path []byte
			if err := rows.Scan(&path, &k.dup); err != nil {
				yield(keyedEntry{}, err)
				return
			}
			k.e.Path = string(path)
			if !yield(k, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(keyedEntry{}, err)
		}
	}
}

// readEntries yields the entries of host hostID, as saved, in key order,
// merging its chain of deltas; q must be a read transaction (or hold the
// write lock) so that the layers agree.
func readEntries(ctx context.Context, q queryer, hostID int64, lean bool) iter.Seq2[ftpaudit.Entry, error] {
	return func(yield func(ftpaudit.Entry, error) bool) {
		for k, err := range readKeyed(ctx, q, hostID, lean) {
			if err != nil {
				yield(ftpaudit.Entry{}, err)
				return
			}
			if !yield(k.e, nil) {
				return
			}
		}
	}
}

// readKeyed is readEntries with each entry's dup.
func readKeyed(ctx context.Context, q queryer, hostID int64, lean bool) iter.Seq2[keyedEntry, error] {
	return readKeyedFrom(ctx, q, hostID, lean, "")
}

// readKeyedFrom is readKeyed from path from on.
func readKeyedFrom(ctx context.Context, q queryer, hostID int64, lean bool, from string) iter.Seq2[keyedEntry, error] {
	return mergeChain(ctx, q, hostID, from, func(layer int64) iter.Seq2[keyedEntry, error] {
		return snapshotRows(ctx, q, layer, lean, from)
	})
}

// mergeChain yields the rows of host hostID from path from on, merging
// its chain of deltas in key order: for each key, the row of the newest
// layer that has it, unless that layer removed it. rows gives the
// entries rows of one layer (a host of the chain) in key order, from
// from on; each row yielded has its layer set.
func mergeChain(ctx context.Context, q queryer, hostID int64, from string, rows func(layer int64) iter.Seq2[keyedEntry, error]) iter.Seq2[keyedEntry, error] {
	return func(yield func(keyedEntry, error) bool) {
		chain, err := hostChain(ctx, q, hostID)
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		if len(chain) == 1 {
			for k, err := range rows(hostID) {
				k.layer = hostID
				if !yield(k, err) || err != nil {
					return
				}
			}
			return
		}
		// One cursor per layer and kind, newest layer first (its index
		// in cs is its rank); among cursors at the same key the newest
		// decides. The cursors are kept in a min-heap by key, then rank.
		var cs []*cursor
		var stops []func()
		defer func() {
			for _, stop := range stops {
				stop()
			}
		}()
		add := func(layer int64, seq iter.Seq2[keyedEntry, error]) {
			next, stop := iter.Pull2(seq)
			cs = append(cs, &cursor{next: next, rank: len(cs), layer: layer})
			stops = append(stops, stop)
		}
		for i, id := range chain {
			add(id, rows(id))
			if i < len(chain)-1 {
				add(id, removedRows(ctx, q, id, from))
			}
		}
		var h cursorHeap
		for _, c := range cs {
			k, err, ok := c.next()
			if err != nil {
				yield(keyedEntry{}, err)
				return
			}
			if ok {
				c.cur = k
				h = append(h, c)
			}
		}
		h.init()
		for len(h) > 0 {
			out := h[0].cur
			out.layer = h[0].layer
			// Advance every cursor at out's key: the winner first.
			for len(h) > 0 && keyCmp(&h[0].cur, &out) == 0 {
				c := h[0]
				k, err, ok := c.next()
				if err != nil {
					yield(keyedEntry{}, err)
					return
				}
				if ok {
					c.cur = k
					h.fix0()
				} else {
					h.pop0()
				}
			}
			if !out.removed && !yield(out, nil) {
				return
			}
		}
	}
}

// cursor is one layer's rows in readKeyed's merge.
type cursor struct {
	next  func() (keyedEntry, error, bool)
	cur   keyedEntry
	rank  int   // 0 for the newest layer's entries
	layer int64 // the host whose rows these are
}

// cursorHeap is a min-heap of cursors by key, then rank.
type cursorHeap []*cursor

func (h cursorHeap) less(i, j int) bool {
	if c := keyCmp(&h[i].cur, &h[j].cur); c != 0 {
		return c < 0
	}
	return h[i].rank < h[j].rank
}

func (h cursorHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h cursorHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// fix0 restores the heap after h[0]'s key grew.
func (h cursorHeap) fix0() { h.down(0) }

// pop0 removes h[0].
func (h *cursorHeap) pop0() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	old[n] = nil
	*h = old[:n]
	h.down(0)
}

// deltaRow is an entry a delta writes: its position in the host's
// entries in key order (keyed) and its dup.
type deltaRow struct {
	n   int
	dup int64
}

// keepDelta is how many of the entries a delta writes planDelta keeps
// (the first ones): a delta of more is written by reading the host's
// entries again (keyed), picking those at the positions planned, so
// that a delta of millions of changes of a walk's entries (Source) does
// not hold them all. A variable so that tests can lower it.
var keepDelta = 1 << 14

// entriesError is an error reading a host's entries back for a save
// (HostResult.EntriesErr), or entries that are not as AllEntries
// promises: not the database's.
type entriesError struct{ err error }

func (e *entriesError) Error() string { return "read the entries back: " + e.err.Error() }
func (e *entriesError) Unwrap() error { return e.err }

// keyed yields the entries of h in key order, as AllEntries yields them
// (by path; of entries with the same path, in the order they were
// recorded), with each one's dup: its rank among the entries of its
// path, from 0. When they cannot all be read back (EntriesErr), come out
// of order, or are more or fewer than NumEntries, it stops, and sets
// *err (an *entriesError) when it ends; *err is nil otherwise, also when
// the caller stops early.
func keyed(h *ftpaudit.HostResult, err *error) iter.Seq2[*ftpaudit.Entry, int64] {
	return func(yield func(*ftpaudit.Entry, int64) bool) {
		*err = nil
		n := 0
		dup := int64(0)
		var prev string
		for e := range h.AllEntries() {
			if n > 0 {
				switch c := strings.Compare(e.Path, prev); {
				case c == 0:
					dup++
				case c > 0:
					dup = 0
				default:
					*err = &entriesError{fmt.Errorf("%q after %q: out of order", e.Path, prev)}
					return
				}
			}
			prev = e.Path
			n++
			if !yield(e, dup) {
				return
			}
		}
		if e := h.EntriesErr(); e != nil {
			*err = &entriesError{e}
		} else if want := h.NumEntries(); n != want {
			*err = &entriesError{fmt.Errorf("%d entries of %d", n, want)}
		}
	}
}

// base returns the host a new host of target and start would be saved
// against (0 when there is none), its depth and its chain's rows. It reads the committed
// history, which Save's write lock keeps as it is until Save commits.
func (s *Store) base(ctx context.Context, target, start string) (id, depth, chainRows int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT h.id, coalesce(d.depth, 0), coalesce(d.chain_rows, 0)
		FROM hosts h LEFT JOIN deltas d ON d.host_id = h.id
		WHERE h.target = ? AND h.start = ? ORDER BY h.scan_id DESC, h.seq DESC LIMIT 1`, target, blobOf(start)).Scan(&id, &depth, &chainRows)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, 0, nil
	}
	return id, depth, chainRows, err
}

// keyCmpAt compares the key of k with path and dup.
func keyCmpAt(k *keyedEntry, path string, dup int64) int {
	if c := strings.Compare(k.e.Path, path); c != 0 {
		return c
	}
	switch {
	case k.dup < dup:
		return -1
	case k.dup > dup:
		return 1
	}
	return 0
}

// deltaPlan is what a delta writes: the entries added or changed, and
// the keys removed.
type deltaPlan struct {
	write []deltaRow
	// kept holds the entries of write while there are at most keepDelta
	// of them (nil once there are more): they are then written from
	// here, not read again.
	kept    []*ftpaudit.Entry
	removed []keyedEntry
}

// planDelta compares the entries of h (keyed) with the entries of host
// baseID and returns what a delta must write. ok is false when there are
// more than limit changes. It reads the base by fingerprint
// (fingerprint.go): only the key and fingerprint of each row, as stored,
// against each new entry's own. An error reading h's entries is an
// *entriesError.
func (s *Store) planDelta(ctx context.Context, baseID int64, h *ftpaudit.HostResult, limit int) (plan deltaPlan, ok bool, err error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return deltaPlan{}, false, err
	}
	defer func() { _ = tx.Rollback() }()
	// The base is read ahead on the other core, while the new entries
	// are fingerprinted on this one.
	ahead, stopAhead := readahead.Seq(readFingerprints(ctx, tx, baseID, s.key, false), fingerprintBatch)
	defer stopAhead() // before the rollback
	next, stop := iter.Pull2(ahead)
	defer stop()
	var old keyedEntry
	var more bool
	step := func() error {
		var err error
		old, err, more = next()
		return err
	}
	if err := step(); err != nil {
		return deltaPlan{}, false, err
	}
	gone := func() error {
		plan.removed = append(plan.removed, keyedEntry{e: ftpaudit.Entry{Path: old.e.Path}, dup: old.dup, removed: true})
		return step()
	}
	add := func(e *ftpaudit.Entry, n int, dup int64) {
		plan.write = append(plan.write, deltaRow{n, dup})
		if len(plan.write) <= keepDelta {
			// A copy: an entry read back from a Source keeps its
			// block in memory, and these are thousands.
			ec := e.Clone()
			plan.kept = append(plan.kept, &ec)
		} else {
			plan.kept = nil
		}
	}
	p := newRowPacker(0, s.key)
	n := 0
	var readErr error
	for e, dup := range keyed(h, &readErr) {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return deltaPlan{}, false, err
			}
		}
		n++
		if saveHook != nil && n%saveHookEvery == 0 {
			saveHook(n)
		}
		path := e.Path
		for more && keyCmpAt(&old, path, dup) < 0 {
			if err := gone(); err != nil {
				return deltaPlan{}, false, err
			}
		}
		if more && keyCmpAt(&old, path, dup) == 0 {
			if p.pack(e, dup); p.fp != old.fp {
				add(e, n-1, dup)
			}
			if err := step(); err != nil {
				return deltaPlan{}, false, err
			}
		} else {
			add(e, n-1, dup)
		}
		if len(plan.write)+len(plan.removed) > limit {
			return deltaPlan{}, false, nil
		}
	}
	if readErr != nil {
		return deltaPlan{}, false, readErr
	}
	for more {
		if err := gone(); err != nil {
			return deltaPlan{}, false, err
		}
		if len(plan.write)+len(plan.removed) > limit {
			return deltaPlan{}, false, nil
		}
	}
	return plan, true, nil
}

// saveHostEntries writes the entries of host h, saved as hostID: as the
// changes from its base when it has one, the chain is short enough and
// the changes few enough, else whole. The entries are streamed
// (AllEntries), in key order, never all held: a snapshot encodes them as
// they come, and a delta keeps the positions of those it writes, and
// reads them again to write them when there are more than keepDelta. An
// error reading them back (EntriesErr) fails the save.
func (s *Store) saveHostEntries(ctx context.Context, t *saveTx, hostID int64, h *ftpaudit.HostResult) error {
	baseID, depth, chainRows, err := s.base(ctx, h.Target.URL, h.Target.Start)
	if err != nil {
		return s.dbErr("find the previous scan", err)
	}
	limit := int64(float64(h.NumEntries())*changeLimit) - chainRows
	if baseID == 0 || depth+1 >= int64(snapshotEvery) || limit < 0 {
		return s.saveEntries(ctx, t.chunk, hostID, h)
	}
	plan, ok, err := s.planDelta(ctx, baseID, h, int(limit))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, read := errors.AsType[*entriesError](err); read {
			return err
		}
		return s.dbErr(fmt.Sprintf("compare with host %d", baseID), err)
	}
	if !ok {
		return s.saveEntries(ctx, t.chunk, hostID, h)
	}
	if err := t.delta.exec(ctx, hostID, baseID, depth+1, chainRows+int64(len(plan.write)+len(plan.removed))); err != nil {
		return s.dbErr("insert delta", err)
	}
	p := newRowPacker(hostID, s.key)
	bg := context.Background()
	k := 0 // rows written
	put := func(e *ftpaudit.Entry, dup int64) error {
		if k&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p.pack(e, dup)
		if _, err := t.entry.ex.ExecContext(bg, p.args); err != nil {
			return s.dbErr(fmt.Sprintf("insert entry %q", e.Path), err)
		}
		if k++; deltaHook != nil && k%saveHookEvery == 0 {
			deltaHook(k)
		}
		return nil
	}
	if len(plan.kept) == len(plan.write) {
		for i, w := range plan.write {
			if err := put(plan.kept[i], w.dup); err != nil {
				return err
			}
		}
	} else {
		// Read again, picking the entries at the positions planned.
		var readErr error
		n := 0
		for e, dup := range keyed(h, &readErr) {
			if w := plan.write[k]; w.n == n {
				if w.dup != dup {
					return &entriesError{fmt.Errorf("%q: not the same entries when read again", e.Path)}
				}
				if err := put(e, dup); err != nil {
					return err
				}
				if k == len(plan.write) {
					break
				}
			}
			n++
		}
		if readErr != nil {
			return readErr
		}
		if k < len(plan.write) {
			return &entriesError{fmt.Errorf("%d entries of %d when read again", n, h.NumEntries())}
		}
	}
	for _, r := range plan.removed {
		if err := t.removed.exec(ctx, hostID, blobOf(r.e.Path), r.dup); err != nil {
			return s.dbErr(fmt.Sprintf("insert removed entry %q", r.e.Path), err)
		}
	}
	return nil
}

// fingerprintBatch is how many keys and fingerprints readahead.Seq hands
// over at once.
const fingerprintBatch = 256
