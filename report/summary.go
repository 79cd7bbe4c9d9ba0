package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/ftpaudit/ftpaudit"
)

// Summary writes the coverage of a scan for a person checking that it saw
// the archive: per walked target a heading with its status, then how much
// was walked and listed, how, and in how long, its finding counts, its TLS
// verdict, banner, why it is incomplete, the directories that could not
// be listed and why, and the directories not listed by kind. Every line
// fits Width display columns:
//
//	ftp://127.0.0.1:2121: INCOMPLETE
//	  3 dirs, 2 files, 1 link walked; 3 listed, 1 unreadable, 1 error;
//	    listed with LIST in 1.5s
//	  1 finding (0 critical, 1 high, 0 medium, 0 low, 0 info)
//	  banner: 220 (vsFTPd 3.0.3)
//	  incomplete: listings failed
//	  unreadable (the server refused to list it): 1
//	    /bin  550 Permission denied
//
// Names (targets, paths) are escaped with Display, server replies and
// banners with DisplayText, and wrapped as the table wraps them.
type Summary struct {
	// MaxPaths bounds how many unreadable or failed paths are shown per
	// target; zero means 20.
	MaxPaths int
	// Width is the width of the terminal in display columns; zero means
	// 80, and a width below 30 is taken as 30.
	Width int
}

var _ Reporter = (*Summary)(nil)

const defaultMaxPaths = 20

// Indents of the summary: a target's lines under its heading, the paths
// under their heading, and the lines a long one wraps onto.
const (
	sumIndent  = 2
	pathIndent = 4
	wrapIndent = 6
)

// Report writes the summary of r.
func (s *Summary) Report(w io.Writer, r *ftpaudit.Result) error {
	// Many small writes: ew keeps the first error, and later writes fail
	// fast with it, so that a summary cut short is never a success.
	ew := &errWriter{w: w}
	s.render(ew, NewView(r))
	return ew.err
}

// render writes the summary of v to w. Write errors are w's to keep (an
// errWriter).
func (s *Summary) render(w io.Writer, v *View) {
	max := s.MaxPaths
	if max <= 0 {
		max = defaultMaxPaths
	}
	p := &printer{w: w, width: (&Table{Width: s.Width}).width()}
	walked := 0
	for _, tv := range v.Targets {
		h := tv.Host
		if h == nil {
			continue
		}
		if walked > 0 {
			p.line("")
		}
		walked++
		name := Display(tv.Name()) // two start directories of one server are told apart
		status := "complete"
		if !h.Complete {
			status = "INCOMPLETE"
		}
		p.wrapped([]string{name + ":", status}, 0, sumIndent)
		p.wrapped(proseWords(coverageText(tv)), sumIndent, pathIndent)
		p.wrapped(proseWords(countsText(tv.Counts)), sumIndent, pathIndent)
		if h.Info.TLS == "unverified" {
			p.wrapped(proseWords("TLS: the server certificate was NOT verified (--insecure / verify: false)"), sumIndent, pathIndent)
		}
		if h.Info.Banner != "" {
			p.wrapped(proseWords("banner: "+DisplayText(h.Info.Banner)), sumIndent, pathIndent)
		}
		for _, reason := range h.Incomplete {
			p.wrapped(proseWords("incomplete: "+DisplayText(reason)), sumIndent, pathIndent)
		}
		writePaths(p, "unreadable (the server refused to list it)", h.Unreadable, max)
		writePaths(p, "failed", h.Errors, max)
		writePaths(p, "note", h.Notes, max)
		writeNotListed(p, h.NotListed, max)
	}
	if walked > 1 {
		p.line("")
		p.wrapped(proseWords("Total: "+countsText(v.Total)), 0, sumIndent)
	}
	if n := len(v.Suppressed); n > 0 {
		if walked < 2 {
			p.line("")
		}
		p.wrapped(proseWords(fmt.Sprintf("%d %s suppressed by the suppression file, not counted above",
			n, plural(n, "finding", "findings"))), 0, sumIndent)
	}
}

// coverageText says how much of a walked target was seen, how it was
// listed and how long it took: "3 dirs, 2 files, 1 link walked; 3
// listed, 1 unreadable, 1 error; listed with LIST in 1.5s".
func coverageText(tv *TargetView) string {
	h := tv.Host
	st := h.Stats
	files := st.Files + st.Other
	took := h.Finished.Sub(h.Started).Round(time.Millisecond).String()
	how := "no session opened (" + took + ")"
	if tv.Listing != "" {
		mode := tv.Listing
		if h.Stat != nil && h.Stat.Used {
			mode += " (STAT)" // LIST over the control connection
		}
		if h.Tree != nil && h.Tree.State == "used" {
			mode += " (LIST -R)"
		}
		how = "listed with " + mode + " in " + took
	}
	return fmt.Sprintf("%d %s, %d %s, %d %s walked; %d listed, %d unreadable, %d %s; %s",
		st.Dirs, plural(st.Dirs, "dir", "dirs"), files, plural(files, "file", "files"), st.Links, plural(st.Links, "link", "links"),
		st.Listed, st.Unreadable, st.Errors, plural(st.Errors, "error", "errors"), how)
}

