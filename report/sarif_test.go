package report

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/rules"
)

// sarifSchema compiles the OASIS SARIF 2.1.0 schema kept in testdata
// (sarif-schema-2.1.0.json, errata 01, as published by OASIS).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID string `json:"id"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

func renderSARIF(t *testing.T, r *ftpaudit.Result) []byte {
	t.Helper()
	rep, err := New("sarif", Options{ToolVersion: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.Report(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSARIFValid renders the judged hostile archive and the hand-made
// samples as SARIF and validates each against the SARIF 2.1.0 schema; every
// finding is one result, pointing at its rule, with an ftp:// URI that
// decodes to the exact path and a fingerprint that depends on host, path
// and rule only.
func TestSARIFValid(t *testing.T) {
	schema := sarifSchema(t)
	judged := hostileArchive()
	rules.JudgeResult(judged, nil)
	for name, r := range map[string]*ftpaudit.Result{"judged": judged, "sample": sample(), "hostile": hostileSample(), "empty": {}} {
		out := renderSARIF(t, r)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: not valid SARIF 2.1.0: %v", name, err)
		}
		var doc sarifDoc
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		run := doc.Runs[0]
		if len(run.Results) != len(r.Findings) {
			t.Errorf("%s: %d results for %d findings", name, len(run.Results), len(r.Findings))
		}
		seen := map[string]bool{}
		for i, res := range run.Results {
			f := r.Findings[i]
			if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID || res.RuleID != f.Rule {
				t.Errorf("%s: result %d: rule %q at index %d", name, i, res.RuleID, res.RuleIndex)
			}
			u, err := url.Parse(res.Locations[0].PhysicalLocation.ArtifactLocation.URI)
			want := f.Path
			if !strings.HasPrefix(want, "/") {
				want = "/" + want
			}
			if err != nil || u.Scheme != "ftp" || u.Path != want {
				t.Errorf("%s: %q for path %q: %v", name, res.Locations[0].PhysicalLocation.ArtifactLocation.URI, f.Path, err)
			}
			fp := res.PartialFingerprints["ftpaudit/v1"]
			if fp == "" || fp != sarifFingerprint(&f) {
				t.Errorf("%s: fingerprint %q", name, fp)
			}
			key := f.Host + "\x00" + f.Path + "\x00" + f.Rule
			if seen[key] {
				continue
			}
			seen[key] = true
		}
	}
	// Stable across scans: the same finding in another scan (other times,
	// other evidence) has the same fingerprint; another path has another.
	a := ftpaudit.Finding{Host: "ftp://h:21", Path: "/incoming", Rule: ftpaudit.RuleWritableDir, Evidence: []string{"x"}}
	b := a
	b.Evidence, b.Severity = []string{"y"}, ftpaudit.SevLow
	c := a
	c.Path = "/incoming2"
	if sarifFingerprint(&a) != sarifFingerprint(&b) || sarifFingerprint(&a) == sarifFingerprint(&c) {
		t.Errorf("fingerprints: %s %s %s", sarifFingerprint(&a), sarifFingerprint(&b), sarifFingerprint(&c))
	}
}
