package rules

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/entrysrc"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// withFacts gives e the MLSD facts raw ("unix.owner=0;"), kept as
// FactsRaw as the MLSD parser keeps them.
func withFacts(e ftpaudit.Entry, raw string) ftpaudit.Entry {
	e.Extra = &ftpaudit.EntryExtra{FactsRaw: raw}
	return e
}

// memoEntries are files of one directory whose owners and groups change
// from one to the next, also where only a fact tells them apart.
func memoEntries() []ftpaudit.Entry {
	return []ftpaudit.Entry{
		fileE("/pub/a", "-rw-rw-r--", "ftp", 1),
		fileE("/pub/b", "-rw-rw-r--", "0", 1),
		fileE("/pub/c", "-rw-rw-r--", "ftp", 1),
		withFacts(fileE("/pub/d", "-rw-rw-r--", "ftp", 1), "UNIX.owner=0;UNIX.group=0;"),
		fileE("/pub/e", "-rw-rw-r--", "ftp", 1),
		withFacts(fileE("/pub/f", "-rw-rw-r--", "ftp", 1), "UNIX.owner=0;UNIX.group=0;"),
		withFacts(fileE("/pub/g", "-rw-rw-r--", "ftp", 1), "unix.uid=117;unix.gid=124;"),
		fileE("/pub/h", "-rw-rw-r--", "117:124", 1),
		fileE("/pub/i", "-rw-rw-r--", "00117:124", 1),
		fileE("/pub/j", "-rw-rw-r--", "1000:1000", 1),
		fileE("/pub/k", "-rw-rw-r--", "117:124", 1),
		fileE("/pub/l", "-rw-rw-r--", "root:wheel", 1),
		fileE("/pub/m", "-rw-rw-r--", "ftp", 1),
		fileE("/pub/n", "-rw-rw-r--", "anonymous:ftp", 1),
	}
}

// TestIDMemoAlternating: anonOwner and anonGroup, which keep their last
// answer, answer what working it out anew gives, for entries whose
// owners and groups alternate, whatever was asked before.
func TestIDMemoAlternating(t *testing.T) {
	es := memoEntries()
	h := hostOf(es...)
	j := newJudge(h, mustPolicy(t, "anonymous: {names: [ftp, anonymous], uids: ['117'], gids: ['124']}"))
	j.learned["1000"] = "learned 1000"
	j.learnedGrp["1000"] = "learned group 1000"
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		e := &es[r.IntN(len(es))]
		var buf [4]string
		learned := r.IntN(2) == 0
		how, ok := j.anonOwner(e, learned)
		wantHow, wantOK := j.ownerIsAnon(ownerIDs(e, &buf), learned)
		if how != wantHow || ok != wantOK {
			t.Fatalf("%s (owner %q, facts %q), learned %v: anonOwner = %q, %v, want %q, %v", e.Path, e.Owner, e.Extra, learned, how, ok, wantHow, wantOK)
		}
		ghow, gok, glrn := j.anonGroup(e)
		wghow, wgok, wglrn := j.groupIsAnon(groupIDs(e, &buf))
		if ghow != wghow || gok != wgok || glrn != wglrn {
			t.Fatalf("%s (group %q): anonGroup = %q, %v, %v, want %q, %v, %v", e.Path, e.Group, ghow, gok, glrn, wghow, wgok, wglrn)
		}
	}

	// The same through Judge: the rules that ask about owners and
	// groups, on one goroutine and on several.
	defer func(m, w int) { shardMin, shardWorkers = m, w }(shardMin, shardWorkers)
	shardMin, shardWorkers = len(es)+1, 1
	fs := judgeT(t, h, nil, ftpaudit.RuleUploadOwner, ftpaudit.RuleWorldWritableFile)
	eq(t, "findings", sum(fs), []string{
		"high upload-owner /pub/a",
		"high world-writable-file /pub/a",
		"high upload-owner /pub/c",
		"high world-writable-file /pub/c",
		"high upload-owner /pub/e",
		"high world-writable-file /pub/e",
		"high upload-owner /pub/g",
		"high world-writable-file /pub/g",
		"high upload-owner /pub/m",
		"high world-writable-file /pub/m",
		"high upload-owner /pub/n",
		"high world-writable-file /pub/n",
	})
	hasEvidence(t, fs[11], "owner anonymous is the anonymous account", "mode -rw-rw-r--: the owner may write",
		"group ftp is the anonymous account's", "mode -rw-rw-r--: the group may write")
	want := Judge(h, nil)
	shardMin, shardWorkers = 1, 3
	sameFindings(t, "Judge in batches of one entry", Judge(h, nil), want)
}

