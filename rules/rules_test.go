package rules

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/docblock"
)

const testHost = "ftp://127.0.0.1:2121"

// Entry builders. The group is the owner unless given as "owner:group".

func owners(og string) (string, string) {
	if o, g, ok := strings.Cut(og, ":"); ok {
		return o, g
	}
	return og, og
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func dirE(path, mode, og string) ftpaudit.Entry {
	o, g := owners(og)
	return ftpaudit.Entry{Path: path, Name: baseName(path), Type: ftpaudit.TypeDir, Mode: mode, Owner: o, Group: g, Size: 4096}
}

func fileE(path, mode, og string, size int64) ftpaudit.Entry {
	o, g := owners(og)
	return ftpaudit.Entry{Path: path, Name: baseName(path), Type: ftpaudit.TypeFile, Mode: mode, Owner: o, Group: g, Size: size}
}

func linkE(path, target string) ftpaudit.Entry {
	return ftpaudit.Entry{Path: path, Name: baseName(path), Type: ftpaudit.TypeLink, Mode: "lrwxrwxrwx", Owner: "root", Group: "root", Size: int64(len(target)), Extra: &ftpaudit.EntryExtra{Target: target}}
}

func withPerm(e ftpaudit.Entry, perm string) ftpaudit.Entry {
	e.Extra = &ftpaudit.EntryExtra{Perm: perm, Facts: map[string]string{"perm": perm}}
	return e
}

func hostOf(entries ...ftpaudit.Entry) *ftpaudit.HostResult {
	h := &ftpaudit.HostResult{
		Target:  ftpaudit.Target{URL: testHost, Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"},
		Info:    ftpaudit.ServerInfo{Banner: "220 test", Login: "anonymous"},
		Entries: entries,
	}
	slices.SortFunc(h.Entries, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return h
}

func withUnreadable(h *ftpaudit.HostResult, paths ...string) *ftpaudit.HostResult {
	for _, p := range paths {
		h.Unreadable = append(h.Unreadable, ftpaudit.PathError{Path: p, Error: "550 Permission denied"})
	}
	return h
}

// sum renders findings as "severity rule path" lines.
func sum(fs []ftpaudit.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s", f.Severity, f.Rule, f.Path))
	}
	return out
}

// only keeps the findings of the given rules.
func only(fs []ftpaudit.Finding, rules ...string) []ftpaudit.Finding {
	var out []ftpaudit.Finding
	for _, f := range fs {
		if slices.Contains(rules, f.Rule) {
			out = append(out, f)
		}
	}
	return out
}

func find(t *testing.T, fs []ftpaudit.Finding, rule, path string) ftpaudit.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule && f.Path == path {
			return f
		}
	}
	t.Fatalf("no %s finding for %q in\n%s", rule, path, strings.Join(sum(fs), "\n"))
	return ftpaudit.Finding{}
}

func mustPolicy(t *testing.T, y string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(y), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func hasEvidence(t *testing.T, f ftpaudit.Finding, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(f.Evidence, w) {
			t.Errorf("%s %s: evidence lacks %q; has:\n  %s", f.Rule, f.Path, w, strings.Join(f.Evidence, "\n  "))
		}
	}
}

// checkInvariants: every finding has evidence and an action, and the
// output is sorted.
func checkInvariants(t *testing.T, fs []ftpaudit.Finding) {
	t.Helper()
	for _, f := range fs {
		if len(f.Evidence) == 0 || f.Action == "" || f.Host != testHost {
			t.Errorf("finding without evidence, action or host: %+v", f)
		}
		for _, ev := range f.Evidence {
			if ev == "" {
				t.Errorf("empty evidence line in %+v", f)
			}
		}
	}
	c := slices.Clone(fs)
	ftpaudit.SortFindings(c)
	for i := range c {
		if c[i].Rule != fs[i].Rule || c[i].Path != fs[i].Path {
			t.Errorf("findings not sorted")
			break
		}
	}
}

func judgeT(t *testing.T, h *ftpaudit.HostResult, p *Policy, rules ...string) []ftpaudit.Finding {
	t.Helper()
	fs := Judge(h, p)
	checkInvariants(t, fs)
	if len(rules) > 0 {
		fs = only(fs, rules...)
	}
	return fs
}

func TestAnonymousLogin(t *testing.T) {
	h := hostOf(fileE("/README", "-rw-r--r--", "root", 10))
	h.Stats = ftpaudit.Stats{Files: 1, Listed: 1}
	fs := judgeT(t, h, nil, ftpaudit.RuleAnonymousLogin)
	eq(t, "anonymous", sum(fs), []string{"info anonymous-login /"})
	eq(t, "evidence", fs[0].Evidence, []string{`login as "anonymous" accepted`, "banner: 220 test", "anonymous users can see 1 file and 0 directories (1 directory listed)"})

	h.Info.Login = "ftp"
	eq(t, "ftp", sum(judgeT(t, h, nil, ftpaudit.RuleAnonymousLogin)), []string{"info anonymous-login /"})
	h.Info.Login = "mirror"
	eq(t, "named user", sum(judgeT(t, h, nil, ftpaudit.RuleAnonymousLogin)), []string{})
	h.Info.Login = "anonymous"
	h.LoginError = "530 Login incorrect."
	eq(t, "login refused", sum(judgeT(t, h, nil, ftpaudit.RuleAnonymousLogin)), []string{})
}

var dirRules = []string{ftpaudit.RuleWritableDir, ftpaudit.RuleDropboxDir, ftpaudit.RuleLatentWritable}

