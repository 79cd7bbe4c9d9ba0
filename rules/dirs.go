package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// Directories: which ones anonymous users can write (the verdict), the
// writable areas and drop boxes that makes, and the rules about them and
// about what is inside them (writable-dir, dropbox-dir, latent-writable,
// in-writable-area, readable-upload, unreadable-dir).

// dirVerdict is what the judge decided about one directory's
// writability (see decideDir).
type dirVerdict struct {
	path     string
	e        *ftpaudit.Entry // nil for a probed directory without an entry (the start)
	strong   []string        // passive evidence that holds on this server
	weak     []string        // passive evidence that is weak on this server (ownership)
	probeEv  []string        // what the probe's canaries met
	writable bool
	weakOnly bool // writable on weak evidence alone
	latent   bool // writable by its permissions, but the server refused both canaries
	listable bool
	reply    string     // the server's refusal, when not listable
	box      *glob.Glob // the policy drop box it is in
}

// areaTotals counts what a writable area holds, for evidence.
type areaTotals struct {
	files, dirs, other int
	bytes              int64
	unknown            int // files of unknown size
}

// decideDirs decides every directory that has an entry (dirs, from the
// survey) or was probed, and takes as writable areas those writable on
// strong evidence.
func (j *judge) decideDirs(seen *seenDirs) {
	dirs := seen.es
	paths := make([]string, len(dirs), len(dirs)+len(j.probes))
	for i, e := range dirs {
		paths[i] = e.Path
	}
	for d := range j.probes {
		if j.entry(d) == nil {
			paths = append(paths, d)
		}
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	// Once every entry was read back, dirs has the entry the finder gives
	// at each of its paths (see seenDirs); otherwise the finder decides.
	read := j.h.EntriesErr() == nil
	k := 0
	for _, p := range paths {
		for k < len(dirs) && dirs[k].Path < p {
			k++
		}
		var e *ftpaudit.Entry
		if read && k < len(dirs) && dirs[k].Path == p {
			e = dirs[k]
		} else if f := j.entry(p); f != nil {
			c := f.Clone()
			e = &c
		}
		v := j.decideDir(p, e)
		j.dirs[p] = v
		if v.writable && !v.weakOnly {
			j.areas[p] = v
		}
	}
}

// decideDir decides whether anonymous users can write to directory p.
//
// Passive evidence comes from the directory's listing entry (passive):
//
//   - the mode gives others w (drwxrwxrwx, drwx-wx-wt);
//   - the owner is the anonymous account and the owner's w bit is set, or
//     the group is the anonymous account's and the group's w bit is set
//     (an owner or group that is root or 0 never counts, even if another
//     fact names it ftp: proftpd shows UNIX.ownername=ftp with
//     UNIX.owner=0);
//   - the server's MLSD perm fact grants c (create files), m (make
//     directories) or p (delete entries).
//
// The anonymous account is the policy's names, uids and gids, plus the
// owners and groups learned from uploads (learnAnonymous). When nearly
// every owner is shown as the anonymous account (checkOwnership: vsftpd
// hide_ids, proftpd DirFakeUser), ownership by the configured account is
// weak evidence: a directory writable on it alone is weakOnly (reported
// low, "--probe decides", and not a writable area).
//
// Active evidence, the probe's canaries (probed), overrides it (verdict):
// a canary accepted (STOR or MKD) makes the directory writable whatever
// its permissions; both canaries refused make it not writable, and latent
// if the strong passive evidence said writable. A probe that tried only
// one step, or did not finish, leaves the decision to the passive
// evidence; its replies are still in the evidence. The start directory
// has no listing entry and is decided only when probed.
//
// docs/findings.md, "How a directory's writability is decided", says the
// same for operators.
//
// e is the entry at p (j.entry), nil when there is none, as a copy
// sharing nothing (Entry.Clone): kept for the host's every directory,
// the entry must not keep its block's text and arrays in memory (a
// walk's entries are read back from its temporary file block by block).
func (j *judge) decideDir(p string, e *ftpaudit.Entry) *dirVerdict {
	v := &dirVerdict{path: p, e: e}
	reply, unreadable := j.unreadable[p]
	v.reply, v.listable = reply, !unreadable
	v.box = glob.MatchAtOrBelow(j.hp.dropBoxes, p)
	if v.e != nil {
		j.passive(v)
	}
	accepted, bothRefused := j.probed(v)
	v.verdict(accepted, bothRefused)
	return v
}

// passive collects the evidence of v's own listing entry into v.strong
// and v.weak.
func (j *judge) passive(v *dirVerdict) {
	e := v.e
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

// probed collects what the probe's canaries met in v's directory into
// v.probeEv, and reports whether a canary was accepted and whether both
// were refused for good. Only a permanent refusal (a 5xx reply) counts as
// refused: a transient one (4xx: "452 Insufficient storage space", "425
// Can't open data connection"), a full quota (552) or an error without a
// reply says nothing about what the server allows, so it leaves the
// verdict to the passive evidence, and the evidence says so.
func (j *judge) probed(v *dirVerdict) (accepted, bothRefused bool) {
	fileRefused, mkdirRefused, undecided := false, false, false
	for _, pr := range j.probes[v.path] {
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
				if why := notPermanent(st.s.Reply); why != "" {
					undecided = true
					v.probeEv = append(v.probeEv, fmt.Sprintf("probe: %s not decided: %s (%s)", st.cmd, ftpaudit.EvidenceReply(st.s.Reply), why))
					continue
				}
				*st.refused = true
				v.probeEv = append(v.probeEv, fmt.Sprintf("probe: %s refused: %s", st.cmd, ftpaudit.EvidenceReply(st.s.Reply)))
			}
		}
		if pr.Skipped != "" {
			v.probeEv = append(v.probeEv, "probe: not completed here: "+ftpaudit.EvidenceReply(pr.Skipped))
		}
	}
	bothRefused = fileRefused && mkdirRefused
	if undecided && !accepted && !bothRefused {
		v.probeEv = append(v.probeEv, "probe: inconclusive: only a permanent refusal (5xx) of both canaries settles that anonymous users cannot write, so the permissions decide")
	}
	return accepted, bothRefused
}

