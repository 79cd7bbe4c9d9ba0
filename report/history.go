package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Views of the scan history (ftpaudit history, diff, verify). They take
// plain data; the store is the caller's business.

// ScanRow is one saved scan in `ftpaudit history`.
type ScanRow struct {
	ID       int64     `json:"id"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Complete bool      `json:"complete"`
	Hosts    []string  `json:"hosts"`
	Entries  int       `json:"entries"`
	Findings int       `json:"findings"`
}

// History writes the saved scans as a table or JSON
// ({"schema":"ftpaudit.history/v1","scans":[...]}).
func History(w io.Writer, rows []ScanRow, asJSON bool) error {
	if asJSON {
		if rows == nil {
			rows = []ScanRow{}
		}
		return writeJSON(w, map[string]any{"schema": "ftpaudit.history/v1", "scans": rows})
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no saved scans (ftpaudit scan --save records one)")
		return err
	}
	t := newTable(w, "ID", "STARTED", "HOSTS", "ENTRIES", "FINDINGS", "COMPLETE")
	for _, r := range rows {
		complete := "yes"
		if !r.Complete {
			complete = "NO"
		}
		hosts := make([]string, len(r.Hosts))
		for i, h := range r.Hosts {
			hosts[i] = Display(h)
		}
		if err := t.Append([]string{strconv.FormatInt(r.ID, 10), r.Started.UTC().Format(time.RFC3339), strings.Join(hosts, " "),
			strconv.Itoa(r.Entries), strconv.Itoa(r.Findings), complete}); err != nil {
			return err
		}
	}
	return t.Render()
}

// DiffHost is one host's side of `ftpaudit diff A B`.
type DiffHost struct {
	Target   string                   `json:"target"`
	Start    string                   `json:"start"`
	Baseline *ftpaudit.BaselineReport `json:"baseline"`
	Note     string                   `json:"note,omitempty"`
}

// DiffDoc is the result of `ftpaudit diff A B`.
type DiffDoc struct {
	A, B     int64
	Hosts    []DiffHost
	Findings []ftpaudit.Finding
}

// Diff writes a diff as a table of findings (what changed, where, why,
// what to do) or as JSON ({"schema":"ftpaudit.diff/v1",...}).
func Diff(w io.Writer, d *DiffDoc, asJSON bool) error {
	if asJSON {
		doc := map[string]any{"schema": "ftpaudit.diff/v1", "a": d.A, "b": d.B, "hosts": d.Hosts, "findings": findingsJSON(d.Findings)}
		return writeJSON(w, doc)
	}
	for _, h := range d.Hosts {
		if h.Note != "" {
			fmt.Fprintf(w, "%s%s: %s\n", Display(h.Target), pathSuffix(h.Start), Display(h.Note))
			continue
		}
		b := h.Baseline
		fmt.Fprintf(w, "%s%s: %d added, %d removed, %d changed since scan %d\n", Display(h.Target), pathSuffix(h.Start), b.Added, b.Removed, b.Changed, d.A)
		if b.NotCompared > 0 {
			fmt.Fprintf(w, "  NOT COMPARED: %d entries below directories scan %d could not list: %s\n", b.NotCompared, d.B, Display(strings.Join(b.NotComparedDirs, ", ")))
		}
	}
	if len(d.Findings) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return (&Table{Verbose: true}).Report(w, &ftpaudit.Result{Findings: d.Findings})
}

// VerifyItem is one finding of the scan being verified, or a new one.
type VerifyItem struct {
	Status  string // "gone", "still there", "new"
	Finding ftpaudit.Finding
}

// VerifyDoc is the result of `ftpaudit verify`.
type VerifyDoc struct {
	ScanID     int64
	Complete   bool
	Incomplete []string
	Items      []VerifyItem
}

// Verify writes the post-incident check as a table or JSON
// ({"schema":"ftpaudit.verify/v1",...}).
func Verify(w io.Writer, d *VerifyDoc, asJSON bool) error {
	counts := map[string]int{}
	for _, it := range d.Items {
		counts[it.Status]++
	}
	if asJSON {
		type item struct {
			Status string `json:"status"`
			jsonFinding
		}
		items := []item{}
		for _, it := range d.Items {
			items = append(items, item{it.Status, findingsJSON([]ftpaudit.Finding{it.Finding})[0]})
		}
		return writeJSON(w, map[string]any{"schema": "ftpaudit.verify/v1", "scan_id": d.ScanID, "complete": d.Complete,
			"incomplete": d.Incomplete, "gone": counts["gone"], "still_there": counts["still there"], "new": counts["new"], "items": items})
	}
	fmt.Fprintf(w, "verify scan %d: %d gone, %d still there, %d new\n", d.ScanID, counts["gone"], counts["still there"], counts["new"])
	if !d.Complete {
		fmt.Fprintf(w, "RESCAN INCOMPLETE: what was not seen cannot be proven gone: %s\n", Display(strings.Join(d.Incomplete, "; ")))
	}
	if len(d.Items) == 0 {
		return nil
	}
	t := newTable(w, "STATUS", "SEVERITY", "RULE", "HOST", "PATH")
	for _, it := range d.Items {
		f := it.Finding
		if err := t.Append([]string{strings.ToUpper(it.Status), f.Severity.String(), f.Rule, Display(f.Host), Display(f.Path)}); err != nil {
			return err
		}
	}
	return t.Render()
}

func findingsJSON(fs []ftpaudit.Finding) []jsonFinding {
	out := []jsonFinding{}
	for _, f := range fs {
		ev := f.Evidence
		if ev == nil {
			ev = []string{}
		}
		out = append(out, jsonFinding{Host: f.Host, Path: f.Path, PathB64: b64(f.Path), Rule: f.Rule, Severity: f.Severity.String(), Evidence: ev})
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
