package rules

import (
	"cmp"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/ftpaudit/ftpaudit"
)

// The per-entry rules, run on each listing as the walk keeps it.
//
// After a walk, Judge reads every entry twice: once for what the rules
// rely on (survey), once for the per-entry rules (eachEntry). On a large
// archive that is most of the time between the walk's last listing and
// the report, and each entry is read back cold. A Prejudge instead sees
// each listing the moment the walk keeps it (Observe, on the walk's own
// sessions, while the entries are still in the cache): it counts what the
// survey counts and runs the per-entry rules on the entries whose
// findings cannot depend on what the rules learn from the whole tree but
// for the directories' verdicts, speculating that those show what most
// archives show.
//
// What a rule reads besides the entry, and how each is handled:
//
//   - the owner's and group's standing: whether ownership is weak
//     evidence on the host (settleOwnership) matters only for entries
//     whose owner or group is the anonymous account's, and the server's
//     perm pattern (settlePerms) only for files whose perm facts grant
//     write, append, delete or rename. Such entries are not judged
//     during the walk but kept (a copy) and judged after it, with what
//     was settled;
//   - owners and groups learned from uploads (learnAnonymous) may make
//     any entry the anonymous account's: the speculation is that none is
//     learned;
//   - the directories' verdicts (writable areas, writable or latent
//     directories): the speculation is that no entry lies below a
//     writable area, and that none owned by the anonymous account lies at
//     the path of a writable or latent directory.
//
// Once the walk has ended, Judge settles the same things from the
// counts (and the directories' entries), judges the entries kept, and
// checks the speculation (speculationHolds); where it fails, where the
// Prejudge gave up (past its bounds: maxDeferred entries kept, or
// maxPrejudgeBytes of them and of findings, a walk's memory being
// bounded), or where the entries could not all be read back, it drops
// the findings and runs the per-entry rules over every entry as before.
// Where it holds, each rule read what it would have read after the walk,
// so the findings are the pass's findings: they are put in the pass's
// order (by path, then as the walk's entries are read back: in the order
// the listings were filed, and in each listing's order) and given each
// path's size and date from the finder, as the pass gives them. A
// Prejudge is used by one judging only.

// A write-only drop box, the recommended layout, keeps the speculation:
// it holds no listed entry. A listable writable directory with entries,
// or a server that shows every owner as the anonymous account, costs the
// pass as before; past maxDeferred kept entries the walk stops running
// the rules, so the speculation costs little more than it saves.

// Prejudge observes one host's walk for JudgeWalk. Make one per host
// with NewPrejudge, with the policy and host URL JudgeWalk will judge
// with, and give its Observe to the walk (scanner.WalkOptions.Observe).
type Prejudge struct {
	pol  *Policy // as given to NewPrejudge (nil included)
	url  string
	spec judge // the speculation's judge: copied for each listing

	mu        sync.Mutex
	n         int // entries observed
	ownTotal  int
	ownAnon   int
	permFiles int
	permCount [len(fileWriteLetters)]int
	grants    bool     // a directory grants anonymous users uploads (grantsUpload)
	dirs      []string // the paths of directory entries, as observed
	dirBytes  int
	// dirsOff is set once the paths passed maxPrejudgeBytes: the survey's
	// pass is not spared then (canSurveyFrom).
	dirsOff   bool
	adds      []seqFinding
	deferred  []seqEntry // entries to judge after the walk (a copy)
	heldBytes int        // about what adds and deferred hold
	// off is set once adds and deferred passed maxPrejudgeBytes, or more
	// than maxDeferred entries were deferred: the speculation is given
	// up, and Observe only counts.
	off bool
	// used is set once a judging took pj (usable): what it held is gone.
	used bool

	// held is set once JudgeWalk used the findings (for tests).
	held bool
}

// seqFinding is a speculative finding, with where its entry was read:
// the filing order of its listing (seq) and its index in it.
type seqFinding struct {
	seq, idx int
	f        ftpaudit.Finding
}

// seqEntry is an entry judged after the walk, with where it was read.
type seqEntry struct {
	seq, idx int
	e        ftpaudit.Entry
}

// readOrder orders by path, then as the walk's entries are read back:
// entries of one path in the order of their listings' filing, and in
// their listing's order.
func readOrder(pa, pb string, sa, sb, ia, ib int) int {
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	if c := cmp.Compare(sa, sb); c != 0 {
		return c
	}
	return cmp.Compare(ia, ib)
}

