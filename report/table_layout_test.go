package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/rules"
)

// judgedArchive is hostileArchive judged by the real rules.
func judgedArchive(t *testing.T) *ftpaudit.Result {
	t.Helper()
	res := hostileArchive()
	rules.JudgeResult(res, nil)
	return res
}

func TestTableGolden(t *testing.T) {
	for _, w := range []int{60, 80, 120} {
		golden(t, fmt.Sprintf("table_sample_%d.golden", w), report(t, &Table{Width: w}, findingsSample()))
		golden(t, fmt.Sprintf("table_hostile_%d.golden", w), report(t, &Table{Width: w, Verbose: true}, hostileSample()))
		if w != 80 { // judged.table.golden is the judged archive at 80 (TestJudgedHostileArchive)
			r, err := New("table", Options{Verbose: true, Width: w})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, fmt.Sprintf("table_judged_%d.golden", w), report(t, r, judgedArchive(t)))
		}
	}
	golden(t, "table_verbose.golden", report(t, &Table{Verbose: true}, findingsSample()))
	golden(t, "table_narrow.golden", report(t, &Table{Width: 40, Verbose: true}, judgedArchive(t)))
	golden(t, "table_color.golden", report(t, &Table{Color: true}, findingsSample()))

	none := findingsSample()
	none.Findings = nil
	golden(t, "table_none.golden", report(t, &Table{}, none))
	infoOnly := findingsSample()
	infoOnly.Findings = infoOnly.Findings[len(infoOnly.Findings)-2:]
	golden(t, "table_info_only.golden", report(t, &Table{}, infoOnly))
}

// The parsed table: what a reader sees, rebuilt from the lines.

type tblFinding struct {
	rule, sev        string // sev is "" when it is the row's
	evidence, action []string
}

type tblBlock struct {
	sev, shown, size, modified string
	path, sizeLine             []string
	findings                   []*tblFinding
}

type tblTarget struct {
	name   string
	counts []string
	blocks []*tblBlock
}

var (
	sevWords = map[string]bool{"critical": true, "high": true, "medium": true, "low": true, "info": true, "unknown": true}
	// rowColumns is a row line with SIZE and MODIFIED columns.
	rowColumns = regexp.MustCompile(`^(.*\S) +(\d+(?:\.\d)? (?:B|KiB|MiB|GiB|TiB|PiB|EiB)|-)  (\d{4}-\d\d-\d\d \d\d:\d\d|-)$`)
	ruleSev    = regexp.MustCompile(`^(.*) \((critical|high|medium|low|info|unknown)\)$`)
	sgr        = regexp.MustCompile("\x1b\\[(1;31|31|33|36|34)m(critical|high|medium|low|info)\x1b\\[0m")
)

// isRow reports whether a line is a path's row line: a severity word
// padded to the SEVERITY column, then the path.
func isRow(l string) bool {
	return len(l) > sevCol+len(gap) && sevWords[strings.TrimRight(l[:sevCol], " ")] &&
		l[sevCol:sevCol+len(gap)] == gap && l[sevCol+len(gap)] != ' '
}

