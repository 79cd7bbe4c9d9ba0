package main

import (
	"context"
	"errors"
	"io"

	"github.com/ftpaudit/ftpaudit/report"
)

const historyUsage = `Usage: ftpaudit history [--db PATH] [--format table|json]

Lists saved scans, newest first.

Flags:
`

// runHistory is "ftpaudit history": the saved scans, newest first.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var db string
	fs := newFlagSet("history", stderr, historyUsage)
	dbFlag(fs, &db)
	format := fs.String("format", "table", "table or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return outcome{err: err}
	}
	if len(pos) != 0 || (*format != "table" && *format != "json") {
		return outcome{err: usageError{errors.New("usage: ftpaudit history [--db PATH] [--format table|json]")}}
	}
	st, err := openStore(ctx, db)
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

// pathIfNotRoot is a start directory as it follows a target URL: "" for
// the root.
func pathIfNotRoot(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	return p
}
