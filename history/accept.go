package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Accepted baselines, as AIDE and Tripwire keep them: a baseline is a
// saved scan of a host that a person accepted, and every later scan is
// compared with it until another one is accepted. The acceptances table
// (schema version 3) is append-only: accepting again adds a row, and the
// newest row of a target and start directory is its current baseline.

// ErrIncomplete means a host cannot be accepted as a baseline because its
// scan was incomplete: everything it missed would be reported as new.
var ErrIncomplete = errors.New("incomplete: what it missed would show as new")

// Acceptance is one acceptance of a saved host as the baseline of its
// target and start directory.
type Acceptance struct {
	ID int64
	// Target and Start name the host (ftpaudit.Target.URL and Start).
	Target, Start string
	// ScanID and HostID are the accepted scan and its host row.
	ScanID, HostID int64
	Accepted       time.Time
	// By is who accepted it, Note why.
	By, Note string
	// Automatic is set for a host's first complete saved scan, accepted
	// without being asked (SaveOptions.AutoAccept).
	Automatic bool
	// Deleted is set when the accepted scan is no longer in the history.
	Deleted bool
}

const acceptanceCols = `a.id, a.target, a.start, a.scan_id, a.host_id, a.accepted, a.accepted_by, a.note, a.automatic,
	NOT EXISTS (SELECT 1 FROM hosts h WHERE h.id = a.host_id)`

func scanAcceptance(rs rowScanner) (Acceptance, error) {
	var a Acceptance
	var start []byte
	var accepted any
	if err := rs.Scan(&a.ID, &a.Target, &start, &a.ScanID, &a.HostID, &accepted, &a.By, &a.Note, &a.Automatic, &a.Deleted); err != nil {
		return a, err
	}
	a.Start = string(start)
	var err error
	if a.Accepted, err = nanoTime(accepted); err != nil {
		return a, fmt.Errorf("acceptance %d: %w", a.ID, err)
	}
	return a, nil
}

