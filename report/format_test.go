package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/ftpaudit/ftpaudit"
)

// findingsSample is a scan of two hosts with findings of every severity.
func findingsSample() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	mod := time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)
	a := ftpaudit.Target{URL: "ftp://127.0.0.1:2121", Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"}
	b := ftpaudit.Target{URL: "ftps://mirror@[::1]:2121", Host: "::1", Port: "2121", User: "mirror", Start: "/pub"}
	ha := &ftpaudit.HostResult{
		Target: a, Info: ftpaudit.ServerInfo{Login: "anonymous"}, Started: t0, Finished: t0.Add(time.Second),
		Complete:   true,
		Stats:      ftpaudit.Stats{Dirs: 12, Files: 40, Other: 1, Links: 2, Listed: 11, Unreadable: 2},
		Unreadable: []ftpaudit.PathError{{Path: "/bin", Error: "550 Permission denied"}, {Path: "/etc", Error: "550 Permission denied"}},
	}
	hb := &ftpaudit.HostResult{
		Target: b, Info: ftpaudit.ServerInfo{Login: "mirror"}, Started: t0, Finished: t0.Add(3 * time.Second),
		Complete:   false,
		Incomplete: []string{"listings failed", "depth bound reached"},
		Stats:      ftpaudit.Stats{Dirs: 5, Files: 7, Listed: 3, Unreadable: 1, Errors: 2},
	}
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(3 * time.Second), Hosts: []*ftpaudit.HostResult{ha, hb},
		Findings: []ftpaudit.Finding{
			{Host: a.URL, Path: "/incoming", Rule: "writable-dir", Severity: ftpaudit.SevCritical,
				Evidence: []string{"mode drwxrwxrwx: others may write", "probe: STOR accepted"}, Size: 4096, Modified: mod,
				Action: "chmod o-w /incoming, or make it a write-only drop box (chmod 1733)"},
			{Host: a.URL, Path: "/  ", Rule: "hidden-name", Severity: ftpaudit.SevHigh,
				Evidence: []string{"name is only spaces"}, Size: 4096, Modified: mod, Action: "inspect and remove"},
			{Host: a.URL, Path: "/incoming/movie.mkv", Rule: "warez", Severity: ftpaudit.SevHigh,
				Evidence: []string{"4.7 GiB video in a writable upload area"}, Size: 5046586573, Modified: mod, Action: "remove"},
			{Host: b.URL, Path: "/pub/.ssh/id_rsa", Rule: "secret-file", Severity: ftpaudit.SevHigh,
				Evidence: []string{"private key name"}, Size: 1679, Modified: mod, Action: "remove it and rotate the key"},
			{Host: a.URL, Path: "/pub/...", Rule: "hidden-name", Severity: ftpaudit.SevMedium,
				Evidence: []string{"name is only dots"}, Size: -1, Action: "inspect"},
			{Host: b.URL, Path: "/pub/core", Rule: "core-dump", Severity: ftpaudit.SevLow,
				Evidence: nil, Size: 512},
			{Host: a.URL, Path: "/bin", Rule: "unreadable-dir", Severity: ftpaudit.SevInfo,
				Evidence: []string{"550 Permission denied"}, Size: -1},
			{Host: a.URL, Path: "/etc", Rule: "unreadable-dir", Severity: ftpaudit.SevInfo,
				Evidence: []string{"550 Permission denied"}, Size: 0},
		}}
}

// hostilePaths are names a hostile server can hand us.
var hostilePaths = []string{
	"/\x1b[2Jclear",
	"/osc\x1b]0;title\x07end",
	"/a\r\nfake,row",
	"/nul\x00byte",
	"/bad\xff\xfename",
	"/rtl\u202egpj.exe",
	"/  ",
	"/...",
	"/..",
	"/ lead/trail ",
	"/c1\u009b31mred",
	"=cmd|' /C calc'!A0",
	"+1",
	"-2",
	"@SUM(1)",
	"\t=x",
}

// formulas are cells a spreadsheet would run.
var formulas = []string{"=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\t=x", " =1+2", "\r=x", "\uff1dcmd"}

