package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// proftpdTree is an archive as proftpd lists it to an anonymous user
// under an anonymous upload rule: MLSD gives every root-owned 0644 file
// perm=adfr; LIST gives the modes. /pub also holds a disk image under a
// dot name, uploaded to a read-only mirror.
func proftpdTree(files int) faultftp.Tree {
	return func(dir string, mlsd bool) ([]string, bool) {
		type ent struct {
			name       string
			dir        bool
			size       int64
			perm, mode string
		}
		var es []ent
		switch dir {
		case "/":
			es = []ent{{name: "pub", dir: true, perm: "fle", mode: "0755"}, {name: "README", size: 10, perm: "adfr", mode: "0644"}}
		case "/pub":
			for i := range files {
				es = append(es, ent{name: fmt.Sprintf("file%03d.tar.gz", i), size: int64(100 + i), perm: "adfr", mode: "0644"})
			}
			es = append(es, ent{name: "writable.txt", size: 5, perm: "adfrw", mode: "0666"},
				ent{name: ".hidden-upload.iso", size: 700 << 20, perm: "adfr", mode: "0644"})
		default:
			return nil, false
		}
		lines := make([]string, len(es))
		for i, e := range es {
			if mlsd {
				typ := "file"
				if e.dir {
					typ = "dir"
				}
				lines[i] = fmt.Sprintf("modify=20240102030405;perm=%s;size=%d;type=%s;UNIX.group=0;UNIX.groupname=ftp;UNIX.mode=%s;UNIX.owner=0;UNIX.ownername=ftp; %s", e.perm, e.size, typ, e.mode, e.name)
				continue
			}
			m := "-rw-r--r--"
			switch {
			case e.dir:
				m = "drwxr-xr-x"
			case e.mode == "0666":
				m = "-rw-rw-rw-"
			}
			lines[i] = fmt.Sprintf("%s    1 root     root     %12d Jan 02  2024 %s", m, e.size, e.name)
		}
		return lines, true
	}
}

// Item 14 of issue 13: proftpd's perm=adfr on every root-owned 0644 file
// is one server-perm-facts finding about the server, never one finding
// per file, and every file is judged the same in every listing mode.
// Item 15: a dot-named disk image in a read-only mirror is flagged.
func TestPermFactsCalibration(t *testing.T) {
	srv, err := faultftp.Start(faultftp.Options{Tree: proftpdTree(120), MLSD: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	want := []string{
		"high hidden-name /pub/.hidden-upload.iso",
		"high world-writable-file /pub/writable.txt",
		"medium server-perm-facts /",
	}
	for _, mode := range [][]string{nil, {"--no-recursive-list"}, {"--no-mlsd"}} {
		args := append([]string{"scan", "--format", "json", "--quiet", "--connections", "2"}, mode...)
		code, out, stderr := runCLI(t, append(args, srv.URL("/"))...)
		var got []string
		for _, f := range decode(t, out)["findings"].([]any) {
			fm := f.(map[string]any)
			if fm["severity"] != "info" {
				got = append(got, fmt.Sprint(fm["severity"], " ", fm["rule"], " ", fm["path"]))
			}
		}
		slices.Sort(got)
		w := want
		if slices.Contains(mode, "--no-mlsd") {
			w = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return strings.Contains(s, "server-perm-facts") })
		}
		if !slices.Equal(got, w) || code != exitFindings {
			t.Errorf("%q: exit %d\n got %q\nwant %q\nstderr %s", mode, code, got, w, stderr)
		}
	}
}
