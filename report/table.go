package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/ftpaudit/ftpaudit"
)

// Table writes the cleanup table for people: one row per finding, in the
// order of the View (severity, host, path), then one summary line per
// target with its finding counts and coverage.
//
// Every server-supplied string is escaped: names (host, path) with
// Display, so that names made of spaces show in quotes; prose (evidence,
// action, reasons) with DisplayText, unquoted. No cell can move the
// cursor or break its row. PATH is never shortened: the operator must see
// the exact name, so a long path makes the row long rather than
// different. EVIDENCE and ACTION are cut to MaxEvidence and MaxAction
// display columns, ending in "…"; the full text is in the JSON and CSV
// output. SIZE is in binary units (ftpaudit.FormatSize).
//
// Verbose controls the info findings: when it is false they are counted in
// the summary lines but not shown as rows (a locked-down archive has an
// "unreadable directory" info finding for every such directory); when it
// is true every finding is a row.
type Table struct {
	// Verbose shows info findings as rows too.
	Verbose bool
	// MaxEvidence and MaxAction bound the width of those columns in
	// display columns; zero means 48 and 36.
	MaxEvidence int
	MaxAction   int
}

var _ Reporter = (*Table)(nil)

const (
	defaultMaxEvidence = 48
	defaultMaxAction   = 36
	// minCell is the narrowest a truncated cell may be set to.
	minCell = 8
)

// newTable returns a box-drawn table with header, as every human format
// of the package draws it: cells kept as given (no trimming, no case
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

// Report writes the table and the per-target summary lines of r.
func (t *Table) Report(out io.Writer, r *ftpaudit.Result) error {
	// tablewriter does not report every failed write; ew remembers the
	// first one so that a report that could not be written says so.
	ew := &errWriter{w: out}
	if err := t.render(ew, NewView(r)); err != nil {
		return err
	}
	return ew.err
}

// minShown is the least severity shown as a row.
func (t *Table) minShown() ftpaudit.Severity {
	if t.Verbose {
		return ftpaudit.SevInfo
	}
	return ftpaudit.SevLow
}

func (t *Table) render(w io.Writer, v *View) error {
	maxEv, maxAct := cellWidth(t.MaxEvidence, defaultMaxEvidence), cellWidth(t.MaxAction, defaultMaxAction)
	min := t.minShown()
	hidden := v.Total.Below(min)
	if hidden == v.Total.Total() {
		if _, err := io.WriteString(w, noFindingsLine(v, hidden)); err != nil {
			return err
		}
	} else {
		tbl := newTable(w, "SEVERITY", "HOST", "PATH", "FINDING", "EVIDENCE", "SIZE", "MODIFIED", "ACTION")
		for i := range v.Findings {
			f := &v.Findings[i]
			if !shownAt(f.Severity, min) {
				continue
			}
			if err := tbl.Append([]string{
				f.Severity.String(), Display(f.Host), Display(f.Path), Display(f.Rule),
				evidenceCell(f.Evidence, maxEv), ftpaudit.FormatSize(f.Size), tableTime(f.Modified), textCell(f.Action, maxAct),
			}); err != nil {
				return fmt.Errorf("table row: %w", err)
			}
		}
		if err := tbl.Render(); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
		if hidden > 0 {
			if _, err := fmt.Fprintf(w, "%d info %s not shown (verbose shows them; JSON and CSV always carry them)\n",
				hidden, plural(hidden, "finding", "findings")); err != nil {
				return err
			}
		}
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	for _, line := range hostLines(v) {
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// evidenceCell is the EVIDENCE cell: the facts escaped once (DisplayText)
// and joined with "; ", cut to max display columns; "-" when there are
// none.
func evidenceCell(evidence []string, max int) string {
	ev := make([]string, len(evidence))
	for i, e := range evidence {
		ev[i] = DisplayText(e)
	}
	return cutCell(strings.Join(ev, "; "), max)
}

// textCell is a cell of prose (the ACTION): s escaped (DisplayText) and
// cut to max display columns; "-" when s is empty.
func textCell(s string, max int) string {
	return cutCell(DisplayText(s), max)
}

// cutCell cuts d, already escaped, to max display columns; "-" when d is
// empty.
func cutCell(d string, max int) string {
	if d == "" {
		return "-"
	}
	return truncateDisplayed(d, max)
}

func cellWidth(v, def int) int {
	if v <= 0 {
		return def
	}
	return max(v, minCell)
}

// noFindingsLine replaces the table when there is no row to show. It does
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
	b.WriteByte('\n')
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
	lines := make([]string, 0, len(v.Targets))
	for _, t := range v.Targets {
		c := t.Counts
		findings := fmt.Sprintf("%d findings (%d critical, %d high, %d medium, %d low, %d info)", c.Total(),
			c.Of(ftpaudit.SevCritical), c.Of(ftpaudit.SevHigh), c.Of(ftpaudit.SevMedium), c.Of(ftpaudit.SevLow), c.Of(ftpaudit.SevInfo))
		h := t.Host
		if h == nil {
			lines = append(lines, fmt.Sprintf("%s: %s; not walked", Display(t.Name()), findings))
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
		lines = append(lines, fmt.Sprintf("%s: %s; %d dirs, %d files walked; %d listed, %d unreadable, %d errors; %s",
			Display(t.Name()), findings, st.Dirs, st.Files+st.Other, st.Listed, st.Unreadable, st.Errors, status))
	}
	return lines
}

// truncateDisplayed shortens s, an already escaped (Display) string, to at
// most max display columns, ending in "…". It never cuts an escape
// (\x1b, \u{202e}, \\, \") in half.
func truncateDisplayed(s string, max int) string {
	if twwidth.Width(s) <= max {
		return s
	}
	const ellipsis = "…"
	limit := max - twwidth.Width(ellipsis)
	cols, end := 0, 0
	for i := 0; i < len(s); {
		n := displayToken(s[i:])
		wt := twwidth.Width(s[i : i+n])
		if cols+wt > limit {
			break
		}
		cols += wt
		i += n
		end = i
	}
	return s[:end] + ellipsis
}

// displayToken returns the length of the first unit of an escaped string
// that must not be split: one escape sequence or one rune.
func displayToken(s string) int {
	if len(s) >= 2 && s[0] == '\\' {
		switch s[1] {
		case 'x':
			if len(s) >= 4 {
				return 4
			}
		case 'u':
			if j := strings.IndexByte(s, '}'); len(s) > 2 && s[2] == '{' && j > 0 {
				return j + 1
			}
		}
		return 2
	}
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// tableTime formats a modification time for the table, "-" when unknown.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}
