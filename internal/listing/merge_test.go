package listing

import (
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

// mergeText parses one directory's MLSD and LIST -a listings, given as
// literal text, and merges them.
func mergeText(t *testing.T, mlsd, list string) ([]ftpaudit.Entry, []string, []string) {
	t.Helper()
	me, bad := ParseText(mlsd, true, seeds.Now)
	if len(bad) > 0 {
		t.Fatalf("MLSD: %+v", bad)
	}
	le, bad := ParseText(list, false, seeds.Now)
	if len(bad) > 0 {
		t.Fatalf("LIST: %+v", bad)
	}
	return Merge(me, le)
}

func byName(es []ftpaudit.Entry, name string) []ftpaudit.Entry {
	var out []ftpaudit.Entry
	for _, e := range es {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Where MLSD and LIST -a disagree on what a name exposes, the merged
// entry is the reading that exposes more, both lines are kept, and the
// disagreement is reported with both readings.
func TestMergeDisagreement(t *testing.T) {
	const (
		mlsdFile = "type=file;size=4096;modify=20240102030405;UNIX.mode=0755;UNIX.owner=0;UNIX.group=0; incoming"
		listDir  = "drwxrwxrwx    2 0        0            4096 Jan 02  2024 incoming"
		mlsdEl   = "type=dir;size=4096;modify=20240102030405;perm=el;UNIX.mode=0755;UNIX.owner=0;UNIX.group=0; upload"
		listW    = "drwxrwxrwx    2 0        0            4096 Jan 02  2024 upload"
		mlsdDir  = "type=dir;size=4096;modify=20240102030405;perm=flcdmpe;UNIX.mode=0777;UNIX.owner=14;UNIX.group=50; pub"
		listFile = "-rw-r--r--    1 ftp      ftp          4096 Jan 02  2024 pub"
		mlsdSame = "type=file;size=64;modify=20240102030405;perm=adfr;UNIX.mode=0644;UNIX.owner=0;UNIX.group=0; README"
		listSame = "-rw-r--r--    1 root     root           64 Jan 02 03:04 README"
		mlsdLink = "type=dir;size=4096;modify=20240102030405;UNIX.mode=0755; pubdir"
		listLink = "lrwxrwxrwx    1 0        0               6 Jan 02  2024 pubdir -> ../pub"
		mlsdMix  = "type=dir;size=4096;modify=20240102030405;UNIX.mode=01733; drop"
		listMix  = "drwxr-x--T    2 0        0            4096 Jan 02  2024 drop"
	)
	mlsd := strings.Join([]string{mlsdFile, mlsdEl, mlsdDir, mlsdSame, mlsdLink, mlsdMix}, "\r\n") + "\r\n"
	list := strings.Join([]string{listDir, listW, listFile, listSame, listLink, listMix}, "\r\n") + "\r\n"
	merged, only, conflicts := mergeText(t, mlsd, list)
	if len(merged) != 6 || len(only) != 0 {
		t.Fatalf("merged %d entries, only in LIST %q", len(merged), only)
	}
	cases := []struct {
		name, mlsdRaw, listRaw string
		typ                    ftpaudit.EntryType
		mode, perm             string
		conflict               bool
	}{
		// MLSD type=file against a LIST "d" line: a directory, walked.
		{"incoming", mlsdFile, listDir, ftpaudit.TypeDir, "drwxrwxrwx", "", true},
		// MLSD 0755 with perm=el against LIST drwxrwxrwx: the wider mode.
		{"upload", mlsdEl, listW, ftpaudit.TypeDir, "drwxrwxrwx", "el", true},
		// MLSD dir against a LIST file: still a directory; the mode
		// MLSD gave already grants all LIST does.
		{"pub", mlsdDir, listFile, ftpaudit.TypeDir, "drwxrwxrwx", "flcdmpe", true},
		// Owner names against ids and times at different precision are
		// not a disagreement.
		{"README", mlsdSame, listSame, ftpaudit.TypeFile, "-rw-r--r--", "adfr", false},
		// A link in either listing stays a link (never followed), and
		// the disagreement is reported.
		{"pubdir", mlsdLink, listLink, ftpaudit.TypeLink, "lrwxrwxrwx", "", true},
		// Modes that do not contain each other: every bit either grants
		// (x from MLSD with LIST's sticky mark gives t).
		{"drop", mlsdMix, listMix, ftpaudit.TypeDir, "drwxrwx-wt", "", true},
	}
	n := 0
	for _, c := range cases {
		es := byName(merged, c.name)
		if len(es) != 1 {
			t.Errorf("%s: %d entries", c.name, len(es))
			continue
		}
		e := es[0]
		if e.Type != c.typ || e.Mode != c.mode || e.Perm() != c.perm || e.Raw != c.mlsdRaw || e.ListRaw() != c.listRaw {
			t.Errorf("%s: type %s mode %q perm %q raw %q list raw %q; want %s %q %q %q %q",
				c.name, e.Type, e.Mode, e.Perm(), e.Raw, e.ListRaw(), c.typ, c.mode, c.perm, c.mlsdRaw, c.listRaw)
		}
		var found []string
		for _, w := range conflicts {
			if strings.Contains(w, `"`+c.name+`"`) {
				found = append(found, w)
			}
		}
		if !c.conflict {
			if len(found) > 0 {
				t.Errorf("%s: reported %q", c.name, found)
			}
			continue
		}
		n++
		if len(found) != 1 || !strings.Contains(found[0], c.mlsdRaw) || !strings.Contains(found[0], c.listRaw) ||
			!strings.Contains(found[0], "taken as "+c.typ.String()+" "+c.mode) {
			t.Errorf("%s: disagreement reported as %q; want both lines and the reading taken", c.name, found)
		}
	}
	if len(conflicts) != n {
		t.Errorf("%d disagreements reported, want %d: %q", len(conflicts), n, conflicts)
	}
}

// Nothing either listing shows is dropped: names only one shows, and a
// name LIST shows more often than MLSD, each keep their lines.
func TestMergeKeepsEveryLine(t *testing.T) {
	mlsd := "type=file;size=1;modify=20240102030405;UNIX.mode=0644; a\r\n" +
		"type=dir;size=1;modify=20240102030405;UNIX.mode=0755; only-mlsd\r\n" +
		"type=file;size=1;modify=20240102030405;UNIX.mode=0644; twice\r\n"
	list := "-rw-r--r--    1 0        0               1 Jan 02  2024 a\r\n" +
		"-rw-r--r--    1 0        0               1 Jan 02  2024 twice\r\n" +
		"drwxrwxrwx    2 0        0               1 Jan 02  2024 twice\r\n" +
		"lrwxrwxrwx    1 0        0               1 Jan 02  2024 dangling -> nowhere\r\n"
	merged, only, conflicts := mergeText(t, mlsd, list)
	if len(only) != 1 || only[0] != "dangling" || len(conflicts) != 0 {
		t.Errorf("only in LIST %q, disagreements %q", only, conflicts)
	}
	var lines []string
	for _, e := range merged {
		for _, r := range []string{e.Raw, e.ListRaw()} {
			if r != "" {
				lines = append(lines, r)
			}
		}
	}
	for _, l := range append(strings.Split(strings.TrimSpace(mlsd), "\r\n"), strings.Split(strings.TrimSpace(list), "\r\n")...) {
		if !slices.Contains(lines, l) {
			t.Errorf("line %q dropped", l)
		}
	}
	if tw := byName(merged, "twice"); len(tw) != 2 || tw[1].Type != ftpaudit.TypeDir || tw[1].Raw != "" {
		t.Errorf("the name listed twice: %+v", tw)
	}
	if d := byName(merged, "dangling"); len(d) != 1 || d[0].Raw != "" || d[0].Target() != "nowhere" {
		t.Errorf("the name only LIST shows: %+v", d)
	}
	// MLSD lists a name twice, LIST once: both MLSD entries stay; the
	// LIST line goes with the first.
	merged, _, _ = mergeText(t, mlsd+"type=file;size=1;modify=20240102030405;UNIX.mode=0644; a\r\n",
		"-rw-r--r--    1 0        0               1 Jan 02  2024 a\r\n")
	if a := byName(merged, "a"); len(a) != 2 || a[0].ListRaw() == "" || a[1].ListRaw() != "" {
		t.Errorf("MLSD's name listed twice: %+v", a)
	}
}

func TestUnionMode(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"drwxr-xr-x", "drwxr-xr-x", "drwxr-xr-x"},
		{"drwxr-xr-x", "drwxrwxrwx", "drwxrwxrwx"},
		{"drwx------", "d------rwx", "drwx---rwx"},
		{"drwxr-sr-x", "drwxrwSr-T", "drwxrwsr-t"},
		{"-rwSr--r--", "-rw-r--r-x", "-rwSr--r-x"},
		{"drwxr-xr-x+", "drwxrwxr-x", "drwxrwxr-x+"},
		{"drwxr-xr-x", "dr?xr-xr-x", ""},
		{"drwx", "drwxr-xr-x", ""},
	} {
		got, ok := unionMode(c.a, c.b)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("unionMode(%q, %q) = %q, %v; want %q", c.a, c.b, got, ok, c.want)
		}
	}
}