func TestWritableDirPassive(t *testing.T) {
	tests := []struct {
		name   string
		e      ftpaudit.Entry
		unread bool
		policy string
		want   []string
		ev     []string
	}{
		{name: "others may write", e: dirE("/incoming", "drwxrwxrwx", "root"),
			want: []string{"critical writable-dir /incoming"},
			ev:   []string{"mode drwxrwxrwx: others may write", "listable: anonymous users can see and download what is uploaded", "contents: 0 files, 0 directories, 0 B"}},
		{name: "owner ftp may write", e: dirE("/up", "drwxr-xr-x", "ftp:root"),
			want: []string{"critical writable-dir /up"},
			ev:   []string{"owner ftp is the anonymous account", "mode drwxr-xr-x: the owner may write"}},
		{name: "owner root may write", e: dirE("/pub", "drwxr-xr-x", "root"), want: []string{}},
		{name: "owner 0 may write", e: dirE("/pub", "drwxr-xr-x", "0"), want: []string{}},
		{name: "numeric owner not known", e: dirE("/pub", "drwxr-xr-x", "1000"), want: []string{}},
		{name: "numeric owner in policy", e: dirE("/pub", "drwxr-xr-x", "117:0"), policy: "anonymous: {uids: [117]}",
			want: []string{"critical writable-dir /pub"}, ev: []string{"owner 117 is the anonymous account"}},
		{name: "group ftp may write", e: dirE("/grp", "drwxrwxr-x", "root:ftp"),
			want: []string{"critical writable-dir /grp"},
			ev:   []string{"group ftp is the anonymous account's", "mode drwxrwxr-x: the group may write"}},
		{name: "group ftp read only", e: dirE("/grp", "drwxr-xr-x", "root:ftp"), want: []string{}},
		{name: "group gid in policy", e: dirE("/grp", "drwxrwxr-x", "0:124"), policy: "anonymous: {gids: [124]}",
			want: []string{"critical writable-dir /grp"}},
		{name: "MLSD perm grants create", e: withPerm(dirE("/w", "drwxr-xr-x", "root"), "flcdmpe"),
			want: []string{"critical writable-dir /w"},
			ev:   []string{"MLSD perm=flcdmpe: the server grants create files (c), make directories (m), delete entries (p)"}},
		{name: "MLSD perm read only", e: withPerm(dirE("/r", "drwxrwxrwx", "root"), "fle"),
			want: []string{"critical writable-dir /r"}}, // the mode still says others may write
		{name: "MLSD perm fle", e: withPerm(dirE("/r", "drwxr-xr-x", "root"), "fle"), want: []string{}},
		{name: "write-only drop box", e: dirE("/incoming", "drwx-wx-wt", "root:ftp"), unread: true,
			want: []string{"medium dropbox-dir /incoming"},
			ev:   []string{"mode drwx-wx-wt: others may write", "not listable: 550 Permission denied"}},
		{name: "declared drop box", e: dirE("/incoming", "drwx-wx-wt", "root"), unread: true,
			policy: "hosts: [{match: \"ftp://127.0.0.1:*\", drop_boxes: [/incoming]}]",
			want:   []string{"info dropbox-dir /incoming"},
			ev:     []string{"the policy declares it a drop box (/incoming)"}},
		{name: "declared drop box for another host", e: dirE("/incoming", "drwx-wx-wt", "root"), unread: true,
			policy: "hosts: [{match: \"ftp://10.0.0.1:*\", drop_boxes: [/incoming]}]",
			want:   []string{"medium dropbox-dir /incoming"}},
		{name: "declared drop box but listable", e: dirE("/incoming", "drwxrwxrwt", "root"),
			policy: "drop_boxes: [/incoming]",
			want:   []string{"critical writable-dir /incoming"},
			ev:     []string{"the policy declares it a drop box (/incoming), but the server lists it"}},
		{name: "unreadable, not writable", e: dirE("/bin", "d--x--x--x", "root"), unread: true, want: []string{}},
		{name: "space name", e: dirE("/  ", "drwxrwxrwx", "root"),
			want: []string{"critical writable-dir /  "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Two root-owned files keep ownership informative (see
			// TestAllOwnersFtpDowngrade).
			h := hostOf(tc.e, fileE("/z1", "-r--r--r--", "root", 1), fileE("/z2", "-r--r--r--", "root", 1))
			if tc.unread {
				withUnreadable(h, tc.e.Path)
			}
			var p *Policy
			if tc.policy != "" {
				p = mustPolicy(t, tc.policy)
			}
			fs := judgeT(t, h, p, dirRules...)
			eq(t, "findings", sum(fs), tc.want)
			if len(fs) > 0 {
				hasEvidence(t, fs[0], tc.ev...)
			}
		})
	}
}

func TestStartDirSkippedUnlessProbed(t *testing.T) {
	h := hostOf(fileE("/README", "-rw-r--r--", "root", 1))
	eq(t, "no probe", sum(judgeT(t, h, nil, dirRules...)), []string{})
	h.Probes = []ftpaudit.ProbeResult{{Dir: "/",
		File:  ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "226 Transfer complete", Removed: true, Path: "/ftpaudit-canary-20250101T000000Z-0000abcd.txt"},
		Mkdir: ftpaudit.ProbeStep{Tried: true, Reply: "550 Permission denied", Path: "/ftpaudit-canary-20250101T000000Z-0000abcd.dir"}}}
	fs := judgeT(t, h, nil, ftpaudit.RuleWritableDir, ftpaudit.RuleInWritableArea)
	eq(t, "probed start", sum(fs), []string{"critical writable-dir /", "medium in-writable-area /README"})
	hasEvidence(t, fs[0], "probe: STOR accepted: 226 Transfer complete", "probe: MKD refused: 550 Permission denied", "contents: 1 file, 0 directories, 1 B")
}

func TestProbeOverridesPassive(t *testing.T) {
	refused := func(dir string) ftpaudit.ProbeResult {
		return ftpaudit.ProbeResult{Dir: dir,
			File:  ftpaudit.ProbeStep{Tried: true, Reply: "553 Could not create file."},
			Mkdir: ftpaudit.ProbeStep{Tried: true, Reply: "550 Create directory operation failed."}}
	}
	t.Run("latent", func(t *testing.T) {
		h := hostOf(dirE("/writable", "drwxrwxrwx", "root"), fileE("/writable/x", "-rw-r--r--", "root", 5))
		h.Probes = []ftpaudit.ProbeResult{refused("/writable")}
		fs := judgeT(t, h, nil)
		eq(t, "findings", sum(fs), []string{"medium latent-writable /writable", "info anonymous-login /"})
		hasEvidence(t, fs[0], "mode drwxrwxrwx: others may write",
			"probe: STOR refused: 553 Could not create file.",
			"probe: MKD refused: 550 Create directory operation failed.")
	})
	t.Run("refused without passive evidence", func(t *testing.T) {
		h := hostOf(dirE("/pub", "drwxr-xr-x", "root"))
		h.Probes = []ftpaudit.ProbeResult{refused("/pub")}
		eq(t, "findings", sum(judgeT(t, h, nil, dirRules...)), []string{})
	})
	t.Run("writable on probe evidence alone", func(t *testing.T) {
		h := hostOf(dirE("/pub", "drwxr-xr-x", "root"))
		h.Probes = []ftpaudit.ProbeResult{{Dir: "/pub",
			File:  ftpaudit.ProbeStep{Tried: true, Reply: "553 Could not create file."},
			Mkdir: ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: `257 "/pub/x" created`, Removed: true}}}
		fs := judgeT(t, h, nil, dirRules...)
		eq(t, "findings", sum(fs), []string{"critical writable-dir /pub"})
		hasEvidence(t, fs[0], `probe: MKD accepted: 257 "/pub/x" created`, "probe: STOR refused: 553 Could not create file.")
	})
	t.Run("unreadable and accepted is a drop box", func(t *testing.T) {
		h := withUnreadable(hostOf(dirE("/in", "d-wx-wx-wx", "root")), "/in")
		h.Probes = []ftpaudit.ProbeResult{{Dir: "/in", File: ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "226 OK", Removed: true}}}
		eq(t, "findings", sum(judgeT(t, h, nil, dirRules...)), []string{"medium dropbox-dir /in"})
	})
	t.Run("one step refused, the other not tried: passive decides", func(t *testing.T) {
		h := hostOf(dirE("/w", "drwxrwxrwx", "root"))
		h.Probes = []ftpaudit.ProbeResult{{Dir: "/w", File: ftpaudit.ProbeStep{Tried: true, Reply: "451 busy"}, Skipped: "connection lost during the probe"}}
		fs := judgeT(t, h, nil, dirRules...)
		eq(t, "findings", sum(fs), []string{"critical writable-dir /w"})
		hasEvidence(t, fs[0], "probe: STOR refused: 451 busy", "probe: not completed here: connection lost during the probe")
	})
}

