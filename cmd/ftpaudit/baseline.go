package main

// Baselines. The comparison use case, shared by scan --baseline, diff and
// verify: the entries of a host now against those of an earlier complete
// scan of the same host and start directory, every change judged as a
// finding. And the baseline command, which records what a person accepts
// as a host's baseline (as AIDE and Tripwire do): accept, list, show.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/history"
	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/rules"
)

// What --baseline names.
const (
	baselineAccepted = "accepted" // the host's accepted baseline (ftpaudit baseline accept)
	baselineLast     = "last"     // the newest complete scan of the host
	baselineID       = "id"       // one saved scan, by id
)

// baselineSpec is what --baseline asks for: mode is "" (no comparison),
// baselineAccepted, baselineLast or baselineID (then byID is the scan).
type baselineSpec struct {
	mode string
	byID *history.ScanInfo
}

// parseBaseline checks --baseline: accepted, last, or the id of a
// complete saved scan; an unknown or incomplete scan is a usage error.
func parseBaseline(ctx context.Context, st *history.Store, baseline string) (baselineSpec, error) {
	switch baseline {
	case "":
		return baselineSpec{}, nil
	case baselineAccepted, baselineLast:
		return baselineSpec{mode: baseline}, nil
	}
	id, err := strconv.ParseInt(baseline, 10, 64)
	if err != nil || id <= 0 {
		return baselineSpec{}, usageError{fmt.Errorf("--baseline %q: want accepted, last or a scan id", baseline)}
	}
	sc, err := st.Scan(ctx, id)
	if err != nil {
		return baselineSpec{}, usageError{fmt.Errorf("--baseline %d: %w", id, err)}
	}
	if !sc.Complete {
		return baselineSpec{}, usageError{fmt.Errorf("--baseline %d: that scan is incomplete; comparing with it would report everything it missed as new (pick a complete scan: ftpaudit history)", id)}
	}
	return baselineSpec{mode: baselineID, byID: sc}, nil
}

