package rules

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

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
		// The only file with perm facts sets the server's pattern: its
		// letters are a fact about the server, its mode decides.
		{"perm w alone", withPerm(fileE("/f", "-rw-r--r--", "root", 1), "adfrw"), []string{"medium server-perm-facts /"},
			[]string{"the server's MLSD perm facts grant write (w), append (a), delete (d), rename (f) on at least 90% of the 1 file it gave perm facts for (3 files seen in all)"}},
		{"perm d and f alone", withPerm(fileE("/f", "-rw-r--r--", "root", 1), "dfr"), []string{"low server-perm-facts /"}, nil},
		{"perm w with mode w", withPerm(fileE("/f", "-rw-rw-rw-", "root", 1), "adfrw"), []string{"high world-writable-file /f"},
			[]string{"mode -rw-rw-rw-: others may write", "MLSD perm=adfrw: the server grants write (w), append (a), delete (d), rename (f)"}},
		{"perm r", withPerm(fileE("/f", "-rw-r--r--", "root", 1), "r"), []string{}, nil},
		{"directory is not a file", dirE("/d", "drwxr-xr-x", "root"), []string{}, nil},
		{"symlink modes are not permissions", linkE("/l", "x"), []string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := []ftpaudit.Entry{tc.e, fileE("/z1", "-r--r--r--", "root", 1), fileE("/z2", "-r--r--r--", "root", 1)}
			h := hostOf(es...)
			h.Stats.Files = 3
			fs := judgeT(t, h, nil, ftpaudit.RuleWorldWritableFile, ftpaudit.RuleServerPermFacts)
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
}

// proftpd grants a, d and f on every file whatever its mode (its perm
// facts come from its command rules): one server-perm-facts finding about
// the server, never one per file, and every file judged as it is judged
// when listed with LIST only. A file whose perm facts grant more than the
// pattern (w on a 0644 file) is judged by them.
func TestServerPermFacts(t *testing.T) {
	build := func(withFacts bool) *ftpaudit.HostResult {
		var es []ftpaudit.Entry
		add := func(e ftpaudit.Entry, perm string) {
			if withFacts {
				e = withPerm(e, perm)
			}
			es = append(es, e)
		}
		for i := range 200 {
			add(fileE(fmt.Sprintf("/pub/f%03d", i), "-rw-r--r--", "root", 1), "adfr")
		}
		add(fileE("/pub/ww", "-rw-rw-rw-", "root", 1), "adfrw")
		add(fileE("/pub/msg", "-rw-r--r--", "ftp", 1), "adfrw")
		h := hostOf(es...)
		h.Stats.Files = len(es)
		return h
	}
	wantRules := []string{ftpaudit.RuleWorldWritableFile, ftpaudit.RuleServerPermFacts}
	mlsd := judgeT(t, build(true), nil, wantRules...)
	list := judgeT(t, build(false), nil, wantRules...)
	eq(t, "MLSD", sum(mlsd), []string{"high world-writable-file /pub/msg", "high world-writable-file /pub/ww", "medium server-perm-facts /"})
	eq(t, "LIST only", sum(list), []string{"high world-writable-file /pub/msg", "high world-writable-file /pub/ww"})
	sp := find(t, mlsd, ftpaudit.RuleServerPermFacts, "/")
	eq(t, "server evidence", sp.Evidence, []string{
		"the server's MLSD perm facts grant append (a), delete (d), rename (f) on at least 90% of the 202 files it gave perm facts for (202 files seen in all)",
		"200 files of them give anonymous users no such right by mode and owner: /pub/f000 (perm=adfr, mode -rw-r--r--, owner root); /pub/f001 (perm=adfr, mode -rw-r--r--, owner root); /pub/f002 (perm=adfr, mode -rw-r--r--, owner root); ...",
		"a fact about the server, not about each file (proftpd derives perm from its command rules for the logged-in user, such as an anonymous upload rule): files are judged by their mode and owner, and by their own perm facts only where these grant more than this pattern",
	})

	// Against that pattern, w on a root-owned 0644 file is the file's own.
	h := build(true)
	for i := range h.Entries {
		if h.Entries[i].Path == "/pub/f007" {
			h.Entries[i] = withPerm(h.Entries[i], "adfrw")
		}
	}
	fs := judgeT(t, h, nil, wantRules...)
	eq(t, "outlier", sum(fs), []string{"high world-writable-file /pub/f007", "high world-writable-file /pub/msg", "high world-writable-file /pub/ww", "medium server-perm-facts /"})
	hasEvidence(t, find(t, fs, ftpaudit.RuleWorldWritableFile, "/pub/f007"),
		"MLSD perm=adfrw: the server grants write (w), append (a), delete (d), rename (f)",
		"unlike the server's other files, whose perm facts grant only append (a), delete (d), rename (f) of these: write (w) is this file's own")

	// Only some directories listed with MLSD (the default mode lists most
	// of the tree with LIST -aR): the same verdicts.
	h = build(false)
	for i := range 3 {
		h.Entries[i] = withPerm(h.Entries[i], "adfr")
	}
	fs = judgeT(t, h, nil, wantRules...)
	eq(t, "few facts", sum(fs), []string{"high world-writable-file /pub/msg", "high world-writable-file /pub/ww", "medium server-perm-facts /"})
}
