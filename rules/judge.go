package rules

import (
	"fmt"
	"iter"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/readahead"
)

// JudgeResult judges every host of r with p (nil: DefaultPolicy), the
// rules and the manifest comparison, and sets r.Findings, sorted
// (SortFindings).
//
// A host whose entries could not all be read back (h.EntriesErr, from a
// Source that spilled to disk) is judged on the entries that could: its
// findings may then be missing some, and the caller must check
// h.EntriesErr after JudgeResult and fail the run rather than report the
// host as judged in full.
func JudgeResult(r *ftpaudit.Result, p *Policy) {
	JudgeWalk(r, p, nil)
}

// JudgeWalk is JudgeResult for a walk's result whose listings pre
// observed as the walk kept them (pre[i] for r.Hosts[i]; a nil or
// missing one for none), each made with p (NewPrejudge): a host's
// per-entry rules then need no pass over its entries after the walk
// where what its Prejudge speculated holds, and the findings are the
// same either way.
func JudgeWalk(r *ftpaudit.Result, p *Policy, pre []*Prejudge) {
	given := p
	if p == nil {
		p = DefaultPolicy()
	}
	r.Findings = nil
	for i, h := range r.Hosts {
		var pj *Prejudge
		if i < len(pre) {
			pj = pre[i]
		}
		r.Findings = append(r.Findings, judgeHost(h, given, pj)...)
		if len(h.Manifests) > 0 {
			r.Findings = append(r.Findings, ManifestFindings(h, h.Manifests, p)...)
		}
	}
	ftpaudit.SortFindings(r.Findings)
}

// Judge returns every finding of the rule catalogue for one walked host,
// with the policy applied (see the package doc for its order), sorted
// (SortFindings). p may be nil for DefaultPolicy. It does not compare with
// manifests (ManifestFindings) or a baseline (NewBaselineJudge).
//
// It reads the host's entries with h.AllEntries and h.EntryFinder, so a
// walk's Source is read back several times and never held in memory as
// a whole. When reading them back fails, each pass sees the entries up
// to the failure and Judge returns what those show, without a finding
// that says so: the caller checks h.EntriesErr() after Judge and must
// not present the result as complete (the CLI fails the run).
func Judge(h *ftpaudit.HostResult, p *Policy) []ftpaudit.Finding {
	return judgeHost(h, p, nil)
}

// judgeHost is Judge, with what pre observed of h's walk (nil: nothing);
// pre is used only when it was made with p, as given (nil included).
func judgeHost(h *ftpaudit.HostResult, p *Policy, pre *Prejudge) []ftpaudit.Finding {
	if h == nil {
		return nil
	}
	pre = pre.usable(h, p)
	if p == nil {
		p = DefaultPolicy()
	}
	j := newJudge(h, p)
	j.run(pre)
	return j.c.finish()
}

// judge holds what the rules learn about one host while they judge it.
// The steps of run fill it in order: the anonymous account (owners.go),
// the directories' writability (dirs.go), then the per-entry rules
// (names.go, links.go, owners.go, dirs.go) and the fetched files and
// probes (probes.go). Findings go to the collector c (findings.go).
type judge struct {
	h  *ftpaudit.HostResult
	hp *hostPolicy
	c  *collector

	// find looks entries up by path (h.EntryFinder; nil until entry
	// first needs it): it is for one goroutine, so every copy of the
	// judge that eachEntry runs on another goroutine gets a finder of
	// its own.
	find       func(path string) *ftpaudit.Entry
	unreadable map[string]string
	probes     map[string][]*ftpaudit.ProbeResult
	uploaded   bool // a probe's STOR or MKD was accepted (in any directory)

	learned     map[string]string // owner id → evidence
	learnedGrp  map[string]string // group id → evidence
	weakOwners  bool
	weakNote    string
	ownTotal    int // entries with an owner (checkOwnership)
	ownAnon     int // of them, shown as owned by the anonymous account
	permFiles   int // files with MLSD perm facts
	permCount   [len(fileWriteLetters)]int
	permPattern string // of fileWriteLetters, those granted on (nearly) every such file

	dirs   map[string]*dirVerdict
	areas  map[string]*dirVerdict // strongly writable directories
	totals map[string]*areaTotals

	// Memos of the last answer to a question that consecutive entries
	// ask alike (anonOwner, anonGroup, dropBoxAt): values, so that every
	// copy of the judge (eachEntry) has its own.
	owners, groups idMemo
	box            boxMemo
}

