package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/ftpaudit/ftpaudit"
)

// Table writes the cleanup list for people at a terminal: per target a
// heading with its finding counts, then one block per path with all of
// its findings, worst first, then one summary line per target with its
// counts and coverage. Every line fits Width display columns.
//
//	ftp://127.0.0.1:2121
//	====================
//	6 findings (1 critical, 2 high, 1 medium, 0 low, 2 info); 2 info not shown
//
//	SEVERITY  PATH                    SIZE  MODIFIED (UTC)
//	critical  /incoming            4.0 KiB  2026-11-01 12:30
//	  writable-dir
//	    evidence  - mode drwxrwxrwx: others may write
//	              - probe: STOR accepted
//	    action    chmod o-w /incoming, or make it a write-only drop box
//	              (chmod 1733)
//
//	high      "/…/.../  /Win10.Pro.x64.Activated.iso"      4.4 GiB  2025-01-30 02:59
//	    path      "/incoming/.../  /Win10.Pro.x64.Activated.iso"
//	  suspicious-name
//	    ...
//	  in-writable-area (medium)
//	    ...
//
// A path block starts with a row line: the worst severity of the path's
// findings, the path, its size (ftpaudit.FormatSize) and modification
// time (UTC). A path too long for its column is shortened in the middle
// with "…" and then given in full on a "path" line under the row. When
// the width leaves too little room for a PATH column beside SIZE and
// MODIFIED, those two move to a "size" line under the row. Under the
// row, each finding is its rule (with its own severity in parentheses
// when that is not the row's), then its evidence and action in full,
// wrapped at the width: nothing but an over-long path on its row line is
// ever shortened.
//
// Every server-supplied string is escaped exactly once: names (targets,
// paths) with Display, so that names made of spaces show in quotes; prose
// (evidence, action, reasons) with DisplayText. No line can move the
// cursor or be broken by a name. With Color set, each severity word is
// wrapped in an ANSI SGR colour and a reset: those are the only escape
// bytes the table ever writes; without it, it writes none.
//
// Verbose controls the info findings: when it is false they are counted in
// the headings and summary lines but not listed (a locked-down archive has
// an "unreadable directory" info finding for every such directory); when
// it is true every finding is listed.
type Table struct {
	// Verbose lists info findings too.
	Verbose bool
	// Width is the width of the terminal in display columns; zero means
	// 80, and a width below 30 is taken as 30.
	Width int
	// Color writes the severity words in colour (ANSI SGR).
	Color bool
	// MaxEvidence and MaxAction are ignored: the table shows evidence and
	// action in full. They are kept so that Options can still be passed
	// through unchanged.
	MaxEvidence int
	MaxAction   int
}

var _ Reporter = (*Table)(nil)

const (
	defaultWidth = 80
	// minWidth is the narrowest width the table lays out for: the text
	// column still holds the widest escape (\u{10ffff}).
	minWidth = 30
	// sevCol is the width of the SEVERITY column ("critical").
	sevCol = 8
	// gap separates columns.
	gap = "  "
	// ruleIndent indents a finding's rule under its row; labelIndent the
	// labels (path, size, evidence, action); textCol is where the text
	// beside a label starts.
	ruleIndent  = 2
	labelIndent = 4
	textCol     = 14
	// minPathCol is the narrowest PATH column kept beside SIZE and
	// MODIFIED; below it they move to a line of their own.
	minPathCol = 20
	// timeLayout is the one time format of the table, in UTC.
	timeLayout = "2006-01-02 15:04"
)

// newTable returns a box-drawn table with header, as the summary and the
// history views draw it: cells kept as given (no trimming, no case
// change, no wrapping).
func newTable(w io.Writer, header ...any) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header...)
	return t
}

// Report writes the cleanup list and the per-target summary lines of r.
func (t *Table) Report(out io.Writer, r *ftpaudit.Result) error {
	// Many small writes: ew keeps the first error, and later writes fail
	// fast with it, so that a table cut short is never a success.
	ew := &errWriter{w: out}
	t.render(ew, NewView(r))
	return ew.err
}

// width is the width the table is laid out for.
func (t *Table) width() int {
	switch {
	case t.Width <= 0:
		return defaultWidth
	case t.Width < minWidth:
		return minWidth
	}
	return t.Width
}