// parseTable rebuilds the targets and path blocks of a table, and
// returns the lines after them (the hidden note and the summary lines).
func parseTable(t *testing.T, out string) ([]*tblTarget, []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if strings.HasPrefix(out, "No findings") {
		return nil, lines
	}
	var targets []*tblTarget
	i := 0
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("line %d: %s\n%s", i+1, fmt.Sprintf(format, a...), out)
	}
	// isHeading reports whether a target heading starts at line i: an
	// underline before the next blank line.
	isHeading := func(i int) bool {
		for ; i < len(lines) && lines[i] != ""; i++ {
			if strings.Trim(lines[i], "=") == "" {
				return true
			}
		}
		return false
	}
	for i < len(lines) && isHeading(i) {
		tg := &tblTarget{}
		targets = append(targets, tg)
		for strings.Trim(lines[i], "=") != "" {
			tg.name += lines[i]
			i++
		}
		for i++; lines[i] != ""; i++ {
			tg.counts = append(tg.counts, lines[i])
		}
		i++
		header := lines[i]
		columns := header != "SEVERITY  PATH"
		if columns && (!strings.HasPrefix(header, "SEVERITY  PATH ") || !strings.HasSuffix(header, "  SIZE  MODIFIED (UTC)")) {
			fail("header %q", header)
		}
		i++
		for i < len(lines) && isRow(lines[i]) {
			l := lines[i]
			b := &tblBlock{sev: strings.TrimRight(l[:sevCol], " ")}
			tg.blocks = append(tg.blocks, b)
			if columns {
				m := rowColumns.FindStringSubmatch(l[sevCol+len(gap):])
				if m == nil {
					fail("row %q has no SIZE and MODIFIED", l)
				}
				b.shown, b.size, b.modified = m[1], m[2], m[3]
			} else {
				b.shown = l[sevCol+len(gap):]
			}
			var cur *[]string
			var f *tblFinding
			for i++; i < len(lines) && lines[i] != ""; i++ {
				l := lines[i]
				switch {
				case strings.HasPrefix(l, strings.Repeat(" ", textCol)):
					if cur == nil {
						fail("text %q under no label", l)
					}
					*cur = append(*cur, l[textCol:])
				case strings.HasPrefix(l, strings.Repeat(" ", labelIndent)) && l[labelIndent] != ' ':
					label := strings.TrimSpace(l[labelIndent:textCol])
					if l[textCol-len(gap):textCol] != gap {
						fail("label line %q", l)
					}
					switch {
					case label == "path" && f == nil:
						cur = &b.path
					case label == "size" && f == nil:
						cur = &b.sizeLine
					case label == "evidence" && f != nil && f.evidence == nil && f.action == nil:
						cur = &f.evidence
					case label == "action" && f != nil && f.action == nil:
						cur = &f.action
					default:
						fail("label %q out of place", label)
					}
					*cur = append(*cur, l[textCol:])
				case strings.HasPrefix(l, strings.Repeat(" ", ruleIndent)) && l[ruleIndent] != ' ':
					f = &tblFinding{rule: l[ruleIndent:]}
					if m := ruleSev.FindStringSubmatch(f.rule); m != nil {
						f.rule, f.sev = m[1], m[2]
					}
					b.findings = append(b.findings, f)
					cur = nil
				default:
					fail("unexpected line %q", l)
				}
			}
			if i < len(lines) && lines[i] == "" && i+1 < len(lines) && isRow(lines[i+1]) {
				i++
			}
		}
		if i < len(lines) && lines[i] == "" {
			i++
		}
	}
	return targets, lines[i:]
}

// spaceless drops the spaces of s, so that text can be compared however
// it was wrapped.
func spaceless(s string) string { return strings.ReplaceAll(s, " ", "") }

// joinWrapped joins wrapped prose lines back: exactly when no word of
// want was wider than a line (so every break was at a space), and else
// without its spaces.
func joinWrapped(lines []string, want string, width int) (got, wantCmp string) {
	hard := false
	for _, w := range proseWords(want) {
		hard = hard || twwidth.Width(w) > width
	}
	if hard {
		return spaceless(strings.Join(lines, "")), spaceless(want)
	}
	return strings.Join(lines, " "), want
}

// checkSafe asserts out holds no control byte but the line ends, is
// valid UTF-8 and holds no invisible or bidi control.
func checkSafe(t *testing.T, out string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		if c := out[i]; (c < 0x20 && c != '\n') || c == 0x7f {
			t.Fatalf("table carries control byte %#x at %d:\n%q", c, i, out)
		}
	}
	if !utf8.ValidString(out) {
		t.Fatalf("table is not valid UTF-8:\n%q", out)
	}
	for _, r := range out {
		if (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r) {
			t.Fatalf("table carries invisible or bidi control %U:\n%s", r, out)
		}
	}
}