// notPermanent says why a probe step's refusal is not a permanent one
// (see probed), or "" when it is: a 5xx reply other than 552.
func notPermanent(reply string) string {
	switch code := replyCode(reply); {
	case code == 0:
		return "no reply from the server: says nothing about permissions"
	case code == 552:
		return "a full quota says nothing about permissions"
	case code >= 400 && code < 500:
		return "a transient refusal (4xx) says nothing about permissions"
	case code < 400 || code >= 600:
		return "not a refusal"
	}
	return ""
}

// replyCode returns the FTP reply code a probe step's reply holds: at its
// start ("452 Insufficient storage space"), or after the command it
// answered ("stor ftpaudit-canary-...: 452 ..."); 0 when there is none.
func replyCode(s string) int {
	code := func(t string) int {
		if len(t) < 3 || (len(t) > 3 && t[3] != ' ' && t[3] != '-') {
			return 0
		}
		n := 0
		for i := 0; i < 3; i++ {
			if t[i] < '0' || t[i] > '9' {
				return 0
			}
			n = n*10 + int(t[i]-'0')
		}
		if n < 100 {
			return 0
		}
		return n
	}
	if c := code(s); c != 0 {
		return c
	}
	for rest := s; ; {
		i := strings.Index(rest, ": ")
		if i < 0 {
			return 0
		}
		rest = rest[i+2:]
		if c := code(rest); c != 0 {
			return c
		}
	}
}

// verdict weighs the evidence: the probe first, then the passive
// evidence.
func (v *dirVerdict) verdict(accepted, bothRefused bool) {
	switch {
	case accepted:
		v.writable = true
	case bothRefused:
		v.latent = len(v.strong) > 0
	default:
		v.writable = len(v.strong)+len(v.weak) > 0
		v.weakOnly = len(v.strong) == 0
	}
}

// computeTotals counts what every writable area holds, at every depth.
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

