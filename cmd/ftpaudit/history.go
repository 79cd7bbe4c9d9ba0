package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/rules"
	"github.com/ftpaudit/ftpaudit/scanner/history"
)

// historyFlags are scan's flags for the history database.
type historyFlags struct {
	db       string
	save     bool
	baseline string
}

func (h *historyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&h.db, "db", "", "history database (default $XDG_STATE_HOME/ftpaudit/history.db)")
	fs.BoolVar(&h.save, "save", false, "record this scan (hosts, coverage, every entry, findings) in the history database")
	fs.StringVar(&h.baseline, "baseline", "", "compare with an earlier complete scan of the same hosts: last, or a scan id (see ftpaudit history)")
}

// openStore opens the history database named by --db (or the default).
// A database that cannot be used is an output error (exit 4): the scan's
// results would have nowhere to go.
func openStore(ctx context.Context, path string) (*history.Store, error) {
	if path == "" {
		var err error
		if path, err = history.DefaultPath(); err != nil {
			return nil, outputError{fmt.Errorf("history database: %w", err)}
		}
	}
	st, err := history.Open(ctx, path)
	if err != nil {
		return nil, outputError{fmt.Errorf("history database: %w", err)}
	}
	return st, nil
}

// historyHook runs between a scan and its report: baseline, then save.
type historyHook struct {
	hf     *historyFlags
	st     *history.Store
	byID   *history.ScanInfo // --baseline ID
	args   string
	quiet  bool
	stderr io.Writer
}

// prepare opens the database and checks --baseline before the scan, so
// that a bad baseline fails at once rather than after an hour's walk.
func (h *historyFlags) prepare(ctx context.Context, stderr io.Writer, f *scanFlags, args []string) (*historyHook, error) {
	hk := &historyHook{hf: h, quiet: f.quiet, stderr: stderr, args: "scan " + strings.Join(args, " ")}
	if !h.save && h.baseline == "" {
		return hk, nil
	}
	st, err := openStore(ctx, h.db)
	if err != nil {
		return hk, err
	}
	hk.st = st
	if h.baseline != "" && h.baseline != "last" {
		id, err := strconv.ParseInt(h.baseline, 10, 64)
		if err != nil || id <= 0 {
			return hk, usageError{fmt.Errorf("--baseline %q: want last or a scan id", h.baseline)}
		}
		sc, err := st.Scan(ctx, id)
		if err != nil {
			return hk, usageError{fmt.Errorf("--baseline %d: %w", id, err)}
		}
		if !sc.Complete {
			return hk, usageError{fmt.Errorf("--baseline %d: that scan is incomplete; comparing with it would report everything it missed as new (pick a complete scan: ftpaudit history)", id)}
		}
		hk.byID = sc
	}
	return hk, nil
}

func (hk *historyHook) close() {
	if hk.st != nil {
		_ = hk.st.Close()
	}
}

func (hk *historyHook) after(ctx context.Context, res *ftpaudit.Result, pol *rules.Policy) error {
	if hk.st == nil {
		return nil
	}
	if hk.hf.baseline != "" {
		for _, h := range res.Hosts {
			fs, err := compareHost(ctx, hk.st, h, hk.byID, pol)
			if err != nil {
				return outputError{fmt.Errorf("baseline: %w", err)}
			}
			if h.Baseline != nil && h.Baseline.Note != "" {
				fmt.Fprintf(hk.stderr, "ftpaudit: %s: %s\n", report.Display(h.Target.URL), h.Baseline.Note)
			}
			res.Findings = append(res.Findings, fs...)
		}
		ftpaudit.SortFindings(res.Findings)
	}
	if hk.hf.save {
		if ctx.Err() != nil {
			fmt.Fprintln(hk.stderr, "ftpaudit: interrupted: the scan was not saved")
			return nil
		}
		id, err := hk.st.Save(ctx, res, hk.args)
		if err != nil {
			return outputError{fmt.Errorf("save to %s: %w", hk.st.Path(), err)}
		}
		res.SavedID = id
		if !hk.quiet {
			fmt.Fprintf(hk.stderr, "ftpaudit: saved as scan %d in %s\n", id, hk.st.Path())
		}
	}
	return nil
}

