package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftpconn"
	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/rules"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// scanFlags are the flags shared by scan and demo.
type scanFlags struct {
	connections    int
	maxDepth       int
	maxEntries     int
	maxEntryBytes  int64
	maxDirEntries  int
	retries        int
	loginInterval  time.Duration
	timeout        time.Duration
	connectTimeout time.Duration
	idleTimeout    time.Duration
	format         string
	output         string
	inventory      bool
	quiet          bool
	noMLSD         bool
	noStat         bool
	noTree         bool
	insecure       bool
	probe          probeFlag
	policy         string
	failOn         string
	verbose        bool
	manifest       string
	hostsFile      string
	metricsFile    string
	maxConns       int
	caFile         string
	logFormat      string
	logLevel       string

	// Set by runScan from the command line and the hosts file.
	fleet *fleet
	log   *slog.Logger
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
	fs.IntVar(&f.maxEntries, "max-entries", scanner.DefaultMaxEntries, "most entries kept per host; reaching it stops the walk and makes the scan incomplete")
	fs.Int64Var(&f.maxEntryBytes, "max-entry-bytes", scanner.DefaultMaxEntryBytes, "most bytes of paths and listing lines kept per host (deep trees of long names); reaching it stops the walk and makes the scan incomplete")
	fs.IntVar(&f.maxDirEntries, "max-dir-entries", scanner.DefaultMaxDirEntries, "most entries kept from one directory; more makes the scan incomplete")
	fs.IntVar(&f.retries, "retries", 3, "attempts per directory when a connection drops or the server is busy")
	fs.DurationVar(&f.loginInterval, "login-interval", scanner.DefaultLoginInterval, "least time between two logins to one host (sessions are opened one at a time, up to --connections)")
	fs.DurationVar(&f.timeout, "timeout", 0, "bound on the whole scan (0: none); hitting it makes the scan incomplete")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 15*time.Second, "bound on TCP connect and TLS handshake")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 30*time.Second, "bound on any single read or write on a control or data connection")
	fs.StringVar(&f.format, "format", "auto", "output format: table (cleanup table), summary (coverage per host), json, jsonl (one finding per line, then one line per host), csv, or auto (table on a terminal, json otherwise)")
	fs.Var(&f.probe, "probe", "active probe: upload and remove a canary file and directory in candidate directories (--probe=all: every directory)")
	fs.StringVar(&f.policy, "policy", "", "policy file (YAML): intended drop boxes, ignored paths, anonymous account, severity overrides, extra suspicious names")
	fs.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding has this severity or worse: info, low, medium, high, critical")
	fs.BoolVar(&f.verbose, "verbose", false, "table: show info findings as rows too")
	fs.StringVar(&f.output, "o", "", "write results to this file (atomically) instead of stdout")
	fs.BoolVar(&f.inventory, "inventory", false, "include every entry in the JSON output")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&f.noMLSD, "no-mlsd", false, "use LIST -a even where the server offers MLSD")
	fs.BoolVar(&f.noTree, "no-recursive-list", false, "list every directory on its own, never a whole subtree with one LIST -aR")
	fs.BoolVar(&f.noStat, "no-stat", false, "list every directory over a data connection, never with STAT over the control connection")
	fs.StringVar(&f.manifest, "manifest", "", "compare with the archive's published index: auto (every ls-lR[.gz], SHA256SUMS, MD5SUMS... in the tree) or its path in the archive (/pub/ls-lR.gz)")
	fs.BoolVar(&f.insecure, "insecure", false, "ftps: do not verify the server certificate (shown in the report)")
	fs.StringVar(&f.caFile, "ca-file", "", "ftps: verify server certificates against the CA certificates in this PEM file (instead of the system's)")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "also write Prometheus metrics (node_exporter textfile format) to this file, atomically")
	fs.StringVar(&f.hostsFile, "hosts", "", "scan the hosts listed in this YAML file (with their credentials, TLS, limits, excludes and policy), besides any TARGET")
	fs.IntVar(&f.maxConns, "max-connections", 0, "connections open at once across all hosts (default: the hosts file's max_connections, else 64)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
}

