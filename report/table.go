package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/ftpaudit/ftpaudit"
)

// Table writes the cleanup table for people: one row per finding, in the
// order of r.Findings (already sorted by severity, host and path), then
// one summary line per host with its finding counts and coverage.
//
// Every server-supplied string (host, path, evidence, action) goes through
// Display, so no cell can move the cursor or break its row, and names made
// of spaces are shown in quotes. PATH is never shortened: the operator must
// see the exact name, so a long path makes the row long rather than
// different. EVIDENCE and ACTION are cut to MaxEvidence and MaxAction
// display columns, ending in "…"; the full text is in the JSON and CSV
// output.
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

// Report writes the table and the per-host summary lines of r.
func (t *Table) Report(out io.Writer, r *ftpaudit.Result) error {
	// tablewriter does not report every failed write; ew remembers the
	// first one so that a report that could not be written says so.
	ew := &errWriter{w: out}
	if err := t.report(ew, r); err != nil {
		return err
	}
	return ew.err
}

func (t *Table) report(w io.Writer, r *ftpaudit.Result) error {
	maxEv, maxAct := cellWidth(t.MaxEvidence, defaultMaxEvidence), cellWidth(t.MaxAction, defaultMaxAction)
	var shown, hidden int
	for _, f := range r.Findings {
		if t.Verbose || f.Severity > ftpaudit.SevInfo {
			shown++
		} else {
			hidden++
		}
	}
	if shown == 0 {
		if _, err := io.WriteString(w, noFindingsLine(r, hidden)); err != nil {
			return err
		}
	} else {
		tbl := newTable(w, "SEVERITY", "HOST", "PATH", "FINDING", "EVIDENCE", "SIZE", "MODIFIED", "ACTION")
		for _, f := range r.Findings {
			if !t.Verbose && f.Severity <= ftpaudit.SevInfo {
				continue
			}
			action := "-"
			if f.Action != "" {
				action = fitDisplay(f.Action, maxAct)
			}
			evidence := "-"
			switch len(f.Evidence) {
			case 0:
			case 1:
				evidence = fitDisplay(f.Evidence[0], maxEv)
			default:
				ev := make([]string, len(f.Evidence))
				for i, e := range f.Evidence {
					ev[i] = Display(e)
				}
				evidence = truncateDisplayed(strings.Join(ev, "; "), maxEv)
			}
			if err := tbl.Append([]string{
				f.Severity.String(), Display(f.Host), Display(f.Path), Display(f.Rule),
				evidence, humanSize(f.Size), tableTime(f.Modified), action,
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
	for _, line := range hostLines(r) {
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// errWriter passes writes on and keeps the first error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

func cellWidth(v, def int) int {
	if v <= 0 {
		return def
	}
	return max(v, minCell)
}

// noFindingsLine replaces the table when there is no row to show. It does
// not call an incomplete scan clean.
func noFindingsLine(r *ftpaudit.Result, hidden int) string {
	var b strings.Builder
	if hidden > 0 {
		fmt.Fprintf(&b, "No findings above info (%d info %s not shown; verbose shows them).", hidden, plural(hidden, "finding", "findings"))
	} else {
		b.WriteString("No findings.")
	}
	if !r.Complete() {
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

// hostLines returns one summary line per host, in the order of r.Hosts,
// then one for each host that has findings but no walk result:
//
//	HOST: N findings (c critical, h high, m medium, l low, i info); D dirs, F files walked; L listed, U unreadable, E errors; complete
//	HOST: N findings (...); D dirs, F files walked; L listed, U unreadable, E errors; INCOMPLETE (reason, reason)
func hostLines(r *ftpaudit.Result) []string {
	type counts [ftpaudit.SevCritical + 1]int
	byHost := map[string]*counts{}
	var order []string
	for _, f := range r.Findings {
		c := byHost[f.Host]
		if c == nil {
			c = &counts{}
			byHost[f.Host] = c
			order = append(order, f.Host)
		}
		if f.Severity >= ftpaudit.SevInfo && f.Severity <= ftpaudit.SevCritical {
			c[f.Severity]++
		}
	}
	findings := func(host string) string {
		c := byHost[host]
		if c == nil {
			c = &counts{}
		}
		n := 0
		for _, v := range c {
			n += v
		}
		return fmt.Sprintf("%d findings (%d critical, %d high, %d medium, %d low, %d info)",
			n, c[ftpaudit.SevCritical], c[ftpaudit.SevHigh], c[ftpaudit.SevMedium], c[ftpaudit.SevLow], c[ftpaudit.SevInfo])
	}
	var lines []string
	done := map[string]bool{}
	for _, h := range r.Hosts {
		if h == nil {
			continue
		}
		url := h.Target.URL
		st := h.Stats
		status := "complete"
		if !h.Complete {
			reasons := make([]string, len(h.Incomplete))
			for i, s := range h.Incomplete {
				reasons[i] = Display(s)
			}
			if len(reasons) == 0 {
				reasons = []string{"no reason recorded"}
			}
			status = "INCOMPLETE (" + strings.Join(reasons, ", ") + ")"
		}
		f := "0 findings (0 critical, 0 high, 0 medium, 0 low, 0 info)"
		if !done[url] { // two targets with one URL: count its findings once
			f = findings(url)
			done[url] = true
		}
		lines = append(lines, fmt.Sprintf("%s: %s; %d dirs, %d files walked; %d listed, %d unreadable, %d errors; %s",
			Display(url+pathSuffix(h.Target.Start)), f, st.Dirs, st.Files+st.Other, st.Listed, st.Unreadable, st.Errors, status))
	}
	for _, host := range order {
		if !done[host] {
			lines = append(lines, fmt.Sprintf("%s: %s; not walked", Display(host), findings(host)))
		}
	}
	return lines
}

// fitDisplay returns Display(s) cut to at most max display columns. A
// quoted result keeps its closing quote: "chmod o-w /incoming, or…".
func fitDisplay(s string, max int) string {
	d := Display(s)
	if twwidth.Width(d) <= max {
		return d
	}
	if needsQuotes(s) {
		return truncateDisplayed(d[:len(d)-1], max-1) + `"`
	}
	return truncateDisplayed(d, max)
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

// humanSize formats a byte count for people: exact bytes below 1 KiB
// ("512 B"), else binary units with one decimal below 10 ("4.7 GiB",
// "130 MiB"), "-" when unknown (negative).
func humanSize(n int64) string {
	if n < 0 {
		return "-"
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	u := 0
	for {
		// Round first so that 1023.97 KiB reads "1.0 MiB", not "1024 KiB".
		r := roundSize(v)
		if r < 1024 || u == len(units)-1 {
			if r < 10 {
				return strconv.FormatFloat(r, 'f', 1, 64) + " " + units[u]
			}
			return strconv.FormatFloat(r, 'f', 0, 64) + " " + units[u]
		}
		v /= 1024
		u++
	}
}

func roundSize(v float64) float64 {
	if v < 9.95 {
		return float64(int64(v*10+0.5)) / 10
	}
	return float64(int64(v + 0.5))
}

// tableTime formats a modification time for the table, "-" when unknown.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}
