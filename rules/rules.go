package rules

import (
	"fmt"
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// JudgeResult judges every host of r with p (nil: DefaultPolicy), the
// rules and the manifest comparison, and sets r.Findings, sorted.
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

// Judge returns every finding for one host, sorted (SortFindings). p may
// be nil for DefaultPolicy.
func Judge(h *ftpaudit.HostResult, p *Policy) []ftpaudit.Finding {
	if h == nil {
		return nil
	}
	if p == nil {
		p = DefaultPolicy()
	}
	j := newJudge(h, p)
	j.run()
	return j.finish()
}

// dirVerdict is what the judge decided about one directory's
// writability.
type dirVerdict struct {
	path     string
	e        *ftpaudit.Entry // nil for a probed directory without an entry (the start)
	strong   []string
	weak     []string // evidence that is weak on this server (ownership)
	probeEv  []string
	writable bool
	weakOnly bool // writable on weak evidence alone
	latent   bool
	listable bool
	reply    string     // the server's refusal, when not listable
	box      *glob.Glob // the policy drop box it is in
}

type judge struct {
	h    *ftpaudit.HostResult
	hp   *hostPolicy
	host string

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
	uniformPerm string // file perm letters granted on (nearly) every file
	uniformNote string

	dirs   map[string]*dirVerdict
	areas  map[string]*dirVerdict // strongly writable directories
	totals map[string]*areaTotals

	out   []ftpaudit.Finding
	index map[[2]string]int
}

type areaTotals struct {
	files, dirs, other int
	bytes              int64
	unknown            int
}

func newJudge(h *ftpaudit.HostResult, p *Policy) *judge {
	j := &judge{
		h:          h,
		hp:         p.forHost(h.Target.URL),
		host:       h.Target.URL,
		unreadable: map[string]string{},
		probes:     map[string][]*ftpaudit.ProbeResult{},
		learned:    map[string]string{},
		learnedGrp: map[string]string{},
		dirs:       map[string]*dirVerdict{},
		areas:      map[string]*dirVerdict{},
		totals:     map[string]*areaTotals{},
		index:      map[[2]string]int{},
	}
	byPath := func(a, b *ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) }
	if !slices.IsSortedFunc(h.Entries, func(a, b ftpaudit.Entry) int { return byPath(&a, &b) }) {
		// HostResult.Entries is sorted by path when it comes from Walk;
		// only a hand-made one needs a sorted view.
		j.entries = make([]*ftpaudit.Entry, len(h.Entries))
		for i := range h.Entries {
			j.entries[i] = &h.Entries[i]
		}
		slices.SortStableFunc(j.entries, byPath)
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

func (j *judge) run() {
	j.anonymousLogin()
	j.learnAnonymous()
	j.checkOwnership()
	j.checkFilePerms()
	j.decideDirs()
	j.computeTotals()
	j.dirFindings()
	for e := range j.all() {
		j.hiddenName(e)
		j.worldWritableFile(e)
		j.uploadOwner(e)
		j.inWritableArea(e)
		j.suspiciousName(e)
		j.readableUploadListed(e)
		j.symlinkEscape(e)
		j.canaryEntry(e)
	}
	j.probeFindings()
	j.passwdHashes()
	j.unreadableDirs()
}

// add records a finding; a second finding of the same rule for the same
// path is merged into the first.
func (j *judge) add(path, rule string, sev ftpaudit.Severity, evidence []string, action string) {
	k := [2]string{rule, path}
	if i, ok := j.index[k]; ok {
		f := &j.out[i]
		for _, ev := range evidence {
			if !slices.Contains(f.Evidence, ev) {
				f.Evidence = append(f.Evidence, ev)
			}
		}
		f.Severity = max(f.Severity, sev)
		return
	}
	f := ftpaudit.Finding{Host: j.host, Path: path, Rule: rule, Severity: sev, Evidence: evidence, Size: -1, Action: action}
	if e := j.entry(path); e != nil {
		f.Size, f.Modified = e.Size, e.Modified
	}
	j.index[k] = len(j.out)
	j.out = append(j.out, f)
}

func (j *judge) finish() []ftpaudit.Finding {
	out := make([]ftpaudit.Finding, 0, len(j.out))
	pol := j.hp.pol
	for _, f := range j.out {
		if glob.MatchAtOrBelow(j.hp.ignore, f.Path) != nil || pol.Off[f.Rule] {
			continue
		}
		if s, ok := pol.Severity[f.Rule]; ok {
			f.Severity = s
		}
		r, _ := ftpaudit.RuleByID(f.Rule)
		if f.Action == "" {
			f.Action = r.Action
		}
		if len(f.Evidence) == 0 {
			f.Evidence = []string{r.Explanation}
		}
		out = append(out, f)
	}
	ftpaudit.SortFindings(out)
	return out
}

// ---- ownership ----

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normID strips leading zeros from a numeric id.
func normID(s string) string {
	if !isDigits(s) {
		return s
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t
	}
	return "0"
}

// ownerIDs returns the owner as the listing gave it: the owner column or
// fact, and the MLSD UNIX.owner / UNIX.uid facts, without duplicates.
// The result is buf's (held by the caller, so that nothing is allocated
// per entry).
func ownerIDs(e *ftpaudit.Entry, buf *[4]string) []string {
	return ids(buf, e.Owner, e.Facts(), "unix.ownername", "unix.owner", "unix.uid")
}

func groupIDs(e *ftpaudit.Entry, buf *[4]string) []string {
	return ids(buf, e.Group, e.Facts(), "unix.groupname", "unix.group", "unix.gid")
}

func ids(buf *[4]string, first string, facts map[string]string, keys ...string) []string {
	out := buf[:0]
	add := func(s string) {
		s = normID(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(first)
	for _, k := range keys {
		add(facts[k])
	}
	return out
}

func isRootUser(id string) bool  { return id == "root" || id == "0" }
func isRootGroup(id string) bool { return id == "root" || id == "0" || id == "wheel" }

// anonOwner reports whether e is owned by the anonymous account: one of
// its owner ids is a configured (or, with learned, a learned) anonymous
// name or uid, and none is root (a server that names every owner "ftp"
// but gives UNIX.owner=0 is showing a root-owned file). how is the
// evidence.
func (j *judge) anonOwner(e *ftpaudit.Entry, learned bool) (how string, ok bool) {
	var buf [4]string
	ids := ownerIDs(e, &buf)
	if slices.ContainsFunc(ids, isRootUser) {
		return "", false
	}
	for _, id := range ids {
		if j.hp.names[id] || (isDigits(id) && j.hp.uids[id]) {
			return fmt.Sprintf("owner %s is the anonymous account", ftpaudit.EvidenceName(id)), true
		}
	}
	if learned {
		for _, id := range ids {
			if ev, ok := j.learned[id]; ok {
				return ev, true
			}
		}
	}
	return "", false
}

// anonGroup reports whether e's group is the anonymous account's: a
// configured name or gid, or a learned one, and never root, 0 or wheel.
func (j *judge) anonGroup(e *ftpaudit.Entry) (how string, ok, learned bool) {
	var buf [4]string
	ids := groupIDs(e, &buf)
	if slices.ContainsFunc(ids, isRootGroup) {
		return "", false, false
	}
	for _, id := range ids {
		if j.hp.names[id] || (isDigits(id) && j.hp.gids[id]) {
			return fmt.Sprintf("group %s is the anonymous account's", ftpaudit.EvidenceName(id)), true, false
		}
	}
	for _, id := range ids {
		if ev, ok := j.learnedGrp[id]; ok {
			return ev, true, true
		}
	}
	return "", false, false
}

// learnAnonymous takes as the anonymous account every owner (other than
// root, and other than the directory's own owner) of an entry directly
// inside a directory that others may write (mode o+w), that the server
// grants create or mkdir on (MLSD perm c or m), or where the probe's
// upload was accepted; and the groups of such entries likewise as its
// group. Entries are taken in path order, so the evidence names the
// first such directory.
func (j *judge) learnAnonymous() {
	if !j.hp.learn && !j.hp.learnGIDs {
		return
	}
	shares := func(a, b []string) bool {
		return slices.ContainsFunc(a, func(id string) bool { return slices.Contains(b, id) })
	}
	for e := range j.all() {
		if e.Type != ftpaudit.TypeFile && e.Type != ftpaudit.TypeDir {
			continue
		}
		parent, _ := ftppath.Split(e.Path)
		if !j.uploadSource(parent) {
			continue
		}
		pe := j.entry(parent)
		var buf, pbuf [4]string
		if ids := ownerIDs(e, &buf); j.hp.learn && len(ids) > 0 && !slices.ContainsFunc(ids, isRootUser) {
			_, known := j.anonOwner(e, false)
			if !known && (pe == nil || !shares(ownerIDs(pe, &pbuf), ids)) {
				for _, id := range ids {
					if _, ok := j.learned[id]; !ok {
						j.learned[id] = fmt.Sprintf("owner %s owns uploads in %s: taken as the anonymous account", ftpaudit.EvidenceName(id), ftpaudit.EvidenceName(parent))
					}
				}
			}
		}
		if ids := groupIDs(e, &buf); j.hp.learnGIDs && len(ids) > 0 && !slices.ContainsFunc(ids, isRootGroup) {
			known := slices.ContainsFunc(ids, func(id string) bool { return j.hp.names[id] || j.hp.gids[id] })
			if !known && (pe == nil || !shares(groupIDs(pe, &pbuf), ids)) {
				for _, id := range ids {
					if _, ok := j.learnedGrp[id]; !ok {
						j.learnedGrp[id] = fmt.Sprintf("group %s owns uploads in %s: taken as the anonymous account's group", ftpaudit.EvidenceName(id), ftpaudit.EvidenceName(parent))
					}
				}
			}
		}
	}
}

// uploadSource reports whether anonymous users can put entries in dir on
// evidence other than ownership.
func (j *judge) uploadSource(dir string) bool {
	for _, pr := range j.probes[dir] {
		if pr.File.Accepted || pr.Mkdir.Accepted {
			return true
		}
	}
	e := j.entry(dir)
	if e == nil || e.Type != ftpaudit.TypeDir {
		return false
	}
	return modeHas(e.Mode, 8, 'w') || strings.ContainsAny(e.Perm(), "cm")
}

// checkOwnership detects servers that show every owner as the anonymous
// account.
func (j *judge) checkOwnership() {
	total, anon := 0, 0
	for e := range j.all() {
		var buf [4]string
		if len(ownerIDs(e, &buf)) == 0 {
			continue
		}
		total++
		if _, ok := j.anonOwner(e, false); ok {
			anon++
		}
	}
	if total > 0 && anon*10 >= total*9 {
		j.weakOwners = true
		j.weakNote = fmt.Sprintf("%d of the %d entries with an owner (%d%%) are shown as owned by the anonymous account: this server probably shows every owner that way (vsftpd hide_ids, proftpd DirFakeUser), so ownership is weak evidence here",
			anon, total, anon*100/total)
	}
}

// checkFilePerms finds MLSD perm letters (a, d, f) that the server grants
// on nearly every file: a server-wide setting, not the file's own
// permissions (proftpd reports its command limits this way).
func (j *judge) checkFilePerms() {
	n := 0
	var count [3]int
	const letters = "adf"
	for e := range j.all() {
		if e.Type != ftpaudit.TypeFile || e.Perm() == "" {
			continue
		}
		n++
		for k := 0; k < len(letters); k++ {
			if strings.IndexByte(e.Perm(), letters[k]) >= 0 {
				count[k]++
			}
		}
	}
	if n < 10 {
		return
	}
	var parts []string
	for k := 0; k < len(letters); k++ {
		if count[k]*10 >= n*9 {
			j.uniformPerm += string(letters[k])
			parts = append(parts, fmt.Sprintf("%s on %d", permWord(letters[k]), count[k]))
		}
	}
	if j.uniformPerm != "" {
		j.uniformNote = fmt.Sprintf("the server grants %s of the %d files it gave perm facts for: a server-wide setting rather than this file's permissions, so weak evidence",
			strings.Join(parts, ", "), n)
	}
}

func permWord(c byte) string {
	switch c {
	case 'a':
		return "append (a)"
	case 'c':
		return "create files (c)"
	case 'd':
		return "delete (d)"
	case 'f':
		return "rename (f)"
	case 'm':
		return "make directories (m)"
	case 'p':
		return "delete entries (p)"
	case 'r':
		return "read (r)"
	case 'w':
		return "write (w)"
	}
	return string(c)
}

// permGrants describes which of letters perm grants; "" if none.
func permGrants(perm, letters string) string {
	var ws []string
	for i := 0; i < len(letters); i++ {
		if strings.IndexByte(perm, letters[i]) >= 0 {
			ws = append(ws, permWord(letters[i]))
		}
	}
	if len(ws) == 0 {
		return ""
	}
	return fmt.Sprintf("MLSD perm=%s: the server grants %s", ftpaudit.EvidenceName(perm), strings.Join(ws, ", "))
}

func modeHas(mode string, i int, c byte) bool {
	return len(mode) >= 10 && mode[i] == c
}

// ---- directories ----

func (j *judge) decideDirs() {
	var paths []string
	for e := range j.all() {
		if e.Type == ftpaudit.TypeDir {
			paths = append(paths, e.Path)
		}
	}
	for d := range j.probes {
		if j.entry(d) == nil {
			paths = append(paths, d)
		}
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	for _, p := range paths {
		v := j.decideDir(p)
		j.dirs[p] = v
		if v.writable && !v.weakOnly {
			j.areas[p] = v
		}
	}
}

func (j *judge) decideDir(p string) *dirVerdict {
	v := &dirVerdict{path: p, e: j.entry(p)}
	reply, unreadable := j.unreadable[p]
	v.reply, v.listable = reply, !unreadable
	v.box = glob.MatchAtOrBelow(j.hp.dropBoxes, p)
	if e := v.e; e != nil {
		if modeHas(e.Mode, 8, 'w') {
			v.strong = append(v.strong, fmt.Sprintf("mode %s: others may write", ftpaudit.EvidenceName(e.Mode)))
		}
		if g := permGrants(e.Perm(), "cmp"); g != "" {
			v.strong = append(v.strong, g)
		}
		if modeHas(e.Mode, 2, 'w') {
			if how, ok := j.anonOwner(e, true); ok {
				ev := []string{how, fmt.Sprintf("mode %s: the owner may write", ftpaudit.EvidenceName(e.Mode))}
				if _, configured := j.anonOwner(e, false); configured && j.weakOwners {
					v.weak = append(v.weak, ev...)
				} else {
					v.strong = append(v.strong, ev...)
				}
			}
		}
		if modeHas(e.Mode, 5, 'w') {
			if how, ok, learned := j.anonGroup(e); ok {
				ev := []string{how, fmt.Sprintf("mode %s: the group may write", ftpaudit.EvidenceName(e.Mode))}
				if j.weakOwners && !learned {
					v.weak = append(v.weak, ev...)
				} else {
					v.strong = append(v.strong, ev...)
				}
			}
		}
	}
	accepted, fileRefused, mkdirRefused := false, false, false
	for _, pr := range j.probes[p] {
		for _, st := range []struct {
			cmd     string
			s       ftpaudit.ProbeStep
			refused *bool
		}{{"STOR", pr.File, &fileRefused}, {"MKD", pr.Mkdir, &mkdirRefused}} {
			switch {
			case st.s.Accepted:
				accepted = true
				v.probeEv = append(v.probeEv, fmt.Sprintf("probe: %s accepted: %s", st.cmd, ftpaudit.EvidenceReply(st.s.Reply)))
			case st.s.Tried:
				*st.refused = true
				v.probeEv = append(v.probeEv, fmt.Sprintf("probe: %s refused: %s", st.cmd, ftpaudit.EvidenceReply(st.s.Reply)))
			}
		}
		if pr.Skipped != "" {
			v.probeEv = append(v.probeEv, "probe: not completed here: "+ftpaudit.EvidenceReply(pr.Skipped))
		}
	}
	switch {
	case accepted:
		v.writable = true
	case fileRefused && mkdirRefused:
		v.latent = len(v.strong) > 0
	default:
		v.writable = len(v.strong)+len(v.weak) > 0
		v.weakOnly = len(v.strong) == 0
	}
	return v
}

func (j *judge) computeTotals() {
	for a := range j.areas {
		j.totals[a] = &areaTotals{}
	}
	if len(j.areas) == 0 {
		return
	}
	for e := range j.all() {
		for q := e.Path; q != "/"; {
			q, _ = ftppath.Split(q)
			t := j.totals[q]
			if t == nil {
				continue
			}
			switch e.Type {
			case ftpaudit.TypeFile:
				t.files++
				if e.Size >= 0 {
					t.bytes += e.Size
				} else {
					t.unknown++
				}
			case ftpaudit.TypeDir:
				t.dirs++
			default:
				t.other++
			}
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (t *areaTotals) String() string {
	parts := []string{plural(t.files, "file", "files"), plural(t.dirs, "directory", "directories")}
	if t.other > 0 {
		parts = append(parts, plural(t.other, "other entry", "other entries"))
	}
	s := strings.Join(parts, ", ") + ", " + humanBytes(t.bytes)
	if t.unknown > 0 {
		s += fmt.Sprintf(" (and %s of unknown size)", plural(t.unknown, "file", "files"))
	}
	return s
}

func humanBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	f := float64(n)
	i := -1
	for f >= 999.95 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// areaAbove returns the nearest strongly writable directory strictly
// above p ("" if none).
func (j *judge) areaAbove(p string) string {
	if len(j.areas) == 0 {
		return ""
	}
	for q := p; q != "/" && q != ""; {
		q, _ = ftppath.Split(q)
		if _, ok := j.areas[q]; ok {
			return q
		}
	}
	return ""
}

func (j *judge) dirFindings() {
	paths := make([]string, 0, len(j.dirs))
	for p := range j.dirs {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		v := j.dirs[p]
		ev := slices.Concat(v.strong, v.weak, v.probeEv)
		if !v.writable && !v.latent {
			continue
		}
		if v.latent {
			ev = append(ev, "the server refused both canaries: its configuration, not the permissions, keeps anonymous users out")
			j.add(p, ftpaudit.RuleLatentWritable, ftpaudit.SevMedium, ev, "")
			continue
		}
		if v.weakOnly {
			ev = append(ev, j.weakNote+"; --probe decides")
		}
		if a := j.areaAbove(p); a != "" {
			ev = append(ev, fmt.Sprintf("inside writable area %s", ftpaudit.EvidenceName(a)))
		}
		if v.listable {
			ev = append(ev, "listable: anonymous users can see and download what is uploaded")
			if t := j.totals[p]; t != nil {
				ev = append(ev, "contents: "+t.String())
			}
			sev := ftpaudit.SevCritical
			if v.box != nil {
				ev = append(ev, fmt.Sprintf("the policy declares it a drop box (%s), but the server lists it", ftpaudit.EvidenceName(v.box.Pattern)))
			}
			if v.weakOnly {
				sev = ftpaudit.SevLow
			}
			j.add(p, ftpaudit.RuleWritableDir, sev, ev, "")
			continue
		}
		ev = append(ev, "not listable: "+ftpaudit.EvidenceReply(v.reply))
		sev, action := ftpaudit.SevMedium, ""
		switch {
		case v.box != nil:
			sev = ftpaudit.SevInfo
			ev = append(ev, fmt.Sprintf("the policy declares it a drop box (%s)", ftpaudit.EvidenceName(v.box.Pattern)))
			action = "Intended drop box: keep uploads unreadable to anonymous users and empty it regularly."
		case v.weakOnly:
			sev = ftpaudit.SevLow
		}
		j.add(p, ftpaudit.RuleDropboxDir, sev, ev, action)
	}
}

// ---- entries ----

func (j *judge) hiddenName(e *ftpaudit.Entry) {
	if tr := hiddenTraits(e.Name); len(tr) > 0 {
		j.add(e.Path, ftpaudit.RuleHiddenName, ftpaudit.SevHigh, tr, "")
	}
}

// hiddenTraits says why a name is built to be overlooked, one reason per
// trait; nil for an ordinary name (".message" and ".hidden" are ordinary
// dotfiles).
func hiddenTraits(name string) []string {
	if name == "" || name == "." || name == ".." {
		return nil
	}
	var out []string
	if !utf8.ValidString(name) {
		out = append(out, fmt.Sprintf("name %s is not valid UTF-8: clients show it differently, and some cannot open it", strconv.Quote(name)))
	}
	if strings.Trim(name, ". ") == "" {
		out = append(out, fmt.Sprintf("name %s is made only of dots and spaces: it passes for \".\", \"..\" or nothing in a listing", strconv.Quote(name)))
	} else {
		if r, _ := utf8.DecodeRuneInString(name); unicode.IsSpace(r) {
			out = append(out, fmt.Sprintf("name %s starts with white space", strconv.Quote(name)))
		}
		if r, _ := utf8.DecodeLastRuneInString(name); unicode.IsSpace(r) {
			out = append(out, fmt.Sprintf("name %s ends with white space", strconv.Quote(name)))
		}
	}
	var ctl, inv []string
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		i += n
		if (r >= 0x20 && r < 0x7f) || (r == utf8.RuneError && n <= 1) {
			continue
		}
		var s string
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			s = strings.Trim(strconv.QuoteRune(r), "'")
			if !slices.Contains(ctl, s) {
				ctl = append(ctl, s)
			}
		case isInvisible(r):
			s = fmt.Sprintf("U+%04X", r)
			if !slices.Contains(inv, s) {
				inv = append(inv, s)
			}
		}
	}
	if len(ctl) > 0 {
		out = append(out, fmt.Sprintf("name contains control characters (%s): they can rewrite a terminal or a log", strings.Join(ctl, " ")))
	}
	if len(inv) > 0 {
		out = append(out, fmt.Sprintf("name contains invisible or text-direction characters (%s): it does not read as what it is", strings.Join(inv, " ")))
	}
	if dev := windowsDevice(name); dev != "" {
		out = append(out, fmt.Sprintf("name is the Windows device name %s: Windows clients cannot open or delete it", dev))
	}
	return out
}

// isInvisible reports format characters (zero-width, bidi controls, soft
// hyphen, BOM, tags), line and paragraph separators, and letters that
// render as nothing.
func isInvisible(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x180E:
		return true
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

func windowsDevice(name string) string {
	base := name
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	if len(base) > len("CONOUT$") {
		return "" // longer than every device name (Map never shortens)
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

// worldWritableFile judges files outside writable areas; inside one,
// every upload is writable by its uploader, and in-writable-area carries
// the same evidence.
func (j *judge) worldWritableFile(e *ftpaudit.Entry) {
	if e.Type != ftpaudit.TypeFile || j.areaAbove(e.Path) != "" {
		return
	}
	if ev, sev := j.fileWritable(e, !j.weakOwners); sev >= 0 {
		j.add(e.Path, ftpaudit.RuleWorldWritableFile, sev, ev, "")
	}
}

// fileWritable collects the evidence that anonymous users may change a
// file, and its severity (-1: none). byOwner counts an anonymous owner or
// group with its w bit.
func (j *judge) fileWritable(e *ftpaudit.Entry, byOwner bool) ([]string, ftpaudit.Severity) {
	var ev []string
	sev := ftpaudit.Severity(-1)
	if modeHas(e.Mode, 8, 'w') {
		ev = append(ev, fmt.Sprintf("mode %s: others may write", ftpaudit.EvidenceName(e.Mode)))
		sev = ftpaudit.SevHigh
	}
	if byOwner && modeHas(e.Mode, 2, 'w') {
		if how, ok := j.anonOwner(e, true); ok {
			ev = append(ev, how, fmt.Sprintf("mode %s: the owner may write", ftpaudit.EvidenceName(e.Mode)))
			sev = ftpaudit.SevHigh
		}
	}
	if byOwner && modeHas(e.Mode, 5, 'w') {
		if how, ok, _ := j.anonGroup(e); ok {
			ev = append(ev, how, fmt.Sprintf("mode %s: the group may write", ftpaudit.EvidenceName(e.Mode)))
			sev = ftpaudit.SevHigh
		}
	}
	if g := permGrants(e.Perm(), "wadf"); g != "" {
		ev = append(ev, g)
		uniform := false
		for _, c := range []byte("wadf") {
			if strings.IndexByte(e.Perm(), c) < 0 {
				continue
			}
			switch {
			case strings.IndexByte(j.uniformPerm, c) >= 0:
				uniform = true
				sev = max(sev, ftpaudit.SevLow)
			case c == 'w' || c == 'a':
				sev = ftpaudit.SevHigh
			default:
				sev = max(sev, ftpaudit.SevMedium)
			}
		}
		if uniform {
			ev = append(ev, j.uniformNote)
		}
	}
	return ev, sev
}

func (j *judge) uploadOwner(e *ftpaudit.Entry) {
	if e.Type == ftpaudit.TypeLink {
		return
	}
	how, ok := j.anonOwner(e, true)
	if !ok {
		return
	}
	if _, ok := j.areas[e.Path]; ok || j.areaAbove(e.Path) != "" {
		return
	}
	if glob.MatchAtOrBelow(j.hp.dropBoxes, e.Path) != nil {
		return
	}
	if v := j.dirs[e.Path]; v != nil && (v.writable || v.latent) {
		return
	}
	ev := []string{how, "outside every writable area and declared drop box"}
	sev := ftpaudit.SevHigh
	if j.weakOwners {
		sev = ftpaudit.SevLow
		ev = append(ev, j.weakNote)
	}
	j.add(e.Path, ftpaudit.RuleUploadOwner, sev, ev, "")
}

func (j *judge) inWritableArea(e *ftpaudit.Entry) {
	if _, ok := j.areas[e.Path]; ok {
		return
	}
	a := j.areaAbove(e.Path)
	if a == "" {
		return
	}
	kind := "listable"
	if !j.areas[a].listable {
		kind = "not listable"
	}
	ev := []string{fmt.Sprintf("in writable area %s (%s): %s", ftpaudit.EvidenceName(a), kind, j.totals[a])}
	if how, ok := j.anonOwner(e, true); ok {
		ev = append(ev, how+": uploaded by an anonymous user")
	}
	if e.Type == ftpaudit.TypeFile {
		if wev, sev := j.fileWritable(e, false); sev >= 0 {
			ev = append(ev, wev...)
		}
	}
	j.add(e.Path, ftpaudit.RuleInWritableArea, ftpaudit.SevMedium, ev, "")
}

// uploadPlace says why p is a place where uploads land: inside a writable
// area, a declared drop box or a hidden directory ("" if none).
func (j *judge) uploadPlace(p string) string {
	if a := j.areaAbove(p); a != "" {
		return "inside writable area " + ftpaudit.EvidenceName(a)
	}
	parent, _ := ftppath.Split(p)
	if g := glob.MatchAtOrBelow(j.hp.dropBoxes, parent); g != nil && p != "/" {
		return fmt.Sprintf("inside drop box %s (policy %s)", ftpaudit.EvidenceName(parent), ftpaudit.EvidenceName(g.Pattern))
	}
	if h := hiddenAncestor(p); h != "" {
		return "inside hidden directory " + ftpaudit.EvidenceName(h)
	}
	return ""
}

// hiddenAncestor returns the first directory above p whose name has a
// hidden-name trait.
func hiddenAncestor(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	parts := strings.Split(p[1:], "/")
	for i := 0; i < len(parts)-1; i++ {
		if len(hiddenTraits(parts[i])) > 0 {
			return "/" + strings.Join(parts[:i+1], "/")
		}
	}
	return ""
}

type namePattern struct {
	glob   *glob.Glob
	reason string
	upload bool // only where uploads land
}

func builtinPatterns() []namePattern {
	type b struct {
		pat, reason string
		upload      bool
	}
	list := []b{
		{"*.nfo", "release info file that warez groups sign their uploads with", false},
		{"*.sfv", "SFV checksum list that comes with warez releases", false},
		{"file_id.diz", "release description of warez and BBS uploads", false},
		{"*.r[0-9][0-9]", "numbered RAR volume, the way warez releases are split", false},
		{".rhosts", "trust file: lets remote users log in without a password", false},
		{".shosts", "trust file: lets remote users log in without a password", false},
		{"hosts.equiv", "trust file: lets remote users log in without a password", false},
		{".forward", "mail forwarding file: on a writable FTP home it runs commands when mail arrives", false},
		{".netrc", "FTP client credentials: holds passwords", false},
		{".ssh", "ssh configuration directory: where authorized_keys are planted", false},
		{"authorized_keys", "ssh key list: a planted key grants a shell", false},
		{"authorized_keys2", "ssh key list: a planted key grants a shell", false},
		{"id_rsa", "ssh private key", false},
		{"id_dsa", "ssh private key", false},
		{"id_ecdsa", "ssh private key", false},
		{"id_ed25519", "ssh private key", false},
		{".htpasswd", "web server password file: holds password hashes", false},
		{".htaccess", "web server configuration: an uploaded one reconfigures a web server that serves this tree", true},
	}
	for _, ext := range []string{"exe", "scr", "com", "pif", "bat", "cmd", "msi", "vbs"} {
		list = append(list, b{"*." + ext, "an executable where an archive does not put them", true})
	}
	for _, ext := range []string{"iso", "img", "dmg", "vhd", "vhdx", "vmdk"} {
		list = append(list, b{"*." + ext, "a disk image where an archive does not put them", true})
	}
	out := make([]namePattern, len(list))
	for i, x := range list {
		out[i] = namePattern{glob.Must(x.pat, glob.Name), x.reason, x.upload}
	}
	return out
}

var builtinNamePatterns = builtinPatterns()

// patternIndex finds which of a list of name patterns can match a name
// without trying each: exact names by map, "*suffix" patterns by the
// suffix's last "."-part, the rest always tried. Judging runs it on every
// entry, so it matters on large archives.
type patternIndex struct {
	pats   []namePattern
	exact  map[string][]int
	suffix map[string][]int // key: the literal's part from its last '.' ("" when none)
	other  []int
}

func newPatternIndex(pats []namePattern) *patternIndex {
	x := &patternIndex{pats: pats, exact: map[string][]int{}, suffix: map[string][]int{}}
	for i, np := range pats {
		lit, exact, suffix := np.glob.Shape()
		switch {
		case exact:
			x.exact[lit] = append(x.exact[lit], i)
		case suffix:
			k := lastDotPart(lit)
			x.suffix[k] = append(x.suffix[k], i)
		default:
			x.other = append(x.other, i)
		}
	}
	return x
}

// lastDotPart is s from its last '.', or "" when s has none.
func lastDotPart(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i:]
	}
	return ""
}

// matches appends to out the indexes, in list order, of the patterns that
// match lower (a lower-cased name).
func (x *patternIndex) matches(lower string, out []int) []int {
	n := len(out)
	out = append(out, x.exact[lower]...)
	for _, k := range [2]string{lastDotPart(lower), ""} {
		for _, i := range x.suffix[k] {
			if x.pats[i].glob.MatchLower(lower) {
				out = append(out, i)
			}
		}
		if k == "" {
			break
		}
	}
	for _, i := range x.other {
		if x.pats[i].glob.MatchLower(lower) {
			out = append(out, i)
		}
	}
	slices.Sort(out[n:])
	return out
}

var builtinNameIndex = newPatternIndex(builtinNamePatterns)

// markerWords are whole words (split at anything but letters and digits)
// that mark warez and cracks. Words that legitimate archives use
// ("patch", "serial", "crack" inside "cracklib") are not here alone.
var markerWords = map[string]string{
	"0day":      "warez scene term",
	"0days":     "warez scene term",
	"0dayz":     "warez scene term",
	"warez":     "warez scene term",
	"keygen":    "key generator: software piracy",
	"keygens":   "key generator: software piracy",
	"keymaker":  "key generator: software piracy",
	"crack":     "crack: software piracy",
	"cracked":   "crack: software piracy",
	"cracks":    "crack: software piracy",
	"crackz":    "crack: software piracy",
	"serials":   "serial numbers: software piracy",
	"serialz":   "serial numbers: software piracy",
	"tagged":    "warez tagging: couriers mark hijacked upload areas",
	"nulled":    "nulled (licence-stripped) software",
	"activator": "licence activator: software piracy",
	"activated": "pre-activated software: piracy",
	"kmspico":   "licence activator: software piracy",
}

// crackToolWords turn an executable into a crack tool ("patch.exe").
var crackToolWords = []string{"patch", "loader", "crack", "keygen", "activator", "kmspico"}

var executableExts = []string{"exe", "com", "scr", "msi", "bat", "cmd", "pif"}

// appendNameWords appends the words of lower, a lower-cased name (runs
// of a-z and 0-9: every other byte, UTF-8 or not, separates), to words.
func appendNameWords(words []string, lower string) []string {
	isWord := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i < len(lower); {
		for i < len(lower) && !isWord(lower[i]) {
			i++
		}
		j := i
		for j < len(lower) && isWord(lower[j]) {
			j++
		}
		if j > i {
			words = append(words, lower[i:j])
		}
		i = j
	}
	return words
}

func (j *judge) suspiciousName(e *ftpaudit.Entry) {
	var ev []string
	place := ""
	placeDone := false
	where := func() string {
		if !placeDone {
			place, placeDone = j.uploadPlace(e.Path), true
		}
		return place
	}
	lower := ascii.Lower(e.Name)
	report := func(np namePattern) {
		if np.upload {
			if w := where(); w != "" {
				ev = append(ev, fmt.Sprintf("name matches %s %s: %s", ftpaudit.EvidenceName(np.glob.Pattern), w, np.reason))
			}
			return
		}
		ev = append(ev, fmt.Sprintf("name matches %s: %s", ftpaudit.EvidenceName(np.glob.Pattern), np.reason))
	}
	var mbuf [4]int
	for _, i := range builtinNameIndex.matches(lower, mbuf[:0]) {
		report(builtinNamePatterns[i])
	}
	var wbuf [16]string
	words := appendNameWords(wbuf[:0], lower)
	var seen []string
	for i, w := range words {
		if r, ok := markerWords[w]; ok && !slices.Contains(seen, w) {
			seen = append(seen, w)
			ev = append(ev, fmt.Sprintf("name contains the word %q: %s", w, r))
		}
		if w == "serial" && i+1 < len(words) && (words[i+1] == "key" || words[i+1] == "keys" || words[i+1] == "number" || words[i+1] == "numbers") {
			ev = append(ev, fmt.Sprintf("name contains %q: serial numbers, software piracy", w+" "+words[i+1]))
		}
	}
	if len(words) > 1 && slices.Contains(executableExts, words[len(words)-1]) && e.Type == ftpaudit.TypeFile {
		for _, w := range words[:len(words)-1] {
			if slices.Contains(crackToolWords, w) {
				ev = append(ev, fmt.Sprintf("an executable named %q: how cracks are distributed", w))
				break
			}
		}
	}
	for _, sp := range j.hp.pol.Suspicious {
		if sp.Glob.MatchLower(lower) {
			report(namePattern{sp.Glob, "policy: " + sp.Reason, sp.UploadAreasOnly})
		}
	}
	if len(ev) > 0 {
		j.add(e.Path, ftpaudit.RuleSuspiciousName, ftpaudit.SevHigh, ev, "")
	}
}

// readableUploadListed: a listed file in a drop box (declared, or a
// writable directory that cannot be listed) that anonymous users may
// read.
func (j *judge) readableUploadListed(e *ftpaudit.Entry) {
	if e.Type != ftpaudit.TypeFile {
		return
	}
	parent, _ := ftppath.Split(e.Path)
	var box string
	if g := glob.MatchAtOrBelow(j.hp.dropBoxes, parent); g != nil {
		box = fmt.Sprintf("in drop box %s (policy %s)", ftpaudit.EvidenceName(parent), ftpaudit.EvidenceName(g.Pattern))
	} else if a := j.areaAbove(e.Path); a != "" && !j.areas[a].listable {
		box = fmt.Sprintf("in drop box %s (writable, not listable)", ftpaudit.EvidenceName(a))
	}
	if box == "" {
		return
	}
	var why []string
	if modeHas(e.Mode, 7, 'r') {
		why = append(why, fmt.Sprintf("mode %s: others may read", ftpaudit.EvidenceName(e.Mode)))
	}
	if g := permGrants(e.Perm(), "r"); g != "" {
		why = append(why, g)
	}
	if len(why) == 0 {
		return
	}
	j.add(e.Path, ftpaudit.RuleReadableUpload, ftpaudit.SevHigh, append([]string{box}, why...), "")
}

func (j *judge) symlinkEscape(e *ftpaudit.Entry) {
	t := e.Target()
	if e.Type != ftpaudit.TypeLink || t == "" {
		return
	}
	if strings.HasPrefix(t, "/") {
		j.add(e.Path, ftpaudit.RuleSymlinkEscape, ftpaudit.SevMedium, []string{fmt.Sprintf("target %s is absolute: it resolves outside the archive unless the server chroots anonymous users", ftpaudit.EvidenceName(t))}, "")
		return
	}
	dir, _ := ftppath.Split(e.Path)
	depth := 0
	if dir != "/" {
		depth = strings.Count(dir, "/")
	}
	low := depth
	for _, el := range strings.Split(t, "/") {
		switch el {
		case "", ".":
		case "..":
			depth--
			low = min(low, depth)
		default:
			depth++
		}
	}
	if low < 0 {
		j.add(e.Path, ftpaudit.RuleSymlinkEscape, ftpaudit.SevHigh, []string{fmt.Sprintf("target %s, resolved from %s, climbs %s above the archive root", ftpaudit.EvidenceName(t), ftpaudit.EvidenceName(dir), plural(-low, "level", "levels"))}, "")
	}
}

func (j *judge) canaryEntry(e *ftpaudit.Entry) {
	t, ok := ftpaudit.CanaryTime(e.Name)
	if !ok {
		return
	}
	j.add(e.Path, ftpaudit.RuleProbeResidue, ftpaudit.SevHigh, []string{fmt.Sprintf("name matches the probe canary pattern %s<time>-<hex>: left by a probe at %s", ftpaudit.CanaryPrefix, t.Format(time.RFC3339))}, "")
}

// ---- probes, fetched files, unreadable directories, login ----

func (j *judge) probeFindings() {
	for i := range j.h.Probes {
		pr := &j.h.Probes[i]
		if pr.Readable {
			ev := []string{fmt.Sprintf("probe: the canary uploaded to %s could be downloaded again", ftpaudit.EvidenceName(pr.File.Path))}
			if pr.File.Accepted {
				ev = append(ev, "probe: STOR accepted: "+ftpaudit.EvidenceReply(pr.File.Reply))
			}
			if _, unreadable := j.unreadable[pr.Dir]; unreadable {
				ev = append(ev, "the directory cannot be listed, but whoever knows a name can download it")
			}
			j.add(pr.Dir, ftpaudit.RuleReadableUpload, ftpaudit.SevHigh, ev, "")
		}
		for _, p := range pr.Residue() {
			if p == "" {
				continue
			}
			var ev []string
			for _, st := range []struct {
				cmd string
				s   ftpaudit.ProbeStep
			}{{"STOR", pr.File}, {"MKD", pr.Mkdir}} {
				if st.s.Path != p {
					continue
				}
				why := ftpaudit.EvidenceReply(st.s.RemoveReply)
				if why == "" {
					why = "no reply"
				}
				ev = append(ev, fmt.Sprintf("probe: %s accepted: %s", st.cmd, ftpaudit.EvidenceReply(st.s.Reply)),
					"probe: removal not confirmed: "+why)
			}
			if len(ev) == 0 {
				ev = []string{"probe: canary left behind"}
			}
			j.add(p, ftpaudit.RuleProbeResidue, ftpaudit.SevHigh, ev, "")
		}
	}
}

// looksLikeHash reports whether a passwd password field holds a crypt(3)
// hash (a locked one, "!" + hash, too) rather than a placeholder.
func looksLikeHash(s string) bool {
	s = strings.TrimLeft(s, "!*")
	if s == "" {
		return false
	}
	if s[0] == '$' {
		return strings.Count(s, "$") >= 2 && len(s) >= 8
	}
	crypt := func(x string) bool {
		for i := 0; i < len(x); i++ {
			c := x[i]
			if !(c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return false
			}
		}
		return true
	}
	switch {
	case len(s) == 13 || len(s) == 24: // DES, bigcrypt
		return crypt(s)
	case len(s) == 20 && s[0] == '_': // BSDi extended DES
		return crypt(s[1:])
	}
	return false
}

func (j *judge) passwdHashes() {
	for _, f := range j.h.Fetched {
		if f.Err != "" || !strings.HasSuffix(f.Path, "etc/passwd") {
			continue
		}
		var users []string
		lines := 0
		for _, line := range strings.Split(string(f.Data), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			lines++
			fields := strings.SplitN(line, ":", 3)
			if len(fields) < 2 || !looksLikeHash(fields[1]) {
				continue
			}
			users = append(users, ftpaudit.EvidenceName(fields[0]))
		}
		if len(users) == 0 {
			continue
		}
		j.add(f.Path, ftpaudit.RulePasswdHashes, ftpaudit.SevCritical, []string{
			fmt.Sprintf("password hashes for %d of %d accounts: %s", len(users), lines, strings.Join(users, ", ")),
			fmt.Sprintf("downloaded by the scan (%d bytes)", len(f.Data)),
		}, "")
		if e := j.entry(f.Path); e == nil {
			j.out[j.index[[2]string{ftpaudit.RulePasswdHashes, f.Path}]].Size = int64(len(f.Data))
		}
	}
}

func (j *judge) unreadableDirs() {
	for _, u := range j.h.Unreadable {
		j.add(u.Path, ftpaudit.RuleUnreadableDir, ftpaudit.SevInfo, []string{"server reply: " + ftpaudit.EvidenceReply(u.Error)}, "")
	}
}

func (j *judge) anonymousLogin() {
	login := j.h.Info.Login
	if (login != "anonymous" && login != "ftp") || j.h.LoginError != "" {
		return
	}
	ev := []string{fmt.Sprintf("login as %q accepted", login)}
	if b := ftpaudit.EvidenceReply(firstLine(j.h.Info.Banner)); b != "" {
		ev = append(ev, "banner: "+b)
	}
	ev = append(ev, fmt.Sprintf("anonymous users can see %s and %s (%s listed)",
		plural(j.h.Stats.Files, "file", "files"), plural(j.h.Stats.Dirs, "directory", "directories"),
		plural(j.h.Stats.Listed, "directory", "directories")))
	j.add("/", ftpaudit.RuleAnonymousLogin, ftpaudit.SevInfo, ev, "")
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
