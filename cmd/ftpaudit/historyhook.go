package main

// The history side of scan: --save and --baseline, run between the scan
// and its report, and the database helpers the history commands share.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

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

// saveScan records res in st with the command line args, sets
// res.SavedID, and says so on stderr unless quiet.
func saveScan(ctx context.Context, st *history.Store, res *ftpaudit.Result, args string, quiet bool, stderr io.Writer) error {
	id, err := st.Save(ctx, res, args)
	if err != nil {
		return outputError{fmt.Errorf("save to %s: %w", st.Path(), err)}
	}
	res.SavedID = id
	if !quiet {
		fmt.Fprintf(stderr, "ftpaudit: saved as scan %d in %s\n", id, st.Path())
	}
	return nil
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
// Without --save and --baseline the hook does nothing.
func (h *historyFlags) prepare(ctx context.Context, stderr io.Writer, f *scanFlags, args []string) (*historyHook, error) {
	hk := &historyHook{hf: h, quiet: f.quiet, stderr: stderr, args: "scan " + strings.Join(args, " ")}
	if !h.save && h.baseline == "" {
		return hk, nil
	}
	st, err := openStore(ctx, h.db)
	if err != nil {
		return nil, err
	}
	hk.st = st
	if hk.byID, err = baselineByID(ctx, st, h.baseline); err != nil {
		hk.close()
		return nil, err
	}
	return hk, nil
}

// baselineByID returns the saved scan --baseline names by id: nil for
// "last" or none; an unknown or incomplete scan is a usage error.
func baselineByID(ctx context.Context, st *history.Store, baseline string) (*history.ScanInfo, error) {
	if baseline == "" || baseline == "last" {
		return nil, nil
	}
	id, err := strconv.ParseInt(baseline, 10, 64)
	if err != nil || id <= 0 {
		return nil, usageError{fmt.Errorf("--baseline %q: want last or a scan id", baseline)}
	}
	sc, err := st.Scan(ctx, id)
	if err != nil {
		return nil, usageError{fmt.Errorf("--baseline %d: %w", id, err)}
	}
	if !sc.Complete {
		return nil, usageError{fmt.Errorf("--baseline %d: that scan is incomplete; comparing with it would report everything it missed as new (pick a complete scan: ftpaudit history)", id)}
	}
	return sc, nil
}

// close closes the database, if prepare opened it.
func (hk *historyHook) close() {
	if hk.st != nil {
		_ = hk.st.Close()
	}
}

// after compares every host of res with its baseline (--baseline),
// adding the findings, then saves res (--save) unless the scan was
// interrupted.
func (hk *historyHook) after(ctx context.Context, res *ftpaudit.Result, pol *rules.Policy) error {
	if hk.st == nil {
		return nil
	}
	if hk.hf.baseline != "" {
		for _, h := range res.Hosts {
			found, err := compareHost(ctx, hk.st, h, hk.byID, pol)
			if err != nil {
				return outputError{fmt.Errorf("baseline: %w", err)}
			}
			if h.Baseline != nil && h.Baseline.Note != "" {
				fmt.Fprintf(hk.stderr, "ftpaudit: %s: %s\n", report.Display(h.Target.URL), h.Baseline.Note)
			}
			res.Findings = append(res.Findings, found...)
		}
		ftpaudit.SortFindings(res.Findings)
	}
	if hk.hf.save {
		if ctx.Err() != nil {
			fmt.Fprintln(hk.stderr, "ftpaudit: interrupted: the scan was not saved")
			return nil
		}
		return saveScan(ctx, hk.st, res, hk.args, hk.quiet, hk.stderr)
	}
	return nil
}
