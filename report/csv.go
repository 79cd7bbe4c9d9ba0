package report

import (
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
)

// CSV writes the findings as CSV (RFC 4180 quoting, LF line ends), one
// record per finding in the order of the View (r.Findings), under the header
//
//	severity,host,path,rule,evidence,size,modified,action,path_b64
//
// evidence joins the facts with "; "; size is in bytes (empty when
// unknown); modified is RFC 3339 UTC (empty when unknown).
//
// Text cells, the evidence included (the rules write it raw), are escaped
// once, with DisplayText: Display's escapes, never quoted (control
// characters, bidi and invisible formatting characters and invalid UTF-8
// become \x1b, \u{202e}, \xff; a backslash becomes \\), because CSV
// files are read in terminals too. path_b64 is always filled with the
// base64 (standard, padded) of the exact path bytes, so the path stays
// exactly recoverable.
//
// Every cell is safe against spreadsheet formula injection (OWASP "CSV
// Injection"): a cell whose first character, after any leading white
// space, is =, +, -, @, tab or CR (or a full-width =, +, -, @) gets a
// leading single quote ('). Paths are absolute, so path_b64 starts with
// "L" and never needs it; a consumer decoding a path_b64 that does start
// with "'" must drop that quote first.
type CSV struct{}

var _ Reporter = (*CSV)(nil)

// csvHeader is the CSV output's header record.
var csvHeader = []string{"severity", "host", "path", "rule", "evidence", "size", "modified", "action", "path_b64"}

// Report writes the findings of r as CSV.
func (*CSV) Report(w io.Writer, r *ftpaudit.Result) error {
	v := NewView(r)
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	for i := range v.Findings {
		f := &v.Findings[i]
		size := ""
		if f.Size >= 0 {
			size = strconv.FormatInt(f.Size, 10)
		}
		rec := []string{
			csvText(f.Severity.String()),
			csvText(f.Host),
			csvText(f.Path),
			csvText(f.Rule),
			csvText(strings.Join(f.Evidence, "; ")),
			size,
			rfc3339(f.Modified),
			csvText(f.Action),
			formulaSafe(base64.StdEncoding.EncodeToString([]byte(f.Path))),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// csvText makes a server-supplied string a safe CSV cell: DisplayText,
// then formulaSafe.
func csvText(s string) string {
	return formulaSafe(DisplayText(s))
}

// formulaSafe prefixes a cell that a spreadsheet would run as a formula
// with a single quote.
func formulaSafe(s string) string {
	rest := s
	for rest != "" {
		r, n := utf8.DecodeRuneInString(rest)
		if r == '\t' || r == '\r' || !unicode.IsSpace(r) {
			break
		}
		rest = rest[n:]
	}
	if rest == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(rest)
	switch r {
	case '=', '+', '-', '@', '\t', '\r',
		'\uff1d', '\uff0b', '\uff0d', '\uff20': // full-width = + - @
		return "'" + s
	}
	return s
}
