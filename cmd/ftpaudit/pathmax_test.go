package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

// --path-max and the hosts file's path_max reach the walk: a chain of
// three 200-byte names (a directory path of 603 bytes) is too deep to
// prove under the default 1024, and not under Linux's 4096.
func TestPathMaxFlagAndHostsKey(t *testing.T) {
	n := strings.Repeat("n", 200)
	spec := fmt.Sprintf("drwxr-xr-x root root 4096 %q\ndrwxr-xr-x root root 4096 %q\ndrwxr-xr-x root root 4096 %q\n-rw-r--r-- root root 3 %q\n",
		"/"+n, "/"+n+"/"+n, "/"+n+"/"+n+"/"+n, "/"+n+"/"+n+"/"+n+"/f.txt")
	srv := serveSpec(t, []byte(spec), memftp.Options{})
	url := "ftp://" + srv.Addr + "/"
	hosts := filepath.Join(t.TempDir(), "hosts.yaml")
	writeFile(t, hosts, "version: 1\nhosts:\n  - url: "+url+"\n    path_max: 4096\n", 0o644)
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{url}, exitIncomplete},
		{[]string{"--path-max", "4096", url}, exitClean},
		{[]string{"--hosts", hosts}, exitClean},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"scan", "--quiet", "--format", "json"}, c.args...)...)
		if code != c.want {
			t.Errorf("%v: exit %d, want %d; %s", c.args, code, c.want, stderr)
		}
		if c.want == exitIncomplete && !strings.Contains(stdout, "listings of directories whose paths are too long to prove them whole") {
			t.Errorf("%v: the reason is not in the report:\n%s", c.args, stdout)
		}
	}
	if code, _, stderr := runCLI(t, "scan", "--path-max", "512", url); code != exitUsage || !strings.Contains(stderr, "--path-max 512: want more than 512") {
		t.Errorf("--path-max 512: exit %d, %s", code, stderr)
	}
}
