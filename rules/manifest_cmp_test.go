package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/manifest"
)

// ---- helpers ----

// mfEntry is a ManifestEntry in short form for comparisons.
func mfD(p string) ftpaudit.Entry {
	return ftpaudit.Entry{Path: p, Name: baseNameOf(p), Type: ftpaudit.TypeDir, Size: 4096, Mode: "drwxr-xr-x"}
}

func mfF(p string, size int64) ftpaudit.Entry {
	return ftpaudit.Entry{Path: p, Name: baseNameOf(p), Type: ftpaudit.TypeFile, Size: size, Mode: "-rw-r--r--"}
}

func mfL(p, target string) ftpaudit.Entry {
	return ftpaudit.Entry{Path: p, Name: baseNameOf(p), Type: ftpaudit.TypeLink, Size: int64(len(target)), Mode: "lrwxrwxrwx", Extra: &ftpaudit.EntryExtra{Target: target}}
}

func baseNameOf(p string) string { _, n := ftppath.Split(p); return n }

func mfHostResult(es ...ftpaudit.Entry) *ftpaudit.HostResult {
	h := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: mfHost, Start: "/"}, Complete: true, Entries: es}
	slices.SortFunc(h.Entries, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return h
}

func mfPolicy(t *testing.T, y string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(y), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mfSummary renders findings as "severity rule path".
func mfSummary(fs []ftpaudit.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s %s %s", f.Severity, f.Rule, f.Path)
	}
	slices.Sort(out)
	return out
}

func mfFind(t *testing.T, fs []ftpaudit.Finding, rule, path string) ftpaudit.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule && f.Path == path {
			return f
		}
	}
	t.Fatalf("no %s finding for %q", rule, path)
	return ftpaudit.Finding{}
}

func mfHasEvidence(t *testing.T, f ftpaudit.Finding, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(f.Evidence, func(ev string) bool { return strings.Contains(ev, w) }) {
			t.Errorf("%s %s: no evidence containing %q in %q", f.Rule, f.Path, w, f.Evidence)
		}
	}
}

// The ls-lR of the test archive's root (the manifest at /ls-lR).
const mfRootLsLR = `.:
total 9
-rw-r--r--   1 ftp ftp       1234 Mar  3  2023 README
-rw-r--r--   1 ftp ftp          0 Jan 10 09:12 ls-lR
drwxr-xr-x   4 ftp ftp       4096 Jan  9 18:00 gnu
drwxr-xr-x   8 ftp ftp       4096 Jan  9 18:00 pub

./gnu:
drwxr-xr-x   2 ftp ftp       4096 Jan  9 18:00 hello
drwxr-xr-x   2 ftp ftp       4096 Jan  9 18:00 gone

./gnu/hello:
-rw-r--r--   1 ftp ftp    1013376 Jan  9 18:00 hello-2.12.1.tar.gz
-rw-r--r--   1 ftp ftp        500 Jan  9 18:00 old.tar.gz

./gnu/gone:
-rw-r--r--   1 ftp ftp          1 Jan  9 18:00 a
-rw-r--r--   1 ftp ftp          2 Jan  9 18:00 b

./pub:
drwx-wx-wx   2 ftp ftp       4096 Jan  9 18:00 incoming
drwx------   2 ftp ftp       4096 Jan  9 18:00 private
drwxr-xr-x   2 ftp ftp       4096 Jan  9 18:00 err
drwxr-xr-x   2 ftp ftp       4096 Jan  9 18:00 sub
drwxr-xr-x   2 ftp ftp       4096 Jan  9 18:00 typechg
lrwxrwxrwx   1 ftp ftp          1 Jan  9 18:00 link -> x
-rw-r--r--   1 ftp ftp         12 Jan  9 18:00 SHA256SUMS

./pub/private:
-rw-------   1 ftp ftp         10 Jan  9 18:00 secret.txt

./pub/err:
-rw-r--r--   1 ftp ftp         10 Jan  9 18:00 x

./pub/sub:
-rw-r--r--   1 ftp ftp         10 Jan  9 18:00 data.bin

./tmp:
-rw-r--r--   1 ftp ftp         10 Jan  9 18:00 a
`

func mfRootManifests(t *testing.T) []*ftpaudit.Manifest {
	t.Helper()
	h := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	sums := h + "  release.iso\n" + h + "  sub/data.bin\n" + h + "  missing.iso\n"
	return []*ftpaudit.Manifest{mustParseManifest(t, "/ls-lR", mfRootLsLR), mustParseManifest(t, "/pub/SHA256SUMS", sums)}
}