func TestLearnedAnonymousUID(t *testing.T) {
	// vsftpd lists numeric owners. 117 uploaded to the world-writable
	// /writable, so 117 is the anonymous account, and /pub/up (owned by
	// 117, u+w) is writable even though its others bits are not.
	entries := []ftpaudit.Entry{
		dirE("/writable", "drwxrwxrwx", "0"),
		fileE("/writable/existing.txt", "-rw-r--r--", "0", 36),
		fileE("/writable/up.txt", "-rw-r--r--", "117", 10),
		dirE("/pub", "drwxr-xr-x", "0"),
		dirE("/pub/up", "drwxr-xr-x", "117"),
		fileE("/pub/stray.zip", "-r--r--r--", "117", 99),
		fileE("/pub/maint.txt", "-rw-r--r--", "1000", 5),
	}
	fs := judgeT(t, hostOf(entries...), nil, ftpaudit.RuleWritableDir, ftpaudit.RuleUploadOwner, ftpaudit.RuleInWritableArea)
	eq(t, "learned", sum(fs), []string{
		"critical writable-dir /pub/up",
		"critical writable-dir /writable",
		"high upload-owner /pub/stray.zip",
		"medium in-writable-area /writable/existing.txt",
		"medium in-writable-area /writable/up.txt",
	})
	learned := "owner 117 owns uploads in /writable: taken as the anonymous account"
	hasEvidence(t, fs[0], learned, "mode drwxr-xr-x: the owner may write")
	hasEvidence(t, fs[2], learned, "outside every writable area and declared drop box")
	hasEvidence(t, fs[4], "in writable area /writable (listable): 2 files, 0 directories, 46 B", learned+": uploaded by an anonymous user")

	// The entries' order does not matter.
	rev := slices.Clone(entries)
	slices.Reverse(rev)
	hr := hostOf()
	hr.Entries = rev
	if got := sum(Judge(hr, nil)); !slices.Equal(got, sum(Judge(hostOf(entries...), nil))) {
		t.Errorf("unsorted entries judged differently: %q", got)
	}

	// uids in the policy turn learning off.
	fs = judgeT(t, hostOf(entries...), mustPolicy(t, "anonymous: {uids: [1001]}"), ftpaudit.RuleWritableDir, ftpaudit.RuleUploadOwner)
	eq(t, "uids given", sum(fs), []string{"critical writable-dir /writable"})
	fs = judgeT(t, hostOf(entries...), mustPolicy(t, "anonymous: {learn: false}"), ftpaudit.RuleWritableDir, ftpaudit.RuleUploadOwner)
	eq(t, "learn off", sum(fs), []string{"critical writable-dir /writable"})

	// The directory's own owner is not learned: the maintainer who owns
	// a world-writable directory and the files in it is not anonymous.
	fs = judgeT(t, hostOf(
		dirE("/pub", "drwxrwxrwx", "1000"),
		fileE("/pub/file", "-rw-r--r--", "1000", 1),
		dirE("/other", "drwxr-xr-x", "1000"),
	), nil, ftpaudit.RuleWritableDir, ftpaudit.RuleUploadOwner)
	eq(t, "own owner", sum(fs), []string{"critical writable-dir /pub"})

	// Learning from MLSD perm c on a directory that is not o+w.
	fs = judgeT(t, hostOf(
		withPerm(dirE("/in", "drwxr-xr-x", "0"), "flcdmpe"),
		fileE("/in/u", "-rw-r--r--", "nobody", 1),
		dirE("/nob", "drwxr-xr-x", "nobody"),
	), nil, ftpaudit.RuleWritableDir)
	eq(t, "perm learning", sum(fs), []string{"critical writable-dir /in", "critical writable-dir /nob"})
	hasEvidence(t, fs[1], "owner nobody owns uploads in /in: taken as the anonymous account")

	// Groups are learned the same way: uploads are 117:124, so a
	// group-writable directory of group 124 is writable.
	grp := []ftpaudit.Entry{
		dirE("/incoming", "drwxrwxrwx", "0:0"),
		fileE("/incoming/up", "-rw-r--r--", "117:124", 1),
		dirE("/pub", "drwxrwxr-x", "0:124"),
		dirE("/src", "drwxrwxr-x", "0:1000"),
	}
	fs = judgeT(t, hostOf(grp...), nil, ftpaudit.RuleWritableDir)
	eq(t, "group learning", sum(fs), []string{"critical writable-dir /incoming", "critical writable-dir /pub"})
	hasEvidence(t, fs[1], "group 124 owns uploads in /incoming: taken as the anonymous account's group", "mode drwxrwxr-x: the group may write")
	fs = judgeT(t, hostOf(grp...), mustPolicy(t, "anonymous: {gids: [50]}"), ftpaudit.RuleWritableDir)
	eq(t, "gids given", sum(fs), []string{"critical writable-dir /incoming"})
}

