package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/realserver"
)

// recurseServers is the real servers (listServers) plus, when it runs,
// vsftpd with ls_recurse_enable=YES.
func recurseServers(t *testing.T) []realserver.Server {
	t.Helper()
	out := listServers(t)
	if srv, ok := realserver.Recurse(t); ok {
		out = append(out, srv)
	}
	return out
}

// TestRealServersRecursiveListing scans a tree built to defeat recursive
// listing (more entries than pure-ftpd's 10,000 cap, deeper than its
// 5-level limit, an unreadable directory, names with spaces and dots) on
// every real server, with recursive listing and without, and checks that
// both inventories equal the disk exactly, and that the coverage report
// says what each server did.
func TestRealServersRecursiveListing(t *testing.T) {
	for _, srv := range recurseServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			name := fmt.Sprintf("zz-rec-%d", time.Now().UnixNano())
			top := filepath.Join(srv.Dir, name)
			t.Cleanup(func() { _ = os.RemoveAll(top) })
			mk := func(p string, files int) {
				t.Helper()
				d := filepath.Join(top, p)
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				for i := range files {
					if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%05d.bin", i)), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			// More than pure-ftpd's 10,000-entry cap there; a few hundred
			// elsewhere (the other servers have no cap, and creating
			// files is most of this test's time).
			n := 300
			if srv.Name == "pureftpd" {
				n = 4000
			}
			mk("big/a", n)
			mk("big/b", n)
			mk("big/c/c1", n*3/4)
			mk("deep/l1/l2/l3/l4/l5/l6/l7", 1)
			mk("small/x y/ z /...", 2)
			mk("small/dots. ", 1)
			mk("small/locked/inside", 1)
			if err := os.Chmod(filepath.Join(top, "small/locked"), 0o700); err != nil {
				t.Fatal(err)
			}
			// What anonymous users can see: everything but what lies
			// inside the unreadable directory.
			want := map[string]bool{}
			err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(top, p)
				if rel == "." {
					return nil
				}
				want["/"+name+"/"+rel] = true
				if rel == "small/locked" {
					return filepath.SkipDir
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			url := srv.URL + "/" + name
			for _, mode := range []string{"", "--no-recursive-list"} {
				args := []string{"scan", "--inventory", "--format", "json", "--quiet", "--connections", "2"}
				if mode != "" {
					args = append(args, mode)
				}
				start := time.Now()
				doc, _, stderr := runJSON(t, append(args, url)...)
				t.Logf("%s: scan took %s", mode, time.Since(start))
				if len(doc.Hosts) != 1 {
					t.Fatalf("%s: %d hosts; stderr %s", mode, len(doc.Hosts), stderr)
				}
				h := doc.Hosts[0]
				if !h.Complete {
					t.Errorf("%s: not complete: %v %+v", mode, h.Incomplete, h.Errors)
				}
				var unreadable []string
				for _, u := range h.Unreadable {
					unreadable = append(unreadable, u.Path)
				}
				if !slices.Equal(unreadable, []string{"/" + name + "/small/locked"}) {
					t.Errorf("%s: unreadable %q, want only /%s/small/locked", mode, unreadable, name)
				}
				got := doc.paths(t)
				for p, n := range got {
					if n != 1 {
						t.Errorf("%s: %q reported %d times", mode, p, n)
					}
					if !want[p] {
						t.Errorf("%s: reported %q, which is not on disk", mode, p)
					}
				}
				missed := 0
				for p := range want {
					if got[p] == 0 {
						if missed++; missed <= 5 {
							t.Errorf("%s: missed %q", mode, p)
						}
					}
				}
				if missed > 5 {
					t.Errorf("%s: missed %d entries in all", mode, missed)
				}
				tree := h.Tree
				if mode != "" {
					if tree != nil {
						t.Errorf("%s: recursive_listing %+v, want none", mode, tree)
					}
					continue
				}
				// vsftpd ignores the R, pyftpdlib and Twisted refuse it
				// (listsRecursively).
				if !listsRecursively(srv.Name) {
					if tree == nil || tree.State != "unsupported" {
						t.Errorf("recursive_listing %+v, want unsupported", tree)
					}
					continue
				}
				if tree == nil || tree.State != "used" || tree.Covered == 0 {
					t.Fatalf("recursive_listing %+v, want used", tree)
				}
				cut, relisted := false, 0
				for _, s := range tree.Subtrees {
					if s.Via == "per-directory" && (strings.Contains(s.Reason, "cut") || strings.Contains(s.Reason, "cap")) {
						cut = true
					}
					relisted += s.Relisted
				}
				// inetutils writes ls's error for an unreadable directory
				// into the recursive listing (even inside another line):
				// the subtree holding it is listed per directory, which
				// trusts no section of it either.
				perDir := false
				for _, s := range tree.Subtrees {
					perDir = perDir || strings.HasSuffix(s.Path, "/small") && s.Via == "per-directory"
				}
				if relisted == 0 && !perDir {
					t.Errorf("no directory relisted, but %s/small/locked cannot have a trustworthy section: %+v", name, tree.Subtrees)
				}
				if srv.Name == "pureftpd" && !cut {
					// pure-ftpd cuts "LIST -R" at 10,000 entries (-L).
					t.Errorf("pure-ftpd's cut of /big went unnoticed: %+v", tree.Subtrees)
				}
			}
		})
	}
}
