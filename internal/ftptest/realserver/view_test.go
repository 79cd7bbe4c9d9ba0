package realserver

import (
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// viewTree makes a small archive with symlinks in dir: a/f (3 bytes) and
// a/sub; link-a -> a; link-f -> a/f; bad/ holding a dangling link and a
// file; locked/ (0700, unreadable to ftp).
func viewTree(t *testing.T) string {
	t.Helper()
	if _, err := user.Lookup("ftp"); err != nil {
		t.Skip("no user ftp")
	}
	root := t.TempDir()
	for _, d := range []string{"a/sub", "bad", "locked"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a/f", "bad/g", "locked/h"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("abc"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for l, to := range map[string]string{"link-a": "a", "link-f": "a/f", "bad/dangling": "nowhere"} {
		if err := os.Symlink(to, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "locked"), 0o700); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestView(t *testing.T) {
	root := viewTree(t)
	types, sizes, unreadable, err := View(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/a": "dir", "/a/f": "file", "/a/sub": "dir", "/link-a": "link", "/link-f": "link",
		"/bad": "dir", "/bad/g": "file", "/bad/dangling": "link", "/locked": "dir"}
	if !reflect.DeepEqual(types, want) || !reflect.DeepEqual(unreadable, []string{"/locked"}) || sizes["/a/f"] != 3 || len(sizes) != 2 {
		t.Errorf("View: %v %v %v", types, sizes, unreadable)
	}
}

func TestViewFollowing(t *testing.T) {
	root := viewTree(t)
	types, sizes, unreadable, err := ViewFollowing(root)
	if err != nil {
		t.Fatal(err)
	}
	// link-a is a directory shown again below its name; link-f a file of
	// its target's size; bad, with a dangling link, cannot be listed.
	want := map[string]string{"/a": "dir", "/a/f": "file", "/a/sub": "dir", "/link-a": "dir", "/link-a/f": "file",
		"/link-a/sub": "dir", "/link-f": "file", "/bad": "dir", "/locked": "dir"}
	if !reflect.DeepEqual(types, want) || !reflect.DeepEqual(unreadable, []string{"/bad", "/locked"}) ||
		sizes["/link-f"] != 3 || sizes["/link-a/f"] != 3 || len(sizes) != 3 {
		t.Errorf("ViewFollowing: %v %v %v", types, sizes, unreadable)
	}

	// An endless tree, and a way out of the archive, are errors.
	for link, to := range map[string]string{"a/sub/up": "..", "a/out": "/"} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := ViewFollowing(root)
		if err == nil || !strings.Contains(err.Error(), "/"+link) {
			t.Errorf("%s -> %s: err %v", link, to, err)
		}
		_ = os.Remove(filepath.Join(root, link))
	}
}