// The Prejudge's own memory, per host, beside what the walk holds
// (variables for tests): at most maxDeferred entries deferred, and
// maxPrejudgeBytes (about) of deferred entries and findings, and again
// of directory paths. Past either, it gives up what it spares (the
// per-entry pass, or the survey's), never the findings.
var (
	maxDeferred      = 1 << 16
	maxPrejudgeBytes = 64 << 20
)

// findingBytes is about what a finding holds.
func findingBytes(f *ftpaudit.Finding) int {
	n := 200 + len(f.Path)
	for _, ev := range f.Evidence {
		n += 16 + len(ev)
	}
	return n
}

// NewPrejudge returns a Prejudge for the host at url, judged with p
// (nil: DefaultPolicy): JudgeWalk uses it only when given the same p.
func NewPrejudge(p *Policy, url string) *Prejudge {
	pj := &Prejudge{pol: p, url: url}
	if p == nil {
		p = DefaultPolicy()
	}
	pj.spec = *blankJudge(p, url)
	// No finder during the walk: replay gives each finding its path's
	// size and date.
	pj.spec.find = func(string) *ftpaudit.Entry { return nil }
	return pj
}

// Observe takes one listing's entries as the walk keeps them, with the
// order in which the walk filed it (seq: the store's). It is called from
// the walk's sessions at once, and neither keeps nor changes the entries
// (it copies those it defers).
func (pj *Prejudge) Observe(seq int, es []ftpaudit.Entry) {
	pj.mu.Lock()
	judging := !pj.off
	pj.mu.Unlock()
	j := pj.spec
	c := *pj.spec.c
	j.c = &c
	var dirs []string
	var adds []seqFinding
	var deferred []seqEntry
	grants := false
	held, dirBytes := 0, 0
	for i := range es {
		e := &es[i]
		ownerAnon := j.checkOwnership(e)
		j.checkFilePerms(e)
		if e.Type == ftpaudit.TypeDir {
			dirs = append(dirs, strings.Clone(e.Path))
			dirBytes += 16 + len(e.Path)
			grants = grants || grantsUpload(e)
		}
		if !judging {
			continue
		}
		if j.settledMatters(e, ownerAnon) {
			deferred = append(deferred, seqEntry{seq: seq, idx: i, e: e.Clone()})
			held += e.CloneSize()
		} else {
			c.out = c.out[:0]
			perEntry(&j, e)
			for k := range c.out {
				adds = append(adds, seqFinding{seq: seq, idx: i, f: c.out[k]})
				held += findingBytes(&c.out[k])
			}
		}
		if len(deferred) > maxDeferred || held > maxPrejudgeBytes {
			judging, adds, deferred = false, nil, nil
		}
	}
	pj.mu.Lock()
	defer pj.mu.Unlock()
	pj.n += len(es)
	pj.ownTotal += j.ownTotal
	pj.ownAnon += j.ownAnon
	pj.permFiles += j.permFiles
	for k := range pj.permCount {
		pj.permCount[k] += j.permCount[k]
	}
	pj.grants = pj.grants || grants
	if pj.dirBytes += dirBytes; pj.dirsOff || pj.dirBytes > maxPrejudgeBytes {
		pj.dirsOff, pj.dirs = true, nil
	} else {
		pj.dirs = append(pj.dirs, dirs...)
	}
	pj.heldBytes += held
	if pj.off || !judging || len(pj.deferred)+len(deferred) > maxDeferred || pj.heldBytes > maxPrejudgeBytes {
		pj.off, pj.adds, pj.deferred = true, nil, nil
		return
	}
	pj.deferred = append(pj.deferred, deferred...)
	pj.adds = append(pj.adds, adds...)
}

// settledMatters reports whether e's findings may depend on what is
// settled only once every entry was counted: ownership as weak evidence
// (an entry whose owner or group is the anonymous account's, by the
// policy's names and ids; ownerAnon: checkOwnership's answer for its
// owner) or the server's perm pattern (a file whose perm facts grant
// write, append, delete or rename).
func (j *judge) settledMatters(e *ftpaudit.Entry, ownerAnon bool) bool {
	if ownerAnon || e.Type == ftpaudit.TypeFile && strings.ContainsAny(e.Perm(), fileWriteLetters) {
		return true
	}
	_, ok, _ := j.anonGroup(e)
	return ok
}

// usable returns pj when it observed h's walk for the policy p, as given
// (nil included): as many entries as h holds, for h's URL; else nil (and
// its findings are dropped).
func (pj *Prejudge) usable(h *ftpaudit.HostResult, p *Policy) *Prejudge {
	if pj == nil {
		return nil
	}
	if pj.used || pj.pol != p || pj.url != h.Target.URL || pj.n != h.NumEntries() {
		pj.drop()
		return nil
	}
	pj.used = true // (what it holds goes with this judging)
	return pj
}

