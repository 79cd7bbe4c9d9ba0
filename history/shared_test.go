package history

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// One history shared by several scanning machines (issue 17): scanners
// in two networks, each a process of its own, save scans of their own
// host and of a host both reach into one database, at once and in turn,
// while a third process (the dashboard) reads, accepts a baseline and
// prunes. Run on both databases; on PostgreSQL it is what the issue asks
// for, on SQLite the same with the processes on one machine.

// sharedRounds is the number of scans each scanner saves.
const sharedRounds = 3

// sharedScanner generates a scanner's scans: its own host, and the host
// every scanner reaches, whose archive is the same for all (one
// generator seed), round after round.
type sharedScanner struct {
	name        string
	own, shared *nightly
}

func newSharedScanner(name string) *sharedScanner {
	seed := map[string]uint64{"a": 11, "b": 22}[name]
	return &sharedScanner{name: name, own: newNightly(300, seed), shared: newNightly(300, 33)}
}

const sharedURL = "ftp://shared.example/pub"

// round returns the scanner's next scan.
func (g *sharedScanner) round(t testing.TB, r int) *ftpaudit.Result {
	start := time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC).AddDate(0, 0, r)
	own := &ftpaudit.HostResult{Target: mustTarget(t, "ftp://net-"+g.name+".example/pub"), Complete: true,
		Started: start, Finished: start.Add(time.Minute), Entries: g.own.night(3)}
	shared := &ftpaudit.HostResult{Target: mustTarget(t, sharedURL), Complete: true,
		Started: start, Finished: start.Add(time.Minute), Entries: g.shared.night(3)}
	findings := []ftpaudit.Finding{
		{Host: own.Target.URL, Path: "/pub", Rule: "world-writable", Severity: ftpaudit.SevHigh, Evidence: []string{"scanner " + g.name}, Size: -1},
		{Host: shared.Target.URL, Path: "/pub", Rule: "banner", Severity: ftpaudit.SevLow, Evidence: []string{fmt.Sprintf("round %d", r)}, Size: -1},
	}
	return &ftpaudit.Result{Started: start, Finished: start.Add(time.Minute), Hosts: []*ftpaudit.HostResult{own, shared}, Findings: findings}
}

