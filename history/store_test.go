package history

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "ftpaudit", "history.db")
	if onPostgres(t) {
		path = newPGSchema(t)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func mustTarget(t testing.TB, raw string) ftpaudit.Target {
	t.Helper()
	tg, err := ftpaudit.ParseTarget(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))

// hostileEntries returns entries with every field set, names no shell or
// terminal would like, given out of order, with two entries sharing a
// path (a name holding '/' next to a real directory).
func hostileEntries() []ftpaudit.Entry {
	full := func(path, name string) ftpaudit.Entry {
		return ftpaudit.Entry{
			Path: path, Name: name, Type: ftpaudit.TypeFile, Size: 1 << 40,
			Modified: t0.Add(time.Duration(len(path)) * time.Hour),
			Mode:     "-rw-rw-rw-", Owner: "own\xff", Group: "grp\r\n",
			Raw: "type=file;size=1099511627776; " + name, Extra: &ftpaudit.EntryExtra{Perm: "adfrw", Unique: "U1\x00x", Facts: map[string]string{"type": "file", "unix.mode": "0666", "x\xff": "\r\n"}, ListRaw: "-rw-rw-rw- 1 own grp 1099511627776 May 6 2024 " + name, Target: "../../etc/passwd\xfe"},
		}
	}
	es := []ftpaudit.Entry{
		full("/pub/zeta", "zeta"),
		full("/pub/bad\xff\xfename", "bad\xff\xfename"),
		full("/pub/crlf\r\nname", "crlf\r\nname"),
		full("/pub/ lead", " lead"),
		full("/pub/trail ", "trail "),
		full("/pub/...", "..."),
		full("/pub/\x01ctl", "\x01ctl"),
		full("/pub/\u00e9t\u00e9", "\u00e9t\u00e9"),
		full("/pub/a/b", "a/b"), // a name holding '/': collides with /pub/a's b
		{Path: "/pub", Name: "pub", Type: ftpaudit.TypeDir, Size: -1, Mode: "drwxr-xr-x", Raw: "drwxr-xr-x 2 0 0 4096 Jan 1 2020 pub"},
		{Path: "/pub/a", Name: "a", Type: ftpaudit.TypeDir, Size: 4096, Modified: time.Unix(0, 0).UTC(), Extra: &ftpaudit.EntryExtra{Facts: map[string]string{}}},
		{Path: "/pub/a/b", Name: "b", Type: ftpaudit.TypeLink, Size: 0, Raw: "lrwxrwxrwx b -> /", Extra: &ftpaudit.EntryExtra{Target: "/"}},
		{Path: "/pub/old", Name: "old", Type: ftpaudit.TypeOther, Size: 7, Modified: time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Path: "/pub/far", Name: "far", Type: ftpaudit.TypeOther, Size: math.MaxInt64, Modified: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{Path: "/pub/neg", Name: "neg", Type: ftpaudit.TypeFile, Size: math.MinInt64, Modified: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)},
		{Path: "/pub/renamed", Name: "not-the-last-part", Type: ftpaudit.TypeFile},
		{Path: "/pub/empty-name/", Name: "", Type: ftpaudit.TypeFile},
	}
	return es
}

func sampleResult(t testing.TB) *ftpaudit.Result {
	h1 := &ftpaudit.HostResult{
		Target:   mustTarget(t, "ftp://ftp.example.org/pub"),
		Info:     ftpaudit.ServerInfo{Banner: "220 (vsFTPd 3.0.5)\xff", Features: []string{"MLST type*;size*;", "EPSV", ""}, Login: "230 Login successful.", MLSD: true, Paired: true},
		Started:  t0,
		Finished: t0.Add(90 * time.Second),
		Complete: true,
		Stats:    ftpaudit.Stats{Dirs: 2, Files: 9, Links: 1, Other: 2, Unreadable: 1, Errors: 2, Listed: 3, BadLines: 1},
		Unreadable: []ftpaudit.PathError{
			{Path: "/pub/secret\xff", Error: "550 Permission denied."},
		},
		Errors: []ftpaudit.PathError{
			{Path: "/pub/x\r\n", Error: "unparsed listing line: bad: \x1b[31mred"},
			{Path: "/pub/y", Error: "listing cut short after 10 bytes"},
		},
		Notes: []ftpaudit.PathError{{Path: "/pub/loop", Error: "lists exactly like one of its ancestors (a loop); not descended"}},
		NotListed: []ftpaudit.Unlisted{
			{Path: "/pub/secret\xff", Kind: ftpaudit.UnlistedUnreadable, Reason: "550 Permission denied."},
			{Path: "/pub/deep", Kind: ftpaudit.UnlistedBound, Reason: "deeper than --max-depth 3", Cause: "depth bound reached"},
			{Path: "/pub/private", Kind: ftpaudit.UnlistedAccepted, Reason: "listing failed: 421",
				Accepted: &ftpaudit.Acceptance{Glob: "/pub/private", Reason: "", Kind: ftpaudit.UnlistedError}},
		},
		Entries: hostileEntries(),
		Probes: []ftpaudit.ProbeResult{{Dir: "/pub/incoming\xff",
			File:  ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "226 ok", Removed: true, RemoveReply: "250 ok", Path: "/pub/incoming\xff/.ftpaudit-canary"},
			Mkdir: ftpaudit.ProbeStep{Tried: true, Reply: "550 no"}, Readable: true}},
		Fetched:  []ftpaudit.FetchedFile{{Path: "/etc/passwd", Data: []byte("root:x:0:0::/root:/bin/sh\n\xff")}, {Path: "/etc/shadow", Err: "550"}},
		Stat:     &ftpaudit.StatReport{Used: false, Note: "STAT and LIST -a differ on /pub/\xff", Listed: 1, Fallbacks: 2, Resyncs: 3},
		Baseline: &ftpaudit.BaselineReport{ScanID: 3, Started: t0.Add(-time.Hour).UTC(), Added: 1, Removed: 2, Changed: 3, NotCompared: 4, NotComparedDirs: []string{"/pub/secret\xff"}},
	}
	h2 := &ftpaudit.HostResult{
		Target:     mustTarget(t, "ftps://alice@[2001:db8::1]:2121/"),
		Info:       ftpaudit.ServerInfo{Banner: "220 hi"},
		Started:    t0.Add(time.Second),
		Finished:   t0.Add(2 * time.Second),
		Incomplete: []string{"no session: 530 Login incorrect.", "scan interrupted: context canceled"},
		LoginError: "530 Login incorrect.",
		Entries:    []ftpaudit.Entry{{Path: "/x", Name: "x", Type: ftpaudit.TypeFile, Size: 1, Raw: "x"}},
	}
	findings := []ftpaudit.Finding{
		{Host: h1.Target.URL, Path: "/pub/a/b", Rule: "world-writable\xff", Severity: ftpaudit.SevHigh, Evidence: []string{"mode -rw-rw-rw-", "owner own\xff", ""}, Size: 42, Modified: t0, Action: "chmod o-w"},
		{Host: h2.Target.URL, Path: "/", Rule: "login-failed", Severity: ftpaudit.SevInfo, Size: -1, Action: "check the credentials"},
		{Host: h1.Target.URL, Path: "/", Rule: "banner", Severity: ftpaudit.SevLow, Evidence: []string{}, Size: -1},
		{Host: "ftp://not-scanned.example", Path: "/", Rule: "orphan", Severity: ftpaudit.SevCritical, Size: -1},
	}
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(3 * time.Minute), Hosts: []*ftpaudit.HostResult{h1, h2}, Findings: findings}
}