// compareHost compares h with its baseline (byID, or the last complete
// scan of the same target and start) and returns the findings; it sets
// h.Baseline.
func compareHost(ctx context.Context, st *history.Store, h *ftpaudit.HostResult, byID *history.ScanInfo, pol *rules.Policy) ([]ftpaudit.Finding, error) {
	var base *history.HostInfo
	var started time.Time
	if byID != nil {
		for i := range byID.Hosts {
			if byID.Hosts[i].Target == h.Target.URL && byID.Hosts[i].Start == h.Target.Start {
				base = &byID.Hosts[i]
			}
		}
		if base == nil {
			h.Baseline = &ftpaudit.BaselineReport{Note: fmt.Sprintf("scan %d did not scan this host and start directory: nothing compared", byID.ID)}
			return nil, nil
		}
		started = byID.Started
	} else {
		hi, err := st.LastComplete(ctx, h.Target.URL, h.Target.Start, 0)
		if errors.Is(err, history.ErrNotFound) {
			h.Baseline = &ftpaudit.BaselineReport{Note: "no earlier complete scan of this host and start directory: nothing compared (this scan becomes the baseline once saved)"}
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
		started = sc.Started
	}
	j := rules.NewBaselineJudge(h, rules.Baseline{ScanID: base.ScanID, Started: started}, pol)
	err := rules.DiffEntries(st.EntryAttrs(ctx, base.ID), j.Tap(rules.SeqOf(h.Entries)), func(c rules.Change) error {
		j.Add(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	fs, rep := j.Finish()
	h.Baseline = &rep
	return fs, nil
}

const historyUsage = `Usage: ftpaudit history [--db PATH] [--format table|json]

Lists saved scans, newest first.

Flags:
`

func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	fs := newFlagSet("history", stderr, historyUsage)
	db := fs.String("db", "", "history database (default $XDG_STATE_HOME/ftpaudit/history.db)")
	format := fs.String("format", "table", "table or json")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return outcome{err: flagErr(err)}
	}
	if len(pos) != 0 || (*format != "table" && *format != "json") {
		return outcome{err: usageError{errors.New("usage: ftpaudit history [--db PATH] [--format table|json]")}}
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	scans, err := st.Scans(ctx)
	if err != nil {
		return outcome{err: outputError{err}}
	}
	var rows []report.ScanRow
	for _, sc := range scans {
		r := report.ScanRow{ID: sc.ID, Started: sc.Started, Finished: sc.Finished, Complete: sc.Complete}
		for _, h := range sc.Hosts {
			r.Hosts = append(r.Hosts, h.Target+pathIfNotRoot(h.Start))
			r.Entries += h.Entries
			r.Findings += h.Findings
		}
		rows = append(rows, r)
	}
	if err := report.History(stdout, rows, *format == "json"); err != nil {
		return outcome{err: outputError{err}}
	}
	return outcome{}
}

func pathIfNotRoot(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	return p
}

func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err}
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Errorf("%q is not a scan id (see ftpaudit history)", s)}
	}
	return id, nil
}

const diffUsage = `Usage: ftpaudit diff [--db PATH] [--format table|json] [--policy FILE] A B

Compares saved scan B with saved scan A (A must be complete), host by host:
entries added, removed and changed, judged like scan --baseline.
Exit 1 when anything changed at or above --fail-on.

Flags:
`

