package rules

import (
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

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