func (f *scanFlags) check() error {
	switch {
	case f.connections < 1 || f.connections > 64:
		return usageError{fmt.Errorf("--connections %d: want 1 to 64", f.connections)}
	case f.maxEntries < 1 || f.maxDirEntries < 1 || f.maxEntryBytes < 1:
		return usageError{errors.New("--max-entries, --max-dir-entries and --max-entry-bytes: want at least 1")}
	case f.maxDepth < 1:
		return usageError{fmt.Errorf("--max-depth %d: want at least 1", f.maxDepth)}
	case f.retries < 1:
		return usageError{fmt.Errorf("--retries %d: want at least 1", f.retries)}
	case f.loginInterval <= 0:
		return usageError{fmt.Errorf("--login-interval %s: want more than 0", f.loginInterval)}
	case f.timeout < 0 || f.connectTimeout <= 0 || f.idleTimeout <= 0:
		return usageError{errors.New("timeouts must be positive")}
	}
	switch f.format {
	case "auto", "table", "summary", "json", "jsonl", "csv":
	default:
		return usageError{fmt.Errorf("--format %q: want table, summary, json, jsonl, csv or auto", f.format)}
	}
	if f.manifest != "" && f.manifest != "auto" && !strings.HasPrefix(f.manifest, "/") {
		return usageError{fmt.Errorf("--manifest %q: want auto or an absolute path in the archive (/pub/ls-lR.gz)", f.manifest)}
	}
	if f.caFile != "" {
		if _, err := loadCA(f.caFile); err != nil {
			return usageError{fmt.Errorf("--ca-file: %w", err)}
		}
	}
	if f.maxConns != 0 && f.maxConns < 2 {
		return usageError{fmt.Errorf("--max-connections %d: want at least 2", f.maxConns)}
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return usageError{fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
	}
	if _, err := parseLevel(f.logLevel); err != nil {
		return usageError{err}
	}
	if _, ok := ftpaudit.ParseSeverity(f.failOn); !ok {
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
	var hf historyFlags
	fs := newFlagSet("scan", stderr, scanUsage)
	f.register(fs)
	hf.register(fs)
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
	f.log = newLogger(stderr, f.logFormat, f.logLevel)
	var targets []ftpaudit.Target
	if f.hostsFile != "" {
		fl, err := loadHosts(f.hostsFile)
		if err != nil {
			return outcome{err: usageError{err}}
		}
		for _, w := range fl.warnings {
			f.log.Warn("hosts file", "warning", w)
		}
		f.fleet = fl
		for _, h := range fl.hosts {
			targets = append(targets, h.target)
		}
	}
	if len(pos) == 0 && len(targets) == 0 {
		return outcome{err: usageError{errors.New("no target: want ftp://host[:port][/path] or --hosts FILE")}}
	}
	var cli []ftpaudit.Target
	for _, a := range pos {
		t, err := ftpaudit.ParseTarget(a)
		if err != nil {
			return outcome{err: usageError{err}}
		}
		cli = append(cli, t)
	}
	targets = append(targets, cli...)
	seen := map[string]bool{}
	for _, t := range targets {
		k := t.URL + t.Start
		if seen[k] {
			return outcome{err: usageError{fmt.Errorf("%s%s is given twice", t.URL, t.Start)}}
		}
		seen[k] = true
	}
	passwords, err := passwordsFor(cli)
	if err != nil {
		return outcome{err: err}
	}
	hook, err := hf.prepare(ctx, stderr, &f, args)
	if err != nil {
		return outcome{err: err}
	}
	defer hook.close()
	return scanAndReport(ctx, targets, passwords, &f, stdout, stderr, hook.after)
}

// scanAndReport runs the scan and writes its report; demo shares it.
// after, when set, runs between the two (history: baseline and save).
func scanAndReport(ctx context.Context, targets []ftpaudit.Target, passwords map[string]string, f *scanFlags, stdout, stderr io.Writer, after ...func(context.Context, *ftpaudit.Result, *rules.Policy) error) outcome {
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("--timeout %s reached", f.timeout))
		defer cancel()
	}
	pol, err := f.loadPolicy()
	if err != nil {
		return outcome{err: err}
	}
	res := runScanCore(ctx, targets, passwords, f, pol, stderr)
	var afterErr error
	for _, a := range after {
		if err := a(ctx, res, pol); err != nil && afterErr == nil {
			afterErr = err
		}
	}
	o := f.outcome(ctx, res)
	o.err = writeOutput(f.output, stdout, func(w io.Writer) error { return f.reporter(stdout).Report(w, res) })
	if f.output != "" && o.err == nil && !f.quiet && isTerminal(stderr) {
		fmt.Fprintf(stderr, "ftpaudit: results written to %s\n", f.output)
	}
	if err := f.writeMetrics(res); err != nil && o.err == nil {
		o.err = err
	}
	if o.err == nil {
		o.err = afterErr
	}
	return o
}

