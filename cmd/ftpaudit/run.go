package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit/rules"
)

// run is the whole CLI: it parses args, runs one command and returns the
// exit code. It never calls os.Exit.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	var o outcome
	switch args[0] {
	case "scan":
		o = runScan(ctx, args[1:], stdout, stderr)
	case "demo":
		o = runDemo(ctx, args[1:], stdout, stderr)
	case "history":
		o = runHistory(ctx, args[1:], stdout, stderr)
	case "diff":
		o = runDiff(ctx, args[1:], stdout, stderr)
	case "verify":
		o = runVerify(ctx, args[1:], stdout, stderr)
	case "baseline":
		o = runBaseline(ctx, args[1:], stdout, stderr)
	case "prune":
		o = runPrune(ctx, args[1:], stdout, stderr)
	case "completion":
		o = runCompletion(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version())
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[1] != "help" && slices.Contains(commands, args[1]) {
			// help COMMAND is COMMAND -h.
			return run(ctx, append(args[1:2:2], "-h"), stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, topUsage)
	default:
		msg := fmt.Sprintf("unknown command %q", args[0])
		if near := rules.Suggest(args[0], commands); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		o.err = usageError{fmt.Errorf("%s; want one of %s, or help", msg, strings.Join(commands, ", "))}
	}
	var help helpError
	if errors.As(o.err, &help) {
		writeUsage(stdout, help.fs)
		return exitClean
	}
	if o.err != nil && !errors.Is(o.err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "ftpaudit: error: %v\n", o.err)
	}
	if errors.Is(o.err, flag.ErrHelp) {
		return exitClean
	}
	return exitCode(o)
}

const topUsage = `ftpaudit audits anonymous FTP archives for writable directories and unexpected uploads.

Usage:
  ftpaudit scan [flags] TARGET...   walk and audit FTP hosts (ftp://[user@]host[:port][/path], ftps://...)
  ftpaudit demo [flags]             serve a built-in sample archive on 127.0.0.1 and scan it
  ftpaudit scan --save --baseline accepted TARGET...
                                    also record the scan and compare it with the accepted baseline
  ftpaudit baseline accept SCAN-ID  accept a saved scan as its hosts' baseline (list, show: the record)
  ftpaudit history                  list saved scans
  ftpaudit diff A B                 compare two saved scans
  ftpaudit verify SCAN-ID           after a cleanup: rescan, and say which findings are gone
  ftpaudit prune --keep N           delete old saved scans (never an accepted baseline)
  ftpaudit version
  ftpaudit completion bash|zsh|fish|man
                                    print a shell completion script, or the man page

Run 'ftpaudit scan -h' for the flags. Exit codes: 0 clean, 1 findings, 2 usage error,
3 scan incomplete, 4 results could not be written, 130 interrupted.
`

// commands are the subcommands, for help and suggestions.
var commands = []string{"scan", "demo", "history", "diff", "verify", "baseline", "prune", "completion", "version"}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
