package main

// The history side of scan: --save and --baseline, run between the scan
// and its report, and the database helpers the history commands share.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/history"
	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/rules"
)

// historyFlags are scan's flags for the history database.
type historyFlags struct {
	db       string
	save     bool
	baseline string
}

// register defines --db, --save and --baseline on fs.
func (h *historyFlags) register(fs *flag.FlagSet) {
	dbFlag(fs, &h.db)
	fs.BoolVar(&h.save, "save", false, "record this scan (hosts, coverage, every entry, findings) in the history database; a host's first complete saved scan is accepted as its baseline")
	fs.StringVar(&h.baseline, "baseline", "", "compare with a baseline: accepted (the scan accepted as each host's baseline: the nightly choice), last (the newest complete scan), or a scan id (see ftpaudit history, ftpaudit baseline)")
}

// historyTimeout bounds the history work after a scan (the baseline
// comparison and the save). It does not come out of --timeout, which
// bounds the walk: a scan that ran out of time is still compared and
// saved.
var historyTimeout = 10 * time.Minute

// historyStages, when set (benchmarks), is called at the end of the
// history work after a scan with the result and how long the baseline
// comparison and the save took.
var historyStages func(res *ftpaudit.Result, compare, save time.Duration)

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

// saveScan records res in st with the command line args, sets
// res.SavedID, and says so on stderr unless quiet. The first complete
// scan of a host without an accepted baseline is accepted as its
// baseline in the same transaction: that is said on stderr whatever
// quiet says, and noted in the host's notes.
func saveScan(ctx context.Context, st *history.Store, res *ftpaudit.Result, args string, quiet bool, stderr io.Writer) error {
	sv, err := st.SaveWith(ctx, res, args, history.SaveOptions{AutoAccept: true, By: currentUser()})
	if err != nil {
		return outputError{fmt.Errorf("save to %s: %w", st.Path(), err)}
	}
	res.SavedID = sv.ID
	if !quiet {
		fmt.Fprintf(stderr, "ftpaudit: saved as scan %d in %s\n", sv.ID, st.Path())
	}
	for _, a := range sv.Accepted {
		name := hostName(a.Target, a.Start)
		fmt.Fprintf(stderr, "ftpaudit: %s: scan %d accepted automatically as the first baseline of %s; later scans with --baseline accepted are compared with it until another is accepted (ftpaudit baseline accept ID)\n",
			report.Display(name), a.ScanID, report.Display(name))
		for _, h := range res.Hosts {
			if h.Target.URL == a.Target && h.Target.Start == a.Start {
				h.Notes = append(h.Notes, ftpaudit.PathError{Path: h.Target.Start,
					Error: fmt.Sprintf("scan %d accepted automatically as the first baseline of %s", a.ScanID, name)})
			}
		}
	}
	return nil
}

// historyHook runs between a scan and its report: baseline, then save.
type historyHook struct {
	hf   *historyFlags
	st   *history.Store
	spec baselineSpec
	// base is the command's context, without the scan's --timeout: the
	// history work after the scan gets a bounded context of its own
	// from it (historyTimeout), and is skipped only on an interrupt.
	base   context.Context
	args   string
	quiet  bool
	stderr io.Writer
}

// prepare opens the database and checks --baseline before the scan, so
// that a bad baseline fails at once rather than after an hour's walk.
// Without --save and --baseline the hook does nothing.
func (h *historyFlags) prepare(ctx context.Context, stderr io.Writer, f *scanFlags, args []string) (*historyHook, error) {
	hk := &historyHook{hf: h, base: ctx, quiet: f.quiet, stderr: stderr, args: "scan " + strings.Join(args, " ")}
	if !h.save && h.baseline == "" {
		return hk, nil
	}
	st, err := openStore(ctx, h.db)
	if err != nil {
		return nil, err
	}
	hk.st = st
	if hk.spec, err = parseBaseline(ctx, st, h.baseline); err != nil {
		hk.close()
		return nil, err
	}
	return hk, nil
}

// close closes the database, if prepare opened it.
func (hk *historyHook) close() {
	if hk.st != nil {
		_ = hk.st.Close()
	}
}

// after compares every host of res with its baseline (--baseline),
// adding the findings, then saves res (--save), unless the scan was
// interrupted. The scan's own context may have run out (--timeout): what
// was walked is still compared and saved, on a context of its own.
func (hk *historyHook) after(_ context.Context, res *ftpaudit.Result, pol *rules.Policy) error {
	var compare, save time.Duration
	if historyStages != nil {
		defer func() { historyStages(res, compare, save) }()
	}
	if hk.st == nil {
		return nil
	}
	if hk.base.Err() != nil {
		fmt.Fprintln(hk.stderr, "ftpaudit: interrupted: the scan was neither compared with a baseline nor saved")
		return nil
	}
	ctx, cancel := context.WithTimeout(hk.base, historyTimeout)
	defer cancel()
	var compareErr error
	t0 := time.Now()
	// The walk's result is live while the history works (hundreds of
	// megabytes at a million entries), and the walk left garbage behind.
	// Collecting it now, and again between the comparison and the save,
	// lets each of them reuse the memory freed before it (they read the
	// saved scan in path order and allocate as they go, tens of
	// megabytes at a million entries) rather than grow the process by
	// what it allocates. A collection costs tens of milliseconds at a
	// million entries.
	runtime.GC()
	if hk.spec.mode != "" {
		for _, h := range res.Hosts {
			found, err := compareHost(ctx, hk.st, h, hk.spec, pol, hk.hf.save)
			if err != nil {
				// The other hosts are still compared, and the scan saved.
				if compareErr == nil {
					compareErr = outputError{fmt.Errorf("baseline: %s: %w", hostName(h.Target.URL, h.Target.Start), err)}
				}
				continue
			}
			if h.Baseline != nil && h.Baseline.Note != "" {
				fmt.Fprintf(hk.stderr, "ftpaudit: %s: %s\n", report.Display(hostName(h.Target.URL, h.Target.Start)), h.Baseline.Note)
			}
			res.Findings = append(res.Findings, found...)
		}
		ftpaudit.SortFindings(res.Findings)
	}
	if hk.spec.mode != "" && hk.hf.save {
		runtime.GC()
	}
	t1 := time.Now()
	compare = t1.Sub(t0)
	if hk.hf.save {
		err := saveScan(ctx, hk.st, res, hk.args, hk.quiet, hk.stderr)
		save = time.Since(t1)
		if err != nil {
			return err
		}
	}
	return compareErr
}
