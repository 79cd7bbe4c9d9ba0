package history

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Tests of what is PostgreSQL's own: the rewriting of SQLite's SQL, the
// URL shown without its password, the schema's mark and version. The
// store tests run on PostgreSQL as well (eachBackend).

func TestPGRewrite(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE x = ? AND y = ?", "SELECT a FROM t WHERE x = $1 AND y = $2"},
		{"SELECT ?1, ?2 WHERE a = ?1", "SELECT $1, $2 WHERE a = $1"},
		{"SELECT ?2, ?", "SELECT $2, $3"}, // a bare '?' follows the highest so far, as in SQLite
		{"SELECT '?', \"?\", ? -- ?\n, ? /* ? */", "SELECT '?', \"?\", $1 -- ?\n, $2 /* ? */"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"SELECT target, user, tls FROM hosts", `SELECT target, "user", tls FROM hosts`},
		{`SELECT h.user, "user", user_x, x_user, current_user FROM hosts h`, `SELECT h."user", "user", user_x, x_user, current_user FROM hosts h`},
		{"INSERT INTO hosts (scan_id, user) VALUES (?, ?)", `INSERT INTO hosts (scan_id, "user") VALUES ($1, $2)`},
		{"CREATE FUNCTION f() RETURNS int AS $$ SELECT ? user $$; SELECT ?", "CREATE FUNCTION f() RETURNS int AS $$ SELECT ? user $$; SELECT $1"},
		{"SELECT $tag$ ? $tag$, ?", "SELECT $tag$ ? $tag$, $1"},
		{"SELECT CAST(path AS TEXT), dup FROM entries", "SELECT path, dup FROM entries"},
		{"DELETE FROM temp.prune_ids", "DELETE FROM pg_temp.prune_ids"},
		{"INSERT OR IGNORE INTO t (a, user) VALUES (?, ?)", `INSERT INTO t (a, "user") VALUES ($1, $2) ON CONFLICT DO NOTHING`},
		{"insert or ignore into t (a) select ? where 1;", "INSERT into t (a) select $1 where 1 ON CONFLICT DO NOTHING"},
		{"PRAGMA incremental_vacuum", ""},
		{" PRAGMA page_count ", "SELECT 0"},
	} {
		if got := pgRewrite(c.in); got != c.want {
			t.Errorf("pgRewrite(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestPGPlainInsert(t *testing.T) {
	for _, c := range []struct {
		q     string
		table string
		cols  []string
	}{
		{"INSERT INTO deltas (host_id, base_id, depth, chain_rows) VALUES (?, ?, ?, ?)", "deltas", []string{"host_id", "base_id", "depth", "chain_rows"}},
		{"INSERT INTO not_listed (host_id, seq)\n\t\t\tVALUES (?,?)", "not_listed", []string{"host_id", "seq"}},
		{"INSERT INTO t (a, b) VALUES (?, 1)", "", nil},
		{"INSERT INTO t (a, b) VALUES (?)", "", nil},
		{"INSERT INTO t (a) SELECT ?", "", nil},
		{"INSERT INTO scans (a) VALUES (?) RETURNING id", "", nil},
	} {
		table, cols := plainInsert(c.q)
		if table != c.table || strings.Join(cols, ",") != strings.Join(c.cols, ",") {
			t.Errorf("plainInsert(%q) = %q %q, want %q %q", c.q, table, cols, c.table, c.cols)
		}
	}
}

// Every schema version has its PostgreSQL step.
func TestPGMigrationsMatch(t *testing.T) {
	if len(pgMigrations) != len(migrations) {
		t.Fatalf("%d PostgreSQL schema steps, %d SQLite ones: each version needs both", len(pgMigrations), len(migrations))
	}
}

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://alice@db.example/audit", "postgres://alice@db.example/audit"},
		{"postgres://alice:s3cret@db.example:5432/audit", "postgres://alice:xxxxx@db.example:5432/audit"},
		{"postgresql://alice:p%40ss@db.example/audit?sslmode=verify-full", "postgresql://alice:xxxxx@db.example/audit?sslmode=verify-full"},
		{"postgres://db.example/audit?user=alice&password=s3cret&sslmode=require", "postgres://db.example/audit?user=alice&password=xxxxx&sslmode=require"},
		{"postgres://db.example/audit?password=s3cret", "postgres://db.example/audit?password=xxxxx"},
		{"postgres://db.example/audit?sslpassword=s3cret", "postgres://db.example/audit?sslpassword=xxxxx"},
		{"postgres:///audit?host=/run/postgresql&service=ftpaudit", "postgres:///audit?host=/run/postgresql&service=ftpaudit"},
		// Too broken to parse: everything up to the last '@' but the user.
		{"postgres://alice:pa/ss@db.example:port/audit", "postgres://alice:xxxxx@db.example:port/audit"},
		{"postgres://alice:pa ss@db.example:x/audit?password=s%zz", "postgres://alice:xxxxx@db.example:x/audit?password=xxxxx"},
		// Parsed, but a password of digits read as a port, the rest as the path.
		{"postgres://u:123/x@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:12?pw@h/db", "postgres://u:xxxxx@h/db"},
	} {
		got := redactURL(c.in)
		if got != c.want {
			t.Errorf("redactURL(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		for _, s := range urlSecrets(c.in) {
			if strings.Contains(got, s) {
				t.Errorf("redactURL(%q) = %q: shows %q", c.in, got, s)
			}
		}
	}
}

// A password in the URL is never shown: not in the error of a failed
// connection, nor of a URL that does not parse. (No server needed: port
// 1 refuses.)
func TestPGPasswordNotInErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ url, secret string }{
		{"postgres://alice:Hunter2Pw@127.0.0.1:1/audit?connect_timeout=5&sslmode=disable", "Hunter2Pw"},
		{"postgres://alice:Hunter%32Pw@127.0.0.1:1/audit?connect_timeout=5&sslmode=disable", "Hunter2Pw"},
		{"postgresql://alice@127.0.0.1:1/audit?password=Hunter2Pw&connect_timeout=5&sslmode=disable", "Hunter2Pw"},
		{"postgres://alice:Hunter2Pw@127.0.0.1:notaport/audit", "Hunter2Pw"},
		{"postgres://alice:Hun/ter2Pw@127.0.0.1:1/audit", "Hun/ter2Pw"},
		{"postgres://alice@127.0.0.1:1/audit?password=Hunter2Pw&sslmode=bogus", "Hunter2Pw"},
	} {
		s, err := Open(ctx, c.url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", c.url)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, c.secret) || strings.Contains(msg, "Hunter") {
			t.Errorf("Open(%q): the error shows the password: %s", c.url, msg)
		}
		if !strings.Contains(msg, "127.0.0.1") {
			t.Errorf("Open(%q): the error does not say which database: %s", c.url, msg)
		}
	}
}

