package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

type jsonlLine struct {
	Type       string          `json:"type"`
	Schema     string          `json:"schema"`
	Time       string          `json:"time"`
	Host       string          `json:"host"`
	Path       *string         `json:"path"`
	PathB64    string          `json:"path_b64"`
	Rule       string          `json:"rule"`
	Severity   string          `json:"severity"`
	Evidence   []string        `json:"evidence"`
	Action     *string         `json:"action"`
	Size       *int64          `json:"size"`
	Modified   string          `json:"modified"`
	Start      string          `json:"start"`
	StartB64   string          `json:"start_b64"`
	Complete   *bool           `json:"complete"`
	Incomplete []string        `json:"incomplete"`
	LoginError string          `json:"login_error"`
	Stats      *ftpaudit.Stats `json:"stats"`
	Findings   map[string]int  `json:"findings"`
	// Suppressed lines only.
	Suppressed   *bool           `json:"suppressed"`
	Fingerprint  string          `json:"fingerprint"`
	SuppressedBy string          `json:"suppressed_by"`
	Reason       string          `json:"reason"`
	Expires      string          `json:"expires"`
	Raw          json.RawMessage `json:"-"`
}

// jsonlLines checks that out is newline-terminated lines, each one JSON
// object with nothing in it that could break a line-based shipper, and
// decodes them.
func jsonlLines(t *testing.T, out []byte) []jsonlLine {
	t.Helper()
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Fatalf("output does not end with a newline: %q", out)
	}
	var lines []jsonlLine
	for i, raw := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		if len(out) == 0 {
			break
		}
		for _, c := range raw {
			if c < 0x20 {
				t.Fatalf("line %d carries control byte %#x: %q", i+1, c, raw)
			}
		}
		if bytes.Contains(raw, []byte("\u2028")) || bytes.Contains(raw, []byte("\u2029")) {
			t.Fatalf("line %d carries a Unicode line separator: %q", i+1, raw)
		}
		if !json.Valid(raw) {
			t.Fatalf("line %d is not valid JSON: %q", i+1, raw)
		}
		var l jsonlLine
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d: %v: %q", i+1, err, raw)
		}
		if l.Schema != Schema {
			t.Errorf("line %d: schema %q", i+1, l.Schema)
		}
		l.Raw = raw
		lines = append(lines, l)
	}
	return lines
}

func TestJSONLGolden(t *testing.T) {
	out := report(t, &JSONL{}, findingsSample())
	golden(t, "scan.jsonl.golden", out)
	res := findingsSample()
	lines := jsonlLines(t, out)
	if len(lines) != len(res.Findings)+len(res.Hosts) {
		t.Fatalf("%d lines for %d findings and %d hosts", len(lines), len(res.Findings), len(res.Hosts))
	}
	for i, f := range res.Findings {
		l := lines[i]
		if l.Type != "finding" || l.Host != f.Host || l.Path == nil || *l.Path != f.Path || l.Rule != f.Rule ||
			l.Severity != f.Severity.String() || l.Time != "2026-11-22T03:00:03Z" || l.Evidence == nil || len(l.Evidence) != len(f.Evidence) {
			t.Errorf("finding line %d = %s, want %+v", i, l.Raw, f)
		}
	}
	hosts := lines[len(res.Findings):]
	a, b := hosts[0], hosts[1]
	if a.Type != "host" || a.Host != "ftp://127.0.0.1:2121" || a.Start != "/" || a.Complete == nil || !*a.Complete ||
		a.Incomplete == nil || len(a.Incomplete) != 0 || a.Stats == nil || *a.Stats != res.Hosts[0].Stats {
		t.Errorf("host a: %s", a.Raw)
	}
	if want := map[string]int{"critical": 1, "high": 2, "medium": 1, "low": 0, "info": 2}; !equalCounts(a.Findings, want) {
		t.Errorf("host a findings %v, want %v", a.Findings, want)
	}
	if b.Type != "host" || b.Host != "ftps://mirror@[::1]:2121" || b.Start != "/pub" || b.Complete == nil || *b.Complete ||
		strings.Join(b.Incomplete, "|") != "listings failed|depth bound reached" {
		t.Errorf("host b: %s", b.Raw)
	}
	if want := map[string]int{"critical": 0, "high": 1, "medium": 0, "low": 1, "info": 0}; !equalCounts(b.Findings, want) {
		t.Errorf("host b findings %v, want %v", b.Findings, want)
	}
	// Field order is fixed: type first, for eyes and grep.
	for _, l := range lines {
		if !bytes.HasPrefix(l.Raw, []byte(`{"type":"`+l.Type+`","schema":"ftpaudit.scan/v1","time":`)) {
			t.Errorf("line starts %q", l.Raw)
		}
	}
}

func equalCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if n, ok := got[k]; !ok || n != v {
			return false
		}
	}
	return true
}

func TestJSONLHostile(t *testing.T) {
	res := hostileSample()
	nasty := "/x\ny\rz\x1b[2J\x07\xff\xfe\u2028\u2029</script>&"
	res.Findings = append(res.Findings, ftpaudit.Finding{Host: res.Hosts[0].Target.URL, Path: nasty, Rule: "hostile-name",
		Severity: ftpaudit.SevHigh, Evidence: []string{"line\nbreak\r\x1b[31m\xff"}})
	res.Hosts[1].LoginError = "530 \x1b[2J\r\nno\xff"
	res.Hosts[1].Target.Start = "/\xff\n"
	out := report(t, &JSONL{}, res)
	golden(t, "scan_hostile.jsonl.golden", out)
	lines := jsonlLines(t, out)
	if len(lines) != len(res.Findings)+len(res.Hosts) {
		t.Fatalf("%d lines for %d findings and %d hosts", len(lines), len(res.Findings), len(res.Hosts))
	}
	for i, f := range res.Findings {
		l := lines[i]
		got := *l.Path
		if l.PathB64 != "" {
			raw, err := base64.StdEncoding.DecodeString(l.PathB64)
			if err != nil {
				t.Fatal(err)
			}
			got = string(raw)
		}
		if got != f.Path {
			t.Errorf("line %d: path %q (b64 %q) does not give back %q", i, *l.Path, l.PathB64, f.Path)
		}
	}
	last := lines[len(res.Findings)-1]
	if !bytes.Contains(last.Raw, []byte("</script>&")) {
		t.Errorf("HTML escaped: %s", last.Raw)
	}
	evil := lines[len(lines)-1]
	if raw, _ := base64.StdEncoding.DecodeString(evil.StartB64); string(raw) != "/\xff\n" {
		t.Errorf("start_b64 %q", evil.StartB64)
	}
	if !strings.HasPrefix(evil.LoginError, "530 \x1b[2J\r\nno") {
		t.Errorf("login_error %q", evil.LoginError)
	}
}

func TestJSONLEmpty(t *testing.T) {
	if out := report(t, &JSONL{}, &ftpaudit.Result{}); len(out) != 0 {
		t.Errorf("empty result: %q", out)
	}
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	res := &ftpaudit.Result{Started: t0, Finished: t0, Hosts: []*ftpaudit.HostResult{{
		Target:     ftpaudit.Target{URL: "ftp://down.example:21", Start: "/"},
		Incomplete: []string{"no session"}, LoginError: "dial tcp: connection refused",
	}}}
	lines := jsonlLines(t, report(t, &JSONL{}, res))
	if len(lines) != 1 || lines[0].Type != "host" || lines[0].LoginError != "dial tcp: connection refused" ||
		lines[0].Complete == nil || *lines[0].Complete || !equalCounts(lines[0].Findings, map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}) {
		t.Errorf("lines %+v", lines)
	}
}