func TestAllOwnersFtpDowngrade(t *testing.T) {
	// vsftpd hide_ids: every owner and group shows as ftp.
	h := hostOf(
		dirE("/pub", "drwxr-xr-x", "ftp"),
		fileE("/pub/a.tar.gz", "-rw-r--r--", "ftp", 100),
		fileE("/pub/b.tar.gz", "-r--r--r--", "ftp", 100),
		dirE("/pub/sub", "dr-xr-xr-x", "ftp"),
		dirE("/open", "drwxrwxrwx", "ftp"),
		fileE("/open/x", "-rw-r--r--", "ftp", 1),
	)
	fs := judgeT(t, h, nil, ftpaudit.RuleWritableDir, ftpaudit.RuleUploadOwner, ftpaudit.RuleInWritableArea, ftpaudit.RuleWorldWritableFile)
	eq(t, "hide_ids", sum(fs), []string{
		"critical writable-dir /open",
		"medium in-writable-area /open/x",
		"low writable-dir /pub",
		"low upload-owner /pub/a.tar.gz",
		"low upload-owner /pub/b.tar.gz",
		"low upload-owner /pub/sub",
	})
	note := "6 of the 6 entries with an owner (100%) are shown as owned by the anonymous account: this server probably shows every owner that way (vsftpd hide_ids, proftpd DirFakeUser), so ownership is weak evidence here"
	hasEvidence(t, find(t, fs, ftpaudit.RuleUploadOwner, "/pub/a.tar.gz"), note)
	hasEvidence(t, find(t, fs, ftpaudit.RuleWritableDir, "/pub"), note+"; --probe decides")

	// The probe settles weak evidence: refused means not writable, and
	// no latent-writable either.
	h.Probes = []ftpaudit.ProbeResult{{Dir: "/pub", File: ftpaudit.ProbeStep{Tried: true, Reply: "553 no"}, Mkdir: ftpaudit.ProbeStep{Tried: true, Reply: "550 no"}}}
	fs = judgeT(t, h, nil, dirRules...)
	eq(t, "probed", sum(fs), []string{"critical writable-dir /open"})

	// Below 90% the owners are believed.
	h = hostOf(
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/a", "-rw-r--r--", "root", 1),
		fileE("/pub/welcome.msg", "-r--r--r--", "ftp", 1),
	)
	eq(t, "informative", sum(judgeT(t, h, nil, ftpaudit.RuleUploadOwner)), []string{"high upload-owner /pub/welcome.msg"})
}

func TestUploadOwner(t *testing.T) {
	proftpdLike := fileE("/pub/README", "-rw-r--r--", "ftp", 10)
	proftpdLike.Extra = &ftpaudit.EntryExtra{Facts: map[string]string{"unix.ownername": "ftp", "unix.owner": "0"}}
	tests := []struct {
		name   string
		es     []ftpaudit.Entry
		policy string
		want   []string
	}{
		{"ftp file outside areas", []ftpaudit.Entry{dirE("/pub", "drwxr-xr-x", "root"), fileE("/pub/x.zip", "-r--r--r--", "ftp", 1), fileE("/pub/y", "-r--r--r--", "root", 1)},
			"", []string{"high upload-owner /pub/x.zip"}},
		{"anonymous name", []ftpaudit.Entry{fileE("/x", "-r--r--r--", "anonymous", 1), fileE("/y", "-r--r--r--", "root", 1), fileE("/z", "-r--r--r--", "root", 1)},
			"", []string{"high upload-owner /x"}},
		{"inside writable area", []ftpaudit.Entry{dirE("/in", "drwxrwxrwx", "root"), fileE("/in/x", "-r--r--r--", "ftp", 1), fileE("/y", "-r--r--r--", "root", 1)},
			"", []string{}},
		{"inside declared drop box", []ftpaudit.Entry{dirE("/in", "drwxr-xr-x", "root"), fileE("/in/x", "-r--r--r--", "ftp", 1), fileE("/y", "-r--r--r--", "root", 1)},
			"drop_boxes: [/in]", []string{}},
		{"root uid wins over a faked name", []ftpaudit.Entry{proftpdLike, fileE("/y", "-r--r--r--", "root", 1)}, "", []string{}},
		{"custom anonymous name", []ftpaudit.Entry{fileE("/x", "-r--r--r--", "ftpuser", 1), fileE("/y", "-r--r--r--", "ftp", 1), fileE("/z", "-r--r--r--", "root", 1), fileE("/w", "-r--r--r--", "root", 1)},
			"hosts: [{match: '*', anonymous: {names: [ftpuser]}}]", []string{"high upload-owner /x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *Policy
			if tc.policy != "" {
				p = mustPolicy(t, tc.policy)
			}
			eq(t, "findings", sum(judgeT(t, hostOf(tc.es...), p, ftpaudit.RuleUploadOwner)), tc.want)
		})
	}
}