// sortedCopy returns es as Entries must yield them.
func sortedCopy(es []ftpaudit.Entry) []ftpaudit.Entry {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func collect(t *testing.T, seq func(func(ftpaudit.Entry, error) bool)) []ftpaudit.Entry {
	t.Helper()
	var out []ftpaudit.Entry
	for e, err := range seq {
		if err != nil {
			t.Fatalf("entries: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// setSaveHook sets saveHook and saveHookEvery for the test.
func setSaveHook(t *testing.T, every int, hook func(int)) {
	every0 := saveHookEvery
	saveHook, saveHookEvery = hook, every
	t.Cleanup(func() { saveHook, saveHookEvery = nil, every0 })
}

// checkEntries compares entries field by field; times must be equal
// instants and in UTC.
func checkEntries(t *testing.T, got, want []ftpaudit.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Modified.Equal(w.Modified) || g.Modified.IsZero() != w.Modified.IsZero() {
			t.Errorf("entry %d %q: modified %v, want %v", i, w.Path, g.Modified, w.Modified)
		}
		if !g.Modified.IsZero() && g.Modified.Location() != time.UTC {
			t.Errorf("entry %d %q: modified in %v, want UTC", i, w.Path, g.Modified.Location())
		}
		if (g.Facts() == nil) != (w.Facts() == nil) {
			t.Errorf("entry %d %q: facts %#v, want %#v", i, w.Path, g.Facts(), w.Facts())
		}
		g.Modified, w.Modified = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("entry %d:\n got %#v\nwant %#v", i, g, w)
		}
		if i > 0 && strings.Compare(got[i-1].Path, g.Path) > 0 {
			t.Errorf("entry %d %q after %q: not in strings.Compare order", i, g.Path, got[i-1].Path)
		}
	}
}

func count(t *testing.T, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRoundTrip(t *testing.T) { eachBackend(t, testRoundTrip) }

func testRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	r := sampleResult(t)
	id, err := s.Save(ctx, r, "scan --save ftp://ftp.example.org/pub")
	if err != nil {
		t.Fatal(err)
	}
	sc := checkScanInfo(t, s, id, r)
	for i, h := range sc.Hosts {
		checkSavedEntries(t, s, h.ID, r.Hosts[i].Entries)
		checkSavedFindings(t, s, h.ID, r.Hosts[i].Target.URL, r.Findings)
		checkHostResult(t, s, h.ID, r.Hosts[i])
	}
	checkAbsent(t, s, id+1)
}

// checkScanInfo checks Scans and Scan against r, saved as scan id, and
// returns what Scans says of it.
func checkScanInfo(t *testing.T, s *Store, id int64, r *ftpaudit.Result) ScanInfo {
	t.Helper()
	ctx := context.Background()
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 1 {
		t.Fatalf("got %d scans, want 1", len(scans))
	}
	sc := scans[0]
	if sc.ID != id || !sc.Started.Equal(r.Started) || !sc.Finished.Equal(r.Finished) || sc.Complete || sc.Args != "scan --save ftp://ftp.example.org/pub" {
		t.Errorf("scan = %+v", sc)
	}
	if len(sc.Hosts) != 2 {
		t.Fatalf("got %d hosts, want 2", len(sc.Hosts))
	}
	for i, h := range sc.Hosts {
		want := r.Hosts[i]
		wantFindings := []int{2, 1}[i]
		if h.ScanID != id || h.Target != want.Target.URL || h.Start != want.Target.Start || h.Complete != want.Complete ||
			!reflect.DeepEqual(h.Incomplete, want.Incomplete) || h.Stats != want.Stats || h.Entries != len(want.Entries) || h.Findings != wantFindings {
			t.Errorf("host %d = %+v", i, h)
		}
	}
	one, err := s.Scan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*one, sc) {
		t.Errorf("Scan(%d) = %+v, Scans()[0] = %+v", id, *one, sc)
	}
	return sc
}

// checkSavedEntries checks Entries (every field, in strings.Compare
// order) and EntryAttrs (the same without facts and raw lines).
func checkSavedEntries(t *testing.T, s *Store, hostID int64, want []ftpaudit.Entry) {
	t.Helper()
	ctx := context.Background()
	checkEntries(t, collect(t, s.Entries(ctx, hostID)), sortedCopy(want))
	lean := sortedCopy(want)
	for j := range lean {
		lean[j].Raw = ""
		if x := lean[j].Extra; x != nil {
			lean[j].Extra = nil
			if x.Perm != "" || x.Unique != "" || x.Target != "" {
				lean[j].Extra = &ftpaudit.EntryExtra{Perm: x.Perm, Unique: x.Unique, Target: x.Target}
			}
		}
	}
	checkEntries(t, collect(t, s.EntryAttrs(ctx, hostID)), lean)
}

// checkSavedFindings checks a host's findings: those of all saved whose
// Host is target, in the order saved (the orphan is with no host).
func checkSavedFindings(t *testing.T, s *Store, hostID int64, target string, all []ftpaudit.Finding) {
	t.Helper()
	var want []ftpaudit.Finding
	for _, f := range all {
		if f.Host == target {
			want = append(want, f)
		}
	}
	got, err := s.Findings(context.Background(), hostID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("host %d: %d findings, want %d", hostID, len(got), len(want))
	}
	for j := range got {
		g, w := got[j], want[j]
		if !g.Modified.Equal(w.Modified) {
			t.Errorf("finding %d: modified %v, want %v", j, g.Modified, w.Modified)
		}
		g.Modified, w.Modified = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("finding %d:\n got %#v\nwant %#v", j, g, w)
		}
	}
}

// checkHostResult checks HostResult, with and without entries, against
// the saved want: every field, times as instants.
func checkHostResult(t *testing.T, s *Store, hostID int64, want *ftpaudit.HostResult) {
	t.Helper()
	ctx := context.Background()
	got, err := s.HostResult(ctx, hostID, true)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got.Entries, sortedCopy(want.Entries))
	g, w := *got, *want
	g.Entries, w.Entries = nil, nil
	checkHostFields(t, &g, &w)
	noEntries, err := s.HostResult(ctx, hostID, false)
	if err != nil {
		t.Fatal(err)
	}
	if noEntries.Entries != nil {
		t.Errorf("HostResult without entries has %d", len(noEntries.Entries))
	}
}