// checkWidth asserts no line of out is wider than width.
func checkWidth(t *testing.T, out string, width int) {
	t.Helper()
	for n, l := range strings.Split(out, "\n") {
		if w := twwidth.Width(l); w > width {
			t.Fatalf("line %d is %d columns wide, more than %d:\n%s\n\n%s", n+1, w, width, l, out)
		}
	}
}

// checkLayout renders res with tbl (no colour) and asserts what a reader
// must be able to see: every line within the width, no control byte, and
// per target its name and counts, then per shown path a row with the
// path's worst severity and its path (in full, or shortened on the row
// and in full under it), and under it every shown finding of the path
// with its rule, its severity, and its evidence and action in full. The
// info findings are not listed unless Verbose, and counted; the summary
// lines give every target's counts.
func checkLayout(t *testing.T, res *ftpaudit.Result, tbl *Table) string {
	t.Helper()
	out := string(report(t, tbl, res))
	checkSafe(t, out)
	width := tbl.width()
	checkWidth(t, out, width)
	v := NewView(res)
	least := tbl.minShown()
	targets, tail := parseTable(t, out)
	textW := width - textCol

	var want []*TargetView
	for _, tv := range v.Targets {
		if len(blocks(tv, least)) > 0 {
			want = append(want, tv)
		}
	}
	if len(targets) != len(want) {
		t.Fatalf("%d targets listed, want %d:\n%s", len(targets), len(want), out)
	}
	for ti, tv := range want {
		tg := targets[ti]
		if tg.name != Display(tv.Name()) {
			t.Errorf("target heading %q, want %q", tg.name, Display(tv.Name()))
		}
		counts := totalText(tv.Counts)
		if n := tv.Counts.Below(least); n > 0 {
			counts += fmt.Sprintf("; %d info not shown", n)
		}
		if got := spaceless(strings.Join(tg.counts, "")); got != spaceless(counts) {
			t.Errorf("%s: counts %q, want %q", tg.name, tg.counts, counts)
		}
		// The findings, grouped by path in the order the paths come.
		var paths []string
		byPath := map[string][]*ftpaudit.Finding{}
		for _, f := range tv.Findings {
			if !shownAt(f.Severity, least) {
				continue
			}
			if byPath[f.Path] == nil {
				paths = append(paths, f.Path)
			}
			byPath[f.Path] = append(byPath[f.Path], f)
		}
		if len(tg.blocks) != len(paths) {
			t.Fatalf("%s: %d path blocks, want %d:\n%s", tg.name, len(tg.blocks), len(paths), out)
		}
		for bi, p := range paths {
			b, fs := tg.blocks[bi], byPath[p]
			d := Display(p)
			if b.sev != fs[0].Severity.String() {
				t.Errorf("%s: row severity %q, want %q", d, b.sev, fs[0].Severity)
			}
			if b.shown == d {
				if b.path != nil {
					t.Errorf("%s: shown in full on its row, and again under it", d)
				}
			} else {
				if !isShortened(d, b.shown) {
					t.Errorf("row path %q is not %s shortened in the middle", b.shown, d)
				}
				if got := strings.Join(b.path, ""); got != d {
					t.Errorf("path line %q, want %s in full", got, d)
				}
			}
			size, mod := ftpaudit.FormatSize(fs[0].Size), tableTime(fs[0].Modified)
			if b.size != "" { // SIZE and MODIFIED columns
				if b.sizeLine != nil || b.size != size || b.modified != mod {
					t.Errorf("%s: size %q modified %q (and %q), want %q %q", d, b.size, b.modified, b.sizeLine, size, mod)
				}
			} else if size == "-" && mod == "-" {
				if b.sizeLine != nil {
					t.Errorf("%s: size line %q for an unknown size and time", d, b.sizeLine)
				}
			} else {
				if mod != "-" {
					mod += " UTC"
				}
				if want := size + ", modified " + mod; spaceless(strings.Join(b.sizeLine, "")) != spaceless(want) {
					t.Errorf("%s: size line %q, want %q", d, b.sizeLine, want)
				}
			}
			if len(b.findings) != len(fs) {
				t.Fatalf("%s: %d findings, want %d:\n%s", d, len(b.findings), len(fs), out)
			}
			for fi, f := range fs {
				g := b.findings[fi]
				if g.rule != Display(f.Rule) {
					t.Errorf("%s: rule %q, want %q", d, g.rule, Display(f.Rule))
				}
				wantSev := ""
				if f.Severity != fs[0].Severity {
					wantSev = f.Severity.String()
				}
				if g.sev != wantSev {
					t.Errorf("%s %s: severity %q, want %q", d, f.Rule, g.sev, wantSev)
				}
				// Evidence: one item, or one "- " item per fact.
				var items [][]string
				for _, l := range g.evidence {
					switch {
					case len(f.Evidence) < 2:
						if items == nil {
							items = [][]string{nil}
						}
						items[0] = append(items[0], l)
					case strings.HasPrefix(l, "- "):
						items = append(items, []string{l[2:]})
					case strings.HasPrefix(l, "  ") && items != nil:
						items[len(items)-1] = append(items[len(items)-1], l[2:])
					default:
						t.Fatalf("%s %s: evidence line %q", d, f.Rule, l)
					}
				}
				if len(items) != len(f.Evidence) {
					t.Fatalf("%s %s: %d evidence items, want %d:\n%s", d, f.Rule, len(items), len(f.Evidence), out)
				}
				for k, e := range f.Evidence {
					w := textW
					if len(f.Evidence) > 1 {
						w -= 2
					}
					if got, want := joinWrapped(items[k], DisplayText(e), w); got != want {
						t.Errorf("%s %s: evidence %q, want %q", d, f.Rule, got, want)
					}
				}
				if f.Action == "" {
					if g.action != nil {
						t.Errorf("%s %s: action %q for none", d, f.Rule, g.action)
					}
				} else if got, want := joinWrapped(g.action, DisplayText(f.Action), textW); got != want {
					t.Errorf("%s %s: action %q, want %q", d, f.Rule, got, want)
				}
			}
		}
	}

	// The tail: the hidden note, then one summary line per target (and
	// the total), each wrapped with its later lines indented.
	hidden := v.Total.Below(least)
	var logical []string
	for _, l := range tail {
		switch {
		case l == "":
		case strings.HasPrefix(l, "  "):
			if logical == nil {
				t.Fatalf("indented line %q starts the tail:\n%s", l, out)
			}
			logical[len(logical)-1] += " " + l[2:]
		default:
			logical = append(logical, l)
		}
	}
	wantTail := hostLines(v)
	if len(v.Targets) > 1 {
		wantTail = append(wantTail, "Total: "+totalText(v.Total))
	}
	switch {
	case len(want) == 0:
		wantTail = append([]string{noFindingsLine(v, hidden)}, wantTail...)
	case hidden > 0:
		wantTail = append([]string{fmt.Sprintf("%d info %s not shown (verbose shows them; JSON and CSV always carry them)",
			hidden, plural(hidden, "finding", "findings"))}, wantTail...)
	}
	if len(logical) != len(wantTail) {
		t.Fatalf("%d lines after the list, want %d:\n%s", len(logical), len(wantTail), out)
	}
	for i, l := range logical {
		if spaceless(l) != spaceless(wantTail[i]) {
			t.Errorf("line after the list %q, want %q", l, wantTail[i])
		}
	}
	return out
}