func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	fs := newFlagSet("diff", stderr, diffUsage)
	db := fs.String("db", "", "history database (default $XDG_STATE_HOME/ftpaudit/history.db)")
	format := fs.String("format", "table", "table or json")
	policy := fs.String("policy", "", "policy file (drop boxes, ignored paths, severities)")
	failOn := fs.String("fail-on", "high", "exit 1 when a change has this severity or worse")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return outcome{err: flagErr(err)}
	}
	sev, ok := ftpaudit.ParseSeverity(*failOn)
	if len(pos) != 2 || !ok || (*format != "table" && *format != "json") {
		return outcome{err: usageError{errors.New("usage: ftpaudit diff [--db PATH] [--format table|json] [--policy FILE] [--fail-on SEV] A B")}}
	}
	a, err := parseID(pos[0])
	if err != nil {
		return outcome{err: err}
	}
	b, err := parseID(pos[1])
	if err != nil {
		return outcome{err: err}
	}
	var pol *rules.Policy
	if *policy != "" {
		if pol, err = rules.LoadPolicy(*policy); err != nil {
			return outcome{err: usageError{err}}
		}
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	sa, err := st.Scan(ctx, a)
	if err != nil {
		return outcome{err: usageError{fmt.Errorf("scan %d: %w", a, err)}}
	}
	sb, err := st.Scan(ctx, b)
	if err != nil {
		return outcome{err: usageError{fmt.Errorf("scan %d: %w", b, err)}}
	}
	doc := &report.DiffDoc{A: a, B: b}
	for _, hb := range sb.Hosts {
		dh := report.DiffHost{Target: hb.Target, Start: hb.Start}
		var ha *history.HostInfo
		for i := range sa.Hosts {
			if sa.Hosts[i].Target == hb.Target && sa.Hosts[i].Start == hb.Start {
				ha = &sa.Hosts[i]
			}
		}
		switch {
		case ha == nil:
			dh.Note = fmt.Sprintf("not in scan %d: nothing compared", a)
		case !ha.Complete:
			dh.Note = fmt.Sprintf("INCOMPLETE in scan %d (%s): not compared, since everything it missed would show as new", a, strings.Join(ha.Incomplete, "; "))
		default:
			h, err := st.HostResult(ctx, hb.ID, false)
			if err != nil {
				return outcome{err: outputError{err}}
			}
			j := rules.NewBaselineJudge(h, rules.Baseline{ScanID: a, Started: sa.Started}, pol)
			err = rules.DiffEntries(st.EntryAttrs(ctx, ha.ID), j.Tap(st.EntryAttrs(ctx, hb.ID)), func(c rules.Change) error {
				j.Add(c)
				return nil
			})
			if err != nil {
				return outcome{err: outputError{err}}
			}
			fs, rep := j.Finish()
			dh.Baseline = &rep
			doc.Findings = append(doc.Findings, fs...)
		}
		doc.Hosts = append(doc.Hosts, dh)
	}
	ftpaudit.SortFindings(doc.Findings)
	if err := report.Diff(stdout, doc, *format == "json"); err != nil {
		return outcome{err: outputError{err}}
	}
	o := outcome{}
	for _, f := range doc.Findings {
		if f.Severity >= sev {
			o.findings = true
		}
	}
	return o
}

const verifyUsage = `Usage: ftpaudit verify [scan flags] [--db PATH] [--save] SCAN-ID

The post-incident check: scans the hosts of saved scan SCAN-ID again and
reports, for each of its findings, whether it is gone or still there, and
every new finding. Exit 0 only when every earlier finding (above info) is
gone, nothing new at or above --fail-on appeared, and the rescan is
complete; 1 while anything remains; 3 when the rescan is incomplete.
With --hosts FILE, the hosts the file names get their credentials, TLS
settings, limits and policy from it, as in scan.

Flags:
`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var f scanFlags
	var hf historyFlags
	fs := newFlagSet("verify", stderr, verifyUsage)
	f.register(fs)
	fs.StringVar(&hf.db, "db", "", "history database (default $XDG_STATE_HOME/ftpaudit/history.db)")
	fs.BoolVar(&hf.save, "save", false, "record the verifying scan in the history database")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return outcome{err: flagErr(err)}
	}
	if err := f.check(); err != nil {
		return outcome{err: err}
	}
	if f.format == "csv" || f.format == "summary" {
		return outcome{err: usageError{errors.New("verify: --format table or json")}}
	}
	if len(pos) != 1 {
		return outcome{err: usageError{errors.New("usage: ftpaudit verify [flags] SCAN-ID")}}
	}
	id, err := parseID(pos[0])
	if err != nil {
		return outcome{err: err}
	}
	st, err := openStore(ctx, hf.db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	sc, err := st.Scan(ctx, id)
	if err != nil {
		return outcome{err: usageError{fmt.Errorf("scan %d: %w", id, err)}}
	}
	var targets []ftpaudit.Target
	var before []ftpaudit.Finding
	for _, h := range sc.Hosts {
		t, err := ftpaudit.ParseTarget(h.Target + pathIfNotRoot(h.Start))
		if err != nil {
			return outcome{err: usageError{fmt.Errorf("scan %d: host %q: %w", id, h.Target, err)}}
		}
		targets = append(targets, t)
		fs, err := st.Findings(ctx, h.ID)
		if err != nil {
			return outcome{err: outputError{err}}
		}
		before = append(before, fs...)
	}
	// A hosts file gives the saved scan's hosts their credentials, TLS
	// settings, limits and policy again (matched by URL and start
	// directory); the other hosts take theirs from the environment and
	// ~/.netrc, as on the command line.
	var own []ftpaudit.Target
	if f.hostsFile != "" {
		fl, err := loadHosts(f.hostsFile)
		if err != nil {
			return outcome{err: usageError{err}}
		}
		f.fleet = fl
	}
	for _, t := range targets {
		if !f.fleet.has(t) {
			own = append(own, t)
		}
	}
	passwords, err := passwordsFor(own)
	if err != nil {
		return outcome{err: err}
	}
	pol, err := f.loadPolicy()
	if err != nil {
		return outcome{err: err}
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("--timeout %s reached", f.timeout))
		defer cancel()
	}
	res := runScanCore(ctx, targets, passwords, &f, pol, stderr)
	failOn, _ := ftpaudit.ParseSeverity(f.failOn)
	doc, remaining := verifyDoc(id, before, res, failOn)
	o := outcome{interrupted: errors.Is(ctx.Err(), context.Canceled), incomplete: !res.Complete(), findings: remaining}
	if hf.save && ctx.Err() == nil {
		sid, err := st.Save(ctx, res, "verify "+strings.Join(args, " "))
		if err != nil {
			return outcome{err: outputError{fmt.Errorf("save: %w", err)}}
		}
		if !f.quiet {
			fmt.Fprintf(stderr, "ftpaudit: saved as scan %d in %s\n", sid, st.Path())
		}
	}
	asJSON := f.format == "json" || (f.format == "auto" && (f.output != "" || !isTerminal(stdout)))
	o.err = writeOutput(f.output, stdout, func(w io.Writer) error { return report.Verify(w, doc, asJSON) })
	return o
}

