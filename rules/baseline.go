package rules

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"github.com/ftpaudit/ftpaudit/internal/readahead"
)

// Comparing a scan with a baseline: an earlier complete scan of the same
// host and start directory, the one a person accepted (or the newest, or
// the one named).

// ChangeKind says how an entry differs from the baseline.
type ChangeKind string

// Change kinds.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Change is one entry that differs between two scans.
type Change struct {
	Kind ChangeKind
	Path string
	// Old is the baseline's entry (nil when Added), New the current one
	// (nil when Removed).
	Old, New *ftpaudit.Entry
	// Fields names what changed (Changed only): "type", "size",
	// "modified", "owner", "group", "unique", "target", "mode", "perm".
	Fields []string
}

// PermissionOnly reports whether only mode and perm changed.
func (c *Change) PermissionOnly() bool {
	for _, f := range c.Fields {
		if f != "mode" && f != "perm" {
			return false
		}
	}
	return len(c.Fields) > 0
}

// SeqOf yields the entries of a slice sorted by Path (as a hand-made
// HostResult.Entries is) for DiffEntries. For a host's entries, whether in
// Entries or in a Source, use HostSeq.
func SeqOf(es []ftpaudit.Entry) iter.Seq2[ftpaudit.Entry, error] {
	return func(yield func(ftpaudit.Entry, error) bool) {
		for i := range es {
			if !yield(es[i], nil) {
				return
			}
		}
	}
}

// HostSeq yields the entries of h in path order (h.AllEntries, from
// Entries or from a Source, one at a time) for DiffEntries; when they
// could not all be read back, it ends with h.EntriesErr() as the error
// (and a zero Entry), so that DiffEntries stops with it rather than
// report every entry not read back as removed.
func HostSeq(h *ftpaudit.HostResult) iter.Seq2[ftpaudit.Entry, error] {
	return func(yield func(ftpaudit.Entry, error) bool) {
		for e := range h.AllEntries() {
			if !yield(*e, nil) {
				return
			}
		}
		if err := h.EntriesErr(); err != nil {
			yield(ftpaudit.Entry{}, err)
		}
	}
}

// DiffEntries compares two streams of entries, each in ascending byte
// order of Path, and calls emit for every entry added, removed or changed.
// Memory stays bounded: one entry of each side at a time (and a few
// batches of the baseline side read ahead). The entries of a Change are
// copies: emit may keep them. An error from either stream or from emit
// stops the comparison and is returned; a stream out of order is an
// error, never a wrong answer. The current side is pulled one entry at a
// time, each only once the one before it is compared (BaselineJudge.Tap
// counts on it).
func DiffEntries(old, cur iter.Seq2[ftpaudit.Entry, error], emit func(Change) error) error {
	// The baseline side is read ahead in its own goroutine: reading
	// entries out of the store costs more than comparing them, and the
	// two sides then decode on two cores.
	old, stopAhead := readahead.Seq(old, 512)
	defer stopAhead()
	nextOld, stopOld := iter.Pull2(old)
	defer stopOld()
	nextCur, stopCur := iter.Pull2(cur)
	defer stopCur()
	// o and c are the entries at hand (ok: there is one); they are
	// copied only into a Change, so that comparing allocates nothing.
	var o, c ftpaudit.Entry
	var oOK, cOK bool
	var lastOld, lastCur string
	pull := func(next func() (ftpaudit.Entry, error, bool), e *ftpaudit.Entry, ok *bool, last *string, side string) error {
		var err error
		*e, err, *ok = next()
		if !*ok {
			return nil
		}
		if err != nil {
			*ok = false
			return err
		}
		if *last != "" && e.Path <= *last {
			*ok = false
			return fmt.Errorf("%s entries out of order: %q after %q", side, e.Path, *last)
		}
		*last = e.Path
		return nil
	}
	pullOld := func() error { return pull(nextOld, &o, &oOK, &lastOld, "baseline") }
	pullCur := func() error { return pull(nextCur, &c, &cOK, &lastCur, "current") }
	if err := pullOld(); err != nil {
		return err
	}
	if err := pullCur(); err != nil {
		return err
	}
	for oOK || cOK {
		switch {
		case !cOK || (oOK && o.Path < c.Path):
			was := o
			if err := emit(Change{Kind: Removed, Path: was.Path, Old: &was}); err != nil {
				return err
			}
			if err := pullOld(); err != nil {
				return err
			}
		case !oOK || c.Path < o.Path:
			now := c
			if err := emit(Change{Kind: Added, Path: now.Path, New: &now}); err != nil {
				return err
			}
			if err := pullCur(); err != nil {
				return err
			}
		default:
			if fields := changedFields(&o, &c); len(fields) > 0 {
				was, now := o, c
				if err := emit(Change{Kind: Changed, Path: now.Path, Old: &was, New: &now, Fields: fields}); err != nil {
					return err
				}
			}
			if err := pullOld(); err != nil {
				return err
			}
			if err := pullCur(); err != nil {
				return err
			}
		}
	}
	return nil
}

