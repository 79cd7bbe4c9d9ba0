package main

// Flags shared by several commands: the scan flags (scan, demo, verify),
// --db (every command that opens the history database), and the parsing
// helpers every command uses.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/rules"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// scanFlags are the flags shared by scan, demo and verify.
type scanFlags struct {
	connections    int
	maxDepth       int
	pathMax        int
	maxEntries     int
	maxEntryBytes  int64
	maxDirEntries  int
	spillAfter     int64
	spillDir       string
	spillEnvErr    error
	retries        int
	loginInterval  time.Duration
	timeout        time.Duration
	connectTimeout time.Duration
	idleTimeout    time.Duration
	hostTimeout    time.Duration
	format         string
	output         string
	inventory      bool
	quiet          bool
	noColor        bool
	ignoreFile     string
	suppress       *rules.Suppressions
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
	// shard is scan's --shard (shardFlag: scan only, so it is not
	// registered with the others); the zero value for demo and verify.
	shard shard
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

// register defines the scan flags on fs.
func (f *scanFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.connections, "connections", scanner.DefaultConnections, "connections per host (each lists directories in parallel)")
	fs.IntVar(&f.maxDepth, "max-depth", scanner.DefaultMaxDepth, "deepest directory level to walk; deeper ones make the scan incomplete")
	fs.IntVar(&f.maxEntries, "max-entries", scanner.DefaultMaxEntries, "most entries kept per host; reaching it stops the walk and makes the scan incomplete")
	fs.Int64Var(&f.maxEntryBytes, "max-entry-bytes", scanner.DefaultMaxEntryBytes, "most bytes of paths and listing lines kept per host (deep trees of long names); reaching it stops the walk and makes the scan incomplete")
	fs.IntVar(&f.maxDirEntries, "max-dir-entries", scanner.DefaultMaxDirEntries, "most entries kept from one directory; more makes the scan incomplete")
	fs.IntVar(&f.pathMax, "path-max", scanner.DefaultPathMax, fmt.Sprintf("longest path, in bytes, the server handles (PATH_MAX: 1024 on the BSDs and macOS, 4096 on Linux): a directory whose path comes within %d bytes of it may have entries its listing leaves out, and makes the scan incomplete", scanner.LongPathMargin))
	def, err := spillAfterDefault()
	f.spillEnvErr = err
	fs.Int64Var(&f.spillAfter, "spill-after", def, "bytes of entries a host's walk holds in memory before it writes them, compactly, to a temporary file in --spill-dir and reads them back for the report (0: every entry, -1: never; default: $FTPAUDIT_SPILL_AFTER when set)")
	fs.StringVar(&f.spillDir, "spill-dir", "", "directory for that temporary file (default: $TMPDIR or /tmp); it is unlinked at once, so nothing is left behind")
	fs.IntVar(&f.retries, "retries", 3, "attempts per directory when a connection drops or the server is busy")
	fs.DurationVar(&f.loginInterval, "login-interval", scanner.DefaultLoginInterval, "least time between two logins to one host (sessions are opened one at a time, up to --connections)")
	fs.DurationVar(&f.timeout, "timeout", 0, "bound on the whole scan (0: none); hitting it makes the scan incomplete")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 15*time.Second, "bound on TCP connect and TLS handshake")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 30*time.Second, "bound on any single read or write on a control or data connection")
	fs.DurationVar(&f.hostTimeout, "host-timeout", defaultHostTimeout, "time budget of one host (0: none); spending it stops that host's walk and makes it incomplete, the other hosts go on")
	fs.StringVar(&f.format, "format", "auto", "output format: "+strings.Join(report.Formats(), ", ")+" (see docs/output.md), or auto (table on a terminal, json otherwise)")
	fs.Var(&f.probe, "probe", "active probe: upload and remove a canary file and directory in candidate directories (--probe=all: every directory)")
	fs.StringVar(&f.policy, "policy", "", "policy file (YAML): intended drop boxes, ignored paths, anonymous account, severity overrides, extra suspicious names")
	fs.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding has this severity or worse: info, low, medium, high, critical, or none (any case)")
	fs.BoolVar(&f.verbose, "verbose", false, "table: show info findings as rows too")
	fs.StringVar(&f.output, "o", "", "write results to this file (atomically) instead of stdout")
	fs.BoolVar(&f.inventory, "inventory", false, "include every entry in the JSON and JSON lines output")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.StringVar(&f.ignoreFile, "ignore-file", "", "suppression file: findings it accepts (by fingerprint, or rule, host and path; optional expiry and reason) are listed as suppressed, not counted (see docs/policy.md)")
	fs.BoolVar(&f.noColor, "no-color", false, "no colour in the table (also: NO_COLOR set in the environment)")
	fs.BoolVar(&f.noMLSD, "no-mlsd", false, "use LIST -a even where the server offers MLSD")
	fs.BoolVar(&f.noTree, "no-recursive-list", false, "list every directory on its own, never a whole subtree with one LIST -aR")
	fs.BoolVar(&f.noStat, "no-stat", false, "list every directory over a data connection, never with STAT over the control connection")
	fs.StringVar(&f.manifest, "manifest", "", "compare with the archive's published index: auto (every ls-lR[.gz], SHA256SUMS, MD5SUMS... in the tree) or its path in the archive (/pub/ls-lR.gz)")
	fs.BoolVar(&f.insecure, "insecure", false, "ftps: do not verify the server certificate (shown in the report)")
	fs.StringVar(&f.caFile, "ca-file", "", "ftps: verify server certificates against the CA certificates in this PEM file (instead of the system's)")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "also write Prometheus metrics (node_exporter textfile format) to this file, atomically")
	fs.StringVar(&f.hostsFile, "hosts", "", "scan the hosts listed in this YAML file (with their credentials, TLS, limits, excludes and policy), besides any TARGET")
	fs.IntVar(&f.maxConns, "max-connections", 0, "connections open at once across all hosts (default: the hosts file's max_connections, else 64)")
	fs.StringVar(&f.logFormat, "log-format", "auto", "log format on stderr: auto (sentences on a terminal, else text), text or json")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
}

