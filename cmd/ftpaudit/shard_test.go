package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

// shardTargets are n distinct targets of every form a TARGET takes:
// schemes, users, ports, IPv6, start directories.
func shardTargets(t *testing.T, n int) []ftpaudit.Target {
	t.Helper()
	var out []ftpaudit.Target
	for i := 0; len(out) < n; i++ {
		var raw string
		switch i % 6 {
		case 0:
			raw = fmt.Sprintf("ftp://ftp%d.example.org/", i)
		case 1:
			raw = fmt.Sprintf("ftps://mirror@mirror%d.example.net:2121/pub", i)
		case 2:
			raw = fmt.Sprintf("ftp://[2001:db8::%x]/", i)
		case 3:
			raw = fmt.Sprintf("ftps-implicit://archive.example.com:%d/", 1000+i)
		case 4:
			raw = fmt.Sprintf("ftp://10.0.%d.%d:21/incoming", i/256, i%256)
		case 5:
			raw = fmt.Sprintf("ftp://user%d@ftp.example.org/", i)
		}
		tg, err := ftpaudit.ParseTarget(raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tg)
	}
	return out
}

// TestShardPartition: for N from 1 to 16, shards 1/N to N/N of a few
// hundred targets are disjoint and together hold every target; no shard
// is starved.
func TestShardPartition(t *testing.T) {
	all := shardTargets(t, 300)
	for n := 1; n <= 16; n++ {
		seen := map[string]int{}
		for k := 1; k <= n; k++ {
			s := shard{k: k, n: n}
			got := s.pick(all)
			// A fair hash gives each shard 300/n; a third of that is
			// far below any honest draw and far above a broken hash.
			if len(got) < len(all)/n/3 {
				t.Errorf("shard %d/%d holds %d of %d targets", k, n, len(got), len(all))
			}
			for _, tg := range got {
				if prev, ok := seen[tg.Key()]; ok {
					t.Errorf("N=%d: %s is in shard %d and in shard %d", n, tg.Key(), prev, k)
				}
				seen[tg.Key()] = k
			}
		}
		if len(seen) != len(all) {
			t.Errorf("N=%d: the shards hold %d of the %d targets", n, len(seen), len(all))
		}
	}
	// Without --shard, every target, in order.
	var none shard
	if got := none.pick(all); !slices.Equal(got, all) {
		t.Error("no --shard: pick left targets out")
	}
}

// TestShardGrowth: going from N to N+1 shards, a target keeps its shard
// or moves to the new one, never between old ones.
func TestShardGrowth(t *testing.T) {
	all := shardTargets(t, 300)
	for n := 1; n < 16; n++ {
		moved := 0
		for _, tg := range all {
			was, is := shardOf(tg, n), shardOf(tg, n+1)
			if is != was {
				moved++
				if is != n+1 {
					t.Errorf("%s: shard %d/%d became %d/%d", tg.URL, was, n, is, n+1)
				}
			}
		}
		if moved == 0 {
			t.Errorf("%d to %d shards: no target moved to the new one", n, n+1)
		}
	}
}

// TestShardPinned: the assignment is the same on every machine and in
// every release, since the jobs of one fleet compute it apart. The values
// were computed by an independent implementation (Python, with the
// published floating-point jump hash and with exact integers) from
// SHA-256; a change here moves hosts between shards of a fleet whose
// machines run different versions: hosts scanned twice, or never.
func TestShardPinned(t *testing.T) {
	ns := []int{1, 2, 3, 4, 7, 16, 1000}
	for _, tc := range []struct {
		target, url string
		want        []int // the shard among each of ns
	}{
		{"ftp://ftp.example.org/", "ftp://ftp.example.org:21", []int{1, 1, 1, 1, 1, 13, 561}},
		{"ftps://mirror@mirror.example.net:2121/", "ftps://mirror@mirror.example.net:2121", []int{1, 2, 2, 2, 7, 7, 463}},
		{"ftp://[2001:db8::1]/pub", "ftp://[2001:db8::1]:21", []int{1, 1, 1, 1, 7, 10, 970}},
		{"ftps-implicit://archive.example.com/", "ftps-implicit://archive.example.com:990", []int{1, 1, 1, 1, 6, 6, 205}},
		{"ftp://ftp.gnu.org/gnu", "ftp://ftp.gnu.org:21", []int{1, 2, 2, 2, 6, 13, 663}},
	} {
		tg, err := ftpaudit.ParseTarget(tc.target)
		if err != nil || tg.URL != tc.url {
			t.Fatalf("%s: URL %q, %v", tc.target, tg.URL, err)
		}
		for i, n := range ns {
			if got := shardOf(tg, n); got != tc.want[i] {
				t.Errorf("%s: shard %d/%d, want %d/%d", tc.target, got, n, tc.want[i], n)
			}
		}
	}
	// The jump consistent hash itself, against the reference
	// implementation's published values (github.com/dgryski/go-jump).
	for _, tc := range []struct {
		key  uint64
		n    int
		want int
	}{{1, 1, 0}, {42, 57, 43}, {0xDEAD10CC, 1, 0}, {0xDEAD10CC, 666, 361}, {256, 1024, 520}} {
		if got := jumpHash(tc.key, tc.n); got != tc.want {
			t.Errorf("jumpHash(%#x, %d) = %d, want %d", tc.key, tc.n, got, tc.want)
		}
	}
}

