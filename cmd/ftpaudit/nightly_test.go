package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// archive is a scripted server whose tree a test changes between runs,
// on one address, as a real archive changes from night to night.
type archive struct {
	srv        *faultftp.Server
	mu         sync.Mutex
	tree       map[string][]faultftp.Entry
	unreadable map[string]bool          // listings answered 550
	delay      map[string]time.Duration // listings delayed
}

func newArchive(t *testing.T, tree map[string][]faultftp.Entry) *archive {
	t.Helper()
	a := &archive{tree: tree, unreadable: map[string]bool{}, delay: map[string]time.Duration{}}
	opt := faultftp.Options{
		Tree: faultftp.Entries(func(dir string) ([]faultftp.Entry, bool) {
			a.mu.Lock()
			defer a.mu.Unlock()
			es, ok := a.tree[dir]
			return slices.Clone(es), ok
		}),
		Script: faultftp.Script{
			Reply: func(x *faultftp.Exchange) {
				a.mu.Lock()
				defer a.mu.Unlock()
				if (x.Verb == "LIST" || x.Verb == "MLSD") && a.unreadable[x.Dir] {
					x.Reply = "550 Permission denied.\r\n"
				}
			},
			Transfer: func(tr *faultftp.Transfer) {
				a.mu.Lock()
				defer a.mu.Unlock()
				tr.Delay = a.delay[tr.Dir]
			},
		},
	}
	srv, err := faultftp.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	a.srv = srv
	return a
}

// set replaces (or adds, or with size < 0 removes) the entry name of dir.
func (a *archive) set(dir string, e faultftp.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	es := slices.DeleteFunc(a.tree[dir], func(x faultftp.Entry) bool { return x.Name == e.Name })
	if e.Size >= 0 {
		es = append(es, e)
	}
	a.tree[dir] = es
}

func (a *archive) url() string { return a.srv.URL("/") }

// host is the target URL as ftpaudit names the host.
func (a *archive) host() string { return "ftp://" + a.srv.Addr }

// run runs ftpaudit with --db and JSON output, and returns the exit code,
// the findings as "severity rule path" (info left out) and stderr.
func (a *archive) run(t *testing.T, db string, args ...string) (int, []string, map[string]any, string) {
	t.Helper()
	// The defaults first: the test's own flags override them.
	args = append([]string{args[0], "--db", db, "--format", "json", "--quiet", "--connections", "1"}, args[1:]...)
	code, out, stderr := runCLI(t, args...)
	if out == "" {
		return code, nil, nil, stderr
	}
	doc := decode(t, out)
	var got []string
	fs, _ := doc["findings"].([]any)
	if fs == nil {
		fs, _ = doc["items"].([]any)
	}
	for _, f := range fs {
		fm := f.(map[string]any)
		if fm["severity"] == "info" {
			continue
		}
		s := fmt.Sprint(fm["severity"], " ", fm["rule"], " ", fm["path"])
		if st, ok := fm["status"]; ok {
			s = fmt.Sprint(st, ": ", s)
		}
		got = append(got, s)
	}
	slices.Sort(got)
	return code, got, doc, stderr
}

func releaseTree() map[string][]faultftp.Entry {
	return map[string][]faultftp.Entry{
		"/":    {faultftp.Dir("pub"), faultftp.Dir("slow")},
		"/pub": {faultftp.File("release-1.0.tar.gz", 1000), faultftp.File("README", 10)},
		"/slow": {
			faultftp.File("a", 1), faultftp.File("b", 2),
		},
	}
}