// TestHelperScannerProcess is a scanner for TestSharedHistory: named by
// FTPAUDIT_SCANNER, saving into FTPAUDIT_HISTORY_DB. For each round it
// reports "ready", waits for a line on stdin, reports "baseline <scan
// id>" (0: none) of the shared host as it sees the history, saves its
// scan (accepting first baselines automatically) and reports "saved
// <id>".
func TestHelperScannerProcess(t *testing.T) {
	name := os.Getenv("FTPAUDIT_SCANNER")
	if name == "" {
		t.Skip("helper process, run by TestSharedHistory")
	}
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv("FTPAUDIT_HISTORY_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := newSharedScanner(name)
	stdin := bufio.NewReader(os.Stdin)
	for r := range sharedRounds {
		res := g.round(t, r)
		fmt.Println("ready")
		if _, err := stdin.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		var base int64
		if a, err := s.Accepted(ctx, res.Hosts[1].Target.URL, res.Hosts[1].Target.Start); err == nil {
			base = a.ScanID
		}
		fmt.Printf("baseline %d\n", base)
		sv, err := s.SaveWith(ctx, res, "scanner "+name, SaveOptions{AutoAccept: true, By: "scanner-" + name})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("saved %d\n", sv.ID)
	}
}

// scanner starts the scanner process name on db.
func scanner(t *testing.T, name, db string) *child {
	t.Helper()
	return startChild(t, "TestHelperScannerProcess", []string{"FTPAUDIT_SCANNER=" + name, "FTPAUDIT_HISTORY_DB=" + db})
}

// number parses the number after prefix in the next such line.
func number(t *testing.T, c *child, prefix string) int64 {
	t.Helper()
	l := waitLine(t, c.lines, prefix, 2*time.Minute)
	n, err := strconv.ParseInt(strings.TrimPrefix(l, prefix), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSharedHistory(t *testing.T) { eachBackend(t, testSharedHistory) }

func testSharedHistory(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	// The dashboard's store is open throughout.
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := scanner(t, "a", db), scanner(t, "b", db)
	ids := map[string][]int64{}
	bases := map[string][]int64{}
	run := func(names ...string) { // a round of the scanners named, at once
		t.Helper()
		cs := map[string]*child{"a": a, "b": b}
		for _, n := range names {
			waitLine(t, cs[n].lines, "ready", time.Minute)
		}
		for _, n := range names {
			cs[n].send(t, "go")
		}
		for _, n := range names {
			bases[n] = append(bases[n], number(t, cs[n], "baseline "))
			ids[n] = append(ids[n], number(t, cs[n], "saved "))
		}
	}

	// Round 0: both at once, each the first of its hosts.
	run("a", "b")
	acc, err := s.Acceptances(ctx, "ftp://shared.example:21", "/pub")
	if err != nil || len(acc) != 1 || !acc[0].Automatic || !slices.Contains([]int64{ids["a"][0], ids["b"][0]}, acc[0].ScanID) {
		t.Fatalf("the shared host's acceptances after two first scans at once: %+v, %v; want one, automatic", acc, err)
	}
	for _, n := range []string{"a", "b"} {
		own, err := s.Accepted(ctx, "ftp://net-"+n+".example:21", "/pub")
		if err != nil || own.ScanID != ids[n][0] || own.By != "scanner-"+n {
			t.Errorf("net-%s baseline %+v, %v", n, own, err)
		}
	}

	// Round 1: in turn, so that b's scan of the shared host is saved as
	// the changes from a's, its base another scanner's.
	run("a")
	run("b")
	hostOf := func(id int64, i int) int64 { return hostsOf(t, s, id)[i] }
	sharedA1, sharedB1 := hostOf(ids["a"][1], 1), hostOf(ids["b"][1], 1)
	if base := count(t, s, "SELECT coalesce((SELECT base_id FROM deltas WHERE host_id = ?), 0)", sharedB1); base != int(sharedA1) {
		t.Errorf("b's shared host %d has base %d, want a's %d", sharedB1, base, sharedA1)
	}

	// The dashboard accepts a's scan of the shared host; both scanners
	// see it before their next save.
	if _, err := s.Accept(ctx, []int64{sharedA1}, "alice", "checked from the dashboard"); err != nil {
		t.Fatal(err)
	}
	run("a", "b")
	for _, n := range []string{"a", "b"} {
		if bases[n][2] != ids["a"][1] {
			t.Errorf("scanner %s saw baseline scan %d of the shared host, want %d (accepted by alice)", n, bases[n][2], ids["a"][1])
		}
	}
	t.Logf("scans saved %v, shared baselines seen %v", ids, bases)
	for _, c := range []*child{a, b} {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("scanner: %v", err)
		}
	}

	// Everything landed, and reads back as each scanner saved it.
	want := map[int64]*ftpaudit.Result{}
	for _, n := range []string{"a", "b"} {
		g := newSharedScanner(n)
		for r := range sharedRounds {
			want[ids[n][r]] = g.round(t, r)
		}
	}
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 2*sharedRounds {
		t.Fatalf("%d scans, want %d", len(scans), 2*sharedRounds)
	}
	for _, sc := range scans {
		r, ok := want[sc.ID]
		if !ok || len(sc.Hosts) != 2 {
			t.Fatalf("scan %d: not saved by a scanner, or %d hosts", sc.ID, len(sc.Hosts))
		}
		for i, h := range sc.Hosts {
			checkHost(t, s, h.ID, r.Hosts[i].Entries)
			checkSavedFindings(t, s, h.ID, r.Hosts[i].Target.URL, r.Findings)
		}
	}

	// diff: a's last scan of the shared host against b's, both ways
	// (what EntryAttrsBeside gives is what EntryAttrs reads).
	sharedA2, sharedB2 := hostOf(ids["a"][2], 1), hostOf(ids["b"][2], 1)
	for _, p := range [][2]int64{{sharedA2, sharedB2}, {sharedB2, sharedA2}} {
		cur := collect(t, s.Entries(ctx, p[1]))
		got := collect(t, s.EntryAttrsBeside(ctx, p[0], entrySeq(cur)))
		for i := range got {
			got[i] = leanOf(got[i])
		}
		checkEntries(t, got, collect(t, s.EntryAttrs(ctx, p[0])))
	}
	// verify: the last complete scan of the shared host before b's last
	// is a's last when it was saved first, else b's round 1; the baseline
	// is alice's.
	last := ids["a"][2]
	if last > ids["b"][2] {
		last = ids["b"][1] // saved after a's round 1
	}
	if h, err := s.LastComplete(ctx, "ftp://shared.example:21", "/pub", ids["b"][2]); err != nil || h.ScanID != last {
		t.Errorf("LastComplete before b's last = %+v, %v; want scan %d", h, err, last)
	}
	if cur, err := s.Accepted(ctx, "ftp://shared.example:21", "/pub"); err != nil || cur.ScanID != ids["a"][1] || cur.By != "alice" {
		t.Errorf("shared baseline %+v, %v", cur, err)
	}

	// Prune from the dashboard: the accepted baseline stays, as do the
	// newest, which read back as saved even where their bases went.
	if _, err := s.PruneWith(ctx, 2, time.Time{}); err != nil {
		t.Fatal(err)
	}
	kept, err := s.BaselineScans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scans, err = s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scans {
		for i, h := range sc.Hosts {
			checkHost(t, s, h.ID, want[sc.ID].Hosts[i].Entries)
		}
	}
	if !slices.Contains(kept, ids["a"][1]) || len(scans) > 2+len(kept) {
		t.Errorf("after pruning: scans %d, baselines %v", len(scans), kept)
	}
}
