package main

// The baseline use case, shared by scan --baseline and diff: the entries
// of a host now against those of an earlier complete scan of the same
// host and start directory, every change judged as a finding.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/history"
	"github.com/ftpaudit/ftpaudit/rules"
)

// compareHost compares h, just scanned, with its baseline (byID, or the
// last complete scan of the same target and start) and returns the
// findings; it sets h.Baseline, to a note alone when there is nothing to
// compare with.
func compareHost(ctx context.Context, st *history.Store, h *ftpaudit.HostResult, byID *history.ScanInfo, pol *rules.Policy) ([]ftpaudit.Finding, error) {
	var base *history.HostInfo
	var started time.Time
	if byID != nil {
		if base = hostIn(byID, h.Target.URL, h.Target.Start); base == nil {
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
	found, rep, err := judgeBaseline(ctx, st, h, rules.SeqOf(h.Entries), base, started, pol)
	if err != nil {
		return nil, err
	}
	h.Baseline = &rep
	return found, nil
}

// judgeBaseline judges the changes from the saved entries of base (a host
// of a complete scan started at started) to cur, the entries of h now,
// with pol: the findings, and the counts for h's baseline report.
func judgeBaseline(ctx context.Context, st *history.Store, h *ftpaudit.HostResult, cur iter.Seq2[ftpaudit.Entry, error], base *history.HostInfo, started time.Time, pol *rules.Policy) ([]ftpaudit.Finding, ftpaudit.BaselineReport, error) {
	j := rules.NewBaselineJudge(h, rules.Baseline{ScanID: base.ScanID, Started: started}, pol)
	err := rules.DiffEntries(st.EntryAttrs(ctx, base.ID), j.Tap(cur), func(c rules.Change) error {
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