// The nightly job of docs/history.md: every night
// scan --save --baseline accepted. Night 1 is accepted automatically;
// from night 2 a replaced tarball is reported every night (not only the
// first, as with --baseline last), until it is restored or a person
// accepts the scan that has it.
func TestNightlyAcceptedBaseline(t *testing.T) {
	a := newArchive(t, releaseTree())
	db := filepath.Join(t.TempDir(), "history.db")
	nightly := []string{"scan", "--save", "--baseline", "accepted", a.url()}
	const replaced = "high changed-since-baseline /pub/release-1.0.tar.gz"

	// Night 1: nothing to compare with; accepted automatically.
	code, got, _, stderr := a.run(t, db, nightly...)
	if code != exitClean || len(got) != 0 {
		t.Fatalf("night 1: exit %d, findings %q; stderr %s", code, got, stderr)
	}
	if want := "scan 1 accepted automatically as the first baseline of " + a.host(); !strings.Contains(stderr, want) {
		t.Errorf("night 1: stderr does not say %q:\n%s", want, stderr)
	}

	// Night 2: the tarball is replaced.
	a.set("/pub", faultftp.File("release-1.0.tar.gz", 1001))
	code, got, doc, stderr := a.run(t, db, nightly...)
	if code != exitFindings || !slices.Equal(got, []string{replaced}) {
		t.Fatalf("night 2: exit %d, findings %q; stderr %s", code, got, stderr)
	}
	if strings.Contains(stderr, "accepted automatically") {
		t.Errorf("night 2 accepted automatically: %s", stderr)
	}
	ev := fmt.Sprint(doc["findings"])
	if !strings.Contains(ev, "accepted baseline: scan 1 of ") || !strings.Contains(ev, "accepted automatically as the first baseline") {
		t.Errorf("night 2: the evidence does not name the accepted baseline: %s", ev)
	}

	// Night 3: still replaced, still reported. --baseline last would
	// call it clean: the replaced tarball is in the newest scan.
	if code, got, _, stderr := a.run(t, db, nightly...); code != exitFindings || !slices.Equal(got, []string{replaced}) {
		t.Fatalf("night 3: exit %d, findings %q; stderr %s", code, got, stderr)
	}
	if code, got, _, _ := a.run(t, db, "scan", "--baseline", "last", a.url()); code != exitClean || len(got) != 0 {
		t.Errorf("--baseline last on night 3: exit %d, findings %q (expected clean: that is the flaw accepted baselines fix)", code, got)
	}

	// Restored: clean.
	a.set("/pub", faultftp.File("release-1.0.tar.gz", 1000))
	if code, got, _, stderr := a.run(t, db, nightly...); code != exitClean || len(got) != 0 {
		t.Fatalf("restored (scan 4): exit %d, findings %q; stderr %s", code, got, stderr)
	}

	// Replaced again, and this time a person accepts it (scan 5).
	a.set("/pub", faultftp.File("release-1.0.tar.gz", 1001))
	if code, got, _, _ := a.run(t, db, nightly...); code != exitFindings || !slices.Equal(got, []string{replaced}) {
		t.Fatalf("replaced again (scan 5): exit %d, findings %q", code, got)
	}
	code, out, stderr := runCLI(t, "baseline", "accept", "--db", db, "--by", "alice", "--note", "release 1.0 rebuilt", "5")
	if code != exitClean || !strings.Contains(out, "accepted scan 5 as the baseline of "+a.host()+", by alice: release 1.0 rebuilt (was scan 1, accepted automatically") {
		t.Fatalf("baseline accept 5: exit %d %q %q", code, out, stderr)
	}
	if code, got, _, stderr := a.run(t, db, nightly...); code != exitClean || len(got) != 0 {
		t.Fatalf("after the acceptance (scan 6): exit %d, findings %q; stderr %s", code, got, stderr)
	}

	// The record: list shows the current baseline, show the history.
	code, out, _ = runCLI(t, "baseline", "list", "--db", db, "--format", "json")
	bl := decode(t, out)["baselines"].([]any)
	if code != exitClean || len(bl) != 1 || bl[0].(map[string]any)["scan_id"] != 5.0 || bl[0].(map[string]any)["by"] != "alice" || bl[0].(map[string]any)["current"] != true {
		t.Errorf("baseline list: exit %d %v", code, bl)
	}
	code, out, _ = runCLI(t, "baseline", "show", "--db", db, a.url())
	if code != exitClean || !strings.Contains(out, "release 1.0 rebuilt") || !strings.Contains(out, "(automatic)") || strings.Count(out, "\n│ "+a.host()) != 2 {
		t.Errorf("baseline show: exit %d\n%s", code, out)
	}
}

