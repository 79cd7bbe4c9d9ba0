package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftpconn"
	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/rules"
	"github.com/ftpaudit/ftpaudit/scanner"
)

const scanUsage = `Usage: ftpaudit scan [flags] TARGET...

TARGET is ftp://[user@]host[:port][/start/path] or ftps://... (explicit TLS).
Anonymous login is the default. For another user, the password comes from
FTPAUDIT_PASSWORD or ~/.netrc, never from the command line.

Flags:
`

// runScan is "ftpaudit scan": walk and judge the targets, then (with
// --save or --baseline) compare with and record in the history, then
// write the report.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var f scanFlags
	var hf historyFlags
	fs := newFlagSet("scan", stderr, scanUsage)
	f.register(fs)
	hf.register(fs)
	shardFlag(fs, &f.shard)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return outcome{err: err}
	}
	if err := f.check(); err != nil {
		return outcome{err: err}
	}
	// A report that cannot be written is found now, not after the walk.
	for _, out := range []string{f.output, f.metricsFile} {
		if err := checkOutput(out); err != nil {
			return outcome{err: err}
		}
	}
	f.log = newLogger(stderr, f.logFormat, f.logLevel)
	targets, cli, err := f.targets(pos)
	if err != nil {
		return outcome{err: err}
	}
	// --shard: this run's share. The whole hosts file has been read and
	// checked, so that a mistake in it fails every shard alike; only the
	// command line's targets of this shard need a password.
	total := len(targets)
	targets, cli = f.shard.pick(targets), f.shard.pick(cli)
	passwords, err := passwordsFor(cli)
	if err != nil {
		return outcome{err: err}
	}
	hook, err := hf.prepare(ctx, stderr, &f, args)
	if err != nil {
		return outcome{err: err}
	}
	defer hook.close()
	if len(targets) == 0 {
		// An empty shard (fewer targets than shards, or the hash's
		// draw) is not a failure of the job that runs it: one line says
		// so, the report and the metrics are written (empty, with the
		// run's times), nothing is saved, and the exit code is 0.
		f.log.Warn(emptyShardLine(&f.shard, total))
		return scanAndReport(ctx, nil, passwords, &f, stdout, stderr)
	}
	if f.shard.n > 0 {
		f.log.Info(shardLine(&f.shard, len(targets), total))
	}
	return scanAndReport(ctx, targets, passwords, &f, stdout, stderr, hook.after)
}

// emptyShardLine is the warning of a shard that holds none of the total
// targets.
func emptyShardLine(s *shard, total int) string {
	if total == 1 {
		return fmt.Sprintf("shard %s does not hold the one target: nothing to scan", s)
	}
	return fmt.Sprintf("shard %s holds none of the %d targets: nothing to scan", s, total)
}

// shardLine is the info line of a shard that holds n of the total
// targets.
func shardLine(s *shard, n, total int) string {
	if total == 1 {
		return fmt.Sprintf("shard %s holds the one target", s)
	}
	return fmt.Sprintf("shard %s holds %d of the %d targets", s, n, total)
}

// targets returns what scan walks: the hosts of --hosts (which it loads
// into f.fleet), then those on the command line, which it also returns
// as cli. A target given twice is refused.
func (f *scanFlags) targets(pos []string) (all, cli []ftpaudit.Target, err error) {
	if f.hostsFile != "" {
		fl, err := loadHosts(f.hostsFile)
		if err != nil {
			return nil, nil, usageError{err}
		}
		for _, w := range fl.warnings {
			f.log.Warn("hosts file", "warning", w)
		}
		f.fleet = fl
		for _, h := range fl.hosts {
			all = append(all, h.target)
		}
	}
	if len(pos) == 0 && len(all) == 0 {
		return nil, nil, usageError{errors.New("no target: want ftp://host[:port][/path] or --hosts FILE")}
	}
	for _, a := range pos {
		t, err := ftpaudit.ParseTarget(a)
		if err != nil {
			return nil, nil, usageError{err}
		}
		cli = append(cli, t)
	}
	all = append(all, cli...)
	seen := map[string]bool{}
	for _, t := range all {
		if seen[t.Key()] {
			return nil, nil, usageError{fmt.Errorf("%s%s is given twice", t.URL, t.Start)}
		}
		seen[t.Key()] = true
	}
	return all, cli, nil
}

