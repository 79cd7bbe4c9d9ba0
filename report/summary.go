package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ftpaudit/ftpaudit"
)

// Summary writes a human summary: one table row per walked target with
// its coverage, then per target its TLS verdict, banner, why it is
// incomplete, and the directories that could not be listed and why.
// Names (targets, paths) are escaped with Display, server replies and
// banners with DisplayText.
type Summary struct {
	// MaxPaths bounds how many unreadable or failed paths are shown per
	// target; zero means 20.
	MaxPaths int
}

var _ Reporter = (*Summary)(nil)

const defaultMaxPaths = 20

// Report writes the summary of r.
func (s *Summary) Report(w io.Writer, r *ftpaudit.Result) error {
	// Many small writes: ew keeps the first error, and later writes fail
	// fast with it, so that a summary cut short is never a success.
	ew := &errWriter{w: w}
	if err := s.render(ew, NewView(r)); err != nil {
		return err
	}
	return ew.err
}

func (s *Summary) render(w io.Writer, v *View) error {
	max := s.MaxPaths
	if max <= 0 {
		max = defaultMaxPaths
	}
	t := newTable(w, "HOST", "STATUS", "LISTING", "DIRS", "FILES", "LINKS", "LISTED", "UNREADABLE", "ERRORS", "TIME")
	for _, tv := range v.Targets {
		h := tv.Host
		if h == nil {
			continue
		}
		status := "complete"
		if !h.Complete {
			status = "INCOMPLETE"
		}
		mode := "-"
		if tv.Listing != "" {
			mode = tv.Listing
			if h.Stat != nil && h.Stat.Used {
				mode += " (STAT)" // LIST over the control connection
			}
			if h.Tree != nil && h.Tree.State == "used" {
				mode += " (LIST -R)"
			}
		}
		st := h.Stats
		err := t.Append([]string{
			Display(tv.Name()), status, mode,
			strconv.Itoa(st.Dirs), strconv.Itoa(st.Files + st.Other), strconv.Itoa(st.Links),
			strconv.Itoa(st.Listed), strconv.Itoa(st.Unreadable), strconv.Itoa(st.Errors),
			h.Finished.Sub(h.Started).Round(1e6).String(),
		})
		if err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render summary: %w", err)
	}
	for _, tv := range v.Targets {
		h := tv.Host
		if h == nil {
			continue
		}
		host := Display(tv.Name()) // two start directories of one server are told apart
		if h.Info.TLS == "unverified" {
			fmt.Fprintf(w, "\n%s TLS: the server certificate was NOT verified (--insecure / verify: false)\n", host)
		}
		if h.Info.Banner != "" {
			fmt.Fprintf(w, "\n%s banner: %s\n", host, DisplayText(h.Info.Banner))
		}
		for _, reason := range h.Incomplete {
			fmt.Fprintf(w, "%s incomplete: %s\n", host, DisplayText(reason))
		}
		writePaths(w, host, "unreadable (the server refused to list it)", h.Unreadable, max)
		writePaths(w, host, "failed", h.Errors, max)
		writePaths(w, host, "note", h.Notes, max)
		writeNotListed(w, host, h.NotListed, max)
	}
	return nil
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
func writeNotListed(w io.Writer, host string, us []ftpaudit.Unlisted, max int) {
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
	for k, n := range count { // a kind this version does not know
		parts = append(parts, fmt.Sprintf("%d %s", n, DisplayText(string(k))))
	}
	fmt.Fprintf(w, "%s not listed: %d (%s)\n", host, len(us), strings.Join(parts, ", "))
	shown := 0
	for _, u := range us {
		if !u.Kind.Costs() && u.Kind != ftpaudit.UnlistedAccepted {
			continue
		}
		if shown == max {
			fmt.Fprintf(w, "  ... and more (see --format json)\n")
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
		fmt.Fprintf(w, "  %s  %s: %s\n", Display(u.Path), u.Kind, DisplayText(strings.ReplaceAll(why, "\n", " | ")))
	}
}

// writePaths writes a list of paths with the server's reply or the note
// for each, at most max of them. Write errors are w's to keep (an
// errWriter).
func writePaths(w io.Writer, host, what string, ps []ftpaudit.PathError, max int) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "%s %s: %d\n", host, what, len(ps))
	for i, p := range ps {
		if i == max {
			fmt.Fprintf(w, "  ... and %d more (see --format json)\n", len(ps)-max)
			break
		}
		fmt.Fprintf(w, "  %s  %s\n", Display(p.Path), DisplayText(strings.ReplaceAll(p.Error, "\n", " | ")))
	}
}
