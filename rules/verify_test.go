package rules

import (
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// A rescan proves a finding gone only where it listed the directory that
// holds it, and ran the check that raised it.
func TestRescanUnproven(t *testing.T) {
	h := hostOf(
		dirE("/pub", "drwxr-xr-x", "root"),
		dirE("/pub/locked", "drwx------", "root"),
		dirE("/pub/same", "drwxr-xr-x", "root"),
		fileE("/pub/README", "-rw-r--r--", "root", 1),
	)
	h.Target.Start = "/"
	h.Unreadable = []ftpaudit.PathError{{Path: "/pub/locked", Error: "550 Permission denied"}}
	h.NotListed = []ftpaudit.Unlisted{{Path: "/pub/same", Kind: ftpaudit.UnlistedSame}}
	h.Probes = []ftpaudit.ProbeResult{{Dir: "/pub", File: ftpaudit.ProbeStep{Tried: true, Reply: "553 no"}}}
	h.Fetched = []ftpaudit.FetchedFile{{Path: "/etc/passwd", Data: []byte("root:x:0:0::/:\n")}}
	before := &ftpaudit.HostResult{Probes: []ftpaudit.ProbeResult{{Dir: "/incoming", File: ftpaudit.ProbeStep{Tried: true, Accepted: true}}}}
	f := func(rule, path string) ftpaudit.Finding { return ftpaudit.Finding{Rule: rule, Path: path} }
	for _, tc := range []struct {
		name, baselineWhy string
		f                 ftpaudit.Finding
		want              string // "" for proven gone
	}{
		{"file in a listed directory", "", f(ftpaudit.RuleSuspiciousName, "/pub/keygen.exe"), ""},
		{"whole subtree gone, parent listed", "", f(ftpaudit.RuleHiddenName, "/pub/x/y/.iso"), ""},
		{"in an unreadable directory", "", f(ftpaudit.RuleHiddenName, "/pub/locked/.iso"), "the rescan could not list /pub/locked"},
		{"below an unreadable directory", "", f(ftpaudit.RuleHiddenName, "/pub/locked/a/b"), "the rescan could not list /pub/locked"},
		{"in a directory not listed as the same as another", "", f(ftpaudit.RuleHiddenName, "/pub/same/x"), "the rescan could not list /pub/same"},
		{"the unreadable directory itself", "", f(ftpaudit.RuleUnreadableDir, "/pub/locked"), ""},
		{"host-wide", "", f(ftpaudit.RuleAnonymousLogin, "/"), ""},
		{"baseline compared", "", f(ftpaudit.RuleChangedSinceBaseline, "/pub/README"), ""},
		{"baseline not compared", "scan 2 was not compared with a baseline", f(ftpaudit.RuleChangedSinceBaseline, "/pub/README"), "scan 2 was not compared with a baseline"},
		{"manifest not used", "", f(ftpaudit.RuleNotInManifest, "/pub/README"), "the rescan compared with no published index (run verify with --manifest)"},
		{"latent needs the probe", "", f(ftpaudit.RuleLatentWritable, "/pub/locked"), "it rests on the probe, and the rescan did not probe there (run verify with --probe)"},
		{"latent probed again", "", f(ftpaudit.RuleLatentWritable, "/pub"), ""},
		{"writable on the probe", "", f(ftpaudit.RuleWritableDir, "/incoming"), "the earlier finding rested on the probe, and the rescan did not probe there (run verify with --probe)"},
		{"writable on the mode", "", f(ftpaudit.RuleWritableDir, "/pub/up"), ""},
		{"passwd downloaded again", "", f(ftpaudit.RulePasswdHashes, "/etc/passwd"), ""},
		{"server-wide perm facts, none seen", "", f(ftpaudit.RuleServerPermFacts, "/"), "the rescan saw no MLSD perm facts (the server listed without MLSD, or --no-mlsd)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range representations {
				if got := NewRescan(r.of(h), before, tc.baselineWhy).Unproven(tc.f); got != tc.want {
					t.Errorf("from %s: Unproven(%s %s) = %q, want %q", r.name, tc.f.Rule, tc.f.Path, got, tc.want)
				}
			}
		})
	}
	sub := *h
	sub.Target.Start = "/pub"
	if got := NewRescan(&sub, nil, "").Unproven(f(ftpaudit.RuleHiddenName, "/other/x")); got != "outside the rescan's start directory" {
		t.Errorf("outside the start: %q", got)
	}
	failed := *h
	failed.LoginError = "530 Login incorrect"
	if got := NewRescan(&failed, nil, "").Unproven(f(ftpaudit.RuleHiddenName, "/pub/x")); got != "the rescan could not log in" {
		t.Errorf("no login: %q", got)
	}
}
