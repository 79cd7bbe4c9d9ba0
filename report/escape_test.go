package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// TestEvidenceEscapedOnce: the rules put server names into evidence raw
// (in plain quotes); the table and the CSV escape them once and do not
// quote the whole evidence, and JSON carries it as it is.
func TestEvidenceEscapedOnce(t *testing.T) {
	ev := `in writable area "/up` + "\x1b[2J" + `" (listable): 1 file, back\slash`
	res := &ftpaudit.Result{Findings: []ftpaudit.Finding{{Host: "ftp://h:21", Path: "/up\x1b[2J/x.exe", Rule: "in-writable-area",
		Severity: ftpaudit.SevMedium, Evidence: []string{ev, `login as "anonymous" accepted`}, Size: -1,
		Action: `remove "/up` + "\x1b[2J" + `/x.exe"`}}}
	wantEv := `in writable area "/up\x1b[2J" (listable): 1 file, back\\slash; login as "anonymous" accepted`
	wantAct := `remove "/up\x1b[2J/x.exe"`
	out := string(report(t, &Table{Width: 200}, res))
	ev0, ev1, _ := strings.Cut(wantEv, "; ")
	for _, want := range []string{"- " + ev0 + "\n", "- " + ev1 + "\n", "    action    " + wantAct + "\n", `  /up\x1b[2J/x.exe  `} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	out = string(report(t, &CSV{}, res))
	if !strings.Contains(out, `,"`+strings.ReplaceAll(wantEv, `"`, `""`)+`",`) {
		t.Errorf("csv:\n%s", out)
	}
	var doc struct {
		Findings []struct {
			Evidence []string `json:"evidence"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(report(t, &JSON{}, res), &doc); err != nil || doc.Findings[0].Evidence[0] != ev {
		t.Errorf("json evidence %+v, %v", doc, err)
	}
}

func TestDisplayText(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"/  ":                        "/  ",
		" lead and trail ":           " lead and trail ",
		`say "hi" / bye`:             `say "hi" / bye`,
		"220 \x1b]0;t\x07 ok\r\n":    `220 \x1b]0;t\x07 ok\r\n`,
		"back\\slash":                `back\\slash`,
		"rtl\u202e bad\xff c1\u009b": `rtl\u{202e} bad\xff c1\u{9b}`,
	} {
		if got := DisplayText(in); got != want {
			t.Errorf("DisplayText(%q) = %s, want %s", in, got, want)
		}
	}
}
