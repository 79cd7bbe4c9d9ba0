package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// oneHost is a saved-scan result of one host, complete or not.
func oneHost(t *testing.T, url string, complete bool) *ftpaudit.Result {
	t.Helper()
	h := &ftpaudit.HostResult{Target: mustTarget(t, url), Complete: complete, Started: t0, Finished: t0,
		Entries: []ftpaudit.Entry{{Path: "/a", Name: "a", Type: ftpaudit.TypeFile, Size: 1}}}
	if !complete {
		h.Incomplete = []string{"a listing failed"}
	}
	return &ftpaudit.Result{Started: t0, Finished: t0, Hosts: []*ftpaudit.HostResult{h}}
}

func saveT(t *testing.T, s *Store, r *ftpaudit.Result, opt SaveOptions) Saved {
	t.Helper()
	sv, err := s.SaveWith(context.Background(), r, "test", opt)
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// The first complete saved scan of a host is accepted automatically, in
// the save's transaction; later ones, and incomplete ones, are not.
func TestAutoAcceptFirstBaseline(t *testing.T) { eachBackend(t, testAutoAcceptFirstBaseline) }

func testAutoAcceptFirstBaseline(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	auto := SaveOptions{AutoAccept: true, By: "cron"}
	const url = "ftp://ftp.example.org/pub"

	if sv := saveT(t, s, oneHost(t, url, false), auto); len(sv.Accepted) != 0 {
		t.Errorf("an incomplete scan accepted: %+v", sv.Accepted)
	}
	if sv := saveT(t, s, oneHost(t, url, true), SaveOptions{}); len(sv.Accepted) != 0 {
		t.Errorf("accepted without AutoAccept: %+v", sv.Accepted)
	}
	if _, err := s.Accepted(ctx, "ftp://ftp.example.org:21", "/pub"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Accepted before any acceptance: %v", err)
	}
	first := saveT(t, s, oneHost(t, url, true), auto)
	if len(first.Accepted) != 1 {
		t.Fatalf("first complete scan with AutoAccept: accepted %+v", first.Accepted)
	}
	a := first.Accepted[0]
	if a.ScanID != first.ID || !a.Automatic || a.By != "cron" || a.Target != "ftp://ftp.example.org:21" || a.Start != "/pub" ||
		a.Note != "accepted automatically as the first baseline of ftp://ftp.example.org:21/pub" {
		t.Errorf("acceptance %+v", a)
	}
	if sv := saveT(t, s, oneHost(t, url, true), auto); len(sv.Accepted) != 0 {
		t.Errorf("a second scan accepted automatically: %+v", sv.Accepted)
	}
	cur, err := s.Accepted(ctx, a.Target, a.Start)
	if err != nil || cur.ScanID != first.ID || cur.ID != a.ID || cur.Deleted {
		t.Fatalf("Accepted = %+v, %v; want scan %d", cur, err, first.ID)
	}
	// Another start directory of the same host is another baseline.
	if sv := saveT(t, s, oneHost(t, "ftp://ftp.example.org/", true), auto); len(sv.Accepted) != 1 {
		t.Errorf("another start directory: accepted %+v", sv.Accepted)
	}
}

// Accepting is append-only: the newest acceptance is the baseline, every
// earlier one stays on record, and the table refuses UPDATE and DELETE.
func TestAcceptAppendOnly(t *testing.T) { eachBackend(t, testAcceptAppendOnly) }

func testAcceptAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	const url = "ftp://ftp.example.org/"
	var ids []int64
	for range 3 {
		ids = append(ids, saveT(t, s, oneHost(t, url, true), SaveOptions{AutoAccept: true, By: "cron"}).ID)
	}
	sc, err := s.Scan(ctx, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Accept(ctx, []int64{sc.Hosts[0].ID}, "alice", "release 2.1 replaced the tarball")
	if err != nil || len(got) != 1 || got[0].ScanID != ids[2] || got[0].By != "alice" || got[0].Automatic {
		t.Fatalf("Accept = %+v, %v", got, err)
	}
	if time.Since(got[0].Accepted) > time.Minute || got[0].Accepted.Location() != time.UTC {
		t.Errorf("accepted at %v", got[0].Accepted)
	}
	cur, err := s.Accepted(ctx, "ftp://ftp.example.org:21", "/")
	if err != nil || cur.ScanID != ids[2] || cur.Note != "release 2.1 replaced the tarball" {
		t.Errorf("current baseline %+v, %v", cur, err)
	}
	all, err := s.Acceptances(ctx, "ftp://ftp.example.org:21", "/")
	if err != nil || len(all) != 2 || all[0].ScanID != ids[2] || all[1].ScanID != ids[0] || !all[1].Automatic {
		t.Errorf("Acceptances = %+v, %v", all, err)
	}
	if every, err := s.Acceptances(ctx, "", ""); err != nil || len(every) != 2 {
		t.Errorf("Acceptances of every host = %d, %v", len(every), err)
	}
	for _, q := range []string{"UPDATE acceptances SET accepted_by = 'mallory'", "DELETE FROM acceptances"} {
		if _, err := s.db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM acceptances"); n != 2 {
		t.Errorf("%d acceptances left", n)
	}
}

// Accept refuses an incomplete host and an unknown one, and records
// nothing then, not even the hosts before it.
func TestAcceptRefusals(t *testing.T) { eachBackend(t, testAcceptRefusals) }

func testAcceptRefusals(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	good := saveT(t, s, oneHost(t, "ftp://a.example/", true), SaveOptions{})
	bad := saveT(t, s, oneHost(t, "ftp://b.example/", false), SaveOptions{})
	goodHost := hostsOf(t, s, good.ID)[0]
	badHost := hostsOf(t, s, bad.ID)[0]
	if _, err := s.Accept(ctx, []int64{goodHost, badHost}, "alice", ""); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "ftp://b.example:21") {
		t.Errorf("accepting an incomplete host: %v", err)
	}
	if _, err := s.Accept(ctx, []int64{goodHost, 9999}, "alice", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("accepting an unknown host: %v", err)
	}
	if _, err := s.Accept(ctx, []int64{goodHost}, "", ""); err == nil {
		t.Error("accepted by nobody")
	}
	if n := count(t, s, "SELECT count(*) FROM acceptances"); n != 0 {
		t.Errorf("%d acceptances recorded by refused calls", n)
	}
}