// verifyDoc sets the findings of the earlier scan against the rescan's.
// A finding is identified by host, path and rule. remaining is true when
// an earlier finding above info is still there, or a new one is at or
// above failOn.
func verifyDoc(id int64, before []ftpaudit.Finding, res *ftpaudit.Result, failOn ftpaudit.Severity) (*report.VerifyDoc, bool) {
	doc := &report.VerifyDoc{ScanID: id, Complete: res.Complete()}
	for _, h := range res.Hosts {
		for _, r := range h.Incomplete {
			doc.Incomplete = append(doc.Incomplete, h.Target.URL+": "+r)
		}
	}
	key := func(f *ftpaudit.Finding) string { return f.Host + "\x00" + f.Path + "\x00" + f.Rule }
	now := make(map[string]bool, len(res.Findings))
	for i := range res.Findings {
		now[key(&res.Findings[i])] = true
	}
	was := make(map[string]bool, len(before))
	remaining := false
	for i := range before {
		f := before[i]
		was[key(&f)] = true
		status := "gone"
		if now[key(&f)] {
			status = "still there"
			if f.Severity > ftpaudit.SevInfo {
				remaining = true
			}
		}
		doc.Items = append(doc.Items, report.VerifyItem{Status: status, Finding: f})
	}
	for _, f := range res.Findings {
		if !was[key(&f)] {
			doc.Items = append(doc.Items, report.VerifyItem{Status: "new", Finding: f})
			if f.Severity >= failOn {
				remaining = true
			}
		}
	}
	order := map[string]int{"still there": 0, "new": 1, "gone": 2}
	slices.SortStableFunc(doc.Items, func(a, b report.VerifyItem) int {
		if d := order[a.Status] - order[b.Status]; d != 0 {
			return d
		}
		return int(b.Finding.Severity) - int(a.Finding.Severity)
	})
	return doc, remaining
}

const pruneUsage = `Usage: ftpaudit prune [--db PATH] [--keep N] [--older-than DURATION]

Deletes saved scans: all but the newest N (--keep), and/or those started
longer ago than DURATION (--older-than, e.g. 720h or 30d).

Flags:
`

func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	fs := newFlagSet("prune", stderr, pruneUsage)
	db := fs.String("db", "", "history database (default $XDG_STATE_HOME/ftpaudit/history.db)")
	keep := fs.Int("keep", 0, "keep the newest N scans")
	older := fs.String("older-than", "", "delete scans started longer ago than this (e.g. 720h, 30d)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return outcome{err: flagErr(err)}
	}
	if len(pos) != 0 || (*keep <= 0 && *older == "") || *keep < 0 {
		return outcome{err: usageError{errors.New("usage: ftpaudit prune [--db PATH] --keep N and/or --older-than DURATION")}}
	}
	var cutoff time.Time
	if *older != "" {
		d, err := parseAge(*older)
		if err != nil {
			return outcome{err: usageError{err}}
		}
		cutoff = time.Now().Add(-d)
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	n, err := st.Prune(ctx, *keep, cutoff)
	if err != nil {
		return outcome{err: outputError{err}}
	}
	fmt.Fprintf(stdout, "deleted %d scans\n", n)
	return outcome{}
}

// parseAge parses a Go duration or a number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--older-than %q: want a positive duration like 720h or 30d", s)
	}
	return d, nil
}
