// Package history keeps finished scans in an SQLite database, so that a
// later scan can be compared with the last good one and a saved scan can
// be reported again. It uses the pure-Go driver modernc.org/sqlite (no
// cgo). It never prints.
//
// The database runs in WAL mode: readers never block the writer, and
// writers (several ftpaudit processes saving at once) queue on the write
// lock, each saving in one transaction begun with BEGIN IMMEDIATE, for up
// to busyTimeout. A save killed at any point leaves no trace: nothing is
// committed before its end.
package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ftpaudit/ftpaudit"
)

// ErrNewerSchema means the database was written by a newer ftpaudit. Open
// returns it wrapped, with both schema versions in the message.
var ErrNewerSchema = errors.New("history database was written by a newer ftpaudit")

// ErrNotFound means there is no such scan or host in the history.
var ErrNotFound = errors.New("not found in the scan history")

// errNotHistory means a file is not an ftpaudit history database, or is
// too damaged to tell.
var errNotHistory = errors.New("not an ftpaudit history database")

// busyTimeout is how long a writer waits for another to finish. Saving a
// million entries takes seconds; a minute leaves room for several.
const busyTimeout = 60 * time.Second

// Store is an open history database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// DefaultPath returns $XDG_STATE_HOME/ftpaudit/history.db, or
// ~/.local/state/ftpaudit/history.db when XDG_STATE_HOME is unset or not
// absolute (as the XDG base directory specification says to ignore a
// relative value).
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ftpaudit", "history.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("history database location: %w", err)
	}
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("history database location: home directory %q is not absolute", home)
	}
	return filepath.Join(home, ".local", "state", "ftpaudit", "history.db"), nil
}

// Open opens the history database at path, creating it (parent
// directories 0700, file 0600) when it does not exist, and brings its
// schema up to date. A file that is not an ftpaudit history database
// (another kind of file, another application's SQLite database, a
// damaged one) is refused with an error naming it; one written by a newer
// ftpaudit gives ErrNewerSchema.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open history database: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open history database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open history database: %w", err)
	}
	if err := checkFile(abs); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open history database %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close history database %s: %w", s.path, err)
	}
	return nil
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkFile creates path (0600) when it does not exist, and refuses a
// file that is plainly not ours before SQLite touches it: SQLite would
// otherwise switch another application's database to WAL mode, or
// report a text file only at the first query.
func checkFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open history database: %w", err)
	}
	defer f.Close()
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return nil // new, empty
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("read history database: %w", err)
	case n < len(h) || string(h[:len(sqliteMagic)]) != sqliteMagic:
		return notHistory(path, "not an SQLite database file")
	}
	// The header's application id; in WAL mode a newer value may still be
	// in the log only, so 0 proves nothing and is checked again by init.
	if id := binary.BigEndian.Uint32(h[68:72]); id != 0 && id != appID {
		return notHistory(path, fmt.Sprintf("SQLite database of another application, id %#x", id))
	}
	return nil
}

func notHistory(path, why string) error {
	return fmt.Errorf("%s is %w (%s)", path, errNotHistory, why)
}

// dsn builds the driver's data source name. Every pooled connection runs
// the pragmas: the busy timeout, foreign keys (for ON DELETE CASCADE),
// synchronous=NORMAL (in WAL mode a crash of the application cannot lose
// a committed transaction; only a power loss may lose the last ones), a
// 4 MiB page cache (entries are inserted in key order, so only the
// B-tree's right edge is hot; a larger cache measured no faster), and a bound on the WAL file kept after a
// checkpoint.
func dsn(abs string) string {
	u := url.URL{Scheme: "file", Path: abs} // escapes '?', '#', '%'
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-4096)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	return u.String() + "?" + q.Encode()
}

// openErr describes a failure to open or migrate the database.
func (s *Store) openErr(err error) error {
	if code, ok := sqliteCode(err); ok && (code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT) {
		return fmt.Errorf("%s is %w, or is damaged: %v", s.path, errNotHistory, err)
	}
	return fmt.Errorf("open history database %s: %w", s.path, err)
}

