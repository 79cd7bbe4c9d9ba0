package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Reading saved scans back: scan and host summaries, findings and whole
// host results (entries are read by entries.go).

// ScanInfo describes one saved scan.
type ScanInfo struct {
	ID                int64
	Started, Finished time.Time
	// Complete is true when every host was scanned completely.
	Complete bool
	// Args is the command line saved with the scan.
	Args  string
	Hosts []HostInfo
}

// HostInfo describes one host of a saved scan.
type HostInfo struct {
	// ID is the host row's id, for Entries, Findings and HostResult.
	ID     int64
	ScanID int64
	// Target is the host's URL (ftpaudit.Target.URL), Start its start
	// directory (ftpaudit.Target.Start).
	Target     string
	Start      string
	Complete   bool
	Incomplete []string
	Stats      ftpaudit.Stats
	// Entries and Findings count what was saved for the host.
	Entries  int
	Findings int
}

const hostInfoCols = `id, scan_id, target, start, complete, incomplete,
	dirs, files, links, other, unreadable, errors, listed, bad_lines, n_entries, n_findings`

type rowScanner interface {
	Scan(dest ...any) error
}

func scanHostInfo(rs rowScanner) (HostInfo, error) {
	var h HostInfo
	var start string
	var incomplete []byte
	st := &h.Stats
	if err := rs.Scan(&h.ID, &h.ScanID, &h.Target, &start, &h.Complete, &incomplete,
		&st.Dirs, &st.Files, &st.Links, &st.Other, &st.Unreadable, &st.Errors, &st.Listed, &st.BadLines,
		&h.Entries, &h.Findings); err != nil {
		return h, err
	}
	h.Start = start
	var err error
	if h.Incomplete, err = decodeList(incomplete); err != nil {
		return h, fmt.Errorf("host %d: incomplete reasons: %w", h.ID, err)
	}
	return h, nil
}

const scanCols = `id, started, finished, complete, args`

func scanScanInfo(rs rowScanner) (ScanInfo, error) {
	var sc ScanInfo
	var started, finished any
	if err := rs.Scan(&sc.ID, &started, &finished, &sc.Complete, &sc.Args); err != nil {
		return sc, err
	}
	var err error
	if sc.Started, err = nanoTime(started); err != nil {
		return sc, fmt.Errorf("scan %d: %w", sc.ID, err)
	}
	if sc.Finished, err = nanoTime(finished); err != nil {
		return sc, fmt.Errorf("scan %d: %w", sc.ID, err)
	}
	return sc, nil
}

