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

// BaselineRow is one acceptance of a saved scan as a host's baseline
// (`ftpaudit baseline list` and `show`).
type BaselineRow struct {
	// Host is the target URL, with the start directory unless it is the
	// root.
	Host     string    `json:"host"`
	ScanID   int64     `json:"scan_id"`
	Accepted time.Time `json:"accepted"`
	By       string    `json:"by"`
	Note     string    `json:"note,omitempty"`
	// Automatic is set for a host's first complete saved scan, accepted
	// without being asked.
	Automatic bool `json:"automatic"`
	// Current is set for the baseline scans are compared with now.
	Current bool `json:"current"`
	// Deleted is set when the scan is no longer in the history.
	Deleted bool `json:"deleted,omitempty"`
}

// Baselines writes accepted baselines as a table or JSON
// ({"schema":"ftpaudit.baselines/v1","baselines":[...]}).
func Baselines(w io.Writer, rows []BaselineRow, asJSON bool) error {
	if asJSON {
		if rows == nil {
			rows = []BaselineRow{}
		}
		return writeJSON(w, map[string]any{"schema": "ftpaudit.baselines/v1", "baselines": rows})
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no accepted baselines (the first complete scan of a host saved with scan --save is accepted automatically)")
		return err
	}
	t := newTable(w, "HOST", "SCAN", "ACCEPTED", "BY", "NOTE", "CURRENT")
	for _, r := range rows {
		scan := strconv.FormatInt(r.ScanID, 10)
		if r.Deleted {
			scan += " (deleted)"
		}
		by := DisplayText(r.By)
		if r.Automatic {
			by += " (automatic)"
		}
		current := ""
		if r.Current {
			current = "yes"
		}
		if err := t.Append([]string{Display(r.Host), scan, r.Accepted.UTC().Format(time.RFC3339), by, DisplayText(r.Note), current}); err != nil {
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
	ew := &errWriter{w: w}
	for _, h := range d.Hosts {
		target := Display(h.Target + pathSuffix(h.Start))
		if h.Note != "" {
			fmt.Fprintf(ew, "%s: %s\n", target, DisplayText(h.Note))
			continue
		}
		b := h.Baseline
		fmt.Fprintf(ew, "%s: %d added, %d removed, %d changed since scan %d\n", target, b.Added, b.Removed, b.Changed, d.A)
		if b.NotCompared > 0 {
			dirs := make([]string, len(b.NotComparedDirs))
			for i, p := range b.NotComparedDirs {
				dirs[i] = Display(p)
			}
			fmt.Fprintf(ew, "  NOT COMPARED: %d entries below directories scan %d could not list: %s\n", b.NotCompared, d.B, strings.Join(dirs, ", "))
		}
	}
	if len(d.Findings) > 0 {
		fmt.Fprintln(ew)
		if err := (&Table{Verbose: true}).Report(ew, &ftpaudit.Result{Findings: d.Findings}); err != nil {
			return err
		}
	}
	return ew.err
}

// VerifyItem is one finding of the scan being verified, or a new one.
type VerifyItem struct {
	Status  string // "gone", "still there", "not proven gone", "new"
	Finding ftpaudit.Finding
	// Reason says why a finding is not proven gone.
	Reason string
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
			Reason string `json:"reason,omitempty"`
			jsonFinding
		}
		items := []item{}
		for _, it := range d.Items {
			items = append(items, item{it.Status, it.Reason, findingJSON(&it.Finding)})
		}
		return writeJSON(w, map[string]any{"schema": "ftpaudit.verify/v1", "scan_id": d.ScanID, "complete": d.Complete,
			"incomplete": d.Incomplete, "gone": counts["gone"], "still_there": counts["still there"],
			"not_proven_gone": counts["not proven gone"], "new": counts["new"], "items": items})
	}
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "verify scan %d: %d gone, %d still there, ", d.ScanID, counts["gone"], counts["still there"])
	if n := counts["not proven gone"]; n > 0 {
		fmt.Fprintf(ew, "%d not proven gone, ", n)
	}
	fmt.Fprintf(ew, "%d new\n", counts["new"])
	if !d.Complete {
		fmt.Fprintf(ew, "RESCAN INCOMPLETE: what was not seen cannot be proven gone: %s\n", DisplayText(strings.Join(d.Incomplete, "; ")))
	}
	if len(d.Items) > 0 {
		header := []any{"STATUS", "SEVERITY", "RULE", "HOST", "PATH"}
		why := counts["not proven gone"] > 0
		if why {
			header = append(header, "WHY")
		}
		t := newTable(ew, header...)
		for _, it := range d.Items {
			f := it.Finding
			row := []string{strings.ToUpper(it.Status), f.Severity.String(), Display(f.Rule), Display(f.Host), Display(f.Path)}
			if why {
				row = append(row, DisplayText(it.Reason))
			}
			if err := t.Append(row); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return ew.err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
