package rules

import (
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ftpaudit/ftpaudit"
)

// JudgeResult judges every host of r with p (nil: DefaultPolicy), the
// rules and the manifest comparison, and sets r.Findings, sorted
// (SortFindings).
func JudgeResult(r *ftpaudit.Result, p *Policy) {
	if p == nil {
		p = DefaultPolicy()
	}
	r.Findings = nil
	for _, h := range r.Hosts {
		r.Findings = append(r.Findings, Judge(h, p)...)
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
func Judge(h *ftpaudit.HostResult, p *Policy) []ftpaudit.Finding {
	if h == nil {
		return nil
	}
	if p == nil {
		p = DefaultPolicy()
	}
	j := newJudge(h, p)
	j.run()
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

	// entries is h.Entries sorted by path, when h.Entries is not (see at).
	entries []*ftpaudit.Entry
	// last is the answer of entry(lastPath), when lastOK.
	lastPath   string
	last       *ftpaudit.Entry
	lastOK     bool
	unreadable map[string]string
	probes     map[string][]*ftpaudit.ProbeResult

	learned     map[string]string // owner id → evidence
	learnedGrp  map[string]string // group id → evidence
	weakOwners  bool
	weakNote    string
	permFiles   int    // files with MLSD perm facts
	permPattern string // of fileWriteLetters, those granted on (nearly) every such file

	dirs   map[string]*dirVerdict
	areas  map[string]*dirVerdict // strongly writable directories
	totals map[string]*areaTotals
}

func newJudge(h *ftpaudit.HostResult, p *Policy) *judge {
	hp := p.forHost(h.Target.URL)
	j := &judge{
		h:          h,
		hp:         hp,
		c:          newCollector(h.Target.URL, hp),
		unreadable: map[string]string{},
		probes:     map[string][]*ftpaudit.ProbeResult{},
		learned:    map[string]string{},
		learnedGrp: map[string]string{},
		dirs:       map[string]*dirVerdict{},
		areas:      map[string]*dirVerdict{},
		totals:     map[string]*areaTotals{},
	}
	if !sortedByPath(h.Entries) {
		// HostResult.Entries is sorted by path when it comes from Walk;
		// only a hand-made one needs a sorted view.
		j.entries = make([]*ftpaudit.Entry, len(h.Entries))
		for i := range h.Entries {
			j.entries[i] = &h.Entries[i]
		}
		slices.SortStableFunc(j.entries, func(a, b *ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	}
	for _, u := range h.Unreadable {
		if _, ok := j.unreadable[u.Path]; !ok {
			j.unreadable[u.Path] = u.Error
		}
	}
	for i := range h.Probes {
		pr := &h.Probes[i]
		j.probes[pr.Dir] = append(j.probes[pr.Dir], pr)
	}
	return j
}

// sortedByPath reports whether es is in non-decreasing path order: one
// pass comparing paths in place (slices.IsSortedFunc would copy two
// entries per comparison).
func sortedByPath(es []ftpaudit.Entry) bool {
	for i := 1; i < len(es); i++ {
		if es[i].Path < es[i-1].Path {
			return false
		}
	}
	return true
}

// entry returns the entry at path p, or nil; of entries sharing a path,
// the last one in h.Entries. It searches the entries in path order (at)
// rather than keep a map of every path: a map of a million paths is
// ~50 MB more heap. The last answer is kept, since entries ask about
// their parent directory one after the other.
func (j *judge) entry(p string) *ftpaudit.Entry {
	if j.lastOK && j.lastPath == p {
		return j.last
	}
	i := sort.Search(len(j.h.Entries), func(i int) bool { return j.at(i).Path > p })
	var e *ftpaudit.Entry
	if i > 0 && j.at(i-1).Path == p {
		e = j.at(i - 1)
	}
	j.lastPath, j.last, j.lastOK = p, e, true
	return e
}

// at is the i-th entry in path order.
func (j *judge) at(i int) *ftpaudit.Entry {
	if j.entries != nil {
		return j.entries[i]
	}
	return &j.h.Entries[i]
}

// all yields every entry in path order.
func (j *judge) all() iter.Seq[*ftpaudit.Entry] {
	return func(yield func(*ftpaudit.Entry) bool) {
		for i := range j.h.Entries {
			if !yield(j.at(i)) {
				return
			}
		}
	}
}

// run judges the host: first what the later rules rely on (the anonymous
// account, how far ownership and MLSD perm facts can be trusted, which
// directories are writable and what is in them), then every entry, then
// what the scan fetched and probed.
func (j *judge) run() {
	j.anonymousLogin()
	j.learnAnonymous()
	j.checkOwnership()
	j.checkFilePerms()
	j.decideDirs()
	j.computeTotals()
	j.dirFindings()
	j.eachEntry(func(j *judge, e *ftpaudit.Entry) {
		j.hiddenName(e)
		j.worldWritableFile(e)
		j.uploadOwner(e)
		j.inWritableArea(e)
		j.suspiciousName(e)
		j.readableUploadListed(e)
		j.symlinkEscape(e)
		j.canaryEntry(e)
	})
	j.serverPermFacts()
	j.probeFindings()
	j.passwdHashes()
	j.unreadableDirs()
}

// shardMin is the fewest entries one goroutine of eachEntry judges, and
// shardWorkers the most goroutines (0: GOMAXPROCS); tests change them.
var (
	shardMin     = 1 << 15
	shardWorkers = 0
)

// eachEntry applies rules to every entry, in path order. A host of many
// entries is cut into runs of consecutive entries judged in parallel,
// each by a copy of j with a collector of its own: the per-entry rules
// read what the steps before them learned and write nothing but their
// findings (and the copy's cache of entry lookups). The runs' findings
// are then added in order, so the collector holds exactly what one
// goroutine judging every entry would have added, in the same order. A
// panic in a run is raised again here.
func (j *judge) eachEntry(rules func(j *judge, e *ftpaudit.Entry)) {
	n := len(j.h.Entries)
	w := shardWorkers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	w = min(w, n/shardMin)
	if w < 2 {
		for e := range j.all() {
			rules(j, e)
		}
		return
	}
	outs := make([][]ftpaudit.Finding, w)
	panics := make([]any, w)
	var wg sync.WaitGroup
	for k := range w {
		jk, ck := *j, *j.c
		ck.out = nil
		jk.c = &ck
		lo, hi := k*n/w, (k+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[k] = recover() }()
			for i := lo; i < hi; i++ {
				rules(&jk, jk.at(i))
			}
			outs[k] = ck.out
		}()
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	for _, o := range outs {
		j.c.out = append(j.c.out, o...)
	}
}

// finding makes a finding about path, with the size and time of the entry
// at path when there is one.
func (j *judge) finding(path, rule string, sev ftpaudit.Severity, evidence []string) ftpaudit.Finding {
	f := ftpaudit.Finding{Path: path, Rule: rule, Severity: sev, Evidence: evidence, Size: -1}
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
