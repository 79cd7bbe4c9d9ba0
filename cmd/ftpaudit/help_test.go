package main

import (
	"flag"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestHelpAndFlagErrors: a bad flag or command is one line with a
// suggestion (no usage dump); help COMMAND and COMMAND -h print the usage
// on stdout, with flags written --name.
func TestHelpAndFlagErrors(t *testing.T) {
	code, stdout, stderr := runCLI(t, "scan", "--formt", "json", "ftp://127.0.0.1:1/")
	if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 ||
		!strings.Contains(stderr, "unknown flag --formt (did you mean --format?)") || !strings.Contains(stderr, "ftpaudit help scan") {
		t.Errorf("bad flag: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "scna")
	if code != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "did you mean scan?") {
		t.Errorf("bad command: exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{{"help", "scan"}, {"scan", "-h"}, {"scan", "--help"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != exitClean || stderr != "" || !strings.HasPrefix(stdout, "Usage: ftpaudit scan") ||
			!strings.Contains(stdout, "\n  --format ") || strings.Contains(stdout, "\n  -format ") {
			t.Errorf("%q: exit %d, stderr %q, stdout:\n%.400s", args, code, stderr, stdout)
		}
	}
	if code, stdout, _ := runCLI(t, "help", "diff"); code != exitClean || !strings.Contains(stdout, "--hosts") {
		t.Errorf("help diff: exit %d:\n%s", code, stdout)
	}
}

// TestFlagGroups: every flag of every command is in exactly one topic of
// the help, and every topic names only flags some command has.
func TestFlagGroups(t *testing.T) {
	group := map[string]string{}
	for _, g := range flagGroups {
		for _, name := range g.flags {
			if other, ok := group[name]; ok {
				t.Errorf("--%s is in %s and in %s", name, other, g.name)
			}
			group[name] = g.name
		}
	}
	used := map[string]bool{}
	for _, c := range commandSpecs() {
		for _, f := range flagsOf(c.flags) {
			used[f.Name] = true
			if group[f.Name] == "" {
				t.Errorf("%s: %s is in no topic of the help (add it to flagGroups in flags.go)", c.name, dashed(f.Name))
			}
		}
	}
	for name, g := range group {
		if !used[name] {
			t.Errorf("topic %s names --%s, which no command has", g, name)
		}
	}
}

// TestHelpLayout: each command's help fits 80 columns; its flags come
// under the headings of their topics (only the topics it has, in the
// order of flagGroups, each flag once); its examples follow, each one a
// command line of that command whose flags the command takes.
func TestHelpLayout(t *testing.T) {
	for _, c := range commandSpecs() {
		if len(flagsOf(c.flags)) == 0 {
			continue
		}
		code, stdout, stderr := runCLI(t, append(strings.Fields(c.name), "-h")...)
		if code != exitClean || stderr != "" {
			t.Fatalf("%s -h: exit %d, %s", c.name, code, stderr)
		}
		lines := strings.Split(stdout, "\n")
		for i, l := range lines {
			if n := utf8.RuneCountInString(l); n > helpWidth {
				t.Errorf("%s -h: line %d is %d columns wide:\n%s", c.name, i+1, n, l)
			}
		}
		if strings.Contains(stdout, "Flags:") {
			t.Errorf("%s -h: the ungrouped Flags: heading is left:\n%s", c.name, stdout)
		}
		// The headings and the flags under each, in order.
		var headings []string
		where := map[string]string{}
		heading := ""
		for _, l := range lines {
			for _, g := range flagGroups {
				if strings.HasPrefix(l, g.title+" (") && strings.HasSuffix(l, "):") {
					heading = g.name
					headings = append(headings, g.name)
				}
			}
			if l == "Examples:" {
				heading = ""
			}
			if m := helpFlag.FindStringSubmatch(l); m != nil && strings.HasPrefix(l, "  -") {
				if where[m[1]] != "" {
					t.Errorf("%s -h: %s shown twice", c.name, m[1])
				}
				where[m[1]] = heading
			}
		}
		var want []string
		for _, g := range flagGroups {
			for _, name := range g.flags {
				if c.flags.Lookup(name) != nil {
					want = append(want, g.name)
					if where[name] != g.name {
						t.Errorf("%s -h: %s is under %q, want %q", c.name, dashed(name), where[name], g.name)
					}
				}
			}
		}
		want = slices.Compact(want)
		if !slices.Equal(headings, want) {
			t.Errorf("%s -h: headings %v, want %v", c.name, headings, want)
		}
		if c.name == "scan" && len(headings) != len(flagGroups) {
			t.Errorf("scan -h: %v, want every topic", headings)
		}
		// The examples: under the flags, each a command line of c that
		// parses with c's flags.
		exs := commandExamples[c.name]
		if len(exs) == 0 {
			t.Errorf("%s has no examples", c.name)
		}
		_, after, ok := strings.Cut(stdout, "\nExamples:\n")
		for _, ex := range exs {
			if !ok || !strings.Contains(after, "\n  "+ex.cmd+"\n") || !strings.Contains(stdout, "  # "+strings.Fields(ex.what)[0]) {
				t.Errorf("%s -h: example %q missing:\n%s", c.name, ex.cmd, stdout)
			}
			args, found := strings.CutPrefix(ex.cmd, "ftpaudit "+c.name+" ")
			if !found && ex.cmd != "ftpaudit "+c.name {
				t.Errorf("example %q is not one of %s", ex.cmd, c.name)
				continue
			}
			fs := findSpec(t, c.name).flags
			if _, err := parseArgs(fs, strings.Fields(strings.ReplaceAll(args, `"`, ""))); err != nil {
				t.Errorf("example %q: %v", ex.cmd, err)
			}
		}
	}
	// history has two topics only, and says nothing of the others.
	_, stdout, _ := runCLI(t, "help", "history")
	if !strings.Contains(stdout, "\nOutput (") || !strings.Contains(stdout, "\nHistory (") || strings.Contains(stdout, "\nWalk (") || strings.Contains(stdout, "\nFleet (") {
		t.Errorf("help history:\n%s", stdout)
	}
}

// findSpec returns a fresh spec of command name, with flag sets of its
// own.
func findSpec(t *testing.T, name string) cmdSpec {
	t.Helper()
	for _, c := range commandSpecs() {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no command %s", name)
	return cmdSpec{}
}

// TestManPageGroups: the man page gives the scan flags under the topics
// of the help, in the same order, and the examples of the help.
func TestManPageGroups(t *testing.T) {
	man := manPage(commandSpecs())
	_, section, ok := strings.Cut(man, ".SH SCAN FLAGS\n")
	section, _, _ = strings.Cut(section, ".SH EXIT STATUS")
	if !ok {
		t.Fatal("no SCAN FLAGS section")
	}
	var sf scanFlags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	sf.register(fs)
	last := -1
	for _, sec := range groupFlags(fs) {
		i := strings.Index(section, ".SS "+sec.group.title+"\n")
		if i < last {
			t.Errorf("man page: topic %s missing or out of order", sec.group.title)
		}
		last = i
		next := len(section)
		if k := strings.Index(section[i+1:], ".SS "); i >= 0 && k >= 0 {
			next = i + 1 + k
		}
		for _, f := range sec.flags {
			j := strings.Index(section, `\fB`+roff(dashed(f.Name))+`\fR`)
			if isBool(f) {
				j = strings.Index(section, ".B "+roff(dashed(f.Name))+"\n")
			}
			if j < i || j > next {
				t.Errorf("man page: %s not under %s", dashed(f.Name), sec.group.title)
			}
		}
	}
	_, examples, _ := strings.Cut(man, ".SH EXAMPLES\n")
	for name, exs := range commandExamples {
		for _, ex := range exs {
			if !strings.Contains(examples, `\fB`+roff(ex.cmd)+`\fR`+"\n"+roff(ex.what)+".\n") {
				t.Errorf("man page: example of %s %q missing", name, ex.cmd)
			}
		}
	}
}
