package report

import (
	"slices"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// View is the presentation model of one scan: the findings grouped by the
// target they belong to and counted per severity, once, before any format
// sees them. Every format (table, summary, json, jsonl, csv and the
// metrics) renders a View, so they agree on every count; this is
// osv-scanner's output.BuildResults.
//
// A target is a URL and a start directory: two start directories of one
// server are two targets, and each finding is counted for exactly one of
// them, so the targets' counts add up to Total.
type View struct {
	// Started and Finished are the run's times; SavedID is its id in the
	// history database, 0 when not saved.
	Started, Finished time.Time
	SavedID           int64
	// Complete is true when every walked target is complete.
	Complete bool
	// Findings are r.Findings, in their order: the scanner sorts them by
	// severity (worst first), host, path and rule (ftpaudit.SortFindings).
	Findings []ftpaudit.Finding
	// Suppressed are the findings a suppression file accepted (not in
	// Findings, nor in any count).
	Suppressed []ftpaudit.Suppressed
	// Targets holds one TargetView per walked target, in the order of
	// r.Hosts, then one per URL that has findings but no walk result
	// (diff and verify views), sorted by URL.
	Targets []*TargetView
	// Total counts every finding; it is the sum of the Targets' Counts.
	Total Counts
}

// TargetView is one target of a View.
type TargetView struct {
	// URL and Start identify the target. Start is "" for a URL that has
	// findings but was not walked.
	URL, Start string
	// Host is the walk result; nil for a URL that was not walked.
	Host *ftpaudit.HostResult
	// Findings are the findings counted for this target, in the order of
	// View.Findings, pointing into it.
	Findings []*ftpaudit.Finding
	// Counts counts Findings per severity.
	Counts Counts
	// Listing names how the directories were listed: "MLSD+LIST",
	// "MLSD" or "LIST"; "" when no session was opened.
	Listing string
}

// Name is the target as people read it: the URL, followed by the start
// directory unless that is the root. It is server text: escape it
// (Display) before printing it.
func (t *TargetView) Name() string { return t.URL + pathSuffix(t.Start) }

// Counts counts findings per severity.
type Counts struct {
	// BySeverity is indexed by ftpaudit.Severity, SevInfo to SevCritical.
	BySeverity [ftpaudit.SevCritical + 1]int
	// Unknown counts findings whose severity is none of the known ones.
	Unknown int
}

// Of returns the count of findings of severity s (Unknown for a severity
// that is not known).
func (c Counts) Of(s ftpaudit.Severity) int {
	if !knownSeverity(s) {
		return c.Unknown
	}
	return c.BySeverity[s]
}

// Total returns the number of findings counted.
func (c Counts) Total() int {
	n := c.Unknown
	for _, v := range c.BySeverity {
		n += v
	}
	return n
}

// Below returns the number of findings of a known severity below min:
// those a view that shows min and worse leaves out (see shownAt).
func (c Counts) Below(min ftpaudit.Severity) int {
	n := 0
	for s := ftpaudit.SevInfo; s < min && s <= ftpaudit.SevCritical; s++ {
		n += c.BySeverity[s]
	}
	return n
}

func (c *Counts) add(s ftpaudit.Severity) {
	if knownSeverity(s) {
		c.BySeverity[s]++
	} else {
		c.Unknown++
	}
}

func (c *Counts) merge(o Counts) {
	for i, v := range o.BySeverity {
		c.BySeverity[i] += v
	}
	c.Unknown += o.Unknown
}

func knownSeverity(s ftpaudit.Severity) bool {
	return s >= ftpaudit.SevInfo && s <= ftpaudit.SevCritical
}

// shownAt reports whether a view showing severity min and worse shows a
// finding of severity s. A severity that is not known is always shown,
// so that nothing is hidden by mistake; Counts.Below counts the rest.
func shownAt(s, min ftpaudit.Severity) bool {
	return s >= min || !knownSeverity(s)
}

// NewView computes the View of r. It does not change r; the View points
// into r's findings and host results, so r must not change while the
// View is in use.
//
// A finding names its host by URL only, so when several targets share
// its URL it is counted for the one whose start directory is deepest at
// or above its path; a finding that comes again with the same host, path
// and rule (each start directory's walk judged it) is counted for the
// next such target, then for the other targets of the URL, in order, so
// that one finding per walk lands on each walk.
func NewView(r *ftpaudit.Result) *View {
	v := &View{Started: r.Started, Finished: r.Finished, SavedID: r.SavedID, Complete: true, Findings: r.Findings, Suppressed: r.Suppressed}
	byURL := map[string][]*TargetView{}
	for _, h := range r.Hosts {
		if h == nil {
			continue
		}
		t := &TargetView{URL: h.Target.URL, Start: h.Target.Start, Host: h}
		if h.Info.Login != "" {
			t.Listing = listingMode(h.Info)
		}
		v.Complete = v.Complete && h.Complete
		v.Targets = append(v.Targets, t)
		byURL[t.URL] = append(byURL[t.URL], t)
	}
	walked := len(v.Targets)
	type key struct{ host, path, rule string }
	var seen map[key]int // occurrences so far, only where a URL has several targets
	for i := range v.Findings {
		f := &v.Findings[i]
		ts := byURL[f.Host]
		var t *TargetView
		switch len(ts) {
		case 0:
			t = &TargetView{URL: f.Host}
			v.Targets = append(v.Targets, t)
			byURL[f.Host] = []*TargetView{t}
		case 1:
			t = ts[0]
		default:
			if seen == nil {
				seen = map[key]int{}
			}
			k := key{f.Host, f.Path, f.Rule}
			t = pickTarget(ts, f.Path, seen[k])
			seen[k]++
		}
		t.Findings = append(t.Findings, f)
		t.Counts.add(f.Severity)
		v.Total.add(f.Severity)
	}
	slices.SortFunc(v.Targets[walked:], func(a, b *TargetView) int { return strings.Compare(a.URL, b.URL) })
	return v
}

// pickTarget returns the target of ts (which share one URL) that the
// nth finding with path p and one rule is counted for: the targets
// whose start is at or above p, deepest first, then the others, in
// order, taken round.
func pickTarget(ts []*TargetView, p string, nth int) *TargetView {
	order := make([]*TargetView, 0, len(ts))
	for _, t := range ts {
		if atOrBelow(p, t.Start) {
			order = append(order, t)
		}
	}
	// Deepest start first; a stable sort keeps the scan order of equals.
	slices.SortStableFunc(order, func(a, b *TargetView) int { return len(b.Start) - len(a.Start) })
	for _, t := range ts {
		if !atOrBelow(p, t.Start) {
			order = append(order, t)
		}
	}
	return order[nth%len(order)]
}

// atOrBelow reports whether path p is dir or below it.
func atOrBelow(p, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}

// pathSuffix is what a start directory adds to a target's URL in its
// name: nothing for the root.
func pathSuffix(start string) string {
	if start == "/" || start == "" {
		return ""
	}
	return start
}

// listingMode names how a host's directories were listed.
func listingMode(i ftpaudit.ServerInfo) string {
	switch {
	case i.Paired:
		return "MLSD+LIST"
	case i.MLSD:
		return "MLSD"
	}
	return "LIST"
}