func TestWorldWritableFile(t *testing.T) {
	tests := []struct {
		name string
		e    ftpaudit.Entry
		want []string
		ev   []string
	}{
		{"others may write", fileE("/pub/NOTICE.txt", "-rw-rw-rw-", "root", 58), []string{"high world-writable-file /pub/NOTICE.txt"},
			[]string{"mode -rw-rw-rw-: others may write"}},
		{"read only", fileE("/pub/a", "-rw-r--r--", "root", 1), []string{}, nil},
		{"owner ftp may write", fileE("/pub/welcome.msg", "-rw-r--r--", "ftp", 1), []string{"high world-writable-file /pub/welcome.msg"},
			[]string{"owner ftp is the anonymous account", "mode -rw-r--r--: the owner may write"}},
		{"perm w", withPerm(fileE("/f", "-rw-r--r--", "root", 1), "adfrw"), []string{"high world-writable-file /f"},
			[]string{"MLSD perm=adfrw: the server grants write (w), append (a), delete (d), rename (f)"}},
		{"perm a", withPerm(fileE("/f", "-rw-r--r--", "root", 1), "ar"), []string{"high world-writable-file /f"}, nil},
		{"perm d and f only", withPerm(fileE("/f", "-rw-r--r--", "root", 1), "dfr"), []string{"medium world-writable-file /f"},
			[]string{"MLSD perm=dfr: the server grants delete (d), rename (f)"}},
		{"perm r", withPerm(fileE("/f", "-rw-r--r--", "root", 1), "r"), []string{}, nil},
		{"directory is not a file", dirE("/d", "drwxr-xr-x", "root"), []string{}, nil},
		{"symlink modes are not permissions", linkE("/l", "x"), []string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := []ftpaudit.Entry{tc.e, fileE("/z1", "-r--r--r--", "root", 1), fileE("/z2", "-r--r--r--", "root", 1)}
			fs := judgeT(t, hostOf(es...), nil, ftpaudit.RuleWorldWritableFile)
			eq(t, "findings", sum(fs), tc.want)
			if len(fs) > 0 {
				hasEvidence(t, fs[0], tc.ev...)
			}
		})
	}

	// Inside a writable area every upload is writable by its uploader:
	// in-writable-area carries the evidence instead.
	fs := judgeT(t, hostOf(
		dirE("/incoming", "drwxrwxrwx", "root"),
		withPerm(fileE("/incoming/x", "-rw-rw-rw-", "ftp", 1), "adfrw"),
		fileE("/z1", "-r--r--r--", "root", 1), fileE("/z2", "-r--r--r--", "root", 1),
	), nil, ftpaudit.RuleWorldWritableFile, ftpaudit.RuleInWritableArea)
	eq(t, "in area", sum(fs), []string{"medium in-writable-area /incoming/x"})
	eq(t, "in area evidence", fs[0].Evidence, []string{
		"in writable area /incoming (listable): 1 file, 0 directories, 1 B",
		"owner ftp is the anonymous account: uploaded by an anonymous user",
		"mode -rw-rw-rw-: others may write",
		"MLSD perm=adfrw: the server grants write (w), append (a), delete (d), rename (f)",
	})

	// proftpd grants a, d and f on every file whatever its mode: those
	// letters are weak evidence there, w is not.
	var es []ftpaudit.Entry
	for i := range 11 {
		es = append(es, withPerm(fileE(fmt.Sprintf("/f%02d", i), "-rw-r--r--", "root", 1), "adfr"))
	}
	es = append(es, withPerm(fileE("/ww", "-rw-rw-rw-", "root", 1), "adfrw"))
	fs = judgeT(t, hostOf(es...), nil, ftpaudit.RuleWorldWritableFile)
	want := []string{"high world-writable-file /ww"}
	for i := range 11 {
		want = append(want, fmt.Sprintf("low world-writable-file /f%02d", i))
	}
	eq(t, "uniform perm", sum(fs), want)
	hasEvidence(t, fs[1], "MLSD perm=adfr: the server grants append (a), delete (d), rename (f)",
		"the server grants append (a) on 12, delete (d) on 12, rename (f) on 12 of the 12 files it gave perm facts for: a server-wide setting rather than this file's permissions, so weak evidence")
}

func TestHiddenName(t *testing.T) {
	tests := []struct {
		name   string
		traits []string // substrings, one per evidence line, in order
	}{
		{"...", []string{"made only of dots and spaces"}},
		{". ", []string{"made only of dots and spaces"}},
		{"..  ", []string{"made only of dots and spaces"}},
		{"  ", []string{"made only of dots and spaces"}},
		{" ", []string{"made only of dots and spaces"}},
		{" lead", []string{"starts with white space"}},
		{"trail ", []string{"ends with white space"}},
		{" both ", []string{"starts with white space", "ends with white space"}},
		{"nbsp\u00a0", []string{"ends with white space"}},
		{"\x1b[31mURGENT\x1b[0m-read-me.txt", []string{`control characters (\x1b)`}},
		{"del\x7f", []string{`control characters (\x7f)`}},
		{"c1\u0085x", []string{`control characters (\u0085)`}},
		{"tab\tx", []string{`control characters (\t)`}},
		{"evil\u202etxt.exe", []string{"U+202E"}},
		{"zw\u200bsp", []string{"U+200B"}},
		{"iso\u2066x", []string{"U+2066"}},
		{"bom\ufeff", []string{"U+FEFF"}},
		{"soft\u00adhyphen", []string{"U+00AD"}},
		{"r\xe9sum\xe9.txt", []string{"not valid UTF-8"}},
		{"\xff\xfe.bin", []string{"not valid UTF-8"}},
		{"CON", []string{"Windows device name CON"}},
		{"nul.txt", []string{"Windows device name NUL"}},
		{"Com1.tar.gz", []string{"Windows device name COM1"}},
		{"lpt9", []string{"Windows device name LPT9"}},
		{"aux ", []string{"ends with white space", "Windows device name AUX"}},
		// ordinary names
		{".message", nil},
		{".hidden", nil},
		{".hiddendir", nil},
		{"..foo", nil},
		{"mid  dir", nil},
		{"café", nil},
		{"日本語.txt", nil},
		{"COM10", nil},
		{"console", nil},
		{"LPT0", nil},
		{"-rf", nil},
		{"star*name", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.name), func(t *testing.T) {
			fs := judgeT(t, hostOf(fileE("/pub/"+tc.name, "-r--r--r--", "root", 1)), nil, ftpaudit.RuleHiddenName)
			if tc.traits == nil {
				eq(t, "findings", sum(fs), []string{})
				return
			}
			eq(t, "findings", sum(fs), []string{"high hidden-name /pub/" + tc.name})
			if len(fs) != 1 {
				return
			}
			if len(fs[0].Evidence) != len(tc.traits) {
				t.Fatalf("evidence %q, want %d lines matching %q", fs[0].Evidence, len(tc.traits), tc.traits)
			}
			for i, tr := range tc.traits {
				if !strings.Contains(fs[0].Evidence[i], tr) {
					t.Errorf("evidence[%d] = %q, want it to contain %q", i, fs[0].Evidence[i], tr)
				}
			}
			for _, ev := range fs[0].Evidence {
				if strings.ContainsAny(ev, "\x1b\x7f\u202e\u200b") || !utf8Valid(ev) {
					t.Errorf("evidence carries the raw character: %q", ev)
				}
			}
		})
	}
	// Only the entry whose own name is hidden is reported.
	fs := judgeT(t, hostOf(dirE("/...", "drwxr-xr-x", "root"), fileE("/.../x", "-r--r--r--", "root", 1)), nil, ftpaudit.RuleHiddenName)
	eq(t, "own name", sum(fs), []string{"high hidden-name /..."})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "?") == s }

