package rules

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// The three judges, each run on an archive where /pub/warez.nfo and
// /ign/warez.nfo are what it reports, under a given policy. Each reports
// the two files under its own rule, at that rule's default severity
// (high for all three).
var policyJudges = []struct {
	name string
	rule string
	run  func(t *testing.T, p *Policy) []ftpaudit.Finding
}{
	{"Judge", ftpaudit.RuleSuspiciousName, func(t *testing.T, p *Policy) []ftpaudit.Finding {
		return only(judgeBothWays(t, policyArchive(), p), ftpaudit.RuleSuspiciousName)
	}},
	{"ManifestFindings", ftpaudit.RuleNotInManifest, func(t *testing.T, p *Policy) []ftpaudit.Finding {
		m := mustParseManifest(t, "/ls-lR", ".:\ndrwxr-xr-x 2 a b 4096 Jan 1 2020 ign\ndrwxr-xr-x 2 a b 4096 Jan 1 2020 pub\n")
		return manifestBothWays(t, policyArchive(), []*ftpaudit.Manifest{m}, p)
	}},
	{"BaselineJudge", ftpaudit.RuleNewSinceBaseline, func(t *testing.T, p *Policy) []ftpaudit.Finding {
		cur := policyArchive()
		old := hostOf(dirE("/ign", "drwxr-xr-x", "root"), dirE("/pub", "drwxr-xr-x", "root")).Entries
		run := func(cur *ftpaudit.HostResult, seq iter.Seq2[ftpaudit.Entry, error]) []ftpaudit.Finding {
			j := NewBaselineJudge(cur, Baseline{ScanID: 1, Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, p)
			if err := DiffEntries(SeqOf(old), j.Tap(seq), func(c Change) error { j.Add(c); return nil }); err != nil {
				t.Fatal(err)
			}
			fs, _ := j.Finish()
			return fs
		}
		fs := run(cur, SeqOf(cur.Entries))
		src := viaSource(cur)
		sameFindings(t, "BaselineJudge fed HostSeq from a Source", run(src, HostSeq(src)), fs)
		return fs
	}},
}

func policyArchive() *ftpaudit.HostResult {
	return hostOf(
		dirE("/ign", "drwxr-xr-x", "root"),
		fileE("/ign/warez.nfo", "-rw-r--r--", "root", 10),
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/warez.nfo", "-rw-r--r--", "root", 10),
	)
}

// TestPolicyTreatsJudgesAlike feeds one policy to the findings of each of
// the three judges: ignore, off, severity overrides and actions must come
// out the same whichever judge made the finding.
func TestPolicyTreatsJudgesAlike(t *testing.T) {
	cases := []struct {
		name   string
		policy string // RULE stands for the judge's rule
		want   []string
	}{
		{"defaults", ``, []string{"high /ign/warez.nfo", "high /pub/warez.nfo"}},
		{"ignore", `ignore: [/ign]`, []string{"high /pub/warez.nfo"}},
		{"ignore below", `ignore: ["/ign/*.nfo"]`, []string{"high /pub/warez.nfo"}},
		{"per-host ignore", `hosts: [{match: "*", ignore: [/pub]}]`, []string{"high /ign/warez.nfo"}},
		{"ignore for another host", `hosts: [{match: "ftp://elsewhere:21", ignore: [/pub]}]`, []string{"high /ign/warez.nfo", "high /pub/warez.nfo"}},
		{"off", "severity: {RULE: off}", nil},
		{"severity lowered", "severity: {RULE: low}", []string{"low /ign/warez.nfo", "low /pub/warez.nfo"}},
		{"severity raised", "severity: {RULE: critical}", []string{"critical /ign/warez.nfo", "critical /pub/warez.nfo"}},
		{"ignore and severity", "ignore: [/ign]\nseverity: {RULE: info}", []string{"info /pub/warez.nfo"}},
		{"another rule off", "severity: {writable-dir: off, hidden-name: low}", []string{"high /ign/warez.nfo", "high /pub/warez.nfo"}},
	}
	for _, c := range cases {
		for _, jd := range policyJudges {
			t.Run(c.name+"/"+jd.name, func(t *testing.T) {
				p := mustPolicy(t, strings.ReplaceAll(c.policy, "RULE", jd.rule))
				fs := jd.run(t, p)
				got := []string{}
				r, _ := ftpaudit.RuleByID(jd.rule)
				for _, f := range fs {
					got = append(got, fmt.Sprintf("%s %s", f.Severity, f.Path))
					if f.Rule != jd.rule || f.Host != testHost || f.Action != r.Action || len(f.Evidence) == 0 || f.Size != 10 {
						t.Errorf("%+v: want rule %s, host, catalogue action, evidence, size", f, jd.rule)
					}
				}
				eq(t, "findings", got, append([]string{}, c.want...))
			})
		}
	}
}

// The collector on its own: merging, the order of the policy steps, and
// an action of the finding's own.
func TestCollector(t *testing.T) {
	p := mustPolicy(t, "ignore: [/ign]\nseverity: {hidden-name: low, symlink-escape: off}")
	c := newCollector(testHost, p.forHost(testHost))
	add := func(path, rule string, sev ftpaudit.Severity, action string, ev ...string) bool {
		return c.add(ftpaudit.Finding{Path: path, Rule: rule, Severity: sev, Evidence: ev, Action: action, Size: -1})
	}
	if add("/ign/x", ftpaudit.RuleHiddenName, ftpaudit.SevHigh, "", "a") || add("/x", ftpaudit.RuleSymlinkEscape, ftpaudit.SevHigh, "", "a") {
		t.Error("an ignored path or a rule turned off was kept")
	}
	if !c.ignores("/ign") || !c.ignores("/ign/a/b") || c.ignores("/ignore") {
		t.Error("ignores")
	}
	// Two findings of one rule for one path merge: evidence of both (each
	// line once), the highest severity, the first action. The severity
	// override then replaces the merged severity.
	add("/a", ftpaudit.RuleDropboxDir, ftpaudit.SevInfo, "", "one", "two")
	add("/a", ftpaudit.RuleDropboxDir, ftpaudit.SevMedium, "Own action.", "two", "three")
	add("/a", ftpaudit.RuleDropboxDir, ftpaudit.SevLow, "Later action.", "four")
	add("/a", ftpaudit.RuleHiddenName, ftpaudit.SevCritical, "", "name")
	add("/a", ftpaudit.RuleHiddenName, ftpaudit.SevHigh, "")
	add("/b", ftpaudit.RuleUnreadableDir, ftpaudit.SevInfo, "") // no evidence
	fs := c.finish()
	got := []string{}
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %s %s %q %q", f.Severity, f.Rule, f.Path, f.Evidence, f.Action))
	}
	rule := func(id string) ftpaudit.Rule { r, _ := ftpaudit.RuleByID(id); return r }
	eq(t, "findings", got, []string{
		fmt.Sprintf("medium dropbox-dir /a %q %q", []string{"one", "two", "three", "four"}, "Own action."),
		fmt.Sprintf("low hidden-name /a %q %q", []string{"name"}, rule(ftpaudit.RuleHiddenName).Action),
		fmt.Sprintf("info unreadable-dir /b %q %q", []string{rule(ftpaudit.RuleUnreadableDir).Explanation}, rule(ftpaudit.RuleUnreadableDir).Action),
	})
	for _, f := range fs {
		if f.Host != testHost {
			t.Errorf("host %q", f.Host)
		}
	}
	if len(c.finish()) != 0 {
		t.Error("finish does not empty the collector")
	}
}

// mergeFindings keeps the findings of different keys apart and in a
// stable order whatever order they came in.
func TestMergeFindings(t *testing.T) {
	var fs []ftpaudit.Finding
	for i := range 50 {
		fs = append(fs, ftpaudit.Finding{Path: fmt.Sprintf("/%d", i%7), Rule: []string{"a", "b"}[i%2], Evidence: []string{fmt.Sprint(i % 3)}, Severity: ftpaudit.Severity(i % 5)})
	}
	out := mergeFindings(slices.Clone(fs))
	if len(out) != 14 {
		t.Fatalf("%d findings, want 14 (7 paths × 2 rules)", len(out))
	}
	for _, f := range out {
		var ev []string
		var sev ftpaudit.Severity
		for _, g := range fs {
			if g.Path == f.Path && g.Rule == f.Rule {
				if !slices.Contains(ev, g.Evidence[0]) {
					ev = append(ev, g.Evidence[0])
				}
				sev = max(sev, g.Severity)
			}
		}
		if !slices.Equal(f.Evidence, ev) || f.Severity != sev {
			t.Errorf("%s %s: evidence %q severity %s, want %q %s", f.Path, f.Rule, f.Evidence, f.Severity, ev, sev)
		}
	}
}