// changedFields compares what a listing says about one path. A
// directory's size and time are left out: they change whenever an entry
// is added or removed inside it, which is reported for that entry.
func changedFields(o, c *ftpaudit.Entry) []string {
	var f []string
	if o.Type != c.Type {
		f = append(f, "type")
	}
	if o.Type != ftpaudit.TypeDir || c.Type != ftpaudit.TypeDir {
		if o.Size >= 0 && c.Size >= 0 && o.Size != c.Size {
			f = append(f, "size")
		}
		if !sameTime(o.Modified, c.Modified) {
			f = append(f, "modified")
		}
	}
	// Owner and group are compared only between listings of one kind:
	// MLSD gives numeric ids or its own names (proftpd says "ftp" where
	// LIST says "root"), and a directory may be listed either way from
	// one scan to the next (recursive listing is LIST only).
	if fromMLSD(o) == fromMLSD(c) {
		if o.Owner != "" && c.Owner != "" && o.Owner != c.Owner {
			f = append(f, "owner")
		}
		if o.Group != "" && c.Group != "" && o.Group != c.Group {
			f = append(f, "group")
		}
	}
	if o.Unique() != "" && c.Unique() != "" && o.Unique() != c.Unique() {
		f = append(f, "unique")
	}
	if o.Target() != c.Target() && o.Type == ftpaudit.TypeLink && c.Type == ftpaudit.TypeLink {
		f = append(f, "target")
	}
	if o.Mode != "" && c.Mode != "" && o.Mode != c.Mode {
		f = append(f, "mode")
	}
	if o.Perm() != "" && c.Perm() != "" && o.Perm() != c.Perm() {
		f = append(f, "perm")
	}
	return f
}

// fromMLSD reports whether an entry's attributes came from MLSD (which
// alone gives perm and unique facts).
func fromMLSD(e *ftpaudit.Entry) bool {
	return e.Perm() != "" || e.Unique() != "" || e.HasFacts()
}

// sameTime compares listing times at the precision both carry. "ls -l"
// shows the time of day only for recent files and the year for older
// ones, so the same file listed six months apart shows "May 20 10:00"
// and then "May 20 2026": a date at midnight matches any time that day.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return true // unknown on one side: not evidence of a change
	}
	if a.Equal(b) {
		return true
	}
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	if ya == yb && ma == mb && da == db && (midnight(a) || midnight(b)) {
		return true
	}
	// Minute precision (LIST) against second precision (MLSD).
	return a.Truncate(time.Minute).Equal(b.Truncate(time.Minute)) && (a.Second() == 0 || b.Second() == 0)
}

// Baseline identifies the scan compared against.
type Baseline struct {
	ScanID  int64
	Started time.Time
	// Accepted says who accepted it as the host's baseline and when
	// ("accepted by alice on ..."), when it is the accepted baseline;
	// "" otherwise.
	Accepted string
}

// BaselineJudge turns the changes of one host since a baseline into
// findings (new-since-baseline, removed-since-baseline,
// changed-since-baseline, permission-changed), with the policy applied as
// Judge applies it (see the package doc), and counts them in a
// BaselineReport. Feed it with DiffEntries, passing the current side
// through Tap and every change to Add; then call Finish.
type BaselineJudge struct {
	h      *ftpaudit.HostResult
	hp     *hostPolicy
	base   Baseline
	report ftpaudit.BaselineReport
	c      *collector
	// blind holds the directories whose content this scan did not see.
	blind []string
	// dirs holds the current scan's directories that may still hold what
	// the comparison has yet to judge (see Tap): prefixes of one path,
	// and the last directory passed on, so a path's length of them at
	// most, whatever the scan's size.
	dirs []string
	// at is the path of the last current entry Tap passed on: when the
	// next comes, at is compared, and dirs is pruned by it.
	at string
}