// TestIDMemoLearning: what the judge learns while it reads the entries
// (learnAnonymous) changes anonOwner's and anonGroup's answers at once,
// whatever they answered before.
func TestIDMemoLearning(t *testing.T) {
	in := dirE("/incoming", "drwxrwxrwx", "0:0")
	up := fileE("/incoming/up", "-rw-r--r--", "117:124", 1)
	stray := fileE("/pub/stray", "-rw-rw-r--", "117:124", 1)
	j := newJudge(hostOf(in, up, stray), DefaultPolicy())
	if _, ok := j.anonOwner(&stray, true); ok {
		t.Fatal("117 is the anonymous account before it was learned")
	}
	if _, ok, _ := j.anonGroup(&stray); ok {
		t.Fatal("124 is the anonymous account's group before it was learned")
	}
	dirs := &seenDirs{}
	dirs.see(&in)
	j.learnAnonymous(&up, dirs)
	if how, ok := j.anonOwner(&stray, true); !ok || !strings.Contains(how, "owner 117 owns uploads in /incoming") {
		t.Errorf("after learning, anonOwner = %q, %v", how, ok)
	}
	if _, ok := j.anonOwner(&stray, false); ok {
		t.Error("after learning, anonOwner without the learned owners says yes")
	}
	if how, ok, learned := j.anonGroup(&stray); !ok || !learned || !strings.Contains(how, "group 124 owns uploads in /incoming") {
		t.Errorf("after learning, anonGroup = %q, %v, %v", how, ok, learned)
	}
}

// TestSeenDirsAsFinder: while the survey reads the entries, seenDirs
// gives at each directory above the entry read what the finder gives
// (or nil where the finder gives no directory), and, once every entry
// was read, at every path; grants says whether an entry read so far
// grants uploads. Paths that sort between a directory and its entries
// ("/a b", "/a-x" between "/a" and "/a/x") and paths shared by several
// entries are the cases to get right.
func TestSeenDirsAsFinder(t *testing.T) {
	es := []ftpaudit.Entry{
		dirE("/a", "drwxr-xr-x", "0"),
		dirE("/a b", "drwxr-xr-x", "0"),
		fileE("/a b/f", "-rw-r--r--", "0", 1),
		dirE("/a-x", "drwxr-xr-x", "0"),
		fileE("/a-x/f", "-rw-r--r--", "0", 1),
		fileE("/a/x", "-rw-r--r--", "0", 1),
		dirE("/a/d", "drwxr-xr-x", "0"),
		fileE("/a/d/f", "-rw-r--r--", "0", 1),
		fileE("/a/z", "-rw-r--r--", "0", 1),
		dirE("/dup", "drwxr-xr-x", "0"),
		fileE("/dup", "-rw-r--r--", "0", 2), // the last at /dup: a file
		fileE("/dup/f", "-rw-r--r--", "0", 1),
		fileE("/dup2", "-rw-r--r--", "0", 1),
		dirE("/dup2", "drwxrwxrwx", "1"), // the last at /dup2: a directory
		fileE("/dup2/f", "-rw-r--r--", "0", 1),
		dirE("/dup3", "drwxr-xr-x", "0"),
		dirE("/dup3", "drwxr-xr-x", "1"),
		fileE("/dup3/f", "-rw-r--r--", "0", 1),
		fileE("/file", "-rw-r--r--", "0", 1),
		fileE("/file/f", "-rw-r--r--", "0", 1), // below a file
		fileE("/none/f", "-rw-r--r--", "0", 1), // below no entry
		withPerm(dirE("/perm", "drwxr-xr-x", "0"), "flcdmpe"),
		fileE("/perm/f", "-rw-r--r--", "0", 1),
	}
	for _, r := range representations {
		h := r.of(hostOf(es...))
		find := h.EntryFinder()
		same := func(what, p string, got *ftpaudit.Entry) {
			t.Helper()
			want := find(p)
			switch {
			case got == nil && want != nil && want.Type == ftpaudit.TypeDir:
				t.Errorf("%s: %s: at gives nil, the finder a directory", r.name, what)
			case got != nil && (want == nil || !reflect.DeepEqual(*got, *want)):
				t.Errorf("%s: %s: at gives %+v, the finder %+v", r.name, what, *got, want)
			}
		}
		d := &seenDirs{}
		grants := false
		var read []string
		for e := range h.AllEntries() {
			if len(e.Path) > 1 && e.Path[0] == '/' {
				parent, _ := ftppath.Split(e.Path)
				same("above "+e.Path, parent, d.at(parent))
			}
			if d.grants != grants {
				t.Errorf("%s: before %s, grants = %v", r.name, e.Path, d.grants)
			}
			d.see(e)
			grants = grants || grantsUpload(e)
			read = append(read, e.Path)
		}
		for _, p := range read {
			same("at "+p, p, d.at(p))
		}
		if !grants {
			t.Fatal("no entry grants uploads: the case exercises nothing")
		}
	}
}

