package rules

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

func diffAll(t *testing.T, old, cur []ftpaudit.Entry) []Change {
	t.Helper()
	var out []Change
	if err := DiffEntries(SeqOf(old), SeqOf(cur), func(c Change) error { out = append(out, c); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func changeStrings(cs []Change) []string {
	var s []string
	for _, c := range cs {
		s = append(s, fmt.Sprintf("%s %s %s", c.Kind, c.Path, strings.Join(c.Fields, ",")))
	}
	return s
}

func TestDiffEntries(t *testing.T) {
	t0 := time.Date(2021, 3, 4, 10, 30, 0, 0, time.UTC)
	old := hostOf(
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/a.tar.gz", "-rw-r--r--", "root", 100),
		fileE("/pub/b.tar.gz", "-rw-r--r--", "root", 200),
		fileE("/pub/c", "-rw-r--r--", "root", 1),
		dirE("/pub/drop", "drwx-wx-wx", "root"),
		linkE("/pub/l", "a.tar.gz"),
		fileE("/pub/old", "-rw-r--r--", "root", 5),
		fileE("/pub/same", "-rw-r--r--", "root", 5),
	).Entries
	old[1].Modified = t0
	old[7].Modified = t0
	cur := slices.Clone(old)
	cur[0].Size, cur[0].Modified = 8192, t0.Add(time.Hour) // a directory's size and time: not a change
	cur[1].Modified = t0.Add(time.Minute)                  // replaced
	cur[2].Size = 201
	cur[3].Owner = "ftp"
	cur[4].Mode = "drwxrwxrwx"
	cur[5].Extra = &ftpaudit.EntryExtra{Target: "b.tar.gz"}
	cur[7].Modified = time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC) // the same day, shown with a year now
	cur = slices.Delete(cur, 6, 7)                                // /pub/old removed
	cur = append(cur, fileE("/pub/zz new", "-rw-r--r--", "ftp", 9))
	got := changeStrings(diffAll(t, old, cur))
	want := []string{
		"changed /pub/a.tar.gz modified",
		"changed /pub/b.tar.gz size",
		"changed /pub/c owner",
		"changed /pub/drop mode",
		"changed /pub/l target",
		"removed /pub/old ",
		"added /pub/zz new ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes\n got %q\nwant %q", got, want)
	}
	if got := diffAll(t, old, old); len(got) != 0 {
		t.Errorf("a scan against itself: %v", changeStrings(got))
	}
	if got := changeStrings(diffAll(t, nil, old[:2])); !slices.Equal(got, []string{"added /pub ", "added /pub/a.tar.gz "}) {
		t.Errorf("against nothing: %q", got)
	}
}

func TestDiffEntriesRefusesDisorder(t *testing.T) {
	bad := []ftpaudit.Entry{{Path: "/b"}, {Path: "/a"}}
	err := DiffEntries(SeqOf(nil), SeqOf(bad), func(Change) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("err %v, want out of order", err)
	}
	boom := errors.New("boom")
	failing := iter.Seq2[ftpaudit.Entry, error](func(yield func(ftpaudit.Entry, error) bool) {
		if yield(ftpaudit.Entry{Path: "/a"}, nil) {
			yield(ftpaudit.Entry{}, boom)
		}
	})
	if err := DiffEntries(failing, SeqOf(nil), func(Change) error { return nil }); !errors.Is(err, boom) {
		t.Errorf("err %v, want the stream's error", err)
	}
}

func TestSameTime(t *testing.T) {
	d := func(h, m, s int) time.Time { return time.Date(2026, 5, 20, h, m, s, 0, time.UTC) }
	cases := []struct {
		a, b time.Time
		same bool
	}{
		{d(10, 0, 0), d(10, 0, 0), true},
		{d(10, 0, 0), d(0, 0, 0), true},   // "May 20 10:00" then "May 20 2026"
		{d(10, 0, 0), d(10, 1, 0), false}, // replaced a minute later
		{d(10, 0, 33), d(10, 0, 0), true}, // MLSD seconds against LIST minutes
		{d(10, 0, 33), d(10, 0, 34), false},
		{d(10, 0, 0), d(10, 0, 0).AddDate(0, 0, 1), false},
		{time.Time{}, d(1, 2, 3), true},
	}
	for _, c := range cases {
		if got := sameTime(c.a, c.b); got != c.same {
			t.Errorf("sameTime(%v, %v) = %v", c.a, c.b, got)
		}
	}
}

func TestBaselineJudge(t *testing.T) {
	pol, err := ParsePolicy([]byte("version: 1\ndrop_boxes: [\"/incoming\"]\nignore: [\"/pub/ignored\"]\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := hostOf(
		dirE("/incoming", "drwx-wx-wt", "root"),
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/a.tar.gz", "-rw-r--r--", "root", 100),
		dirE("/pub/gone", "drwxr-xr-x", "root"),
		fileE("/pub/gone/x", "-rw-r--r--", "root", 1),
		fileE("/pub/ignored", "-rw-r--r--", "root", 1),
		dirE("/pub/open", "drwxr-xr-x", "root"),
		dirE("/secret", "drwxr-xr-x", "root"),
		fileE("/secret/s", "-rw-r--r--", "root", 1),
	).Entries
	cur := withUnreadable(hostOf(
		dirE("/incoming", "drwx-wx-wt", "root"),
		fileE("/incoming/upload.zip", "-rw-------", "ftp", 5),
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/a.tar.gz", "-rw-r--r--", "root", 666),
		fileE("/pub/ignored", "-rw-r--r--", "root", 2),
		dirE("/pub/open", "drwxrwxrwx", "root"),
		fileE("/pub/warez.rar", "-rw-r--r--", "ftp", 5),
		dirE("/secret", "d--x--x--x", "root"),
	), "/secret")
	// Fed as the CLI fed it (SeqOf of Entries), and with HostSeq from
	// Entries and from a Source: the same findings and report.
	for _, feed := range []struct {
		name string
		h    *ftpaudit.HostResult
		seq  func(h *ftpaudit.HostResult) iter.Seq2[ftpaudit.Entry, error]
	}{
		{"SeqOf", cur, func(h *ftpaudit.HostResult) iter.Seq2[ftpaudit.Entry, error] { return SeqOf(h.Entries) }},
		{"HostSeq of Entries", cur, HostSeq},
		{"HostSeq of a Source", viaSource(cur), HostSeq},
	} {
		t.Run(feed.name, func(t *testing.T) {
			j := NewBaselineJudge(feed.h, Baseline{ScanID: 7, Started: time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)}, pol)
			if err := DiffEntries(SeqOf(old), j.Tap(feed.seq(feed.h)), func(c Change) error { j.Add(c); return nil }); err != nil {
				t.Fatal(err)
			}
			fs, rep := j.Finish()
			var got []string
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%s %s %s", f.Severity, f.Rule, f.Path))
				if !strings.Contains(strings.Join(f.Evidence, "; "), "scan 7 of 2026-11-01T03:00:00Z") {
					t.Errorf("%s %s: evidence does not name the baseline: %q", f.Rule, f.Path, f.Evidence)
				}
			}
			want := []string{
				"critical permission-changed /pub/open",
				"high changed-since-baseline /pub/a.tar.gz",
				"high new-since-baseline /pub/warez.rar",
				"medium removed-since-baseline /pub/gone",
				"medium removed-since-baseline /pub/gone/x",
				"medium permission-changed /secret",
				"low new-since-baseline /incoming/upload.zip",
			}
			if !slices.Equal(got, want) {
				t.Errorf("findings\n got %q\nwant %q", got, want)
			}
			// /secret/s is below a directory this scan could not list: unknown,
			// not removed.
			if rep.Added != 2 || rep.Removed != 2 || rep.Changed != 3 || rep.NotCompared != 1 || !slices.Equal(rep.NotComparedDirs, []string{"/secret"}) {
				t.Errorf("report %+v", rep)
			}
		})
	}
}

// An early stop (emit fails) ends the read-ahead goroutine before
// DiffEntries returns.
func TestDiffEntriesStopsReadAhead(t *testing.T) {
	exited := make(chan struct{})
	many := iter.Seq2[ftpaudit.Entry, error](func(yield func(ftpaudit.Entry, error) bool) {
		defer close(exited)
		for i := 0; i < 100000; i++ {
			if !yield(ftpaudit.Entry{Path: fmt.Sprintf("/f%06d", i)}, nil) {
				return
			}
		}
	})
	stop := errors.New("stop")
	err := DiffEntries(many, SeqOf(nil), func(Change) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err %v", err)
	}
	select {
	case <-exited:
	default:
		t.Error("the baseline stream was still running after DiffEntries returned")
	}
}
