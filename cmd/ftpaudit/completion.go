package main

// "ftpaudit completion bash|zsh|fish|man": shell completion scripts and
// the man page, generated from the flag sets the commands register, so
// that they name every flag the commands take (completion_test.go checks
// them against each command's -h).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit/report"
)

const completionUsage = `Usage: ftpaudit completion bash|zsh|fish|man

Prints a shell completion script, or the man page (roff), generated from
the flags the commands take. For example:

  source <(ftpaudit completion bash)                              # bash, this shell
  ftpaudit completion bash > /etc/bash_completion.d/ftpaudit      # bash, every shell
  ftpaudit completion zsh > "${fpath[1]}/_ftpaudit"               # zsh
  ftpaudit completion fish > ~/.config/fish/completions/ftpaudit.fish
  ftpaudit completion man > /usr/local/share/man/man1/ftpaudit.1
`

// runCompletion is "ftpaudit completion SHELL".
func runCompletion(_ context.Context, args []string, stdout, stderr io.Writer) outcome {
	if len(args) != 1 {
		fmt.Fprint(stderr, completionUsage)
		return outcome{err: usageError{fmt.Errorf("completion: want bash, zsh, fish or man")}}
	}
	cmds := commandSpecs()
	switch args[0] {
	case "bash":
		fmt.Fprint(stdout, bashCompletion(cmds))
	case "zsh":
		fmt.Fprint(stdout, zshCompletion(cmds))
	case "fish":
		fmt.Fprint(stdout, fishCompletion(cmds))
	case "man":
		fmt.Fprint(stdout, manPage(cmds))
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, completionUsage)
	default:
		return outcome{err: usageError{fmt.Errorf("completion %q: want bash, zsh, fish or man", args[0])}}
	}
	return outcome{}
}

// cmdSpec is one command as completion and the man page describe it.
type cmdSpec struct {
	name     string // "scan", "baseline accept"
	synopsis string // its arguments after the flags
	summary  string
	flags    *flag.FlagSet
	scan     bool // takes the scan flags (scanFlags.register)
}

// commandSpecs builds every command's flag set the way the command does,
// without running it. Commands that define flags inline repeat them here;
// TestCompletionFlags keeps both in step.
func commandSpecs() []cmdSpec {
	fs := func() *flag.FlagSet { return flag.NewFlagSet("", flag.ContinueOnError) }
	var sink struct {
		f    scanFlags
		h    historyFlags
		s    string
		b    bool
		i    int
		db   string
		save bool
	}

	scan := fs()
	sink.f.register(scan)
	sink.h.register(scan)
	shardFlag(scan, &sink.f.shard)

	demo := fs()
	sink.f.register(demo)
	demo.BoolVar(&sink.b, "mlsd", true, "the demo server offers MLSD (false: LIST only)")

	verify := fs()
	sink.f.register(verify)
	dbFlag(verify, &sink.db)
	verify.BoolVar(&sink.save, "save", false, "record the verifying scan in the history database")

	history := fs()
	dbFlag(history, &sink.db)
	history.StringVar(&sink.s, "format", "table", "table or json")

	diff := fs()
	dbFlag(diff, &sink.db)
	diff.StringVar(&sink.s, "format", "table", "table or json")
	diff.StringVar(&sink.s, "policy", "", "policy file (drop boxes, ignored paths, severities)")
	diff.StringVar(&sink.s, "hosts", "", "hosts file whose per-host drop boxes, ignored paths and anonymous account apply, as in scan --hosts")
	diff.StringVar(&sink.s, "fail-on", "high", "exit 1 when a change has this severity or worse (or none; any case)")

	accept := fs()
	dbFlag(accept, &sink.db)
	accept.StringVar(&sink.s, "by", "", "who accepts it (default: the user running ftpaudit)")
	accept.StringVar(&sink.s, "note", "", "why: what changed and was checked")
	accept.StringVar(&sink.s, "host", "", "accept only this host of the scan (ftp://host[:port][/start])")
	list, show := fs(), fs()
	for _, s := range []*flag.FlagSet{list, show} {
		dbFlag(s, &sink.db)
		s.StringVar(&sink.s, "format", "table", "table or json")
	}

	prune := fs()
	dbFlag(prune, &sink.db)
	prune.IntVar(&sink.i, "keep", 0, "keep the newest N scans")
	prune.StringVar(&sink.s, "older-than", "", "delete scans started longer ago than this (e.g. 720h, 30d)")

	return []cmdSpec{
		{name: "scan", synopsis: "TARGET...", summary: "walk and audit FTP hosts (ftp://[user@]host[:port][/path], ftps://...)", flags: scan, scan: true},
		{name: "demo", summary: "serve a built-in sample archive on 127.0.0.1 and scan it", flags: demo, scan: true},
		{name: "verify", synopsis: "SCAN-ID", summary: "after a cleanup: rescan, and say which findings are gone", flags: verify, scan: true},
		{name: "history", summary: "list saved scans", flags: history},
		{name: "diff", synopsis: "A B", summary: "compare two saved scans", flags: diff},
		{name: "baseline accept", synopsis: "SCAN-ID", summary: "accept a saved scan as its hosts' baseline", flags: accept},
		{name: "baseline list", summary: "show the current baseline of every host", flags: list},
		{name: "baseline show", synopsis: "TARGET", summary: "show the baseline record of one host", flags: show},
		{name: "prune", summary: "delete old saved scans (never an accepted baseline)", flags: prune},
		{name: "version", summary: "print the version, commit and build date", flags: fs()},
		{name: "completion", synopsis: "bash|zsh|fish|man", summary: "print a shell completion script or the man page", flags: fs()},
		{name: "help", summary: "show the commands", flags: fs()},
	}
}