// Scans lists the saved scans with their hosts, newest (most recently
// saved, highest id) first.
func (s *Store) Scans(ctx context.Context) ([]ScanInfo, error) {
	// One read transaction, so that scans and hosts agree.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.dbErr("list scans", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT `+scanCols+` FROM scans ORDER BY id DESC`)
	if err != nil {
		return nil, s.dbErr("list scans", err)
	}
	var out []ScanInfo
	index := map[int64]int{}
	for rows.Next() {
		sc, err := scanScanInfo(rows)
		if err != nil {
			rows.Close()
			return nil, s.dbErr("list scans", err)
		}
		index[sc.ID] = len(out)
		out = append(out, sc)
	}
	if err := rows.Close(); err != nil {
		return nil, s.dbErr("list scans", err)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr("list scans", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+hostInfoCols+` FROM hosts ORDER BY scan_id, seq`)
	if err != nil {
		return nil, s.dbErr("list scans", err)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHostInfo(rows)
		if err != nil {
			return nil, s.dbErr("list scans", err)
		}
		if i, ok := index[h.ScanID]; ok {
			out[i].Hosts = append(out[i].Hosts, h)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr("list scans", err)
	}
	return out, nil
}

// Scan returns the saved scan id with its hosts; ErrNotFound when there
// is none.
func (s *Store) Scan(ctx context.Context, id int64) (*ScanInfo, error) {
	op := fmt.Sprintf("scan %d", id)
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	sc, err := scanScanInfo(tx.QueryRowContext(ctx, `SELECT `+scanCols+` FROM scans WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+hostInfoCols+` FROM hosts WHERE scan_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHostInfo(rows)
		if err != nil {
			return nil, s.dbErr(op, err)
		}
		sc.Hosts = append(sc.Hosts, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(op, err)
	}
	return &sc, nil
}

// LastComplete returns the most recently saved complete host row for
// target (a ftpaudit.Target.URL) and start directory, among scans with an
// id below before (before <= 0: any scan). ErrNotFound when there is
// none.
func (s *Store) LastComplete(ctx context.Context, target, start string, before int64) (*HostInfo, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+hostInfoCols+` FROM hosts
		WHERE target = ? AND start = ? AND complete <> 0 AND scan_id < ?
		ORDER BY scan_id DESC, seq DESC LIMIT 1`, target, blobOf(start), before)
	h, err := scanHostInfo(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("complete scan of %s%s: %w", target, start, ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr("last complete scan", err)
	}
	return &h, nil
}

// Findings returns a host's findings in the order saved, Host set to the
// host's target URL.
func (s *Store) Findings(ctx context.Context, hostID int64) ([]ftpaudit.Finding, error) {
	op := fmt.Sprintf("findings of host %d", hostID)
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	var target string
	err = tx.QueryRowContext(ctx, `SELECT target FROM hosts WHERE id = ?`, hostID).Scan(&target)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("host %d: %w", hostID, ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT path, rule, severity, evidence, size, mtime, mtime_ns, action
		FROM findings WHERE host_id = ? ORDER BY id`, hostID)
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	defer rows.Close()
	var out []ftpaudit.Finding
	for rows.Next() {
		f := ftpaudit.Finding{Host: target}
		var evidence []byte
		var sec, nsec any
		var sev int64
		if err := rows.Scan(&f.Path, &f.Rule, &sev, &evidence, &f.Size, &sec, &nsec, &f.Action); err != nil {
			return nil, s.dbErr(op, err)
		}
		f.Severity = ftpaudit.Severity(sev)
		if f.Evidence, err = decodeList(evidence); err != nil {
			return nil, s.dbErr(op, fmt.Errorf("evidence: %w", err))
		}
		if f.Modified, err = secTime(sec, nsec); err != nil {
			return nil, s.dbErr(op, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(op, err)
	}
	return out, nil
}

// HostResult rebuilds a saved host's ftpaudit.HostResult, so that a saved
// scan can be reported again. Entries are loaded only when withEntries is
// set (they may be millions: prefer Entries to stream them). Errors,
// Unreadable, Notes, Probes and Fetched come back nil when empty.
func (s *Store) HostResult(ctx context.Context, hostID int64, withEntries bool) (*ftpaudit.HostResult, error) {
	op := fmt.Sprintf("host %d", hostID)
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	h, err := readHost(ctx, tx, hostID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	if err := readPathNotes(ctx, tx, hostID, h); err != nil {
		return nil, s.dbErr(op, err)
	}
	if withEntries {
		for e, err := range s.Entries(ctx, hostID) {
			if err != nil {
				return nil, err
			}
			h.Entries = append(h.Entries, e)
		}
	}
	return h, nil
}

// hostRow holds the columns of a hosts row that need decoding.
type hostRow struct {
	start, tls                                            string
	features, incomplete, stat, probes, fetched, baseline []byte
	started, finished                                     any
}

// readHost reads a host's row into a HostResult without its path notes
// and entries; sql.ErrNoRows when there is none.
func readHost(ctx context.Context, tx *sql.Tx, hostID int64) (*ftpaudit.HostResult, error) {
	h := &ftpaudit.HostResult{}
	t, in, st := &h.Target, &h.Info, &h.Stats
	var r hostRow
	err := tx.QueryRowContext(ctx, `SELECT target, start, host, port, user, tls,
		banner, features, login, mlsd, paired, started, finished, complete, incomplete, login_error,
		dirs, files, links, other, unreadable, errors, listed, bad_lines,
		stat, probes, fetched, baseline FROM hosts WHERE id = ?`, hostID).Scan(
		&t.URL, &r.start, &t.Host, &t.Port, &t.User, &r.tls,
		&in.Banner, &r.features, &in.Login, &in.MLSD, &in.Paired, &r.started, &r.finished, &h.Complete, &r.incomplete, &h.LoginError,
		&st.Dirs, &st.Files, &st.Links, &st.Other, &st.Unreadable, &st.Errors, &st.Listed, &st.BadLines,
		&r.stat, &r.probes, &r.fetched, &r.baseline)
	if err != nil {
		return nil, err
	}
	if err := r.decode(h); err != nil {
		return nil, err
	}
	return h, nil
}

// decode fills h's fields from the encoded columns.
func (r *hostRow) decode(h *ftpaudit.HostResult) error {
	var err error
	h.Target.Start, h.Target.TLS = r.start, ftpaudit.TLSMode(r.tls)
	if h.Started, err = nanoTime(r.started); err != nil {
		return err
	}
	if h.Finished, err = nanoTime(r.finished); err != nil {
		return err
	}
	if h.Info.Features, err = decodeList(r.features); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if h.Incomplete, err = decodeList(r.incomplete); err != nil {
		return fmt.Errorf("incomplete reasons: %w", err)
	}
	if h.Stat, err = decodeStat(r.stat); err != nil {
		return fmt.Errorf("STAT report: %w", err)
	}
	if h.Probes, err = decodeProbes(r.probes); err != nil {
		return fmt.Errorf("probes: %w", err)
	}
	if h.Fetched, err = decodeFetched(r.fetched); err != nil {
		return fmt.Errorf("fetched files: %w", err)
	}
	if h.Baseline, err = decodeBaseline(r.baseline); err != nil {
		return fmt.Errorf("baseline report: %w", err)
	}
	return nil
}

// readPathNotes reads a host's errors, unreadable directories and notes
// into h.
func readPathNotes(ctx context.Context, tx *sql.Tx, hostID int64, h *ftpaudit.HostResult) error {
	rows, err := tx.QueryContext(ctx, `SELECT kind, path, message FROM path_notes WHERE host_id = ? ORDER BY kind, seq`, hostID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var pe ftpaudit.PathError
		if err := rows.Scan(&kind, &pe.Path, &pe.Error); err != nil {
			return err
		}
		switch kind {
		case kindError:
			h.Errors = append(h.Errors, pe)
		case kindUnreadable:
			h.Unreadable = append(h.Unreadable, pe)
		case kindNote:
			h.Notes = append(h.Notes, pe)
		default:
			return fmt.Errorf("unknown path note kind %q", kind)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return readNotListed(ctx, tx, hostID, h)
}

// readNotListed reads the directories a host's walk did not list into h.
func readNotListed(ctx context.Context, tx *sql.Tx, hostID int64, h *ftpaudit.HostResult) error {
	rows, err := tx.QueryContext(ctx, `SELECT path, kind, reason, cause, acc_glob, acc_reason, acc_kind FROM not_listed WHERE host_id = ? ORDER BY seq`, hostID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var u ftpaudit.Unlisted
		var kind string
		var glob, reason, akind sql.NullString
		if err := rows.Scan(&u.Path, &kind, &u.Reason, &u.Cause, &glob, &reason, &akind); err != nil {
			return err
		}
		u.Kind = ftpaudit.UnlistedKind(kind)
		if glob.Valid {
			u.Accepted = &ftpaudit.Acceptance{Glob: glob.String, Reason: reason.String, Kind: ftpaudit.UnlistedKind(akind.String)}
		}
		h.NotListed = append(h.NotListed, u)
	}
	return rows.Err()
}
