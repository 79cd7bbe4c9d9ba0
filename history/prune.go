package history

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Deleting old scans.

// Prune deletes saved scans: those beyond the newest keep (keep <= 0: no
// bound by count) and those started before olderThan (zero: no bound by
// age); a scan either bound selects is deleted, with its hosts, entries
// and findings, unless it holds a host's current accepted baseline
// (BaselineScans): that one is kept, whatever its age, for as long as it
// is the baseline. It returns how many scans were deleted. The freed
// pages are then returned to the file system (incremental vacuum); an
// error doing so is returned with the count.
func (s *Store) Prune(ctx context.Context, keep int, olderThan time.Time) (int, error) {
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
		return 0, nil
	}
	// One statement, one transaction; foreign keys cascade to the rest.
	res, err := s.db.ExecContext(ctx, `DELETE FROM scans WHERE (`+strings.Join(conds, " OR ")+`) AND id NOT IN (`+currentAccepted+`)`, args...)
	if err != nil {
		return 0, s.dbErr("prune", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.dbErr("prune", err)
	}
	if n > 0 {
		if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return int(n), s.dbErr(fmt.Sprintf("pruned %d scans; compacting the database", n), err)
		}
	}
	return int(n), nil
}
