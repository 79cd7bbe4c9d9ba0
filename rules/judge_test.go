package rules

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/docblock"
)

const testHost = "ftp://127.0.0.1:2121"

// Entry builders. The group is the owner unless given as "owner:group".

func owners(og string) (string, string) {
	if o, g, ok := strings.Cut(og, ":"); ok {
		return o, g
	}
	return og, og
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func dirE(path, mode, og string) ftpaudit.Entry {
	o, g := owners(og)
	return ftpaudit.Entry{Path: path, Name: baseName(path), Type: ftpaudit.TypeDir, Mode: mode, Owner: o, Group: g, Size: 4096}
}

func fileE(path, mode, og string, size int64) ftpaudit.Entry {
	o, g := owners(og)
	return ftpaudit.Entry{Path: path, Name: baseName(path), Type: ftpaudit.TypeFile, Mode: mode, Owner: o, Group: g, Size: size}
}

func linkE(path, target string) ftpaudit.Entry {
	return ftpaudit.Entry{Path: path, Name: baseName(path), Type: ftpaudit.TypeLink, Mode: "lrwxrwxrwx", Owner: "root", Group: "root", Size: int64(len(target)), Extra: &ftpaudit.EntryExtra{Target: target}}
}

func withPerm(e ftpaudit.Entry, perm string) ftpaudit.Entry {
	e.Extra = &ftpaudit.EntryExtra{Perm: perm, Facts: map[string]string{"perm": perm}}
	return e
}

func hostOf(entries ...ftpaudit.Entry) *ftpaudit.HostResult {
	h := &ftpaudit.HostResult{
		Target:  ftpaudit.Target{URL: testHost, Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"},
		Info:    ftpaudit.ServerInfo{Banner: "220 test", Login: "anonymous"},
		Entries: entries,
	}
	slices.SortFunc(h.Entries, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return h
}

func withUnreadable(h *ftpaudit.HostResult, paths ...string) *ftpaudit.HostResult {
	for _, p := range paths {
		h.Unreadable = append(h.Unreadable, ftpaudit.PathError{Path: p, Error: "550 Permission denied"})
	}
	return h
}

// sum renders findings as "severity rule path" lines.
func sum(fs []ftpaudit.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s", f.Severity, f.Rule, f.Path))
	}
	return out
}

// only keeps the findings of the given rules.
func only(fs []ftpaudit.Finding, rules ...string) []ftpaudit.Finding {
	var out []ftpaudit.Finding
	for _, f := range fs {
		if slices.Contains(rules, f.Rule) {
			out = append(out, f)
		}
	}
	return out
}

func find(t *testing.T, fs []ftpaudit.Finding, rule, path string) ftpaudit.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule && f.Path == path {
			return f
		}
	}
	t.Fatalf("no %s finding for %q in\n%s", rule, path, strings.Join(sum(fs), "\n"))
	return ftpaudit.Finding{}
}

func mustPolicy(t *testing.T, y string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(y), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func hasEvidence(t *testing.T, f ftpaudit.Finding, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(f.Evidence, w) {
			t.Errorf("%s %s: evidence lacks %q; has:\n  %s", f.Rule, f.Path, w, strings.Join(f.Evidence, "\n  "))
		}
	}
}

// checkInvariants: every finding has evidence and an action, and the
// output is sorted.
func checkInvariants(t *testing.T, fs []ftpaudit.Finding) {
	t.Helper()
	for _, f := range fs {
		if len(f.Evidence) == 0 || f.Action == "" || f.Host != testHost {
			t.Errorf("finding without evidence, action or host: %+v", f)
		}
		for _, ev := range f.Evidence {
			if ev == "" {
				t.Errorf("empty evidence line in %+v", f)
			}
		}
	}
	c := slices.Clone(fs)
	ftpaudit.SortFindings(c)
	for i := range c {
		if c[i].Rule != fs[i].Rule || c[i].Path != fs[i].Path {
			t.Errorf("findings not sorted")
			break
		}
	}
}

