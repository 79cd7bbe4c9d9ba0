package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// sharedURLSample is a scan of one server from two start directories,
// "/" and "/pub", plus a second server; each target has findings of its
// own, and each walk judged the host-wide "/" finding once.
func sharedURLSample() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	const url, other = "ftp://127.0.0.1:2121", "ftp://mirror:21"
	root := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: url, Start: "/"}, Info: ftpaudit.ServerInfo{Login: "anonymous"},
		Started: t0, Finished: t0.Add(time.Second), Complete: true, Stats: ftpaudit.Stats{Dirs: 4, Files: 10, Listed: 4}}
	pub := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: url, Start: "/pub"}, Info: ftpaudit.ServerInfo{Login: "anonymous", MLSD: true},
		Started: t0, Finished: t0.Add(2 * time.Second), Complete: false, Incomplete: []string{"listings failed"},
		Stats: ftpaudit.Stats{Dirs: 2, Files: 3, Listed: 1, Errors: 1}}
	mirror := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: other, Start: "/"}, Info: ftpaudit.ServerInfo{Login: "anonymous"},
		Started: t0, Finished: t0.Add(time.Second), Complete: true, Stats: ftpaudit.Stats{Dirs: 1, Listed: 1}}
	fs := []ftpaudit.Finding{
		{Host: url, Path: "/incoming", Rule: "writable-dir", Severity: ftpaudit.SevCritical, Size: -1},
		{Host: url, Path: "/pub/.ssh/id_rsa", Rule: "secret-file", Severity: ftpaudit.SevHigh, Size: -1},
		{Host: url, Path: "/pub/x.mkv", Rule: "warez", Severity: ftpaudit.SevHigh, Size: -1},
		{Host: other, Path: "/core", Rule: "core-dump", Severity: ftpaudit.SevLow, Size: -1},
		{Host: url, Path: "/", Rule: "anonymous-login", Severity: ftpaudit.SevInfo, Size: -1},
		{Host: url, Path: "/", Rule: "anonymous-login", Severity: ftpaudit.SevInfo, Size: -1},
		{Host: url, Path: "/bin", Rule: "unreadable-dir", Severity: ftpaudit.SevInfo, Size: -1},
	}
	ftpaudit.SortFindings(fs)
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(2 * time.Second), Hosts: []*ftpaudit.HostResult{root, pub, mirror}, Findings: fs}
}

func TestViewSharedURL(t *testing.T) {
	res := sharedURLSample()
	v := NewView(res)
	if len(v.Targets) != 3 {
		t.Fatalf("%d targets, want 3", len(v.Targets))
	}
	// "/" gets its own findings and one of the two host-wide ones, "/pub"
	// the findings below it and the other host-wide one.
	want := map[string]string{
		"ftp://127.0.0.1:2121":     "/:anonymous-login /bin:unreadable-dir /incoming:writable-dir",
		"ftp://127.0.0.1:2121/pub": "/:anonymous-login /pub/.ssh/id_rsa:secret-file /pub/x.mkv:warez",
		"ftp://mirror:21":          "/core:core-dump",
	}
	var total Counts
	for _, tv := range v.Targets {
		var got []string
		for _, f := range tv.Findings {
			got = append(got, f.Path+":"+f.Rule)
		}
		slices.Sort(got)
		if strings.Join(got, " ") != want[tv.Name()] {
			t.Errorf("%s: findings %q, want %q", tv.Name(), got, want[tv.Name()])
		}
		if tv.Counts.Total() != len(tv.Findings) {
			t.Errorf("%s: counts %+v for %d findings", tv.Name(), tv.Counts, len(tv.Findings))
		}
		total.merge(tv.Counts)
	}
	if total != v.Total || v.Total.Total() != len(res.Findings) {
		t.Errorf("targets add up to %+v, total %+v, %d findings", total, v.Total, len(res.Findings))
	}
	if v.Complete || v.Targets[1].Listing != "MLSD" {
		t.Errorf("complete %v, listing %q", v.Complete, v.Targets[1].Listing)
	}
}

