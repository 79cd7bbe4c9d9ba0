package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/history"
	"github.com/ftpaudit/ftpaudit/report"
)

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

// runVerify is "ftpaudit verify SCAN-ID": rescan the hosts of a saved
// scan and say which of its findings are gone.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var f scanFlags
	var hf historyFlags
	fs := newFlagSet("verify", stderr, verifyUsage)
	f.register(fs)
	dbFlag(fs, &hf.db)
	fs.BoolVar(&hf.save, "save", false, "record the verifying scan in the history database")
	id, err := parseVerifyArgs(fs, &f, args)
	if err != nil {
		return outcome{err: err}
	}
	st, err := openStore(ctx, hf.db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	targets, before, err := savedScan(ctx, st, id)
	if err != nil {
		return outcome{err: err}
	}
	passwords, err := f.rescanCredentials(targets)
	if err != nil {
		return outcome{err: err}
	}
	pol, err := loadPolicy(f.policy, f.fleet)
	if err != nil {
		return outcome{err: err}
	}
	ctx, cancel := f.withTimeout(ctx)
	defer cancel()
	res := runScanCore(ctx, targets, passwords, &f, pol, stderr)
	failOn, _ := ftpaudit.ParseSeverity(f.failOn)
	doc, remaining := verifyDoc(id, before, res, failOn)
	o := outcome{interrupted: errors.Is(ctx.Err(), context.Canceled), incomplete: !res.Complete(), findings: remaining}
	if hf.save && ctx.Err() == nil {
		if err := saveScan(ctx, st, res, "verify "+strings.Join(args, " "), f.quiet, stderr); err != nil {
			return outcome{err: err}
		}
	}
	asJSON := f.format == "json" || (f.format == "auto" && (f.output != "" || !isTerminal(stdout)))
	o.err = writeOutput(f.output, stdout, func(w io.Writer) error { return report.Verify(w, doc, asJSON) })
	return o
}

// parseVerifyArgs parses verify's flags into f and returns the scan id.
func parseVerifyArgs(fs *flag.FlagSet, f *scanFlags, args []string) (int64, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 0, err
	}
	if err := f.check(); err != nil {
		return 0, err
	}
	if f.format == "csv" || f.format == "summary" {
		return 0, usageError{errors.New("verify: --format table or json")}
	}
	if len(pos) != 1 {
		return 0, usageError{errors.New("usage: ftpaudit verify [flags] SCAN-ID")}
	}
	return parseID(pos[0])
}

// savedScan returns the targets of saved scan id, to scan again, and
// the findings it saved.
func savedScan(ctx context.Context, st *history.Store, id int64) ([]ftpaudit.Target, []ftpaudit.Finding, error) {
	sc, err := st.Scan(ctx, id)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("scan %d: %w", id, err)}
	}
	var targets []ftpaudit.Target
	var before []ftpaudit.Finding
	for _, h := range sc.Hosts {
		t, err := ftpaudit.ParseTarget(h.Target + pathIfNotRoot(h.Start))
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("scan %d: host %q: %w", id, h.Target, err)}
		}
		targets = append(targets, t)
		found, err := st.Findings(ctx, h.ID)
		if err != nil {
			return nil, nil, outputError{err}
		}
		before = append(before, found...)
	}
	return targets, before, nil
}

// rescanCredentials loads --hosts into f.fleet and returns the passwords
// of the targets it does not name. A hosts file gives the saved scan's
// hosts their credentials, TLS settings, limits and policy again
// (matched by URL and start directory); the other hosts take theirs from
// the environment and ~/.netrc, as on the command line.
func (f *scanFlags) rescanCredentials(targets []ftpaudit.Target) (map[string]string, error) {
	if f.hostsFile != "" {
		fl, err := loadHosts(f.hostsFile)
		if err != nil {
			return nil, usageError{err}
		}
		f.fleet = fl
	}
	var own []ftpaudit.Target
	for _, t := range targets {
		if !f.fleet.has(t) {
			own = append(own, t)
		}
	}
	return passwordsFor(own)
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