// topCommands are the first words of the commands, in order.
func topCommands(cmds []cmdSpec) []string {
	var out []string
	for _, c := range cmds {
		w, _, _ := strings.Cut(c.name, " ")
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// flagsOf lists a flag set's flags in name order.
func flagsOf(fs *flag.FlagSet) []*flag.Flag {
	var out []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { out = append(out, f) })
	return out
}

// dashed is a flag as the help shows it: -o, --format.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// isBool reports whether a flag takes no value.
func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// fileFlags take a local file's path.
var fileFlags = []string{"o", "policy", "hosts", "metrics-file", "ca-file", "db"}

// flagValues returns the words a flag's value is one of, or nil.
func flagValues(cmd string, f *flag.Flag) []string {
	switch f.Name {
	case "format":
		if cmd == "scan" || cmd == "demo" || cmd == "verify" {
			return append(report.Formats(), "auto")
		}
		return []string{"table", "json"}
	case "fail-on":
		return []string{"info", "low", "medium", "high", "critical", "none"}
	case "log-format":
		return []string{"auto", "text", "json"}
	case "log-level":
		return []string{"debug", "info", "warn", "error"}
	case "baseline":
		return []string{"accepted", "last"}
	case "manifest":
		return []string{"auto"}
	}
	return nil
}

// shortUsage is a flag's usage (a `name` unquoted) up to its first "; ",
// and at most 80 characters (cut at a space, with "…"), for the one-line
// descriptions of zsh and fish.
func shortUsage(f *flag.Flag) string {
	_, usage := flag.UnquoteUsage(f) // without the `name` quotes
	s, _, _ := strings.Cut(usage, "; ")
	if len(s) <= 80 {
		return s
	}
	s = s[:79]
	if i := strings.LastIndexByte(s, ' '); i > 40 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ,:(") + "…"
}

func bashCompletion(cmds []cmdSpec) string {
	var b strings.Builder
	b.WriteString(`# bash completion for ftpaudit (generated by: ftpaudit completion bash)
_ftpaudit() {
    local cur prev cmd flags
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "` + strings.Join(topCommands(cmds), " ") + `" -- "$cur"))
        return
    fi
    cmd="${COMP_WORDS[1]}"
    if [ "$cmd" = baseline ]; then
        if [ "$COMP_CWORD" -eq 2 ]; then
            COMPREPLY=($(compgen -W "accept list show" -- "$cur"))
            return
        fi
        cmd="baseline ${COMP_WORDS[2]}"
    fi
    case "$cmd" in
`)
	for _, c := range cmds {
		if c.name == "completion" {
			continue // below: its argument, not flags
		}
		var names []string
		var cases []string
		for _, f := range flagsOf(c.flags) {
			names = append(names, dashed(f.Name))
			if isBool(f) {
				continue
			}
			switch vals := flagValues(c.name, f); {
			case slices.Contains(fileFlags, f.Name):
				cases = append(cases, fmt.Sprintf("            %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", dashed(f.Name)))
			case vals != nil:
				cases = append(cases, fmt.Sprintf("            %s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", dashed(f.Name), strings.Join(vals, " ")))
			default:
				cases = append(cases, fmt.Sprintf("            %s) return ;;\n", dashed(f.Name)))
			}
		}
		fmt.Fprintf(&b, "    %q)\n", c.name)
		if len(cases) > 0 {
			b.WriteString("        case \"$prev\" in\n")
			for _, l := range cases {
				b.WriteString(l)
			}
			b.WriteString("        esac\n")
		}
		fmt.Fprintf(&b, "        flags=%q ;;\n", strings.Join(names, " "))
	}
	b.WriteString(`    completion)
        COMPREPLY=($(compgen -W "bash zsh fish man" -- "$cur"))
        return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    fi
}
complete -o default -F _ftpaudit ftpaudit
`)
	return b.String()
}

// zshQuote escapes s for a single-quoted word of the zsh script.
func zshQuote(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

// zshDescribe escapes s for an item of _describe ("name:description").
func zshDescribe(s string) string { return zshQuote(strings.ReplaceAll(s, ":", `\:`)) }

// zshExplain escapes s for the [explanation] of an _arguments spec.
func zshExplain(s string) string {
	return zshQuote(strings.NewReplacer("[", `\[`, "]", `\]`).Replace(s))
}

func zshCompletion(cmds []cmdSpec) string {
	var b strings.Builder
	b.WriteString("#compdef ftpaudit\n# zsh completion for ftpaudit (generated by: ftpaudit completion zsh)\n\n_ftpaudit() {\n    local -a commands\n    commands=(\n")
	seen := map[string]bool{}
	for _, c := range cmds {
		w, _, sub := strings.Cut(c.name, " ")
		if seen[w] {
			continue
		}
		seen[w] = true
		summary := c.summary
		if sub {
			summary = "accept, list or show the accepted baselines"
		}
		fmt.Fprintf(&b, "        '%s:%s'\n", w, zshDescribe(summary))
	}
	b.WriteString("    )\n    if (( CURRENT == 2 )); then\n        _describe 'command' commands\n        return\n    fi\n")
	b.WriteString("    local cmd=$words[2]\n    if [[ $cmd == baseline ]]; then\n        if (( CURRENT == 3 )); then\n            _values 'baseline command' accept list show\n            return\n        fi\n        cmd=\"baseline $words[3]\"\n        shift words; (( CURRENT-- ))\n    fi\n    shift words; (( CURRENT-- ))\n    case $cmd in\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "    %q)\n        _arguments -s \\\n", c.name)
		for _, f := range flagsOf(c.flags) {
			desc := zshExplain(shortUsage(f))
			if isBool(f) {
				fmt.Fprintf(&b, "            '%s[%s]' \\\n", dashed(f.Name), desc)
				continue
			}
			action := ""
			switch vals := flagValues(c.name, f); {
			case slices.Contains(fileFlags, f.Name):
				action = "_files"
			case vals != nil:
				action = "(" + strings.Join(vals, " ") + ")"
			}
			fmt.Fprintf(&b, "            '%s=[%s]:%s:%s' \\\n", dashed(f.Name), desc, f.Name, action)
		}
		switch c.name {
		case "completion":
			b.WriteString("            '1:what:(bash zsh fish man)'\n")
		case "scan":
			b.WriteString("            '*:target:'\n")
		default:
			b.WriteString("            '*:argument:'\n")
		}
		b.WriteString("        ;;\n")
	}
	b.WriteString("    esac\n}\n\n_ftpaudit \"$@\"\n")
	return b.String()
}

// fishQuote single-quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func fishCompletion(cmds []cmdSpec) string {
	var b strings.Builder
	b.WriteString("# fish completion for ftpaudit (generated by: ftpaudit completion fish)\ncomplete -c ftpaudit -f\n")
	tops := topCommands(cmds)
	for _, w := range tops {
		summary := ""
		for _, c := range cmds {
			if c.name == w {
				summary = c.summary
			}
		}
		if w == "baseline" {
			summary = "accept, list or show the accepted baselines"
		}
		fmt.Fprintf(&b, "complete -c ftpaudit -n __fish_use_subcommand -a %s -d %s\n", w, fishQuote(summary))
	}
	b.WriteString("complete -c ftpaudit -n '__fish_seen_subcommand_from baseline; and not __fish_seen_subcommand_from accept list show' -a 'accept list show'\n")
	b.WriteString("complete -c ftpaudit -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish man'\n")
	for _, c := range cmds {
		cond := "__fish_seen_subcommand_from " + c.name
		if w, sub, ok := strings.Cut(c.name, " "); ok {
			cond = "__fish_seen_subcommand_from " + w + "; and __fish_seen_subcommand_from " + sub
		}
		for _, f := range flagsOf(c.flags) {
			opt := "-l " + f.Name
			if len(f.Name) == 1 {
				opt = "-s " + f.Name
			}
			extra := ""
			if !isBool(f) {
				switch vals := flagValues(c.name, f); {
				case slices.Contains(fileFlags, f.Name):
					extra = " -r -F"
				case vals != nil:
					extra = " -x -a " + fishQuote(strings.Join(vals, " "))
				default:
					extra = " -x"
				}
			}
			fmt.Fprintf(&b, "complete -c ftpaudit -n %s %s%s -d %s\n", fishQuote(cond), opt, extra, fishQuote(shortUsage(f)))
		}
	}
	return b.String()
}

// roff escapes s for a man page line: backslashes, dashes, and a leading
// dot or quote.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// manFlag writes one flag as a man page tagged paragraph.
func manFlag(b *strings.Builder, f *flag.Flag) {
	b.WriteString(".TP\n")
	name, usage := flag.UnquoteUsage(f)
	if isBool(f) {
		fmt.Fprintf(b, `.B %s`+"\n", roff(dashed(f.Name)))
	} else {
		if name == "" {
			name = "value"
		}
		fmt.Fprintf(b, `\fB%s\fR \fI%s\fR`+"\n", roff(dashed(f.Name)), roff(name))
	}
	b.WriteString(roff(usage))
	if def := defaultText(f, name); def != "" {
		fmt.Fprintf(b, " (default: %s)", roff(def))
	}
	b.WriteString("\n")
}

// manPage is the man page, ftpaudit(1), in roff.
func manPage(cmds []cmdSpec) string {
	var b strings.Builder
	b.WriteString(`.\" Generated by "ftpaudit completion man" from the flag definitions; do not edit.
.\" Refresh: go test ./cmd/ftpaudit -run TestManPage -update-docs
.TH FTPAUDIT 1 "" "ftpaudit" "User Commands"
.SH NAME
ftpaudit \- audit your own anonymous FTP archives
.SH SYNOPSIS
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, ".B ftpaudit %s\n", c.name)
		if len(flagsOf(c.flags)) > 0 {
			b.WriteString("[\\fIflags\\fR]")
			if c.synopsis != "" {
				b.WriteString(" ")
			} else {
				b.WriteString("\n")
			}
		}
		if c.synopsis != "" {
			fmt.Fprintf(&b, "\\fI%s\\fR\n", roff(c.synopsis))
		}
		b.WriteString(".br\n")
	}
	b.WriteString(`.SH DESCRIPTION
ftpaudit logs in to an FTP archive (anonymous by default), walks the whole
tree as an anonymous user sees it, and reports what it found (writable
directories, hidden names, unexpected uploads, symlinks out of the archive)
and what it could not see.
A TARGET is \fBftp://\fR[\fIuser\fB@\fR]\fIhost\fR[\fB:\fIport\fR][\fB/\fIstart/path\fR]
or \fBftps://...\fR (explicit TLS).
A named user's password comes from \fBFTPAUDIT_PASSWORD\fR or \fI~/.netrc\fR,
never from the command line.
Flags may be written with one dash or two, and before, between or after the
arguments.
.SH COMMANDS
`)
	// The scan flags (scanFlags.register) are described once, under SCAN
	// FLAGS; each command lists its other flags.
	var sf scanFlags
	scanOnly := flag.NewFlagSet("", flag.ContinueOnError)
	sf.register(scanOnly)
	var scanNames []string
	for _, f := range flagsOf(scanOnly) {
		scanNames = append(scanNames, f.Name)
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, ".SS %s\n%s.\n", roff(c.name), roff(upperFirst(c.summary)))
		if c.scan {
			b.WriteString("Takes the scan flags (see \\fBSCAN FLAGS\\fR)")
			if len(flagsOf(c.flags)) > len(scanNames) {
				b.WriteString(", and:")
			} else {
				b.WriteString(".")
			}
			b.WriteString("\n")
		}
		// The flags in the order of the help: by topic (flagGroups).
		for _, sec := range groupFlags(c.flags) {
			for _, f := range sec.flags {
				if c.scan && slices.Contains(scanNames, f.Name) {
					continue
				}
				manFlag(&b, f)
			}
		}
	}
	b.WriteString(".SH SCAN FLAGS\nTaken by \\fBscan\\fR, \\fBdemo\\fR and \\fBverify\\fR, under the topics of their help.\n")
	for _, sec := range groupFlags(scanOnly) {
		fmt.Fprintf(&b, ".SS %s\n%s.\n", roff(sec.group.title), roff(upperFirst(sec.group.about)))
		for _, f := range sec.flags {
			manFlag(&b, f)
		}
	}
	b.WriteString(`.SH EXIT STATUS
.TP
.B 0
the scan is complete and nothing is at or above \fB\-\-fail\-on\fR
.TP
.B 1
findings at or above \fB\-\-fail\-on\fR
.TP
.B 2
usage error: bad flags, targets or configuration
.TP
.B 3
the scan is incomplete: a host unreachable, a login refused, a listing failed or was cut short
.TP
.B 4
the results could not be written
.TP
.B 130
interrupted (SIGINT or SIGTERM)
.SH ENVIRONMENT
.TP
.B FTPAUDIT_PASSWORD
the password of a named user (else \fI~/.netrc\fR)
.TP
.B NO_COLOR
when set, the table has no colour (as \fB\-\-no\-color\fR)
.TP
.B COLUMNS
the table's width when neither stdout nor stderr is a terminal
.TP
.B XDG_STATE_HOME
where the history database lives by default (\fI$XDG_STATE_HOME/ftpaudit/history.db\fR)
.TP
.B PGPASSWORD, PGPASSFILE, PGSERVICEFILE
with \fB\-\-db postgres://\fR...: the password, the password file (else \fI~/.pgpass\fR) and the service file (else \fI~/.pg_service.conf\fR), as for \fBpsql\fR; a password in the URL is never printed back
.SH EXAMPLES
.nh
`)
	for _, c := range cmds {
		for _, ex := range commandExamples[c.name] {
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n%s.\n", roff(ex.cmd), roff(ex.what))
		}
	}
	b.WriteString(`.hy
.SH SEE ALSO
\fBftpaudit help\fR \fIcommand\fR (or \fBftpaudit\fR \fIcommand\fR \fB\-h\fR): a command's flags by topic, with examples.
The manual: docs/ in the source tree (https://github.com/ftpaudit/ftpaudit).
`)
	return b.String()
}

// upperFirst capitalises the first letter of s.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
