package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

func TestSuppressions(t *testing.T) {
	f := func(rule, path string) ftpaudit.Finding {
		return ftpaudit.Finding{Host: "ftp://ftp.example.org:21", Path: path, Rule: rule, Severity: ftpaudit.SevHigh}
	}
	writable := f(ftpaudit.RuleWritableDir, "/incoming")
	hidden := f(ftpaudit.RuleHiddenName, "/pub/mirrors/debian/.snapshot")
	other := f(ftpaudit.RuleHiddenName, "/pub/.x")
	file := `# accepted findings
fingerprint=` + writable.Fingerprint() + ` reason="the drop box, by design"
rule=hidden-name host=* path="/pub/mirrors/**" exp=2027-01-31
rule=hidden-name host=ftp://ftp.example.org:21 path=/pub/.x exp=2026-01-01 reason=old
`
	s, err := ParseSuppressions([]byte(file), ".ftpauditignore")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := &ftpaudit.Result{Findings: []ftpaudit.Finding{writable, hidden, other}}
	expired := s.Apply(r, now)
	// Suppressed, not dropped: the fingerprint line and the path glob.
	if len(r.Findings) != 1 || r.Findings[0].Path != "/pub/.x" {
		t.Errorf("findings left %+v", r.Findings)
	}
	if len(r.Suppressed) != 2 || r.Suppressed[0].Finding.Path != "/incoming" || r.Suppressed[0].Reason != "the drop box, by design" ||
		r.Suppressed[0].Source != ".ftpauditignore:2" || r.Suppressed[1].Source != ".ftpauditignore:3" || r.Suppressed[1].Expires.Format("2006-01-02") != "2027-01-31" {
		t.Errorf("suppressed %+v", r.Suppressed)
	}
	// The expired line stops suppressing and says so.
	if len(expired) != 1 || !strings.Contains(expired[0], ".ftpauditignore:4: expired on 2026-01-01") {
		t.Errorf("expired %q", expired)
	}
	// The day of expiry still counts.
	r = &ftpaudit.Result{Findings: []ftpaudit.Finding{hidden}}
	if s.Apply(r, time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC)); len(r.Suppressed) != 1 {
		t.Errorf("suppression ended before the end of its day")
	}
	r = &ftpaudit.Result{Findings: []ftpaudit.Finding{hidden}}
	if s.Apply(r, time.Date(2027, 2, 1, 0, 0, 1, 0, time.UTC)); len(r.Suppressed) != 0 {
		t.Errorf("suppression outlived its day")
	}
}

func TestSuppressionErrors(t *testing.T) {
	for line, want := range map[string]string{
		"rule=writable-dir host=*":                       "rule, host and path are all needed",
		"rule=writeable-dir host=* path=/":               `unknown rule "writeable-dir"`,
		"fingerprint=ab rule=writable-dir host=* path=/": "either fingerprint",
		"color=red": "unknown key",
		"rule=writable-dir host=* path=/ exp=tomorrow": "exp:",
		`rule=writable-dir host=* path="/x`:            "bad quoted value",
		"just words":                                   "want key=value",
	} {
		_, err := ParseSuppressions([]byte("# x\n"+line+"\n"), "f")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "f:2: ") {
			t.Errorf("%q: %v, want f:2: ... %q", line, err, want)
		}
	}
}
