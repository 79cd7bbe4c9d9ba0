package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/history"
	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/rules"
)

const diffUsage = `Usage: ftpaudit diff [--db PATH] [--format table|json] [--policy FILE] [--hosts FILE] A B

Compares saved scan B with saved scan A (A must be complete), host by host:
entries added, removed and changed, judged like scan --baseline.
With --hosts FILE, the drop boxes, ignored paths and anonymous account
the hosts file gives its hosts count too, as in scan --hosts --baseline.
Exit 1 when anything changed at or above --fail-on.

Flags:
`

// diffFlags are the flags of diff.
type diffFlags struct {
	db, format, policy, hostsFile, failOn string
}

// runDiff is "ftpaudit diff A B": what changed from saved scan A to saved
// scan B, judged as scan --baseline judges.
func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var df diffFlags
	fs := newFlagSet("diff", stderr, diffUsage)
	dbFlag(fs, &df.db)
	fs.StringVar(&df.format, "format", "table", "table or json")
	fs.StringVar(&df.policy, "policy", "", "policy file (drop boxes, ignored paths, severities)")
	fs.StringVar(&df.hostsFile, "hosts", "", "hosts file whose per-host drop boxes, ignored paths and anonymous account apply, as in scan --hosts")
	fs.StringVar(&df.failOn, "fail-on", "high", "exit 1 when a change has this severity or worse (or none; any case)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return outcome{err: err}
	}
	sev, ok := parseFailOn(df.failOn)
	if len(pos) != 2 || !ok || (df.format != "table" && df.format != "json") {
		return outcome{err: usageError{errors.New("usage: ftpaudit diff [--db PATH] [--format table|json] [--policy FILE] [--hosts FILE] [--fail-on SEV] A B")}}
	}
	a, err := parseID(pos[0])
	if err != nil {
		return outcome{err: err}
	}
	b, err := parseID(pos[1])
	if err != nil {
		return outcome{err: err}
	}
	pol, err := df.loadPolicy()
	if err != nil {
		return outcome{err: err}
	}
	st, err := openStore(ctx, df.db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	doc, err := diffScans(ctx, st, a, b, pol)
	if err != nil {
		return outcome{err: err}
	}
	if err := report.Diff(stdout, doc, df.format == "json"); err != nil {
		return outcome{err: outputError{err}}
	}
	return outcome{findings: anyAtOrAbove(doc.Findings, sev)}
}

// loadPolicy is --policy with the per-host policies of --hosts, as scan
// judges with them.
func (df *diffFlags) loadPolicy() (*rules.Policy, error) {
	var fl *fleet
	if df.hostsFile != "" {
		var err error
		if fl, err = loadHosts(df.hostsFile); err != nil {
			return nil, usageError{err}
		}
	}
	return loadPolicy(df.policy, fl)
}

// diffScans compares every host of saved scan b with the same host and
// start directory in saved scan a, judging the changes with pol.
func diffScans(ctx context.Context, st *history.Store, a, b int64, pol *rules.Policy) (*report.DiffDoc, error) {
	sa, err := st.Scan(ctx, a)
	if err != nil {
		return nil, usageError{fmt.Errorf("scan %d: %w", a, err)}
	}
	sb, err := st.Scan(ctx, b)
	if err != nil {
		return nil, usageError{fmt.Errorf("scan %d: %w", b, err)}
	}
	doc := &report.DiffDoc{A: a, B: b}
	for _, hb := range sb.Hosts {
		dh, found, err := diffHost(ctx, st, sa, hb, pol)
		if err != nil {
			return nil, outputError{err}
		}
		doc.Hosts = append(doc.Hosts, dh)
		doc.Findings = append(doc.Findings, found...)
	}
	ftpaudit.SortFindings(doc.Findings)
	return doc, nil
}

// diffHost compares host hb of one saved scan with the same host in the
// earlier saved scan sa, when sa scanned it completely; otherwise the
// host's note says why nothing was compared.
func diffHost(ctx context.Context, st *history.Store, sa *history.ScanInfo, hb history.HostInfo, pol *rules.Policy) (report.DiffHost, []ftpaudit.Finding, error) {
	dh := report.DiffHost{Target: hb.Target, Start: hb.Start}
	ha := hostIn(sa, hb.Target, hb.Start)
	switch {
	case ha == nil:
		dh.Note = fmt.Sprintf("not in scan %d: nothing compared", sa.ID)
		return dh, nil, nil
	case !ha.Complete:
		dh.Note = fmt.Sprintf("INCOMPLETE in scan %d (%s): not compared, since everything it missed would show as new", sa.ID, strings.Join(ha.Incomplete, "; "))
		return dh, nil, nil
	}
	h, err := st.HostResult(ctx, hb.ID, false)
	if err != nil {
		return dh, nil, err
	}
	found, rep, err := judgeBaseline(h, st.EntryAttrs(ctx, ha.ID), st.EntryAttrs(ctx, hb.ID), rules.Baseline{ScanID: sa.ID, Started: sa.Started}, pol)
	if err != nil {
		return dh, nil, err
	}
	dh.Baseline = &rep
	return dh, found, nil
}
