package history

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL: the same Store on a PostgreSQL database, so that scanners
// on several machines share one history (docs/history.md).
//
// The package's SQL is written for SQLite. Rather than a second copy of
// every query, a Store on PostgreSQL talks to pgx (its database/sql
// driver, github.com/jackc/pgx/v5/stdlib) through a thin driver of its
// own (pgConn) that every statement passes through, on every path
// (*sql.DB, *sql.Tx, *sql.Conn and the driver connection Save uses):
//
//   - pgRewrite turns SQLite's spelling into PostgreSQL's: '?' and '?N'
//     placeholders become '$N', the column user is quoted, and the few
//     SQLite-only phrases in pgSpellings are replaced.
//   - Arguments are converted (pgValue): a Go string is bound as bytes,
//     as every text column is BYTEA (below), and a bool as 0 or 1.
//   - BEGIN IMMEDIATE, SQLite's write transaction, becomes a READ
//     COMMITTED transaction that first takes an advisory lock of the
//     schema (pgWriteLockSQL): writers queue on it as SQLite's writers
//     queue on the write lock, each seeing everything committed before
//     it got the lock. A write transaction begun through database/sql
//     (Accept) takes the same lock. A read-only transaction is
//     REPEATABLE READ: one snapshot, as SQLite's read transaction.
//   - LastInsertId, which PostgreSQL does not have, is read from an
//     INSERT ... RETURNING id, for the tables whose ids are used.
//   - In a transaction, a query reads its rows through a cursor, in
//     batches (pgRows): the package reads several result sets of one
//     transaction at once (the layers of a chain, merged), which SQLite
//     allows and a PostgreSQL connection does not.
//   - Inside the write transaction, rows added by a prepared plain
//     INSERT (entries, findings, path notes...) are collected and sent
//     with COPY (pgBuffer) before the next statement and before COMMIT:
//     one row per round trip would make a save to a distant server take
//     hours. SQLite's entries insert, which packs a row into one BLOB
//     cut up by substr(), is unpacked into its columns (pgEntryRow).
//
// Schema (pg_schema.go): the same tables and columns, the same version
// numbers, migrations per dialect. Every SQLite TEXT and BLOB column is
// BYTEA: PostgreSQL's TEXT refuses invalid UTF-8 and NUL bytes, which a
// server may send, and BYTEA orders bytewise, as Go's strings.Compare.
// The version lives in the table ftpaudit_schema.