// check validates the scan flags; its errors are usage errors.
func (f *scanFlags) check() error {
	switch {
	case f.connections < 1 || f.connections > 64:
		return usageError{fmt.Errorf("--connections %d: want 1 to 64", f.connections)}
	case f.maxEntries < 1 || f.maxDirEntries < 1 || f.maxEntryBytes < 1:
		return usageError{errors.New("--max-entries, --max-dir-entries and --max-entry-bytes: want at least 1")}
	case f.spillEnvErr != nil:
		return usageError{f.spillEnvErr}
	case f.spillAfter < -1:
		return usageError{fmt.Errorf("--spill-after %d: want -1 (never), or at least 0", f.spillAfter)}
	case f.spillDir != "" && !isDir(f.spillDir):
		return usageError{fmt.Errorf("--spill-dir %s: not a directory", f.spillDir)}
	case f.maxDepth < 1:
		return usageError{fmt.Errorf("--max-depth %d: want at least 1", f.maxDepth)}
	case f.pathMax <= scanner.LongPathMargin:
		return usageError{fmt.Errorf("--path-max %d: want more than %d (a name of 255 bytes, and room for the server's root)", f.pathMax, scanner.LongPathMargin)}
	case f.retries < 1:
		return usageError{fmt.Errorf("--retries %d: want at least 1", f.retries)}
	case f.loginInterval <= 0:
		return usageError{fmt.Errorf("--login-interval %s: want more than 0", f.loginInterval)}
	case f.timeout < 0 || f.hostTimeout < 0 || f.connectTimeout <= 0 || f.idleTimeout <= 0:
		return usageError{errors.New("timeouts must be positive")}
	}
	if f.format != "auto" && !slices.Contains(report.Formats(), f.format) {
		return usageError{fmt.Errorf("--format %q: want %s or auto", f.format, strings.Join(report.Formats(), ", "))}
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
	if f.logFormat != "auto" && f.logFormat != "text" && f.logFormat != "json" {
		return usageError{fmt.Errorf("--log-format %q: want auto, text or json", f.logFormat)}
	}
	if _, err := parseLevel(f.logLevel); err != nil {
		return usageError{err}
	}
	if f.ignoreFile != "" {
		sup, err := rules.LoadSuppressions(f.ignoreFile)
		if err != nil {
			return usageError{fmt.Errorf("--ignore-file: %w", err)}
		}
		f.suppress = sup
	}
	if _, ok := parseFailOn(f.failOn); !ok {
		return usageError{fmt.Errorf("--fail-on %q: want info, low, medium, high, critical or none", f.failOn)}
	}
	return nil
}

// parseLevel parses --log-level.
func parseLevel(s string) (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return lv, nil
}

// dbFlag defines --db, the history database, on fs: every command that
// opens the database takes it.
func dbFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "db", "", "history database: a file, or a postgres:// URL (default $XDG_STATE_HOME/ftpaudit/history.db)")
}