// minShown is the least severity listed.
func (t *Table) minShown() ftpaudit.Severity {
	if t.Verbose {
		return ftpaudit.SevInfo
	}
	return ftpaudit.SevLow
}

// render writes the table of v to w. Write errors are w's to keep (an
// errWriter).
func (t *Table) render(w io.Writer, v *View) {
	p := &printer{w: w, width: t.width(), color: t.Color}
	min := t.minShown()
	hidden := v.Total.Below(min)
	if hidden == v.Total.Total() {
		p.wrapped(proseWords(noFindingsLine(v, hidden)), 0, 2)
	} else {
		for _, tv := range v.Targets {
			p.target(tv, min)
		}
		if hidden > 0 {
			p.line("")
			p.wrapped(proseWords(fmt.Sprintf("%d info %s not shown (verbose shows them; JSON and CSV always carry them)",
				hidden, plural(hidden, "finding", "findings"))), 0, 2)
		}
	}
	p.line("")
	for _, words := range hostWords(v) {
		p.wrapped(words, 0, 2)
	}
	if len(v.Targets) > 1 {
		p.wrapped(proseWords("Total: "+totalText(v.Total)), 0, 2)
	}
	if n := len(v.Suppressed); n > 0 {
		p.wrapped(proseWords(fmt.Sprintf("%d %s suppressed by the suppression file, not counted above (the JSON lists them, with the line that suppressed each)",
			n, plural(n, "finding", "findings"))), 0, 2)
	}
}

// pathBlock is one path of a target with its findings, in view order.
type pathBlock struct {
	path     string // Display(path)
	size     string
	modified string
	findings []*ftpaudit.Finding
}

// blocks groups the findings of tv shown at min by path, in the order
// each path first comes (its worst finding first, as the view is sorted).
func blocks(tv *TargetView, min ftpaudit.Severity) []*pathBlock {
	var bs []*pathBlock
	byPath := map[string]*pathBlock{}
	for _, f := range tv.Findings {
		if !shownAt(f.Severity, min) {
			continue
		}
		b := byPath[f.Path]
		if b == nil {
			b = &pathBlock{path: Display(f.Path), size: "-", modified: "-"}
			byPath[f.Path] = b
			bs = append(bs, b)
		}
		if b.size == "-" && f.Size >= 0 {
			b.size = ftpaudit.FormatSize(f.Size)
		}
		if b.modified == "-" && !f.Modified.IsZero() {
			b.modified = tableTime(f.Modified)
		}
		b.findings = append(b.findings, f)
	}
	return bs
}

// target writes the heading and the path blocks of one target; nothing
// when none of its findings is shown.
func (p *printer) target(tv *TargetView, least ftpaudit.Severity) {
	bs := blocks(tv, least)
	if len(bs) == 0 {
		return
	}
	if p.lines > 0 {
		p.line("")
	}
	// The heading: the target's name underlined, then its counts.
	name := nameLines(Display(tv.Name()), p.width, p.width)
	under := 0
	for _, l := range name {
		p.line(l)
		under = max(under, twwidth.Width(l))
	}
	p.line(strings.Repeat("=", under))
	counts := totalText(tv.Counts)
	if n := tv.Counts.Below(least); n > 0 {
		counts += fmt.Sprintf("; %d info not shown", n)
	}
	p.wrapped(proseWords(counts), 0, 2)
	p.line("")

	// The columns: PATH as wide as the widest path, within the width.
	sizeW := len("SIZE")
	pathW := len("PATH")
	for _, b := range bs {
		sizeW = max(sizeW, twwidth.Width(b.size))
		pathW = max(pathW, twwidth.Width(b.path))
	}
	timeW := len(timeLayout)
	room := p.width - sevCol - 3*len(gap) - sizeW - timeW
	columns := room >= min(pathW, minPathCol)
	if columns {
		pathW = min(pathW, room)
		p.line("SEVERITY" + gap + pad("PATH", pathW) + gap + padLeft("SIZE", sizeW) + gap + "MODIFIED (UTC)")
	} else {
		pathW = p.width - sevCol - len(gap)
		p.line("SEVERITY" + gap + "PATH")
	}
	for i, b := range bs {
		if i > 0 {
			p.line("")
		}
		row := b.findings[0].Severity
		shown := shortenMiddle(b.path, pathW)
		if columns {
			p.line(p.sev(row, sevCol) + gap + pad(shown, pathW) + gap + padLeft(b.size, sizeW) + gap + b.modified)
		} else {
			p.line(p.sev(row, sevCol) + gap + shown)
		}
		if shown != b.path {
			p.labelled("path", [][]string{nameLines(b.path, p.width-textCol, p.width-textCol)}, "")
		}
		if !columns && (b.size != "-" || b.modified != "-") {
			m := b.modified
			if m != "-" {
				m += " UTC"
			}
			p.labelled("size", [][]string{wrapWords(proseWords(b.size+", modified "+m), p.width-textCol, p.width-textCol)}, "")
		}
		for _, f := range b.findings {
			p.finding(f, row)
		}
	}
}