// FuzzMerge merges any two listings: every line either one gave is kept
// (in Raw or ListRaw), a name either calls a directory is a directory
// unless either calls it a link, and a merged mode grants every
// permission bit either reading's mode grants.
func FuzzMerge(f *testing.F) {
	f.Add("type=file;UNIX.mode=0755; incoming\r\ntype=dir;perm=el;UNIX.mode=0755; upload\r\n",
		"drwxrwxrwx    2 0        0            4096 Jan 02  2024 incoming\r\ndrwxrwxrwx    2 0        0            4096 Jan 02  2024 upload\r\n")
	f.Add("type=dir;UNIX.mode=01733; drop\r\ntype=file; a\r\ntype=file; a\r\n",
		"drwxr-x--T    2 0        0            4096 Jan 02  2024 drop\r\n-rw-r--r--    1 0        0               1 Jan 02  2024 a\r\nlrwxrwxrwx    1 0        0               1 Jan 02  2024 l -> x\r\n")
	f.Fuzz(func(t *testing.T, mlsd, list string) {
		me, _ := ParseText(mlsd, true, seeds.Now)
		le, _ := ParseText(list, false, seeds.Now)
		readings := map[string][]ftpaudit.Entry{}
		var lines []string
		for _, e := range append(slices.Clone(me), le...) {
			readings[e.Name] = append(readings[e.Name], e)
			lines = append(lines, e.Raw)
		}
		merged, _, _ := Merge(slices.Clone(me), slices.Clone(le))
		var kept []string
		for _, e := range merged {
			kept = append(kept, e.Raw, e.ListRaw())
			rs := readings[e.Name]
			dir, link := false, false
			for _, r := range rs {
				dir = dir || r.Type == ftpaudit.TypeDir
				link = link || r.Type == ftpaudit.TypeLink
			}
			if dir && !link && e.Type != ftpaudit.TypeDir {
				t.Fatalf("%q: %s, though a reading says dir: %+v", e.Name, e.Type, rs)
			}
			for _, r := range rs {
				if len(e.Mode) < 10 || len(r.Mode) < 10 || e.Raw != r.Raw && e.ListRaw() != r.Raw {
					continue
				}
				if u, ok := unionMode(e.Mode, r.Mode); ok && u[1:10] != e.Mode[1:10] {
					t.Fatalf("%q: mode %q does not grant all of %q", e.Name, e.Mode, r.Mode)
				}
			}
		}
		for _, l := range lines {
			if !slices.Contains(kept, l) {
				t.Fatalf("line %q dropped", l)
			}
		}
	})
}