func newJudge(h *ftpaudit.HostResult, p *Policy) *judge {
	j := blankJudge(p, h.Target.URL)
	j.h = h
	for _, u := range h.Unreadable {
		if _, ok := j.unreadable[u.Path]; !ok {
			j.unreadable[u.Path] = u.Error
		}
	}
	for i := range h.Probes {
		pr := &h.Probes[i]
		j.probes[pr.Dir] = append(j.probes[pr.Dir], pr)
		j.uploaded = j.uploaded || pr.File.Accepted || pr.Mkdir.Accepted
	}
	return j
}

// blankJudge is a judge of the host at url with p, that has learned
// nothing yet (and has no host result).
func blankJudge(p *Policy, url string) *judge {
	hp := p.forHost(url)
	return &judge{
		hp:         hp,
		c:          newCollector(url, hp),
		unreadable: map[string]string{},
		probes:     map[string][]*ftpaudit.ProbeResult{},
		learned:    map[string]string{},
		learnedGrp: map[string]string{},
		dirs:       map[string]*dirVerdict{},
		areas:      map[string]*dirVerdict{},
		totals:     map[string]*areaTotals{},
	}
}

// entry returns the entry at path p, or nil; of entries sharing a path,
// the last one in path order. It asks the host's finder (EntryFinder):
// a search of the sorted entries, or of the Source's index, rather than a
// map of every path (a map of a million paths is ~50 MB more heap); the
// finder keeps its last answer, since entries ask about their parent
// directory one after the other.
func (j *judge) entry(p string) *ftpaudit.Entry {
	if j.find == nil {
		// Made when first needed: a copy of the judge on another
		// goroutine may never need one, and making one can cost a pass
		// over the entries (a check that Entries is sorted).
		j.find = j.h.EntryFinder()
	}
	return j.find(p)
}

// all yields every entry in path order (h.AllEntries). Each call reads
// the entries again (from a Source: decodes them again), so a step that
// needs them reads them once, and keeps only what it learns per
// directory, owner or area, never per entry.
func (j *judge) all() iter.Seq[*ftpaudit.Entry] {
	return j.h.AllEntries()
}

// run judges the host: first what the later rules rely on (the anonymous
// account, how far ownership and MLSD perm facts can be trusted, which
// directories are writable and what is in them), then every entry, then
// what the scan fetched and probed.
//
// pre, when not nil, observed every entry as the walk kept it: its
// counts stand in for the survey's pass where nothing could be learned
// from an upload (canSurveyFrom), and its findings for the per-entry
// rules' pass where what it speculated holds (speculationHolds).
func (j *judge) run(pre *Prejudge) {
	j.anonymousLogin()
	if pre != nil && j.canSurveyFrom(pre) {
		j.decideDirs(j.surveyFrom(pre))
	} else {
		j.decideDirs(j.survey())
	}
	j.computeTotals()
	j.dirFindings()
	permFiles := j.all()
	if pre != nil && j.speculationHolds(pre) {
		permFiles = pre.replay(j)
	} else {
		pre.drop()
		j.eachEntry(perEntry)
	}
	j.serverPermFacts(permFiles)
	j.probeFindings()
	j.passwdHashes()
	j.unreadableDirs()
}

// perEntry applies the per-entry rules to e. Each reads e and what the
// steps before it learned (the anonymous account's ids, the
// directories' verdicts and areas, the perm pattern), and writes nothing
// but its findings.
func perEntry(j *judge, e *ftpaudit.Entry) {
	j.hiddenName(e)
	j.worldWritableFile(e)
	j.uploadOwner(e)
	j.inWritableArea(e)
	j.suspiciousName(e)
	j.readableUploadListed(e)
	j.symlinkEscape(e)
	j.canaryEntry(e)
}

