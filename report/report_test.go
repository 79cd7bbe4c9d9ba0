package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func sample() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	mod := time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)
	tgt := ftpaudit.Target{URL: "ftp://127.0.0.1:2121", Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"}
	h := &ftpaudit.HostResult{
		Target:     tgt,
		Info:       ftpaudit.ServerInfo{Banner: "220 (vsFTPd 3.0.3)\x1b]0;pwned\x07", Features: []string{"EPSV", "MDTM"}, Login: "anonymous"},
		Started:    t0,
		Finished:   t0.Add(1500 * time.Millisecond),
		Complete:   false,
		Incomplete: []string{"listings failed"},
		Stats:      ftpaudit.Stats{Dirs: 3, Files: 2, Links: 1, Unreadable: 1, Errors: 1, Listed: 3},
		Unreadable: []ftpaudit.PathError{{Path: "/bin", Error: "550 Permission denied"}},
		Errors:     []ftpaudit.PathError{{Path: "/pub/\x1b[2Jclear\r\nfake row", Error: "list: connection lost: EOF"}},
		Entries: []ftpaudit.Entry{
			{Path: "/  ", Name: "  ", Type: ftpaudit.TypeDir, Size: 4096, Mode: "drwxrwxrwx", Owner: "ftp", Group: "ftp", Modified: mod, Raw: "drwxrwxrwx    2 ftp      ftp          4096 Nov 01 12:30   "},
			{Path: "/bad\xffname", Name: "bad\xffname", Type: ftpaudit.TypeFile, Size: 12, Mode: "-rw-r--r--", Owner: "0", Group: "0", Modified: mod, Raw: "-rw-r--r--    1 0        0              12 Nov 01 12:30 bad\xffname"},
			// Only LIST -a showed it (a proftpd dangling symlink): the merge
			// moved its line to ListRaw.
			{Path: "/dangling", Name: "dangling", Type: ftpaudit.TypeLink, Size: 9, Mode: "lrwxrwxrwx", Owner: "ftp", Group: "ftp", Modified: mod,
				Extra: &ftpaudit.EntryExtra{ListRaw: "lrwxrwxrwx    1 ftp      ftp             9 Nov 01 12:30 dangling -> /nowhere", Target: "/nowhere"}},
			{Path: "/link", Name: "link", Type: ftpaudit.TypeLink, Size: -1, Raw: "type=OS.unix=slink:/etc; link", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "OS.unix=slink:/etc"}, Target: "/etc"}},
			// Listed both ways (MLSD and LIST -a), a name that is not UTF-8.
			{Path: "/pub\xff", Name: "pub\xff", Type: ftpaudit.TypeDir, Size: -1, Mode: "drwxr-xr-x", Owner: "ftp", Group: "ftp", Modified: mod,
				Raw: "type=dir;modify=20261101123000;perm=el; pub\xff",
				Extra: &ftpaudit.EntryExtra{Perm: "el", Facts: map[string]string{"type": "dir", "modify": "20261101123000", "perm": "el"},
					ListRaw: "drwxr-xr-x    2 ftp      ftp          4096 Nov 01 12:30 pub\xff"}},
		},
	}
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(2 * time.Second), Hosts: []*ftpaudit.HostResult{h},
		Findings: []ftpaudit.Finding{{Host: tgt.URL, Path: "/  ", Rule: "hidden-name", Severity: ftpaudit.SevHigh, Evidence: []string{"name is only spaces"}}}}
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := (&JSON{Inventory: true}).Report(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "scan.json.golden", b.Bytes())
	// The document must round-trip, and invalid UTF-8 must be recoverable
	// exactly from path_b64.
	var doc struct {
		Schema  string `json:"schema"`
		Entries []struct {
			Path       string  `json:"path"`
			PathB64    string  `json:"path_b64"`
			Size       *int64  `json:"size"`
			Raw        *string `json:"raw"`
			RawB64     string  `json:"raw_b64"`
			RawList    *string `json:"raw_list"`
			RawListB64 string  `json:"raw_list_b64"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "ftpaudit.scan/v1" || len(doc.Entries) != 5 {
		t.Fatalf("doc %+v", doc)
	}
	raw, _ := base64.StdEncoding.DecodeString(doc.Entries[1].PathB64)
	if string(raw) != "/bad\xffname" {
		t.Errorf("path_b64 decodes to %q", raw)
	}
	if doc.Entries[0].Path != "/  " || doc.Entries[0].PathB64 != "" {
		t.Errorf("valid UTF-8 path altered: %+v", doc.Entries[0])
	}
	if doc.Entries[3].Size != nil {
		t.Errorf("unknown size emitted as %d", *doc.Entries[3].Size)
	}
	// raw is the line the entry was parsed from, raw_list the LIST -a line
	// of an entry MLSD showed too; an entry only LIST -a showed has its
	// line as raw, and no raw_list.
	entries := sample().Hosts[0].Entries
	for i, e := range doc.Entries {
		src := entries[i]
		wantRaw, wantList := src.Raw, src.ListRaw()
		if wantRaw == "" {
			wantRaw, wantList = wantList, ""
		}
		if e.Raw == nil || *e.Raw == "" || fzFromB64(t, *e.Raw, e.RawB64) != wantRaw {
			t.Errorf("entry %s: raw %v (b64 %q), want %q", e.Path, e.Raw, e.RawB64, wantRaw)
		}
		gotList := ""
		if e.RawList != nil {
			gotList = fzFromB64(t, *e.RawList, e.RawListB64)
		}
		if gotList != wantList || (wantList == "") != (e.RawList == nil) {
			t.Errorf("entry %s: raw_list %v (b64 %q), want %q", e.Path, e.RawList, e.RawListB64, wantList)
		}
	}
	if *doc.Entries[2].Raw != entries[2].ListRaw() || doc.Entries[4].RawList == nil {
		t.Errorf("LIST-only or paired entry lost a line: %+v", doc.Entries)
	}
	// Without --inventory, no entries.
	b.Reset()
	_ = (&JSON{}).Report(&b, sample())
	if !strings.Contains(b.String(), `"entries": []`) {
		t.Error("entries present without Inventory")
	}
}

func TestSummaryGolden(t *testing.T) {
	var b bytes.Buffer
	if err := (&Summary{}).Report(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.txt.golden", b.Bytes())
	for _, c := range b.String() {
		if c == 0x1b || c == '\r' || c == 0x07 {
			t.Fatalf("summary carries control character %U:\n%q", c, b.String())
		}
	}
}

func TestDisplay(t *testing.T) {
	for in, want := range map[string]string{
		"/pub/README":            "/pub/README",
		"/  ":                    `"/  "`,
		"/pub/trail /x":          `"/pub/trail /x"`,
		"/ lead":                 `"/ lead"`,
		"/...":                   "/...",
		"\x1b[31mred\x1b[0m":     `\x1b[31mred\x1b[0m`,
		"a\r\nb":                 `a\r\nb`,
		"bad\xff":                `bad\xff`,
		"back\\slash":            `back\\slash`,
		"rtl\u202eexe.txt":       `rtl\u{202e}exe.txt`,
		"zero\u200bwidth":        `zero\u{200b}width`,
		"c1\u009bcsi":            `c1\u{9b}csi`,
		"say \"hi\"":             `"say \"hi\""`,
		"café 日本":                "café 日本",
		"":                       `""`,
		"tab\tname":              `tab\tname`,
		"nul\x00":                `nul\x00`,
		"osc\x1b]0;title\x07end": `osc\x1b]0;title\x07end`,
	} {
		if got := Display(in); got != want {
			t.Errorf("Display(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzDisplay(f *testing.F) {
	for _, s := range []string{"", "/  ", "\x1b[31m", "a\r\nb", "bad\xff", "\u202e", "\"q\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := Display(s)
		for i := 0; i < len(d); i++ {
			if c := d[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("Display(%q) = %q has control byte %#x", s, d, c)
			}
		}
		if strings.ContainsRune(d, '\u202e') || strings.ContainsRune(d, '\u0085') {
			t.Fatalf("Display(%q) = %q keeps an invisible control", s, d)
		}
	})
}

func TestFormats(t *testing.T) {
	want := []string{"table", "summary", "json", "jsonl", "csv", "sarif"}
	got := Formats()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Formats() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if Formats()[0] != "table" {
		t.Error("Formats shares its slice with the caller")
	}
}

func TestNew(t *testing.T) {
	opts := Options{Inventory: true, Verbose: true, MaxEvidence: 20, MaxAction: 30, MaxPaths: 5, ToolVersion: "v9"}
	for _, c := range []struct {
		format string
		want   Reporter
	}{
		{"table", &Table{Verbose: true, MaxEvidence: 20, MaxAction: 30}},
		{"summary", &Summary{MaxPaths: 5}},
		{"json", &JSON{Inventory: true, ToolVersion: "v9"}},
		{"jsonl", &JSONL{Inventory: true}},
		{"csv", &CSV{}},
		{"sarif", &SARIF{ToolVersion: "v9"}},
	} {
		r, err := New(c.format, opts)
		if err != nil {
			t.Fatalf("New(%q): %v", c.format, err)
		}
		if fmt.Sprintf("%T %+v", r, r) != fmt.Sprintf("%T %+v", c.want, c.want) {
			t.Errorf("New(%q) = %T %+v, want %T %+v", c.format, r, r, c.want, c.want)
		}
	}
	// Every name Formats gives is one New knows, and the zero Options
	// work.
	for _, f := range Formats() {
		r, err := New(f, Options{})
		if err != nil || r == nil {
			t.Fatalf("New(%q, Options{}) = %v, %v", f, r, err)
		}
		if len(report(t, r, findingsSample())) == 0 {
			t.Errorf("%s wrote nothing", f)
		}
	}
	for _, bad := range []string{"", "auto", "metrics", "JSON", "xml"} {
		r, err := New(bad, opts)
		if err == nil || r != nil {
			t.Fatalf("New(%q) = %v, %v; want an error", bad, r, err)
		}
		if want := fmt.Sprintf("unknown format %q: want table, summary, json, jsonl, csv, sarif", bad); err.Error() != want {
			t.Errorf("New(%q): %q, want %q", bad, err, want)
		}
	}
}

// TestWriteErrorsAll: every format, and the history views, return the
// error of a writer that fails, wherever it fails.
func TestWriteErrorsAll(t *testing.T) {
	type writeFunc func(w *failWriter) error
	cases := map[string]writeFunc{
		"metrics": func(w *failWriter) error { return WriteMetrics(w, findingsSample(), nil) },
		"diff": func(w *failWriter) error {
			return Diff(w, &DiffDoc{A: 1, B: 2, Hosts: []DiffHost{{Target: "ftp://h:21", Start: "/", Baseline: &ftpaudit.BaselineReport{Added: 1, NotCompared: 2, NotComparedDirs: []string{"/x", "/ y"}}},
				{Target: "ftp://g:21", Start: "/pub", Note: "no earlier scan"}}, Findings: findingsSample().Findings}, false)
		},
		"verify": func(w *failWriter) error {
			return Verify(w, &VerifyDoc{ScanID: 3, Incomplete: []string{"listings failed"},
				Items: []VerifyItem{{Status: "gone", Finding: findingsSample().Findings[0]}, {Status: "new", Finding: findingsSample().Findings[1]}}}, false)
		},
	}
	for _, f := range Formats() {
		r, _ := New(f, Options{Inventory: true})
		cases[f] = func(w *failWriter) error { return r.Report(w, sample()) }
		cases[f+" findings"] = func(w *failWriter) error { return r.Report(w, findingsSample()) }
	}
	for name, write := range cases {
		full := &failWriter{left: 1 << 30}
		if err := write(full); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		size := 1<<30 - full.left
		for _, n := range []int{0, 1, size / 3, size / 2, size - 1} {
			if err := write(&failWriter{left: n}); err == nil {
				t.Errorf("%s: writer failing after %d of %d bytes: no error", name, n, size)
			}
		}
		if err := write(&failWriter{left: size}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
