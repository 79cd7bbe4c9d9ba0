package listing

// What pyftpdlib sends (issue 14): unix.mode written with Python's oct()
// ("0o755"), and MLSD lines that follow symlinks LIST shows as links.

import (
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

func TestMLSDPythonOctalMode(t *testing.T) {
	e, _, err := ParseMLSDLine("modify=20210304050607;perm=el;size=4096;type=dir;unique=fe00g98e060;unix.gid=0;unix.mode=0o733;unix.uid=0; incoming")
	if err != nil {
		t.Fatal(err)
	}
	if e.Mode != "drwx-wx-wx" || e.Name != "incoming" {
		t.Errorf("mode %q name %q, want drwx-wx-wx incoming", e.Mode, e.Name)
	}
	for _, bad := range []string{"0o", "0o9", "0x755", "o755"} {
		if _, _, err := ParseMLSDLine("type=dir;unix.mode=" + bad + "; x"); err == nil {
			t.Errorf("unix.mode=%s accepted", bad)
		}
	}
}

func TestMergeFollowedLinkKeepsItsOwnAttributes(t *testing.T) {
	m, _, err := ParseMLSDLine("modify=20261206151052;perm=elcm;size=4096;type=dir;unique=fe00g13;unix.gid=0;unix.mode=0o777;unix.uid=0; pubdir")
	if err != nil {
		t.Fatal(err)
	}
	l, _, _, err := ParseListLine("lrwxrwxrwx   1 root     root            6 Mar 04  2021 pubdir -> ../pub", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	merged, only, conflicts := Merge([]ftpaudit.Entry{m}, []ftpaudit.Entry{l})
	if len(merged) != 1 || len(only) != 0 || len(conflicts) != 1 {
		t.Fatalf("merged %+v only %q conflicts %q", merged, only, conflicts)
	}
	e := merged[0]
	if e.Type != ftpaudit.TypeLink || e.Target() != "../pub" || e.Size != 6 || e.Mode != "lrwxrwxrwx" ||
		e.Modified.Year() != 2021 || e.Unique() != "" || e.Perm() != "" || e.Facts() != nil {
		t.Errorf("merged %+v (target %q unique %q perm %q facts %v): want the link's own LIST attributes",
			e, e.Target(), e.Unique(), e.Perm(), e.Facts())
	}
	if e.Raw == "" || e.ListRaw() == "" {
		t.Errorf("raw lines lost: %q %q", e.Raw, e.ListRaw())
	}
}