// judgeT judges h, checking the findings' invariants, and that h's
// entries in a Source give the same findings (judgeBothWays).
func judgeT(t *testing.T, h *ftpaudit.HostResult, p *Policy, rules ...string) []ftpaudit.Finding {
	t.Helper()
	fs := judgeBothWays(t, h, p)
	checkInvariants(t, fs)
	if len(rules) > 0 {
		fs = only(fs, rules...)
	}
	return fs
}

func TestIgnoreAndOverrides(t *testing.T) {
	mk := func() *ftpaudit.HostResult {
		return hostOf(
			dirE("/incoming", "drwxrwxrwx", "root"),
			fileE("/incoming/a.nfo", "-rw-r--r--", "ftp", 1),
			dirE("/pub", "drwxr-xr-x", "root"),
			fileE("/pub/NOTICE", "-rw-rw-rw-", "root", 1),
		)
	}
	eq(t, "defaults", sum(judgeT(t, mk(), nil)), []string{
		"critical writable-dir /incoming",
		"high suspicious-name /incoming/a.nfo",
		"high world-writable-file /pub/NOTICE",
		"medium in-writable-area /incoming/a.nfo",
		"info anonymous-login /",
	})
	p := mustPolicy(t, `
ignore: ["/incoming/**"]
severity:
  world-writable-file: low
  anonymous-login: off
`)
	eq(t, "ignored and overridden", sum(judgeT(t, mk(), p)), []string{"low world-writable-file /pub/NOTICE"})
	p = mustPolicy(t, `hosts: [{match: "FTP://127.0.0.1:2121", ignore: ["/incoming/*.nfo"]}]`)
	eq(t, "per-host ignore, host case-insensitive", sum(judgeT(t, mk(), p)), []string{
		"critical writable-dir /incoming",
		"high world-writable-file /pub/NOTICE",
		"info anonymous-login /",
	})
}

