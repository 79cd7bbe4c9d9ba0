package main

import (
	"io"
	"os"
	"runtime/debug"
	"strconv"

	"golang.org/x/term"
)

// baseVersion is the version of this source tree; a release build sets
// buildVersion instead (-ldflags "-X main.buildVersion=v1.2.3").
const baseVersion = "0.1.0"

var buildVersion string

// versionInfo is what `ftpaudit version` prints: the version, and the
// commit and its time when the binary was built from a checkout.
type versionInfo struct {
	Version, Commit, Time string
	Modified              bool
}

// version reads the version from the link-time setting, else the module's
// version in the build info, else baseVersion with "-dev"; the commit
// from the build info's VCS stamp.
func version() versionInfo {
	v := versionInfo{Version: buildVersion}
	bi, ok := debug.ReadBuildInfo()
	if v.Version == "" && ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" {
		v.Version = baseVersion + "-dev"
	}
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

// String is the version line.
func (v versionInfo) String() string {
	s := "ftpaudit " + v.Version
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (commit " + c
		if v.Modified {
			s += ", modified"
		}
		if v.Time != "" {
			s += ", " + v.Time
		}
		s += ")"
	}
	return s
}

// terminalWidth is the width to lay the table out for: stdout's terminal,
// else stderr's (the table piped into a pager), else $COLUMNS, else 0
// (the table's default, 80).
func terminalWidth(stdout, stderr io.Writer) int {
	for _, w := range []io.Writer{stdout, stderr} {
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
				return cols
			}
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}

// useColor says whether the table may colour severities on stdout: a
// terminal that is not "dumb", without NO_COLOR (https://no-color.org) or
// --no-color.
func useColor(stdout io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(stdout)
}
