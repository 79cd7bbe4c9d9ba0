package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/gob"
	"fmt"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Schema version 2: hosts.stat, hosts.probes, hosts.fetched and
// hosts.baseline, which version 1 stored as encoding/gob of scanner
// structs, are re-encoded in hostdata.go's encoding.
//
// The gob values are decoded into the frozen copies below of the scanner
// structs as ftpaudit wrote them (the same from the first release of the
// history database to schema version 2). gob matches fields by name, not
// by type, so these copies keep reading version 1 databases whatever
// becomes of the scanner types. Never edit them: only the conversions at
// the end of this file follow the scanner types.

type gobStatReport struct {
	Used      bool
	Note      string
	Listed    int64
	Fallbacks int64
	Resyncs   int64
}

type gobProbeStep struct {
	Tried       bool
	Accepted    bool
	Reply       string
	Removed     bool
	RemoveReply string
	Path        string
}

type gobProbeResult struct {
	Dir      string
	File     gobProbeStep
	Mkdir    gobProbeStep
	Readable bool
	Skipped  string
}

type gobFetchedFile struct {
	Path string
	Data []byte
	Err  string
}

type gobBaselineReport struct {
	ScanID          int64
	Started         time.Time
	Added           int
	Removed         int
	Changed         int
	NotCompared     int
	NotComparedDirs []string
	Note            string
}

// gobBatch is how many host rows are read, converted and written back at
// a time, bounding the memory the migration takes.
const gobBatch = 256

// gobHostRow is one host row's four host data values, gob in, re-encoded
// out.
type gobHostRow struct {
	id                              int64
	stat, probes, fetched, baseline []byte
}

// migrateGobHostData is schema version 2, run inside migrate's
// transaction: a value that does not decode fails the migration, which
// leaves the database at version 1.
func migrateGobHostData(ctx context.Context, conn *sql.Conn) error {
	for after := int64(0); ; {
		batch, err := readGobHostRows(ctx, conn, after)
		if err != nil {
			return err
		}
		for i := range batch {
			r := &batch[i]
			if err := r.reencode(); err != nil {
				return fmt.Errorf("host %d: %w", r.id, err)
			}
			if _, err := conn.ExecContext(ctx, `UPDATE hosts SET stat = ?, probes = ?, fetched = ?, baseline = ? WHERE id = ?`,
				r.stat, r.probes, r.fetched, r.baseline, r.id); err != nil {
				return fmt.Errorf("host %d: %w", r.id, err)
			}
			after = r.id
		}
		if len(batch) < gobBatch {
			return nil
		}
	}
}

// readGobHostRows reads the next batch of host rows with host data, by
// ascending id above after. The rows are closed before any is written.
func readGobHostRows(ctx context.Context, conn *sql.Conn, after int64) ([]gobHostRow, error) {
	rows, err := conn.QueryContext(ctx, `SELECT id, stat, probes, fetched, baseline FROM hosts
		WHERE id > ? AND (stat IS NOT NULL OR probes IS NOT NULL OR fetched IS NOT NULL OR baseline IS NOT NULL)
		ORDER BY id LIMIT ?`, after, gobBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var batch []gobHostRow
	for rows.Next() {
		var r gobHostRow
		if err := rows.Scan(&r.id, &r.stat, &r.probes, &r.fetched, &r.baseline); err != nil {
			return nil, err
		}
		batch = append(batch, r)
	}
	return batch, rows.Err()
}

// reencode replaces the row's gob values by their new encoding; NULL
// stays NULL.
func (r *gobHostRow) reencode() error {
	var (
		stat     *gobStatReport
		probes   []gobProbeResult
		fetched  []gobFetchedFile
		baseline *gobBaselineReport
	)
	if err := decodeOldGob(r.stat, &stat); err != nil {
		return fmt.Errorf("STAT report: %w", err)
	}
	if err := decodeOldGob(r.probes, &probes); err != nil {
		return fmt.Errorf("probes: %w", err)
	}
	if err := decodeOldGob(r.fetched, &fetched); err != nil {
		return fmt.Errorf("fetched files: %w", err)
	}
	if err := decodeOldGob(r.baseline, &baseline); err != nil {
		return fmt.Errorf("baseline report: %w", err)
	}
	r.stat = encodeStat(stat.convert())
	r.probes = encodeProbes(convertProbes(probes))
	r.fetched = encodeFetched(convertFetched(fetched))
	r.baseline = encodeBaseline(baseline.convert())
	return nil
}

// decodeOldGob decodes a version 1 gob value into *v; NULL leaves *v
// as it is.
func decodeOldGob[T any](b []byte, v *T) error {
	if b == nil {
		return nil
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return fmt.Errorf("decode version 1 (gob) value: %w", err)
	}
	return nil
}

// The conversions from the frozen copies to today's scanner types.

func (g *gobStatReport) convert() *ftpaudit.StatReport {
	if g == nil {
		return nil
	}
	return &ftpaudit.StatReport{Used: g.Used, Note: g.Note, Listed: g.Listed, Fallbacks: g.Fallbacks, Resyncs: g.Resyncs}
}

func (g *gobProbeStep) convert() ftpaudit.ProbeStep {
	return ftpaudit.ProbeStep{Tried: g.Tried, Accepted: g.Accepted, Reply: g.Reply,
		Removed: g.Removed, RemoveReply: g.RemoveReply, Path: g.Path}
}

func convertProbes(l []gobProbeResult) []ftpaudit.ProbeResult {
	out := make([]ftpaudit.ProbeResult, len(l))
	for i, g := range l {
		out[i] = ftpaudit.ProbeResult{Dir: g.Dir, File: g.File.convert(), Mkdir: g.Mkdir.convert(),
			Readable: g.Readable, Skipped: g.Skipped}
	}
	return out
}

func convertFetched(l []gobFetchedFile) []ftpaudit.FetchedFile {
	out := make([]ftpaudit.FetchedFile, len(l))
	for i, g := range l {
		out[i] = ftpaudit.FetchedFile{Path: g.Path, Data: g.Data, Err: g.Err}
	}
	return out
}

func (g *gobBaselineReport) convert() *ftpaudit.BaselineReport {
	if g == nil {
		return nil
	}
	return &ftpaudit.BaselineReport{ScanID: g.ScanID, Started: g.Started, Added: g.Added, Removed: g.Removed,
		Changed: g.Changed, NotCompared: g.NotCompared, NotComparedDirs: g.NotComparedDirs, Note: g.Note}
}
