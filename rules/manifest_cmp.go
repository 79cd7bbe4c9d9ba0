package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"github.com/ftpaudit/ftpaudit/internal/manifest"
)

// ManifestFindings compares h's entries with the manifests and returns the
// not-in-manifest and missing-from-archive findings, with the policy
// applied as Judge applies it (see the package doc), sorted
// (SortFindings). p may be nil for DefaultPolicy.
// Manifests without entries say nothing and are not compared.
//
// A manifest covers the subtree of its Root. An entry strictly below the
// Root that no covering manifest lists is not-in-manifest (high; low
// inside a declared drop box). Not compared: the manifest files and every
// other manifest name and its detached signature (SHA256SUMS.gpg), and
// entries inside directories the server would not list. ls-lR covers all
// types; an entry an ls-lR lists as another type, or as a file of another
// size (both known), is not-in-manifest too, with the difference as
// evidence: a replaced file is how trojaned archives are made. Sizes of
// directories and symlinks are not compared (a directory's size changes
// as entries are added). Checksum manifests cover files only, and a flat
// one (every name in its own directory, as "sha256sum *" makes them)
// covers only the files of its own directory, not those of
// subdirectories. An entry is in if any covering manifest lists it. A
// name starting with "." (or inside such a directory) that no covering
// manifest could have listed, because none lists any dot name (ls -lR
// without -a), is still reported, at the same severity: dot names are
// where uploads hide. Its evidence says so.
//
// A listed path the archive does not have is missing-from-archive
// (medium), but only where that is known: its parent directory was
// listed in full by this scan (not unreadable, no failed or partial
// listing, no unparsed line, not left undescended, at or below the start
// directory). Below a missing directory only the directory is reported,
// with the number of entries listed below it.
//
// An ls-lR whose Root was taken from an absolute header below the
// manifest's directory (see ParseManifest) is re-based onto the
// manifest's directory when the scan listed that directory but found no
// directory at Root: its absolute paths were the server's, after all.
//
// The host's entries are read in one pass in path order (h.AllEntries)
// and looked up by path (h.EntryFinder), never held all at once; the
// manifests are. When the entries cannot all be read back (h.EntriesErr)
// the comparison sees only those read before the failure, so it may
// report listed paths as missing: the caller checks h.EntriesErr and
// fails the run (see Judge).
func ManifestFindings(h *ftpaudit.HostResult, ms []*ftpaudit.Manifest, p *Policy) []ftpaudit.Finding {
	if h == nil || len(ms) == 0 {
		return nil
	}
	if p == nil {
		p = DefaultPolicy()
	}
	c := newManifestCompare(h, ms, p)
	c.notInManifest()
	c.missing()
	return c.c.finish()
}

// manifestView is a manifest as compared: possibly re-based.
type manifestView struct {
	m       *ftpaudit.Manifest
	root    string
	entries []ftpaudit.ManifestEntry
	flat    bool   // a checksum manifest listing only its own directory
	noDots  bool   // lists no name starting with "."
	desc    string // for evidence
	absent  string // "not listed in ..." evidence
}

type manifestDirInfo struct {
	covering   []int // views whose root is at or above the directory
	unreadable bool  // the directory or one above is unreadable
}

type manifestCompare struct {
	h     *ftpaudit.HostResult
	hp    *hostPolicy
	start string

	// find looks the scan's entries up by path (h.EntryFinder).
	find       func(path string) *ftpaudit.Entry
	unreadable map[string]bool
	blocked    map[string]bool // directories whose content is not known in full
	mpaths     map[string]bool // the manifests' own paths

	views  []*manifestView
	roots  map[string][]int
	dirs   map[string]*manifestDirInfo
	listed map[string]bool

	c *collector
}