// countsText is totalText, or "no findings".
func countsText(c Counts) string {
	if c.Total() == 0 {
		return "no findings"
	}
	return totalText(c)
}

// pathLine writes one path with what was said of it: the path (broken
// only when it is wider than a line), two spaces, and the text, wrapped
// under it.
func pathLine(p *printer, path, text string) {
	name := nameLines(Display(path), p.width-pathIndent, p.width-wrapIndent)
	var rest []string
	if text = DisplayText(text); text != "" {
		words := proseWords(text)
		last := name[len(name)-1]
		indent := pathIndent
		if len(name) > 1 {
			indent = wrapIndent
		}
		if room := p.width - indent - twwidth.Width(last) - len(gap); room >= twwidth.Width(words[0]) {
			lines := wrapWords(words, room, p.width-wrapIndent)
			name[len(name)-1] = last + gap + lines[0]
			rest = lines[1:]
		} else {
			rest = wrapWords(words, p.width-wrapIndent, p.width-wrapIndent)
		}
	}
	for i, l := range name {
		if i == 0 {
			p.line(strings.Repeat(" ", pathIndent) + l)
		} else {
			p.line(strings.Repeat(" ", wrapIndent) + l)
		}
	}
	for _, l := range rest {
		p.line(strings.Repeat(" ", wrapIndent) + l)
	}
}

// unlistedOrder is the order kinds are counted in: those that cost
// completeness first.
var unlistedOrder = []ftpaudit.UnlistedKind{
	ftpaudit.UnlistedError, ftpaudit.UnlistedBound, ftpaudit.UnlistedUndecided, ftpaudit.UnlistedHeuristic,
	ftpaudit.UnlistedAccepted, ftpaudit.UnlistedExcluded, ftpaudit.UnlistedSame, ftpaudit.UnlistedUnreadable,
}

// writeNotListed writes how many directories were not listed, per kind,
// then those that cost completeness and those accepted, at most max of
// them (the unreadable ones are listed above; every one is in the JSON).
func writeNotListed(p *printer, us []ftpaudit.Unlisted, max int) {
	if len(us) == 0 {
		return
	}
	count := map[ftpaudit.UnlistedKind]int{}
	for _, u := range us {
		count[u.Kind]++
	}
	var parts []string
	for _, k := range unlistedOrder {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
			delete(count, k)
		}
	}
	var unknown []string
	for k, n := range count { // a kind this version does not know
		unknown = append(unknown, fmt.Sprintf("%d %s", n, DisplayText(string(k))))
	}
	slices.Sort(unknown)
	parts = append(parts, unknown...)
	p.wrapped(proseWords(fmt.Sprintf("not listed: %d (%s)", len(us), strings.Join(parts, ", "))), sumIndent, pathIndent)
	shown := 0
	for _, u := range us {
		if !u.Kind.Costs() && u.Kind != ftpaudit.UnlistedAccepted {
			continue
		}
		if shown == max {
			p.wrapped(proseWords("... and more (see --format json)"), pathIndent, wrapIndent)
			break
		}
		shown++
		why := u.Reason
		if a := u.Accepted; a != nil {
			why = "accepted (accept_unlisted " + a.Glob
			if a.Reason != "" {
				why += ": " + a.Reason
			}
			why += "), was " + string(a.Kind) + ": " + u.Reason
		}
		pathLine(p, u.Path, string(u.Kind)+": "+strings.ReplaceAll(why, "\n", " | "))
	}
}

// writePaths writes a list of paths with the server's reply or the note
// for each, at most max of them.
func writePaths(p *printer, what string, ps []ftpaudit.PathError, max int) {
	if len(ps) == 0 {
		return
	}
	p.wrapped(proseWords(fmt.Sprintf("%s: %d", what, len(ps))), sumIndent, pathIndent)
	for i, pe := range ps {
		if i == max {
			p.wrapped(proseWords(fmt.Sprintf("... and %d more (see --format json)", len(ps)-max)), pathIndent, wrapIndent)
			break
		}
		pathLine(p, pe.Path, strings.ReplaceAll(pe.Error, "\n", " | "))
	}
}