// hostsYAML is a hosts file of the given entries, each "url" or
// "url start1 start2".
func hostsYAML(entries []string) string {
	var b strings.Builder
	b.WriteString("version: 1\nhosts:\n")
	for _, e := range entries {
		f := strings.Fields(e)
		fmt.Fprintf(&b, "  - url: %s\n", f[0])
		if len(f) > 1 {
			fmt.Fprintf(&b, "    start: [%s]\n", strings.Join(f[1:], ", "))
		}
	}
	return b.String()
}

// shardsOf loads a hosts file and the command line's targets as scan
// does, and returns the shard among n of each target (by key).
func shardsOf(t *testing.T, hostsFile string, pos []string, n int) map[string]int {
	t.Helper()
	f := scanFlags{hostsFile: hostsFile, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	all, _, err := f.targets(pos)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for k := 1; k <= n; k++ {
		s := shard{k: k, n: n}
		for _, tg := range s.pick(all) {
			if _, dup := out[tg.Key()]; dup {
				t.Fatalf("%s in two shards", tg.Key())
			}
			out[tg.Key()] = k
		}
	}
	if len(out) != len(all) {
		t.Fatalf("the shards hold %d of %d targets", len(out), len(all))
	}
	return out
}

// TestShardStableAcrossHostsFileEdits: a host keeps its shard when other
// entries are added, removed or reordered, when a target moves from the
// command line into the hosts file, and across runs; the start
// directories of one entry share a shard.
func TestShardStableAcrossHostsFileEdits(t *testing.T) {
	var entries []string
	for i := range 60 {
		e := fmt.Sprintf("ftp://ftp%d.example.org", i)
		if i%5 == 0 {
			e += " /pub /incoming /mirror"
		}
		entries = append(entries, e)
	}
	dir := t.TempDir()
	write := func(name string, es []string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, hostsYAML(es), 0o644)
		return p
	}
	const n = 7
	cli := "ftp://cli.example.org/pub"
	before := shardsOf(t, write("before.yaml", entries), []string{cli}, n)
	if again := shardsOf(t, write("again.yaml", entries), []string{cli}, n); !maps.Equal(again, before) {
		t.Error("a second run assigns differently")
	}
	// The start directories of one entry share a shard.
	for key, k := range before {
		url, _, _ := strings.Cut(key, "\x00")
		for other, k2 := range before {
			if strings.HasPrefix(other, url+"\x00") && k2 != k {
				t.Errorf("%q in shard %d, %q in shard %d", key, k, other, k2)
			}
		}
	}
	reversed := slices.Clone(entries)
	slices.Reverse(reversed)
	var removed, added []string
	for i, e := range entries {
		if i%3 != 0 {
			removed = append(removed, e)
		}
		added = append(added, fmt.Sprintf("ftp://new%d.example.com", i), e)
	}
	moved := append(slices.Clone(entries[:30]), append([]string{cli}, entries[30:]...)...)
	for _, tc := range []struct {
		name string
		es   []string
		pos  []string
	}{
		{"reordered", reversed, []string{cli}},
		{"every third removed", removed, []string{cli}},
		{"60 added in between", added, []string{cli}},
		{"the command line's target moved into the file", moved, nil},
		{"the command line's target removed", entries, nil},
	} {
		after := shardsOf(t, write(strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.es), tc.pos, n)
		kept := 0
		for key, k := range after {
			if k0, ok := before[key]; ok {
				kept++
				if k != k0 {
					t.Errorf("%s: %q moved from shard %d to %d", tc.name, key, k0, k)
				}
			}
		}
		if kept == 0 {
			t.Errorf("%s: no host in common", tc.name)
		}
	}
}