// isPostgres reports whether a --db argument names a PostgreSQL
// database: a postgres:// or postgresql:// URL.
func isPostgres(path string) bool {
	l := strings.ToLower(path)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// pgLockTimeout bounds the wait for the write lock of a PostgreSQL
// history: longer than SQLite's busyTimeout, as a save crosses a
// network.
const pgLockTimeout = 5 * time.Minute

// pgWriteLockSQL starts every write transaction (READ COMMITTED, so that
// every statement after the lock sees what was committed before it); the
// lock is per schema, so that two histories in one database do not wait
// for each other.
var pgWriteLockSQL = fmt.Sprintf(`SET LOCAL lock_timeout = %d; SELECT pg_advisory_xact_lock(%d, hashtext(coalesce(current_schema(), '')))`,
	pgLockTimeout.Milliseconds(), appID)

// pgSessionDefaults are settings of every session, unless the URL sets
// them: a scanner in another network that dies or is cut off while it
// holds the write lock must not hold it for good. The server ends a
// session idle in a transaction for 30 minutes (a save never waits that
// long between statements), and probes the connection after a minute of
// silence (TCP keepalives), so that a vanished scanner's transaction is
// rolled back and its lock released within minutes.
var pgSessionDefaults = map[string]string{
	"application_name":                    "ftpaudit",
	"idle_in_transaction_session_timeout": "1800000",
	"tcp_keepalives_idle":                 "60",
	"tcp_keepalives_interval":             "10",
	"tcp_keepalives_count":                "6",
}

// openPostgres opens the history in the PostgreSQL database named by
// the URL raw. Store.Path and every error show the URL without its
// password.
func openPostgres(ctx context.Context, raw string) (*Store, error) {
	shown := redactURL(raw)
	s, err := openPostgresShown(ctx, raw, shown)
	if err != nil {
		return nil, &redactedError{err: err, secrets: urlSecrets(raw)}
	}
	return s, nil
}

func openPostgresShown(ctx context.Context, raw, shown string) (*Store, error) {
	if len(pgMigrations) != len(migrations) {
		return nil, fmt.Errorf("open history database %s: PostgreSQL has %d schema versions, SQLite %d", shown, len(pgMigrations), len(migrations))
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("open history database %s: %w", shown, err)
	}
	for k, v := range pgSessionDefaults {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	db := sql.OpenDB(&pgConnector{base: stdlib.GetConnector(*cfg)})
	return (&Store{db: db, path: shown, pg: true}).ready(ctx)
}

// redactedError hides passwords in an error's message; Unwrap gives the
// error as it was, for errors.Is.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }

// passwordParam matches a query parameter holding a password
// (password, sslpassword), up to its value's end.
var passwordParam = regexp.MustCompile(`(?i)([?&][^=&#]*password=)([^&#]*)`)

// redactURL returns a PostgreSQL URL fit to print, as given but for a
// password in its user information or in a query parameter, replaced by
// xxxxx. In a URL too broken to parse, everything between "//" and the
// last '@' but the user name is replaced.
func redactURL(raw string) string {
	out := raw
	i := strings.Index(out, "//")
	// url.Parse may read an unescaped password of digits as a port
	// ("postgres://u:123/x@h/db": host u, port 123, no user): a ':'
	// before the last '@' of a URL where it finds no user is taken as a
	// password's.
	if u, err := url.Parse(raw); err == nil && u.User == nil && i >= 0 {
		rest := out[i+2:]
		if at := strings.LastIndex(rest, "@"); at >= 0 && strings.Contains(rest[:at], ":") {
			user, _, _ := strings.Cut(rest[:at], ":")
			return passwordParam.ReplaceAllString(out[:i+2]+user+":xxxxx"+rest[at:], "${1}xxxxx")
		}
	}
	if u, err := url.Parse(raw); err == nil {
		if _, ok := u.User.Password(); ok && i >= 0 {
			// As url.Parse reads it: the authority ends at the first
			// '/', '?' or '#'; the user information at its last '@'.
			auth := out[i+2:]
			if j := strings.IndexAny(auth, "/?#"); j >= 0 {
				auth = auth[:j]
			}
			if at := strings.LastIndex(auth, "@"); at >= 0 {
				if c := strings.IndexByte(auth[:at], ':'); c >= 0 {
					out = out[:i+2] + auth[:c] + ":xxxxx" + out[i+2+at:]
				}
			}
		}
	} else if i >= 0 {
		rest := out[i+2:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, _, _ := strings.Cut(rest[:at], ":")
			out = out[:i+2] + user + ":xxxxx" + rest[at:]
		}
	}
	return passwordParam.ReplaceAllString(out, "${1}xxxxx")
}

// urlSecrets returns the passwords a URL may hold, raw and decoded, so
// that no message quotes them.
func urlSecrets(raw string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 1 && !strings.Contains("xxxxx", s) {
			out = append(out, s)
			if d, err := url.PathUnescape(s); err == nil && d != s {
				out = append(out, d)
			}
		}
	}
	if i := strings.Index(raw, "//"); i >= 0 {
		rest := raw[i+2:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				add(pw)
			}
		}
	}
	for _, m := range passwordParam.FindAllStringSubmatch(raw, -1) {
		add(m[2])
	}
	return out
}

// pgConnector makes the connections of a Store on PostgreSQL.
type pgConnector struct{ base driver.Connector }

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("unexpected PostgreSQL driver connection %T", dc)
	}
	return &pgConn{sc: sc}, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.base.Driver() }

// pgConn is a connection of a Store on PostgreSQL: pgx's, with the
// translation described at the top of this file.
type pgConn struct {
	sc *stdlib.Conn
	// writing is set inside a write transaction begun by BEGIN
	// IMMEDIATE: prepared plain INSERTs are collected for COPY.
	writing bool
	pending []*pgBuffer // collected rows, not sent yet
	cur     pgCursors   // the cursors of the transaction
}

func (c *pgConn) px() *pgx.Conn { return c.sc.Conn() }

// inTx reports whether the connection is in a transaction.
func (c *pgConn) inTx() bool { return c.px().PgConn().TxStatus() != 'I' }

