package history

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
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
// deleted host (schema version 5) is first rewritten whole, in the same
// transaction, so every kept scan reads back exactly as before. The freed
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
		if err := materialise(ctx, conn, id); err != nil {
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
// caller's write transaction: it copies into the host's own rows every
// entry it inherits, with its fingerprint, layer by layer from its base
// down to the snapshot.
// A key the host (or a newer layer) has, or removed, is not copied; the
// removals of each layer are carried up so that older layers do not
// bring back what a newer one removed. Then the
// host's removals and its deltas row go, and it is marked as having
// fingerprints only if every layer had.
func materialise(ctx context.Context, conn *sql.Conn, hostID int64) error {
	chain, err := hostChain(ctx, conn, hostID)
	if err != nil {
		return err
	}
	const notShadowed = `NOT EXISTS (SELECT 1 FROM entries x WHERE x.host_id = ?1 AND x.path = e.path AND x.dup = e.dup)
		AND NOT EXISTS (SELECT 1 FROM removed_entries r WHERE r.host_id = ?1 AND r.path = e.path AND r.dup = e.dup)`
	for i, layer := range chain[1:] {
		if _, err := conn.ExecContext(ctx, `INSERT INTO entries (host_id, path, dup, name, type, size, mtime, mtime_ns,
			mode, owner, grp, perm, uniq, target, facts, raw, list_raw, fp)
			SELECT ?1, path, dup, name, type, size, mtime, mtime_ns, mode, owner, grp, perm, uniq, target, facts, raw, list_raw, fp
			FROM entries e WHERE e.host_id = ?2 AND `+notShadowed, hostID, layer); err != nil {
			return err
		}
		if i+2 < len(chain) {
			if _, err := conn.ExecContext(ctx, `INSERT INTO removed_entries (host_id, path, dup)
				SELECT ?1, path, dup FROM removed_entries e WHERE e.host_id = ?2 AND `+notShadowed, hostID, layer); err != nil {
				return err
			}
		}
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM removed_entries WHERE host_id = ?`, hostID); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM deltas WHERE host_id = ?`, hostID); err != nil {
		return err
	}
	// Its rows have fingerprints only if every layer's had.
	_, err = conn.ExecContext(ctx, `UPDATE hosts SET fps = (SELECT min(fps) FROM hosts WHERE id IN (`+idList(chain)+`)) WHERE id = ?`, hostID)
	return err
}

// idList is ids as an SQL list of integers.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
