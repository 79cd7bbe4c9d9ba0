package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

// TestIgnoreFile: a suppressed finding is listed as suppressed (with the
// line that did it), not counted, and not dropped; an expired line stops
// suppressing and says so.
func TestIgnoreFile(t *testing.T) {
	srv := serveSpec(t, nil, memftp.Options{})
	ignore := filepath.Join(t.TempDir(), "ftpaudit.ignore")
	if err := os.WriteFile(ignore, []byte("# known\nrule=writable-dir host=* path=/incoming reason=\"drop box, being closed\"\nrule=dropbox-dir host=* path=/ exp=2020-01-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "scan", "--quiet", "--format", "json", "--ignore-file", ignore, "ftp://"+srv.Addr+"/")
	if code != exitFindings {
		t.Fatalf("exit %d; %s", code, stderr)
	}
	var doc struct {
		Findings []struct {
			Rule, Path string
		} `json:"findings"`
		Suppressed []struct {
			Rule, Path, Reason, Fingerprint string
			By                              string `json:"suppressed_by"`
		} `json:"suppressed"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Findings {
		if f.Rule == "writable-dir" && strings.HasPrefix(f.Path, "/incoming") {
			t.Errorf("suppressed finding still counted: %+v", f)
		}
	}
	if len(doc.Suppressed) == 0 {
		t.Fatal("nothing listed as suppressed")
	}
	for _, s := range doc.Suppressed {
		if s.Rule != "writable-dir" || !strings.HasPrefix(s.Path, "/incoming") || s.By != ignore+":2" || s.Reason != "drop box, being closed" || len(s.Fingerprint) != 32 {
			t.Errorf("suppressed %+v", s)
		}
	}
	if !strings.Contains(stderr, "suppression expired") || !strings.Contains(stderr, ignore+":3") {
		t.Errorf("the expired line is not reported: %s", stderr)
	}
	// The other machine formats list them too, marked, and never count
	// them as findings: a "suppressed" JSON line each, a SARIF result with
	// an accepted external suppression each, a metrics series by rule.
	metrics := filepath.Join(t.TempDir(), "ftpaudit.prom")
	code, stdout, stderr = runCLI(t, "scan", "--quiet", "--format", "jsonl", "--metrics-file", metrics, "--ignore-file", ignore, "ftp://"+srv.Addr+"/")
	if code != exitFindings {
		t.Fatalf("jsonl: exit %d; %s", code, stderr)
	}
	types := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var l struct {
			Type, Rule, Path string
			Suppressed       bool
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		types[l.Type]++
		if (l.Type == "suppressed") != l.Suppressed || (l.Type == "finding" && l.Rule == "writable-dir" && strings.HasPrefix(l.Path, "/incoming")) {
			t.Errorf("jsonl line %s", line)
		}
	}
	if types["suppressed"] != len(doc.Suppressed) || types["finding"] != len(doc.Findings) {
		t.Errorf("jsonl: %v lines, want %d findings and %d suppressed", types, len(doc.Findings), len(doc.Suppressed))
	}
	prom, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	if want := `ftpaudit_findings_suppressed{host="ftp://` + srv.Addr + `",rule="writable-dir",severity=`; !strings.Contains(string(prom), want) {
		t.Errorf("metrics lack %s...:\n%s", want, prom)
	}
	code, stdout, stderr = runCLI(t, "scan", "--quiet", "--format", "sarif", "--ignore-file", ignore, "ftp://"+srv.Addr+"/")
	if code != exitFindings {
		t.Fatalf("sarif: exit %d; %s", code, stderr)
	}
	var sarif struct {
		Runs []struct {
			Results []struct {
				Suppressions []struct{ Kind, Status, Justification string }
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &sarif); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, r := range sarif.Runs[0].Results {
		for _, s := range r.Suppressions {
			if s.Kind == "external" && s.Status == "accepted" && s.Justification == "drop box, being closed" {
				accepted++
			}
		}
	}
	if n := len(sarif.Runs[0].Results); accepted != len(doc.Suppressed) || n != len(doc.Findings)+len(doc.Suppressed) {
		t.Errorf("sarif: %d results, %d of them suppressed; want %d and %d", n, accepted, len(doc.Findings)+len(doc.Suppressed), len(doc.Suppressed))
	}

	// A bad file is refused before the scan, naming the line.
	if err := os.WriteFile(ignore, []byte("rule=writeable-dir host=* path=/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "scan", "--quiet", "--ignore-file", ignore, "ftp://"+srv.Addr+"/")
	if code != exitUsage || !strings.Contains(stderr, ignore+":1") {
		t.Errorf("bad file: exit %d, %s", code, stderr)
	}
}