func (c *pgConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

// PrepareContext prepares nothing on the server (pgx caches a prepared
// statement per query text itself); it only decides how the statement
// runs.
func (c *pgConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	if c.px().IsClosed() {
		return nil, driver.ErrBadConn
	}
	st := &pgStmt{c: c, q: q, pq: pgRewrite(q)}
	switch {
	case q == insertEntrySQL:
		st.copyTable, st.copyCols, st.entries = "entries", pgEntryCols, true
	default:
		st.copyTable, st.copyCols = plainInsert(q)
	}
	return st, nil
}

func (c *pgConn) Close() error {
	c.pending = nil
	return c.sc.Close()
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a read-only transaction as REPEATABLE READ, and any
// other as READ COMMITTED holding the write lock.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	write := !opts.ReadOnly
	if sql.IsolationLevel(opts.Isolation) == sql.LevelDefault {
		opts.Isolation = driver.IsolationLevel(sql.LevelRepeatableRead)
		if write {
			opts.Isolation = driver.IsolationLevel(sql.LevelReadCommitted)
		}
	}
	c.endTx()
	tx, err := c.sc.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if write {
		if _, err := c.px().Exec(ctx, pgWriteLockSQL); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("wait for the write lock: %w", err)
		}
	}
	return &pgTx{c: c, tx: tx}, nil
}

// endTx forgets the state of a transaction that ended (or is about to
// begin).
func (c *pgConn) endTx() {
	c.writing = false
	c.pending = nil
	c.cur.reset()
}

// pgTx is a transaction begun through database/sql.
type pgTx struct {
	c  *pgConn
	tx driver.Tx
}

func (t *pgTx) Commit() error {
	defer t.c.endTx()
	if err := t.c.flush(context.Background()); err != nil {
		_ = t.tx.Rollback()
		return err
	}
	return t.tx.Commit()
}

func (t *pgTx) Rollback() error {
	t.c.endTx()
	return t.tx.Rollback()
}

func (c *pgConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	switch strings.ToUpper(strings.TrimSpace(q)) {
	case "BEGIN IMMEDIATE":
		if err := c.flush(ctx); err != nil {
			return nil, err
		}
		c.endTx()
		if _, err := c.px().Exec(ctx, "BEGIN ISOLATION LEVEL READ COMMITTED; "+pgWriteLockSQL); err != nil {
			if c.inTx() {
				_, _ = c.px().Exec(context.Background(), "ROLLBACK")
			}
			return nil, fmt.Errorf("wait for the write lock: %w", err)
		}
		c.writing = true
		return driver.RowsAffected(0), nil
	case "COMMIT":
		if err := c.flush(ctx); err != nil {
			return nil, err // the caller rolls back
		}
		tag, err := c.px().Exec(ctx, "COMMIT")
		c.endTx()
		if err == nil && tag.String() != "COMMIT" {
			err = errors.New("the transaction was rolled back (" + tag.String() + ")")
		}
		if err != nil {
			return nil, err
		}
		return driver.RowsAffected(0), nil
	case "ROLLBACK":
		c.endTx()
		if _, err := c.px().Exec(ctx, "ROLLBACK"); err != nil {
			return nil, err
		}
		return driver.RowsAffected(0), nil
	}
	return c.exec(ctx, q, pgRewrite(q), args)
}

// exec runs q, rewritten as pq, after the collected rows.
func (c *pgConn) exec(ctx context.Context, q, pq string, args []driver.NamedValue) (driver.Result, error) {
	if pq == "" {
		return driver.RowsAffected(0), nil // nothing to do on PostgreSQL
	}
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	if err := pgArgs(args); err != nil {
		return nil, err
	}
	if insertReturnsID(q) {
		rows, err := c.px().Query(ctx, pq+" RETURNING id", namedArgs(args)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var r pgResult
		for rows.Next() {
			if err := rows.Scan(&r.id); err != nil {
				return nil, err
			}
			r.n++
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return r, nil
	}
	return c.sc.ExecContext(ctx, pq, args)
}

// pgResult is the result of an INSERT ... RETURNING id.
type pgResult struct{ id, n int64 }

func (r pgResult) LastInsertId() (int64, error) {
	if r.n == 0 {
		return 0, errors.New("no row inserted")
	}
	return r.id, nil
}

func (r pgResult) RowsAffected() (int64, error) { return r.n, nil }

// insertReturnsID reports whether q inserts into a table whose new ids
// the package reads (LastInsertId).
func insertReturnsID(q string) bool {
	q = strings.TrimSpace(q)
	for _, t := range []string{"scans", "hosts", "acceptances"} {
		p := "INSERT INTO " + t + " "
		if len(q) > len(p) && strings.EqualFold(q[:len(p)], p) {
			return true
		}
	}
	return false
}

func (c *pgConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.query(ctx, pgRewrite(q), args)
}

// query runs pq: in a transaction through a cursor, else directly.
func (c *pgConn) query(ctx context.Context, pq string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	if err := pgArgs(args); err != nil {
		return nil, err
	}
	if c.inTx() && isSelect(pq) {
		return c.openCursor(ctx, pq, namedArgs(args))
	}
	return c.sc.QueryContext(ctx, pq, args)
}

// isSelect reports whether a cursor can be declared for q.
func isSelect(q string) bool {
	f := strings.Fields(q)
	return len(f) > 0 && (strings.EqualFold(f[0], "SELECT") || strings.EqualFold(f[0], "WITH"))
}

func (c *pgConn) Ping(ctx context.Context) error { return c.sc.Ping(ctx) }

func (c *pgConn) ResetSession(ctx context.Context) error {
	if err := c.sc.ResetSession(ctx); err != nil {
		return err
	}
	c.endTx()
	return nil
}

func (c *pgConn) IsValid() bool { return !c.px().IsClosed() }

// CheckNamedValue converts an argument of database/sql.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nv.Name != "" {
		return fmt.Errorf("named parameter %s: not supported on PostgreSQL", nv.Name)
	}
	nv.Value = pgValue(nv.Value)
	return nil
}

