package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/ftpaudit/ftpaudit"
)

// Summary writes a human summary: one table row per host with counts and
// coverage, then the directories that could not be listed and why.
type Summary struct {
	// MaxPaths bounds how many unreadable or failed paths are shown per
	// host; zero means 20.
	MaxPaths int
}

var _ Reporter = (*Summary)(nil)

func newTable(w io.Writer, header ...any) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header...)
	return t
}

// Report writes the summary of r.
func (s *Summary) Report(w io.Writer, r *ftpaudit.Result) error {
	max := s.MaxPaths
	if max <= 0 {
		max = 20
	}
	t := newTable(w, "HOST", "STATUS", "LISTING", "DIRS", "FILES", "LINKS", "LISTED", "UNREADABLE", "ERRORS", "TIME")
	for _, h := range r.Hosts {
		status := "complete"
		if !h.Complete {
			status = "INCOMPLETE"
		}
		mode := "-"
		if h.Info.Login != "" {
			mode = listingMode(h.Info)
			if h.Stat != nil && h.Stat.Used {
				mode += " (STAT)" // LIST over the control connection
			}
			if h.Tree != nil && h.Tree.State == "used" {
				mode += " (LIST -R)"
			}
		}
		st := h.Stats
		err := t.Append([]string{
			Display(h.Target.URL + pathSuffix(h.Target.Start)), status, mode,
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
	for _, h := range r.Hosts {
		host := Display(h.Target.URL)
		if h.Info.TLS == "unverified" {
			fmt.Fprintf(w, "\n%s TLS: the server certificate was NOT verified (--insecure / verify: false)\n", host)
		}
		if h.Info.Banner != "" {
			fmt.Fprintf(w, "\n%s banner: %s\n", host, Display(h.Info.Banner))
		}
		for _, reason := range h.Incomplete {
			fmt.Fprintf(w, "%s incomplete: %s\n", host, Display(reason))
		}
		writePaths(w, host, "unreadable (the server refused to list it)", h.Unreadable, max)
		writePaths(w, host, "failed", h.Errors, max)
		writePaths(w, host, "note", h.Notes, max)
	}
	return nil
}

func pathSuffix(start string) string {
	if start == "/" || start == "" {
		return ""
	}
	return start
}

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
		fmt.Fprintf(w, "  %s  %s\n", Display(p.Path), Display(strings.ReplaceAll(p.Error, "\n", " | ")))
	}
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