// dbErr wraps an error of operation op.
func (s *Store) dbErr(op string, err error) error {
	if code, ok := sqliteCode(err); ok && (code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT) {
		return fmt.Errorf("%s: history database %s is damaged: %w", op, s.path, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// sqliteCode returns the primary SQLite result code in err's chain.
func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff, true
	}
	return 0, false
}

// init checks that the database is ours, turns WAL mode on and applies
// missing migrations.
func (s *Store) init(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.openErr(err)
	}
	defer conn.Close()
	id, version, objects, err := readHeader(ctx, conn)
	if err != nil {
		return s.openErr(err)
	}
	if err := s.checkHeader(id, version, objects); err != nil {
		return err
	}
	if objects == 0 {
		// Only possible before the first table exists.
		if _, err := conn.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
			return s.openErr(err)
		}
	}
	mode, err := setWAL(ctx, conn)
	if err != nil {
		return s.openErr(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open history database %s: cannot use WAL mode (journal mode is %q)", s.path, mode)
	}
	if version == int64(len(migrations)) {
		return nil
	}
	return s.migrate(ctx, conn)
}

// readHeader reads the application id, the schema version and the number
// of schema objects in one statement, so from one snapshot: another
// process may be creating the schema meanwhile.
func readHeader(ctx context.Context, conn *sql.Conn) (id, version, objects int64, err error) {
	err = conn.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)`).Scan(&id, &version, &objects)
	return
}

func (s *Store) checkHeader(id, version, objects int64) error {
	switch {
	case id != 0 && id != appID:
		return notHistory(s.path, fmt.Sprintf("SQLite database of another application, id %#x", id))
	case id == 0 && (version != 0 || objects != 0):
		return notHistory(s.path, "SQLite database of another application")
	case version > int64(len(migrations)):
		return fmt.Errorf("%w: %s has schema version %d, this ftpaudit knows versions up to %d: use a newer ftpaudit, or another --db",
			ErrNewerSchema, s.path, version, len(migrations))
	}
	return nil
}

// setWAL turns WAL mode on (it stays on in the file). The first switch
// takes an exclusive lock without waiting for it (SQLite's busy handler
// is not consulted), so when several processes create the database at
// once it is retried here, for as long as a busy lock is waited for.
func setWAL(ctx context.Context, conn *sql.Conn) (string, error) {
	deadline := time.Now().Add(busyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		var mode string
		err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if code, ok := sqliteCode(err); !ok || code != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return mode, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
}

// migrate applies the missing migrations in one write transaction.
func (s *Store) migrate(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.openErr(err)
	}
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()
	// Again, under the write lock: another process may have migrated.
	id, version, objects, err := readHeader(ctx, conn)
	if err != nil {
		return s.openErr(err)
	}
	if err := s.checkHeader(id, version, objects); err != nil {
		return err
	}
	if version == int64(len(migrations)) {
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil { // nothing written
			return s.openErr(err)
		}
		return nil
	}
	for v := version; v < int64(len(migrations)); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("open history database %s: schema version %d: %w", s.path, v+1, err)
		}
	}
	// PRAGMA takes no parameters; both values are integers.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return s.openErr(err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", appID)); err != nil {
		return s.openErr(err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return s.openErr(err)
	}
	return nil
}

// rollback ends conn's transaction; when that fails, conn is dropped from
// the pool so that no later user finds a transaction open on it.
func rollback(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// rawConn runs statements on the driver's connection directly: Save
// inserts up to millions of rows, and database/sql's per-call argument
// conversion and locking would cost more than SQLite's own work.
type rawConn struct {
	ex driver.ExecerContext
	pc driver.ConnPrepareContext
}

func newRawConn(dc any) (*rawConn, error) {
	ex, ok1 := dc.(driver.ExecerContext)
	pc, ok2 := dc.(driver.ConnPrepareContext)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("unexpected SQLite driver connection %T", dc)
	}
	return &rawConn{ex: ex, pc: pc}, nil
}

// exec runs q; args must be driver values (int64, string, []byte, bool,
// nil).
func (c *rawConn) exec(ctx context.Context, q string, args ...any) (driver.Result, error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return c.ex.ExecContext(ctx, q, nv)
}

func (c *rawConn) insert(ctx context.Context, q string, args ...any) (int64, error) {
	r, err := c.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
}

// rawStmt is a statement prepared on a rawConn.
type rawStmt struct {
	st driver.Stmt
	ex driver.StmtExecContext
}

func (c *rawConn) prepare(ctx context.Context, q string) (*rawStmt, error) {
	st, err := c.pc.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("unexpected SQLite statement %T", st)
	}
	return &rawStmt{st: st, ex: ex}, nil
}

// exec runs the statement; args as for rawConn.exec.
func (st *rawStmt) exec(ctx context.Context, args ...any) error {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	_, err := st.ex.ExecContext(ctx, nv)
	return err
}

func (st *rawStmt) close() { _ = st.st.Close() }

// saveHook, when set (tests), is called during Save after every 4096
// entries inserted, with the count so far in the current host.
var saveHook func(n int)

// Save records r in one transaction and returns the new scan's id: the
// scan, each host with everything its HostResult holds, every entry with
// every attribute, and every finding, tied to its host by Host (the
// target URL) and, when several hosts share the URL, by the start
// directory its Path lies under. args is the command line to remember;
// it must not hold secrets. Nothing is committed before the end: a save
// that fails, is cancelled or killed leaves the history as it was.
// Save does not set r.SavedID.
func (s *Store) Save(ctx context.Context, r *ftpaudit.Result, args string) (int64, error) {
	if r == nil {
		return 0, errors.New("save scan: no result")
	}
	for i, h := range r.Hosts {
		if h == nil {
			return 0, fmt.Errorf("save scan: host %d has no result", i)
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, s.dbErr("save scan", err)
	}
	defer conn.Close()
	var id int64
	var saveErr error
	err = conn.Raw(func(dc any) error {
		c, err := newRawConn(dc)
		if err != nil {
			saveErr = err
			return nil
		}
		if _, err := c.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
			saveErr = s.dbErr("save scan: begin", err)
			return nil
		}
		id, saveErr = s.save(ctx, c, r, args)
		if saveErr == nil {
			saveErr = ctx.Err()
		}
		if saveErr == nil {
			// Not ctx: a cancellation arriving during the commit could
			// report failure for a scan that was saved.
			if _, err := c.exec(context.Background(), "COMMIT"); err != nil {
				saveErr = s.dbErr("save scan: commit", err)
			}
		}
		if saveErr != nil {
			// Not ctx: the rollback must run after a cancellation too.
			if _, err := c.exec(context.Background(), "ROLLBACK"); err != nil {
				return driver.ErrBadConn // drop the connection
			}
		}
		return nil
	})
	if saveErr != nil {
		return 0, saveErr
	}
	if err != nil {
		return 0, s.dbErr("save scan", err)
	}
	return id, nil
}

// saveTx holds the statements of one save transaction.
type saveTx struct {
	c                    *rawConn
	entry, note, finding *rawStmt
}

func (t *saveTx) close() {
	for _, st := range []*rawStmt{t.entry, t.note, t.finding} {
		if st != nil {
			st.close()
		}
	}
}

// save writes the rows of one scan inside the caller's transaction.
func (s *Store) save(ctx context.Context, c *rawConn, r *ftpaudit.Result, args string) (int64, error) {
	started, err := nanoValue(r.Started)
	if err != nil {
		return 0, fmt.Errorf("save scan: start %w", err)
	}
	finished, err := nanoValue(r.Finished)
	if err != nil {
		return 0, fmt.Errorf("save scan: end %w", err)
	}
	scanID, err := c.insert(ctx, `INSERT INTO scans (started, finished, saved, complete, args) VALUES (?, ?, ?, ?, ?)`,
		started, finished, time.Now().UnixNano(), r.Complete(), args)
	if err != nil {
		return 0, s.dbErr("save scan", err)
	}

	t := &saveTx{c: c}
	defer t.close()
	for _, p := range []struct {
		st **rawStmt
		q  string
	}{
		{&t.entry, insertEntrySQL},
		{&t.note, `INSERT INTO path_notes (host_id, kind, seq, path, message) VALUES (?, ?, ?, ?, ?)`},
		{&t.finding, `INSERT INTO findings (scan_id, host_id, host, path, rule, severity, evidence, size, mtime, mtime_ns, action)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		if *p.st, err = c.prepare(ctx, p.q); err != nil {
			return 0, s.dbErr("save scan", err)
		}
	}

	// Which host each finding belongs to (-1: none).
	owner := make([]int, len(r.Findings))
	counts := make([]int64, len(r.Hosts))
	for i := range r.Findings {
		owner[i] = findingHost(r.Hosts, &r.Findings[i])
		if owner[i] >= 0 {
			counts[owner[i]]++
		}
	}

	hostIDs := make([]int64, len(r.Hosts))
	for i, h := range r.Hosts {
		hostIDs[i], err = s.saveHost(ctx, t, scanID, i, h, counts[i])
		if err != nil {
			return 0, fmt.Errorf("save scan: host %s: %w", h.Target.URL, err)
		}
		if err := s.saveEntries(ctx, t.entry.ex, hostIDs[i], h.Entries); err != nil {
			return 0, fmt.Errorf("save scan: host %s: %w", h.Target.URL, err)
		}
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		var hostID any
		if owner[i] >= 0 {
			hostID = hostIDs[owner[i]]
		}
		sec, nsec := secValues(f.Modified)
		err := t.finding.exec(ctx, scanID, hostID, f.Host, blobOf(f.Path), f.Rule, int64(f.Severity), encodeList(f.Evidence),
			f.Size, sec, nsec, f.Action)
		if err != nil {
			return 0, s.dbErr("save scan: finding", err)
		}
	}
	return scanID, nil
}