func TestTableLayout(t *testing.T) {
	for _, w := range []int{0, 30, 40, 60, 80, 120, 200} {
		for _, verbose := range []bool{false, true} {
			tbl := &Table{Width: w, Verbose: verbose}
			checkLayout(t, findingsSample(), tbl)
			checkLayout(t, hostileSample(), tbl)
			checkLayout(t, judgedArchive(t), tbl)
			checkLayout(t, sample(), tbl)
		}
	}
}

// TestTableWidths is the property the terminal needs, at every width
// from 40 to 200 columns on the hostile samples: no line wider than the
// width, every finding's rule and escaped action in full (the wrapped
// lines joined back), and no byte below 0x20 but the line ends; and all
// that checkLayout checks.
func TestTableWidths(t *testing.T) {
	for w := 40; w <= 200; w++ {
		for _, res := range []*ftpaudit.Result{hostileSample(), judgedArchive(t)} {
			out := checkLayout(t, res, &Table{Width: w, Verbose: true})
			for i := 0; i < len(out); i++ {
				if out[i] < 0x20 && out[i] != '\n' {
					t.Fatalf("width %d: byte %#x at %d", w, out[i], i)
				}
			}
			// Every rule on a line of its own under its row; every action,
			// its wrapped lines joined back, under its label.
			lines := strings.Split(out, "\n")
			var actions []string
			for i := 0; i < len(lines); i++ {
				if !strings.HasPrefix(lines[i], "    action    ") {
					continue
				}
				a := []string{lines[i][textCol:]}
				for i+1 < len(lines) && strings.HasPrefix(lines[i+1], strings.Repeat(" ", textCol)) {
					i++
					a = append(a, lines[i][textCol:])
				}
				actions = append(actions, strings.Join(a, " "))
			}
			for _, f := range res.Findings {
				if !strings.Contains(out, "\n  "+Display(f.Rule)+"\n") && !strings.Contains(out, "\n  "+Display(f.Rule)+" (") {
					t.Fatalf("width %d: rule %s of %s not shown:\n%s", w, f.Rule, Display(f.Path), out)
				}
				found := false
				for _, a := range actions {
					found = found || a == DisplayText(f.Action)
				}
				if !found {
					t.Fatalf("width %d: action %q of %s not shown in full:\n%s", w, DisplayText(f.Action), Display(f.Path), out)
				}
			}
		}
	}
}