// TestDropBoxAtMemo: dropBoxAt, which keeps its last answer, answers
// what matching the drop boxes anew gives, for directories asked about
// in any order.
func TestDropBoxAtMemo(t *testing.T) {
	j := newJudge(hostOf(), mustPolicy(t, "drop_boxes: [/box, /a/*/in]\n"))
	dirs := []string{"/", "/box", "/box/sub", "/pub", "/a/x/in", "/a/x", "/a/x/in/deep", "/a/y/in", "/boxes", ""}
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		d := dirs[r.IntN(len(dirs))]
		if got, want := j.dropBoxAt(d), glob.MatchAtOrBelow(j.hp.dropBoxes, d); got != want {
			t.Fatalf("dropBoxAt(%q) = %v, want %v", d, got, want)
		}
	}
}

// refWindowsDevice is windowsDevice as it was first written (upper-case
// by strings.Map), for TestNameShortcuts.
func refWindowsDevice(name string) string {
	base := name
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	if len(base) > len("CONOUT$") {
		return ""
	}
	up := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, base)
	switch up {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return up
	}
	if len(up) >= 4 && (strings.HasPrefix(up, "COM") || strings.HasPrefix(up, "LPT")) {
		switch up[3:] {
		case "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return up
		}
	}
	return ""
}

// refHiddenAncestor is hiddenAncestor as it was first written, without
// the shortcut of hiddenTraits, for TestNameShortcuts.
func refHiddenAncestor(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	parts := strings.Split(p[1:], "/")
	for i := 0; i < len(parts)-1; i++ {
		if el := parts[i]; el != "" && el != "." && el != ".." && len(nameTraits(el)) > 0 {
			return "/" + strings.Join(parts[:i+1], "/")
		}
	}
	return ""
}