func TestInWritableArea(t *testing.T) {
	h := hostOf(
		dirE("/incoming", "drwxrwxrwx", "root:ftp"),
		fileE("/incoming/test.txt", "-rw-r--r--", "ftp", 0),
		dirE("/incoming/0day", "drwxr-xr-x", "ftp"),
		fileE("/incoming/0day/rlz.zip", "-rw-r--r--", "ftp", 52428800),
		dirE("/incoming/open", "drwxrwxrwx", "ftp"),
		fileE("/incoming/open/big.iso", "-rw-r--r--", "ftp", 4700372992),
		fileE("/incoming/open/unknown", "-rw-r--r--", "root", -1),
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/a", "-r--r--r--", "root", 1),
		fileE("/pub/b", "-r--r--r--", "root", 1),
		fileE("/pub/c", "-r--r--r--", "root", 1),
		fileE("/pub/d", "-r--r--r--", "root", 1),
	)
	fs := judgeT(t, h, nil, ftpaudit.RuleInWritableArea, ftpaudit.RuleWritableDir)
	eq(t, "findings", sum(fs), []string{
		"critical writable-dir /incoming",
		"critical writable-dir /incoming/0day",
		"critical writable-dir /incoming/open",
		"medium in-writable-area /incoming/0day/rlz.zip",
		"medium in-writable-area /incoming/open/big.iso",
		"medium in-writable-area /incoming/open/unknown",
		"medium in-writable-area /incoming/test.txt",
	})
	hasEvidence(t, fs[0], "contents: 4 files, 2 directories, 4.8 GB (and 1 file of unknown size)")
	hasEvidence(t, fs[1], "inside writable area /incoming")
	hasEvidence(t, find(t, fs, ftpaudit.RuleInWritableArea, "/incoming/open/big.iso"),
		"in writable area /incoming/open (listable): 2 files, 0 directories, 4.7 GB (and 1 file of unknown size)",
		"owner ftp is the anonymous account: uploaded by an anonymous user")
	if f := find(t, fs, ftpaudit.RuleInWritableArea, "/incoming/open/big.iso"); f.Size != 4700372992 {
		t.Errorf("size %d", f.Size)
	}
}

func TestSuspiciousName(t *testing.T) {
	tests := []struct {
		path   string
		policy string
		want   bool
		ev     string
	}{
		{"/pub/TEAM-RLZ.nfo", "", true, "name matches *.nfo: release info file that warez groups sign their uploads with"},
		{"/pub/release.SFV", "", true, "name matches *.sfv"},
		{"/pub/FILE_ID.DIZ", "", true, "name matches file_id.diz"},
		{"/pub/rlz-setup.r00", "", true, "name matches *.r[0-9][0-9]"},
		{"/pub/keygen.exe", "", true, `name contains the word "keygen": key generator: software piracy`},
		{"/pub/patch.exe", "", true, `an executable named "patch": how cracks are distributed`},
		{"/pub/Photoshop.Crack.zip", "", true, `name contains the word "crack"`},
		{"/pub/0day", "", true, `name contains the word "0day"`},
		{"/pub/tagged_by_xyz", "", true, `name contains the word "tagged"`},
		{"/pub/serial-key.txt", "", true, `name contains "serial key"`},
		{"/pub/.rhosts", "", true, "name matches .rhosts"},
		{"/.forward", "", true, "name matches .forward"},
		{"/home/.ssh", "", true, "name matches .ssh"},
		{"/home/authorized_keys", "", true, "name matches authorized_keys"},
		{"/incoming/Win10.iso", "", true, "name matches *.iso inside writable area /incoming: a disk image where an archive does not put them"},
		{"/pub/.../  /Win10.iso", "", true, `name matches *.iso inside hidden directory /pub/...: a disk image where an archive does not put them`},
		{"/dropbox/setup.EXE", "drop_boxes: [/dropbox]", true, "name matches *.exe inside drop box /dropbox (policy /dropbox)"},
		{"/incoming/.htaccess", "", true, "name matches .htaccess inside writable area /incoming"},
		{"/pub/x.torrent", "suspicious: [{name: '*.torrent', reason: sharing}]", true, "name matches *.torrent: policy: sharing"},
		{"/pub/x.torrent", "suspicious: [{name: '*.torrent', reason: sharing, upload_areas_only: true}]", false, ""},
		{"/incoming/x.TORRENT", "suspicious: [{name: '*.torrent', reason: sharing, upload_areas_only: true}]", true, "name matches *.torrent inside writable area /incoming: policy: sharing"},
		// legitimate archive content
		{"/pub/debian-12.iso", "", false, ""},
		{"/pub/win/putty.exe", "", false, ""},
		{"/pub/gnu/cracklib-2.9.tar.gz", "", false, ""},
		{"/pub/python/pyserial-3.5.tar.gz", "", false, ""},
		{"/pub/linux/patch-6.12.xz", "", false, ""},
		{"/pub/gnu/patch-2.7.tar.gz", "", false, ""},
		{"/pub/.htaccess", "", false, ""},
		{"/pub/README", "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			es := []ftpaudit.Entry{dirE("/incoming", "drwxrwxrwx", "root"), fileE(tc.path, "-rw-r--r--", "root", 1)}
			var p *Policy
			if tc.policy != "" {
				p = mustPolicy(t, tc.policy)
			}
			fs := judgeT(t, hostOf(es...), p, ftpaudit.RuleSuspiciousName)
			if !tc.want {
				eq(t, "findings", sum(fs), []string{})
				return
			}
			eq(t, "findings", sum(fs), []string{"high suspicious-name " + tc.path})
			if len(fs) == 1 && !slices.ContainsFunc(fs[0].Evidence, func(e string) bool { return strings.HasPrefix(e, tc.ev) }) {
				t.Errorf("evidence %q lacks %q", fs[0].Evidence, tc.ev)
			}
		})
	}
}

