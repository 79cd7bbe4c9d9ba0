package history

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The store tests run on both databases a Store can use: as subtests
// "sqlite" and "postgres" (eachBackend). The PostgreSQL ones need
// FTPAUDIT_TEST_POSTGRES, the URL of a database in which the tests may
// create and drop schemas (testdata/postgres/start.sh starts one); they
// are skipped without it, or fail when FTPAUDIT_REQUIRE_POSTGRES=1. Each
// test gets a fresh schema of its own (newTestDB), dropped at its end.

// backends maps the name of a test running on PostgreSQL to true.
var backends sync.Map

// eachBackend runs f as the subtests sqlite and postgres.
func eachBackend(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Run("sqlite", f)
	t.Run("postgres", func(t *testing.T) {
		requirePostgres(t)
		backends.Store(t.Name(), true)
		f(t)
	})
}

// onPostgres reports whether t (or the test it is a subtest of) runs on
// PostgreSQL.
func onPostgres(t testing.TB) bool {
	name := t.Name()
	for {
		if _, ok := backends.Load(name); ok {
			return true
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return false
		}
		name = name[:i]
	}
}

// requirePostgres skips t when no PostgreSQL is given for the tests, or
// fails it when one is required.
func requirePostgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("FTPAUDIT_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("FTPAUDIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("FTPAUDIT_REQUIRE_POSTGRES=1 but FTPAUDIT_TEST_POSTGRES is not set")
		}
		t.Skip("no PostgreSQL: set FTPAUDIT_TEST_POSTGRES (testdata/postgres/start.sh)")
	}
	return dsn
}

// newTestDB returns the --db of a new, empty history for t's backend:
// a file in a temporary directory, or a new PostgreSQL schema.
func newTestDB(t testing.TB) string {
	t.Helper()
	if onPostgres(t) {
		return newPGSchema(t)
	}
	return filepath.Join(t.TempDir(), "h.db")
}

// newPGSchema creates a schema of its own for t in the test database,
// dropped at its end, and returns the URL that uses it.
func newPGSchema(t testing.TB) string {
	t.Helper()
	dsn := requirePostgres(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "ftpaudit_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return withSearchPath(t, dsn, schema)
}

// withSearchPath returns the URL dsn using schema.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || !isPostgres(dsn) {
		t.Fatalf("FTPAUDIT_TEST_POSTGRES must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// checkIntegrity checks an SQLite file's integrity; PostgreSQL keeps
// its own.
func checkIntegrity(t *testing.T, s *Store) {
	t.Helper()
	if s.pg {
		return
	}
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
}