// findingHost returns the index of the host f belongs to: the first whose
// URL is f.Host and whose start directory holds f.Path, else the first
// with that URL; -1 when none has it.
func findingHost(hosts []*ftpaudit.HostResult, f *ftpaudit.Finding) int {
	first := -1
	for i, h := range hosts {
		if h.Target.URL != f.Host {
			continue
		}
		if under(f.Path, h.Target.Start) {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// under reports whether path is dir or lies below it.
func under(path, dir string) bool {
	if dir == "/" || path == dir {
		return true
	}
	return strings.HasPrefix(path, dir) && strings.HasPrefix(path[len(dir):], "/")
}

func (s *Store) saveHost(ctx context.Context, t *saveTx, scanID int64, seq int, h *ftpaudit.HostResult, findings int64) (int64, error) {
	started, err := nanoValue(h.Started)
	if err != nil {
		return 0, fmt.Errorf("start %w", err)
	}
	finished, err := nanoValue(h.Finished)
	if err != nil {
		return 0, fmt.Errorf("end %w", err)
	}
	stat, err := encodeGob(h.Stat, h.Stat == nil)
	if err != nil {
		return 0, fmt.Errorf("encode STAT report: %w", err)
	}
	probes, err := encodeGob(h.Probes, len(h.Probes) == 0)
	if err != nil {
		return 0, fmt.Errorf("encode probes: %w", err)
	}
	fetched, err := encodeGob(h.Fetched, len(h.Fetched) == 0)
	if err != nil {
		return 0, fmt.Errorf("encode fetched files: %w", err)
	}
	baseline, err := encodeGob(h.Baseline, h.Baseline == nil)
	if err != nil {
		return 0, fmt.Errorf("encode baseline report: %w", err)
	}
	tg, in, st := h.Target, h.Info, h.Stats
	id, err := t.c.insert(ctx, `INSERT INTO hosts (scan_id, seq, target, start, host, port, user, tls,
		banner, features, login, mlsd, paired, started, finished, complete, incomplete, login_error,
		dirs, files, links, other, unreadable, errors, listed, bad_lines,
		stat, probes, fetched, baseline, n_entries, n_findings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		scanID, int64(seq), tg.URL, blobOf(tg.Start), tg.Host, tg.Port, tg.User, string(tg.TLS),
		in.Banner, encodeList(in.Features), in.Login, in.MLSD, in.Paired, started, finished, h.Complete, encodeList(h.Incomplete), h.LoginError,
		int64(st.Dirs), int64(st.Files), int64(st.Links), int64(st.Other), int64(st.Unreadable), int64(st.Errors), int64(st.Listed), int64(st.BadLines),
		stat, probes, fetched, baseline, int64(len(h.Entries)), findings)
	if err != nil {
		return 0, s.dbErr("insert", err)
	}
	for _, l := range []struct {
		kind string
		pe   []ftpaudit.PathError
	}{{kindError, h.Errors}, {kindUnreadable, h.Unreadable}, {kindNote, h.Notes}} {
		for i, pe := range l.pe {
			if err := t.note.exec(ctx, id, l.kind, int64(i), blobOf(pe.Path), pe.Error); err != nil {
				return 0, s.dbErr("insert "+l.kind, err)
			}
		}
	}
	return id, nil
}

// Kinds of path_notes rows.
const (
	kindError      = "error"
	kindUnreadable = "unreadable"
	kindNote       = "note"
)

// blobOf binds s as a BLOB. The empty string is an empty BLOB, not NULL:
// converting a string to []byte never yields nil.
func blobOf(s string) []byte { return []byte(s) }

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
	// Target is the host's URL (scanner.Target.URL), Start its start
	// directory (scanner.Target.Start).
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
// target (a scanner.Target.URL) and start directory, among scans with an
// id below before (before <= 0: any scan). ErrNotFound when there is
// none.
func (s *Store) LastComplete(ctx context.Context, target, start string, before int64) (*HostInfo, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+hostInfoCols+` FROM hosts
		WHERE target = ? AND start = ? AND complete AND scan_id < ?
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

// hostExists returns ErrNotFound (wrapped) when there is no host hostID.
func (s *Store) hostExists(ctx context.Context, hostID int64) error {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM hosts WHERE id = ?`, hostID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("host %d: %w", hostID, ErrNotFound)
	}
	if err != nil {
		return s.dbErr(fmt.Sprintf("host %d", hostID), err)
	}
	return nil
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

// HostResult rebuilds a saved host's scanner.HostResult, so that a saved
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
	h := &ftpaudit.HostResult{}
	t, in, st := &h.Target, &h.Info, &h.Stats
	var start, tls string
	var features, incomplete, stat, probes, fetched, baseline []byte
	var started, finished any
	err = tx.QueryRowContext(ctx, `SELECT target, start, host, port, user, tls,
		banner, features, login, mlsd, paired, started, finished, complete, incomplete, login_error,
		dirs, files, links, other, unreadable, errors, listed, bad_lines,
		stat, probes, fetched, baseline FROM hosts WHERE id = ?`, hostID).Scan(
		&t.URL, &start, &t.Host, &t.Port, &t.User, &tls,
		&in.Banner, &features, &in.Login, &in.MLSD, &in.Paired, &started, &finished, &h.Complete, &incomplete, &h.LoginError,
		&st.Dirs, &st.Files, &st.Links, &st.Other, &st.Unreadable, &st.Errors, &st.Listed, &st.BadLines,
		&stat, &probes, &fetched, &baseline)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	t.Start, t.TLS = start, ftpaudit.TLSMode(tls)
	if h.Started, err = nanoTime(started); err != nil {
		return nil, s.dbErr(op, err)
	}
	if h.Finished, err = nanoTime(finished); err != nil {
		return nil, s.dbErr(op, err)
	}
	if in.Features, err = decodeList(features); err != nil {
		return nil, s.dbErr(op, fmt.Errorf("features: %w", err))
	}
	if h.Incomplete, err = decodeList(incomplete); err != nil {
		return nil, s.dbErr(op, fmt.Errorf("incomplete reasons: %w", err))
	}
	if stat != nil {
		h.Stat = new(ftpaudit.StatReport)
		if err := decodeGob(stat, h.Stat); err != nil {
			return nil, s.dbErr(op, fmt.Errorf("STAT report: %w", err))
		}
	}
	if err := decodeGob(probes, &h.Probes); err != nil {
		return nil, s.dbErr(op, fmt.Errorf("probes: %w", err))
	}
	if err := decodeGob(fetched, &h.Fetched); err != nil {
		return nil, s.dbErr(op, fmt.Errorf("fetched files: %w", err))
	}
	if baseline != nil {
		h.Baseline = new(ftpaudit.BaselineReport)
		if err := decodeGob(baseline, h.Baseline); err != nil {
			return nil, s.dbErr(op, fmt.Errorf("baseline report: %w", err))
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT kind, path, message FROM path_notes WHERE host_id = ? ORDER BY kind, seq`, hostID)
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var pe ftpaudit.PathError
		if err := rows.Scan(&kind, &pe.Path, &pe.Error); err != nil {
			return nil, s.dbErr(op, err)
		}
		switch kind {
		case kindError:
			h.Errors = append(h.Errors, pe)
		case kindUnreadable:
			h.Unreadable = append(h.Unreadable, pe)
		case kindNote:
			h.Notes = append(h.Notes, pe)
		default:
			return nil, s.dbErr(op, fmt.Errorf("unknown path note kind %q", kind))
		}
	}
	if err := rows.Err(); err != nil {
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

// Prune deletes saved scans: those beyond the newest keep (keep <= 0: no
// bound by count) and those started before olderThan (zero: no bound by
// age); a scan either bound selects is deleted, with its hosts, entries
// and findings. It returns how many scans were deleted. The freed pages
// are then returned to the file system (incremental vacuum); an error
// doing so is returned with the count.
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
	res, err := s.db.ExecContext(ctx, `DELETE FROM scans WHERE `+strings.Join(conds, " OR "), args...)
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
