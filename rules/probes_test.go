package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

func TestPasswdHashes(t *testing.T) {
	passwd := strings.Join([]string{
		"root:$6$salt$abcdefghijklmnop:0:0:root:/root:/bin/bash",
		"daemon:x:1:1::/:/usr/sbin/nologin",
		"bin:*:2:2::/:/usr/sbin/nologin",
		"sys:!:3:3::/:",
		"sync:!!:4:4::/:",
		"games:*LK*:5:5::/:",
		"man:NP:6:6::/:",
		"nobody::65534:65534::/:",
		"bob:abCD01./xyZ9q:1000:1000::/home/bob:/bin/sh",
		"locked:!$y$j9T$abc$def:1001:1001::/:",
		"# comment",
		"",
	}, "\n")
	h := withUnreadable(hostOf(dirE("/etc", "d--x--x--x", "root"), fileE("/etc/passwd", "-r--r--r--", "root", int64(len(passwd)))), "/etc")
	h.Fetched = []ftpaudit.FetchedFile{{Path: "/etc/passwd", Data: []byte(passwd)}}
	fs := judgeT(t, h, nil, ftpaudit.RulePasswdHashes)
	eq(t, "findings", sum(fs), []string{"critical passwd-hashes /etc/passwd"})
	eq(t, "evidence", fs[0].Evidence, []string{
		"password hashes for 3 of 10 accounts: root, bob, locked",
		fmt.Sprintf("downloaded by the scan (%d bytes)", len(passwd)),
	})
	for _, ev := range fs[0].Evidence {
		if strings.Contains(ev, "$6$") || strings.Contains(ev, "abCD01") {
			t.Errorf("evidence leaks a hash: %q", ev)
		}
	}

	clean := "root:x:0:0::/root:/bin/sh\nftp:*:14:50::/:\n"
	h.Fetched = []ftpaudit.FetchedFile{{Path: "/etc/passwd", Data: []byte(clean)}, {Path: "/pub/etc/passwd", Err: "550 no"}}
	eq(t, "no hashes", sum(judgeT(t, h, nil, ftpaudit.RulePasswdHashes)), []string{})
	h.Fetched = []ftpaudit.FetchedFile{{Path: "/etc/passwd.bak", Data: []byte(passwd)}}
	eq(t, "other file", sum(judgeT(t, h, nil, ftpaudit.RulePasswdHashes)), []string{})
}

func TestCanaryNames(t *testing.T) {
	now := time.Date(2025, 2, 1, 13, 4, 5, 0, time.FixedZone("CET", 3600))
	f, d := ftpaudit.CanaryNames(now, 0xdeadbeef)
	if f != "ftpaudit-canary-20250201T120405Z-deadbeef.txt" || d != "ftpaudit-canary-20250201T120405Z-deadbeef.dir" {
		t.Fatalf("CanaryNames = %q, %q", f, d)
	}
	f, _ = ftpaudit.CanaryNames(now, 1)
	if f != "ftpaudit-canary-20250201T120405Z-00000001.txt" {
		t.Fatalf("padding: %q", f)
	}
	for _, n := range []string{f, d} {
		if !ftpaudit.IsCanaryName(n) {
			t.Errorf("IsCanaryName(%q) = false", n)
		}
	}
	for _, n := range []string{
		"ftpaudit-canary-20250201T120405Z-DEADBEEF.txt",
		"ftpaudit-canary-20250201T120405Z-deadbeef.txt.bak",
		"ftpaudit-canary-20250201T120405Z-deadbee.txt",
		"ftpaudit-canary-20251301T120405Z-deadbeef.txt",
		"ftpaudit-canary-20250201 120405Z-deadbeef.txt",
		"ftpaudit-canary-20250201T120405Z-deadbeef.zip",
		"xftpaudit-canary-20250201T120405Z-deadbeef.txt",
		"ftpaudit-canary-",
		"",
	} {
		if ftpaudit.IsCanaryName(n) {
			t.Errorf("IsCanaryName(%q) = true", n)
		}
	}
	if !strings.HasPrefix(f, ftpaudit.CanaryPrefix) {
		t.Error("prefix")
	}
}

func TestProbeResidue(t *testing.T) {
	old := "ftpaudit-canary-20240101T000000Z-0badc0de.txt"
	h := hostOf(
		dirE("/incoming", "drwxrwxrwx", "root"),
		fileE("/incoming/"+old, "-rw-r--r--", "ftp", 0),
		fileE("/pub/ftpaudit-canary-notes.txt", "-rw-r--r--", "root", 0),
	)
	h.Probes = []ftpaudit.ProbeResult{
		{Dir: "/incoming",
			File:  ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "226 OK", Removed: false, RemoveReply: "550 Permission denied.", Path: "/incoming/ftpaudit-canary-20250101T000000Z-00000001.txt"},
			Mkdir: ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "257 created", Removed: true, RemoveReply: "250 removed", Path: "/incoming/ftpaudit-canary-20250101T000000Z-00000001.dir"}},
	}
	fs := judgeT(t, h, nil, ftpaudit.RuleProbeResidue)
	eq(t, "findings", sum(fs), []string{
		"high probe-residue /incoming/" + old,
		"high probe-residue /incoming/ftpaudit-canary-20250101T000000Z-00000001.txt",
	})
	eq(t, "earlier", fs[0].Evidence, []string{"name matches the probe canary pattern ftpaudit-canary-<time>-<hex>: left by a probe at 2024-01-01T00:00:00Z"})
	eq(t, "this run", fs[1].Evidence, []string{"probe: STOR accepted: 226 OK", "probe: removal not confirmed: 550 Permission denied."})
}