func newManifestCompare(h *ftpaudit.HostResult, ms []*ftpaudit.Manifest, p *Policy) *manifestCompare {
	hp := p.forHost(h.Target.URL)
	c := &manifestCompare{
		h:          h,
		hp:         hp,
		c:          newCollector(h.Target.URL, hp),
		start:      h.Target.Start,
		unreadable: map[string]bool{},
		blocked:    map[string]bool{},
		mpaths:     map[string]bool{},
		roots:      map[string][]int{},
		dirs:       map[string]*manifestDirInfo{},
		listed:     map[string]bool{},
	}
	if c.start == "" {
		c.start = "/"
	}
	c.find = h.EntryFinder()
	for _, u := range h.Unreadable {
		c.unreadable[u.Path] = true
		c.blocked[u.Path] = true
	}
	for _, e := range h.Errors {
		// Failed, partial or never made listings, unparsed lines (the
		// line may be the very entry in question), names that could
		// not be sent: what is below is not known in full.
		c.blocked[e.Path] = true
	}
	for _, n := range h.Notes {
		if strings.Contains(n.Error, "not descended") {
			c.blocked[n.Path] = true
		}
	}
	for _, m := range ms {
		if m == nil || len(m.Entries) == 0 || !strings.HasPrefix(m.Root, "/") {
			continue
		}
		c.mpaths[m.Path] = true
		c.addView(m)
	}
	return c
}

