package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestWriteOutputModes(t *testing.T) {
	dir := t.TempDir()
	// A new report: 0666 less the umask (0644 with the usual 022).
	p := filepath.Join(dir, "new.json")
	if err := writeOutput(p, nil, writeString("a")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := fs.FileMode(0o666 &^ umask()); fi.Mode().Perm() != want {
		t.Errorf("new report mode %v, want %v", fi.Mode().Perm(), want)
	}
	// An existing report keeps its mode, whatever it is.
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o600, 0o664} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := writeOutput(p, nil, writeString("b")); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != mode {
			t.Errorf("existing %v report became %v", mode, fi.Mode().Perm())
		}
	}
	if b, _ := os.ReadFile(p); string(b) != "b" {
		t.Errorf("content %q", b)
	}
}

func TestWriteOutputSymlink(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "published")
	if err := os.Mkdir(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(pub, "report.json")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.json")
	if err := os.Symlink("published/report.json", link); err != nil {
		t.Fatal(err)
	}
	if err := checkOutput(link); err != nil {
		t.Fatal(err)
	}
	if err := writeOutput(link, nil, writeString("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("the link's target holds %q, want the new report", b)
	}
	// Nothing left behind in either directory.
	for _, d := range []string{dir, pub} {
		es, _ := os.ReadDir(d)
		for _, e := range es {
			if strings.Contains(e.Name(), ".tmp") || strings.Contains(e.Name(), ".check") {
				t.Errorf("left behind: %s", filepath.Join(d, e.Name()))
			}
		}
	}
	// A dangling link: the file it names is created.
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink("published/fresh.json", dangling); err != nil {
		t.Fatal(err)
	}
	if err := writeOutput(dangling, nil, writeString("fresh")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(pub, "fresh.json")); string(b) != "fresh" {
		t.Errorf("dangling link target holds %q", b)
	}
}

func TestWriteOutputDevice(t *testing.T) {
	before, err := os.Lstat("/dev/null")
	if err != nil || before.Mode()&fs.ModeDevice == 0 {
		t.Skip("no /dev/null device here")
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "null-link")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dev/null", link} {
		if err := checkOutput(p); err != nil {
			t.Fatalf("check %s: %v", p, err)
		}
		if err := writeOutput(p, nil, writeString("report")); err != nil {
			t.Fatalf("write %s: %v", p, err)
		}
	}
	after, err := os.Lstat("/dev/null")
	if err != nil || after.Mode() != before.Mode() || after.Mode()&fs.ModeDevice == 0 {
		t.Fatalf("/dev/null is now %v (was %v)", after.Mode(), before.Mode())
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link to /dev/null was replaced")
	}
}

func TestWriteOutputRefused(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		dir: "is a directory",
		filepath.Join(dir, "missing", "out.json"):    "no such file or directory",
		"/proc/ftpaudit-cannot-create-here.json":     "",
		filepath.Join(dir, "missing", "deeper", "x"): "no such file or directory",
	}
	for p, want := range cases {
		for name, err := range map[string]error{
			"check": checkOutput(p),
			"write": writeOutput(p, nil, writeString("x")),
		} {
			if err == nil {
				t.Errorf("%s %s: no error", name, p)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, p) || strings.Contains(msg, ".tmp") || strings.Contains(msg, ".check") || !strings.Contains(msg, want) {
				t.Errorf("%s %s: %q: want the given path and %q, no temporary file", name, p, msg, want)
			}
		}
	}
}

// TestScanRefusesBadOutputFirst: a bad -o is found before any host is
// contacted, and the error names the path given.
func TestScanRefusesBadOutputFirst(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "no-such-dir", "findings.json")
	var stdout, stderr bytes.Buffer
	// 127.0.0.1:1 would only be dialled if the check came after the walk.
	code := run(t.Context(), []string{"scan", "-o", bad, "--connect-timeout", "50ms", "ftp://127.0.0.1:1/"}, nil, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), bad) || strings.Contains(stderr.String(), ".tmp") {
		t.Fatalf("exit %d, stderr %q: want a failure naming %s", code, stderr.String(), bad)
	}
	if strings.Contains(stderr.String(), "127.0.0.1:1") {
		t.Errorf("the host was contacted before the output was checked: %s", stderr.String())
	}
}

// TestFormatFollowsOutputExtension: with --format auto (the default), -o
// picks the format from the file's extension.
func TestFormatFollowsOutputExtension(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]string{
		"findings.csv":        "severity,host,path,rule,",
		"scan.json":           `"schema": "ftpaudit.scan/v1"`,
		"scan.jsonl":          `{"type":"finding"`,
		"scan.ndjson":         `{"type":"finding"`,
		"ftpaudit.sarif":      `"version": "2.1.0"`,
		"ftpaudit.sarif.json": `"version": "2.1.0"`,
		"cleanup.txt":         "SEVERITY  PATH",
		"noext":               `"schema": "ftpaudit.scan/v1"`,
	} {
		out := filepath.Join(dir, name)
		code, _, stderr := runCLI(t, "demo", "--quiet", "-o", out)
		b, err := os.ReadFile(out)
		if code != exitClean || err != nil || !strings.Contains(string(b), want) {
			t.Errorf("-o %s: exit %d, %v, stderr %s; want %q in:\n%.300s", name, code, err, stderr, want, b)
		}
		if name == "cleanup.txt" && strings.Contains(string(b), "\x1b") {
			t.Errorf("-o %s: colour codes in a file", name)
		}
	}
}

// TestFailOnNoneAndCase: --fail-on takes any case, and none never fails
// the run on findings (the demo archive has critical ones).
func TestFailOnNoneAndCase(t *testing.T) {
	srv := serveSpec(t, nil, memftp.Options{})
	for level, want := range map[string]int{
		"HIGH":     exitFindings,
		"Critical": exitFindings,
		"none":     exitClean,
		"NONE":     exitClean,
	} {
		code, _, stderr := runCLI(t, "scan", "--quiet", "--format", "json", "--fail-on", level, "ftp://"+srv.Addr+"/")
		if code != want {
			t.Errorf("--fail-on %s: exit %d, want %d; %s", level, code, want, stderr)
		}
	}
	if code, _, _ := runCLI(t, "scan", "--quiet", "--fail-on", "severe", "ftp://"+srv.Addr+"/"); code != exitUsage {
		t.Errorf("--fail-on severe: exit %d, want %d", code, exitUsage)
	}
}