// NewBaselineJudge prepares the comparison of h, the current scan, with
// base. p may be nil for DefaultPolicy.
func NewBaselineJudge(h *ftpaudit.HostResult, base Baseline, p *Policy) *BaselineJudge {
	if p == nil {
		p = DefaultPolicy()
	}
	hp := p.forHost(h.Target.URL)
	j := &BaselineJudge{h: h, hp: hp, c: newCollector(h.Target.URL, hp), base: base}
	j.report.ScanID, j.report.Started = base.ScanID, base.Started
	for _, u := range h.Unreadable {
		j.blind = append(j.blind, u.Path)
	}
	for _, e := range h.Errors {
		// Failed listings, directories never reached, names that could
		// not be sent; unparsed lines are errors of a listed directory
		// but a line that could not be read may be the entry in
		// question, so that directory counts as unseen too.
		j.blind = append(j.blind, e.Path)
	}
	for _, u := range h.NotListed {
		// Every directory the walk did not list, whatever the reason
		// (the same directory as one listed, excluded, accepted by the
		// policy): what is below it was not seen.
		j.blind = append(j.blind, u.Path)
	}
	slices.Sort(j.blind)
	j.blind = slices.Compact(j.blind)
	return j
}

// Tap passes the current scan's entries through to DiffEntries and notes
// its directories on the way (a parent sorts before its children, so it
// is noted before any removal below it is judged). Use it on the current
// side: judging a removal needs to know whether the parent still exists.
//
// It keeps only the directories a removal still to come can lie below.
// DiffEntries pulls an entry of the current side only once the one
// before it is compared, so every removal still to come sorts after that
// one: a directory d can hold it only if that path starts with d and, if
// longer, continues with a byte at or below '/' (d's own subtree, or a
// sibling such as "d b" or "d.old" that sorts between d and "d/").
func (j *BaselineJudge) Tap(cur iter.Seq2[ftpaudit.Entry, error]) iter.Seq2[ftpaudit.Entry, error] {
	return func(yield func(ftpaudit.Entry, error) bool) {
		for e, err := range cur {
			if err == nil {
				j.prune(j.at)
				if e.Type == ftpaudit.TypeDir {
					j.dirs = append(j.dirs, e.Path)
				}
				j.at = e.Path
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

// prune drops the directories that can hold nothing sorting after p.
// Those kept are prefixes of p: at most len(p)+1 of them.
func (j *BaselineJudge) prune(p string) {
	j.dirs = slices.DeleteFunc(j.dirs, func(d string) bool {
		return !strings.HasPrefix(p, d) || (len(p) > len(d) && p[len(d)] > '/')
	})
}

// isDir reports whether q is a directory of the current scan that Tap
// still holds.
func (j *BaselineJudge) isDir(q string) bool {
	return q == j.h.Target.Start || slices.Contains(j.dirs, q)
}

// unseen returns the directory whose content this scan did not see that
// holds p, or "".
func (j *BaselineJudge) unseen(p string) string {
	for q := ftppath.Parent(p); ; q = ftppath.Parent(q) {
		if _, ok := slices.BinarySearch(j.blind, q); ok {
			return q
		}
		if !j.isDir(q) {
			// The parent is gone (or not a directory any more): the
			// entry is removed with it, and knowably so only if the
			// parent's own parent was seen; keep climbing.
			if q == "/" || q == "" {
				return ""
			}
			continue
		}
		return ""
	}
}

// Add judges one change. A change at a path the policy ignores is
// neither reported nor counted.
func (j *BaselineJudge) Add(c Change) {
	if j.c.ignores(c.Path) {
		return
	}
	since := fmt.Sprintf("baseline: scan %d of %s", j.base.ScanID, j.base.Started.UTC().Format(time.RFC3339))
	if j.base.Accepted != "" {
		since = fmt.Sprintf("accepted baseline: scan %d of %s, %s", j.base.ScanID, j.base.Started.UTC().Format(time.RFC3339), j.base.Accepted)
	}
	switch c.Kind {
	case Added:
		j.report.Added++
		sev := ftpaudit.SevHigh
		ev := []string{"not in the " + since, "now: " + describeEntry(c.New)}
		if box := glob.MatchAtOrBelow(j.hp.dropBoxes, c.Path); box != nil {
			sev = ftpaudit.SevLow
			ev = append(ev, "inside the declared drop box "+box.String())
		}
		j.add(c.Path, ftpaudit.RuleNewSinceBaseline, sev, ev, c.New)
	case Removed:
		if d := j.unseen(c.Path); d != "" {
			j.report.NotCompared++
			if len(j.report.NotComparedDirs) < 100 && !slices.Contains(j.report.NotComparedDirs, d) {
				j.report.NotComparedDirs = append(j.report.NotComparedDirs, d)
			}
			return
		}
		j.report.Removed++
		j.add(c.Path, ftpaudit.RuleRemovedSinceBaseline, ftpaudit.SevMedium, []string{"in the " + since + ", gone now", "was: " + describeEntry(c.Old)}, c.Old)
	case Changed:
		j.report.Changed++
		var perm, other []string
		for _, f := range c.Fields {
			ev := fmt.Sprintf("%s: %s → %s", f, fieldValue(c.Old, f), fieldValue(c.New, f))
			if f == "mode" || f == "perm" {
				perm = append(perm, ev)
			} else {
				other = append(other, ev)
			}
		}
		if len(other) > 0 {
			sev := ftpaudit.SevHigh
			if c.New.Type != ftpaudit.TypeFile && c.Old.Type != ftpaudit.TypeFile {
				sev = ftpaudit.SevMedium
			}
			j.add(c.Path, ftpaudit.RuleChangedSinceBaseline, sev, append(other, "compared with the "+since), c.New)
		}
		if len(perm) > 0 {
			sev := ftpaudit.SevMedium
			if c.New.Type == ftpaudit.TypeDir && anonWritableAttrs(c.New) && !anonWritableAttrs(c.Old) {
				sev = ftpaudit.SevCritical
				perm = append(perm, "the directory became writable by anonymous users")
			}
			j.add(c.Path, ftpaudit.RulePermissionChanged, sev, append(perm, "compared with the "+since), c.New)
		}
	}
}

// anonWritableAttrs reports whether an entry's own attributes let
// anonymous users write: others' write bit, or MLSD perm c, m or p.
func anonWritableAttrs(e *ftpaudit.Entry) bool {
	return modeHas(e.Mode, 8, 'w') || permGrants(e.Perm(), "cmp") != ""
}

// add records a finding about the entry e (nil when unknown); see
// collector for what the policy does with it.
func (j *BaselineJudge) add(path, rule string, sev ftpaudit.Severity, ev []string, e *ftpaudit.Entry) {
	f := ftpaudit.Finding{Path: strings.Clone(path), Rule: rule, Severity: sev, Evidence: ev, Size: -1} // (see judge.finding)
	if e != nil {
		f.Size, f.Modified = e.Size, e.Modified
	}
	j.c.add(f)
}

// Finish returns the findings, sorted (SortFindings), and the report.
func (j *BaselineJudge) Finish() ([]ftpaudit.Finding, ftpaudit.BaselineReport) {
	return j.c.finish(), j.report
}

func describeEntry(e *ftpaudit.Entry) string {
	var b strings.Builder
	b.WriteString(e.Type.String())
	if e.Size >= 0 && e.Type != ftpaudit.TypeDir {
		fmt.Fprintf(&b, ", %d bytes", e.Size)
	}
	if !e.Modified.IsZero() {
		b.WriteString(", modified " + e.Modified.UTC().Format(time.RFC3339))
	}
	if e.Mode != "" {
		b.WriteString(", mode " + ftpaudit.EvidenceName(e.Mode))
	}
	if e.Owner != "" {
		b.WriteString(", owner " + ftpaudit.EvidenceName(e.Owner))
	}
	return b.String()
}

func fieldValue(e *ftpaudit.Entry, f string) string {
	switch f {
	case "type":
		return e.Type.String()
	case "size":
		return fmt.Sprint(e.Size)
	case "modified":
		if e.Modified.IsZero() {
			return "unknown"
		}
		return e.Modified.UTC().Format(time.RFC3339)
	case "owner":
		return ftpaudit.EvidenceName(e.Owner)
	case "group":
		return ftpaudit.EvidenceName(e.Group)
	case "unique":
		return ftpaudit.EvidenceName(e.Unique())
	case "target":
		return ftpaudit.EvidenceName(e.Target())
	case "mode":
		return ftpaudit.EvidenceName(e.Mode)
	case "perm":
		return ftpaudit.EvidenceName(e.Perm())
	}
	return "?"
}