// TestNameShortcuts: hiddenTraits' shortcut for plain names (plainName)
// and the allocation-free windowsDevice and hiddenAncestor give what the
// full analysis gives, on random names and paths made of the bytes that
// matter to them.
func TestNameShortcuts(t *testing.T) {
	pieces := []string{"a", "Z", "0", "1", "9", ".", " ", "/", "-", "$", "~", "\x7f", "\x1f", "\t", "\x00", "\xff", "\xc2",
		"¹", "³", "\u00a0", "\u200b", "é", "con", "CON", "Com", "lPt", "nul", "aux", "prn", "conin", "CONOUT", "ftp"}
	r := rand.New(rand.NewPCG(5, 6))
	n := 200000
	if raceEnabled {
		n = 20000
	}
	for range n {
		var b strings.Builder
		for range r.IntN(7) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := windowsDevice(s), refWindowsDevice(s); got != want {
			t.Fatalf("windowsDevice(%q) = %q, want %q", s, got, want)
		}
		if s != "" && s != "." && s != ".." {
			if got, want := hiddenTraits(s), nameTraits(s); !slices.Equal(got, want) {
				t.Fatalf("hiddenTraits(%q) = %q, want %q", s, got, want)
			}
		}
		for _, p := range []string{s, "/" + s, "/pub/" + s + "/x"} {
			if got, want := hiddenAncestor(p), refHiddenAncestor(p); got != want {
				t.Fatalf("hiddenAncestor(%q) = %q, want %q", p, got, want)
			}
		}
	}
}

// TestKeyScreen: a keyScreen never turns away one of its keys, and turns
// away most other strings.
func TestKeyScreen(t *testing.T) {
	for w := range markerWords {
		if !markerKeys.may(w) {
			t.Errorf("markerKeys turns away %q", w)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	alpha := "ab.\x00\xff"
	str := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	var s keyScreen
	keys := map[string]bool{}
	for range 20 {
		k := str(r.IntN(6))
		if r.IntN(10) == 0 {
			k = str(60 + r.IntN(10)) // lengths past 63 share a bit
		}
		s.add(k)
		keys[k] = true
	}
	away := 0
	for range 20000 {
		k := str(r.IntN(8))
		if r.IntN(10) == 0 {
			k = str(60 + r.IntN(10))
		}
		if !s.may(k) {
			away++
			if keys[k] {
				t.Fatalf("turns away its key %q", k)
			}
		}
	}
	if away == 0 {
		t.Error("turns away nothing")
	}
	t.Logf("turned away %d of 20000", away)
}

// TestLearnFromProbedUpload: an owner is learned below a directory
// where only the probe's upload was accepted (its mode and perm facts
// grant nothing), even before any directory read grants uploads.
func TestLearnFromProbedUpload(t *testing.T) {
	h := hostOf(
		dirE("/drop", "drwxr-xr-x", "0"),
		fileE("/drop/up", "-rw-r--r--", "117", 1),
		dirE("/pub", "drwxr-xr-x", "0"),
		dirE("/pub/x", "drwxr-xr-x", "117"),
	)
	h.Probes = []ftpaudit.ProbeResult{{Dir: "/drop",
		File:  ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "226 Transfer complete", Removed: true, Path: "/drop/ftpaudit-canary"},
		Mkdir: ftpaudit.ProbeStep{Tried: true, Reply: "550 Permission denied"}}}
	fs := judgeT(t, h, nil, ftpaudit.RuleWritableDir)
	eq(t, "findings", sum(fs), []string{"critical writable-dir /drop", "critical writable-dir /pub/x"})
	if len(fs) == 2 {
		hasEvidence(t, fs[1], "owner 117 owns uploads in /drop: taken as the anonymous account")
	}
}

// TestDecideDirsAfterReadFailure: when the survey could not read every
// entry back, directories are decided on the entries the finder gives,
// as before, not on the last ones the survey read: here the survey
// stops after the directory /d, and the finder gives the file that
// shares its path.
func TestDecideDirsAfterReadFailure(t *testing.T) {
	h := viaSource(hostOf(
		dirE("/d", "drwxrwxrwx", "0"),
		fileE("/d", "-rw-r--r--", "0", 1),
	))
	h.Source.(*entrysrc.Source).FailOnCall(1, 1, errors.New("boom"))
	if fs := only(Judge(h, nil), ftpaudit.RuleWritableDir); len(fs) != 0 {
		t.Errorf("decided on the entry the survey read last: %q", sum(fs))
	}
}
