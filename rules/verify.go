package rules

import (
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// Verifying a cleanup (ftpaudit verify): whether a finding of an earlier
// scan that a rescan did not report is gone, or only not seen. A finding
// is gone only when the rescan shows its cause gone: the rescan listed
// the directory that holds it (or the directory is gone, as its listed
// parent shows), and ran the check that raised it (the comparison with
// the same baseline, the published index, the probe, the download).

// Statuses of an earlier finding, and of a new one, in a verification.
const (
	StatusGone       = "gone"
	StatusStillThere = "still there"
	StatusNotProven  = "not proven gone"
	StatusNew        = "new"
)

// Rescan is what a rescan of one host could see and check.
type Rescan struct {
	h *ftpaudit.HostResult
	// before is the earlier scan's result for the host (its probes),
	// nil when unknown.
	before *ftpaudit.HostResult
	// baselineWhy says why the rescan was not compared with the
	// baseline the earlier scan was compared with; "" when it was.
	baselineWhy string
	blind       []string // sorted: directories the rescan did not list
	dirs        map[string]bool
	permFiles   int
	probed      map[string]bool // directories the rescan probed
	fetched     map[string]bool // files the rescan downloaded
}

// NewRescan describes rescan h of a host, whose earlier result was before
// (nil when unknown). baselineWhy says why h was not compared with the
// baseline the earlier scan was compared with ("" when it was).
func NewRescan(h, before *ftpaudit.HostResult, baselineWhy string) *Rescan {
	r := &Rescan{h: h, before: before, baselineWhy: baselineWhy, dirs: map[string]bool{h.Target.Start: true},
		probed: map[string]bool{}, fetched: map[string]bool{}}
	for _, u := range h.Unreadable {
		r.blind = append(r.blind, u.Path)
	}
	for _, e := range h.Errors {
		r.blind = append(r.blind, e.Path)
	}
	for _, u := range h.NotListed {
		r.blind = append(r.blind, u.Path)
	}
	slices.Sort(r.blind)
	r.blind = slices.Compact(r.blind)
	// One pass over the entries (AllEntries: from a Source, decoded in
	// turn); only the directories are kept. When they cannot all be read
	// back, Unproven proves nothing gone.
	for e := range h.AllEntries() {
		switch {
		case e.Type == ftpaudit.TypeDir:
			r.dirs[strings.Clone(e.Path)] = true // (a copy: see judge.survey)
		case e.Type == ftpaudit.TypeFile && e.Perm() != "":
			r.permFiles++
		}
	}
	for _, p := range h.Probes {
		if p.File.Tried || p.Mkdir.Tried {
			r.probed[p.Dir] = true
		}
	}
	for _, f := range h.Fetched {
		if f.Err == "" {
			r.fetched[f.Path] = true
		}
	}
	return r
}

func (r *Rescan) isBlind(dir string) bool {
	_, ok := slices.BinarySearch(r.blind, dir)
	return ok
}

// Unproven says why the rescan cannot prove earlier finding f gone,
// given that it did not report f; "" when it can (f is gone). Nothing is
// proven gone when the rescan's entries could not all be read back
// (h.EntriesErr).
func (r *Rescan) Unproven(f ftpaudit.Finding) string {
	if r.h.LoginError != "" {
		return "the rescan could not log in"
	}
	if err := r.h.EntriesErr(); err != nil {
		// The rescan's entries, and so its findings, stop short: a
		// finding it did not report may just not have been read back.
		return "the rescan's entries could not all be read back: " + err.Error()
	}
	switch f.Rule {
	case ftpaudit.RuleNewSinceBaseline, ftpaudit.RuleChangedSinceBaseline, ftpaudit.RuleRemovedSinceBaseline, ftpaudit.RulePermissionChanged:
		if r.baselineWhy != "" {
			return r.baselineWhy
		}
	case ftpaudit.RuleNotInManifest, ftpaudit.RuleMissingManifest:
		if len(r.h.Manifests) == 0 {
			return "the rescan compared with no published index (run verify with --manifest)"
		}
	case ftpaudit.RuleServerPermFacts:
		// The finding is about files whose perm facts grant what their
		// mode does not: gone when an MLSD rescan saw no file at all (none
		// is left to contradict), unproven when it saw files but no facts.
		if r.permFiles == 0 && !(r.h.Info.MLSD && r.h.Stats.Files == 0) {
			return "the rescan saw no MLSD perm facts (the server listed without MLSD, or --no-mlsd)"
		}
	case ftpaudit.RulePasswdHashes:
		if r.fetched[f.Path] {
			return "" // downloaded again and judged
		}
	case ftpaudit.RuleLatentWritable:
		if !r.probed[f.Path] {
			return "it rests on the probe, and the rescan did not probe there (run verify with --probe)"
		}
	case ftpaudit.RuleWritableDir, ftpaudit.RuleDropboxDir, ftpaudit.RuleReadableUpload:
		if r.probedBefore(f.Path) && !r.probed[f.Path] {
			return "the earlier finding rested on the probe, and the rescan did not probe there (run verify with --probe)"
		}
	}
	return r.coverage(f.Path)
}

// probedBefore reports whether the earlier scan probed dir.
func (r *Rescan) probedBefore(dir string) bool {
	if r.before == nil {
		return true // unknown: assume it did
	}
	for _, p := range r.before.Probes {
		if p.Dir == dir && (p.File.Tried || p.Mkdir.Tried || p.Readable) {
			return true
		}
	}
	return false
}

// coverage says why the rescan did not see where p is (so that what was
// there cannot be proven gone); "" when it listed the directory that
// holds p, or p's directory is gone as a listed directory above shows.
func (r *Rescan) coverage(p string) string {
	start := r.h.Target.Start
	if p == "/" || p == start {
		if r.isBlind(start) {
			return "the rescan could not list the start directory"
		}
		return ""
	}
	if !ftppath.AtOrBelow(p, start) {
		return "outside the rescan's start directory"
	}
	for q := ftppath.Parent(p); ; q = ftppath.Parent(q) {
		if r.isBlind(q) {
			return "the rescan could not list " + ftpaudit.EvidenceName(q)
		}
		if r.dirs[q] || q == start {
			return ""
		}
		if q == "/" || q == "" {
			return "the rescan did not see " + ftpaudit.EvidenceName(ftppath.Parent(p))
		}
		// q is gone (or no longer a directory): so is p, if the
		// directory above it was listed.
	}
}