func TestReadableUpload(t *testing.T) {
	t.Run("probe downloaded the canary", func(t *testing.T) {
		h := withUnreadable(hostOf(dirE("/incoming", "drwx-wx-wt", "root")), "/incoming")
		h.Probes = []ftpaudit.ProbeResult{{Dir: "/incoming", Readable: true,
			File: ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "226 Transfer complete.", Removed: true, Path: "/incoming/ftpaudit-canary-20250101T000000Z-00000001.txt"}}}
		fs := judgeT(t, h, nil, ftpaudit.RuleReadableUpload)
		eq(t, "findings", sum(fs), []string{"high readable-upload /incoming"})
		eq(t, "evidence", fs[0].Evidence, []string{
			"probe: the canary uploaded to /incoming/ftpaudit-canary-20250101T000000Z-00000001.txt could be downloaded again",
			"probe: STOR accepted: 226 Transfer complete.",
			"the directory cannot be listed, but whoever knows a name can download it",
		})
	})
	t.Run("not readable", func(t *testing.T) {
		h := withUnreadable(hostOf(dirE("/incoming", "drwx-wx-wt", "root")), "/incoming")
		h.Probes = []ftpaudit.ProbeResult{{Dir: "/incoming", File: ftpaudit.ProbeStep{Tried: true, Accepted: true, Removed: true}}}
		eq(t, "findings", sum(judgeT(t, h, nil, ftpaudit.RuleReadableUpload)), []string{})
	})
	t.Run("listed files in a declared drop box", func(t *testing.T) {
		h := hostOf(
			dirE("/dropbox", "drwxrwxrwt", "root"),
			fileE("/dropbox/open.pdf", "-rw-r--r--", "ftp", 5),
			fileE("/dropbox/closed.pdf", "-rw-------", "ftp", 5),
			withPerm(fileE("/dropbox/perm.pdf", "", "", 5), "r"),
			fileE("/pub/x", "-rw-r--r--", "root", 1),
		)
		fs := judgeT(t, h, mustPolicy(t, "drop_boxes: [/dropbox]"), ftpaudit.RuleReadableUpload)
		eq(t, "findings", sum(fs), []string{"high readable-upload /dropbox/open.pdf", "high readable-upload /dropbox/perm.pdf"})
		eq(t, "evidence", fs[0].Evidence, []string{"in drop box /dropbox (policy /dropbox)", "mode -rw-r--r--: others may read"})
		eq(t, "evidence", fs[1].Evidence, []string{"in drop box /dropbox (policy /dropbox)", "MLSD perm=r: the server grants read (r)"})
	})
}

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

func TestUnreadableDir(t *testing.T) {
	h := hostOf(dirE("/bin", "d--x--x--x", "root"), dirE("/pub", "drwxr-xr-x", "root"))
	h.Unreadable = []ftpaudit.PathError{{Path: "/bin", Error: "226 Transfer done (but failed to open directory)."}}
	fs := judgeT(t, h, nil, ftpaudit.RuleUnreadableDir)
	eq(t, "findings", sum(fs), []string{"info unreadable-dir /bin"})
	eq(t, "evidence", fs[0].Evidence, []string{"server reply: 226 Transfer done (but failed to open directory)."})
	if fs[0].Size != 4096 {
		t.Errorf("size from the entry: %d", fs[0].Size)
	}
}

