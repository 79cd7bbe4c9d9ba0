package report

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ftpaudit/ftpaudit"
)

// suppressedSample is metricsSample with three of its findings accepted
// by a suppression file: two warez files of one host (one line with a
// reason and an expiry date) and its hidden name (a fingerprint line,
// no reason).
func suppressedSample() *ftpaudit.Result {
	res := metricsSample()
	const a = "ftp://127.0.0.1:2121"
	exp := time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)
	var live []ftpaudit.Finding
	for _, f := range res.Findings {
		switch f.Rule {
		case "warez":
			res.Suppressed = append(res.Suppressed, ftpaudit.Suppressed{Finding: f, Source: ".ftpauditignore:3", Reason: "vendor mirror, read-only", Expires: exp})
			g := f
			g.Path = "/y.mkv"
			res.Suppressed = append(res.Suppressed, ftpaudit.Suppressed{Finding: g, Source: ".ftpauditignore:3", Reason: "vendor mirror, read-only", Expires: exp})
		case "hidden-name":
			res.Suppressed = append(res.Suppressed, ftpaudit.Suppressed{Finding: f, Source: ".ftpauditignore:1"})
		default:
			live = append(live, f)
		}
	}
	res.Findings = live
	if len(res.Findings) != 3 || len(res.Suppressed) != 3 || res.Suppressed[0].Finding.Host != a {
		panic("suppressedSample: metricsSample changed")
	}
	return res
}

