package history

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// Deleting old scans.

// Pruned says what PruneWith did.
type Pruned struct {
	// Deleted is the number of scans deleted.
	Deleted int
	// Materialised is the number of kept hosts that were saved as changes
	// from a deleted scan's host and were rewritten whole (as snapshots)
	// first, so that they read back as before.
	Materialised int
	// Reclaimed is how many bytes the database file shrank by: negative
	// when the hosts rewritten whole took more than the deleted scans
	// held.
	Reclaimed int64
}

// Prune is PruneWith, returning the number of scans deleted.
func (s *Store) Prune(ctx context.Context, keep int, olderThan time.Time) (int, error) {
	p, err := s.PruneWith(ctx, keep, olderThan)
	return p.Deleted, err
}

// PruneWith deletes saved scans: those beyond the newest keep (keep <= 0:
// no bound by count) and those started before olderThan (zero: no bound
// by age); a scan either bound selects is deleted, with its hosts,
// entries and findings, unless it holds a host's current accepted
// baseline (BaselineScans): that one is kept, whatever its age, for as
// long as it is the baseline. A kept host saved as the changes from a
// deleted host (schema version 5) is first rewritten whole (in chunks,
// as a snapshot is saved), in the same transaction, so every kept scan
// reads back exactly as before. The freed
// pages are then returned to the file system (incremental vacuum), and
// the bytes reclaimed reported; an error doing so is returned with the
// count.
func (s *Store) PruneWith(ctx context.Context, keep int, olderThan time.Time) (Pruned, error) {
	var p Pruned
	var conds []string
	var args []any
	if keep > 0 {
		conds = append(conds, `id NOT IN (SELECT id FROM scans ORDER BY id DESC LIMIT ?)`)
		args = append(args, keep)
	}
	if !olderThan.IsZero() {
		var ns int64
		switch {
		case olderThan.Before(minNanoTime):
			ns = math.MinInt64
		case olderThan.After(maxNanoTime):
			ns = math.MaxInt64
		default:
			ns = olderThan.UnixNano()
		}
		conds = append(conds, `started < ?`)
		args = append(args, ns)
	}
	if len(conds) == 0 {
		return p, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return p, s.dbErr("prune", err)
	}
	defer conn.Close()
	before, err := fileBytes(ctx, conn)
	if err != nil {
		return p, s.dbErr("prune", err)
	}
	if p, err = s.prune(ctx, conn, conds, args); err != nil {
		return Pruned{}, err
	}
	if p.Deleted > 0 {
		if _, err := conn.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return p, s.dbErr(fmt.Sprintf("pruned %d scans; compacting the database", p.Deleted), err)
		}
	}
	after, err := fileBytes(ctx, conn)
	if err != nil {
		return p, s.dbErr(fmt.Sprintf("pruned %d scans", p.Deleted), err)
	}
	p.Reclaimed = before - after
	return p, nil
}

// fileBytes returns the size of the database in bytes (page count times
// page size).
func fileBytes(ctx context.Context, conn *sql.Conn) (int64, error) {
	var pages, size int64
	if err := conn.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}

// prune deletes the scans conds select, in one write transaction.
func (s *Store) prune(ctx context.Context, conn *sql.Conn, conds []string, args []any) (p Pruned, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return p, s.dbErr("prune", err)
	}
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY)`,
		`DELETE FROM temp.prune_ids`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return p, s.dbErr("prune", err)
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO temp.prune_ids SELECT id FROM scans WHERE (`+strings.Join(conds, " OR ")+`) AND id NOT IN (`+currentAccepted+`)`, args...); err != nil {
		return p, s.dbErr("prune", err)
	}
	// The kept hosts whose base goes: rewrite them whole first.
	rows, err := conn.QueryContext(ctx, `SELECT d.host_id FROM deltas d
		JOIN hosts b ON b.id = d.base_id JOIN hosts h ON h.id = d.host_id
		WHERE b.scan_id IN (SELECT id FROM temp.prune_ids) AND h.scan_id NOT IN (SELECT id FROM temp.prune_ids)
		ORDER BY d.host_id`)
	if err != nil {
		return p, s.dbErr("prune", err)
	}
	var orphans []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return p, s.dbErr("prune", err)
		}
		orphans = append(orphans, id)
	}
	if err := rows.Close(); err != nil {
		return p, s.dbErr("prune", err)
	}
	for _, id := range orphans {
		if err := s.materialise(ctx, conn, id); err != nil {
			return p, s.dbErr(fmt.Sprintf("prune: rewrite host %d whole", id), err)
		}
	}
	p.Materialised = len(orphans)
	// Foreign keys cascade to the rest.
	res, err := conn.ExecContext(ctx, `DELETE FROM scans WHERE id IN (SELECT id FROM temp.prune_ids)`)
	if err != nil {
		return p, s.dbErr("prune", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return p, s.dbErr("prune", err)
	}
	p.Deleted = int(n)
	if _, err := conn.ExecContext(ctx, `DELETE FROM temp.prune_ids`); err != nil {
		return p, s.dbErr("prune", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return p, s.dbErr("prune", err)
	}
	return p, nil
}

// materialise rewrites delta host hostID as a full snapshot, inside the
// caller's write transaction on conn: it reads the host's entries as
// saved, merging its chain, and writes them in chunks (chunks.go), each
// with its fingerprint, as a snapshot save does; then the host's own
// entries rows, its removals and its deltas row go. The chain is read in
// a read transaction of its own, on another connection, as a save reads
// its base: it sees the history as committed, which only this
// transaction can change until it commits, and the hosts it rewrote
// before this one read back the same either way. Rows saved before
// version 6 are fingerprinted as they are read, so the host has its
// fingerprints.
func (s *Store) materialise(ctx context.Context, conn *sql.Conn, hostID int64) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	ins, err := conn.PrepareContext(ctx, insertChunkSQL)
	if err != nil {
		return err
	}
	defer ins.Close()
	p := newChunkPacker(s.key)
	w := chunkWriter{flush: func(c *chunkBuf) error {
		_, err := ins.ExecContext(ctx, hostID, c.first, c.firstDup, int64(c.n), c.keys, c.data)
		return err
	}}
	for k, err := range readKeyed(ctx, tx, hostID, false) {
		if err != nil {
			return err
		}
		p.pack(&k.e, k.dup)
		if err := w.add(p, k.dup); err != nil {
			return err
		}
	}
	if err := w.end(); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM entries WHERE host_id = ?`,
		`DELETE FROM removed_entries WHERE host_id = ?`,
		`DELETE FROM deltas WHERE host_id = ?`,
		`UPDATE hosts SET fps = 1 WHERE id = ?`,
	} {
		if _, err := conn.ExecContext(ctx, q, hostID); err != nil {
			return err
		}
	}
	return nil
}