// TestTableColor: with Color, the severity words (and only they) are in
// colour; taking the colour out gives the table without colour.
func TestTableColor(t *testing.T) {
	for _, res := range []*ftpaudit.Result{findingsSample(), hostileSample(), judgedArchive(t)} {
		for _, w := range []int{40, 80} {
			plain := string(report(t, &Table{Width: w, Verbose: true}, res))
			color := string(report(t, &Table{Width: w, Verbose: true, Color: true}, res))
			if strings.Contains(plain, "\x1b") {
				t.Fatalf("escape byte without Color:\n%q", plain)
			}
			if !sgr.MatchString(color) {
				t.Fatalf("no colour with Color:\n%q", color)
			}
			for _, m := range sgr.FindAllStringSubmatch(color, -1) {
				if sevColor(mustSeverity(t, m[2])) != m[1] {
					t.Errorf("%s in colour %s", m[2], m[1])
				}
			}
			stripped := sgr.ReplaceAllString(color, "$2")
			if strings.Contains(stripped, "\x1b") {
				t.Fatalf("an escape byte outside a severity's colour:\n%q", color)
			}
			if stripped != plain {
				t.Errorf("the table in colour is not the table:\n%s\n%s", stripped, plain)
			}
			checkWidth(t, stripped, w)
		}
	}
}

func mustSeverity(t *testing.T, s string) ftpaudit.Severity {
	t.Helper()
	sev, ok := ftpaudit.ParseSeverity(s)
	if !ok {
		t.Fatalf("severity %q", s)
	}
	return sev
}

