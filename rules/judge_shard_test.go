package rules

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// randomArchive is a host whose entries set off every per-entry rule
// somewhere: writable areas and drop boxes (files in them, owned by the
// anonymous account or not, readable or not), dot names and names built
// to be overlooked, warez and crack names, executables and disk images,
// symlinks that escape, probe canaries, world-writable files, MLSD perm
// facts; spread over many directories so that the entries' runs cut
// through all of them.
func randomArchive(r *rand.Rand, dirs int) *ftpaudit.HostResult {
	var es []ftpaudit.Entry
	names := []string{"README", "keygen.exe", "file_id.diz", "movie.r01", "release.nfo", ".hidden.iso", "...", "  ",
		"patch.exe", "Win10.Activated.iso", ".rhosts", "id_rsa", "setup.msi", "data.tar.gz", "notes.txt", ".message",
		ftpaudit.CanaryPrefix + "20250101T000000Z-0123abcd.txt", "serial keys.txt", "\x1b[31mred", "tool.bat", "image.img"}
	modes := []string{"-rw-r--r--", "-rw-rw-rw-", "-rw-------", "-rw-rw-r--", "----------"}
	ogs := []string{"root", "ftp", "1001:ftp", "14:50", "root:ftp", "nobody"}
	for d := range dirs {
		var dir string
		switch d % 7 {
		case 0:
			dir = fmt.Sprintf("/incoming/u%03d", d)
		case 1:
			dir = fmt.Sprintf("/dropbox/d%03d", d)
		case 2:
			dir = fmt.Sprintf("/pub/.../%03d", d)
		default:
			dir = fmt.Sprintf("/pub/p%03d", d)
		}
		dmode := []string{"drwxr-xr-x", "drwxr-xr-x", "drwxrwxrwx", "drwx-wx-wt", "drwxrwxr-x"}[r.IntN(5)]
		es = append(es, dirE(dir, dmode, ogs[r.IntN(len(ogs))]))
		for i := range 5 + r.IntN(40) {
			n := names[r.IntN(len(names))]
			if r.IntN(3) > 0 {
				n = fmt.Sprintf("%d-%s", i, n)
			}
			p := dir + "/" + n
			switch r.IntN(12) {
			case 0:
				es = append(es, linkE(p, []string{"/etc/passwd", "../../../../x", "sub/y", "../z"}[r.IntN(4)]))
			case 1:
				es = append(es, withPerm(fileE(p, modes[r.IntN(len(modes))], ogs[r.IntN(len(ogs))], int64(r.IntN(1<<22))), []string{"r", "adfrw", "rw", "adfr"}[r.IntN(4)]))
			case 2:
				es = append(es, dirE(p, "drwxrwxrwx", ogs[r.IntN(len(ogs))]))
			default:
				es = append(es, fileE(p, modes[r.IntN(len(modes))], ogs[r.IntN(len(ogs))], int64(r.IntN(1<<22))))
			}
		}
	}
	for _, d := range []string{"/incoming", "/dropbox", "/pub/..."} {
		es = append(es, dirE(d, "drwxrwxrwx", "root:ftp"))
	}
	es = append(es, dirE("/pub", "drwxr-xr-x", "root"))
	return hostOf(es...)
}

// TestEachEntrySharded: judging a host's entries in runs on several
// goroutines gives exactly the findings of one goroutine judging them in
// order, with the policy's drop boxes, ignores, suspicious names and
// severities applied alike.
func TestEachEntrySharded(t *testing.T) {
	defer func(m, w int) { shardMin, shardWorkers = m, w }(shardMin, shardWorkers)
	p := mustPolicy(t, `
drop_boxes: [/dropbox]
ignore: [/pub/p010]
suspicious:
  - name: "*.txt"
    reason: text
  - name: "notes*"
    reason: notes
    upload_areas_only: true
severity:
  world-writable-file: low
`)
	dirs := 300
	if raceEnabled {
		dirs = 60
	}
	for seed := range uint64(4) {
		h := randomArchive(rand.New(rand.NewPCG(seed, 5)), dirs)
		shardMin, shardWorkers = len(h.Entries)+1, 1
		want := Judge(h, p) // serially, from Entries
		if len(want) < 100 {
			t.Fatalf("seed %d: only %d findings: the archive does not exercise the rules", seed, len(want))
		}
		rules := map[string]bool{}
		for _, f := range want {
			rules[f.Rule] = true
		}
		for _, r := range []string{ftpaudit.RuleHiddenName, ftpaudit.RuleWorldWritableFile, ftpaudit.RuleUploadOwner, ftpaudit.RuleInWritableArea,
			ftpaudit.RuleSuspiciousName, ftpaudit.RuleReadableUpload, ftpaudit.RuleSymlinkEscape, ftpaudit.RuleProbeResidue} {
			if !rules[r] {
				t.Errorf("seed %d: no %s finding: the archive does not exercise that rule", seed, r)
			}
		}
		for _, r := range representations {
			hr := r.of(h)
			for _, workers := range []int{1, 2, 3, 7} {
				// Batches of one entry: every neighbour on another
				// goroutine, as often as can be.
				shardMin, shardWorkers = 1, workers
				got := Judge(hr, p)
				if !reflect.DeepEqual(got, want) {
					for i := range min(len(got), len(want)) {
						if !reflect.DeepEqual(got[i], want[i]) {
							t.Fatalf("seed %d, from %s, %d workers: finding %d is\n%+v\nwant\n%+v", seed, r.name, workers, i, got[i], want[i])
						}
					}
					t.Fatalf("seed %d, from %s, %d workers: %d findings, want %d", seed, r.name, workers, len(got), len(want))
				}
			}
		}
	}
}

// TestEachEntryShardedOrder: the runs' findings are added in path order
// (what merging findings of one rule and path keeps), whatever run ends
// first.
func TestEachEntryShardedOrder(t *testing.T) {
	defer func(m, w int) { shardMin, shardWorkers = m, w }(shardMin, shardWorkers)
	var es []ftpaudit.Entry
	for i := range 64 {
		es = append(es, fileE(fmt.Sprintf("/pub/f%02d-keygen.exe", i), "-rw-rw-rw-", "root", 1))
	}
	for _, r := range representations {
		h := r.of(hostOf(es...))
		j := newJudge(h, DefaultPolicy())
		shardMin, shardWorkers = 1, 8
		j.eachEntry(func(j *judge, e *ftpaudit.Entry) {
			j.add(e.Path, ftpaudit.RuleSuspiciousName, ftpaudit.SevHigh, []string{"x"}, "")
		})
		var got []string
		for _, f := range j.c.out {
			got = append(got, f.Path)
		}
		var want []string
		for _, e := range es {
			want = append(want, e.Path)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("from %s, order:\n%q\nwant\n%q", r.name, got, want)
		}
	}
}
