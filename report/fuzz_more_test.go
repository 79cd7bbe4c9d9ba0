package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
)

// Fuzz targets for the escaping of server-supplied strings in the CSV,
// table and JSON-lines output. Their seeds (f.Add and
// testdata/fuzz/<Name>) run in every go test.

// fzUnescape undoes escape (Display's escapes; with quoted, also \"). It
// reports false for a backslash that starts no escape escape writes.
func fzUnescape(s string, quoted bool) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if quoted && c == '"' {
				return "", false // escape writes \" inside quotes
			}
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"':
			if !quoted {
				return "", false
			}
			b.WriteByte('"')
		case 'x':
			if i+2 >= len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil || strings.ToLower(s[i+1:i+3]) != s[i+1:i+3] {
				return "", false
			}
			b.WriteByte(byte(v))
			i += 2
		case 'u':
			j := strings.IndexByte(s[i:], '}')
			if i+1 >= len(s) || s[i+1] != '{' || j < 0 {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+2:i+j], 16, 32)
			if err != nil || !utf8.ValidRune(rune(v)) {
				return "", false
			}
			b.WriteRune(rune(v))
			i += j
		default:
			return "", false
		}
	}
	return b.String(), true
}

// csvColumn is the index of a column in the CSV output.
func csvColumn(name string) int {
	for i, h := range csvHeader {
		if h == name {
			return i
		}
	}
	panic(name)
}

// FuzzCSVCell checks the escaping of one server-supplied string: in a CSV
// cell (csvText, and a whole CSV report read back with encoding/csv) and
// with Display. Cells hold no control character and start no formula;
// the original comes back from a cell by undoing the escapes (after
// dropping the formula guard's quote), and exactly from path_b64.
func FuzzCSVCell(f *testing.F) {
	seeds := append(append([]string{}, hostilePaths...), formulas...)
	seeds = append(seeds, "", `\`, `\x41`, `\u{202e}`, "'=x", "'", "\"", "a\"b", "\uff0b1", "\u3000@x", "/\xf8\x00",
		"\xfb\xff", "é\u0301", "日本語", "\u2028\u2029\u0085", "\x7f\x80\x9f", "tab\there", " - ", "/a,b;c")
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, s string, col uint8) {
		c := csvText(s)
		for i := 0; i < len(c); i++ {
			if b := c[i]; b < 0x20 || b == 0x7f {
				t.Fatalf("csvText(%q) = %q has control byte %#x", s, c, b)
			}
		}
		if isFormulaStart(c) {
			t.Fatalf("csvText(%q) = %q starts a formula", s, c)
		}
		u, ok := fzUnescape(c, false)
		if !ok || u != s && !(u == "'"+s && isFormulaStart(DisplayText(s))) {
			t.Fatalf("csvText(%q) = %q does not give it back (%q, %v)", s, c, u, ok)
		}

		d := Display(s)
		if quoted := strings.HasPrefix(d, `"`); quoted != needsQuotes(s) {
			t.Fatalf("Display(%q) = %s: quoted %v", s, d, quoted)
		} else if quoted {
			if len(d) < 2 || !strings.HasSuffix(d, `"`) {
				t.Fatalf("Display(%q) = %s: unbalanced quotes", s, d)
			}
			d = d[1 : len(d)-1]
		}
		if u, ok := fzUnescape(d, needsQuotes(s)); !ok || u != s {
			t.Fatalf("Display(%q) = %s does not give it back (%q, %v)", s, Display(s), u, ok)
		}

		// A whole report, s in one of the text columns.
		fd := ftpaudit.Finding{Host: "ftp://h:21", Path: "/pub/x", Rule: "hidden-name", Severity: ftpaudit.SevHigh,
			Evidence: []string{"e"}, Size: -1, Action: "remove"}
		colName := ""
		switch col % 6 {
		case 0:
			fd.Host, colName = s, "host"
		case 1:
			fd.Path, colName = s, "path"
		case 2:
			fd.Rule, colName = s, "rule"
		case 3:
			fd.Evidence, colName = []string{s}, "evidence"
		case 4:
			fd.Evidence, colName = []string{s, s}, "evidence"
		case 5:
			fd.Action, colName = s, "action"
		}
		var b bytes.Buffer
		if err := (&CSV{}).Report(&b, &ftpaudit.Result{Findings: []ftpaudit.Finding{fd}}); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		if bytes.Count(out, []byte("\n")) != 2 || bytes.IndexByte(out, '\r') >= 0 {
			t.Fatalf("CSV of %q is not two lines: %q", s, out)
		}
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("CSV of %q does not read back: %v\n%q", s, err, out)
		}
		if len(recs) != 2 || len(recs[0]) != len(csvHeader) || len(recs[1]) != len(csvHeader) {
			t.Fatalf("CSV of %q reads back as %q", s, recs)
		}
		for i, cell := range recs[1] {
			if isFormulaStart(cell) {
				t.Fatalf("column %s of %q starts a formula: %q", csvHeader[i], s, cell)
			}
		}
		want := s
		if col%6 == 4 {
			want = s + "; " + s
		}
		if got := recs[1][csvColumn(colName)]; got != csvText(want) {
			t.Fatalf("column %s of %q is %q, want %q", colName, s, got, csvText(want))
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(recs[1][csvColumn("path_b64")], "'"))
		if err != nil || string(raw) != fd.Path {
			t.Fatalf("path_b64 %q gives %q (%v), want %q", recs[1][csvColumn("path_b64")], raw, err, fd.Path)
		}
	})
}