// survey reads every entry once for what the later steps rely on: the
// owners and groups learned from uploads (learnAnonymous), how many
// entries show the anonymous account as owner (checkOwnership), the
// server-wide pattern of file perm facts (checkFilePerms), and the
// directories' entries (seenDirs: copies, since an entry read back from
// a Source would keep its block's text in memory), which it returns.
// (Each of the first three reads only the entry and its parent, never
// what another one learns, so one pass does for all.)
func (j *judge) survey() *seenDirs {
	learn := j.hp.learn || j.hp.learnGIDs
	dirs := &seenDirs{}
	for e := range j.readAhead() {
		if learn {
			j.learnAnonymous(e, dirs)
		}
		j.checkOwnership(e)
		j.checkFilePerms(e)
		dirs.see(e)
	}
	j.settleOwnership()
	j.settlePerms()
	return dirs
}

// seenDirs holds, for every path of a directory entry read so far, in
// path order, a copy (sharing nothing: see decideDir) of the last entry
// read at that path, whatever its type. Entries are read in path order,
// in which every entry at a path comes before the entries below it: so
// when an entry is read, seenDirs already holds the entry the finder
// (j.entry) gives at each directory above it, and once every entry was
// read, the finder's entry at each of its paths.
type seenDirs struct {
	es []*ftpaudit.Entry
	// grants is set once an entry read is a directory that grants
	// anonymous users uploads by its mode or perm facts (grantsUpload).
	grants bool
}

// see takes e, the next entry read.
func (d *seenDirs) see(e *ftpaudit.Entry) {
	n := len(d.es)
	switch {
	case n > 0 && d.es[n-1].Path == e.Path: // a path's entries are read one after the other
		c := e.Clone()
		d.es[n-1] = &c
	case e.Type == ftpaudit.TypeDir:
		c := e.Clone()
		d.es = append(d.es, &c)
	}
	d.grants = d.grants || grantsUpload(e)
}

// at returns the last entry read at path p when p is a directory's
// path, nil otherwise.
func (d *seenDirs) at(p string) *ftpaudit.Entry {
	es := d.es
	n := len(es)
	if n > 0 && es[n-1].Path == p {
		return es[n-1]
	}
	if i := sort.Search(n, func(i int) bool { return es[i].Path >= p }); i < n && es[i].Path == p {
		return es[i]
	}
	return nil
}

// shardMin is the fewest entries per goroutine for eachEntry to judge in
// parallel (a host of fewer than 2*shardMin entries is judged by one
// goroutine), shardWorkers the most goroutines (0: GOMAXPROCS), and
// shardBatch the most entries handed to a goroutine at once (a batch is
// never larger than shardMin either, so that a test setting shardMin to
// 1 judges batches of one entry); tests change them.
var (
	shardMin     = 1 << 15
	shardWorkers = 0
	shardBatch   = 4096
)

// entryBatch is a run of consecutive entries judged by one goroutine of
// eachEntry, and what came of it.
type entryBatch struct {
	es   []*ftpaudit.Entry
	out  []ftpaudit.Finding
	pan  any           // a panic while judging (or reading) it
	done chan struct{} // closed once out or pan is set
}

