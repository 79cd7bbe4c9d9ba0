package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// uploadServer is a scripted server with one upload directory,
// /incoming (mode 0733, as a drop box), that accepts anonymous STOR and
// MKD and never lets anything be deleted. What is uploaded stays in
// files. listing says how /incoming answers a listing: "refused" (550,
// as pyftpdlib does) or "error-line" (150, the error as data, 226: a BSD
// ftpd).
func uploadServer(t *testing.T, listing string) (*faultftp.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var files []string // names in /incoming
	tree := faultftp.Entries(func(dir string) ([]faultftp.Entry, bool) {
		mu.Lock()
		defer mu.Unlock()
		switch dir {
		case "/":
			return []faultftp.Entry{{Name: "incoming", Dir: true, Perm: 0o733}, faultftp.File("README", 10)}, true
		case "/incoming":
			var es []faultftp.Entry
			for _, n := range files {
				es = append(es, faultftp.Entry{Name: n, Dir: strings.HasSuffix(n, ".dir"), Owner: "ftp"})
			}
			return es, true
		}
		return nil, false // not even the canary directory can be entered
	})
	cwd := map[int]string{} // by session
	reply := func(x *faultftp.Exchange) {
		mu.Lock()
		defer mu.Unlock()
		switch x.Verb {
		case "CWD":
			if strings.HasPrefix(x.Reply, "250") {
				cwd[x.Session] = x.Dir
			}
		case "STOR", "MKD":
			switch {
			case cwd[x.Session] != "/incoming":
				x.Reply = "553 Could not create file.\r\n"
			case x.Verb == "STOR":
				files = append(files, x.Arg)
				x.Reply = "150 Ok to send data.\r\n226 Transfer complete.\r\n"
			default:
				files = append(files, x.Arg)
				x.Reply = fmt.Sprintf("257 %q created.\r\n", x.Arg)
			}
		case "DELE", "RMD", "SIZE":
			// pyftpdlib: the same answer whether or not the name exists.
			x.Reply = "550 Not enough privileges.\r\n"
		case "LIST", "MLSD":
			if x.Dir == "/incoming" && listing == "refused" {
				x.Reply = "550 Permission denied.\r\n"
			}
		}
	}
	transfer := func(tr *faultftp.Transfer) {
		if tr.Dir == "/incoming" && listing == "error-line" {
			tr.Data = []byte("ls: .: Permission denied\r\n")
		}
	}
	srv, err := faultftp.Start(faultftp.Options{Tree: tree, Script: faultftp.Script{Reply: reply, Transfer: transfer}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(files)
	}
}

// Item 9 of issue 13: a canary the server keeps is probe residue, never
// "removed", on a server that answers SIZE with 550 whatever exists
// (pyftpdlib) and on one that answers a listing of an unreadable
// directory with 226 and an error line as data (a BSD ftpd).
func TestProbeResidueOnServersThatCannotProveRemoval(t *testing.T) {
	for _, listing := range []string{"refused", "error-line"} {
		t.Run(listing, func(t *testing.T) {
			srv, uploaded := uploadServer(t, listing)
			code, out, stderr := runCLI(t, "scan", "--probe", "--no-recursive-list", "--format", "json", "--quiet", "--connections", "1", srv.URL("/"))
			left := uploaded()
			if len(left) != 2 {
				t.Fatalf("the probe left %q on the server, want its two canaries; stderr %s", left, stderr)
			}
			var residue []string
			for _, f := range decode(t, out)["findings"].([]any) {
				fm := f.(map[string]any)
				if fm["rule"] != ftpaudit.RuleProbeResidue {
					continue
				}
				residue = append(residue, fm["path"].(string))
				ev := fmt.Sprint(fm["evidence"])
				if !strings.Contains(ev, "not proven gone") {
					t.Errorf("%s: evidence does not say why it is not proven gone: %s", fm["path"], ev)
				}
			}
			var want []string
			for _, n := range left {
				want = append(want, "/incoming/"+n)
			}
			slices.Sort(residue)
			slices.Sort(want)
			if !slices.Equal(residue, want) {
				t.Errorf("probe-residue %q, want %q (what is on the server)", residue, want)
			}
			if code == exitClean {
				t.Errorf("exit %d with canaries left on the server", code)
			}
		})
	}
}

// Item 10 of issue 13: "452 Insufficient storage space" to both canaries
// is transient: a drwxrwxrwx directory stays writable-dir by its mode,
// and the evidence says the probe was inconclusive. A 5xx to both makes
// it latent-writable.
func TestProbeTransientRefusalKeepsVerdict(t *testing.T) {
	for _, tc := range []struct{ reply, want string }{
		{"452 Insufficient storage space.\r\n", ftpaudit.RuleWritableDir},
		{"553 Could not create file.\r\n", ftpaudit.RuleLatentWritable},
	} {
		tree := faultftp.Map(map[string][]faultftp.Entry{
			"/":         {{Name: "incoming", Dir: true, Perm: 0o777}, faultftp.File("README", 10)},
			"/incoming": {faultftp.File("x", 1)},
		})
		srv, err := faultftp.Start(faultftp.Options{Tree: tree, Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
			if x.Verb == "STOR" || x.Verb == "MKD" {
				x.Reply = tc.reply
			}
		}}})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		_, out, stderr := runCLI(t, "scan", "--probe", "--format", "json", "--quiet", "--connections", "1", srv.URL("/"))
		var got []string
		var ev string
		for _, f := range decode(t, out)["findings"].([]any) {
			fm := f.(map[string]any)
			if fm["path"] == "/incoming" && (fm["rule"] == ftpaudit.RuleWritableDir || fm["rule"] == ftpaudit.RuleLatentWritable || fm["rule"] == ftpaudit.RuleDropboxDir) {
				got = append(got, fmt.Sprint(fm["severity"], " ", fm["rule"]))
				ev = fmt.Sprint(fm["evidence"])
			}
		}
		want := "critical " + tc.want
		if tc.want == ftpaudit.RuleLatentWritable {
			want = "medium " + tc.want
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("%q to STOR and MKD: /incoming is %q, want %q; stderr %s", tc.reply, got, want, stderr)
		}
		if inconclusive := strings.Contains(ev, "probe: inconclusive"); inconclusive != (tc.want == ftpaudit.RuleWritableDir) {
			t.Errorf("%q: evidence %s", tc.reply, ev)
		}
	}
}
