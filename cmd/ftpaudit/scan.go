package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// scanFlags are the flags shared by scan and demo.
type scanFlags struct {
	connections    int
	maxDepth       int
	retries        int
	timeout        time.Duration
	connectTimeout time.Duration
	idleTimeout    time.Duration
	format         string
	output         string
	inventory      bool
	quiet          bool
	noMLSD         bool
	noStat         bool
	insecure       bool
	probe          probeFlag
	policy         string
	failOn         string
	verbose        bool
}

// probeFlag is --probe (candidates) or --probe=all.
type probeFlag struct{ mode scanner.ProbeMode }

func (p *probeFlag) String() string {
	switch p.mode {
	case scanner.ProbeCandidates:
		return "true"
	case scanner.ProbeAll:
		return "all"
	}
	return "false"
}

func (p *probeFlag) Set(v string) error {
	switch v {
	case "true", "candidates":
		p.mode = scanner.ProbeCandidates
	case "all":
		p.mode = scanner.ProbeAll
	case "false", "off":
		p.mode = scanner.ProbeOff
	default:
		return fmt.Errorf("want --probe or --probe=all, not %q", v)
	}
	return nil
}

func (p *probeFlag) IsBoolFlag() bool { return true }

func (f *scanFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.connections, "connections", scanner.DefaultConnections, "connections per host (each lists directories in parallel)")
	fs.IntVar(&f.maxDepth, "max-depth", scanner.DefaultMaxDepth, "deepest directory level to walk; deeper ones make the scan incomplete")
	fs.IntVar(&f.retries, "retries", 3, "attempts per directory when a connection drops or the server is busy")
	fs.DurationVar(&f.timeout, "timeout", 0, "bound on the whole scan (0: none); hitting it makes the scan incomplete")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 15*time.Second, "bound on TCP connect and TLS handshake")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 30*time.Second, "bound on any single read or write on a control or data connection")
	fs.StringVar(&f.format, "format", "auto", "output format: table (cleanup table), summary (coverage per host), json, csv, or auto (table on a terminal, json otherwise)")
	fs.Var(&f.probe, "probe", "active probe: upload and remove a canary file and directory in candidate directories (--probe=all: every directory)")
	fs.StringVar(&f.policy, "policy", "", "policy file (YAML): intended drop boxes, ignored paths, anonymous account, severity overrides, extra suspicious names")
	fs.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding has this severity or worse: info, low, medium, high, critical")
	fs.BoolVar(&f.verbose, "verbose", false, "table: show info findings as rows too")
	fs.StringVar(&f.output, "o", "", "write results to this file (atomically) instead of stdout")
	fs.BoolVar(&f.inventory, "inventory", false, "include every entry in the JSON output")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&f.noMLSD, "no-mlsd", false, "use LIST -a even where the server offers MLSD")
	fs.BoolVar(&f.noStat, "no-stat", false, "list every directory over a data connection, never with STAT over the control connection")
	fs.BoolVar(&f.insecure, "insecure", false, "ftps: do not verify the server certificate (shown in the report)")
}

func (f *scanFlags) check() error {
	switch {
	case f.connections < 1 || f.connections > 64:
		return usageError{fmt.Errorf("--connections %d: want 1 to 64", f.connections)}
	case f.maxDepth < 1:
		return usageError{fmt.Errorf("--max-depth %d: want at least 1", f.maxDepth)}
	case f.retries < 1:
		return usageError{fmt.Errorf("--retries %d: want at least 1", f.retries)}
	case f.timeout < 0 || f.connectTimeout <= 0 || f.idleTimeout <= 0:
		return usageError{errors.New("timeouts must be positive")}
	}
	switch f.format {
	case "auto", "table", "summary", "json", "csv":
	default:
		return usageError{fmt.Errorf("--format %q: want table, summary, json, csv or auto", f.format)}
	}
	if _, ok := scanner.ParseSeverity(f.failOn); !ok {
		return usageError{fmt.Errorf("--fail-on %q: want info, low, medium, high or critical", f.failOn)}
	}
	return nil
}

func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

