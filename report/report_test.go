package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
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
			{Path: "/link", Name: "link", Type: ftpaudit.TypeLink, Size: -1, Raw: "type=OS.unix=slink:/etc; link", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "OS.unix=slink:/etc"}, Target: "/etc"}},
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
			Path    string `json:"path"`
			PathB64 string `json:"path_b64"`
			Size    *int64 `json:"size"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "ftpaudit.scan/v1" || len(doc.Entries) != 3 {
		t.Fatalf("doc %+v", doc)
	}
	raw, _ := base64.StdEncoding.DecodeString(doc.Entries[1].PathB64)
	if string(raw) != "/bad\xffname" {
		t.Errorf("path_b64 decodes to %q", raw)
	}
	if doc.Entries[0].Path != "/  " || doc.Entries[0].PathB64 != "" {
		t.Errorf("valid UTF-8 path altered: %+v", doc.Entries[0])
	}
	if doc.Entries[2].Size != nil {
		t.Errorf("unknown size emitted as %d", *doc.Entries[2].Size)
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