// TestShardFlagErrors: --shard takes K/N with 1 <= K <= N; anything else
// is one line, exit 2, before anything is scanned.
func TestShardFlagErrors(t *testing.T) {
	for _, v := range []string{"0/4", "5/4", "4", "/4", "1/", "1/0", "0/0", "-1/4", "+1/4", "1/-4", " 1/4", "1/4 ", "a/b", "1/4/2", "1.0/4", "", "1/99999999999"} {
		code, stdout, stderr := runCLI(t, "scan", "--shard", v, "ftp://127.0.0.1:1/")
		if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--shard") {
			t.Errorf("--shard %q: exit %d, stdout %q, stderr %q", v, code, stdout, stderr)
		}
	}
	_, _, stderr := runCLI(t, "scan", "--shard", "0/4", "ftp://127.0.0.1:1/")
	if !strings.Contains(stderr, "numbered from 1 (1/4 to 4/4)") {
		t.Errorf("--shard 0/4 does not say shards are numbered from 1: %q", stderr)
	}
	for _, v := range []string{"1/1", "3/4", "04/4", "1000/1000"} {
		var s shard
		if err := s.Set(v); err != nil {
			t.Errorf("--shard %q: %v", v, err)
		}
	}
	// A hosts file with a mistake fails every shard, also one it holds no
	// host of.
	bad := filepath.Join(t.TempDir(), "hosts.yaml")
	writeFile(t, bad, "version: 1\nhosts:\n  - url: ftp://a.example.org\n    colour: blue\n", 0o644)
	for k := 1; k <= 3; k++ {
		if code, _, stderr := runCLI(t, "scan", "--shard", fmt.Sprintf("%d/3", k), "--hosts", bad); code != exitUsage || !strings.Contains(stderr, "colour") {
			t.Errorf("shard %d/3 of a bad hosts file: exit %d, %q", k, code, stderr)
		}
	}
}

// shardArchive is a small archive with nothing worth failing for.
const shardArchive = `drwxr-xr-x root root 4096 "/"
drwxr-xr-x root root 4096 "/pub"
-rw-r--r-- root root 10 "/pub/a.txt"
drwxr-xr-x root root 4096 "/doc"
-rw-r--r-- root root 10 "/doc/b.txt"
`