// eachEntry applies rules to every entry, in path order. A host of many
// entries is judged in parallel: one goroutine reads the entries
// (AllEntries) and hands out runs of consecutive entries (batches of
// shardBatch) to workers, each a copy of j with a collector and an entry
// finder of its own: the per-entry rules read what the steps before them
// learned and write nothing but their findings (and the finder's cache of
// its last lookup). The calling goroutine takes the batches back in the
// order they were read and adds their findings, so the collector holds
// exactly what one goroutine judging every entry would have added, in the
// same order. At most 2*workers batches are read ahead of the one whose
// findings are added next, so the entries in memory stay bounded, however
// many the host has. A panic in a worker (or while reading the entries)
// is raised again here, once every goroutine has stopped.
//
// When the entries cannot all be read back (h.EntriesErr), the rules
// judge those read before the failure; see Judge.
func (j *judge) eachEntry(rules func(j *judge, e *ftpaudit.Entry)) {
	n := j.h.NumEntries()
	minPer := max(shardMin, 1)
	w := shardWorkers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	w = min(w, n/minPer)
	if w < 2 {
		for e := range j.all() {
			rules(j, e)
		}
		return
	}
	size := max(min(shardBatch, minPer), 1)
	work := make(chan *entryBatch)
	// order holds the batches in the order read, for the collector: its
	// capacity bounds the batches in flight.
	order := make(chan *entryBatch, 2*w)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reader
		defer wg.Done()
		defer close(work)
		defer close(order)
		defer func() {
			if p := recover(); p != nil {
				b := &entryBatch{pan: p, done: make(chan struct{})}
				close(b.done)
				select {
				case order <- b:
				case <-stop:
				}
			}
		}()
		send := func(es []*ftpaudit.Entry) bool {
			b := &entryBatch{es: es, done: make(chan struct{})}
			select {
			case order <- b:
			case <-stop:
				return false
			}
			work <- b // the workers take every batch until work is closed
			return true
		}
		es := make([]*ftpaudit.Entry, 0, size)
		for e := range j.all() {
			es = append(es, e)
			if len(es) == size {
				if !send(es) {
					return
				}
				es = make([]*ftpaudit.Entry, 0, size)
			}
		}
		if len(es) > 0 {
			send(es)
		}
	}()
	for range w {
		jk, ck := *j, *j.c
		jk.c = &ck
		jk.find = nil // its own, once it needs one (entry)
		wg.Add(1)
		go func() { // a worker
			defer wg.Done()
			for b := range work {
				func() {
					defer close(b.done)
					defer func() { b.pan, b.es = recover(), nil }()
					select {
					case <-stop:
						return // the collector no longer wants it
					default:
					}
					ck.out = nil
					for _, e := range b.es {
						rules(&jk, e)
					}
					b.out = ck.out
				}()
			}
		}()
	}
	var pan any
	for b := range order {
		if pan != nil {
			continue // draining, so that the reader can stop
		}
		<-b.done
		if b.pan != nil {
			pan = b.pan
			close(stop)
			continue
		}
		j.c.out = append(j.c.out, b.out...)
		b.out = nil
	}
	wg.Wait()
	if pan != nil {
		panic(pan)
	}
}

// readAhead is j.all(), read by a goroutine of its own in batches (as
// eachEntry's reader does), for a pass that must take the entries in
// order on one goroutine (survey): reading them back (the merge of
// listings, the decoding of spilled ones) then runs beside the pass's
// own work, on a second core. A host too small for eachEntry to split,
// or a process on one core, is read on the caller's goroutine. A panic
// while reading is raised again in the caller; a caller that stops
// early, or panics, stops the reader.
func (j *judge) readAhead() iter.Seq[*ftpaudit.Entry] {
	if j.h.NumEntries() < 2*max(shardMin, 1) || runtime.GOMAXPROCS(0) < 2 {
		return j.all()
	}
	return func(yield func(*ftpaudit.Entry) bool) {
		seq, stop := readahead.Seq(func(y func(*ftpaudit.Entry, error) bool) {
			for e := range j.all() {
				if !y(e, nil) {
					return
				}
			}
		}, max(min(shardBatch, shardMin), 1))
		defer stop()
		for e := range seq { // never an error: j.all() has none to give
			if !yield(e) {
				return
			}
		}
	}
}

// finding makes a finding about path, with the size and time of the entry
// at path when there is one.
func (j *judge) finding(path, rule string, sev ftpaudit.Severity, evidence []string) ftpaudit.Finding {
	// (A copy of path: it is often an entry's, read back from a Source,
	// and an uploader can make findings by the thousand.)
	f := ftpaudit.Finding{Path: strings.Clone(path), Rule: rule, Severity: sev, Evidence: evidence, Size: -1}
	if e := j.entry(path); e != nil {
		f.Size, f.Modified = e.Size, e.Modified
	}
	return f
}

// add records a finding (see collector for what the policy does with it).
// action is "" for the rule's catalogue action.
func (j *judge) add(path, rule string, sev ftpaudit.Severity, evidence []string, action string) {
	f := j.finding(path, rule, sev, evidence)
	f.Action = action
	j.c.add(f)
}

// plural counts: "1 file", "2 files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