// Accept records, in one transaction, that by accepts each of the saved
// hosts hostIDs as the baseline of its target and start directory, with a
// note, and returns the acceptances in the order of hostIDs. A host that
// does not exist gives ErrNotFound, one whose scan was incomplete
// ErrIncomplete (wrapped, naming it); then nothing is recorded.
func (s *Store) Accept(ctx context.Context, hostIDs []int64, by, note string) ([]Acceptance, error) {
	if by == "" {
		return nil, errors.New("accept: who accepts it must be given")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.dbErr("accept", err)
	}
	defer func() { _ = tx.Rollback() }()
	now := time.Now().UnixNano()
	var out []Acceptance
	for _, id := range hostIDs {
		var target string
		var start []byte
		var scanID int64
		var complete bool
		err := tx.QueryRowContext(ctx, `SELECT target, start, scan_id, complete FROM hosts WHERE id = ?`, id).Scan(&target, &start, &scanID, &complete)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("accept host %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, s.dbErr("accept", err)
		}
		if !complete {
			return nil, fmt.Errorf("accept scan %d of %s%s: %w", scanID, target, startSuffix(string(start)), ErrIncomplete)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO acceptances (target, start, scan_id, host_id, accepted, accepted_by, note, automatic)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0)`, target, start, scanID, id, now, by, note)
		if err != nil {
			return nil, s.dbErr("accept", err)
		}
		aid, err := res.LastInsertId()
		if err != nil {
			return nil, s.dbErr("accept", err)
		}
		out = append(out, Acceptance{ID: aid, Target: target, Start: string(start), ScanID: scanID, HostID: id,
			Accepted: time.Unix(0, now).UTC(), By: by, Note: note})
	}
	if err := tx.Commit(); err != nil {
		return nil, s.dbErr("accept: commit", err)
	}
	return out, nil
}

// startSuffix is a start directory as it follows a target URL in
// messages: "" for the root.
func startSuffix(start string) string {
	if start == "/" || start == "" {
		return ""
	}
	return start
}

// Accepted returns the current baseline of target and start: the newest
// acceptance. ErrNotFound (wrapped) when none was ever accepted. The
// acceptance is returned even when its scan has since been deleted
// (Deleted): the caller must not quietly fall back to an older one.
func (s *Store) Accepted(ctx context.Context, target, start string) (*Acceptance, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+acceptanceCols+` FROM acceptances a
		WHERE a.target = ? AND a.start = ? ORDER BY a.id DESC LIMIT 1`, target, blobOf(start))
	a, err := scanAcceptance(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("accepted baseline of %s%s: %w", target, startSuffix(start), ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr("accepted baseline", err)
	}
	return &a, nil
}

// Acceptances returns every acceptance, newest first: of target and start
// when target is not empty, else of every host.
func (s *Store) Acceptances(ctx context.Context, target, start string) ([]Acceptance, error) {
	q := `SELECT ` + acceptanceCols + ` FROM acceptances a`
	var args []any
	if target != "" {
		q += ` WHERE a.target = ? AND a.start = ?`
		args = append(args, target, blobOf(start))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY a.id DESC`, args...)
	if err != nil {
		return nil, s.dbErr("acceptances", err)
	}
	defer rows.Close()
	var out []Acceptance
	for rows.Next() {
		a, err := scanAcceptance(rows)
		if err != nil {
			return nil, s.dbErr("acceptances", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr("acceptances", err)
	}
	return out, nil
}

// currentAccepted selects the scan ids that hold a current baseline (the
// newest acceptance of some target and start); Prune keeps them.
const currentAccepted = `SELECT a.scan_id FROM acceptances a
	WHERE a.id = (SELECT max(b.id) FROM acceptances b WHERE b.target = a.target AND b.start = a.start)`

// BaselineScans returns the ids of the saved scans that hold a host's
// current accepted baseline, ascending. Prune never deletes them.
func (s *Store) BaselineScans(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT scan_id FROM (`+currentAccepted+`) AS cur ORDER BY scan_id`)
	if err != nil {
		return nil, s.dbErr("accepted baselines", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, s.dbErr("accepted baselines", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr("accepted baselines", err)
	}
	return out, nil
}

// SaveOptions are the options of SaveWith.
type SaveOptions struct {
	// AutoAccept accepts every complete host of the scan whose target and
	// start directory has no accepted baseline yet, in the same
	// transaction (Acceptance.Automatic), by By.
	AutoAccept bool
	By         string
}

// Saved is what SaveWith recorded.
type Saved struct {
	ID int64
	// Accepted holds the hosts accepted automatically (SaveOptions.AutoAccept).
	Accepted []Acceptance
}

// autoAccept accepts the saved hosts (ids hostIDs, of scan scanID) whose
// target and start have no accepted baseline, inside Save's transaction.
func autoAccept(ctx context.Context, c *rawConn, scanID int64, hosts []savedHost, by string) ([]Acceptance, error) {
	now := time.Now().UnixNano()
	var out []Acceptance
	for _, h := range hosts {
		if !h.complete {
			continue
		}
		note := "accepted automatically as the first baseline of " + h.target + startSuffix(h.start)
		res, err := c.exec(ctx, `INSERT INTO acceptances (target, start, scan_id, host_id, accepted, accepted_by, note, automatic)
			SELECT ?, ?, ?, ?, ?, ?, ?, 1
			WHERE NOT EXISTS (SELECT 1 FROM acceptances WHERE target = ? AND start = ?)`,
			h.target, blobOf(h.start), scanID, h.id, now, by, note, h.target, blobOf(h.start))
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			continue // accepted before
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		out = append(out, Acceptance{ID: id, Target: h.target, Start: h.start, ScanID: scanID, HostID: h.id,
			Accepted: time.Unix(0, now).UTC(), By: by, Note: note, Automatic: true})
	}
	return out, nil
}

// savedHost is a host row Save wrote.
type savedHost struct {
	id            int64
	target, start string
	complete      bool
}