func mfRootHost() *ftpaudit.HostResult {
	h := mfHostResult(
		mfF("/README", 1234),
		mfF("/ls-lR", 5555), // the manifest itself: not compared
		mfF("/ls-lR.gz", 99),
		mfD("/gnu"),
		mfD("/gnu/hello"),
		mfF("/gnu/hello/hello-2.12.1.tar.gz", 999),
		mfF("/gnu/hello/evil.tar.gz", 66),
		mfD("/gnu/newdir"),
		mfF("/gnu/newdir/x", 1),
		mfD("/pub"),
		mfL("/pub/link", "x"),
		mfD("/pub/incoming"),
		mfF("/pub/incoming/upload.zip", 7),
		mfD("/pub/private"),
		mfF("/pub/private/leak", 1), // below an unreadable directory
		mfD("/pub/err"),
		mfF("/pub/release.iso", 100),
		mfF("/pub/SHA256SUMS", 12),
		mfF("/pub/SHA256SUMS.gpg", 12),
		mfD("/pub/sub"),
		mfF("/pub/sub/data.bin", 10),
		mfF("/pub/sub/extra.bin", 10),
		mfF("/pub/typechg", 3),
		mfD("/tmp"),
		mfF("/tmp/junk", 1),
	)
	h.Unreadable = []ftpaudit.PathError{{Path: "/pub/private", Error: "550 Permission denied"}}
	h.Errors = []ftpaudit.PathError{{Path: "/pub/err", Error: "425 Can't open data connection"}}
	return h
}

const mfRootPolicy = `
drop_boxes: ["/pub/incoming"]
ignore: ["/tmp"]
`

func TestManifestFindings(t *testing.T) {
	h := mfRootHost()
	h.Complete = false
	h.Incomplete = []string{"listings failed"}
	fs := manifestBothWays(t, h, mfRootManifests(t), mfPolicy(t, mfRootPolicy))
	eqLines(t, "findings", mfSummary(fs), []string{
		"high not-in-manifest /gnu/hello/evil.tar.gz",
		"high not-in-manifest /gnu/hello/hello-2.12.1.tar.gz",
		"high not-in-manifest /gnu/newdir",
		"high not-in-manifest /gnu/newdir/x",
		"high not-in-manifest /pub/sub/extra.bin",
		"high not-in-manifest /pub/typechg",
		"low not-in-manifest /pub/incoming/upload.zip",
		"medium missing-from-archive /gnu/gone",
		"medium missing-from-archive /gnu/hello/old.tar.gz",
		"medium missing-from-archive /pub/missing.iso",
	})
	for _, f := range fs {
		if f.Host != mfHost || f.Action == "" || len(f.Evidence) == 0 {
			t.Errorf("%+v", f)
		}
	}

	f := mfFind(t, fs, ftpaudit.RuleNotInManifest, "/gnu/hello/hello-2.12.1.tar.gz")
	mfHasEvidence(t, f, "listed in /ls-lR line 13 as a 1013376-byte file; the archive has 999 bytes")
	if f.Size != 999 {
		t.Errorf("size %d", f.Size)
	}
	mfHasEvidence(t, mfFind(t, fs, ftpaudit.RuleNotInManifest, "/gnu/hello/evil.tar.gz"), "not listed in /ls-lR (ls-lR index of /)")
	mfHasEvidence(t, mfFind(t, fs, ftpaudit.RuleNotInManifest, "/pub/typechg"), "listed in /ls-lR line 25 as a directory; the archive has a file")
	f = mfFind(t, fs, ftpaudit.RuleNotInManifest, "/pub/sub/extra.bin")
	mfHasEvidence(t, f, "not listed in /ls-lR", "not listed in /pub/SHA256SUMS (checksum index of /pub)")
	f = mfFind(t, fs, ftpaudit.RuleNotInManifest, "/pub/incoming/upload.zip")
	mfHasEvidence(t, f, "inside the declared drop box /pub/incoming", "not listed in /ls-lR", "not listed in /pub/SHA256SUMS")

	f = mfFind(t, fs, ftpaudit.RuleMissingManifest, "/gnu/gone")
	mfHasEvidence(t, f, "listed in /ls-lR (ls-lR index of /) line 10 as a directory", "the scan listed /gnu and it is not there",
		"the index lists 2 more entries below it", "the scan was incomplete (listings failed), but it listed /gnu in full")
	f = mfFind(t, fs, ftpaudit.RuleMissingManifest, "/gnu/hello/old.tar.gz")
	mfHasEvidence(t, f, "line 14 as a 500-byte file")
	if f.Size != 500 {
		t.Errorf("missing size %d", f.Size)
	}
	f = mfFind(t, fs, ftpaudit.RuleMissingManifest, "/pub/missing.iso")
	mfHasEvidence(t, f, "listed in /pub/SHA256SUMS (checksum index of /pub) line 3 as a file with SHA-256 digest e3b0c442")
	if f.Size != -1 {
		t.Errorf("missing size %d", f.Size)
	}

	// Complete scan: no word about incompleteness.
	h = mfRootHost()
	fs = manifestBothWays(t, h, mfRootManifests(t), mfPolicy(t, mfRootPolicy))
	for _, f := range fs {
		for _, ev := range f.Evidence {
			if strings.Contains(ev, "incomplete") {
				t.Errorf("%s: %q", f.Path, ev)
			}
		}
	}
	if len(fs) != 10 {
		t.Errorf("complete scan: %q", mfSummary(fs))
	}
}

