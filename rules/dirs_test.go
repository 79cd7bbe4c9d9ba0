package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// dirRules are the rules of a directory's writability verdict.
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
		hasEvidence(t, fs[0], "probe: STOR not decided: 451 busy (a transient refusal (4xx) says nothing about permissions)", "probe: not completed here: connection lost during the probe")
	})
}

// Only a permanent refusal (5xx) of both canaries lowers a verdict: a
// transient one (452 Insufficient storage space), a full quota (552) or
// an error without a reply leaves it to the passive evidence, at its
// strength, and the evidence says the probe was inconclusive.
func TestProbeTransientRefusal(t *testing.T) {
	probe := func(dir, stor, mkd string) ftpaudit.ProbeResult {
		return ftpaudit.ProbeResult{Dir: dir, File: ftpaudit.ProbeStep{Tried: true, Reply: stor}, Mkdir: ftpaudit.ProbeStep{Tried: true, Reply: mkd}}
	}
	const inconclusive = "probe: inconclusive: only a permanent refusal (5xx) of both canaries settles that anonymous users cannot write, so the permissions decide"
	for _, tc := range []struct {
		name, stor, mkd string
		want            []string
		ev              []string
	}{
		{"452 to both", "452 Insufficient storage space", "452 Insufficient storage space",
			[]string{"critical writable-dir /incoming"},
			[]string{"probe: STOR not decided: 452 Insufficient storage space (a transient refusal (4xx) says nothing about permissions)",
				"probe: MKD not decided: 452 Insufficient storage space (a transient refusal (4xx) says nothing about permissions)", inconclusive}},
		{"as the session reports it", "stor ftpaudit-canary-20250101T000000Z-00000001.txt: 452 Insufficient storage space", "mkd ftpaudit-canary-20250101T000000Z-00000001.dir: 550 Permission denied",
			[]string{"critical writable-dir /incoming"}, []string{inconclusive}},
		{"552 quota", "552 Quota exceeded", "550 Permission denied",
			[]string{"critical writable-dir /incoming"},
			[]string{"probe: STOR not decided: 552 Quota exceeded (a full quota says nothing about permissions)", "probe: MKD refused: 550 Permission denied", inconclusive}},
		{"no reply", "stor x: connection lost: i/o timeout", "550 Permission denied",
			[]string{"critical writable-dir /incoming"}, []string{inconclusive}},
		{"5xx to both", "553 Could not create file.", "550 Permission denied",
			[]string{"medium latent-writable /incoming"}, []string{"probe: STOR refused: 553 Could not create file.", "probe: MKD refused: 550 Permission denied"}},
		{"5xx to both, legacy text", "stor x: 553 Could not create file.", "mkd x: 550 Permission denied",
			[]string{"medium latent-writable /incoming"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hostOf(dirE("/incoming", "drwxrwxrwx", "root"))
			h.Probes = []ftpaudit.ProbeResult{probe("/incoming", tc.stor, tc.mkd)}
			fs := judgeT(t, h, nil, dirRules...)
			eq(t, "findings", sum(fs), tc.want)
			if len(fs) == 1 {
				hasEvidence(t, fs[0], append(tc.ev, "mode drwxrwxrwx: others may write")...)
				if strings.HasPrefix(tc.want[0], "medium") && slices.Contains(fs[0].Evidence, inconclusive) {
					t.Errorf("a settled probe called inconclusive: %q", fs[0].Evidence)
				}
			}
		})
	}
	// Weak (ownership-only) evidence stays weak: low, not settled.
	h := hostOf(dirE("/up", "drwxr-xr-x", "ftp"), fileE("/up/a", "-rw-r--r--", "ftp", 1), fileE("/b", "-rw-r--r--", "ftp", 1))
	h.Probes = []ftpaudit.ProbeResult{probe("/up", "452 Insufficient storage space", "452 Insufficient storage space")}
	eq(t, "weak", sum(judgeT(t, h, nil, dirRules...)), []string{"low writable-dir /up"})
}

func TestReplyCode(t *testing.T) {
	for in, want := range map[string]int{
		"452 Insufficient storage space": 452, "550-Multi": 550, "550": 550,
		"stor a: 553 no": 553, "x: y: 421 bye": 421, "5500 no": 0, "abc": 0, "": 0,
		"stor a: connection lost: EOF": 0, "099 weird": 0,
	} {
		if got := replyCode(in); got != want {
			t.Errorf("replyCode(%q) = %d, want %d", in, got, want)
		}
	}
}

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
	hasEvidence(t, fs[0], "contents: 4 files, 2 directories, 4.4 GiB (and 1 file of unknown size)")
	hasEvidence(t, fs[1], "inside writable area /incoming")
	hasEvidence(t, find(t, fs, ftpaudit.RuleInWritableArea, "/incoming/open/big.iso"),
		"in writable area /incoming/open (listable): 2 files, 0 directories, 4.4 GiB (and 1 file of unknown size)",
		"owner ftp is the anonymous account: uploaded by an anonymous user")
	if f := find(t, fs, ftpaudit.RuleInWritableArea, "/incoming/open/big.iso"); f.Size != 4700372992 {
		t.Errorf("size %d", f.Size)
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
