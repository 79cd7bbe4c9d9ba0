package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/rules"
)

// hostileArchive is a walked archive whose every name an anonymous
// uploader chose: escape sequences, bidi overrides, bytes that are not
// UTF-8, white space at the ends, and a reply that forges a line. Two
// targets share one URL (two start directories).
func hostileArchive() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	mod := time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)
	e := func(p, mode, owner string, size int64) ftpaudit.Entry {
		i := strings.LastIndexByte(p, '/')
		typ := ftpaudit.TypeFile
		switch mode[0] {
		case 'd':
			typ = ftpaudit.TypeDir
		case 'l':
			typ = ftpaudit.TypeLink
		}
		return ftpaudit.Entry{Path: p, Name: p[i+1:], Type: typ, Size: size, Mode: mode, Owner: owner, Group: owner, Modified: mod,
			Raw: mode + " 1 " + owner + " " + owner + " " + strconv.FormatInt(size, 10) + " Nov 01 12:30 " + p[i+1:]}
	}
	link := e("/pub/etc\x1b]0;x\x07", "lrwxrwxrwx", "root", 4)
	link.Extra = &ftpaudit.EntryExtra{Target: "/etc"}
	url := "ftp://127.0.0.1:2121"
	tg := func(start string) ftpaudit.Target {
		return ftpaudit.Target{URL: url, Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: start}
	}
	root := &ftpaudit.HostResult{
		Target:   tg("/"),
		Info:     ftpaudit.ServerInfo{Banner: "220 welcome\x1b[2J\r\n220 fake line", Login: "anonymous"},
		Started:  t0,
		Finished: t0.Add(2 * time.Second),
		Complete: true,
		Stats:    ftpaudit.Stats{Dirs: 4, Files: 5, Links: 1, Listed: 4, Unreadable: 1},
		Unreadable: []ftpaudit.PathError{
			{Path: "/secret\r\nfake row", Error: "550 Permission denied\x1b[31m"},
		},
		Entries: []ftpaudit.Entry{
			e("/pub", "drwxr-xr-x", "root", 4096),
			e("/pub/.hidden-upload\u202eosi.exe", "-rw-r--r--", "ftp", 4<<30),
			e("/pub/bad\xffname.rar", "-rw-r--r--", "ftp", 1234567),
			link,
			e("/secret\r\nfake row", "drwx------", "root", 4096),
			e("/up\x1b[2J", "drwxrwxrwx", "root", 4096),
			e("/up\x1b[2J/keygen.exe", "-rw-r--r--", "ftp", 412672),
			e("/up\x1b[2J/trail ", "-rw-rw-rw-", "ftp", 1),
		},
	}
	drop := &ftpaudit.HostResult{
		Target:   tg("/incoming "),
		Started:  t0,
		Finished: t0.Add(time.Second),
		Complete: true,
		Stats:    ftpaudit.Stats{Dirs: 1, Files: 1, Listed: 1},
		Entries: []ftpaudit.Entry{
			e("/incoming ", "drwxrwxrwx", "root", 4096),
			e("/incoming /0day\u200b.nfo", "-rw-r--r--", "ftp", 99),
		},
	}
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(3 * time.Second), Hosts: []*ftpaudit.HostResult{root, drop}}
}

// TestJudgedHostileArchive runs the real judge and then every reporter on
// a hostile archive. Server text must be escaped exactly once (no raw
// control byte, no doubled backslash), and every format must count the
// same findings per target.
func TestJudgedHostileArchive(t *testing.T) {
	res := hostileArchive()
	rules.JudgeResult(res, nil)
	if len(res.Findings) < 5 {
		t.Fatalf("the judge found only %d findings on the hostile archive", len(res.Findings))
	}
	out := map[string][]byte{}
	for _, format := range Formats() {
		r, err := New(format, Options{Inventory: true, Verbose: true})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := r.Report(&b, res); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out[format] = b.Bytes()
		golden(t, "judged."+format+".golden", b.Bytes())
	}
	var m bytes.Buffer
	if err := WriteMetrics(&m, res, nil); err != nil {
		t.Fatal(err)
	}
	out["metrics"] = m.Bytes()
	golden(t, "judged.metrics.golden", m.Bytes())

	// Text for terminals and spreadsheets: escaped once.
	for _, format := range []string{"table", "summary", "csv", "metrics"} {
		s := string(out[format])
		if !utf8.ValidString(s) {
			t.Errorf("%s: output is not UTF-8", format)
		}
		for i, r := range s {
			bad := r < 0x20 && r != '\n' && !(r == '\r' && format == "csv" && strings.HasPrefix(s[i:], "\r\n")) ||
				r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u202e' || r == '\u200b'
			if bad {
				t.Errorf("%s: raw %U at byte %d: %q", format, r, i, s[max(0, i-20):min(len(s), i+20)])
				break
			}
		}
		if strings.Contains(s, `\\x`) || strings.Contains(s, `\\u`) || strings.Contains(s, `\\r`) {
			t.Errorf("%s: escaped twice (a doubled backslash):\n%s", format, s)
		}
	}
	for _, want := range []string{`/up\x1b[2J`, `\u{202e}`} {
		if !strings.Contains(string(out["table"]), want) {
			t.Errorf("table does not show %q", want)
		}
	}

	// The same counts per target everywhere, summing to the findings.
	total := len(res.Findings)
	var doc struct {
		Hosts []struct {
			Target   string         `json:"target"`
			Start    string         `json:"start"`
			Findings map[string]int `json:"findings"`
		} `json:"hosts"`
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(out["json"], &doc); err != nil {
		t.Fatal(err)
	}
	jsonSum := 0
	for _, h := range doc.Hosts {
		for _, n := range h.Findings {
			jsonSum += n
		}
	}
	if len(doc.Findings) != total || jsonSum != total {
		t.Errorf("json: %d findings listed, %d counted per host; want %d", len(doc.Findings), jsonSum, total)
	}
	jsonlSum, jsonlFindings := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(out["jsonl"]))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Type     string         `json:"type"`
			Findings map[string]int `json:"findings"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		switch line.Type {
		case "finding":
			jsonlFindings++
		case "host":
			for _, n := range line.Findings {
				jsonlSum += n
			}
		}
	}
	if jsonlFindings != total || jsonlSum != total {
		t.Errorf("jsonl: %d finding lines, %d counted on host lines; want %d", jsonlFindings, jsonlSum, total)
	}
	metricsSum := 0
	for _, m := range regexp.MustCompile(`(?m)^ftpaudit_findings\{[^}]*\} (\d+)$`).FindAllStringSubmatch(string(out["metrics"]), -1) {
		n, _ := strconv.Atoi(m[1])
		metricsSum += n
	}
	if metricsSum != total {
		t.Errorf("metrics: %d findings counted; want %d", metricsSum, total)
	}
	if n := strings.Count(string(out["csv"]), "\n") - 1; n != total {
		t.Errorf("csv: %d rows; want %d", n, total)
	}
}