func TestManifestFindingsPolicy(t *testing.T) {
	// Without a policy the drop box is not one and /tmp is compared.
	fs := manifestBothWays(t, mfRootHost(), mfRootManifests(t), nil)
	got := mfSummary(fs)
	for _, want := range []string{"high not-in-manifest /pub/incoming/upload.zip", "high not-in-manifest /tmp", "high not-in-manifest /tmp/junk", "medium missing-from-archive /tmp/a"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
	// Severity overrides and rules turned off.
	fs = manifestBothWays(t, mfRootHost(), mfRootManifests(t), mfPolicy(t, mfRootPolicy+"severity:\n  not-in-manifest: critical\n  missing-from-archive: off\n"))
	for _, f := range fs {
		if f.Rule != ftpaudit.RuleNotInManifest || f.Severity != ftpaudit.SevCritical {
			t.Errorf("%s %s %s", f.Severity, f.Rule, f.Path)
		}
	}
	if len(fs) != 7 {
		t.Errorf("%q", mfSummary(fs))
	}
	// Host entries in policy ignore globs per host.
	p := mfPolicy(t, "hosts:\n  - match: \""+mfHost+"\"\n    ignore: [\"/gnu\", \"/pub\", \"/tmp\"]\n")
	if fs := manifestBothWays(t, mfRootHost(), mfRootManifests(t), p); len(fs) != 0 {
		t.Errorf("all ignored: %q", mfSummary(fs))
	}
}

func TestManifestFindingsNothingKnowable(t *testing.T) {
	// Nothing at all: no findings, no panic.
	if fs := manifestBothWays(t, nil, mfRootManifests(t), nil); fs != nil {
		t.Error(fs)
	}
	if fs := manifestBothWays(t, mfRootHost(), nil, nil); fs != nil {
		t.Error(fs)
	}
	// The scan started below the manifest: what it did not list cannot
	// be missing.
	h := mfHostResult(mfF("/pub/sub/data.bin", 10), mfF("/pub/sub/new", 1))
	h.Target.Start = "/pub/sub"
	fs := manifestBothWays(t, h, mfRootManifests(t), nil)
	eqLines(t, "start below", mfSummary(fs), []string{"high not-in-manifest /pub/sub/new"})
	// A manifest that lists nothing says nothing.
	empty := mustParseManifest(t, "/SHA256SUMS", "garbage\n")
	if fs := manifestBothWays(t, mfHostResult(mfF("/a", 1)), []*ftpaudit.Manifest{empty}, nil); len(fs) != 0 {
		t.Errorf("empty manifest: %q", mfSummary(fs))
	}
	// Failed, partial and undescended listings hide what is missing.
	m := mustParseManifest(t, "/ls-lR", "d:\n-rw-r--r-- 1 a b 1 Jan 1 2020 x\n\ne:\n-rw-r--r-- 1 a b 1 Jan 1 2020 y\n\ne/f:\n-rw-r--r-- 1 a b 1 Jan 1 2020 z\n\ng:\n-rw-r--r-- 1 a b 1 Jan 1 2020 w\n")
	h = mfHostResult(mfD("/d"), mfD("/e"), mfD("/e/f"), mfD("/g"))
	h.Errors = []ftpaudit.PathError{{Path: "/d", Error: "unparsed listing line: bad: ?"}}
	h.Notes = []ftpaudit.PathError{{Path: "/e", Error: "lists exactly like one of its ancestors (a loop); not descended"},
		{Path: "/g", Error: "MLSD showed names that LIST -a did not"}}
	fs = manifestBothWays(t, h, []*ftpaudit.Manifest{m}, nil)
	eqLines(t, "blind", mfSummary(fs), []string{
		"high not-in-manifest /d", "high not-in-manifest /e", "high not-in-manifest /e/f", "high not-in-manifest /g",
		"medium missing-from-archive /g/w",
	})
}

func TestManifestFindingsFlatSums(t *testing.T) {
	h := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	m := mustParseManifest(t, "/pub/iso/SHA256SUMS", h+"  a.iso\n"+h+" *b.iso\n")
	host := mfHostResult(
		mfD("/pub"), mfD("/pub/iso"),
		mfF("/pub/iso/a.iso", 1), mfF("/pub/iso/b.iso", 2), mfF("/pub/iso/c.iso", 3),
		mfF("/pub/iso/SHA256SUMS", 4), mfF("/pub/iso/SHA256SUMS.sign", 4), mfF("/pub/iso/MD5SUMS", 4),
		mfF("/pub/iso/c.iso.sha256", 4),
		mfL("/pub/iso/latest.iso", "a.iso"),
		mfD("/pub/iso/sub"), mfF("/pub/iso/sub/other", 1), // a flat list says nothing about subdirectories
		mfF("/pub/outside", 1),
	)
	fs := manifestBothWays(t, host, []*ftpaudit.Manifest{m}, nil)
	eqLines(t, "flat", mfSummary(fs), []string{"high not-in-manifest /pub/iso/c.iso", "high not-in-manifest /pub/iso/c.iso.sha256"})

	// A recursive list covers subdirectories, files only.
	m = mustParseManifest(t, "/pub/iso/SHA256SUMS", h+"  a.iso\n"+h+"  sub/x\n")
	fs = manifestBothWays(t, host, []*ftpaudit.Manifest{m}, nil)
	eqLines(t, "recursive", mfSummary(fs), []string{
		"high not-in-manifest /pub/iso/b.iso", "high not-in-manifest /pub/iso/c.iso", "high not-in-manifest /pub/iso/c.iso.sha256",
		"high not-in-manifest /pub/iso/sub/other", "medium missing-from-archive /pub/iso/sub/x",
	})
}

func TestManifestFindingsRebase(t *testing.T) {
	const f1 = "-rw-r--r-- 1 a b 1 Jan 1 2020 "
	// Server paths at the root: the archive has no /srv, so they are
	// read relative to /.
	m := mustParseManifest(t, "/ls-lR", "/srv/ftp:\n"+f1+"ls-lR\n"+f1+"a\n"+f1+"gone\n")
	host := mfHostResult(mfF("/ls-lR", 1), mfF("/a", 1), mfF("/new", 1))
	fs := manifestBothWays(t, host, []*ftpaudit.Manifest{m}, nil)
	eqLines(t, "rebased", mfSummary(fs), []string{"high not-in-manifest /new", "medium missing-from-archive /gone"})
	mfHasEvidence(t, mfFind(t, fs, ftpaudit.RuleNotInManifest, "/new"), "the archive has no /srv/ftp, so its paths under /srv/ftp are taken as the server's")

	// Archive paths: /pub exists, so the index covers /pub only.
	m = mustParseManifest(t, "/ls-lR", "/pub:\n"+f1+"a\n")
	host = mfHostResult(mfD("/pub"), mfF("/pub/a", 1), mfF("/pub/new", 1), mfF("/other", 1))
	fs = manifestBothWays(t, host, []*ftpaudit.Manifest{m}, nil)
	eqLines(t, "archive paths", mfSummary(fs), []string{"high not-in-manifest /pub/new"})
}

func TestManifestFindingsDotNames(t *testing.T) {
	const f1 = "-rw-r--r-- 1 a b 1 Jan 1 2020 "
	host := mfHostResult(mfF("/a", 1), mfF("/.message", 1), mfD("/pub"), mfD("/pub/.x"), mfF("/pub/.x/y", 1), mfF("/pub/z", 1))
	// Built without -a: no dot name could be listed.
	m := mustParseManifest(t, "/ls-lR", f1+"a\n"+"drwxr-xr-x 2 a b 1 Jan 1 2020 pub\n")
	fs := manifestBothWays(t, host, []*ftpaudit.Manifest{m}, nil)
	eqLines(t, "without -a", mfSummary(fs), []string{
		"high not-in-manifest /.message", "high not-in-manifest /pub/.x", "high not-in-manifest /pub/.x/y", "high not-in-manifest /pub/z",
	})
	for _, f := range fs {
		if got := slices.Contains(f.Evidence, manifestDotNote); got != (f.Path != "/pub/z") {
			t.Errorf("%s: dot note %v: %q", f.Path, got, f.Evidence)
		}
	}
	// Built with -a: it would have listed them.
	m = mustParseManifest(t, "/ls-lR", f1+".banner\n"+f1+"a\n"+"drwxr-xr-x 2 a b 1 Jan 1 2020 pub\n")
	for _, f := range manifestBothWays(t, host, []*ftpaudit.Manifest{m}, nil) {
		if slices.Contains(f.Evidence, manifestDotNote) {
			t.Errorf("%s: dot note with an index that lists dot names", f.Path)
		}
	}
}

// mfLarge builds an archive of dirs directories of per files each, and
// an ls-lR at its root listing every other file.
func mfLarge(t testing.TB, dirs, per int) (*ftpaudit.HostResult, *ftpaudit.Manifest) {
	var b strings.Builder
	es := make([]ftpaudit.Entry, 0, dirs*(per+1))
	b.WriteString(".:\n")
	for d := 0; d < dirs; d++ {
		fmt.Fprintf(&b, "drwxr-xr-x 2 a b 4096 Jan 1 2020 d%04d\n", d)
		es = append(es, mfD(fmt.Sprintf("/d%04d", d)))
	}
	for d := 0; d < dirs; d++ {
		fmt.Fprintf(&b, "\n./d%04d:\n", d)
		for i := 0; i < per; i++ {
			if i%2 == 0 {
				fmt.Fprintf(&b, "-rw-r--r-- 1 a b 10 Jan 1 2020 f%04d\n", i)
			}
			es = append(es, mfF(fmt.Sprintf("/d%04d/f%04d", d, i), 10))
		}
	}
	m, err := manifest.Parse("/ls-lR", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return mfHostResult(es...), m
}

// TestManifestFindingsLarge guards against quadratic comparison: 200,000
// entries, half of them in the index, compared well within the test's
// time (a quadratic comparison of this many takes minutes). Under the
// race detector or -short it compares 20,000: still every entry judged
// and every finding checked, in a fraction of the time; the plain run
// keeps guarding the scale.
func TestManifestFindingsLarge(t *testing.T) {
	dirs, per := 400, 500
	if raceEnabled || testing.Short() {
		dirs, per = 100, 200
	}
	h, m := mfLarge(t, dirs, per)
	start := time.Now()
	fs := manifestBothWays(t, h, []*ftpaudit.Manifest{m}, nil)
	took := time.Since(start)
	if len(fs) != dirs*per/2 {
		t.Errorf("%d findings, want %d", len(fs), dirs*per/2)
	}
	// Every odd-numbered file, and nothing else, is not in the index.
	for _, f := range fs {
		var d, i int
		if _, err := fmt.Sscanf(f.Path, "/d%04d/f%04d", &d, &i); err != nil || i%2 != 1 || f.Rule != ftpaudit.RuleNotInManifest || f.Severity != ftpaudit.SevHigh {
			t.Fatalf("unexpected finding %s %s %s", f.Severity, f.Rule, f.Path)
		}
	}
	t.Logf("%d entries compared in %v", len(h.Entries), took)
}

// BenchmarkManifestFindings compares 1,000,000 entries with an ls-lR
// listing half of them.
func BenchmarkManifestFindings(b *testing.B) {
	h, m := mfLarge(b, 1000, 1000)
	b.ResetTimer()
	for b.Loop() {
		ManifestFindings(h, []*ftpaudit.Manifest{m}, nil)
	}
}
func mustParseManifest(t *testing.T, mpath, data string) *ftpaudit.Manifest {
	t.Helper()
	m, err := manifest.Parse(mpath, []byte(data))
	if err != nil {
		t.Fatalf("ParseManifest(%q): %v", mpath, err)
	}
	return m
}

func eqLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

const mfHost = "ftp://ftp.example.org:21"
