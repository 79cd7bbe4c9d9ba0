package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/report"
)

// tellFindings writes one line on stderr that says how many findings of
// which severity the scan made, how many are at or above --fail-on, and
// whether the scan is incomplete (what exit statuses 1 and 3 of scan
// mean), when the report itself does not show that to the person at the
// terminal: the report went to a file (-o) while stderr is a terminal, or
// the format is summary (which counts hosts, not findings). --quiet
// leaves it out.
func (f *scanFlags) tellFindings(res *ftpaudit.Result, stdout, stderr io.Writer) {
	if f.quiet {
		return
	}
	toFile := f.output != "" && f.output != "-" && isTerminal(stderr)
	if !toFile && f.outputFormat(stdout) != "summary" {
		return
	}
	failOn, _ := parseFailOn(f.failOn)
	fmt.Fprintln(stderr, "ftpaudit: "+findingsLine(res, failOn))
}

// findingsLine is tellFindings' line without the program name: "30
// findings (4 critical, 14 high, 8 medium, 0 low, 4 info); 18 at or above
// --fail-on high". It names no exit status: demo, which shares it, exits
// 0 when its scan ran.
func findingsLine(res *ftpaudit.Result, failOn ftpaudit.Severity) string {
	total := report.NewView(res).Total
	var b strings.Builder
	if total.Total() == 0 {
		b.WriteString("no findings")
	} else {
		var parts []string
		for s := ftpaudit.SevCritical; s >= ftpaudit.SevInfo; s-- {
			parts = append(parts, fmt.Sprintf("%d %s", total.Of(s), s))
		}
		if total.Unknown > 0 {
			parts = append(parts, fmt.Sprintf("%d of unknown severity", total.Unknown))
		}
		fmt.Fprintf(&b, "%s (%s)", plural(int64(total.Total()), "finding"), strings.Join(parts, ", "))
	}
	above := 0
	for _, fd := range res.Findings {
		if fd.Severity >= failOn {
			above++
		}
	}
	switch {
	case above > 0:
		fmt.Fprintf(&b, "; %d at or above --fail-on %s", above, failOn)
	case total.Total() > 0:
		fmt.Fprintf(&b, "; none at or above --fail-on %s", failOn)
	}
	if !res.Complete() {
		b.WriteString("; the scan is incomplete")
	}
	return b.String()
}
