package history

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state", "ftpaudit", "history.db"))
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
		Notes:   []ftpaudit.PathError{{Path: "/pub/loop", Error: "lists exactly like one of its ancestors (a loop); not descended"}},
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

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	r := sampleResult(t)
	id, err := s.Save(ctx, r, "scan --save ftp://ftp.example.org/pub")
	if err != nil {
		t.Fatal(err)
	}

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

	// Entries: every field, in strings.Compare order.
	for i, h := range sc.Hosts {
		checkEntries(t, collect(t, s.Entries(ctx, h.ID)), sortedCopy(r.Hosts[i].Entries))
		// EntryAttrs: the same without facts and raw lines.
		lean := sortedCopy(r.Hosts[i].Entries)
		for j := range lean {
			lean[j].Raw = ""
			if x := lean[j].Extra; x != nil {
				lean[j].Extra = nil
				if x.Perm != "" || x.Unique != "" || x.Target != "" {
					lean[j].Extra = &ftpaudit.EntryExtra{Perm: x.Perm, Unique: x.Unique, Target: x.Target}
				}
			}
		}
		checkEntries(t, collect(t, s.EntryAttrs(ctx, h.ID)), lean)
	}

	// Findings, in the order saved, per host; the orphan is with none.
	for i, h := range sc.Hosts {
		var want []ftpaudit.Finding
		for _, f := range r.Findings {
			if f.Host == r.Hosts[i].Target.URL {
				want = append(want, f)
			}
		}
		got, err := s.Findings(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("host %d: %d findings, want %d", i, len(got), len(want))
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

	// HostResult.
	for i, h := range sc.Hosts {
		want := r.Hosts[i]
		got, err := s.HostResult(ctx, h.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Started.Equal(want.Started) || !got.Finished.Equal(want.Finished) {
			t.Errorf("host %d: times %v..%v, want %v..%v", i, got.Started, got.Finished, want.Started, want.Finished)
		}
		checkEntries(t, got.Entries, sortedCopy(want.Entries))
		g, w := *got, *want
		g.Started, g.Finished, w.Started, w.Finished = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		g.Entries, w.Entries = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("host %d:\n got %#v\nwant %#v", i, g, w)
		}
		noEntries, err := s.HostResult(ctx, h.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if noEntries.Entries != nil {
			t.Errorf("HostResult without entries has %d", len(noEntries.Entries))
		}
	}

	// Absent ids.
	if _, err := s.Scan(ctx, id+1); !errors.Is(err, ErrNotFound) {
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
func TestEntriesOrderAndEarlyStop(t *testing.T) {
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

func TestLastComplete(t *testing.T) {
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

func count(t *testing.T, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []int64
	for i := 0; i < 5; i++ {
		r := sampleResult(t)
		r.Started = base.AddDate(0, 0, i)
		es := make([]ftpaudit.Entry, 2000)
		for j := range es {
			es[j] = ftpaudit.Entry{Path: fmt.Sprintf("/f%05d", j), Name: fmt.Sprintf("f%05d", j), Type: ftpaudit.TypeFile, Raw: strings.Repeat("x", 100)}
		}
		r.Hosts[0].Entries = es
		id, err := s.Save(ctx, r, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	hostsOf := func(id int64) []int64 {
		sc, err := s.Scan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, h := range sc.Hosts {
			out = append(out, h.ID)
		}
		return out
	}
	gone := append(hostsOf(ids[0]), hostsOf(ids[1])...)

	if n, err := s.Prune(ctx, 0, time.Time{}); err != nil || n != 0 {
		t.Errorf("Prune(no bounds) = %d, %v; want 0", n, err)
	}
	n, err := s.Prune(ctx, 3, time.Time{})
	if err != nil || n != 2 {
		t.Fatalf("Prune(keep 3) = %d, %v; want 2", n, err)
	}
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []int64
	for _, sc := range scans {
		left = append(left, sc.ID)
	}
	if !slices.Equal(left, []int64{ids[4], ids[3], ids[2]}) {
		t.Errorf("after Prune(keep 3): scans %v", left)
	}
	for _, h := range gone {
		for _, table := range []string{"entries", "path_notes", "findings"} {
			if c := count(t, s, "SELECT count(*) FROM "+table+" WHERE host_id = ?", h); c != 0 {
				t.Errorf("host %d: %d rows left in %s", h, c, table)
			}
		}
		if _, err := s.HostResult(ctx, h, false); !errors.Is(err, ErrNotFound) {
			t.Errorf("pruned host %d: %v, want ErrNotFound", h, err)
		}
	}
	if c := count(t, s, "SELECT count(*) FROM findings WHERE scan_id IN (?, ?)", ids[0], ids[1]); c != 0 {
		t.Errorf("%d orphan findings of pruned scans left", c)
	}
	if c := count(t, s, "SELECT count(*) FROM entries"); c != 3*(2000+1) {
		t.Errorf("%d entries left, want %d", c, 3*2001)
	}
	if c := count(t, s, "PRAGMA freelist_count"); c != 0 {
		t.Errorf("%d free pages after prune: not vacuumed", c)
	}

	// By age: scans started before day 3 (ids[2] started on day 2).
	n, err = s.Prune(ctx, 0, base.AddDate(0, 0, 3))
	if err != nil || n != 1 {
		t.Fatalf("Prune(older than day 3) = %d, %v; want 1", n, err)
	}
	// Either bound deletes: keep 1, and nothing is that old.
	n, err = s.Prune(ctx, 1, base.AddDate(-1, 0, 0))
	if err != nil || n != 1 {
		t.Fatalf("Prune(keep 1) = %d, %v; want 1", n, err)
	}
	scans, err = s.Scans(ctx)
	if err != nil || len(scans) != 1 || scans[0].ID != ids[4] {
		t.Fatalf("after pruning: %+v, %v", scans, err)
	}
	if c := count(t, s, "SELECT count(*) FROM entries"); c != 2001 {
		t.Errorf("%d entries left, want 2001", c)
	}
	// Ids are never reused after a prune.
	id, err := s.Save(ctx, sampleResult(t), "")
	if err != nil || id <= ids[4] {
		t.Errorf("save after prune: id %d, %v; want > %d", id, err, ids[4])
	}
}

func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	future := len(migrations) + 5
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", future)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open = %v, want ErrNewerSchema", err)
	}
	msg := err.Error()
	for _, want := range []string{path, "version " + strconv.Itoa(future), "up to " + strconv.Itoa(len(migrations))} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
}

// Opening twice, and by two stores at once, applies migrations once.
func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, path)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	for _, s := range stores {
		if v := count(t, s, "PRAGMA user_version"); v != len(migrations) {
			t.Errorf("user_version %d, want %d", v, len(migrations))
		}
		if id := count(t, s, "PRAGMA application_id"); id != appID {
			t.Errorf("application_id %#x, want %#x", id, appID)
		}
		if m := count(t, s, "SELECT count(*) FROM sqlite_schema WHERE name = 'entries'"); m != 1 {
			t.Errorf("%d entries tables", m)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
	if v := count(t, s, "PRAGMA auto_vacuum"); v != 2 {
		t.Errorf("auto_vacuum %d, want 2 (incremental)", v)
	}
	if v := count(t, s, "PRAGMA foreign_keys"); v != 1 {
		t.Errorf("foreign_keys %d, want 1", v)
	}
	if v := count(t, s, "PRAGMA busy_timeout"); v < 10000 {
		t.Errorf("busy_timeout %d ms, want at least 10 s", v)
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "h?#%20 db") // characters a file: URI must escape
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(context.Background(), sampleResult(t), ""); err != nil {
		t.Fatal(err)
	}
	// SQLite gives its WAL and shared-memory files the database's mode.
	for _, suffix := range []string{"-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path+suffix, got)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "h?#%20 db") {
			t.Errorf("unexpected file %q: the path was not passed exactly", e.Name())
		}
	}
}

func TestNotHistory(t *testing.T) {
	dir := t.TempDir()
	random := make([]byte, 8192)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"random":   random,
		"text":     []byte("# my notes\nnot a database at all\n"),
		"short":    []byte(sqliteMagic),
		"magic":    append([]byte(sqliteMagic), random[:4000]...),
		"truncate": nil, // a real history database cut short, below
	}
	// Another application's databases: one marked with its id, one not.
	for name, setup := range map[string]string{
		"other-app":   "PRAGMA application_id = 1234; CREATE TABLE t (x)",
		"other-plain": "CREATE TABLE t (x)",
	} {
		p := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(setup); err != nil {
			t.Fatal(err)
		}
		db.Close()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	{
		p := filepath.Join(dir, "full")
		s, err := Open(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Save(context.Background(), sampleResult(t), ""); err != nil {
			t.Fatal(err)
		}
		s.Close()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Page 1 intact, the schema's pages gone.
		files["truncate"] = b[:4096+100]
		bad := slices.Clone(b)
		for i := 4096; i < len(bad); i++ {
			bad[i] ^= 0x5a
		}
		files["scrambled"] = bad
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".db")
			if err := os.WriteFile(p, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), p)
			if err == nil {
				// A damaged database may open; it must then fail cleanly.
				defer s.Close()
				_, err = s.Scans(context.Background())
				if err == nil {
					t.Fatalf("%s: opened and listed without error", name)
				}
				t.Log(err)
				if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "damaged") {
					t.Errorf("error %q does not name the file as damaged", err)
				}
				return
			}
			t.Log(err)
			if !errors.Is(err, errNotHistory) || !strings.Contains(err.Error(), p) ||
				!strings.Contains(err.Error(), "is not an ftpaudit history database") {
				t.Errorf("Open = %v; want a not-a-history-database error naming the file", err)
			}
			after, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if name != "truncate" && name != "scrambled" && !bytes.Equal(after, content) {
				t.Errorf("Open changed a file that is not ours")
			}
		})
	}
}

func TestUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	p := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), p) || !errors.Is(err, os.ErrPermission) {
		t.Errorf("Open(unreadable) = %v; want a permission error naming the file", err)
	}
}

func TestOpenDirectoryAndEmptyPath(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(directory) = %v; want an error naming it", err)
	}
	if _, err := Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	for _, c := range []struct{ xdg, want string }{
		{"/state", "/state/ftpaudit/history.db"},
		{"", "/home/u/.local/state/ftpaudit/history.db"},
		{"relative/state", "/home/u/.local/state/ftpaudit/history.db"},
	} {
		t.Setenv("XDG_STATE_HOME", c.xdg)
		got, err := DefaultPath()
		if err != nil || got != c.want {
			t.Errorf("XDG_STATE_HOME=%q: DefaultPath() = %q, %v; want %q", c.xdg, got, err, c.want)
		}
	}
}

// A cancelled save commits nothing and leaves the store usable.
func TestSaveCancelled(t *testing.T) {
	s := openTemp(t)
	r := synthResult(20000, false)
	ctx, cancel := context.WithCancel(context.Background())
	saveHook = func(n int) {
		if n >= 8192 {
			cancel()
		}
	}
	t.Cleanup(func() { saveHook = nil })
	_, err := s.Save(ctx, r, "")
	saveHook = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Save = %v, want context.Canceled", err)
	}
	bg := context.Background()
	if scans, err := s.Scans(bg); err != nil || len(scans) != 0 {
		t.Fatalf("after a cancelled save: %d scans, %v", len(scans), err)
	}
	if c := count(t, s, "SELECT count(*) FROM entries"); c != 0 {
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
	if n := len(newRowPacker(1).args); n > 32 {
		t.Errorf("%d parameters per entry row, want at most 32", n)
	}
	if got, want := strings.Count(insertEntrySQL, "?")+1, len(newRowPacker(1).args); got != want {
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

// Helper process for the tests below: it saves a synthetic scan into the
// database FTPAUDIT_HISTORY_DB and reports on stdout.
//
//   - kill: reports "inserting <n> wal=<bytes>" once many rows are written
//     (and spilled into the WAL file), then goes on slowly until killed.
//   - concurrent: reports "ready", waits for a line on stdin, saves,
//     reports "saved <id>".
//   - diffsetup: saves a scan of n entries and then its variant.
func TestHelperSaveProcess(t *testing.T) {
	mode := os.Getenv("FTPAUDIT_HISTORY_HELPER")
	if mode == "" {
		t.Skip("helper process, run by TestKillMidSave and TestConcurrentSaveProcesses")
	}
	path := os.Getenv("FTPAUDIT_HISTORY_DB")
	n, err := strconv.Atoi(os.Getenv("FTPAUDIT_HISTORY_N"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := synthResult(n, false)
	switch mode {
	case "kill":
		reported := false
		saveHook = func(done int) {
			if !reported && done >= n/2 {
				fi, err := os.Stat(path + "-wal")
				size := int64(-1)
				if err == nil {
					size = fi.Size()
				}
				fmt.Printf("inserting %d wal=%d\n", done, size)
				reported = true
			}
			if reported {
				time.Sleep(200 * time.Millisecond)
			}
		}
	case "diffsetup": // BenchmarkDiff1M: a scan, then its variant
		if _, err := s.Save(ctx, r, "a"); err != nil {
			t.Fatal(err)
		}
		r = nil
		runtime.GC()
		r = synthResult(n, true)
	case "concurrent":
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	id, err := s.Save(ctx, r, mode)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("saved %d\n", id)
}

// helper starts the helper process; lines of its stdout arrive on the
// returned channel, which is closed at its end.
func helper(t *testing.T, mode, db string, n int) (*exec.Cmd, io.WriteCloser, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSaveProcess$", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), "FTPAUDIT_HISTORY_HELPER="+mode, "FTPAUDIT_HISTORY_DB="+db, "FTPAUDIT_HISTORY_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, stdin, lines
}

// waitLine returns the first line with prefix, failing after d.
func waitLine(t *testing.T, lines <-chan string, prefix string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("helper ended without saying %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("helper did not say %q within %v", prefix, d)
		}
	}
}

// A save killed (SIGKILL) in the middle leaves the earlier scans intact and
// no trace of itself, and the next save works.
func TestKillMidSave(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	earlier := synthResult(3000, false)
	id, err := s.Save(ctx, earlier, "earlier")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	n := 120_000
	if raceEnabled {
		n = 60_000
	}
	cmd, _, lines := helper(t, "kill", db, n)
	l := waitLine(t, lines, "inserting ", 2*time.Minute)
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper was not killed mid-save: %v, output after %q: %q", err, l, rest)
	}
	var wal int64
	if _, err := fmt.Sscanf(l[strings.Index(l, "wal="):], "wal=%d", &wal); err != nil || wal <= 0 {
		t.Errorf("%q: the uncommitted rows had not reached the WAL file; the test proves less", l)
	}
	t.Logf("killed after %q", l)

	s, err = Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 1 || scans[0].ID != id || scans[0].Args != "earlier" {
		t.Fatalf("after the kill: scans %+v, want only scan %d", scans, id)
	}
	h := scans[0].Hosts[0]
	if h.Entries != len(earlier.Hosts[0].Entries) {
		t.Errorf("earlier scan: %d entries, want %d", h.Entries, len(earlier.Hosts[0].Entries))
	}
	checkEntries(t, collect(t, s.Entries(ctx, h.ID)), earlier.Hosts[0].Entries)
	if c := count(t, s, "SELECT count(*) FROM entries"); c != len(earlier.Hosts[0].Entries) {
		t.Errorf("%d entries in the table, want %d: the killed save left rows", c, len(earlier.Hosts[0].Entries))
	}
	id2, err := s.Save(ctx, synthResult(1000, true), "after")
	if err != nil {
		t.Fatal(err)
	}
	if id2 <= id {
		t.Errorf("new scan id %d, want > %d", id2, id)
	}
}

// Two processes saving into one database at the same time both land.
func TestConcurrentSaveProcesses(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "h.db")
	n := 50_000
	if raceEnabled {
		n = 20_000
	}
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		lines <-chan string
	}
	var cs []child
	for i := 0; i < 2; i++ {
		cmd, stdin, lines := helper(t, "concurrent", db, n)
		cs = append(cs, child{cmd, stdin, lines})
	}
	for _, c := range cs {
		waitLine(t, c.lines, "ready", time.Minute)
	}
	for _, c := range cs {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for _, c := range cs {
		l := waitLine(t, c.lines, "saved ", 5*time.Minute)
		id, err := strconv.ParseInt(strings.TrimPrefix(l, "saved "), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkScans(t, s, ids, n)
}

// checkScans checks that exactly the scans ids exist, each with one host
// of n entries, all readable.
func checkScans(t *testing.T, s *Store, ids []int64, n int) {
	t.Helper()
	ctx := context.Background()
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, sc := range scans {
		got = append(got, sc.ID)
		if len(sc.Hosts) != 1 || sc.Hosts[0].Entries != n {
			t.Errorf("scan %d: %+v", sc.ID, sc.Hosts)
			continue
		}
		read := 0
		for _, err := range s.Entries(ctx, sc.Hosts[0].ID) {
			if err != nil {
				t.Fatal(err)
			}
			read++
		}
		if read != n {
			t.Errorf("scan %d: read %d entries, want %d", sc.ID, read, n)
		}
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("scans %v, want %v", got, ids)
	}
}

// Two stores of one process saving at the same time both land.
func TestConcurrentStores(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "h.db")
	n := 20_000
	if raceEnabled {
		n = 5_000
	}
	r := synthResult(n, false)
	var wg sync.WaitGroup
	ids := make([]int64, 2)
	errs := make([]error, 2)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, db)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			ids[i], errs[i] = s.Save(ctx, r, "goroutine")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkScans(t, s, ids, n)
}
