package ftpaudit

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const pw = "s3cret-Pa55"
	r := &Result{
		Hosts: []*HostResult{{
			Info:       ServerInfo{Banner: "220 hello " + pw, Features: []string{"X " + pw}},
			LoginError: "530 bad password " + pw,
			Incomplete: []string{"reply: " + pw},
			Errors:     []PathError{{Path: "/" + pw, Error: "550 " + pw + " denied"}},
			Entries: []Entry{{Path: "/pub/" + pw + ".txt", Name: pw + ".txt", Raw: "-rw-r--r-- 1 ftp ftp 1 Jan 1 2026 " + pw + ".txt",
				Extra: &EntryExtra{Facts: map[string]string{"x." + pw: pw}, ListRaw: pw}}},
			Probes:   []ProbeResult{{Dir: "/up", File: ProbeStep{Reply: "553 " + pw}}},
			Baseline: &BaselineReport{Note: pw},
			Stat:     &StatReport{Note: pw},
		}},
		Findings: []Finding{{Path: "/" + pw, Evidence: []string{"banner: " + pw}, Action: pw}},
	}
	n := r.Redact(pw, "ab")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), pw) || strings.Contains(string(b), "s3cret") {
		t.Errorf("the secret is still there: %s", b)
	}
	if n < 15 || !strings.Contains(string(b), Redacted) {
		t.Errorf("%d strings redacted", n)
	}
	// A secret shorter than MinSecretLen is not looked for: "ab" would
	// blank out ordinary text.
	r2 := &Result{Hosts: []*HostResult{{LoginError: "about"}}}
	if r2.Redact("ab") != 0 || r2.Hosts[0].LoginError != "about" {
		t.Errorf("short secret redacted: %q", r2.Hosts[0].LoginError)
	}
}