// Prune never deletes a scan that holds a host's current accepted
// baseline, whatever its age; once another scan is accepted, it may go,
// and its acceptance stays on record (Deleted).
func TestPruneKeepsAcceptedBaseline(t *testing.T) { eachBackend(t, testPruneKeepsAcceptedBaseline) }

func testPruneKeepsAcceptedBaseline(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 4 {
		r := oneHost(t, "ftp://ftp.example.org/", true)
		r.Started = base.AddDate(0, 0, i)
		ids = append(ids, saveT(t, s, r, SaveOptions{AutoAccept: true, By: "cron"}).ID)
	}
	if kept, err := s.BaselineScans(ctx); err != nil || !slices.Equal(kept, ids[:1]) {
		t.Fatalf("BaselineScans = %v, %v", kept, err)
	}
	n, err := s.Prune(ctx, 1, time.Time{})
	if err != nil || n != 2 {
		t.Fatalf("Prune(keep 1) = %d, %v; want 2 (the accepted scan kept)", n, err)
	}
	if _, err := s.Scan(ctx, ids[0]); err != nil {
		t.Fatalf("the accepted baseline was pruned: %v", err)
	}
	if _, err := s.Accept(ctx, hostsOf(t, s, ids[3]), "alice", "new release"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Prune(ctx, 1, time.Time{}); err != nil || n != 1 {
		t.Fatalf("Prune after a new acceptance = %d, %v; want 1", n, err)
	}
	all, err := s.Acceptances(ctx, "", "")
	if err != nil || len(all) != 2 || !all[1].Deleted || all[1].ScanID != ids[0] || all[0].Deleted {
		t.Errorf("acceptances after prune: %+v, %v", all, err)
	}
}

// A version 2 database opens as version 3 with an empty acceptances table
// and its scans as they were.
func TestMigrateToAcceptances(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA journal_mode = WAL", migrations[0].sql, "PRAGMA user_version = 2", fmt.Sprintf("PRAGMA application_id = %d", appID),
		"INSERT INTO scans (id, started, finished, saved, complete, args) VALUES (7, 1, 2, 3, 1, 'v2')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := count(t, s, "PRAGMA user_version"); v != len(migrations) {
		t.Errorf("user_version %d, want %d", v, len(migrations))
	}
	if n := count(t, s, "SELECT count(*) FROM acceptances"); n != 0 {
		t.Errorf("%d acceptances after migrating", n)
	}
	if sc, err := s.Scan(ctx, 7); err != nil || sc.Args != "v2" {
		t.Errorf("scan 7 after migrating: %+v, %v", sc, err)
	}
}