const scanUsage = `Usage: ftpaudit scan [flags] TARGET...

TARGET is ftp://[user@]host[:port][/start/path] or ftps://... (explicit TLS).
Anonymous login is the default. For another user, the password comes from
FTPAUDIT_PASSWORD or ~/.netrc, never from the command line.

Flags:
`

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var f scanFlags
	fs := newFlagSet("scan", stderr, scanUsage)
	f.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return outcome{err: err}
		}
		return outcome{err: usageError{err}}
	}
	if err := f.check(); err != nil {
		return outcome{err: err}
	}
	if len(pos) == 0 {
		return outcome{err: usageError{errors.New("no target: want ftp://host[:port][/path]")}}
	}
	var targets []scanner.Target
	for _, a := range pos {
		t, err := scanner.ParseTarget(a)
		if err != nil {
			return outcome{err: usageError{err}}
		}
		targets = append(targets, t)
	}
	passwords := map[string]string{}
	for _, t := range targets {
		if t.User == "anonymous" || t.User == "ftp" {
			continue
		}
		p, err := lookupPassword(t)
		if err != nil {
			return outcome{err: usageError{err}}
		}
		passwords[t.URL] = p
	}
	return scanAndReport(ctx, targets, passwords, &f, stdout, stderr)
}

// scanAndReport runs the scan and writes its report; demo shares it.
func scanAndReport(ctx context.Context, targets []scanner.Target, passwords map[string]string, f *scanFlags, stdout, stderr io.Writer) outcome {
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("--timeout %s reached", f.timeout))
		defer cancel()
	}
	var pol *scanner.Policy
	if f.policy != "" {
		var err error
		if pol, err = scanner.LoadPolicy(f.policy); err != nil {
			return outcome{err: usageError{err}}
		}
	}
	prog := newProgress(stderr, f.quiet)
	opt := scanner.Options{
		Probe:  f.probe.mode,
		Policy: pol,
		Dial: scanner.DialOptions{
			ConnectTimeout: f.connectTimeout,
			IdleTimeout:    f.idleTimeout,
			NoMLSD:         f.noMLSD,
			NoStat:         f.noStat,
			TLSConfig:      &tls.Config{InsecureSkipVerify: f.insecure, ClientSessionCache: tls.NewLRUClientSessionCache(64)}, //nolint:gosec // opt-in, reported
		},
		Walk: scanner.WalkOptions{
			Connections: f.connections,
			MaxDepth:    f.maxDepth,
			Retries:     f.retries,
			Progress:    prog,
		},
	}
	if len(passwords) > 0 {
		opt.Connect = func(_ context.Context, t scanner.Target) scanner.Connector {
			d := opt.Dial
			d.Password = passwords[t.URL]
			if d.TLSConfig != nil {
				d.TLSConfig = d.TLSConfig.Clone()
				d.TLSConfig.ServerName = t.Host
			}
			return scanner.FTPConnector(t, d)
		}
	}
	res := scanner.Scan(ctx, targets, opt)
	prog.Finish()

	format := f.format
	if format == "auto" {
		format = "json"
		if f.output == "" && isTerminal(stdout) {
			format = "table"
		}
	}
	var rep report.Reporter
	switch format {
	case "table":
		rep = &report.Table{Verbose: f.verbose}
	case "summary":
		rep = &report.Summary{}
	case "csv":
		rep = &report.CSV{}
	default:
		rep = &report.JSON{Inventory: f.inventory}
	}
	failOn, _ := scanner.ParseSeverity(f.failOn)
	o := outcome{
		interrupted: errors.Is(ctx.Err(), context.Canceled),
		incomplete:  !res.Complete(),
	}
	for _, fd := range res.Findings {
		if fd.Severity >= failOn {
			o.findings = true
		}
	}
	o.err = writeOutput(f.output, stdout, func(w io.Writer) error { return rep.Report(w, res) })
	if f.output != "" && o.err == nil && !f.quiet && isTerminal(stderr) {
		fmt.Fprintf(stderr, "ftpaudit: results written to %s\n", f.output)
	}
	return o
}

// lookupPassword finds the password for a named user: FTPAUDIT_PASSWORD,
// then ~/.netrc.
func lookupPassword(t scanner.Target) (string, error) {
	if p := os.Getenv("FTPAUDIT_PASSWORD"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err == nil {
		if p, ok, err := netrcPassword(home+"/.netrc", t.Host, t.User); err != nil {
			return "", err
		} else if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no password for %s: set FTPAUDIT_PASSWORD or add a machine entry to ~/.netrc", t.URL)
}
