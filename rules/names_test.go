package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
)

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
		{"\x1b[31mURGENT\x1b[0m-read-me.txt", []string{`control characters (U+001B)`}},
		{"del\x7f", []string{`control characters (U+007F)`}},
		{"c1\u0085x", []string{`control characters (U+0085)`}},
		{"tab\tx", []string{`control characters (U+0009)`}},
		{"two\x1b\a\x1b", []string{`control characters (U+001B U+0007)`}},
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
			// Evidence is raw text that the report escapes once: the
			// characters are named by code point, never escaped here.
			for _, ev := range fs[0].Evidence {
				if strings.Contains(ev, `\`) {
					t.Errorf("evidence escapes: %q", ev)
				}
			}
		})
	}
	// Only the entry whose own name is hidden is reported.
	fs := judgeT(t, hostOf(dirE("/...", "drwxr-xr-x", "root"), fileE("/.../x", "-r--r--r--", "root", 1)), nil, ftpaudit.RuleHiddenName)
	eq(t, "own name", sum(fs), []string{"high hidden-name /..."})
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

// A dot-named disk image, executable, archive or large file outside the
// dot names archives use is an unexpected upload in a read-only mirror:
// high with the disk-image or executable signal, medium otherwise.
func TestHiddenDotUpload(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name string
		size int64
		want []string
		ev   string
	}{
		{".hidden-upload.iso", 700 * mib, []string{"high hidden-name /pub/.hidden-upload.iso"}, "a disk image (*.iso) under a dot name"},
		{".X.IMG", 10, []string{"high hidden-name /pub/.X.IMG"}, "a disk image (*.img) under a dot name"},
		{".setup.exe", 10, []string{"high hidden-name /pub/.setup.exe"}, "an executable (*.exe) under a dot name"},
		{".cache.tar.gz", 10, []string{"medium hidden-name /pub/.cache.tar.gz"}, "an archive (*.gz) under a dot name"},
		{".blob", 2 * mib, []string{"medium hidden-name /pub/.blob"}, "2097152 bytes (2.0 MiB): large for a dot file"},
		{".blob", mib - 1, []string{}, ""},
		{".profile", 10, []string{}, ""},
		{".message", 2 * mib, []string{}, ""},
		{".listing", 5 * mib, []string{}, ""},
		{".DS_Store", 2 * mib, []string{}, ""},
		{"visible.iso", 700 * mib, []string{}, ""},
		{"..", 700 * mib, []string{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hostOf(dirE("/pub", "drwxr-xr-x", "root"), fileE("/pub/"+tc.name, "-rw-r--r--", "root", tc.size))
			fs := judgeT(t, h, nil, ftpaudit.RuleHiddenName)
			eq(t, "findings", sum(fs), tc.want)
			if len(fs) == 1 {
				hasEvidence(t, fs[0], tc.ev, fmt.Sprintf("name %q starts with a dot: ls and most clients do not show it, and it is not a dot name archives use (.message, .listing, .htaccess, ...)", tc.name))
			}
		})
	}
	// A directory is not a file upload; a dot-named disk image is judged
	// the same wherever it is.
	h := hostOf(dirE("/pub", "drwxr-xr-x", "root"), dirE("/pub/.stuff.iso", "drwxr-xr-x", "root"))
	eq(t, "directory", sum(judgeT(t, h, nil, ftpaudit.RuleHiddenName)), []string{})
}