// scanAndReport runs the scan and writes its report; demo shares it.
// after, when set, runs between the two (history: baseline and save).
func scanAndReport(ctx context.Context, targets []ftpaudit.Target, passwords map[string]string, f *scanFlags, stdout, stderr io.Writer, after ...func(context.Context, *ftpaudit.Result, *rules.Policy) error) outcome {
	ctx, cancel := f.withTimeout(ctx)
	defer cancel()
	pol, err := loadPolicy(f.policy, f.fleet)
	if err != nil {
		return outcome{err: err}
	}
	res := runScanCore(ctx, targets, passwords, f, pol, stderr)
	defer res.Close()
	var afterErr error
	if len(after) > 0 {
		done := stageWhile(stderr, f.quiet, "saving to history")
		for _, a := range after {
			if err := a(ctx, res, pol); err != nil && afterErr == nil {
				afterErr = err
			}
		}
		done()
	}
	o := f.outcome(ctx, res)
	o.err = f.writeReport(res, stdout, stderr)
	if err := f.writeMetrics(res); err != nil && o.err == nil {
		o.err = err
	}
	if o.err == nil {
		o.err = afterErr
	}
	return o
}

// withTimeout bounds ctx by --timeout, when it is set; the cause names
// the flag, for the incomplete reasons.
func (f *scanFlags) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("--timeout %s reached", f.timeout))
}

// runScanCore scans targets with the options f names, judges the result
// with pol, and logs how each host went. Targets from a hosts file
// (f.fleet) carry their own password, TLS, connection limit and
// excludes; the others use the flags and passwords.
func runScanCore(ctx context.Context, targets []ftpaudit.Target, passwords map[string]string, f *scanFlags, pol *rules.Policy, stderr io.Writer) *ftpaudit.Result {
	log := f.log
	if log == nil {
		log = newLogger(stderr, f.logFormat, f.logLevel)
	}
	prog := newProgress(stderr, f.quiet)
	jobs := f.jobs(targets, passwords, pol, prog, log)
	// Each host's per-entry rules run on its listings as the walk keeps
	// them (rules.Prejudge); the judging after the walk checks that what
	// they assumed holds, and judges every entry again where it does not.
	pre := make([]*rules.Prejudge, len(jobs))
	for i := range jobs {
		pre[i] = rules.NewPrejudge(pol, jobs[i].Target.URL)
		jobs[i].Walk.Observe = pre[i].Observe
	}
	opt := scanner.Options{Probe: f.probe.mode, Manifest: f.manifest, Budget: scanner.NewBudget(f.maxConnections())}
	for _, t := range targets {
		log.Info("scan start", "host", t.URL, "start", t.Start, "user", t.User, "tls", t.TLS != ftpaudit.TLSNone)
	}
	res := scanner.Scan(ctx, jobs, opt)
	prog.Stage("judging")
	rules.AcceptUnlisted(res, pol)
	rules.JudgeWalk(res, pol, pre)
	for _, m := range f.suppress.Apply(res, time.Now()) {
		log.Warn("suppression expired: " + m)
	}
	if n := res.Redact(f.secrets(passwords)...); n > 0 {
		log.Warn("a server sent back a password the scan logged in with; it is replaced by "+ftpaudit.Redacted+" in every output and in the history", "strings", n)
	}
	entriesRead(res)
	prog.Finish()
	logHosts(log, res)
	return res
}

// entriesRead makes a host whose entries could not all be read back
// from the walk's temporary file incomplete, with why: the rules have not
// judged every entry.
func entriesRead(res *ftpaudit.Result) {
	for _, h := range res.Hosts {
		err := h.EntriesErr()
		if err == nil {
			continue
		}
		const why = "entries not all read back from the walk's temporary file"
		if !slices.Contains(h.Incomplete, why) {
			h.Incomplete = append(h.Incomplete, why)
			h.Errors = append(h.Errors, ftpaudit.PathError{Path: h.Target.Start, Error: why + ": " + err.Error()})
			h.Stats.Errors = len(h.Errors)
		}
		h.Complete = false
	}
}