// drop lets what pj holds go: the findings, the deferred entries and
// the directories' paths. A Prejudge dropped is used.
func (pj *Prejudge) drop() {
	if pj != nil {
		pj.adds, pj.deferred, pj.dirs, pj.used = nil, nil, nil, true
	}
}

// surveyFrom is survey from what pre counted during the walk, for a host
// where learnAnonymous can learn nothing (no directory grants uploads,
// no probe's upload was accepted, or the policy learns nothing): the
// directories' entries are the finder's at each directory path observed,
// as survey's seenDirs holds them once every entry was read.
func (j *judge) surveyFrom(pre *Prejudge) *seenDirs {
	j.ownTotal, j.ownAnon = pre.ownTotal, pre.ownAnon
	j.permFiles, j.permCount = pre.permFiles, pre.permCount
	j.settleOwnership()
	j.settlePerms()
	paths := pre.dirs
	slices.Sort(paths)
	paths = slices.Compact(paths)
	pre.dirs = nil
	dirs := &seenDirs{grants: pre.grants, es: make([]*ftpaudit.Entry, 0, len(paths))}
	for _, p := range paths {
		if e := j.entry(p); e != nil {
			c := e.Clone()
			dirs.es = append(dirs.es, &c)
		}
	}
	return dirs
}

// canSurveyFrom reports whether pre's counts can stand in for survey's
// pass: pre kept every directory's path, and learnAnonymous learns
// nothing from any entry (the policy learns nothing, or no directory
// grants uploads and no probe's upload was accepted: it reads an entry
// only inside such a directory).
func (j *judge) canSurveyFrom(pre *Prejudge) bool {
	return !pre.dirsOff && (!(j.hp.learn || j.hp.learnGIDs) || !pre.grants && !j.uploaded)
}

// speculationHolds checks, once the directories are decided, the
// speculation (see the top of this file); it reads the entries again
// only when some directory is writable or latent, to look for entries
// below or at one.
func (j *judge) speculationHolds(pre *Prejudge) bool {
	if pre.off || len(j.learned) > 0 || len(j.learnedGrp) > 0 {
		return false
	}
	marked := len(j.areas) > 0
	for _, v := range j.dirs {
		marked = marked || v.writable || v.latent
	}
	if marked {
		for e := range j.all() {
			if j.areaAbove(e.Path) != "" {
				return false
			}
			_, area := j.areas[e.Path]
			if v := j.dirs[e.Path]; (area || v != nil && (v.writable || v.latent)) && e.Type != ftpaudit.TypeLink {
				if _, ok := j.anonOwner(e, true); ok {
					return false
				}
			}
		}
	}
	return j.h.EntriesErr() == nil
}

// replay judges the deferred entries and adds every finding to j's
// collector as the per-entry rules' pass would have: in path order,
// entries of one path in the order their listings were filed, each with
// its path's size and date (finding). It returns the deferred entries in
// that order: among them every file whose perm facts grant a letter of
// fileWriteLetters, which is what serverPermFacts reads.
func (pj *Prejudge) replay(j *judge) iter.Seq[*ftpaudit.Entry] {
	deferred := pj.deferred
	slices.SortFunc(deferred, func(a, b seqEntry) int { return readOrder(a.e.Path, b.e.Path, a.seq, b.seq, a.idx, b.idx) })
	adds := pj.adds
	if j.find == nil {
		j.find = j.h.EntryFinder() // (once: the copies below share it)
	}
	for i := range deferred {
		d := &deferred[i]
		c := *j.c
		c.out = nil
		jk := *j
		jk.c = &c
		perEntry(&jk, &d.e)
		j.owners, j.groups, j.box = jk.owners, jk.groups, jk.box // (memos: kept for the next)
		for _, f := range c.out {
			adds = append(adds, seqFinding{seq: d.seq, idx: d.idx, f: f})
		}
	}
	pj.adds, pj.deferred, pj.held = nil, nil, true
	// Stable: an entry's findings stay in the order its rules added them.
	slices.SortStableFunc(adds, func(a, b seqFinding) int { return readOrder(a.f.Path, b.f.Path, a.seq, b.seq, a.idx, b.idx) })
	for _, a := range adds {
		f := a.f
		if e := j.entry(f.Path); e != nil {
			f.Size, f.Modified = e.Size, e.Modified
		}
		j.c.out = append(j.c.out, f)
	}
	return func(yield func(*ftpaudit.Entry) bool) {
		for i := range deferred {
			if !yield(&deferred[i].e) {
				return
			}
		}
	}
}