// newFlagSet returns a command's flag set: errors and -h go to stderr,
// usage first, then the flags.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own messages and usage dump are silenced: a bad
	// flag is one line with a suggestion (parseArgs), and -h prints the
	// usage on stdout (run, through helpError).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	usages.Store(fs, usage)
	return fs
}

// usages holds each flag set's usage text, for -h and help COMMAND.
var usages sync.Map // *flag.FlagSet → string

// helpError is -h: run prints the usage of fs on stdout and exits 0.
type helpError struct{ fs *flag.FlagSet }

func (helpError) Error() string { return "help requested" }
func (helpError) Unwrap() error { return flag.ErrHelp }

// flagGroup is a topic of the help: the flags under one heading, in the
// order they are shown. Every flag of every command is in exactly one
// group (TestFlagGroups checks it); the help (writeUsage) and the man page
// (manPage) are both laid out from this list, so they never disagree.
type flagGroup struct {
	name  string   // targets, output, walk, probe, history, fleet
	title string   // the heading: "Targets"
	about string   // what the group is about, after the heading
	flags []string // flag names, in the order shown
}

// flagGroups are the topics, in the order the help shows them.
var flagGroups = []flagGroup{
	{"targets", "Targets", "what the hosts are meant to hold, and how to trust them",
		[]string{"policy", "ignore-file", "insecure", "ca-file", "host", "mlsd"}},
	{"output", "Output", "the report, the exit status and the logs",
		[]string{"format", "o", "fail-on", "verbose", "inventory", "no-color", "quiet", "metrics-file", "log-format", "log-level"}},
	{"walk", "Walk", "how the tree is listed, its bounds and timeouts",
		[]string{"connections", "login-interval", "retries", "connect-timeout", "idle-timeout", "timeout",
			"max-depth", "max-entries", "max-entry-bytes", "max-dir-entries", "path-max", "spill-after", "spill-dir", "no-mlsd", "no-stat", "no-recursive-list"}},
	{"probe", "Probe", "checks beyond the listing",
		[]string{"probe", "manifest"}},
	{"history", "History", "the history database",
		[]string{"db", "save", "baseline", "by", "note", "keep", "older-than"}},
	{"fleet", "Fleet", "many hosts at once",
		[]string{"hosts", "shard", "max-connections", "host-timeout"}},
}

// flagSection is one group's flags as a command has them.
type flagSection struct {
	group flagGroup
	flags []*flag.Flag
}

// groupFlags sorts the flags of fs into their groups, in the order of
// flagGroups, leaving out the groups fs has no flag of. A flag no group
// names (a bug TestFlagGroups catches) comes last, under "Other".
func groupFlags(fs *flag.FlagSet) []flagSection {
	var out []flagSection
	placed := map[string]bool{}
	for _, g := range flagGroups {
		sec := flagSection{group: g}
		for _, name := range g.flags {
			if f := fs.Lookup(name); f != nil {
				sec.flags = append(sec.flags, f)
				placed[name] = true
			}
		}
		if len(sec.flags) > 0 {
			out = append(out, sec)
		}
	}
	other := flagSection{group: flagGroup{name: "other", title: "Other"}}
	fs.VisitAll(func(f *flag.Flag) {
		if !placed[f.Name] {
			other.flags = append(other.flags, f)
		}
	})
	if len(other.flags) > 0 {
		out = append(out, other)
	}
	return out
}

// helpWidth is the width the help is laid out for.
const helpWidth = 80

// writeUsage writes fs's usage text, then its flags grouped by topic,
// each as --name with its usage wrapped at helpWidth, then the command's
// examples.
func writeUsage(w io.Writer, fs *flag.FlagSet) {
	u, _ := usages.Load(fs)
	text, _ := u.(string)
	// The usage texts end with a "Flags:" heading: the groups replace it.
	fmt.Fprint(w, fitText(strings.TrimSuffix(text, "Flags:\n"), helpWidth))
	for i, sec := range groupFlags(fs) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		heading := sec.group.title + ":"
		if sec.group.about != "" {
			heading = sec.group.title + " (" + sec.group.about + "):"
		}
		fmt.Fprintln(w, heading)
		for _, f := range sec.flags {
			writeFlagHelp(w, f)
		}
	}
	writeExamples(w, fs.Name())
}

// writeFlagHelp writes one flag as the help shows it: "  --name type",
// then its usage and default, wrapped, indented by six.
func writeFlagHelp(w io.Writer, f *flag.Flag) {
	name, usage := flag.UnquoteUsage(f)
	head := "  " + dashed(f.Name)
	if name != "" {
		head += " " + name
	}
	fmt.Fprintln(w, head)
	if def := defaultText(f, name); def != "" {
		usage += " (default " + def + ")"
	}
	for _, l := range wrapText(usage, helpWidth-6) {
		fmt.Fprintln(w, "      "+l)
	}
}

