package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// postgresDB returns the URL of a new schema of its own for t in the
// database FTPAUDIT_TEST_POSTGRES names, dropped at its end, with the
// password PGPASSWORD gives (or any, for a server that trusts) written
// into the URL, so that the test sees it never shown. Without
// FTPAUDIT_TEST_POSTGRES the test is skipped, or fails when
// FTPAUDIT_REQUIRE_POSTGRES=1 (history/backend_test.go).
func postgresDB(t *testing.T) (db, password string) {
	t.Helper()
	dsn := os.Getenv("FTPAUDIT_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("FTPAUDIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("FTPAUDIT_REQUIRE_POSTGRES=1 but FTPAUDIT_TEST_POSTGRES is not set")
		}
		t.Skip("no PostgreSQL: set FTPAUDIT_TEST_POSTGRES (testdata/postgres/start.sh)")
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "ftpaudit_cli_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	exec := func(q string) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	password, ok := u.User.Password()
	if !ok {
		if password = os.Getenv("PGPASSWORD"); password == "" {
			password = "Hunter2Pw"
		}
	}
	u.User = url.UserPassword(cfg.User, password)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), password
}

// Two scanners in two networks save into one PostgreSQL history: each
// scans the host of its own network and the host both reach. The second
// compares its scan of the shared host with the baseline the first
// accepted; history lists both; diff compares their scans; a baseline
// accepted after the second scan is the one verify and the next scan
// use. The password in the URL is never shown.
func TestPostgresHistoryAcrossScanners(t *testing.T) {
	db, password := postgresDB(t)
	shared, netA, netB := demoServer(t), demoServer(t), demoServer(t)
	var all strings.Builder
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		code, out, stderr := runCLI(t, args...)
		all.WriteString(out + stderr)
		return code, out, stderr
	}

	code, out, stderr := cli("scan", "--save", "--db", db, "--format", "json", netA, shared)
	if first := decode(t, out); code != exitFindings || first["scan_id"] != 1.0 || !strings.Contains(stderr, "saved as scan 1 in postgres://") || !strings.Contains(stderr, ":xxxxx@") {
		t.Fatalf("scanner A: exit %d scan_id %v stderr %q", code, first["scan_id"], stderr)
	}
	code, out, stderr = cli("scan", "--save", "--baseline", "accepted", "--db", db, "--format", "json", netB, shared)
	second := decode(t, out)
	if code != exitFindings || second["scan_id"] != 2.0 {
		t.Fatalf("scanner B: exit %d scan_id %v stderr %q", code, second["scan_id"], stderr)
	}
	// B's scan of the shared host is compared with A's, accepted as its
	// first baseline; B's own host has none yet.
	for _, h := range second["hosts"].([]any) {
		hm := h.(map[string]any)
		base, _ := hm["baseline"].(map[string]any)
		if strings.HasPrefix(shared, hm["target"].(string)) {
			if base == nil || base["scan_id"] != 1.0 || base["added"] != 0.0 || base["removed"] != 0.0 || base["changed"] != 0.0 {
				t.Errorf("scanner B's shared host: baseline %v, want scan 1 of scanner A, unchanged", base)
			}
		} else if base != nil && base["scan_id"] != 0.0 {
			t.Errorf("scanner B's own host: baseline %v, want none", base)
		}
	}

	code, out, _ = cli("history", "--db", db, "--format", "json")
	if scans := decode(t, out)["scans"].([]any); code != exitClean || len(scans) != 2 {
		t.Errorf("history: exit %d, %d scans", code, len(scans))
	}
	code, out, stderr = cli("diff", "--db", db, "--format", "json", "1", "2")
	if d := decode(t, out); code == exitUsage || d["schema"] != "ftpaudit.diff/v1" {
		t.Errorf("diff 1 2: exit %d %v %s", code, d, stderr)
	}
	sharedURL := strings.TrimSuffix(shared, "/")
	code, out, stderr = cli("baseline", "accept", "--db", db, "--by", "alice", "--note", "from the dashboard", "2")
	if code != exitClean || !strings.Contains(out, "accepted scan 2 as the baseline of "+sharedURL+", by alice: from the dashboard (was scan 1, accepted automatically") {
		t.Errorf("baseline accept 2: exit %d %q %q", code, out, stderr)
	}
	code, out, stderr = cli("verify", "--db", db, "--format", "json", "--quiet", "1")
	if code != exitClean && code != exitFindings {
		t.Errorf("verify 1: exit %d %s %s", code, out, stderr)
	}
	code, out, _ = cli("scan", "--db", db, "--baseline", "accepted", "--format", "json", shared)
	third := decode(t, out)
	if base, _ := third["hosts"].([]any)[0].(map[string]any)["baseline"].(map[string]any); code != exitFindings || base == nil || base["scan_id"] != 2.0 {
		t.Errorf("scanner A's next scan of the shared host: exit %d, baseline %v; want scan 2, accepted by alice", code, base)
	}
	if strings.Contains(all.String(), ":"+password+"@") {
		t.Error("the password appears in an output")
	}
}