func TestSortFindings(t *testing.T) {
	fs := []ftpaudit.Finding{
		{Host: "ftp://b:21", Path: "/a", Rule: "hidden-name", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/z", Rule: "unreadable-dir", Severity: ftpaudit.SevInfo},
		{Host: "ftp://a:21", Path: "/b", Rule: "writable-dir", Severity: ftpaudit.SevCritical},
		{Host: "ftp://a:21", Path: "/a", Rule: "upload-owner", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/a", Rule: "hidden-name", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/a b", Rule: "hidden-name", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/", Rule: "anonymous-login", Severity: ftpaudit.SevInfo},
	}
	ftpaudit.SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %s %s %s", f.Severity, f.Host, f.Path, f.Rule))
	}
	eq(t, "order", got, []string{
		"critical ftp://a:21 /b writable-dir",
		"high ftp://a:21 /a hidden-name",
		"high ftp://a:21 /a upload-owner",
		"high ftp://a:21 /a b hidden-name",
		"high ftp://b:21 /a hidden-name",
		"info ftp://a:21 / anonymous-login",
		"info ftp://a:21 /z unreadable-dir",
	})
}

func TestRuleCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range ftpaudit.Rules {
		if seen[r.ID] || r.Explanation == "" || r.Action == "" {
			t.Errorf("rule %+v: duplicate or undocumented", r)
		}
		seen[r.ID] = true
		if got, ok := ftpaudit.RuleByID(r.ID); !ok || got.ID != r.ID {
			t.Errorf("RuleByID(%q)", r.ID)
		}
	}
	if _, ok := ftpaudit.RuleByID("nope"); ok {
		t.Error("RuleByID(nope) found")
	}
	if len(ftpaudit.Rules) != 21 {
		t.Errorf("%d rules", len(ftpaudit.Rules))
	}
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated blocks of docs/ from the code")

// rulesMarkdownTable is the rule table of docs/findings.md, from the
// catalogue ftpaudit.Rules.
func rulesMarkdownTable() string {
	var b strings.Builder
	b.WriteString("| rule | default severity | what it means | what to do |\n|---|---|---|---|\n")
	for _, r := range ftpaudit.Rules {
		b.WriteString("| `" + r.ID + "` | " + r.Severity.String() + " | " + r.Explanation + " | " + r.Action + " |\n")
	}
	return b.String()
}

// TestRulesDoc checks that docs/findings.md holds the rule catalogue as
// the code has it; go generate (-update-docs) rewrites it.
func TestRulesDoc(t *testing.T) {
	if err := docblock.Sync("../docs/findings.md", "rules", rulesMarkdownTable(), *updateDocs); err != nil {
		t.Error(err)
	}
}

// TestDemoLikeArchive judges an archive shaped like testdata/demo: every
// finding, exactly.
func TestDemoLikeArchive(t *testing.T) {
	h := withUnreadable(hostOf(
		fileE("/README", "-rw-r--r--", "root", 1893),
		dirE("/bin", "d--x--x--x", "root"),
		dirE("/etc", "d--x--x--x", "root"),
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/welcome.msg", "-rw-r--r--", "ftp", 312),
		fileE("/pub/NOTICE.txt", "-rw-rw-rw-", "root", 58),
		fileE("/pub/\x1b[31mURGENT\x1b[0m-read-me.txt", "-rw-r--r--", "root", 46),
		dirE("/pub/gnu", "drwxr-xr-x", "root"),
		linkE("/pub/gnu/gnu", "../gnu"),
		linkE("/pub/linux-etc", "/etc"),
		dirE("/incoming", "drwxrwxrwx", "root:ftp"),
		fileE("/incoming/test.txt", "-rw-r--r--", "ftp", 0),
		dirE("/incoming/0day", "drwxr-xr-x", "ftp"),
		fileE("/incoming/0day/file_id.diz", "-rw-r--r--", "ftp", 1262),
		fileE("/incoming/0day/keygen.exe", "-rw-r--r--", "ftp", 412672),
		dirE("/incoming/...", "drwxr-xr-x", "ftp"),
		dirE("/incoming/.../  ", "drwxr-xr-x", "ftp"),
		fileE("/incoming/.../  /Win10.Pro.x64.Activated.iso", "-rw-r--r--", "ftp", 4700372992),
		dirE("/dropbox", "drwx-wx-wt", "root:ftp"),
	), "/bin", "/etc", "/dropbox")
	h.Info.Banner = "220 demo"
	p := mustPolicy(t, "drop_boxes: [/dropbox]")
	got := sum(judgeT(t, h, p))
	eq(t, "demo", got, []string{
		"critical writable-dir /incoming",
		"critical writable-dir /incoming/...",
		"critical writable-dir /incoming/.../  ",
		"critical writable-dir /incoming/0day",
		"high hidden-name /incoming/...",
		"high hidden-name /incoming/.../  ",
		"high suspicious-name /incoming/.../  /Win10.Pro.x64.Activated.iso",
		"high suspicious-name /incoming/0day",
		"high suspicious-name /incoming/0day/file_id.diz",
		"high suspicious-name /incoming/0day/keygen.exe",
		"high hidden-name /pub/\x1b[31mURGENT\x1b[0m-read-me.txt",
		"high world-writable-file /pub/NOTICE.txt",
		"high upload-owner /pub/welcome.msg",
		"high world-writable-file /pub/welcome.msg",
		"medium in-writable-area /incoming/.../  /Win10.Pro.x64.Activated.iso",
		"medium in-writable-area /incoming/0day/file_id.diz",
		"medium in-writable-area /incoming/0day/keygen.exe",
		"medium in-writable-area /incoming/test.txt",
		"medium symlink-escape /pub/linux-etc",
		"info anonymous-login /",
		"info unreadable-dir /bin",
		"info dropbox-dir /dropbox",
		"info unreadable-dir /dropbox",
		"info unreadable-dir /etc",
	})
}