// checkHostFields compares two HostResults field by field, times as
// instants (read back in UTC).
func checkHostFields(t *testing.T, got, want *ftpaudit.HostResult) {
	t.Helper()
	g, w := *got, *want
	if !g.Started.Equal(w.Started) || !g.Finished.Equal(w.Finished) {
		t.Errorf("host %s: times %v..%v, want %v..%v", w.Target.URL, g.Started, g.Finished, w.Started, w.Finished)
	}
	g.Started, g.Finished, w.Started, w.Finished = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g.Baseline != nil && w.Baseline != nil {
		gb, wb := *g.Baseline, *w.Baseline
		if !gb.Started.Equal(wb.Started) || (!gb.Started.IsZero() && gb.Started.Location() != time.UTC) {
			t.Errorf("host %s: baseline started %v, want %v in UTC", w.Target.URL, gb.Started, wb.Started)
		}
		gb.Started, wb.Started = time.Time{}, time.Time{}
		g.Baseline, w.Baseline = &gb, &wb
	}
	if !reflect.DeepEqual(g.Stat, w.Stat) {
		t.Errorf("host %s: STAT report\n got %s\nwant %s", w.Target.URL, deref(g.Stat), deref(w.Stat))
	}
	if !reflect.DeepEqual(g.Baseline, w.Baseline) {
		t.Errorf("host %s: baseline report\n got %s\nwant %s", w.Target.URL, deref(g.Baseline), deref(w.Baseline))
	}
	g.Stat, w.Stat, g.Baseline, w.Baseline = nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("host %s:\n got %#v\nwant %#v", w.Target.URL, g, w)
	}
}

