package ftpconn

import (
	"strings"
	"testing"
)

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
