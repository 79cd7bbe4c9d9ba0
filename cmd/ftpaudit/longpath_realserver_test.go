//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// plantDeep makes under top a chain of n directories, each named by
// its level and padded to 194 bytes, with keygen.exe at the bottom, and
// returns the chain's path below top. The chain is longer than PATH_MAX
// (4096), which os.MkdirAll cannot make, so each level is made relative
// to the one above it (as an uploader does with CWD and MKD).
func plantDeep(t *testing.T, top string, n int) string {
	t.Helper()
	if err := os.MkdirAll(top, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(top, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("d%02d", i) + strings.Repeat("0", 191)
		if err := syscall.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		next, err := syscall.Openat(fd, name, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		_ = syscall.Close(fd)
		if err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		fd = next
		rel = append(rel, name)
	}
	f, err := syscall.Openat(fd, "keygen.exe", syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL, 0o644)
	if err == nil {
		_, err = syscall.Write(f, []byte("x"))
		_ = syscall.Close(f)
	}
	_ = syscall.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(rel, "/")
}

// TestRealServersDeepPaths nests directories past the path limit, as an
// uploader who may create directories can, with a crack tool at the
// bottom. vsftpd and proftpd list a directory by joining its path and
// each name, and leave out, without a word, an entry whose joined path
// is too long (here the bottom directory); pyftpdlib, Twisted, pure-ftpd
// and inetutils refuse or fail in other ways. Whatever the server does,
// the scan must not say it is complete unless it shows keygen.exe: with
// the default --path-max (1024) and with Linux's 4096, every server's
// scan is incomplete, naming the listings too deep to prove (but for
// pyftpdlib with 4096, whose scan fails before, on its command limit).
func TestRealServersDeepPaths(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			name := fmt.Sprintf("zz-deep-%d", time.Now().UnixNano())
			top := filepath.Join(srv.Dir, name)
			t.Cleanup(func() { _ = os.RemoveAll(top) })
			chain := plantDeep(t, top, 22) // 22 × 195 bytes: 4,290 below top
			for _, pm := range []string{"", "4096"} {
				args := []string{"scan", "--format", "json", "--quiet", "--connections", "2"}
				if pm != "" {
					args = append(args, "--path-max", pm)
				}
				doc, code, stderr := rawScan(t, append(args, srv.URL+"/"+name)...)
				h := doc["hosts"].([]any)[0].(map[string]any)
				var inc []string
				for _, r := range asSlice(h["incomplete"]) {
					inc = append(inc, r.(string))
				}
				found := false
				for _, f := range asSlice(doc["findings"]) {
					p, _ := f.(map[string]any)["path"].(string)
					found = found || strings.HasSuffix(p, chain+"/keygen.exe")
				}
				if h["complete"] == true && !found {
					t.Fatalf("--path-max %q: complete, and keygen.exe at the bottom of the chain not shown", pm)
				}
				if h["complete"] == true || code != exitIncomplete {
					t.Errorf("--path-max %q: exit %d, complete %v, incomplete %q; stderr %s", pm, code, h["complete"], inc, stderr)
				}
				if pm != "" && strings.HasPrefix(srv.Name, "pyftpdlib") {
					// pyftpdlib answers "500 Command too long." past 2,048
					// bytes, before the chain reaches Linux's limit: an
					// error, which costs completeness on its own.
					continue
				}
				named := 0
				for _, e := range asSlice(h["errors"]) {
					if strings.Contains(e.(map[string]any)["error"].(string), "may be missing entries") {
						named++
					}
				}
				if !slices.Contains(inc, longPathReason) || named == 0 {
					t.Errorf("--path-max %q: incomplete %q, and %d directories named as too deep to prove: %v", pm, inc, named, h["errors"])
				}
			}
		})
	}
}

// asSlice is v as a JSON array, nil when it is not one.
func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// longPathReason is the Incomplete reason of listings too deep to prove.
const longPathReason = "listings of directories whose paths are too long to prove them whole (--path-max)"