// secrets are the passwords the scan logs in with (not the public
// anonymous one), to be redacted from everything it writes.
func (f *scanFlags) secrets(passwords map[string]string) []string {
	var out []string
	add := func(p string) {
		if p != "" && p != ftpconn.AnonymousPassword {
			out = append(out, p)
		}
	}
	for _, p := range passwords {
		add(p)
	}
	if f.fleet != nil {
		for i := range f.fleet.hosts {
			add(f.fleet.hosts[i].password)
		}
	}
	return out
}

// jobs builds the scanner's job for every target: how to dial it and how
// to walk it, from the flags or from the target's entry in the hosts file.
func (f *scanFlags) jobs(targets []ftpaudit.Target, passwords map[string]string, pol *rules.Policy, prog scanner.Progress, log *slog.Logger) []scanner.Job {
	baseTLS := f.tlsConfig(log)
	per := map[string]*fleetHost{}
	if f.fleet != nil {
		for i := range f.fleet.hosts {
			h := &f.fleet.hosts[i]
			per[h.target.Key()] = h
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
		PathMax:       f.pathMax,
		SpillAfter:    spillAfter(f.spillAfter),
		SpillDir:      f.spillDir,
		Retries:       f.retries,
		LoginInterval: f.loginInterval,
		Progress:      prog,
		NoTree:        f.noTree,
	}
	jobs := make([]scanner.Job, len(targets))
	for i, t := range targets {
		d, w := dial, walk
		anon := pol.AnonymousFor(t.URL)
		w.AnonymousOwner, w.AnonymousGroup = anon.MatchesOwner, anon.MatchesGroup
		if h := per[t.Key()]; h != nil {
			d.Password = h.password
			d.TLSConfig = h.tls
			if h.conns > 0 {
				w.Connections = h.conns
			}
			w.NoTree = w.NoTree || h.noTree
			if h.pathMax > 0 {
				w.PathMax = h.pathMax
			}
			w.Exclude = h.exclude
		} else {
			d.Password = passwords[t.URL]
			if t.TLS != ftpaudit.TLSNone {
				d.TLSConfig = baseTLS.Clone()
				d.TLSConfig.ServerName = t.Host
			}
		}
		dialer := ftpconn.NewDialer(t, d)
		jobs[i] = scanner.Job{Target: t, Connect: dialer.Connect, Walk: w, StatReport: dialer.StatReport, Dialect: dialer.Dialect}
		if f.hostTimeout > 0 {
			jobs[i].Timeout = f.hostTimeout
			jobs[i].TimeoutCause = fmt.Errorf("--host-timeout %s reached", f.hostTimeout)
		}
	}
	return jobs
}

// tlsConfig is the TLS configuration of the ftps targets given on the
// command line (--insecure, --ca-file).
func (f *scanFlags) tlsConfig(log *slog.Logger) *tls.Config {
	cfg := &tls.Config{InsecureSkipVerify: f.insecure} //nolint:gosec // opt-in, reported
	if f.caFile != "" {
		pool, err := loadCA(f.caFile)
		if err != nil {
			// check() cannot know; refuse loudly rather than fall
			// back to the system roots.
			log.Error("--ca-file unusable; every ftps target will fail verification", "error", err)
			pool = x509.NewCertPool()
		}
		cfg.RootCAs = pool
	}
	return cfg
}

// defaultMaxConnections bounds the connections open at once across all
// hosts when neither --max-connections nor the hosts file says.
const defaultMaxConnections = 64

// maxConnections is the bound on connections open at once across all
// hosts: --max-connections, else the hosts file's, else the default.
func (f *scanFlags) maxConnections() int {
	n := f.maxConns
	if n == 0 && f.fleet != nil {
		n = f.fleet.maxConnections
	}
	if n == 0 {
		n = defaultMaxConnections
	}
	return n
}

// logHosts logs how the scan of each host ended, and its listing errors
// at debug level.
func logHosts(log *slog.Logger, res *ftpaudit.Result) {
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
}

// newLogger returns the logger on stderr (log/slog): sentences on a
// terminal unless --log-format says text or json (statusLogger).
func newLogger(w io.Writer, format, level string) *slog.Logger {
	return statusLogger(w, format, level)
}

// writeReport writes the report in --format to -o, or to stdout.
func (f *scanFlags) writeReport(res *ftpaudit.Result, stdout, stderr io.Writer) error {
	rep, err := f.reporter(stdout, stderr)
	if err != nil {
		return usageError{err}
	}
	if err := writeOutput(f.output, stdout, func(w io.Writer) error { return rep.Report(w, res) }); err != nil {
		return err
	}
	if f.output != "" && !f.quiet && isTerminal(stderr) {
		fmt.Fprintf(stderr, "ftpaudit: results written to %s\n", f.output)
	}
	f.tellFindings(res, stdout, stderr)
	return nil
}

// reporter returns the Reporter for --format. auto follows intent: with
// -o, the file's extension (.csv, .json, .jsonl or .ndjson, .sarif, .txt
// for the table), else json; without it, the table on a terminal and json
// otherwise. The table is laid out for the terminal's width and coloured
// on a colour terminal unless NO_COLOR or --no-color says not to.
func (f *scanFlags) reporter(stdout, stderr io.Writer) (report.Reporter, error) {
	format := f.outputFormat(stdout)
	opts := report.Options{Inventory: f.inventory, Verbose: f.verbose, ToolVersion: version().Version}
	switch format {
	case "table":
		opts.Width = terminalWidth(stdout, stderr)
		opts.Color = f.output == "" && useColor(stdout, f.noColor)
	case "summary":
		opts.Width = terminalWidth(stdout, stderr)
	}
	rep, err := report.New(format, opts)
	if j, ok := rep.(*report.JSON); ok {
		j.Shard = f.shard.String()
	}
	return rep, err
}

// outputFormat is --format, with auto resolved.
func (f *scanFlags) outputFormat(stdout io.Writer) string {
	if f.format != "auto" {
		return f.format
	}
	if f.output != "" && f.output != "-" {
		return formatOfFile(f.output)
	}
	if isTerminal(stdout) {
		return "table"
	}
	return "json"
}

// formatOfFile picks a format from an output file's extension; json when
// the extension says nothing.
func formatOfFile(path string) string {
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".csv":
		return "csv"
	case ext == ".jsonl" || ext == ".ndjson":
		return "jsonl"
	case ext == ".sarif" || strings.HasSuffix(strings.ToLower(path), ".sarif.json"):
		return "sarif"
	case ext == ".txt":
		return "table"
	}
	return "json"
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
	// A new file is 0666 less the umask (0644 under the usual 022, so that
	// node_exporter can read it as another user); an existing one keeps
	// its mode; a device is written into, never chmod-ed.
	return writeOutput(f.metricsFile, nil, func(w io.Writer) error {
		return report.WriteMetrics(w, res, last)
	})
}

// outcome judges a finished scan for the exit code.
func (f *scanFlags) outcome(ctx context.Context, res *ftpaudit.Result) outcome {
	failOn, _ := parseFailOn(f.failOn)
	return outcome{
		interrupted: errors.Is(ctx.Err(), context.Canceled),
		incomplete:  !res.Complete(),
		findings:    anyAtOrAbove(res.Findings, failOn),
	}
}

// anyAtOrAbove reports whether a finding has severity sev or worse.
func anyAtOrAbove(fs []ftpaudit.Finding, sev ftpaudit.Severity) bool {
	for _, f := range fs {
		if f.Severity >= sev {
			return true
		}
	}
	return false
}

// spillAfter is --spill-after as the walk takes it: 0 spills every
// entry, -1 none.
func spillAfter(n int64) int64 {
	if n == 0 {
		return 1
	}
	return n
}
