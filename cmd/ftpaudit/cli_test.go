package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

// serveSpec starts an in-process server over a memftp archive spec (nil:
// the demo archive's), stopped when the test ends.
func serveSpec(t *testing.T, spec []byte, opt memftp.Options) *memftp.Server {
	t.Helper()
	if spec == nil {
		spec = demoArchive
	}
	root, err := memftp.ParseSpec(bytes.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := memftp.Start(context.Background(), root, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"scan"}, "no target"},
		{[]string{"scan", "http://x/"}, "unsupported scheme"},
		{[]string{"scan", "ftp://bob:secret@127.0.0.1/"}, "password in the target URL is refused"},
		{[]string{"scan", "--connections", "0", "ftp://127.0.0.1/"}, "--connections 0"},
		{[]string{"scan", "--login-interval", "0s", "ftp://127.0.0.1/"}, "--login-interval 0s"},
		{[]string{"scan", "--max-entry-bytes", "0", "ftp://127.0.0.1/"}, "--max-entry-bytes"},
		{[]string{"scan", "--spill-after", "-2", "ftp://127.0.0.1/"}, "--spill-after -2"},
		{[]string{"scan", "--spill-dir", "/nonexistent/dir", "ftp://127.0.0.1/"}, "--spill-dir /nonexistent/dir: not a directory"},
		{[]string{"scan", "--format", "xml", "ftp://127.0.0.1/"}, `--format "xml"`},
		{[]string{"scan", "--bogus", "ftp://127.0.0.1/"}, "unknown flag --bogus"},
		{[]string{"demo", "extra"}, "demo takes no arguments"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", tc.args, code, exitUsage)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: stderr %q does not say %q", tc.args, stderr, tc.want)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q, want nothing", tc.args, stdout)
		}
	}
	if strings.Contains(func() string { _, _, e := runCLI(t, "scan", "ftp://bob:secret@127.0.0.1/"); return e }(), "secret") {
		t.Error("a refused password is echoed back")
	}
	t.Setenv("FTPAUDIT_SPILL_AFTER", "lots")
	if code, _, stderr := runCLI(t, "scan", "ftp://127.0.0.1/"); code != exitUsage || !strings.Contains(stderr, `FTPAUDIT_SPILL_AFTER="lots"`) {
		t.Errorf("a bad FTPAUDIT_SPILL_AFTER: exit %d, stderr %q", code, stderr)
	}
}

func TestNamedUserNeedsPasswordFromEnvOrNetrc(t *testing.T) {
	t.Setenv("FTPAUDIT_PASSWORD", "")
	t.Setenv("HOME", t.TempDir())
	code, _, stderr := runCLI(t, "scan", "ftp://bob@127.0.0.1:1/")
	if code != exitUsage || !strings.Contains(stderr, "FTPAUDIT_PASSWORD") {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	netrc := filepath.Join(os.Getenv("HOME"), ".netrc")
	if err := os.WriteFile(netrc, []byte("machine other login bob password no\nmachine 127.0.0.1\n login bob\n password s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, ok, err := netrcPassword(netrc, "127.0.0.1", "bob")
	if err != nil || !ok || p != "s3cret" {
		t.Fatalf("netrc: %q %v %v", p, ok, err)
	}
	if _, ok, _ := netrcPassword(netrc, "127.0.0.1", "alice"); ok {
		t.Fatal("netrc matched the wrong login")
	}
}

func TestUnreachableHostIsIncomplete(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	code, stdout, stderr := runCLI(t, "scan", "--format", "json", "--quiet", "--connections", "2", "ftp://"+addr+"/")
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitIncomplete, stderr)
	}
	var doc scanDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Hosts) != 1 || doc.Hosts[0].Complete || !strings.Contains(strings.Join(doc.Hosts[0].Incomplete, " "), "connection refused") {
		t.Fatalf("hosts %+v", doc.Hosts)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("giving up on a refused host took %s", time.Since(start))
	}
}