// writeMetrics writes --metrics-file atomically. The time of each host's
// last complete scan is carried over from the previous file, so that
// "no complete scan in 36 h" can be alerted on.
func (f *scanFlags) writeMetrics(res *ftpaudit.Result) error {
	if f.metricsFile == "" {
		return nil
	}
	var last map[string]time.Time
	if old, err := os.Open(f.metricsFile); err == nil {
		last, _ = report.ReadLastComplete(old)
		old.Close()
	}
	return writeOutput(f.metricsFile, nil, func(w io.Writer) error {
		if fl, ok := w.(*os.File); ok {
			// node_exporter reads it as another user.
			if err := fl.Chmod(0o644); err != nil {
				return err
			}
		}
		return report.WriteMetrics(w, res, last)
	})
}

func (f *scanFlags) loadPolicy() (*rules.Policy, error) {
	if f.policy == "" {
		return nil, nil
	}
	pol, err := rules.LoadPolicy(f.policy)
	if err != nil {
		return nil, usageError{err}
	}
	return pol, nil
}

// defaultMaxConnections bounds the connections open at once across all
// hosts when neither --max-connections nor the hosts file says.
const defaultMaxConnections = 64

// runScanCore scans targets with the options f names. Targets from a
// hosts file (f.fleet) carry their own password, TLS, connection limit,
// excludes and policy; the others use the flags and passwords.
func runScanCore(ctx context.Context, targets []ftpaudit.Target, passwords map[string]string, f *scanFlags, pol *rules.Policy, stderr io.Writer) *ftpaudit.Result {
	log := f.log
	if log == nil {
		log = newLogger(stderr, f.logFormat, f.logLevel)
	}
	prog := newProgress(stderr, f.quiet)
	baseTLS := &tls.Config{InsecureSkipVerify: f.insecure} //nolint:gosec // opt-in, reported
	if f.caFile != "" {
		pool, err := loadCA(f.caFile)
		if err != nil {
			// check() cannot know; refuse loudly rather than fall
			// back to the system roots.
			log.Error("--ca-file unusable; every ftps target will fail verification", "error", err)
			pool = x509.NewCertPool()
		}
		baseTLS.RootCAs = pool
	}
	per := map[string]*fleetHost{}
	if f.fleet != nil {
		for i := range f.fleet.hosts {
			h := &f.fleet.hosts[i]
			per[h.target.Key()] = h
			if h.policy != nil {
				if pol == nil {
					pol = rules.DefaultPolicy()
				}
				pol.Hosts = append(pol.Hosts, *h.policy)
			}
		}
	}
	dial := ftpconn.DialOptions{
		ConnectTimeout: f.connectTimeout,
		IdleTimeout:    f.idleTimeout,
		NoMLSD:         f.noMLSD,
		NoStat:         f.noStat,
	}
	walk := scanner.WalkOptions{
		Connections:   f.connections,
		MaxDepth:      f.maxDepth,
		MaxEntries:    f.maxEntries,
		MaxEntryBytes: f.maxEntryBytes,
		MaxDirEntries: f.maxDirEntries,
		Retries:       f.retries,
		LoginInterval: f.loginInterval,
		Progress:      prog,
		NoTree:        f.noTree,
	}
	jobs := make([]scanner.Job, len(targets))
	for i, t := range targets {
		d, w := dial, walk
		if h := per[t.Key()]; h != nil {
			d.Password = h.password
			d.TLSConfig = h.tls
			if h.conns > 0 {
				w.Connections = h.conns
			}
			w.NoTree = w.NoTree || h.noTree
			w.Exclude = h.exclude
		} else {
			d.Password = passwords[t.URL]
			if t.TLS != ftpaudit.TLSNone {
				d.TLSConfig = baseTLS.Clone()
				d.TLSConfig.ServerName = t.Host
			}
		}
		dialer := ftpconn.NewDialer(t, d)
		jobs[i] = scanner.Job{Target: t, Connect: dialer.Connect, Walk: w, StatReport: dialer.StatReport}
	}
	maxConns := f.maxConns
	if maxConns == 0 && f.fleet != nil {
		maxConns = f.fleet.maxConnections
	}
	if maxConns == 0 {
		maxConns = defaultMaxConnections
	}
	opt := scanner.Options{Probe: f.probe.mode, Manifest: f.manifest, Budget: scanner.NewBudget(maxConns)}
	for _, t := range targets {
		log.Info("scan start", "host", t.URL, "start", t.Start, "user", t.User, "tls", t.TLS != ftpaudit.TLSNone)
	}
	res := scanner.Scan(ctx, jobs, opt)
	rules.JudgeResult(res, pol)
	prog.Finish()
	for _, h := range res.Hosts {
		attrs := []any{"host", h.Target.URL, "start", h.Target.Start, "complete", h.Complete,
			"dirs", h.Stats.Dirs, "files", h.Stats.Files, "unreadable", h.Stats.Unreadable, "errors", h.Stats.Errors,
			"duration", h.Finished.Sub(h.Started).Round(time.Millisecond).String()}
		switch {
		case h.LoginError != "":
			log.Error("host failed", append(attrs, "error", h.LoginError)...)
		case !h.Complete:
			log.Warn("host incomplete", append(attrs, "reasons", strings.Join(h.Incomplete, "; "))...)
		default:
			log.Info("host done", attrs...)
		}
		for _, e := range h.Errors {
			log.Debug("listing error", "host", h.Target.URL, "path", e.Path, "error", e.Error)
		}
	}
	return res
}