// TestTableEastAsian: wide runes take two columns, in names and in
// prose, and in an East Asian locale ("…" two columns too) no line is
// wider than the width either.
func TestTableEastAsian(t *testing.T) {
	res := findingsSample()
	res.Findings[0].Path = "/pub/日本語のディレクトリ/" + strings.Repeat("長いファイル名", 6) + ".txt"
	res.Findings[0].Evidence = []string{strings.Repeat("証拠の説明文です。", 12)}
	res.Findings[0].Action = strings.Repeat("削除してください。", 12)
	for _, ea := range []bool{false, true} {
		was := twwidth.IsEastAsian()
		twwidth.SetEastAsian(ea)
		for _, w := range []int{40, 60, 80} {
			var b bytes.Buffer
			if err := (&Table{Width: w}).Report(&b, res); err != nil {
				t.Fatal(err)
			}
			checkWidth(t, b.String(), w)
			if !strings.Contains(spaceless(strings.ReplaceAll(b.String(), "\n", "")), res.Findings[0].Action) {
				t.Errorf("east asian %v width %d: action not in full:\n%s", ea, w, b.String())
			}
		}
		twwidth.SetEastAsian(was)
	}
	checkLayout(t, res, &Table{Width: 60})
}

func TestTableSummaryLines(t *testing.T) {
	out := string(report(t, &Table{Width: 200}, findingsSample()))
	for _, want := range []string{
		"\nftp://127.0.0.1:2121: 6 findings (1 critical, 2 high, 1 medium, 0 low, 2 info); 12 dirs, 41 files walked; 11 listed, 2 unreadable, 0 errors; complete\n",
		"\nftps://mirror@[::1]:2121/pub: 2 findings (0 critical, 1 high, 0 medium, 1 low, 0 info); 5 dirs, 7 files walked; 3 listed, 1 unreadable, 2 errors; INCOMPLETE (listings failed, depth bound reached)\n",
		"\nTotal: 8 findings (1 critical, 3 high, 1 medium, 1 low, 2 info)\n",
		"\n2 info findings not shown",
		"\n6 findings (1 critical, 2 high, 1 medium, 0 low, 2 info); 2 info not shown\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "unreadable-dir") {
		t.Errorf("info findings shown without Verbose:\n%s", out)
	}
	out = string(report(t, &Table{Verbose: true}, findingsSample()))
	if strings.Count(out, "unreadable-dir") != 2 || strings.Contains(out, "not shown") {
		t.Errorf("Verbose does not show info findings:\n%s", out)
	}
	// Plurals: one finding, one dir, one file, one error.
	one := hostileSample()
	out = string(report(t, &Table{Width: 200}, one))
	if !strings.Contains(out, `: 1 finding (0 critical, 0 high, 0 medium, 0 low, 1 info); 0 dirs, 0 files walked; 0 listed, 0 unreadable, 1 error; INCOMPLETE`) {
		t.Errorf("plurals:\n%s", out)
	}
	// No findings: a clear line, not an empty list, and an incomplete
	// scan is not called clean.
	none := findingsSample()
	none.Findings = nil
	out = string(report(t, &Table{}, none))
	if strings.Contains(out, "SEVERITY") || !strings.HasPrefix(out, "No findings.") || !strings.Contains(out, "INCOMPLETE") {
		t.Errorf("no-findings output:\n%s", out)
	}
	none.Hosts = none.Hosts[:1]
	out = string(report(t, &Table{}, none))
	if !strings.HasPrefix(out, "No findings.\n") || strings.Contains(out, "INCOMPLETE") || strings.Contains(out, "Total") {
		t.Errorf("clean output:\n%s", out)
	}
}

// TestTableLongText: a long path is shortened in the middle on its row
// and given in full under it; long evidence and action are wrapped, never
// cut.
func TestTableLongText(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("evidence ", 40))
	res := findingsSample()
	res.Findings = res.Findings[:1]
	res.Findings[0].Path = "/" + strings.Repeat("very-long-directory-name/", 12) + "file"
	res.Findings[0].Evidence = []string{long}
	res.Findings[0].Action = long
	for _, w := range []int{60, 80, 200} {
		out := checkLayout(t, res, &Table{Width: w})
		if strings.Count(out, ellipsis) != 1 {
			t.Errorf("width %d: want the path (only) shortened:\n%s", w, out)
		}
		if !strings.Contains(out, "…/file ") && !strings.Contains(out, "-name/file ") {
			t.Errorf("width %d: the file name is not kept:\n%s", w, out)
		}
	}
}

