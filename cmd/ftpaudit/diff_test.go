package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/history"
)

// A drop box declared only in the hosts file (no --policy) lowers
// new-since-baseline the same way under diff --hosts as under scan --hosts
// --baseline, and neither lowers it without the hosts file.
func TestHostsFileDropBoxJudgesBaseline(t *testing.T) {
	url := demoServer(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	if code, _, stderr := runCLI(t, "scan", "--save", "--db", db, "--format", "json", "--quiet", url); code != exitFindings {
		t.Fatalf("scan: exit %d %s", code, stderr)
	}
	// Scan 2 is scan 1 without /pub/README: against it, the archive's
	// /pub/README is new.
	const upload = "/pub/README"
	withoutUpload(t, db, 1, upload)
	hosts := filepath.Join(dir, "hosts.yaml")
	writeFile(t, hosts, "version: 1\nhosts:\n  - url: "+url+"\n    drop_boxes: [/pub]\n", 0o644)

	for _, tc := range []struct {
		args []string
		sev  string
		code int
	}{
		{[]string{"diff", "2", "1"}, "high", exitFindings},
		{[]string{"diff", "--hosts", hosts, "2", "1"}, "low", exitClean},
		{[]string{"scan", "--quiet", "--baseline", "2", url}, "high", exitFindings},
		{[]string{"scan", "--quiet", "--hosts", hosts, "--baseline", "2"}, "low", exitFindings},
	} {
		code, out, stderr := runCLI(t, append(tc.args, "--db", db, "--format", "json")...)
		var got []string
		for _, f := range decode(t, out)["findings"].([]any) {
			fm := f.(map[string]any)
			if fm["rule"] == ftpaudit.RuleNewSinceBaseline {
				got = append(got, fmt.Sprint(fm["severity"], " ", fm["path"]))
			}
		}
		if want := []string{tc.sev + " " + upload}; !slices.Equal(got, want) || code != tc.code {
			t.Errorf("%q: exit %d, new-since-baseline %q; want exit %d, %q\nstderr %s", tc.args, code, got, tc.code, want, stderr)
		}
	}
}

// withoutUpload saves scan id again, without the entry at path, as the
// next scan.
func withoutUpload(t *testing.T, db string, id int64, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := history.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sc, err := st.Scan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.HostResult(ctx, sc.Hosts[0].ID, true)
	if err != nil {
		t.Fatal(err)
	}
	n := len(h.Entries)
	h.Entries = slices.DeleteFunc(h.Entries, func(e ftpaudit.Entry) bool { return e.Path == path })
	if len(h.Entries) != n-1 {
		t.Fatalf("scan %d has no %s", id, path)
	}
	h.Stats.Files--
	if _, err := st.Save(ctx, &ftpaudit.Result{Started: sc.Started, Finished: sc.Finished, Hosts: []*ftpaudit.HostResult{h}}, "test"); err != nil {
		t.Fatal(err)
	}
}