// pgValue converts an argument: a string is bound as bytes (every text
// column is BYTEA), a bool as 1 or 0 (boolean columns are integers, as
// in SQLite).
func pgValue(v any) any {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// pgArgs converts args in place.
func pgArgs(args []driver.NamedValue) error {
	for i := range args {
		if args[i].Name != "" {
			return fmt.Errorf("named parameter %s: not supported on PostgreSQL", args[i].Name)
		}
		args[i].Value = pgValue(args[i].Value)
	}
	return nil
}

func namedArgs(args []driver.NamedValue) []any {
	out := make([]any, len(args))
	for i := range args {
		out[i] = args[i].Value
	}
	return out
}

// pgStmt is a statement "prepared" on a pgConn.
type pgStmt struct {
	c     *pgConn
	q, pq string // the statement as written and as rewritten
	// copyTable and copyCols name the table and columns of a plain
	// INSERT, whose rows the write transaction collects for COPY.
	copyTable string
	copyCols  []string
	entries   bool // SQLite's packed entries insert (insertEntrySQL)
}

func (s *pgStmt) Close() error  { return nil }
func (s *pgStmt) NumInput() int { return -1 }

func (s *pgStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("history: Stmt.Exec is not supported")
}

func (s *pgStmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("history: Stmt.Query is not supported")
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.entries {
		row, err := pgEntryRow(args)
		if err != nil {
			return nil, err
		}
		if s.c.writing {
			return driver.RowsAffected(1), s.c.collect(ctx, "entries", pgEntryCols, row)
		}
		return s.c.sc.ExecContext(ctx, pgEntryInsertSQL, anyArgs(row))
	}
	if s.copyTable != "" && s.c.writing {
		row := make([]any, len(args))
		for i := range args {
			if args[i].Name != "" {
				return nil, fmt.Errorf("named parameter %s: not supported on PostgreSQL", args[i].Name)
			}
			v := pgValue(args[i].Value)
			if b, ok := v.([]byte); ok {
				v = bytes.Clone(b) // the caller may reuse it; nil stays NULL, empty stays empty
			}
			row[i] = v
		}
		if len(row) != len(s.copyCols) {
			return nil, fmt.Errorf("insert into %s: %d values for %d columns", s.copyTable, len(row), len(s.copyCols))
		}
		return driver.RowsAffected(1), s.c.collect(ctx, s.copyTable, s.copyCols, row)
	}
	return s.c.exec(ctx, s.q, s.pq, args)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.query(ctx, s.pq, args)
}

func anyArgs(vals []any) []driver.NamedValue {
	out := make([]driver.NamedValue, len(vals))
	for i, v := range vals {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// plainInsert returns the table and columns of q when it is a plain
// INSERT INTO t (columns) VALUES (?, ...) with one '?' per column.
func plainInsert(q string) (string, []string) {
	m := plainInsertRE.FindStringSubmatch(q)
	if m == nil {
		return "", nil
	}
	cols := strings.Split(m[2], ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	if strings.Count(m[3], "?") != len(cols) {
		return "", nil
	}
	return m[1], cols
}

var plainInsertRE = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+([a-z_]+)\s*\(([a-z_,\s]+)\)\s*VALUES\s*\(((?:\s*\?\s*,)*\s*\?\s*)\)\s*$`)