// FuzzTableRow renders a finding with server-supplied host, path,
// evidence and action, on a host with the evidence as the reason it is
// incomplete, as a table (at a width from the fuzzer) and as JSON lines.
// The table holds no control byte but the line ends, no invisible or bidi
// control, no line wider than its width, for every shown finding its
// path in full, its rule and its whole action, and one summary line for
// the host. Every JSON line is valid JSON with no raw control byte (ESC
// included), and gives back the path and start exactly.
func FuzzTableRow(f *testing.F) {
	evs := []string{"mode drwxrwxrwx: others may write", "banner 220 \x1b]0;title\x07 \x1b[2J", "a\r\nfake,row",
		"nul\x00 bad\xff rtl\u202e", strings.Repeat("long evidence ", 10), "日本語の証拠", "e\u0301\u0301", "\"q\"", "│ fake │ column"}
	for i, p := range append(append([]string{}, hostilePaths...), "/pub/日本", "/\u200b", "/a│b", "/"+strings.Repeat("x", 200)) {
		f.Add("ftp://127.0.0.1:2121", p, formulas[i%len(formulas)], evs[i%len(evs)],
			formulas[(i+1)%len(formulas)]+" then \x1b[2J remove \u202e it, a long action text", uint8(i), int64(i*1000-1), uint8(i))
	}
	f.Add("ftp://[::1]:21\x1b]0;title\x07", "/", "\t=x", "", "@SUM(1)", uint8(0), int64(-1), uint8(7))
	f.Add("", "", "", "", "", uint8(4), int64(1<<62), uint8(2))
	f.Fuzz(func(t *testing.T, host, path, ev1, ev2, action string, sev uint8, size int64, flags uint8) {
		t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
		start := "/"
		if flags&2 != 0 {
			start = path
		}
		h := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: host, Start: start}, Complete: flags&1 == 0,
			Stats: ftpaudit.Stats{Dirs: 3, Files: 4}}
		if !h.Complete {
			h.Incomplete = []string{ev1, ev2}
		}
		var ev []string
		switch flags >> 4 & 3 {
		case 1:
			ev = []string{ev1}
		case 2, 3:
			ev = []string{ev1, ev2}
		}
		mod := t0
		if flags&8 != 0 {
			mod = time.Time{}
		}
		res := &ftpaudit.Result{Started: t0, Finished: t0, Hosts: []*ftpaudit.HostResult{h}, Findings: []ftpaudit.Finding{
			{Host: host, Path: path, Rule: "hostile-name", Severity: ftpaudit.Severity(sev % 5), Evidence: ev,
				Size: size, Modified: mod, Action: action},
			{Host: host, Path: "/pub/README", Rule: "world-writable", Severity: ftpaudit.SevHigh, Evidence: []string{"x"}, Size: -1},
		}}
		// sev doubles as the width: 0 (80), below 30 (30) and 30 to 255.
		fzCheckTable(t, res, &Table{Verbose: flags&4 != 0, Width: int(sev)})

		lines := jsonlLines(t, report(t, &JSONL{}, res))
		if len(lines) != len(res.Findings)+1 {
			t.Fatalf("%d JSON lines for %d findings and a host", len(lines), len(res.Findings))
		}
		l := lines[0]
		if l.Type != "finding" || l.Path == nil || fzFromB64(t, *l.Path, l.PathB64) != path {
			t.Fatalf("finding line %s does not give back path %q", l.Raw, path)
		}
		if utf8.ValidString(action) && (l.Action == nil || *l.Action != action) {
			t.Fatalf("finding line %s does not give back action %q", l.Raw, action)
		}
		if (size >= 0) != (l.Size != nil) || (l.Size != nil && *l.Size != size) {
			t.Fatalf("finding line %s does not give back size %d", l.Raw, size)
		}
		if utf8.ValidString(host) && l.Host != host {
			t.Fatalf("host %q came back as %q", host, l.Host)
		}
		for i, e := range ev {
			if utf8.ValidString(e) && (len(l.Evidence) != len(ev) || l.Evidence[i] != e) {
				t.Fatalf("evidence %q came back as %q", ev, l.Evidence)
			}
		}
		hl := lines[len(lines)-1]
		if hl.Type != "host" || fzFromB64(t, hl.Start, hl.StartB64) != start {
			t.Fatalf("host line %s does not give back start %q", hl.Raw, start)
		}
	})
}