// deref formats what p points to, or nil.
func deref[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%#v", *p)
}

// checkAbsent checks that ids that were never saved give ErrNotFound.
func checkAbsent(t *testing.T, s *Store, scanID int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Scan(ctx, scanID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Scan(absent) = %v, want ErrNotFound", err)
	}
	if _, err := s.Findings(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Findings(absent) = %v, want ErrNotFound", err)
	}
	if _, err := s.HostResult(ctx, 9999, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("HostResult(absent) = %v, want ErrNotFound", err)
	}
	n := 0
	for _, err := range s.Entries(ctx, 9999) {
		n++
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Entries(absent) yields %v, want ErrNotFound", err)
		}
	}
	if n != 1 {
		t.Errorf("Entries(absent) yielded %d times, want 1", n)
	}
}

// The entries saved in a shuffled order come back sorted; breaking off
// the iteration early works and leaves the store usable.
func TestEntriesOrderAndEarlyStop(t *testing.T) { eachBackend(t, testEntriesOrderAndEarlyStop) }

func testEntriesOrderAndEarlyStop(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	var es []ftpaudit.Entry
	for _, p := range []string{"/b", "/a\xff", "/a", "/a/b", "/a b", "/a\x00", "/A", "/a/", "/\xc3\xa9", "/~", "/a.b"} {
		es = append(es, ftpaudit.Entry{Path: p, Name: p[1:], Type: ftpaudit.TypeFile})
	}
	r := &ftpaudit.Result{Hosts: []*ftpaudit.HostResult{{Target: mustTarget(t, "ftp://h"), Entries: es, Complete: true}}}
	if _, err := s.Save(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	sc, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hostID := sc[0].Hosts[0].ID
	var got []string
	for e := range s.Entries(ctx, hostID) {
		got = append(got, e.Path)
	}
	want := make([]string, len(es))
	for i := range es {
		want[i] = es[i].Path
	}
	slices.SortFunc(want, strings.Compare)
	if !slices.Equal(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	for i := 0; i < 20; i++ { // more than the pool holds: each stop must release its connection
		for range s.Entries(ctx, hostID) {
			break
		}
	}
	if _, err := s.Save(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
}

func TestLastComplete(t *testing.T) { eachBackend(t, testLastComplete) }

func testLastComplete(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	save := func(raw string, complete bool) int64 {
		t.Helper()
		h := &ftpaudit.HostResult{Target: mustTarget(t, raw), Complete: complete}
		if !complete {
			h.Incomplete = []string{"listings failed"}
		}
		other := &ftpaudit.HostResult{Target: mustTarget(t, "ftp://unrelated.example"), Complete: true}
		id, err := s.Save(ctx, &ftpaudit.Result{Started: time.Now(), Hosts: []*ftpaudit.HostResult{other, h}}, raw)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a1 := save("ftp://a.example/pub", true)
	save("ftp://a.example/pub", false)
	b := save("ftp://b.example/pub", true)
	other := save("ftp://a.example/other", true)
	a2 := save("ftp://a.example/pub", true)
	save("ftp://a.example/pub", false)

	for _, c := range []struct {
		target, start string
		before, want  int64
	}{
		{"ftp://a.example:21", "/pub", 0, a2},
		{"ftp://a.example:21", "/pub", -1, a2},
		{"ftp://a.example:21", "/pub", a2 + 1, a2},
		{"ftp://a.example:21", "/pub", a2, a1},
		{"ftp://a.example:21", "/pub", a1, 0},
		{"ftp://b.example:21", "/pub", 0, b},
		{"ftp://a.example:21", "/other", 0, other},
		{"ftp://a.example:21", "/", 0, 0},
		{"ftp://c.example:21", "/pub", 0, 0},
	} {
		h, err := s.LastComplete(ctx, c.target, c.start, c.before)
		if c.want == 0 {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("LastComplete(%s, %s, %d) = %+v, %v; want ErrNotFound", c.target, c.start, c.before, h, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("LastComplete(%s, %s, %d): %v", c.target, c.start, c.before, err)
			continue
		}
		if h.ScanID != c.want || h.Target != c.target || h.Start != c.start || !h.Complete {
			t.Errorf("LastComplete(%s, %s, %d) = %+v, want scan %d", c.target, c.start, c.before, h, c.want)
		}
	}
}

// A cancelled save commits nothing and leaves the store usable.
func TestSaveCancelled(t *testing.T) { eachBackend(t, testSaveCancelled) }

func testSaveCancelled(t *testing.T) {
	s := openTemp(t)
	// Cancelled after 512 rows; Save checks every 1024, before the end.
	r := synthResult(1500, false)
	ctx, cancel := context.WithCancel(context.Background())
	setSaveHook(t, 256, func(n int) {
		if n >= 512 {
			cancel()
		}
	})
	_, err := s.Save(ctx, r, "")
	saveHook = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Save = %v, want context.Canceled", err)
	}
	bg := context.Background()
	if scans, err := s.Scans(bg); err != nil || len(scans) != 0 {
		t.Fatalf("after a cancelled save: %d scans, %v", len(scans), err)
	}
	if c := storedEntries(t, s); c != 0 {
		t.Errorf("%d entries of a cancelled save", c)
	}
	for i := 0; i < 3; i++ { // whichever pooled connection comes next
		if _, err := s.Save(bg, sampleResult(t), ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEntryParamsFitScan(t *testing.T) {
	// Beyond 32 parameters the driver builds a map on every insert.
	if n := len(newRowPacker(1, make([]byte, keySize)).args); n > 32 {
		t.Errorf("%d parameters per entry row, want at most 32", n)
	}
	if got, want := strings.Count(insertEntrySQL, "?")+1, len(newRowPacker(1, make([]byte, keySize)).args); got != want {
		t.Errorf("statement has %d parameters, packer fills %d", got, want)
	}
}

func TestCodec(t *testing.T) {
	for _, l := range [][]string{nil, {}, {""}, {"a", "", "\xff\x00\r\n"}, {strings.Repeat("x", 300)}} {
		got, err := decodeList(encodeList(l))
		if err != nil || !reflect.DeepEqual(got, l) {
			t.Errorf("list %q: got %q, %v", l, got, err)
		}
	}
	for _, b := range [][]byte{{}, {1}, {2, 1, 'a'}, {1, 5, 'a'}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0, 0}} {
		if _, err := decodeList(b); err == nil {
			t.Errorf("decodeList(%x) accepted", b)
		}
	}
	if _, err := decodeFacts([]byte{1, 1, 'a'}); err == nil {
		t.Error("decodeFacts accepted an odd count")
	}
}