// TestFormatsAgree checks that the table's summary lines, the JSON
// lines' host lines, the JSON document's hosts and the metrics count the
// same findings for each target (the metrics per URL), and that each
// adds up to the number of findings: no finding of a server scanned from
// two start directories is counted twice.
func TestFormatsAgree(t *testing.T) {
	res := sharedURLSample()
	v := NewView(res)
	n := len(res.Findings)
	type counts [5]int // critical, high, medium, low, info
	want := make([]counts, len(v.Targets))
	for i, tv := range v.Targets {
		c := tv.Counts
		want[i] = counts{c.Of(ftpaudit.SevCritical), c.Of(ftpaudit.SevHigh), c.Of(ftpaudit.SevMedium), c.Of(ftpaudit.SevLow), c.Of(ftpaudit.SevInfo)}
	}
	sum := func(cs []counts) int {
		s := 0
		for _, c := range cs {
			for _, v := range c {
				s += v
			}
		}
		return s
	}
	if sum(want) != n {
		t.Fatalf("view counts add up to %d, want %d", sum(want), n)
	}
	check := func(format string, got []counts) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s counts per target %v, want %v", format, got, want)
		}
		if sum(got) != n {
			t.Errorf("%s counts add up to %d, want %d", format, sum(got), n)
		}
	}

	// Table: one summary line per target.
	line := regexp.MustCompile(`(?m)^(\S+): (\d+) findings? \((\d+) critical, (\d+) high, (\d+) medium, (\d+) low, (\d+) info\)`)
	var table []counts
	for _, m := range line.FindAllStringSubmatch(string(report(t, &Table{Width: 1000}, res)), -1) {
		if m[1] == "Total" {
			continue
		}
		var c counts
		for i := range c {
			c[i], _ = strconv.Atoi(m[3+i])
		}
		if total, _ := strconv.Atoi(m[2]); total != c[0]+c[1]+c[2]+c[3]+c[4] {
			t.Errorf("table line %q: total does not add up", m[0])
		}
		table = append(table, c)
	}
	check("table", table)

	// JSON lines: one host line per target.
	var jsonl []counts
	for _, l := range jsonlLines(t, report(t, &JSONL{}, res)) {
		if l.Type == "host" {
			f := l.Findings
			jsonl = append(jsonl, counts{f["critical"], f["high"], f["medium"], f["low"], f["info"]})
		}
	}
	check("jsonl", jsonl)

	// JSON: the hosts' finding counts.
	var doc struct {
		Hosts []struct {
			Target   string         `json:"target"`
			Start    string         `json:"start"`
			Findings map[string]int `json:"findings"`
		} `json:"hosts"`
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(report(t, &JSON{}, res), &doc); err != nil {
		t.Fatal(err)
	}
	var js []counts
	for _, h := range doc.Hosts {
		f := h.Findings
		js = append(js, counts{f["critical"], f["high"], f["medium"], f["low"], f["info"]})
	}
	check("json", js)
	if len(doc.Findings) != n {
		t.Errorf("json: %d findings, want %d", len(doc.Findings), n)
	}

	// Metrics: labelled by URL, so the two start directories of one server
	// are one host whose counts are the sum of theirs.
	got := series(parseMetrics(t, writeMetrics(t, res, nil)))["ftpaudit_findings"]
	var metrics []counts
	for _, url := range []string{"ftp://127.0.0.1:2121", "ftp://mirror:21"} {
		var c counts
		for i, s := range []string{"critical", "high", "medium", "low", "info"} {
			c[i] = int(got[hostKey(url, "severity", s)])
		}
		metrics = append(metrics, c)
	}
	var merged counts
	for i := range merged {
		merged[i] = want[0][i] + want[1][i]
	}
	if fmt.Sprint(metrics) != fmt.Sprint([]counts{merged, want[2]}) {
		t.Errorf("metrics counts per host %v, want %v", metrics, []counts{merged, want[2]})
	}
	if sum(metrics) != n || len(got) != 10 {
		t.Errorf("metrics count %d findings in %d series, want %d in 10", sum(metrics), len(got), n)
	}
}

// TestViewNotWalked: findings of a URL with no walk result (diff, verify)
// are a target of their own, after the walked ones, sorted by URL.
func TestViewNotWalked(t *testing.T) {
	res := &ftpaudit.Result{Findings: []ftpaudit.Finding{
		{Host: "ftp://b:21", Path: "/x", Rule: "r", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/y", Rule: "r", Severity: ftpaudit.SevLow},
		{Host: "ftp://b:21", Path: "/z", Rule: "r", Severity: ftpaudit.Severity(9)},
	}}
	v := NewView(res)
	if len(v.Targets) != 2 || v.Targets[0].URL != "ftp://a:21" || v.Targets[1].URL != "ftp://b:21" ||
		v.Targets[0].Host != nil || v.Targets[1].Counts.Total() != 2 || v.Targets[1].Counts.Unknown != 1 {
		t.Fatalf("targets %+v %+v", v.Targets[0], v.Targets[1])
	}
	out := string(report(t, &Table{Width: 200}, res))
	if !strings.Contains(out, "\nftp://a:21: 1 finding (0 critical, 0 high, 0 medium, 1 low, 0 info); not walked\n"+
		"ftp://b:21: 2 findings (0 critical, 1 high, 0 medium, 0 low, 0 info, 1 unknown); not walked\n") {
		t.Errorf("not-walked lines:\n%s", out)
	}
	// A severity the table does not know is shown, not hidden.
	if !strings.Contains(out, "\nunknown   /z ") {
		t.Errorf("unknown severity hidden:\n%s", out)
	}
}

func TestCountsBelow(t *testing.T) {
	var c Counts
	for _, s := range []ftpaudit.Severity{ftpaudit.SevInfo, ftpaudit.SevInfo, ftpaudit.SevLow, ftpaudit.SevHigh, -1, 7} {
		c.add(s)
	}
	for min, want := range map[ftpaudit.Severity]int{ftpaudit.SevInfo: 0, ftpaudit.SevLow: 2, ftpaudit.SevMedium: 3, ftpaudit.SevCritical: 4, 9: 4} {
		if got := c.Below(min); got != want {
			t.Errorf("Below(%v) = %d, want %d", min, got, want)
		}
	}
	if c.Total() != 6 || c.Unknown != 2 || c.Of(-1) != 2 || c.Of(ftpaudit.SevInfo) != 2 {
		t.Errorf("counts %+v", c)
	}
}
