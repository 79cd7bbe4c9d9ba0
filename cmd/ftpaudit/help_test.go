package main

import (
	"strings"
	"testing"
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