// finding writes one finding under its path's row: the rule (and its
// severity when it is not the row's), the evidence and the action.
func (p *printer) finding(f *ftpaudit.Finding, row ftpaudit.Severity) {
	indent := strings.Repeat(" ", ruleIndent)
	w := p.width - ruleIndent
	rule := nameLines(Display(f.Rule), w, w)
	if f.Severity != row {
		// The severity goes on the rule's last line, or on its own.
		last := rule[len(rule)-1]
		word := f.Severity.String()
		if twwidth.Width(last)+len(" ()")+len(word) <= w {
			rule[len(rule)-1] = last + " (" + p.sev(f.Severity, 0) + ")"
		} else {
			rule = append(rule, "("+p.sev(f.Severity, 0)+")")
		}
	}
	for _, l := range rule {
		p.line(indent + l)
	}
	textW := p.width - textCol
	switch len(f.Evidence) {
	case 0:
	case 1:
		p.labelled("evidence", [][]string{wrapWords(proseWords(DisplayText(f.Evidence[0])), textW, textW)}, "")
	default:
		items := make([][]string, len(f.Evidence))
		for i, e := range f.Evidence {
			items[i] = wrapWords(proseWords(DisplayText(e)), textW-2, textW-2)
		}
		p.labelled("evidence", items, "- ")
	}
	if f.Action != "" {
		p.labelled("action", [][]string{wrapWords(proseWords(DisplayText(f.Action)), textW, textW)}, "")
	}
}

// printer writes the table's lines, laid out for width columns.
type printer struct {
	w     io.Writer
	width int
	color bool
	lines int
}

// line writes one line and its end.
func (p *printer) line(s string) {
	p.lines++
	io.WriteString(p.w, s+"\n") // p.w is an errWriter: it keeps the first error
}

// wrapped writes words wrapped at the width, the first line indented by
// first columns, the others by rest.
func (p *printer) wrapped(words []string, first, rest int) {
	for i, l := range wrapWords(words, p.width-first, p.width-rest) {
		n := first
		if i > 0 {
			n = rest
		}
		p.line(strings.Repeat(" ", n) + l)
	}
}

// labelled writes a label at labelIndent and, from textCol, the lines of
// each item; each item's first line starts with bullet, and its other
// lines are indented to match.
func (p *printer) labelled(label string, items [][]string, bullet string) {
	head := strings.Repeat(" ", labelIndent) + pad(label, textCol-labelIndent-len(gap)) + gap
	text := strings.Repeat(" ", textCol)
	hang := strings.Repeat(" ", len(bullet))
	for i, item := range items {
		for j, l := range item {
			lead := text
			if i == 0 && j == 0 {
				lead = head
			}
			if j == 0 {
				lead += bullet
			} else {
				lead += hang
			}
			p.line(lead + l)
		}
	}
}

// sev is the severity word of s, padded to width columns, in colour when
// the printer writes colour. Only the word itself is coloured.
func (p *printer) sev(s ftpaudit.Severity, width int) string {
	word := s.String()
	padding := strings.Repeat(" ", max(0, width-len(word)))
	if code := sevColor(s); p.color && code != "" {
		return "\x1b[" + code + "m" + word + "\x1b[0m" + padding
	}
	return word + padding
}

