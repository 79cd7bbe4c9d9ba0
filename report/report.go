// Package report turns a finished scan into bytes: JSON for machines,
// tables for people, metrics for monitoring. It never talks FTP.
//
// Every format renders one presentation model, the View (view.go), so
// that they agree on what was found where. Every string that came from a
// server is escaped in one place (escape.go) before it reaches a terminal
// or a CSV cell; JSON carries it raw (encoding/json escapes it).
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/ftpaudit/ftpaudit"
)

// Reporter writes a finished scan in one format. Report returns the first
// error met while writing, so that output that could not be written is
// never taken for a report.
type Reporter interface {
	Report(w io.Writer, r *ftpaudit.Result) error
}

// Options are what the command line says about the scan output, for New.
// Each field concerns one format; the others ignore it. The zero value
// gives each format its defaults.
type Options struct {
	// Inventory adds every entry to the JSON document (--inventory).
	Inventory bool
	// Verbose shows info findings as table rows too (--verbose); without
	// it the table counts them but shows only low and worse.
	Verbose bool
	// MaxEvidence and MaxAction bound the table's EVIDENCE and ACTION
	// columns, in display columns; zero means 48 and 36.
	MaxEvidence, MaxAction int
	// MaxPaths bounds how many unreadable or failed paths the summary
	// shows per host; zero means 20.
	MaxPaths int
	// Width is the width the table and the summary are laid out for, in
	// display columns (the terminal's width); zero means 80.
	Width int
	// Color writes the table's severity words in colour (ANSI SGR). The
	// caller sets it only for a colour terminal, without NO_COLOR or
	// --no-color.
	Color bool
	// ToolVersion is ftpaudit's version, for the formats that name the
	// tool (JSON, SARIF).
	ToolVersion string
}

// formats lists the scan formats in the order Formats gives them, each
// with how New builds it.
var formats = []struct {
	name string
	new  func(Options) Reporter
}{
	{"table", func(o Options) Reporter {
		return &Table{Verbose: o.Verbose, Width: o.Width, Color: o.Color, MaxEvidence: o.MaxEvidence, MaxAction: o.MaxAction}
	}},
	{"summary", func(o Options) Reporter { return &Summary{MaxPaths: o.MaxPaths, Width: o.Width} }},
	{"json", func(o Options) Reporter { return &JSON{Inventory: o.Inventory, ToolVersion: o.ToolVersion} }},
	{"jsonl", func(o Options) Reporter { return &JSONL{Inventory: o.Inventory} }},
	{"csv", func(Options) Reporter { return &CSV{} }},
	{"sarif", func(o Options) Reporter { return &SARIF{ToolVersion: o.ToolVersion} }},
}

// Formats returns the names of the scan formats New knows: table,
// summary, json, jsonl, csv and sarif. The Prometheus metrics are not among
// them; WriteMetrics writes them beside the report. The slice is the
// caller's to keep.
func Formats() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// New returns the Reporter for format, one of Formats, set up from opts.
// An unknown format is an error that lists the known ones. Choosing a
// format from the terminal ("auto") is the caller's business.
func New(format string, opts Options) (Reporter, error) {
	for _, f := range formats {
		if f.name == format {
			return f.new(opts), nil
		}
	}
	return nil, fmt.Errorf("unknown format %q: want %s", format, strings.Join(Formats(), ", "))
}

// errWriter passes writes on and keeps the first error; after it, every
// write fails with that error. A format that makes many small writes
// (or hands its writer to tablewriter, which does not report every
// failed write) writes through one and returns its err at the end.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
