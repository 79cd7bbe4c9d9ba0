package scanner

import (
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ftpaudit.Target
		err  bool
	}{
		{in: "ftp://127.0.0.1:2121", want: ftpaudit.Target{URL: "ftp://127.0.0.1:2121", Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/", TLS: ftpaudit.TLSNone}},
		{in: "ftp://h/pub/", want: ftpaudit.Target{URL: "ftp://h:21", Host: "h", Port: "21", User: "anonymous", Start: "/pub", TLS: ftpaudit.TLSNone}},
		{in: "ftps://bob@[::1]:990/x", want: ftpaudit.Target{URL: "ftps://bob@[::1]:990", Host: "::1", Port: "990", User: "bob", Start: "/x", TLS: ftpaudit.TLSExplicit}},
		{in: "ftp://bob:secret@h/", err: true},
		{in: "http://h/", err: true},
		{in: "h:21", err: true},
		{in: "ftp:///x", err: true},
		{in: "ftp://h/?q", err: true},
	} {
		got, err := ftpaudit.ParseTarget(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v", tc.in, err)
			continue
		}
		if !tc.err && got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestPathArgKeepsTrailingSpaces(t *testing.T) {
	for in, want := range map[string]string{"/": "/", "": "/", "/pub": "/pub", "/  ": "/  /.", "/a/trail ": "/a/trail /.", "/ lead": "/ lead"} {
		if got := pathArg(in); got != want {
			t.Errorf("pathArg(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReplyLogNeverKeepsCommands(t *testing.T) {
	var r replyLog
	for _, chunk := range []string{"220 hello\r\n", "USER bob\r\n", "331 pw\r\n", "PASS hunter2\r\n", "230 ok\r\nFEAT\r\n211-Features:\r\n MLST type*;\r\n", " UTF8\r\n211 End\r\n", "LIST -a /x\r\n", "150 here\r\n226-Output truncated to 2000 matches\r\n226 done\r\n"} {
		_, _ = r.Write([]byte(chunk))
	}
	for _, rep := range r.replies {
		if strings.Contains(rep, "hunter2") || strings.Contains(rep, "PASS") {
			t.Fatalf("reply log kept a command: %q", rep)
		}
	}
	if got := r.last(); got != "226-Output truncated to 2000 matches\n226 done" {
		t.Errorf("last = %q", got)
	}
	if got := r.features(); len(got) != 2 || got[0] != "MLST type*;" || got[1] != "UTF8" {
		t.Errorf("features = %q", got)
	}
}

func TestPlainPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/pub/gnu/emacs-29.1.tar.gz": true, "/a_b/c+d/x@y%z,w=v": true, "/a-b": true,
		"/-rf": false, "/a/-l": false, "/  ": false, "/ lead": false, "/star*name": false, "/[abc]": false,
		"/q?mark": false, "/café": false, "/bad\xffdir": false, "/~user": false, "/{a,b}": false, "/a\tb": false,
	} {
		if got := plainPath(p); got != want {
			t.Errorf("plainPath(%q) = %v, want %v", p, got, want)
		}
	}
}