// On a server: Path shows the URL without the password it was given.
func TestPGPathWithoutPassword(t *testing.T) {
	dsn := newPGSchema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, ok := u.User.Password()
	if !ok {
		if pw = os.Getenv("PGPASSWORD"); pw == "" {
			pw = "Hunter2Pw" // a server that trusts takes any
		}
	}
	u.User = url.UserPassword(pgUser(t, dsn), pw)
	s, err := Open(context.Background(), u.String())
	if err != nil {
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("the error shows the password: %v", err)
		}
		t.Fatal(err)
	}
	defer s.Close()
	if strings.Contains(s.Path(), ":"+pw+"@") || !strings.Contains(s.Path(), ":xxxxx@") {
		t.Errorf("Path() = %q", s.Path())
	}
	// The session settings that release a vanished scanner's lock.
	var name, idle string
	if err := s.db.QueryRow("SELECT current_setting('application_name'), current_setting('idle_in_transaction_session_timeout')").Scan(&name, &idle); err != nil || name != "ftpaudit" || idle != "30min" {
		t.Errorf("session: application_name %q, idle_in_transaction_session_timeout %q, %v", name, idle, err)
	}
}

// pgUser is the user name in a URL without user information, or "".
func pgUser(t *testing.T, dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.User
}

// pgExec runs statements on the test schema directly.
func pgExec(t *testing.T, dsn string, qs ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range qs {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestPGNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := newPGSchema(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	future := len(migrations) + 5
	pgExec(t, dsn, fmt.Sprintf("UPDATE ftpaudit_schema SET version = %d", future))
	_, err = Open(ctx, dsn)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open = %v, want ErrNewerSchema", err)
	}
	for _, want := range []string{"version " + strconv.Itoa(future), "up to " + strconv.Itoa(len(migrations)), "search_path="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// A schema holding another application's tables is refused, and left as
// it was; so is a search_path that names no schema.
func TestPGNotHistory(t *testing.T) {
	ctx := context.Background()
	for name, setup := range map[string][]string{
		"other-app":    {"CREATE TABLE t (x int)"},
		"other-marked": {"CREATE TABLE ftpaudit_schema (application_id BIGINT, version BIGINT)", "INSERT INTO ftpaudit_schema VALUES (1234, 1)"},
		"unmarked":     {"CREATE TABLE ftpaudit_schema (application_id BIGINT, version BIGINT)", "CREATE TABLE scans (id int)"},
	} {
		t.Run(name, func(t *testing.T) {
			dsn := newPGSchema(t)
			pgExec(t, dsn, setup...)
			_, err := Open(ctx, dsn)
			if !errors.Is(err, errNotHistory) || !strings.Contains(err.Error(), "PostgreSQL schema of another application") {
				t.Errorf("Open = %v, want not a history", err)
			}
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil || n != len(setup)-strings.Count(strings.Join(setup, ";"), "INSERT") {
				t.Errorf("%d tables after the refusal, %v: the schema was changed", n, err)
			}
		})
	}
	t.Run("no-schema", func(t *testing.T) {
		dsn := withSearchPath(t, requirePostgres(t), "ftpaudit_test_does_not_exist")
		if _, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "search_path") {
			t.Errorf("Open = %v, want no schema", err)
		}
	})
}

// Several stores opening a new schema at once create it once, marked and
// at the latest version.
func TestPGMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	dsn := newPGSchema(t)
	stores := openAtOnce(ctx, t, dsn, 4)
	for _, s := range stores {
		if v := count(t, s, "SELECT version FROM ftpaudit_schema"); v != len(migrations) {
			t.Errorf("version %d, want %d", v, len(migrations))
		}
		if id := count(t, s, "SELECT application_id FROM ftpaudit_schema"); id != appID {
			t.Errorf("application_id %#x, want %#x", id, appID)
		}
		if n := count(t, s, "SELECT count(*) FROM ftpaudit_schema"); n != 1 {
			t.Errorf("%d version rows", n)
		}
		if n := count(t, s, "SELECT count(*) FROM fp_key"); n != 1 {
			t.Errorf("%d fingerprint keys", n)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

// checkWriting checks that another session (a helper process stopped in
// the middle of its save) holds uncommitted writes to table of the
// history db: the rows the kill must undo reached the server.
func checkWriting(t *testing.T, db, table string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.relation = $1::regclass AND l.mode = 'RowExclusiveLock' AND l.granted
		AND a.state = 'idle in transaction' AND l.pid <> pg_backend_pid()`, table).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("%d sessions writing to %s, %v; want the helper's: the test proves less", n, table, err)
	}
}

// The password can come from a password file (PGPASSFILE, ~/.pgpass) or
// with the connection from a service file (PGSERVICEFILE,
// ~/.pg_service.conf), as libpq's: the URL then holds none. (On a server
// that trusts, this only shows that such URLs work.)
func TestPGPasswordSources(t *testing.T) {
	dsn := newPGSchema(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	password := cfg.Password
	if password == "" {
		password = "unused"
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(cfg.User)
	dir := t.TempDir()
	passfile := dir + "/pgpass"
	line := fmt.Sprintf("%s:%d:%s:%s:%s\n", cfg.Host, cfg.Port, cfg.Database, cfg.User, strings.NewReplacer(`\`, `\\`, ":", `\:`).Replace(password))
	if err := os.WriteFile(passfile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	service := dir + "/pg_service.conf"
	conf := fmt.Sprintf("[ftpaudit-history]\nhost=%s\nport=%d\ndbname=%s\nuser=%s\nsslmode=%s\n", cfg.Host, cfg.Port, cfg.Database, cfg.User, u.Query().Get("sslmode"))
	if u.Query().Get("sslmode") == "" {
		conf = strings.Replace(conf, "sslmode=\n", "", 1)
	}
	if err := os.WriteFile(service, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", passfile)
	t.Setenv("PGSERVICEFILE", service)
	q := url.Values{"service": {"ftpaudit-history"}, "search_path": {u.Query().Get("search_path")}}
	for _, db := range []string{u.String(), "postgres://?" + q.Encode()} {
		s, err := Open(context.Background(), db)
		if err != nil {
			t.Errorf("Open(%s): %v", db, err)
			continue
		}
		if _, err := s.Save(context.Background(), oneHost(t, "ftp://ftp.example.org/", true), "x"); err != nil {
			t.Errorf("Save through %s: %v", db, err)
		}
		if s.Path() != db {
			t.Errorf("Path() = %q, want %q", s.Path(), db)
		}
		s.Close()
	}
}