func TestShortenMiddle(t *testing.T) {
	narrowWidths(t)
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"/abcdefghijklmnopqrstuvwxyz", 11, "/abc…uvwxyz"},
		{`/ab\x1b[2Jdefghijk`, 12, `/ab…defghijk`},                // \x1b is not split
		{`/abc\x1b[2Jdefghijk`, 12, `/abc…efghijk`},               // nor here
		{`/a\u{202e}bcdefghijklm/x.exe`, 14, `/a…ijklm/x.exe`},    // \u{202e} is not split
		{`/abcdefghij\u{202e}bc/x.exe`, 18, `/abcdefgh…bc/x.exe`}, // nor here
		{`/ab\\cdefghijklmnop`, 10, `/ab…klmnop`},
		{"/日本語日本語日本語", 9, "/日…本語"},
		{"/pub/incoming/0day/some-long-dir/keygen.exe", 30, "/…/some-long-dir/keygen.exe"},
		{"/pub/incoming/0day/some-long-dir/keygen.exe", 31, "/pub/…/some-long-dir/keygen.exe"},
		{"/pub/incoming/0day/x/keygen.exe", 25, "/pub/…/0day/x/keygen.exe"},
		{`"/incoming/.../  /Win10.Pro.x64.Activated.iso"`, 44, `"/…/.../  /Win10.Pro.x64.Activated.iso"`},
		{"/very-long-element-name-here/f", 20, "/very-l…-name-here/f"}, // whole elements would leave most room unused
		{`"/quoted \"x\" string/  "`, 14, `"/quo…ring/  "`},
	} {
		got := shortenMiddle(c.in, c.max)
		if got != c.want || twwidth.Width(got) > c.max {
			t.Errorf("shortenMiddle(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestProseWords(t *testing.T) {
	for in, want := range map[string][]string{
		"":                {""},
		"one":             {"one"},
		"a b  c":          {"a", "b  c"},
		" =1+2 then x":    {" =1+2", "then", "x"},
		"trail ":          {"trail "},
		`name "a " ends`:  {"name", `"a`, `"`, "ends"},
		"x\u3000y z":      {"x\u3000y", "z"},
		"a \u0301b c":     {"a \u0301b", "c"}, // the space carries the mark
		"  two  spaces  ": {"  two  spaces  "},
	} {
		got := proseWords(in)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("proseWords(%q) = %q, want %q", in, got, want)
		}
		if strings.Join(got, " ") != in {
			t.Errorf("proseWords(%q) does not join back: %q", in, got)
		}
	}
}

func TestWrapWords(t *testing.T) {
	narrowWidths(t)
	for _, c := range []struct {
		in          string
		first, rest int
		want        []string
	}{
		{"", 10, 10, []string{""}},
		{"a b c", 10, 10, []string{"a b c"}},
		{"aaaa bbbb cccc", 9, 9, []string{"aaaa bbbb", "cccc"}},
		{"aaaa bbbb cccc", 4, 9, []string{"aaaa", "bbbb cccc"}},
		{"x " + strings.Repeat("y", 12), 10, 10, []string{"x", "yyyyyyyyyy", "yy"}},
		{`see /pub/a/b/c/file\x1b`, 12, 12, []string{"see", "/pub/a/b/c/", `file\x1b`}},
		{"日本語 日本語", 7, 7, []string{"日本語", "日本語"}},
		{"e\u0301\u0301e\u0301 x", 3, 3, []string{"e\u0301\u0301e\u0301", "x"}},
	} {
		got := wrapWords(proseWords(c.in), c.first, c.rest)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrapWords(%q, %d, %d) = %q, want %q", c.in, c.first, c.rest, got, c.want)
		}
	}
}