// fzFromB64 returns the exact string a JSON field and its _b64 companion
// stand for.
func fzFromB64(t *testing.T, s, b64 string) string {
	t.Helper()
	if b64 == "" {
		return s
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("bad base64 %q: %v", b64, err)
	}
	return string(raw)
}

// fzCheckTable checks the table of res for arbitrary strings: no control
// byte but the line ends, no line wider than the table's width, for every
// shown finding its path in full (on its row, or under it when the row
// shortens it), its rule and its whole action, and one summary line per
// host.
func fzCheckTable(t *testing.T, res *ftpaudit.Result, tbl *Table) {
	t.Helper()
	out := string(report(t, tbl, res))
	checkSafe(t, out)
	width := tbl.width()
	checkWidth(t, out, width)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// block returns the text of the label block starting at line i: the
	// label's line and the lines continuing it.
	block := func(i int) []string {
		b := []string{lines[i][textCol:]}
		for i++; i < len(lines) && strings.HasPrefix(lines[i], strings.Repeat(" ", textCol)); i++ {
			b = append(b, lines[i][textCol:])
		}
		return b
	}
	shown := 0
	for _, f := range res.Findings {
		if !shownAt(f.Severity, tbl.minShown()) {
			continue
		}
		shown++
		d, path, rule, action := Display(f.Path), false, false, f.Action == ""
		for i, l := range lines {
			switch {
			case isRow(l):
				rest, ok := strings.CutPrefix(l[sevCol+len(gap):], d)
				path = path || ok && (rest == "" || strings.HasPrefix(rest, gap))
			case strings.HasPrefix(l, "    path      "):
				path = path || strings.Join(block(i), "") == d
			case strings.HasPrefix(l, "    action    "):
				got, want := joinWrapped(block(i), DisplayText(f.Action), width-textCol)
				action = action || got == want
			case l == "  "+Display(f.Rule) || strings.HasPrefix(l, "  "+Display(f.Rule)+" ("):
				rule = true
			}
		}
		if !path || !rule || !action {
			t.Fatalf("%s: path shown %v, rule %v, action %v:\n%s", d, path, rule, action, out)
		}
	}
	if shown == 0 && !strings.HasPrefix(out, "No findings") {
		t.Fatalf("no finding to show, but:\n%s", out)
	}
	// The summary lines: the last paragraph, one per host, wrapped.
	var summary []string
	for _, l := range lines[slices.Index(lines, "")+1:] {
		switch {
		case l == "":
			summary = nil
		case strings.HasPrefix(l, "  ") && summary != nil:
			summary[len(summary)-1] += l[2:]
		default:
			summary = append(summary, l)
		}
	}
	if len(summary) != len(res.Hosts) {
		t.Fatalf("%d summary lines for %d hosts:\n%s", len(summary), len(res.Hosts), out)
	}
	for i, h := range res.Hosts {
		prefix := Display(h.Target.URL+pathSuffix(h.Target.Start)) + ":"
		if !strings.HasPrefix(spaceless(summary[i]), spaceless(prefix)) {
			t.Fatalf("summary line %q is not for %s:\n%s", summary[i], prefix, out)
		}
	}
}