// String says what an area holds: "2 files, 0 directories, 46 B".
func (t *areaTotals) String() string {
	parts := []string{plural(t.files, "file", "files"), plural(t.dirs, "directory", "directories")}
	if t.other > 0 {
		parts = append(parts, plural(t.other, "other entry", "other entries"))
	}
	s := strings.Join(parts, ", ") + ", " + ftpaudit.FormatSize(t.bytes)
	if t.unknown > 0 {
		s += fmt.Sprintf(" (and %s of unknown size)", plural(t.unknown, "file", "files"))
	}
	return s
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

// dirFindings reports every directory decided writable or latent, in path
// order: writable-dir when anonymous users can list it (low on weak
// evidence alone), dropbox-dir when they cannot (info in a declared drop
// box), latent-writable when only the server's configuration keeps them
// out.
func (j *judge) dirFindings() {
	paths := make([]string, 0, len(j.dirs))
	for p := range j.dirs {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		v := j.dirs[p]
		ev := slices.Concat(v.strong, v.weak, v.probeEv)
		switch {
		case v.latent:
			ev = append(ev, "the server refused both canaries: its configuration, not the permissions, keeps anonymous users out")
			j.add(p, ftpaudit.RuleLatentWritable, ftpaudit.SevMedium, ev, "")
		case v.writable:
			j.writableDir(v, ev)
		}
	}
}

// writableDir reports a writable directory v, with ev, the evidence
// of its verdict: writable-dir or dropbox-dir.
func (j *judge) writableDir(v *dirVerdict, ev []string) {
	if v.weakOnly {
		ev = append(ev, j.weakNote+"; --probe decides")
	}
	if a := j.areaAbove(v.path); a != "" {
		ev = append(ev, fmt.Sprintf("inside writable area %s", ftpaudit.EvidenceName(a)))
	}
	if v.listable {
		ev = append(ev, "listable: anonymous users can see and download what is uploaded")
		if t := j.totals[v.path]; t != nil {
			ev = append(ev, "contents: "+t.String())
		}
		sev := ftpaudit.SevCritical
		if v.box != nil {
			ev = append(ev, fmt.Sprintf("the policy declares it a drop box (%s), but the server lists it", ftpaudit.EvidenceName(v.box.Pattern)))
		}
		if v.weakOnly {
			sev = ftpaudit.SevLow
		}
		j.add(v.path, ftpaudit.RuleWritableDir, sev, ev, "")
		return
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
	j.add(v.path, ftpaudit.RuleDropboxDir, sev, ev, action)
}

// inWritableArea reports every entry below a writable area
// (in-writable-area), with what the area holds and who uploaded it.
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

// boxMemo keeps dropBoxAt's last answer.
type boxMemo struct {
	dir string
	g   *glob.Glob
	set bool
}

// dropBoxAt returns the first of the policy's drop boxes that matches
// dir or a directory above it (glob.MatchAtOrBelow), nil when none does.
// Entries come in path order, so the files of one directory ask about it
// one after the other: it keeps its last answer (j.box).
func (j *judge) dropBoxAt(dir string) *glob.Glob {
	if len(j.hp.dropBoxes) == 0 {
		return nil
	}
	if m := &j.box; !m.set || m.dir != dir {
		*m = boxMemo{dir: dir, g: glob.MatchAtOrBelow(j.hp.dropBoxes, dir), set: true}
	}
	return j.box.g
}

// uploadPlace says why p is a place where uploads land: inside a writable
// area, a declared drop box or a hidden directory ("" if none).
func (j *judge) uploadPlace(p string) string {
	if a := j.areaAbove(p); a != "" {
		return "inside writable area " + ftpaudit.EvidenceName(a)
	}
	parent, _ := ftppath.Split(p)
	if g := j.dropBoxAt(parent); g != nil && p != "/" {
		return fmt.Sprintf("inside drop box %s (policy %s)", ftpaudit.EvidenceName(parent), ftpaudit.EvidenceName(g.Pattern))
	}
	if h := hiddenAncestor(p); h != "" {
		return "inside hidden directory " + ftpaudit.EvidenceName(h)
	}
	return ""
}

// readableUploadListed reports a listed file in a drop box (declared, or
// a writable directory that cannot be listed) that anonymous users may
// read (readable-upload).
func (j *judge) readableUploadListed(e *ftpaudit.Entry) {
	if e.Type != ftpaudit.TypeFile {
		return
	}
	var box string
	if len(j.hp.dropBoxes) > 0 {
		parent, _ := ftppath.Split(e.Path)
		if g := j.dropBoxAt(parent); g != nil {
			box = fmt.Sprintf("in drop box %s (policy %s)", ftpaudit.EvidenceName(parent), ftpaudit.EvidenceName(g.Pattern))
		}
	}
	if box == "" {
		if a := j.areaAbove(e.Path); a != "" && !j.areas[a].listable {
			box = fmt.Sprintf("in drop box %s (writable, not listable)", ftpaudit.EvidenceName(a))
		}
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

// unreadableDirs reports every directory the server refused to list
// (unreadable-dir), with its reply.
func (j *judge) unreadableDirs() {
	for _, u := range j.h.Unreadable {
		j.add(u.Path, ftpaudit.RuleUnreadableDir, ftpaudit.SevInfo, []string{"server reply: " + ftpaudit.EvidenceReply(u.Error)}, "")
	}
}