// hostileSample is a scan whose every server-supplied string is hostile.
func hostileSample() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	good := ftpaudit.Target{URL: "ftp://127.0.0.1:2121", Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"}
	evil := ftpaudit.Target{URL: "ftp://[::1]:21\x1b]0;title\x07", Host: "::1", Port: "21", User: "anonymous", Start: "/\x1b[2J"}
	h1 := &ftpaudit.HostResult{Target: good, Info: ftpaudit.ServerInfo{Banner: "220 \x1b[2J\x1b]0;title\x07"}, Started: t0, Finished: t0,
		Complete: true, Stats: ftpaudit.Stats{Dirs: 3, Files: 9, Listed: 3}}
	h2 := &ftpaudit.HostResult{Target: evil, Started: t0, Finished: t0,
		Complete: false, Incomplete: []string{"listings failed", "no session: 421 \x1b[2Jbusy\r\nfake,row"},
		Stats: ftpaudit.Stats{Errors: 1}}
	var fs []ftpaudit.Finding
	sev := []ftpaudit.Severity{ftpaudit.SevCritical, ftpaudit.SevHigh, ftpaudit.SevMedium, ftpaudit.SevLow, ftpaudit.SevInfo}
	for i, p := range hostilePaths {
		ev := []string{formulas[i%len(formulas)], "banner 220 \x1b]0;title\x07 \x1b[2J", "a\r\nfake,row", "nul\x00 bad\xff rtl\u202e"}
		fs = append(fs, ftpaudit.Finding{
			Host: good.URL, Path: p, Rule: "hostile-name", Severity: sev[i*len(sev)/len(hostilePaths)],
			Evidence: ev, Size: int64(i * 1000), Modified: t0.Add(-time.Duration(i) * time.Hour),
			Action: formulas[(i+1)%len(formulas)] + " then \x1b[2J remove \u202e it, a long action text that will have to be cut short",
		})
	}
	fs = append(fs, ftpaudit.Finding{Host: evil.URL, Path: "/", Rule: "banner", Severity: ftpaudit.SevInfo,
		Evidence: []string{"\t=x"}, Size: -1, Action: "@SUM(1)"})
	return &ftpaudit.Result{Started: t0, Finished: t0, Hosts: []*ftpaudit.HostResult{h1, h2}, Findings: fs}
}

func report(t *testing.T, r Reporter, res *ftpaudit.Result) []byte {
	t.Helper()
	narrowWidths(t)
	var b bytes.Buffer
	if err := r.Report(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// narrowWidths makes the table's width arithmetic independent of the
// locale tests run in ("…" and box drawing are East Asian ambiguous).
func narrowWidths(t *testing.T) {
	if was := twwidth.IsEastAsian(); was {
		twwidth.SetEastAsian(false)
		t.Cleanup(func() { twwidth.SetEastAsian(was) })
	}
}

// failWriter fails once more than left bytes are written.
type failWriter struct{ left int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, io.ErrShortWrite
	}
	f.left -= len(p)
	return len(p), nil
}

func TestCSVGolden(t *testing.T) {
	golden(t, "findings.csv.golden", report(t, &CSV{}, findingsSample()))
	golden(t, "findings_hostile.csv.golden", report(t, &CSV{}, hostileSample()))
	none := findingsSample()
	none.Findings = nil
	if got := string(report(t, &CSV{}, none)); got != "severity,host,path,rule,evidence,size,modified,action,path_b64\n" {
		t.Errorf("no findings: %q", got)
	}
}

// isFormulaStart reports whether a spreadsheet would read cell as a
// formula (OWASP CSV injection), looking past leading white space.
func isFormulaStart(cell string) bool {
	s := strings.TrimLeftFunc(cell, func(r rune) bool { return r != '\t' && r != '\r' && unicode.IsSpace(r) })
	return s != "" && strings.ContainsRune("=+-@\t\r\uff1d\uff0b\uff0d\uff20", []rune(s)[0])
}

func TestCSVSafe(t *testing.T) {
	for _, res := range []*ftpaudit.Result{findingsSample(), hostileSample()} {
		out := report(t, &CSV{}, res)
		for i, c := range out {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				t.Fatalf("CSV carries control byte %#x at %d", c, i)
			}
		}
		if !utf8.Valid(out) || bytes.ContainsRune(out, '\u202e') {
			t.Fatal("CSV carries invalid UTF-8 or a bidi override")
		}
		rd := csv.NewReader(bytes.NewReader(out))
		rd.FieldsPerRecord = 9
		var recs [][]string
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			recs = append(recs, rec)
		}
		if len(recs) != len(res.Findings)+1 {
			t.Fatalf("%d records, want %d", len(recs), len(res.Findings)+1)
		}
		if strings.Join(recs[0], ",") != "severity,host,path,rule,evidence,size,modified,action,path_b64" {
			t.Errorf("header %q", recs[0])
		}
		for i, rec := range recs[1:] {
			f := res.Findings[i]
			for j, cell := range rec {
				if isFormulaStart(cell) {
					t.Errorf("record %d field %s starts a formula: %q", i+1, recs[0][j], cell)
				}
			}
			raw, err := base64.StdEncoding.DecodeString(rec[8])
			if err != nil || string(raw) != f.Path {
				t.Errorf("record %d: path_b64 %q decodes to %q (%v), want %q", i+1, rec[8], raw, err, f.Path)
			}
			if rec[0] != f.Severity.String() || rec[3] != f.Rule {
				t.Errorf("record %d: severity/rule %q %q", i+1, rec[0], rec[3])
			}
			wantSize := ""
			if f.Size >= 0 {
				wantSize = strconv.FormatInt(f.Size, 10)
			}
			if rec[5] != wantSize {
				t.Errorf("record %d: size %q, want %q", i+1, rec[5], wantSize)
			}
			if !f.Modified.IsZero() {
				if m, err := time.Parse(time.RFC3339, rec[6]); err != nil || !m.Equal(f.Modified) || !strings.HasSuffix(rec[6], "Z") {
					t.Errorf("record %d: modified %q (%v)", i+1, rec[6], err)
				}
			} else if rec[6] != "" {
				t.Errorf("record %d: unknown modified as %q", i+1, rec[6])
			}
		}
	}
}