// defaultText is a flag's default as the help and the man page give it:
// "" for a zero default (none, off, 0), a string default quoted.
func defaultText(f *flag.Flag, typeName string) string {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return ""
	}
	if typeName == "string" {
		return strconv.Quote(f.DefValue)
	}
	return f.DefValue
}

// fitText wraps the lines of text wider than width at spaces: a command
// line ("Usage: ftpaudit ...", "  ftpaudit ...") goes on indented by four
// more, prose at its own indent.
func fitText(text string, width int) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		body := strings.TrimSuffix(line, "\n")
		if utf8.RuneCountInString(body) <= width {
			b.WriteString(line)
			continue
		}
		indent := body[:len(body)-len(strings.TrimLeft(body, " "))]
		more := indent
		words := strings.Fields(body)
		if t := strings.TrimLeft(body, " "); strings.HasPrefix(t, "Usage:") || strings.HasPrefix(t, "ftpaudit ") {
			more += "    "
			words = synopsisWords(t)
		}
		for i, l := range wrapWords(words, width-len(more)) {
			if i == 0 {
				b.WriteString(indent + l + "\n")
			} else {
				b.WriteString(more + l + "\n")
			}
		}
		if !strings.HasSuffix(line, "\n") {
			s := b.String()
			b.Reset()
			b.WriteString(strings.TrimSuffix(s, "\n"))
		}
	}
	return b.String()
}

// synopsisWords splits a command line into the words it may be wrapped
// between: an optional part ("[--db PATH]") is one word.
func synopsisWords(s string) []string {
	var words []string
	depth, start := 0, -1
	for i, r := range s {
		switch {
		case r == ' ' && depth == 0:
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			continue
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

// wrapText breaks s at spaces into lines of at most width bytes; a word
// longer than that gets a line of its own.
func wrapText(s string, width int) []string { return wrapWords(strings.Fields(s), width) }

// wrapWords fills lines of at most width bytes with words, separated by
// one space; a word longer than that gets a line of its own.
func wrapWords(words []string, width int) []string {
	var lines []string
	line := ""
	for _, word := range words {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// flagError turns the flag package's error into one line: the flag as
// --name, the closest known flag, and where the help is.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		var known []string
		fs.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
		msg = "unknown flag --" + name
		if near := rules.Suggest(name, known); near != "" {
			msg += " (did you mean --" + near + "?)"
		}
	} else {
		// "flag needs an argument: -x", "invalid value "v" for flag -x:
		// ...", "invalid boolean value "v" for -x: ...".
		for _, old := range []string{"for flag -", "for -", ": -"} {
			if strings.Contains(msg, old) {
				msg = strings.Replace(msg, old, old+"-", 1)
				break
			}
		}
	}
	return fmt.Errorf("%s; see 'ftpaudit help %s'", msg, fs.Name())
}

// parseArgs parses a command's flags, which may come before, between or
// after its positional arguments ("scan ftp://h --format json"), and
// returns the positional ones. -h gives a helpError (run prints the usage
// on stdout and exits 0); any other error is a one-line usage error.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpError{fs}
			}
			return nil, usageError{flagError(fs, err)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseID parses a saved scan's id, as diff and verify take it.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Errorf("%q is not a scan id (see ftpaudit history)", s)}
	}
	return id, nil
}

// defaultHostTimeout is --host-timeout's default: long enough for a
// large archive over a slow link, short enough that a nightly run always
// ends.
const defaultHostTimeout = 6 * time.Hour

// failNone is the --fail-on level "none": above every severity, so that no
// finding fails the run (incomplete scans still do).
const failNone = ftpaudit.SevCritical + 1

// parseFailOn reads --fail-on: a severity or "none", in any case.
func parseFailOn(s string) (ftpaudit.Severity, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "none" {
		return failNone, true
	}
	return ftpaudit.ParseSeverity(s)
}

// spillAfterDefault is --spill-after's default: $FTPAUDIT_SPILL_AFTER
// when set (a job's environment, or the tests running every scan with
// its entries spilled), else scanner.DefaultSpillAfter.
func spillAfterDefault() (int64, error) {
	v := os.Getenv("FTPAUDIT_SPILL_AFTER")
	if v == "" {
		return scanner.DefaultSpillAfter, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < -1 {
		return scanner.DefaultSpillAfter, fmt.Errorf("FTPAUDIT_SPILL_AFTER=%q: want a number of bytes, 0 (spill every entry) or -1 (never)", v)
	}
	return n, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