// newLogger returns the structured logger on stderr (log/slog).
func newLogger(w io.Writer, format, level string) *slog.Logger {
	lv, err := parseLevel(level)
	if err != nil {
		lv = slog.LevelWarn
	}
	o := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

func parseLevel(s string) (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return lv, nil
}

// reporter returns the Reporter for --format.
func (f *scanFlags) reporter(stdout io.Writer) report.Reporter {
	format := f.format
	if format == "auto" {
		format = "json"
		if f.output == "" && isTerminal(stdout) {
			format = "table"
		}
	}
	switch format {
	case "table":
		return &report.Table{Verbose: f.verbose}
	case "summary":
		return &report.Summary{}
	case "csv":
		return &report.CSV{}
	case "jsonl":
		return &report.JSONL{}
	}
	return &report.JSON{Inventory: f.inventory}
}

// outcome judges a finished scan for the exit code.
func (f *scanFlags) outcome(ctx context.Context, res *ftpaudit.Result) outcome {
	failOn, _ := ftpaudit.ParseSeverity(f.failOn)
	o := outcome{
		interrupted: errors.Is(ctx.Err(), context.Canceled),
		incomplete:  !res.Complete(),
	}
	for _, fd := range res.Findings {
		if fd.Severity >= failOn {
			o.findings = true
		}
	}
	return o
}

// passwordsFor looks up the password of every target with a named user.
func passwordsFor(targets []ftpaudit.Target) (map[string]string, error) {
	passwords := map[string]string{}
	for _, t := range targets {
		if t.User == "anonymous" || t.User == "ftp" {
			continue
		}
		p, err := lookupPassword(t)
		if err != nil {
			return nil, usageError{err}
		}
		passwords[t.URL] = p
	}
	return passwords, nil
}

// lookupPassword finds the password for a named user: FTPAUDIT_PASSWORD,
// then ~/.netrc.
func lookupPassword(t ftpaudit.Target) (string, error) {
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
