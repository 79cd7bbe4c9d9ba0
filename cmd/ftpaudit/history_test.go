package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

func demoServer(t *testing.T) string {
	t.Helper()
	root, err := memftp.ParseSpec(bytes.NewReader(demoArchive))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := memftp.Start(context.Background(), root, memftp.Options{MLSD: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return "ftp://" + srv.Addr + "/"
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return m
}

// The history commands end to end over the in-process server: save, an
// unchanged second scan against it, history, diff, prune.
func TestHistoryCommands(t *testing.T) {
	url := demoServer(t)
	db := filepath.Join(t.TempDir(), "state", "history.db")
	code, out, stderr := runCLI(t, "scan", "--save", "--db", db, "--format", "json", url)
	first := decode(t, out)
	if code != exitFindings || first["scan_id"] != 1.0 || !strings.Contains(stderr, "saved as scan 1") {
		t.Fatalf("first scan: exit %d scan_id %v stderr %q", code, first["scan_id"], stderr)
	}
	code, out, _ = runCLI(t, "scan", "--save", "--baseline", "last", "--db", db, "--format", "json", url)
	second := decode(t, out)
	base := second["hosts"].([]any)[0].(map[string]any)["baseline"].(map[string]any)
	if code != exitFindings || base["scan_id"] != 1.0 || base["added"] != 0.0 || base["removed"] != 0.0 || base["changed"] != 0.0 {
		t.Errorf("unchanged rescan: exit %d baseline %v", code, base)
	}
	for _, f := range second["findings"].([]any) {
		if r := f.(map[string]any)["rule"].(string); strings.Contains(r, "baseline") || r == "permission-changed" {
			t.Errorf("unchanged archive, yet %v", f)
		}
	}
	code, out, _ = runCLI(t, "history", "--db", db, "--format", "json")
	h := decode(t, out)
	scans := h["scans"].([]any)
	if code != exitClean || len(scans) != 2 || scans[0].(map[string]any)["id"] != 2.0 || scans[0].(map[string]any)["complete"] != true {
		t.Errorf("history: exit %d %v", code, h)
	}
	if code, out, _ = runCLI(t, "history", "--db", db); code != exitClean || !strings.Contains(out, url[:len(url)-1]) {
		t.Errorf("history table: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "diff", "--db", db, "--format", "json", "1", "2")
	d := decode(t, out)
	if code != exitClean || len(d["findings"].([]any)) != 0 || d["schema"] != "ftpaudit.diff/v1" {
		t.Errorf("diff 1 2: exit %d %v", code, d)
	}
	// Scan 1 is the accepted baseline (the host's first complete saved
	// scan): prune keeps it until another one is accepted.
	if code, out, _ = runCLI(t, "prune", "--db", db, "--keep", "1"); code != exitClean || !strings.Contains(out, "deleted 0 scans") || !strings.Contains(out, "kept the accepted baselines: scan 1") {
		t.Errorf("prune with scan 1 accepted: exit %d %q", code, out)
	}
	if code, out, stderr = runCLI(t, "baseline", "accept", "--db", db, "--by", "alice", "2"); code != exitClean || !strings.Contains(out, "accepted scan 2 as the baseline of "+url[:len(url)-1]+", by alice (was scan 1, accepted automatically") {
		t.Errorf("baseline accept 2: exit %d %q %q", code, out, stderr)
	}
	if code, out, _ = runCLI(t, "prune", "--db", db, "--keep", "1"); code != exitClean || !strings.Contains(out, "deleted 1 scans") || !strings.Contains(out, "kept the accepted baselines: scan 2") {
		t.Errorf("prune: exit %d %q", code, out)
	}
	if code, _, stderr = runCLI(t, "diff", "--db", db, "1", "2"); code != exitUsage || !strings.Contains(stderr, "scan 1") {
		t.Errorf("diff against a pruned scan: exit %d %q", code, stderr)
	}
}

func TestHistoryRefusals(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	// An incomplete scan (nothing listens there) is saved, and refused as
	// a baseline.
	code, _, _ := runCLI(t, "scan", "--save", "--db", db, "--quiet", "--format", "json", "--connect-timeout", "2s", "ftp://127.0.0.1:1/")
	if code != exitIncomplete {
		t.Fatalf("unreachable: exit %d", code)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scan", "--baseline", "1", "--db", db, "ftp://127.0.0.1:1/"}, exitUsage, "incomplete"},
		{[]string{"scan", "--baseline", "99", "--db", db, "ftp://127.0.0.1:1/"}, exitUsage, "--baseline 99"},
		{[]string{"scan", "--baseline", "yesterday", "--db", db, "ftp://127.0.0.1:1/"}, exitUsage, "want accepted, last or a scan id"},
		{[]string{"diff", "--db", db, "1"}, exitUsage, "usage"},
		{[]string{"diff", "--db", db, "--hosts", filepath.Join(dir, "no-such-hosts.yaml"), "1", "1"}, exitUsage, "no-such-hosts.yaml"},
		{[]string{"verify", "--db", db, "x"}, exitUsage, "not a scan id"},
		{[]string{"prune", "--db", db}, exitUsage, "--keep"},
		{[]string{"prune", "--db", db, "--older-than", "soon"}, exitUsage, "--older-than"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	// A file that is not a history database: a clear error, exit 4.
	bad := filepath.Join(dir, "not.db")
	if err := os.WriteFile(bad, []byte("this is a text file, not SQLite\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "history", "--db", bad)
	if code != exitInternal || !strings.Contains(stderr, "history database") || !strings.Contains(stderr, bad) {
		t.Errorf("corrupt database: exit %d %q", code, stderr)
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]string{"30d": "720h0m0s", "36h": "36h0m0s"} {
		d, err := parseAge(in)
		if err != nil || d.String() != want {
			t.Errorf("parseAge(%q) = %v, %v", in, d, err)
		}
	}
	for _, in := range []string{"0d", "-5h", "d", "soon"} {
		if _, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) accepted", in)
		}
	}
}
