package main

import (
	"bytes"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

func TestFindingsLine(t *testing.T) {
	f := func(sev ftpaudit.Severity) ftpaudit.Finding {
		return ftpaudit.Finding{Path: "/x", Rule: "r", Severity: sev, Size: -1}
	}
	complete := &ftpaudit.HostResult{Complete: true}
	for _, c := range []struct {
		res  *ftpaudit.Result
		want string
	}{
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{complete}}, "no findings"},
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{complete}, Findings: []ftpaudit.Finding{f(ftpaudit.SevCritical), f(ftpaudit.SevHigh), f(ftpaudit.SevInfo)}},
			"3 findings (1 critical, 1 high, 0 medium, 0 low, 1 info); 2 at or above --fail-on high"},
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{complete}, Findings: []ftpaudit.Finding{f(ftpaudit.SevLow)}},
			"1 finding (0 critical, 0 high, 0 medium, 1 low, 0 info); none at or above --fail-on high"},
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{{Complete: false, Incomplete: []string{"cut"}}}, Findings: []ftpaudit.Finding{f(ftpaudit.SevHigh)}},
			"1 finding (0 critical, 1 high, 0 medium, 0 low, 0 info); 1 at or above --fail-on high; the scan is incomplete"},
	} {
		if got := findingsLine(c.res, ftpaudit.SevHigh); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// TestTellFindings: the line is written for --format summary, never with
// --quiet, and not for a report on stdout that shows the findings.
func TestTellFindings(t *testing.T) {
	res := &ftpaudit.Result{Hosts: []*ftpaudit.HostResult{{Complete: true}}, Findings: []ftpaudit.Finding{{Path: "/x", Rule: "r", Severity: ftpaudit.SevHigh, Size: -1}}}
	for _, c := range []struct {
		f    scanFlags
		want bool
	}{
		{scanFlags{format: "summary", failOn: "high"}, true},
		{scanFlags{format: "summary", failOn: "high", quiet: true}, false},
		{scanFlags{format: "json", failOn: "high"}, false},
		{scanFlags{format: "table", failOn: "high"}, false},
		{scanFlags{format: "json", failOn: "high", output: "x.json"}, false}, // stderr is no terminal here
	} {
		var stderr bytes.Buffer
		c.f.tellFindings(res, &bytes.Buffer{}, &stderr)
		if got := stderr.Len() > 0; got != c.want {
			t.Errorf("%+v: line written %v, want %v (%q)", c.f, got, c.want, stderr.String())
		}
	}
}
