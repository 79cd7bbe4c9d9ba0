package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

// demoArchive is the spec of the sample archive (demo/archive.txt) that
// `ftpaudit demo` serves and the CLI tests scan.
//
//go:embed demo/archive.txt
var demoArchive []byte

const demoUsage = `Usage: ftpaudit demo [flags]

Starts an FTP server on 127.0.0.1 over a built-in sample archive (hidden
directories, a listable world-writable upload area with warez leftovers, a
write-only drop box, unreadable directories, a symlink loop), scans it as
'ftpaudit scan' would, and shows the result. Takes the same output flags as scan.

Flags:
`

// runDemo is "ftpaudit demo": serve the sample archive on 127.0.0.1 and
// scan it as scan would.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var f scanFlags
	fs := newFlagSet("demo", stderr, demoUsage)
	f.register(fs)
	mlsd := fs.Bool("mlsd", true, "the demo server offers MLSD (false: LIST only)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return outcome{err: err}
	}
	if len(pos) > 0 {
		return outcome{err: usageError{fmt.Errorf("demo takes no arguments, got %q", pos[0])}}
	}
	if err := f.check(); err != nil {
		return outcome{err: err}
	}
	root, err := memftp.ParseSpec(bytes.NewReader(demoArchive))
	if err != nil {
		return outcome{err: fmt.Errorf("demo archive: %w", err)}
	}
	srv, err := memftp.Start(ctx, root, memftp.Options{MLSD: *mlsd})
	if err != nil {
		return outcome{err: fmt.Errorf("start demo server: %w", err)}
	}
	defer srv.Close()
	t, err := ftpaudit.ParseTarget("ftp://" + srv.Addr + "/")
	if err != nil {
		return outcome{err: err}
	}
	if isTerminal(stdout) && f.output == "" && f.format != "json" {
		// Two short lines: the intro must fit a 60-column terminal too.
		fmt.Fprintf(stdout, "ftpaudit demo: a sample archive is served at\n%s and scanned as 'ftpaudit scan' would.\n\n", t.URL)
	}
	o := scanAndReport(ctx, []ftpaudit.Target{t}, nil, &f, stdout, stderr)
	if o.err == nil && !o.interrupted {
		// The demo's job is to show a result; the archive has problems
		// on purpose, so its own exit status is 0 when the scan ran.
		return outcome{}
	}
	return o
}