func TestBaselineCommandRefusals(t *testing.T) {
	a := newArchive(t, releaseTree())
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	// Scan 1 is incomplete: /slow takes longer than --timeout.
	a.mu.Lock()
	a.delay["/slow"] = 5 * time.Second
	a.mu.Unlock()
	if code, _, _, stderr := a.run(t, db, "scan", "--save", "--timeout", "500ms", a.url()); code != exitIncomplete {
		t.Fatalf("scan 1: exit %d, want incomplete; %s", code, stderr)
	}
	a.mu.Lock()
	a.delay["/slow"] = 0
	a.mu.Unlock()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"baseline"}, exitUsage, "want accept, list or show"},
		{[]string{"baseline", "frob"}, exitUsage, `baseline "frob"`},
		{[]string{"baseline", "accept"}, exitUsage, "usage: ftpaudit baseline accept"},
		{[]string{"baseline", "accept", "1"}, exitUsage, "scan 1 is incomplete for " + a.host()},
		{[]string{"baseline", "accept", "9"}, exitUsage, "scan 9"},
		{[]string{"baseline", "accept", "--host", "ftp://other.example/", "1"}, exitUsage, "scan 1 did not scan ftp://other.example:21"},
		{[]string{"baseline", "show", a.url()}, exitUsage, "has no accepted baseline"},
		{[]string{"baseline", "list", "--format", "xml"}, exitUsage, "--format"},
		{[]string{"scan", "--quiet", "--baseline", "accepted", a.url()}, exitClean, "no accepted baseline of this host and start directory: nothing compared; save a complete scan"},
	} {
		code, _, stderr := runCLI(t, append(tc.args, "--db", db)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	code, out, _ := runCLI(t, "baseline", "list", "--db", db)
	if code != exitClean || !strings.Contains(out, "no accepted baselines") {
		t.Errorf("baseline list with none: exit %d %q", code, out)
	}
}

// Item 13 of issue 13: when --timeout passes during the walk, what was
// walked is still compared with the baseline and saved, and the exit
// code is 3 (incomplete), not 4.
func TestTimeoutStillComparesAndSaves(t *testing.T) {
	a := newArchive(t, releaseTree())
	db := filepath.Join(t.TempDir(), "h.db")
	if code, _, _, stderr := a.run(t, db, "scan", "--save", a.url()); code != exitClean {
		t.Fatalf("night 1: exit %d; %s", code, stderr)
	}
	a.set("/pub", faultftp.File("README", 11))
	a.mu.Lock()
	a.delay["/slow"] = 10 * time.Second
	a.mu.Unlock()
	start := time.Now()
	code, got, doc, stderr := a.run(t, db, "scan", "--save", "--baseline", "accepted", "--timeout", "1s", "--connections", "2", a.url())
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d (incomplete); stderr %s", code, exitIncomplete, stderr)
	}
	if time.Since(start) > 8*time.Second {
		t.Errorf("the run took %s: --timeout 1s was not kept", time.Since(start))
	}
	if !slices.Contains(got, "high changed-since-baseline /pub/README") {
		t.Errorf("what was walked was not compared: findings %q; stderr %s", got, stderr)
	}
	for _, f := range got {
		if strings.Contains(f, "removed-since-baseline") {
			t.Errorf("a directory the walk did not list reported as removed: %s", f)
		}
	}
	h := doc["hosts"].([]any)[0].(map[string]any)
	if b, _ := h["baseline"].(map[string]any); b == nil || b["scan_id"] != 1.0 || b["not_compared"] == 0.0 {
		t.Errorf("baseline report %v", h["baseline"])
	}
	if !strings.Contains(stderr, "saved as scan 2") && doc["scan_id"] != 2.0 {
		t.Errorf("not saved: scan_id %v, stderr %s", doc["scan_id"], stderr)
	}
	code, out, _ := runCLI(t, "history", "--db", db, "--format", "json")
	scans := decode(t, out)["scans"].([]any)
	if code != exitClean || len(scans) != 2 || scans[0].(map[string]any)["complete"] != false {
		t.Errorf("history: %v", scans)
	}
	// An incomplete scan is not accepted: the baseline is still scan 1.
	code, out, _ = runCLI(t, "baseline", "list", "--db", db, "--format", "json")
	if bl := decode(t, out)["baselines"].([]any); code != exitClean || len(bl) != 1 || bl[0].(map[string]any)["scan_id"] != 1.0 {
		t.Errorf("baseline after an incomplete scan: %v", bl)
	}
}

