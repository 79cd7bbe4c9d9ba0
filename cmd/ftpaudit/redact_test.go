package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// TestEchoedPasswordRedacted: a server that echoes the password in its
// replies (the login reply, a refusal, the banner of a later session)
// must not get it into any report format or into the history database.
func TestEchoedPasswordRedacted(t *testing.T) {
	const pw = "Hunter2-not-for-reports"
	t.Setenv("FTPAUDIT_PASSWORD", pw)
	// A file named with the password as well: the name reaches the
	// inventory, and, spilled (--spill-after 0), the walk's temporary
	// file, whose entries Redact rewrites as they are read back.
	tree := map[string][]faultftp.Entry{}
	for d, es := range faultTreeEntries {
		tree[d] = es
	}
	// And a directory named with it, beside a name that sorts between
	// the password and its replacement ('H' < 'I' < '['): redacted, its
	// entries move in path order, which every reader (the history's
	// save, the inventory) relies on.
	tree["/"] = append(slices.Clone(tree["/"]), faultftp.File("notes-"+pw+".txt", 3), faultftp.Dir("a-"+pw), faultftp.File("a-I", 1))
	tree["/a-"+pw] = []faultftp.Entry{faultftp.File("inside", 1)}
	srv, err := faultftp.Start(faultftp.Options{Tree: faultftp.Map(tree), Users: map[string]string{"auditor": pw}, Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			switch {
			case x.Verb == "PASS":
				x.Reply = "230 welcome, your password " + x.Arg + " was accepted\r\n"
			case x.Verb == "LIST" && x.Dir == "/pub":
				x.Reply = "550 /pub is closed to users with password " + pw + "\r\n"
			}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := strings.Replace(srv.URL("/"), "ftp://", "ftp://auditor@", 1)
	db := filepath.Join(t.TempDir(), "history.db")
	for i, format := range []string{"json", "jsonl", "csv", "summary", "table", "json", "jsonl"} {
		out := filepath.Join(t.TempDir(), "report")
		var stdout, stderr bytes.Buffer
		spill := "-1"
		if i%2 == 1 {
			spill = "0"
		}
		args := []string{"scan", "--quiet", "--format", format, "--inventory", "-o", out, "--connections", "1", "--spill-after", spill, "--save", "--db", db, url}
		code := run(t.Context(), args, nil, &stdout, &stderr)
		if code == exitInternal || code == exitUsage {
			t.Errorf("%s, --spill-after %s: exit %d: %s", format, spill, code, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: exit %d, %v; stderr %s", format, code, err, stderr.String())
		}
		if !strings.Contains(string(b), "[REDACTED]") && format != "table" {
			t.Errorf("%s: the echoed password was not seen at all (is the script wrong?):\n%s", format, b)
		}
		for name, s := range map[string]string{"report": string(b), "stdout": stdout.String(), "stderr": stderr.String()} {
			if strings.Contains(s, pw) {
				t.Errorf("%s %s holds the password:\n%s", format, name, s)
			}
		}
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(pw)) {
		t.Errorf("the history database holds the password")
	}
}
