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
	"github.com/ftpaudit/ftpaudit/rules"
)

const verifyUsage = `Usage: ftpaudit verify [scan flags] [--db PATH] [--save] SCAN-ID

The post-incident check: scans the hosts of saved scan SCAN-ID again and
reports, for each of its findings, whether it is gone, still there, or
not proven gone, and every new finding. A finding is gone only when the
rescan shows its cause gone: it listed the directory that holds it and
ran the check that raised it. The rescan is compared with the baseline
SCAN-ID was compared with (or with the baseline accepted since, if one
was), so that a replaced file still replaced is still there. Give the
rescan what the checks need: --probe for findings that rested on the
probe, --manifest for those against a published index.

Exit 0 only when every earlier finding (above info) is gone, nothing new
at or above --fail-on appeared, and the rescan is complete; 1 while
anything remains or is not proven gone; 3 when the rescan is incomplete.
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
	sc, targets, before, err := savedScan(ctx, st, id)
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
	scanCtx, cancel := f.withTimeout(ctx)
	defer cancel()
	res := runScanCore(scanCtx, targets, passwords, &f, pol, stderr)
	defer res.Close()
	o := outcome{interrupted: ctx.Err() != nil, incomplete: !res.Complete()}
	// The history work gets a context of its own: a rescan that ran out
	// of time (--timeout) is still compared and saved.
	hctx, hcancel := context.WithTimeout(ctx, historyTimeout)
	defer hcancel()
	rescans := map[string]*rules.Rescan{}
	if o.interrupted {
		for _, h := range res.Hosts {
			rescans[h.Target.Key()] = rules.NewRescan(h, nil, "interrupted before the comparison with the baseline")
		}
	} else if rescans, err = rebaseline(hctx, st, sc, res, pol, stderr); err != nil {
		return outcome{err: outputError{err}}
	}
	failOn, _ := parseFailOn(f.failOn)
	doc, remaining := verifyDoc(id, before, res, rescans, failOn)
	o.findings = remaining
	if hf.save && !o.interrupted {
		if err := saveScan(hctx, st, res, "verify "+strings.Join(args, " "), f.quiet, stderr); err != nil {
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

// savedScan returns saved scan id, the targets to scan again, and the
// findings it saved.
func savedScan(ctx context.Context, st *history.Store, id int64) (*history.ScanInfo, []ftpaudit.Target, []ftpaudit.Finding, error) {
	sc, err := st.Scan(ctx, id)
	if err != nil {
		return nil, nil, nil, usageError{fmt.Errorf("scan %d: %w", id, err)}
	}
	var targets []ftpaudit.Target
	var before []ftpaudit.Finding
	for _, h := range sc.Hosts {
		t, err := ftpaudit.ParseTarget(h.Target + pathIfNotRoot(h.Start))
		if err != nil {
			return nil, nil, nil, usageError{fmt.Errorf("scan %d: host %q: %w", id, h.Target, err)}
		}
		targets = append(targets, t)
		found, err := st.Findings(ctx, h.ID)
		if err != nil {
			return nil, nil, nil, outputError{err}
		}
		before = append(before, found...)
	}
	return sc, targets, before, nil
}

// rebaseline compares every rescanned host with the baseline its earlier
// scan (a host of sc) was compared with, or with the baseline accepted
// for it since then, adding the findings to res, and returns what each
// rescan could check, by host key (target URL and start).
func rebaseline(ctx context.Context, st *history.Store, sc *history.ScanInfo, res *ftpaudit.Result, pol *rules.Policy, stderr io.Writer) (map[string]*rules.Rescan, error) {
	out := map[string]*rules.Rescan{}
	for _, h := range res.Hosts {
		bi := hostIn(sc, h.Target.URL, h.Target.Start)
		if bi == nil {
			out[h.Target.Key()] = rules.NewRescan(h, nil, "the earlier scan did not scan this host")
			continue
		}
		before, err := st.HostResult(ctx, bi.ID, false)
		if err != nil {
			return nil, err
		}
		spec, why, err := verifyBaseline(ctx, st, sc, before)
		if err != nil {
			return nil, err
		}
		if spec.mode != "" && h.LoginError == "" {
			found, err := compareHost(ctx, st, h, spec, pol, false)
			if err != nil {
				return nil, err
			}
			res.Findings = append(res.Findings, found...)
			fmt.Fprintf(stderr, "ftpaudit: %s: compared with %s, as the earlier findings were\n", report.Display(hostName(h.Target.URL, h.Target.Start)), why)
			why = ""
		}
		out[h.Target.Key()] = rules.NewRescan(h, before, why)
	}
	ftpaudit.SortFindings(res.Findings)
	return out, nil
}

// verifyBaseline returns the baseline to compare a rescan with: the one
// the earlier scan's host (before, of scan sc) was compared with, or the
// baseline accepted for the host after sc was saved. Without one, why
// says why the findings against a baseline cannot be checked; with one,
// it names the baseline.
func verifyBaseline(ctx context.Context, st *history.Store, sc *history.ScanInfo, before *ftpaudit.HostResult) (spec baselineSpec, why string, err error) {
	a, err := st.Accepted(ctx, before.Target.URL, before.Target.Start)
	switch {
	case err == nil && a.ScanID > sc.ID && !a.Deleted:
		return baselineSpec{mode: baselineAccepted}, fmt.Sprintf("the baseline accepted since scan %d (scan %d, %s)", sc.ID, a.ScanID, acceptedText(a)), nil
	case err != nil && !errors.Is(err, history.ErrNotFound):
		return baselineSpec{}, "", err
	}
	if before.Baseline == nil || before.Baseline.ScanID <= 0 {
		return baselineSpec{}, fmt.Sprintf("scan %d was not compared with a baseline", sc.ID), nil
	}
	bs, err := st.Scan(ctx, before.Baseline.ScanID)
	if errors.Is(err, history.ErrNotFound) {
		return baselineSpec{}, fmt.Sprintf("the baseline scan %d was compared with, scan %d, is no longer in the history", sc.ID, before.Baseline.ScanID), nil
	}
	if err != nil {
		return baselineSpec{}, "", err
	}
	return baselineSpec{mode: baselineID, byID: bs}, fmt.Sprintf("the baseline of scan %d (scan %d)", sc.ID, bs.ID), nil
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
// A finding is identified by host, path and rule. One the rescan
// reported is still there; one it did not is gone only when the rescan
// could have seen it (rescans, by host key: it listed where the finding
// is and ran the check that raised it), and otherwise not proven gone.
// remaining is true when an earlier finding above info is still there or
// not proven gone, or a new one is at or above failOn.
func verifyDoc(id int64, before []ftpaudit.Finding, res *ftpaudit.Result, rescans map[string]*rules.Rescan, failOn ftpaudit.Severity) (*report.VerifyDoc, bool) {
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
		it := report.VerifyItem{Status: rules.StatusGone, Finding: f}
		switch {
		case now[key(&f)]:
			it.Status = rules.StatusStillThere
		default:
			r := rescanOf(res, rescans, &f)
			if r == nil {
				it.Status, it.Reason = rules.StatusNotProven, "the rescan did not scan this host"
			} else if why := r.Unproven(f); why != "" {
				it.Status, it.Reason = rules.StatusNotProven, why
			}
		}
		if it.Status != rules.StatusGone && f.Severity > ftpaudit.SevInfo {
			remaining = true
		}
		doc.Items = append(doc.Items, it)
	}
	for _, f := range res.Findings {
		if !was[key(&f)] {
			doc.Items = append(doc.Items, report.VerifyItem{Status: rules.StatusNew, Finding: f})
			if f.Severity >= failOn {
				remaining = true
			}
		}
	}
	order := map[string]int{rules.StatusStillThere: 0, rules.StatusNotProven: 1, rules.StatusNew: 2, rules.StatusGone: 3}
	slices.SortStableFunc(doc.Items, func(a, b report.VerifyItem) int {
		if d := order[a.Status] - order[b.Status]; d != 0 {
			return d
		}
		return int(b.Finding.Severity) - int(a.Finding.Severity)
	})
	return doc, remaining
}

// rescanOf returns the rescan of the host finding f belongs to: the one
// with f's URL whose start directory holds f's path (the deepest), else
// the first with f's URL; nil when none.
func rescanOf(res *ftpaudit.Result, rescans map[string]*rules.Rescan, f *ftpaudit.Finding) *rules.Rescan {
	var best *ftpaudit.HostResult
	for _, h := range res.Hosts {
		if h.Target.URL != f.Host {
			continue
		}
		switch {
		case best == nil:
			best = h
		case atOrBelow(f.Path, h.Target.Start) && (!atOrBelow(f.Path, best.Target.Start) || len(h.Target.Start) > len(best.Target.Start)):
			best = h
		}
	}
	if best == nil {
		return nil
	}
	return rescans[best.Target.Key()]
}

// atOrBelow reports whether path p is dir or lies below it.
func atOrBelow(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir) && strings.HasPrefix(p[len(dir):], "/")
}
