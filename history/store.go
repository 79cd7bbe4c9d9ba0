package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Opening the database: the file checks, the connection settings and
// the schema version (the migrations themselves are in schema.go).

// ErrNewerSchema means the database was written by a newer ftpaudit. Open
// returns it wrapped, with both schema versions in the message; reading a
// value stored in a newer format (hostdata.go) returns it wrapped, with
// both format versions.
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
	key  []byte // the fingerprint key (fingerprint.go)
	pg   bool   // on PostgreSQL (pg.go), not SQLite
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
// ftpaudit gives ErrNewerSchema. A path that is a postgres:// or
// postgresql:// URL opens the history in that PostgreSQL database
// instead (pg.go); Path and errors show it without its password.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open history database: empty path")
	}
	if isPostgres(path) {
		return openPostgres(ctx, path)
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
	return (&Store{db: db, path: path}).ready(ctx)
}

// ready brings a store just opened to the current schema and loads its
// key; on failure it closes the database.
func (s *Store) ready(ctx context.Context) (*Store, error) {
	if err := s.init(ctx); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	if err := s.loadKey(ctx); err != nil {
		_ = s.db.Close()
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

// cacheKiB is the page cache of each connection: 4 MiB. Entries are
// inserted in key order, so only the B-tree's right edge is hot; a larger
// cache measured no faster. Tests lower it to make a save spill
// uncommitted pages into the WAL file early.
var cacheKiB = 4096

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
// page cache of cacheKiB, and a bound on the WAL file kept after a
// checkpoint.
func dsn(abs string) string {
	u := url.URL{Scheme: "file", Path: abs} // escapes '?', '#', '%'
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
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
	id, version, objects, err := s.header(ctx, conn)
	if err != nil {
		return s.openErr(err)
	}
	if err := s.checkHeader(id, version, objects); err != nil {
		return err
	}
	if s.pg {
		if version == int64(len(migrations)) {
			return nil
		}
		return s.migrate(ctx, conn)
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
		return notHistory(s.path, fmt.Sprintf("%s of another application, id %#x", s.kind(), id))
	case id == 0 && (version != 0 || objects != 0):
		return notHistory(s.path, s.kind()+" of another application")
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

// rollback ends conn's transaction; when that fails, conn is dropped from
// the pool so that no later user finds a transaction open on it.
func rollback(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}
