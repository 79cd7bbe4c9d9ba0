package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpFlag matches a flag line of a command's -h: "  -connections int",
// "  --format string".
var helpFlag = regexp.MustCompile(`(?m)^\s+--?([a-zA-Z][a-zA-Z0-9-]*)\b`)

// TestCompletionFlags checks that the flag sets completion and the man
// page are generated from name exactly the flags each command takes, as
// its -h lists them.
func TestCompletionFlags(t *testing.T) {
	for _, c := range commandSpecs() {
		var want []string
		for _, f := range flagsOf(c.flags) {
			want = append(want, f.Name)
		}
		if len(want) == 0 {
			continue
		}
		var stdout, stderr bytes.Buffer
		args := append(strings.Fields(c.name), "-h")
		if code := run(context.Background(), args, nil, &stdout, &stderr); code != exitClean {
			t.Fatalf("%s -h: exit %d: %s", c.name, code, stderr.String())
		}
		var got []string
		for _, m := range helpFlag.FindAllStringSubmatch(stdout.String()+stderr.String(), -1) {
			if !slices.Contains(got, m[1]) {
				got = append(got, m[1])
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: -h lists flags %v, completion knows %v (update commandSpecs in completion.go)", c.name, got, want)
		}
	}
}

// TestCompletionScripts checks each script names every flag of scan and
// every command, and that the shells installed here accept its syntax.
func TestCompletionScripts(t *testing.T) {
	cmds := commandSpecs()
	for _, sh := range []string{"bash", "zsh", "fish", "man"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"completion", sh}, nil, &out, &errb); code != exitClean {
			t.Fatalf("completion %s: exit %d: %s", sh, code, errb.String())
		}
		script := out.String()
		for _, c := range cmds {
			if !strings.Contains(script, strings.Fields(c.name)[0]) {
				t.Errorf("%s: command %s missing", sh, c.name)
			}
			for _, f := range flagsOf(c.flags) {
				name := f.Name
				switch sh {
				case "man":
					name = roff(dashed(f.Name))
				case "bash", "zsh":
					name = dashed(f.Name)
				}
				if !strings.Contains(script, name) {
					t.Errorf("%s: flag %s of %s missing", sh, dashed(f.Name), c.name)
				}
			}
		}
		if sh == "man" {
			continue
		}
		bin, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		cmd := exec.Command(bin, "-n")
		cmd.Stdin = strings.NewReader(script)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v: %s", sh, err, b)
		}
	}
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"completion", "tcsh"}, nil, &bytes.Buffer{}, &errb); code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want %d", code, exitUsage)
	}
}

// TestManPage checks that docs/man/ftpaudit.1 is what "ftpaudit
// completion man" prints; -update-docs (go generate) rewrites it.
func TestManPage(t *testing.T) {
	t.Setenv("FTPAUDIT_SPILL_AFTER", "") // (the page shows the built-in defaults)
	const path = "../../docs/man/ftpaudit.1"
	want := manPage(commandSpecs())
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/ftpaudit -run TestManPage -update-docs writes it)", err)
	}
	if string(got) != want {
		t.Errorf("%s is stale: go test ./cmd/ftpaudit -run TestManPage -update-docs", path)
	}
}