func TestSymlinkEscape(t *testing.T) {
	tests := []struct {
		path, target string
		want         []string
		ev           string
	}{
		{"/pub/linux/etc", "/etc", []string{"medium symlink-escape /pub/linux/etc"}, "target /etc is absolute: it resolves outside the archive unless the server chroots anonymous users"},
		{"/pub/linux/rootfs", "../../../..", []string{"high symlink-escape /pub/linux/rootfs"}, "target ../../../.., resolved from /pub/linux, climbs 2 levels above the archive root"},
		{"/links/escape-up", "../../..", []string{"high symlink-escape /links/escape-up"}, "target ../../.., resolved from /links, climbs 2 levels above the archive root"},
		{"/up", "..", []string{"high symlink-escape /up"}, "target .., resolved from /, climbs 1 level above the archive root"},
		{"/a/b/sneaky", "x/../../../..", []string{"high symlink-escape /a/b/sneaky"}, "climbs 1 level"},
		{"/pub/gnu/gnu", "../gnu", []string{}, ""},
		{"/a/b/root", "../..", []string{}, ""},
		{"/links/loop", ".", []string{}, ""},
		{"/pub/bash-latest.tar.gz", "bash-5.2.tar.gz", []string{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			fs := judgeT(t, hostOf(linkE(tc.path, tc.target)), nil, ftpaudit.RuleSymlinkEscape)
			eq(t, "findings", sum(fs), tc.want)
			if len(fs) == 1 && !strings.Contains(fs[0].Evidence[0], tc.ev) {
				t.Errorf("evidence %q lacks %q", fs[0].Evidence, tc.ev)
			}
		})
	}
	// A link without a known target is not judged.
	l := linkE("/x", "")
	eq(t, "no target", sum(judgeT(t, hostOf(l), nil, ftpaudit.RuleSymlinkEscape)), []string{})
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

func TestIgnoreAndOverrides(t *testing.T) {
	mk := func() *ftpaudit.HostResult {
		return hostOf(
			dirE("/incoming", "drwxrwxrwx", "root"),
			fileE("/incoming/a.nfo", "-rw-r--r--", "ftp", 1),
			dirE("/pub", "drwxr-xr-x", "root"),
			fileE("/pub/NOTICE", "-rw-rw-rw-", "root", 1),
		)
	}
	eq(t, "defaults", sum(judgeT(t, mk(), nil)), []string{
		"critical writable-dir /incoming",
		"high suspicious-name /incoming/a.nfo",
		"high world-writable-file /pub/NOTICE",
		"medium in-writable-area /incoming/a.nfo",
		"info anonymous-login /",
	})
	p := mustPolicy(t, `
ignore: ["/incoming/**"]
severity:
  world-writable-file: low
  anonymous-login: off
`)
	eq(t, "ignored and overridden", sum(judgeT(t, mk(), p)), []string{"low world-writable-file /pub/NOTICE"})
	p = mustPolicy(t, `hosts: [{match: "FTP://127.0.0.1:2121", ignore: ["/incoming/*.nfo"]}]`)
	eq(t, "per-host ignore, host case-insensitive", sum(judgeT(t, mk(), p)), []string{
		"critical writable-dir /incoming",
		"high world-writable-file /pub/NOTICE",
		"info anonymous-login /",
	})
}

func TestSortFindings(t *testing.T) {
	fs := []ftpaudit.Finding{
		{Host: "ftp://b:21", Path: "/a", Rule: "hidden-name", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/z", Rule: "unreadable-dir", Severity: ftpaudit.SevInfo},
		{Host: "ftp://a:21", Path: "/b", Rule: "writable-dir", Severity: ftpaudit.SevCritical},
		{Host: "ftp://a:21", Path: "/a", Rule: "upload-owner", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/a", Rule: "hidden-name", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/a b", Rule: "hidden-name", Severity: ftpaudit.SevHigh},
		{Host: "ftp://a:21", Path: "/", Rule: "anonymous-login", Severity: ftpaudit.SevInfo},
	}
	ftpaudit.SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %s %s %s", f.Severity, f.Host, f.Path, f.Rule))
	}
	eq(t, "order", got, []string{
		"critical ftp://a:21 /b writable-dir",
		"high ftp://a:21 /a hidden-name",
		"high ftp://a:21 /a upload-owner",
		"high ftp://a:21 /a b hidden-name",
		"high ftp://b:21 /a hidden-name",
		"info ftp://a:21 / anonymous-login",
		"info ftp://a:21 /z unreadable-dir",
	})
}

func TestRuleCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range ftpaudit.Rules {
		if seen[r.ID] || r.Explanation == "" || r.Action == "" {
			t.Errorf("rule %+v: duplicate or undocumented", r)
		}
		seen[r.ID] = true
		if got, ok := ftpaudit.RuleByID(r.ID); !ok || got.ID != r.ID {
			t.Errorf("RuleByID(%q)", r.ID)
		}
	}
	if _, ok := ftpaudit.RuleByID("nope"); ok {
		t.Error("RuleByID(nope) found")
	}
	if len(ftpaudit.Rules) != 20 {
		t.Errorf("%d rules", len(ftpaudit.Rules))
	}
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated blocks of docs/ from the code")

// rulesMarkdownTable is the rule table of docs/findings.md, from the
// catalogue ftpaudit.Rules.
func rulesMarkdownTable() string {
	var b strings.Builder
	b.WriteString("| rule | default severity | what it means | what to do |\n|---|---|---|---|\n")
	for _, r := range ftpaudit.Rules {
		b.WriteString("| `" + r.ID + "` | " + r.Severity.String() + " | " + r.Explanation + " | " + r.Action + " |\n")
	}
	return b.String()
}

// TestRulesDoc checks that docs/findings.md holds the rule catalogue as
// the code has it; go generate (-update-docs) rewrites it.
func TestRulesDoc(t *testing.T) {
	if err := docblock.Sync("../docs/findings.md", "rules", rulesMarkdownTable(), *updateDocs); err != nil {
		t.Error(err)
	}
}

// TestDemoLikeArchive judges an archive shaped like testdata/demo: every
// finding, exactly.
func TestDemoLikeArchive(t *testing.T) {
	h := withUnreadable(hostOf(
		fileE("/README", "-rw-r--r--", "root", 1893),
		dirE("/bin", "d--x--x--x", "root"),
		dirE("/etc", "d--x--x--x", "root"),
		dirE("/pub", "drwxr-xr-x", "root"),
		fileE("/pub/welcome.msg", "-rw-r--r--", "ftp", 312),
		fileE("/pub/NOTICE.txt", "-rw-rw-rw-", "root", 58),
		fileE("/pub/\x1b[31mURGENT\x1b[0m-read-me.txt", "-rw-r--r--", "root", 46),
		dirE("/pub/gnu", "drwxr-xr-x", "root"),
		linkE("/pub/gnu/gnu", "../gnu"),
		linkE("/pub/linux-etc", "/etc"),
		dirE("/incoming", "drwxrwxrwx", "root:ftp"),
		fileE("/incoming/test.txt", "-rw-r--r--", "ftp", 0),
		dirE("/incoming/0day", "drwxr-xr-x", "ftp"),
		fileE("/incoming/0day/file_id.diz", "-rw-r--r--", "ftp", 1262),
		fileE("/incoming/0day/keygen.exe", "-rw-r--r--", "ftp", 412672),
		dirE("/incoming/...", "drwxr-xr-x", "ftp"),
		dirE("/incoming/.../  ", "drwxr-xr-x", "ftp"),
		fileE("/incoming/.../  /Win10.Pro.x64.Activated.iso", "-rw-r--r--", "ftp", 4700372992),
		dirE("/dropbox", "drwx-wx-wt", "root:ftp"),
	), "/bin", "/etc", "/dropbox")
	h.Info.Banner = "220 demo"
	p := mustPolicy(t, "drop_boxes: [/dropbox]")
	got := sum(judgeT(t, h, p))
	eq(t, "demo", got, []string{
		"critical writable-dir /incoming",
		"critical writable-dir /incoming/...",
		"critical writable-dir /incoming/.../  ",
		"critical writable-dir /incoming/0day",
		"high hidden-name /incoming/...",
		"high hidden-name /incoming/.../  ",
		"high suspicious-name /incoming/.../  /Win10.Pro.x64.Activated.iso",
		"high suspicious-name /incoming/0day",
		"high suspicious-name /incoming/0day/file_id.diz",
		"high suspicious-name /incoming/0day/keygen.exe",
		"high hidden-name /pub/\x1b[31mURGENT\x1b[0m-read-me.txt",
		"high world-writable-file /pub/NOTICE.txt",
		"high upload-owner /pub/welcome.msg",
		"high world-writable-file /pub/welcome.msg",
		"medium in-writable-area /incoming/.../  /Win10.Pro.x64.Activated.iso",
		"medium in-writable-area /incoming/0day/file_id.diz",
		"medium in-writable-area /incoming/0day/keygen.exe",
		"medium in-writable-area /incoming/test.txt",
		"medium symlink-escape /pub/linux-etc",
		"info anonymous-login /",
		"info unreadable-dir /bin",
		"info dropbox-dir /dropbox",
		"info unreadable-dir /dropbox",
		"info unreadable-dir /etc",
	})
}

func TestPatternIndexEqualsTryingEachPattern(t *testing.T) {
	names := []string{"", ".", "..", "x.nfo", "nfo", ".nfo", "a.sfv.bak", "file_id.diz", "file_id.diz.txt",
		"a.r00", "a.r0", "a.r000", "a.rar", ".rhosts", "x.rhosts", "hosts.equiv", ".ssh", "authorized_keys",
		"id_rsa", "id_rsa.pub", ".htaccess", "a.exe", "a..exe", "exe", "setup.msi", "a.iso", "a.iso.gz",
		"vm.vmdk", "a.vhdx", "a.vhd", "caf\xc3\xa9.exe", "\xff.nfo", "a.tar.gz", "no-dot"}
	for _, np := range builtinNamePatterns {
		names = append(names, strings.ReplaceAll(strings.ReplaceAll(np.glob.Pattern, "*", "x"), "[0-9]", "7"))
	}
	for _, name := range names {
		lower := ascii.Lower(name)
		var want []int
		for i, np := range builtinNamePatterns {
			if np.glob.MatchLower(lower) {
				want = append(want, i)
			}
		}
		if got := builtinNameIndex.matches(lower, nil); !slices.Equal(got, want) {
			t.Errorf("%q: index gives %v, trying each pattern %v", name, got, want)
		}
	}
}