func (c *manifestCompare) addView(m *ftpaudit.Manifest) {
	v := &manifestView{m: m, root: m.Root, entries: m.Entries}
	if !slices.IsSortedFunc(v.entries, func(a, b ftpaudit.ManifestEntry) int { return strings.Compare(a.Path, b.Path) }) {
		v.entries = slices.Clone(v.entries)
		slices.SortStableFunc(v.entries, func(a, b ftpaudit.ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
	}
	kind := "ls-lR"
	if m.Kind == ftpaudit.ManifestSums {
		kind = "checksum"
	}
	v.desc = fmt.Sprintf("%s (%s index of %s)", ftpaudit.EvidenceName(m.Path), kind, ftpaudit.EvidenceName(v.root))
	mdir, _ := ftppath.Split(m.Path)
	if m.Rebasable && ftppath.Below(m.Root, mdir) && !c.dirSeen(m.Root) && c.isListed(mdir) {
		v.root = mdir
		v.entries = make([]ftpaudit.ManifestEntry, 0, len(m.Entries))
		for _, e := range m.Entries {
			if !ftppath.Below(e.Path, m.Root) {
				continue
			}
			e.Path = ftppath.Join(mdir, e.Path[len(m.Root)+1:])
			v.entries = append(v.entries, e)
		}
		v.desc = fmt.Sprintf("%s (ls-lR index of %s; the archive has no %s, so its paths under %s are taken as the server's and read relative to %s)",
			ftpaudit.EvidenceName(m.Path), ftpaudit.EvidenceName(mdir), ftpaudit.EvidenceName(m.Root), ftpaudit.EvidenceName(m.Root), ftpaudit.EvidenceName(mdir))
	}
	if m.Kind == ftpaudit.ManifestSums {
		v.flat = true
		for _, e := range v.entries {
			if d, _ := ftppath.Split(e.Path); d != v.root {
				v.flat = false
				break
			}
		}
	}
	v.noDots = !slices.ContainsFunc(v.entries, func(e ftpaudit.ManifestEntry) bool { return dotBelow(e.Path, v.root) })
	v.absent = "not listed in " + v.desc
	c.roots[v.root] = append(c.roots[v.root], len(c.views))
	c.views = append(c.views, v)
}

// lookup returns the scan's entry at path p, or nil; of entries sharing
// a path, the last one in path order.
func (c *manifestCompare) lookup(p string) *ftpaudit.Entry {
	return c.find(p)
}

// dirSeen reports whether the scan found directory d (or started there,
// or above it).
func (c *manifestCompare) dirSeen(d string) bool {
	if ftppath.AtOrBelow(c.start, d) {
		return true
	}
	e := c.lookup(d)
	return e != nil && e.Type == ftpaudit.TypeDir
}

// isListed reports whether the scan listed directory d in full.
func (c *manifestCompare) isListed(d string) bool {
	if v, ok := c.listed[d]; ok {
		return v
	}
	ok := ftppath.AtOrBelow(d, c.start)
	if ok && d != c.start {
		e := c.lookup(d)
		ok = e != nil && e.Type == ftpaudit.TypeDir
	}
	for q := d; ok; {
		if c.blocked[q] {
			ok = false
		}
		if q == "/" || q == c.start {
			break
		}
		q, _ = ftppath.Split(q)
	}
	c.listed[d] = ok
	return ok
}

// dirInfo returns what the comparison needs to know about directory d.
func (c *manifestCompare) dirInfo(d string) *manifestDirInfo {
	if di, ok := c.dirs[d]; ok {
		return di
	}
	di := &manifestDirInfo{}
	if d != "/" {
		parent, _ := ftppath.Split(d)
		pi := c.dirInfo(parent)
		di.covering, di.unreadable = pi.covering, pi.unreadable
	}
	if vs := c.roots[d]; len(vs) > 0 {
		di.covering = append(slices.Clip(di.covering), vs...)
	}
	di.unreadable = di.unreadable || c.unreadable[d]
	c.dirs[strings.Clone(d)] = di // (a copy: d may be a part of an entry read back)
	return di
}

func (c *manifestCompare) skipName(p string) bool {
	_, name := ftppath.Split(p)
	return c.mpaths[p] || manifest.IsCompanion(name)
}

func (c *manifestCompare) notInManifest() {
	var absent, mismatch []string
	var applies []int
	for e := range c.h.AllEntries() {
		if !strings.HasPrefix(e.Path, "/") || strings.HasSuffix(e.Path, "/") {
			continue
		}
		parent, _ := ftppath.Split(e.Path)
		di := c.dirInfo(parent)
		if len(di.covering) == 0 || di.unreadable || c.skipName(e.Path) {
			continue
		}
		absent, mismatch, applies = absent[:0], mismatch[:0], applies[:0]
		in := false
		for _, vi := range di.covering {
			v := c.views[vi]
			if v.m.Kind == ftpaudit.ManifestSums && (e.Type != ftpaudit.TypeFile || (v.flat && parent != v.root)) {
				continue
			}
			applies = append(applies, vi)
			me := v.find(e.Path)
			if me == nil {
				absent = append(absent, v.absent)
				continue
			}
			if why := manifestMismatch(v, me, e); why != "" {
				mismatch = append(mismatch, why)
				continue
			}
			in = true
			break
		}
		if in || len(applies) == 0 {
			continue
		}
		ev := make([]string, 0, len(mismatch)+len(absent)+2)
		ev = append(append(ev, mismatch...), absent...)
		if len(mismatch) == 0 && c.dotBlind(applies, e.Path) {
			ev = append(ev, manifestDotNote)
		}
		sev := ruleSeverity(ftpaudit.RuleNotInManifest)
		if box := glob.MatchAtOrBelow(c.hp.dropBoxes, e.Path); box != nil {
			sev = ftpaudit.SevLow
			ev = append(ev, "inside the declared drop box "+box.String())
		}
		c.add(e.Path, ftpaudit.RuleNotInManifest, sev, ev, e.Size, e.Modified)
	}
}

// manifestDotNote explains a dot name that indexes without dot names
// could not have listed.
const manifestDotNote = "no covering index lists any name starting with \".\" (ls -lR without -a and \"sha256sum *\" leave them out), so none could list this one: it may be an ordinary dotfile such as .message, or an upload hidden under a dot name"

// dotBelow reports whether path p, below root, has an element below root
// that starts with ".".
func dotBelow(p, root string) bool {
	if root != "/" {
		p = p[len(root):]
	}
	return strings.Contains(p, "/.")
}

// dotBlind reports whether p has a name starting with "." below the
// roots of the manifests vis, none of which lists such a name.
func (c *manifestCompare) dotBlind(vis []int, p string) bool {
	for _, vi := range vis {
		v := c.views[vi]
		if !v.noDots || !dotBelow(p, v.root) {
			return false
		}
	}
	return len(vis) > 0
}

func (v *manifestView) find(p string) *ftpaudit.ManifestEntry {
	i, ok := slices.BinarySearchFunc(v.entries, p, func(e ftpaudit.ManifestEntry, p string) int { return strings.Compare(e.Path, p) })
	if !ok {
		return nil
	}
	return &v.entries[i]
}

// manifestMismatch says how the archive's entry differs from what the
// index lists: another type, or (files only, both sizes known) another
// size. "" when it matches.
func manifestMismatch(v *manifestView, me *ftpaudit.ManifestEntry, e *ftpaudit.Entry) string {
	if me.Type != e.Type {
		return fmt.Sprintf("listed in %s line %d as %s; the archive has %s", ftpaudit.EvidenceName(v.m.Path), me.Line, typePhrase(me.Type), typePhrase(e.Type))
	}
	if e.Type == ftpaudit.TypeFile && me.Size >= 0 && e.Size >= 0 && me.Size != e.Size {
		return fmt.Sprintf("listed in %s line %d as a %d-byte file; the archive has %d bytes: replaced since the index was built, or the index is stale",
			ftpaudit.EvidenceName(v.m.Path), me.Line, me.Size, e.Size)
	}
	return ""
}

func typePhrase(t ftpaudit.EntryType) string {
	switch t {
	case ftpaudit.TypeDir:
		return "a directory"
	case ftpaudit.TypeFile:
		return "a file"
	case ftpaudit.TypeLink:
		return "a symlink"
	}
	return "an entry of another type (device, pipe or socket)"
}

func (c *manifestCompare) missing() {
	incomplete := ""
	if !c.h.Complete && len(c.h.Incomplete) > 0 {
		incomplete = strings.Join(c.h.Incomplete, "; ")
	} else if !c.h.Complete {
		incomplete = "reason not recorded"
	}
	for _, v := range c.views {
		for i := range v.entries {
			me := &v.entries[i]
			if c.lookup(me.Path) != nil || c.skipName(me.Path) {
				continue
			}
			parent, _ := ftppath.Split(me.Path)
			if !c.isListed(parent) {
				continue
			}
			what := typePhrase(me.Type)
			switch {
			case me.Hash != "":
				what = fmt.Sprintf("a file with %s digest %s", hashName(len(me.Hash)), me.Hash)
			case me.Type == ftpaudit.TypeFile && me.Size >= 0:
				what = fmt.Sprintf("a %d-byte file", me.Size)
			}
			ev := []string{
				fmt.Sprintf("listed in %s line %d as %s", v.desc, me.Line, what),
				fmt.Sprintf("the scan listed %s and it is not there", ftpaudit.EvidenceName(parent)),
			}
			if me.Type == ftpaudit.TypeDir {
				n := 0
				for j := i + 1; j < len(v.entries) && ftppath.Below(v.entries[j].Path, me.Path); j++ {
					n++
				}
				if n > 0 {
					ev = append(ev, fmt.Sprintf("the index lists %s below it, not reported one by one", plural(n, "more entry", "more entries")))
				}
			}
			if incomplete != "" {
				ev = append(ev, fmt.Sprintf("the scan was incomplete (%s), but it listed %s in full", ftpaudit.EvidenceReply(incomplete), ftpaudit.EvidenceName(parent)))
			}
			c.add(me.Path, ftpaudit.RuleMissingManifest, ruleSeverity(ftpaudit.RuleMissingManifest), ev, me.Size, time.Time{})
		}
	}
}

func hashName(n int) string {
	switch n {
	case 32:
		return "MD5"
	case 40:
		return "SHA-1"
	case 56:
		return "SHA-224"
	case 64:
		return "SHA-256"
	case 96:
		return "SHA-384"
	case 128:
		return "SHA-512"
	}
	return "a"
}

func ruleSeverity(id string) ftpaudit.Severity {
	r, _ := ftpaudit.RuleByID(id)
	return r.Severity
}

// add records a finding (see collector for what the policy does with it).
func (c *manifestCompare) add(path, rule string, sev ftpaudit.Severity, ev []string, size int64, mod time.Time) {
	c.c.add(ftpaudit.Finding{Path: strings.Clone(path), Rule: rule, Severity: sev, Evidence: ev, Size: size, Modified: mod}) // (see judge.finding)
}