// compareHost compares h, just scanned, with the baseline spec names for
// it and returns the findings; it sets h.Baseline, to a note alone when
// there is nothing to compare with. saving says whether the scan is about
// to be saved (for the note of a host without an accepted baseline).
func compareHost(ctx context.Context, st *history.Store, h *ftpaudit.HostResult, spec baselineSpec, pol *rules.Policy, saving bool) ([]ftpaudit.Finding, error) {
	var base *history.HostInfo
	var b rules.Baseline
	switch spec.mode {
	case baselineID:
		if base = hostIn(spec.byID, h.Target.URL, h.Target.Start); base == nil {
			h.Baseline = &ftpaudit.BaselineReport{Note: fmt.Sprintf("scan %d did not scan this host and start directory: nothing compared", spec.byID.ID)}
			return nil, nil
		}
		b = rules.Baseline{ScanID: spec.byID.ID, Started: spec.byID.Started}
	case baselineAccepted:
		a, err := st.Accepted(ctx, h.Target.URL, h.Target.Start)
		if errors.Is(err, history.ErrNotFound) {
			note := "no accepted baseline of this host and start directory: nothing compared; "
			if saving {
				note += "if this scan is complete, it is accepted automatically as the first baseline"
			} else {
				note += "save a complete scan (--save) to have it accepted as the first baseline, or accept a saved one (ftpaudit baseline accept ID)"
			}
			h.Baseline = &ftpaudit.BaselineReport{Note: note}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if a.Deleted {
			return nil, fmt.Errorf("the accepted baseline of %s, scan %d, is no longer in the history: accept another (ftpaudit baseline accept ID)", hostName(a.Target, a.Start), a.ScanID)
		}
		sc, err := st.Scan(ctx, a.ScanID)
		if err != nil {
			return nil, err
		}
		for i := range sc.Hosts {
			if sc.Hosts[i].ID == a.HostID {
				base = &sc.Hosts[i]
			}
		}
		if base == nil {
			return nil, fmt.Errorf("the accepted baseline of %s, scan %d, has no such host any more", hostName(a.Target, a.Start), a.ScanID)
		}
		b = rules.Baseline{ScanID: a.ScanID, Started: sc.Started, Accepted: acceptedText(a)}
	case baselineLast:
		hi, err := st.LastComplete(ctx, h.Target.URL, h.Target.Start, 0)
		if errors.Is(err, history.ErrNotFound) {
			h.Baseline = &ftpaudit.BaselineReport{Note: "no earlier complete scan of this host and start directory: nothing compared (with --baseline last, the newest complete scan saved becomes the baseline)"}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		base = hi
		sc, err := st.Scan(ctx, hi.ScanID)
		if err != nil {
			return nil, err
		}
		b = rules.Baseline{ScanID: hi.ScanID, Started: sc.Started}
	default:
		return nil, nil
	}
	// The saved side is read by fingerprint against the walk's own
	// entries: only what differs is decoded. Both sides are streamed (the
	// walk's from its Source, read twice): neither is held whole. An
	// error reading the walk's entries back ends the comparison
	// (HostSeq yields it).
	found, rep, err := judgeBaseline(h, st.EntryAttrsBeside(ctx, base.ID, h.AllEntries()), rules.HostSeq(h), b, pol)
	if err != nil {
		return nil, err
	}
	h.Baseline = &rep
	return found, nil
}

// acceptedText says who accepted a baseline and when, for evidence.
func acceptedText(a *history.Acceptance) string {
	if a.Automatic {
		return "accepted automatically as the first baseline on " + a.Accepted.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("accepted by %s on %s", a.By, a.Accepted.UTC().Format(time.RFC3339))
}

// judgeBaseline judges the changes from old, the saved entries of a host
// of the complete scan b, to cur, the entries of h now, with pol: the
// findings, and the counts for h's baseline report. Both sides are
// streamed in path order.
func judgeBaseline(h *ftpaudit.HostResult, old, cur iter.Seq2[ftpaudit.Entry, error], b rules.Baseline, pol *rules.Policy) ([]ftpaudit.Finding, ftpaudit.BaselineReport, error) {
	j := rules.NewBaselineJudge(h, b, pol)
	err := rules.DiffEntries(old, j.Tap(cur), func(c rules.Change) error {
		j.Add(c)
		return nil
	})
	if err != nil {
		return nil, ftpaudit.BaselineReport{}, err
	}
	found, rep := j.Finish()
	return found, rep, nil
}

// hostIn returns the host of saved scan sc with this target URL and start
// directory, or nil.
func hostIn(sc *history.ScanInfo, target, start string) *history.HostInfo {
	var found *history.HostInfo
	for i := range sc.Hosts {
		if sc.Hosts[i].Target == target && sc.Hosts[i].Start == start {
			found = &sc.Hosts[i]
		}
	}
	return found
}

// hostName is a target URL with its start directory ("" for the root).
func hostName(target, start string) string { return target + pathIfNotRoot(start) }

// currentUser names the user running ftpaudit, for the record of who
// accepted a baseline.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

const baselineUsage = `Usage:
  ftpaudit baseline accept [--db PATH] [--by NAME] [--note TEXT] [--host TARGET] SCAN-ID
  ftpaudit baseline list [--db PATH] [--format table|json]
  ftpaudit baseline show [--db PATH] [--format table|json] TARGET

A baseline is a saved scan that a person accepted as a host's good state.
scan --baseline accepted compares every host with its accepted baseline
until another one is accepted. The first complete scan of a host saved
with scan --save is accepted automatically, and says so.

accept records that SCAN-ID (every host of it, or the one --host names)
is now the baseline of its hosts, with who (--by, default the user
running ftpaudit), when, and why (--note). An incomplete host cannot be
accepted. Nothing is ever overwritten: every acceptance stays on record.
list shows the current baseline of every host; show the whole record of
one host (TARGET as given to scan: ftp://host[:port][/start]).

Flags:
`

// runBaseline is "ftpaudit baseline accept|list|show".
func runBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	if len(args) == 0 {
		fmt.Fprint(stderr, baselineUsage)
		return outcome{err: usageError{errors.New("baseline: want accept, list or show")}}
	}
	var db, by, note, host, format string
	fs := newFlagSet("baseline "+args[0], stderr, baselineUsage)
	dbFlag(fs, &db)
	switch args[0] {
	case "accept":
		fs.StringVar(&by, "by", "", "who accepts it (default: the user running ftpaudit)")
		fs.StringVar(&note, "note", "", "why: what changed and was checked")
		fs.StringVar(&host, "host", "", "accept only this host of the scan (ftp://host[:port][/start])")
	case "list", "show":
		fs.StringVar(&format, "format", "table", "table or json")
	case "-h", "-help", "--help", "help":
		// The flags are each subcommand's: "baseline accept -h" lists them.
		fmt.Fprint(stdout, strings.TrimSuffix(baselineUsage, "Flags:\n")+"Flags: see ftpaudit baseline accept|list|show -h\n")
		return outcome{}
	default:
		return outcome{err: usageError{fmt.Errorf("baseline %q: want accept, list or show", args[0])}}
	}
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return outcome{err: err}
	}
	if format != "" && format != "table" && format != "json" {
		return outcome{err: usageError{fmt.Errorf("--format %q: want table or json", format)}}
	}
	switch {
	case args[0] == "accept" && len(pos) != 1,
		args[0] == "list" && len(pos) != 0,
		args[0] == "show" && len(pos) != 1:
		return outcome{err: usageError{errors.New("usage: " + baselineUsageLine(args[0]))}}
	}
	var id int64
	var target ftpaudit.Target
	switch args[0] {
	case "accept":
		if id, err = parseID(pos[0]); err != nil {
			return outcome{err: err}
		}
		if host != "" {
			if target, err = ftpaudit.ParseTarget(host); err != nil {
				return outcome{err: usageError{fmt.Errorf("--host: %w", err)}}
			}
		}
	case "show":
		if target, err = ftpaudit.ParseTarget(pos[0]); err != nil {
			return outcome{err: usageError{err}}
		}
	}
	st, err := openStore(ctx, db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	switch args[0] {
	case "accept":
		if by == "" {
			by = currentUser()
		}
		return outcome{err: acceptScan(ctx, st, id, target, by, note, stdout)}
	case "list":
		all, err := st.Acceptances(ctx, "", "")
		if err != nil {
			return outcome{err: outputError{err}}
		}
		seen := map[string]bool{}
		var rows []report.BaselineRow
		for _, a := range all {
			k := a.Target + "\x00" + a.Start
			if !seen[k] {
				seen[k] = true
				rows = append(rows, baselineRow(&a, true))
			}
		}
		return outcome{err: writeTo(stdout, func(w io.Writer) error { return report.Baselines(w, rows, format == "json") })}
	default: // show
		all, err := st.Acceptances(ctx, target.URL, target.Start)
		if err != nil {
			return outcome{err: outputError{err}}
		}
		if len(all) == 0 {
			return outcome{err: usageError{fmt.Errorf("%s has no accepted baseline (the first complete scan saved with scan --save is accepted automatically; or: ftpaudit baseline accept ID)", hostName(target.URL, target.Start))}}
		}
		rows := make([]report.BaselineRow, len(all))
		for i := range all {
			rows[i] = baselineRow(&all[i], i == 0)
		}
		return outcome{err: writeTo(stdout, func(w io.Writer) error { return report.Baselines(w, rows, format == "json") })}
	}
}

func baselineUsageLine(cmd string) string {
	switch cmd {
	case "accept":
		return "ftpaudit baseline accept [--db PATH] [--by NAME] [--note TEXT] [--host TARGET] SCAN-ID"
	case "list":
		return "ftpaudit baseline list [--db PATH] [--format table|json]"
	}
	return "ftpaudit baseline show [--db PATH] [--format table|json] TARGET"
}

// writeTo writes a report to stdout; a failure is an output error.
func writeTo(stdout io.Writer, write func(io.Writer) error) error {
	if err := write(stdout); err != nil {
		return outputError{fmt.Errorf("write results: %w", err)}
	}
	return nil
}

// baselineRow is an acceptance as the baseline views show it.
func baselineRow(a *history.Acceptance, current bool) report.BaselineRow {
	return report.BaselineRow{Host: hostName(a.Target, a.Start), ScanID: a.ScanID, Accepted: a.Accepted, By: a.By, Note: a.Note,
		Automatic: a.Automatic, Current: current, Deleted: a.Deleted}
}

// acceptScan accepts the hosts of saved scan id (only target's, when
// given) as their baselines, by by with note, and says so on stdout. A
// scan or host that cannot be accepted (unknown, or incomplete) is a
// usage error, and then nothing is accepted.
func acceptScan(ctx context.Context, st *history.Store, id int64, target ftpaudit.Target, by, note string, stdout io.Writer) error {
	sc, err := st.Scan(ctx, id)
	if err != nil {
		return usageError{fmt.Errorf("scan %d: %w", id, err)}
	}
	var ids []int64
	var incomplete []string
	prev := map[int64]*history.Acceptance{} // the baseline each host had
	for _, h := range sc.Hosts {
		if target.URL != "" && (h.Target != target.URL || h.Start != target.Start) {
			continue
		}
		ids = append(ids, h.ID)
		if !h.Complete {
			incomplete = append(incomplete, fmt.Sprintf("%s (%s)", report.Display(hostName(h.Target, h.Start)), report.DisplayText(strings.Join(h.Incomplete, "; "))))
		}
		if a, err := st.Accepted(ctx, h.Target, h.Start); err == nil {
			prev[h.ID] = a
		}
	}
	switch {
	case len(ids) == 0 && target.URL != "":
		return usageError{fmt.Errorf("scan %d did not scan %s", id, hostName(target.URL, target.Start))}
	case len(ids) == 0:
		return usageError{fmt.Errorf("scan %d has no hosts", id)}
	case len(incomplete) > 0:
		return usageError{fmt.Errorf("scan %d is incomplete for %s: it cannot be a baseline (everything it missed would show as new); accept the complete hosts one at a time with --host, or a complete scan (ftpaudit history)",
			id, strings.Join(incomplete, ", "))}
	}
	acc, err := st.Accept(ctx, ids, by, note)
	if err != nil {
		if errors.Is(err, history.ErrIncomplete) || errors.Is(err, history.ErrNotFound) {
			return usageError{err}
		}
		return outputError{err}
	}
	for _, a := range acc {
		line := fmt.Sprintf("accepted scan %d as the baseline of %s, by %s", a.ScanID, report.Display(hostName(a.Target, a.Start)), report.DisplayText(a.By))
		if a.Note != "" {
			line += ": " + report.DisplayText(a.Note)
		}
		if p := prev[a.HostID]; p != nil {
			line += fmt.Sprintf(" (was scan %d, %s)", p.ScanID, report.DisplayText(acceptedText(p)))
		}
		if _, err := fmt.Fprintln(stdout, line); err != nil {
			return outputError{fmt.Errorf("write results: %w", err)}
		}
	}
	return nil
}