// Item 11 of issue 13: verify calls a finding gone only when the rescan
// shows its cause gone. A replaced tarball still replaced is still there
// (exit 1); an upload is gone when deleted; a permission when fixed; a
// finding in a directory the rescan could not list is not proven gone.
func TestVerifyProvesCauseGone(t *testing.T) {
	a := newArchive(t, releaseTree())
	db := filepath.Join(t.TempDir(), "h.db")
	nightly := []string{"scan", "--save", "--baseline", "accepted", a.url()}
	if code, _, _, stderr := a.run(t, db, nightly...); code != exitClean {
		t.Fatalf("scan 1: exit %d; %s", code, stderr)
	}
	// The incident: a replaced tarball, an upload, a world-writable
	// README, a disk image hidden in a new directory.
	a.set("/pub", faultftp.File("release-1.0.tar.gz", 1001))
	a.set("/pub", faultftp.File("patch-2.tar.gz", 5))
	a.set("/pub", faultftp.Entry{Name: "README", Size: 10, Perm: 0o666})
	a.set("/pub", faultftp.Dir("x"))
	a.mu.Lock()
	a.tree["/pub/x"] = []faultftp.Entry{faultftp.File(".hidden-upload.iso", 1<<20)}
	a.mu.Unlock()
	code, got, _, stderr := a.run(t, db, nightly...)
	want := []string{
		"high changed-since-baseline /pub/release-1.0.tar.gz",
		"high hidden-name /pub/x/.hidden-upload.iso",
		"high new-since-baseline /pub/patch-2.tar.gz",
		"high new-since-baseline /pub/x",
		"high new-since-baseline /pub/x/.hidden-upload.iso",
		"high world-writable-file /pub/README",
		"medium permission-changed /pub/README",
	}
	if code != exitFindings || !slices.Equal(got, want) {
		t.Fatalf("scan 2: exit %d\n got %q\nwant %q\nstderr %s", code, got, want, stderr)
	}

	// Nothing cleaned up: everything is still there.
	code, got, _, stderr = a.run(t, db, "verify", "2")
	for _, f := range got {
		if !strings.HasPrefix(f, "still there: ") {
			t.Errorf("nothing was cleaned up, yet %s", f)
		}
	}
	if code != exitFindings || len(got) != len(want) {
		t.Errorf("verify before the cleanup: exit %d, %q; stderr %s", code, got, stderr)
	}

	// A half cleanup: the upload deleted, the README fixed, /pub/x made
	// unreadable instead of emptied; the tarball still replaced.
	a.set("/pub", faultftp.Entry{Name: "patch-2.tar.gz", Size: -1})
	a.set("/pub", faultftp.File("README", 10))
	a.mu.Lock()
	a.unreadable["/pub/x"] = true
	a.mu.Unlock()
	code, got, _, stderr = a.run(t, db, "verify", "2")
	wantHalf := []string{
		"gone: high new-since-baseline /pub/patch-2.tar.gz",
		"gone: high world-writable-file /pub/README",
		"gone: medium permission-changed /pub/README",
		"not proven gone: high hidden-name /pub/x/.hidden-upload.iso",
		"not proven gone: high new-since-baseline /pub/x/.hidden-upload.iso",
		"still there: high changed-since-baseline /pub/release-1.0.tar.gz",
		"still there: high new-since-baseline /pub/x",
	}
	if code != exitFindings || !slices.Equal(got, wantHalf) {
		t.Errorf("verify after a half cleanup: exit %d\n got %q\nwant %q\nstderr %s", code, got, wantHalf, stderr)
	}

	// The cleanup done: the tarball restored, /pub/x deleted.
	a.set("/pub", faultftp.File("release-1.0.tar.gz", 1000))
	a.set("/pub", faultftp.Entry{Name: "x", Dir: true, Size: -1})
	code, got, _, stderr = a.run(t, db, "verify", "2")
	for _, f := range got {
		if !strings.HasPrefix(f, "gone: ") {
			t.Errorf("after the cleanup: %s", f)
		}
	}
	if code != exitClean || len(got) != len(want) {
		t.Errorf("verify after the cleanup: exit %d, %q; stderr %s", code, got, stderr)
	}
}