// sevColor is the SGR parameter of a severity's colour; "" for none.
func sevColor(s ftpaudit.Severity) string {
	switch s {
	case ftpaudit.SevCritical:
		return "1;31" // bold red
	case ftpaudit.SevHigh:
		return "31" // red
	case ftpaudit.SevMedium:
		return "33" // yellow
	case ftpaudit.SevLow:
		return "36" // cyan
	case ftpaudit.SevInfo:
		return "34" // blue
	}
	return ""
}

// pad pads s with spaces to width display columns.
func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-twwidth.Width(s)))
}

// padLeft pads s on the left with spaces to width display columns.
func padLeft(s string, width int) string {
	return strings.Repeat(" ", max(0, width-twwidth.Width(s))) + s
}

// totalText counts findings per severity, for the headings and the
// summary lines: "8 findings (1 critical, 3 high, 1 medium, 1 low, 2
// info)", and ", N unknown" inside the parentheses when there are
// findings of a severity that is none of the known ones.
func totalText(c Counts) string {
	n := c.Total()
	s := fmt.Sprintf("%d %s (%d critical, %d high, %d medium, %d low, %d info", n, plural(n, "finding", "findings"),
		c.Of(ftpaudit.SevCritical), c.Of(ftpaudit.SevHigh), c.Of(ftpaudit.SevMedium), c.Of(ftpaudit.SevLow), c.Of(ftpaudit.SevInfo))
	if c.Unknown > 0 {
		s += fmt.Sprintf(", %d unknown", c.Unknown)
	}
	return s + ")"
}

// noFindingsLine replaces the list when there is nothing to list. It does
// not call an incomplete scan clean.
func noFindingsLine(v *View, hidden int) string {
	var b strings.Builder
	if hidden > 0 {
		fmt.Fprintf(&b, "No findings above info (%d info %s not shown; verbose shows them).", hidden, plural(hidden, "finding", "findings"))
	} else {
		b.WriteString("No findings.")
	}
	if !v.Complete {
		b.WriteString(" The scan is INCOMPLETE: only what could be listed was judged (see below).")
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// hostLines returns one summary line per target of v, in its order: the
// walked targets, then the URLs that have findings but were not walked.
//
//	TARGET: N findings (c critical, h high, m medium, l low, i info); D dirs, F files walked; L listed, U unreadable, E errors; complete
//	TARGET: N findings (...); D dirs, F files walked; L listed, U unreadable, E errors; INCOMPLETE (reason, reason)
//	URL: N findings (...); not walked
func hostLines(v *View) []string {
	words := hostWords(v)
	lines := make([]string, len(words))
	for i, w := range words {
		lines[i] = strings.Join(w, " ")
	}
	return lines
}

// hostWords is hostLines as words for wrapWords, split at the spaces
// where a line may be broken: the target's name (with its colon) is one
// word, never broken at its own spaces.
func hostWords(v *View) [][]string {
	lines := make([][]string, 0, len(v.Targets))
	for _, t := range v.Targets {
		findings := totalText(t.Counts)
		name := Display(t.Name()) + ":"
		h := t.Host
		if h == nil {
			lines = append(lines, append([]string{name}, proseWords(findings+"; not walked")...))
			continue
		}
		status := "complete"
		if !h.Complete {
			reasons := make([]string, len(h.Incomplete))
			for i, s := range h.Incomplete {
				reasons[i] = DisplayText(s)
			}
			if len(reasons) == 0 {
				reasons = []string{"no reason recorded"}
			}
			status = "INCOMPLETE (" + strings.Join(reasons, ", ") + ")"
		}
		st := h.Stats
		files := st.Files + st.Other
		rest := fmt.Sprintf("%s; %d %s, %d %s walked; %d listed, %d unreadable, %d %s; %s",
			findings, st.Dirs, plural(st.Dirs, "dir", "dirs"), files, plural(files, "file", "files"),
			st.Listed, st.Unreadable, st.Errors, plural(st.Errors, "error", "errors"), status)
		lines = append(lines, append([]string{name}, proseWords(rest)...))
	}
	return lines
}

// tableTime formats a modification time for the table, "-" when unknown.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeLayout)
}