func TestCSVCells(t *testing.T) {
	for in, want := range map[string]string{
		"=cmd|' /C calc'!A0": `'=cmd|' /C calc'!A0`,
		"+1":                 "'+1",
		"-2":                 "'-2",
		"@SUM(1)":            "'@SUM(1)",
		"\t=x":               `\t=x`, // the tab is escaped, so no formula
		"\r=x":               `\r=x`,
		" =1+2":              "' =1+2",
		"\u00a0\u3000-1":     "'\u00a0\u3000-1",
		"\uff1dcmd":          "'\uff1dcmd",
		"/pub/a,b \"q\"":     `/pub/a,b "q"`,
		"/  ":                "/  ",
		"a\r\nfake,row":      `a\r\nfake,row`,
		"nul\x00":            `nul\x00`,
		"bad\xff":            `bad\xff`,
		"rtl\u202e":          `rtl\u{202e}`,
		"back\\slash":        `back\\slash`,
		"/plain":             "/plain",
		"":                   "",
	} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
	// A raw tab or CR (never left by csvText, but formulaSafe stands
	// alone) is prefixed too.
	for _, in := range []string{"\t=x", "\r=x", "  @x"} {
		if got := formulaSafe(in); got != "'"+in {
			t.Errorf("formulaSafe(%q) = %q", in, got)
		}
	}
}

func FuzzCSVText(f *testing.F) {
	for _, s := range append(append([]string{}, hostilePaths...), formulas...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := csvText(s)
		for i := 0; i < len(c); i++ {
			if b := c[i]; b < 0x20 || b == 0x7f {
				t.Fatalf("csvText(%q) = %q has control byte %#x", s, c, b)
			}
		}
		if isFormulaStart(c) {
			t.Fatalf("csvText(%q) = %q starts a formula", s, c)
		}
	})
}

// Display quotes names that start or end with any white space a terminal
// shows as blank, judged by rune, not by byte.
func TestDisplayUnicodeSpaces(t *testing.T) {
	for in, want := range map[string]string{
		"/voilà":        "/voilà", // à is C3 A0: not a trailing NBSP
		"/à/b":          "/à/b",
		"/\u00a0lead":   "\"/\u00a0lead\"",
		"/trail\u00a0":  "\"/trail\u00a0\"",
		"/\u3000":       "\"/\u3000\"",
		"/\u2003x":      "\"/\u2003x\"",
		"/x\u2003y":     "/x\u2003y",
		"/bad\xa0":      `/bad\xa0`,
		"/a\n":          `"/a\n"`,
		"/..":           "/..",
		"/.":            "/.",
		"/ ":            `"/ "`,
		"/\t=x":         `"/\t=x"`,
		"\u00a0":        "\"\u00a0\"",
		"/pub/ok file":  "/pub/ok file",
		"/pub/x /y/ z ": `"/pub/x /y/ z "`,
	} {
		if got := Display(in); got != want {
			t.Errorf("Display(%q) = %s, want %s", in, got, want)
		}
	}
}