// visible returns the paths of a memftp tree that an anonymous user can
// see, and the directories it may not list.
func visible(n *memftp.Node, dir string, paths, unreadable *[]string) {
	for _, c := range n.Children {
		p := dir + "/" + c.Name
		if dir == "/" {
			p = "/" + c.Name
		}
		*paths = append(*paths, p)
		if !c.Mode.IsDir() {
			continue
		}
		perm := c.Mode.Perm()
		bits := perm & 7
		if c.Owner == "ftp" {
			bits = perm >> 6 & 7
		}
		if bits&5 == 5 {
			visible(c, p, paths, unreadable)
		} else {
			*unreadable = append(*unreadable, p)
		}
	}
}

// TestScanInProcessServer is the hermetic protocol test: the real CLI,
// the real jlaffaye client, an in-process server over the demo archive.
func TestScanInProcessServer(t *testing.T) {
	root, err := memftp.ParseSpec(bytes.NewReader(demoArchive))
	if err != nil {
		t.Fatal(err)
	}
	var want, wantUnreadable []string
	visible(root, "/", &want, &wantUnreadable)
	slices.Sort(want)
	slices.Sort(wantUnreadable)
	for _, opt := range []memftp.Options{{MLSD: true}, {MLSD: false}, {MLSD: false, EmptyOnUnreadable: true}, {MLSD: true, DotEntries: true}} {
		srv, err := memftp.Start(context.Background(), root, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, conns := range []string{"1", "4"} {
			doc, code, stderr := runJSON(t, "scan", "--inventory", "--format", "json", "--quiet", "--connections", conns, "ftp://"+srv.Addr+"/")
			if code != exitFindings { // the demo archive has critical problems on purpose
				t.Errorf("%+v: exit %d, want %d; stderr %s", opt, code, exitFindings, stderr)
			}
			var got []string
			for p, n := range doc.paths(t) {
				if n != 1 {
					t.Errorf("%+v: %q reported %d times", opt, p, n)
				}
				got = append(got, p)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%+v conns=%s: paths\n got %q\nwant %q", opt, conns, got, want)
			}
			var gotU []string
			for _, u := range doc.Hosts[0].Unreadable {
				gotU = append(gotU, u.Path)
			}
			if !slices.Equal(gotU, wantUnreadable) {
				t.Errorf("%+v: unreadable %q, want %q", opt, gotU, wantUnreadable)
			}
			if !doc.Hosts[0].Complete || len(doc.Hosts[0].Errors) > 0 {
				t.Errorf("%+v: complete=%v errors=%+v", opt, doc.Hosts[0].Complete, doc.Hosts[0].Errors)
			}
		}
		srv.Close()
	}
}

func TestDemoRunsAndShowsResult(t *testing.T) {
	code, stdout, stderr := runCLI(t, "demo", "--quiet", "--format", "table")
	if code != exitClean {
		t.Fatalf("demo exit %d; stderr %s", code, stderr)
	}
	for _, want := range []string{"SEVERITY", "writable-dir", "dropbox-dir", "hidden-name", "suspicious-name", "/incoming/0day/keygen.exe", `"/incoming/.../  "`, "complete"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\x1b") {
		t.Errorf("demo output carries a raw escape character:\n%q", stdout)
	}
}

func TestOutputFileIsWrittenAtomically(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "scan.json")
	if err := os.WriteFile(out, []byte("previous good report"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runCLI(t, "demo", "--quiet", "--format", "json", "-o", out)
	if code != exitClean || stdout != "" {
		t.Fatalf("exit %d stdout %q", code, stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("{")) {
		t.Fatalf("report file: %v %.40q", err, b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	// A directory that cannot be written: the old report must survive.
	code, _, stderr := runCLI(t, "demo", "--quiet", "--format", "json", "-o", filepath.Join(dir, "missing", "x.json"))
	if code != exitInternal || !strings.Contains(stderr, "ftpaudit: error: write") {
		t.Errorf("unwritable output: exit %d stderr %q", code, stderr)
	}
}