func TestNameLines(t *testing.T) {
	narrowWidths(t)
	for _, c := range []struct {
		in          string
		first, rest int
		want        []string
	}{
		{"/pub", 10, 10, []string{"/pub"}},
		{"/pub/incoming/file.txt", 15, 15, []string{"/pub/incoming/", "file.txt"}},
		{"/p/incoming-area-long", 10, 10, []string{"/p/incomin", "g-area-lon", "g"}},
		{`/a\x1b[2J`, 4, 4, []string{"/a", `\x1b`, "[2J"}},
		{"/日本語", 4, 4, []string{"/日", "本語"}},
	} {
		got := nameLines(c.in, c.first, c.rest)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("nameLines(%q, %d, %d) = %q, want %q", c.in, c.first, c.rest, got, c.want)
		}
	}
}

// FuzzTableText: shortening and wrapping escaped text never splits an
// escape, never loses a character, and keeps to the width.
func FuzzTableText(f *testing.F) {
	for i, s := range append(append([]string{}, hostilePaths...), "a b  c", " x y ", "日本語 の テキスト", "e\u0301 x", "1\xc0 \u05b2000", "0\"…\xc90\xa0\xba0\xbf\xf7\"\xd8\xfb") {
		f.Add(s, uint8(i*7))
	}
	f.Fuzz(func(t *testing.T, s string, width uint8) {
		narrowWidths(t)
		w := 10 + int(width)%150 // the table never asks for less than 10
		for _, d := range []string{Display(s), DisplayText(s)} {
			ts, _ := tokens(d)
			if strings.Join(ts, "") != d {
				t.Fatalf("tokens(%q) = %q", d, ts)
			}
			got := shortenMiddle(d, w)
			if twwidth.Width(got) > w {
				t.Fatalf("shortenMiddle(%q, %d) = %q is too wide", d, w, got)
			}
			if got != d && !isShortened(d, got) {
				t.Fatalf("shortenMiddle(%q, %d) = %q is not whole tokens, …, whole tokens", d, w, got)
			}
			lines := nameLines(d, w, w)
			if strings.Join(lines, "") != d {
				t.Fatalf("nameLines(%q, %d) = %q loses text", d, w, lines)
			}
			words := proseWords(d)
			if strings.Join(words, " ") != d {
				t.Fatalf("proseWords(%q) = %q loses text", d, words)
			}
			wrapped := wrapWords(words, w, w)
			if spaceless(strings.Join(wrapped, "")) != spaceless(d) {
				t.Fatalf("wrapWords(%q, %d) = %q loses text", d, w, wrapped)
			}
			for _, l := range append(lines, wrapped...) {
				if twwidth.Width(l) > w {
					t.Fatalf("line %q of %q is wider than %d", l, d, w)
				}
				if l != "" {
					if lt, _ := tokens(l); !containsTokens(ts, lt) {
						t.Fatalf("line %q of %q splits an escape", l, d)
					}
				}
			}
		}
	})
}

// isShortened reports whether short is d shortened in the middle: the
// first tokens of d, "…", the last tokens of d, with at least one token
// left out.
func isShortened(d, short string) bool {
	ts, _ := tokens(d)
	for h := range len(ts) + 1 {
		head := strings.Join(ts[:h], "")
		rest, ok := strings.CutPrefix(short, head+ellipsis)
		if !ok {
			continue
		}
		for t := h + 1; t <= len(ts); t++ {
			if strings.Join(ts[t:], "") == rest {
				return true
			}
		}
	}
	return false
}

// containsTokens reports whether the tokens lt come one after another in
// ts.
func containsTokens(ts, lt []string) bool {
	for i := 0; i+len(lt) <= len(ts); i++ {
		ok := true
		for j := range lt {
			if ts[i+j] != lt[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