// TestSARIFSuppressed: a suppressed finding is a result with one
// suppression (external, accepted, its reason as justification, the line
// and expiry as properties), after the live results, which carry none;
// the log stays valid SARIF 2.1.0 (and the schema does check
// suppressions: a bad kind is refused).
func TestSARIFSuppressed(t *testing.T) {
	res := suppressedSample()
	out := renderSARIF(t, res)
	schema := sarifSchema(t)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v\n%s", err, out)
	}
	bad := bytes.Replace(out, []byte(`"kind": "external"`), []byte(`"kind": "suppression-file"`), 1)
	if inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(bad)); err != nil || schema.Validate(inst) == nil {
		t.Errorf("the schema took a suppression of kind suppression-file (err %v): is it checked at all?", err)
	}

	var doc struct {
		Runs []struct {
			Results []struct {
				RuleID       string `json:"ruleId"`
				Locations    []json.RawMessage
				Fingerprints map[string]string `json:"partialFingerprints"`
				Suppressions *[]struct {
					Kind          string            `json:"kind"`
					Status        string            `json:"status"`
					Justification *string           `json:"justification"`
					Properties    map[string]string `json:"properties"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	results := doc.Runs[0].Results
	if len(results) != len(res.Findings)+len(res.Suppressed) {
		t.Fatalf("%d results for %d findings and %d suppressed", len(results), len(res.Findings), len(res.Suppressed))
	}
	for i, f := range res.Findings {
		r := results[i]
		if r.RuleID != f.Rule || r.Suppressions != nil || r.Fingerprints["ftpaudit/v1"] != f.Fingerprint() {
			t.Errorf("live result %d: %+v, want %s without suppressions", i, r, f.Rule)
		}
	}
	for i, sp := range res.Suppressed {
		r := results[len(res.Findings)+i]
		if r.RuleID != sp.Finding.Rule || r.Fingerprints["ftpaudit/v1"] != sp.Finding.Fingerprint() || r.Suppressions == nil || len(*r.Suppressions) != 1 {
			t.Fatalf("suppressed result %d: %+v", i, r)
		}
		s := (*r.Suppressions)[0]
		wantExp := ""
		if !sp.Expires.IsZero() {
			wantExp = "2027-01-31"
		}
		if s.Kind != "external" || s.Status != "accepted" || s.Properties["suppressedBy"] != sp.Source || s.Properties["expires"] != wantExp {
			t.Errorf("suppressed result %d: suppression %+v", i, s)
		}
		if (sp.Reason == "") != (s.Justification == nil) || (s.Justification != nil && *s.Justification != sp.Reason) {
			t.Errorf("suppressed result %d: justification %v, want %q", i, s.Justification, sp.Reason)
		}
	}
}

// TestJSONLSuppressed: each suppressed finding is one "suppressed" line,
// marked, with the line that suppressed it, after the finding lines;
// there are finding lines for the live findings only, and the host lines
// count those only.
func TestJSONLSuppressed(t *testing.T) {
	res := suppressedSample()
	lines := jsonlLines(t, report(t, &JSONL{}, res))
	var findings, suppressed, hosts []jsonlLine
	for _, l := range lines {
		switch l.Type {
		case "finding":
			if len(suppressed)+len(hosts) > 0 {
				t.Errorf("finding line after the suppressed or host lines: %s", l.Raw)
			}
			findings = append(findings, l)
		case "suppressed":
			if len(hosts) > 0 {
				t.Errorf("suppressed line after the host lines: %s", l.Raw)
			}
			suppressed = append(suppressed, l)
		case "host":
			hosts = append(hosts, l)
		default:
			t.Errorf("line of type %q: %s", l.Type, l.Raw)
		}
	}
	if len(findings) != len(res.Findings) || len(suppressed) != len(res.Suppressed) || len(hosts) != len(res.Hosts) {
		t.Fatalf("%d finding, %d suppressed, %d host lines for %d findings, %d suppressed, %d hosts",
			len(findings), len(suppressed), len(hosts), len(res.Findings), len(res.Suppressed), len(res.Hosts))
	}
	for i, f := range res.Findings {
		if l := findings[i]; *l.Path != f.Path || l.Rule != f.Rule || l.Suppressed != nil || l.SuppressedBy != "" {
			t.Errorf("finding line %d: %s, want %s %s, unmarked", i, l.Raw, f.Rule, f.Path)
		}
	}
	for i, sp := range res.Suppressed {
		l := suppressed[i]
		wantExp := ""
		if !sp.Expires.IsZero() {
			wantExp = "2027-01-31"
		}
		if l.Suppressed == nil || !*l.Suppressed || l.Path == nil || *l.Path != sp.Finding.Path || l.Host != sp.Finding.Host ||
			l.Rule != sp.Finding.Rule || l.Severity != sp.Finding.Severity.String() || l.Fingerprint != sp.Finding.Fingerprint() ||
			l.SuppressedBy != sp.Source || l.Reason != sp.Reason || l.Expires != wantExp {
			t.Errorf("suppressed line %d: %s, want %+v", i, l.Raw, sp)
		}
	}
	total := 0
	for _, h := range hosts {
		for _, n := range h.Findings {
			total += n
		}
	}
	if total != len(res.Findings) {
		t.Errorf("host lines count %d findings, want the %d live ones", total, len(res.Findings))
	}
}

// TestMetricsSuppressed: ftpaudit_findings_suppressed counts the
// suppressed findings per host, rule and severity; ftpaudit_findings
// counts the live ones only.
func TestMetricsSuppressed(t *testing.T) {
	res := suppressedSample()
	out := writeMetrics(t, res, nil)
	got := series(parseMetrics(t, out))
	const a = "ftp://127.0.0.1:2121"
	want := map[string]float64{
		hostKey(a, "rule", "warez", "severity", "high"):       2,
		hostKey(a, "rule", "hidden-name", "severity", "high"): 1,
	}
	if !maps.Equal(got["ftpaudit_findings_suppressed"], want) {
		t.Errorf("ftpaudit_findings_suppressed:\n got %v\nwant %v", got["ftpaudit_findings_suppressed"], want)
	}
	live := 0.0
	for _, v := range got["ftpaudit_findings"] {
		live += v
	}
	if live != float64(len(res.Findings)) || got["ftpaudit_findings"][hostKey(a, "severity", "high")] != 0 {
		t.Errorf("ftpaudit_findings counts %v findings (high on %s: %v), want the %d live ones",
			live, a, got["ftpaudit_findings"][hostKey(a, "severity", "high")], len(res.Findings))
	}
	if !strings.Contains(string(out), "# HELP ftpaudit_findings_suppressed ") {
		t.Errorf("no help for ftpaudit_findings_suppressed:\n%s", out)
	}
	// Without suppressed findings, no such family.
	if fams := parseMetrics(t, writeMetrics(t, metricsSample(), nil)); fams["ftpaudit_findings_suppressed"] != nil {
		t.Error("ftpaudit_findings_suppressed written without suppressed findings")
	}
}