// TestShardScan: N runs of scan --shard K/N over a hosts file and a
// command line target scan every target exactly once, each writing
// "shard": "K/N" in its report, and an empty shard exits 0.
func TestShardScan(t *testing.T) {
	root, err := memftp.ParseSpec(strings.NewReader(shardArchive))
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	var want []string
	for i := range 6 {
		srv, err := memftp.Start(context.Background(), root, memftp.Options{MLSD: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		url := "ftp://" + srv.Addr
		if i == 0 {
			entries = append(entries, url+" /pub /doc")
			want = append(want, url+" /pub", url+" /doc")
			continue
		}
		entries = append(entries, url)
		want = append(want, url+" /")
	}
	cli := strings.Fields(entries[len(entries)-1])[0] + "/pub"
	entries = entries[:len(entries)-1]
	want[len(want)-1] = strings.TrimSuffix(want[len(want)-1], " /") + " /pub"
	hosts := filepath.Join(t.TempDir(), "hosts.yaml")
	writeFile(t, hosts, hostsYAML(entries), 0o644)
	slices.Sort(want)

	const n = 4
	var got []string
	for k := 1; k <= n; k++ {
		code, stdout, stderr := runCLI(t, "scan", "--shard", fmt.Sprintf("%d/%d", k, n), "--quiet", "--format", "json", "--hosts", hosts, cli)
		if code != exitClean {
			t.Errorf("shard %d/%d: exit %d; stderr %s", k, n, code, stderr)
		}
		var doc struct {
			Shard    string `json:"shard"`
			Complete bool   `json:"complete"`
			Hosts    []struct{ Target, Start string }
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("shard %d/%d: %v\n%s", k, n, err, stdout)
		}
		if doc.Shard != fmt.Sprintf("%d/%d", k, n) || !doc.Complete {
			t.Errorf("shard %d/%d: the report says shard %q, complete %v", k, n, doc.Shard, doc.Complete)
		}
		if len(doc.Hosts) == 0 && !strings.Contains(stderr, "nothing to scan") {
			t.Errorf("shard %d/%d scanned nothing and did not say so: %q", k, n, stderr)
		}
		for _, h := range doc.Hosts {
			got = append(got, h.Target+" "+h.Start)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the shards scanned\n%q\nwant each once:\n%q", got, want)
	}
	// Without --shard there is no shard in the report.
	_, stdout, _ := runCLI(t, "scan", "--quiet", "--format", "json", cli)
	if strings.Contains(stdout, `"shard"`) {
		t.Errorf("a run without --shard names a shard:\n%.300s", stdout)
	}
}

// TestEmptyShard: a shard that holds no target scans nothing, says so in
// one line on stderr, exits 0, writes an empty, valid report and metrics,
// and saves nothing to the history.
func TestEmptyShard(t *testing.T) {
	const target = "ftp://127.0.0.1:1/" // nothing listens there
	tg, err := ftpaudit.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	k := shardOf(tg, n)%n + 1 // any shard but the target's
	dir := t.TempDir()
	out, prom, db := filepath.Join(dir, "scan.json"), filepath.Join(dir, "ftpaudit.prom"), filepath.Join(dir, "history.db")
	spec := fmt.Sprintf("%d/%d", k, n)
	code, stdout, stderr := runCLI(t, "scan", "--shard", spec, "--quiet", "-o", out, "--metrics-file", prom, "--save", "--db", db, target)
	if code != exitClean || stdout != "" {
		t.Fatalf("empty shard: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	line := "shard " + spec + " does not hold the one target: nothing to scan"
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, line) || !strings.Contains(stderr, "level=WARN") {
		t.Errorf("stderr %q, want one line saying %q", stderr, line)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	if doc["shard"] != spec || doc["complete"] != true || doc["schema"] != "ftpaudit.scan/v1" {
		t.Errorf("report: %s", b)
	}
	for _, key := range []string{"hosts", "entries", "findings"} {
		if l, ok := doc[key].([]any); !ok || len(l) != 0 {
			t.Errorf("report: %s is %v, want []", key, doc[key])
		}
	}
	if m, err := os.ReadFile(prom); err != nil || !bytes.Contains(m, []byte("\nftpaudit_last_run_timestamp_seconds ")) {
		t.Errorf("metrics: %v\n%s", err, m)
	}
	_, stdout, _ = runCLI(t, "history", "--db", db, "--format", "json")
	var hist struct{ Scans []any }
	if err := json.Unmarshal([]byte(stdout), &hist); err != nil || len(hist.Scans) != 0 {
		t.Errorf("an empty shard saved a scan: %v\n%s", err, stdout)
	}
	// With --log-format json the line is a JSON log record.
	_, _, stderr = runCLI(t, "scan", "--shard", spec, "--quiet", "--log-format", "json", "--format", "json", target)
	var rec struct{ Level, Msg string }
	if err := json.Unmarshal([]byte(stderr), &rec); err != nil || rec.Level != "WARN" || rec.Msg != line {
		t.Errorf("json log: %v %q", err, stderr)
	}
	// On a terminal, a sentence.
	var term bytes.Buffer
	slog.New(logHandler(&term, "auto", slog.LevelWarn, true)).Warn(line)
	if term.String() != "ftpaudit: warning: "+line+"\n" {
		t.Errorf("on a terminal: %q", term.String())
	}
	// The target's own shard scans it (and finds it down).
	code, _, stderr = runCLI(t, "scan", "--shard", fmt.Sprintf("%d/%d", shardOf(tg, n), n), "--quiet", "--format", "json", target)
	if code != exitIncomplete || strings.Contains(stderr, "nothing to scan") {
		t.Errorf("the target's shard: exit %d, stderr %q", code, stderr)
	}
	// Of several targets, the count.
	f := scanFlags{}
	_ = f.shard.Set("2/3")
	if got := emptyShardLine(&f.shard, 5); got != "shard 2/3 holds none of the 5 targets: nothing to scan" {
		t.Errorf("empty shard line %q", got)
	}
	if got := shardLine(&f.shard, 2, 5); got != "shard 2/3 holds 2 of the 5 targets" {
		t.Errorf("shard line %q", got)
	}
}
