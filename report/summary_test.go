package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/rules"
)

// wrapped matches a line break and the indent of the line after it.
var wrapped = regexp.MustCompile(`\n +`)

// unwrap joins the lines the summary wrapped (and the indented lines
// under a heading) back with one space, so that text can be looked for
// however it was wrapped. A name broken within itself gets a space where
// it was broken: look for those with blankless.
func unwrap(s string) string { return wrapped.ReplaceAllString(s, " ") }

// blankless drops the spaces and line ends of s, so that text can be
// compared however it was wrapped, even where a name was broken.
func blankless(s string) string { return strings.Join(strings.Fields(s), "") }

// longSummarySample is a target whose name, paths and replies are longer
// than any terminal, some of them hostile, as the summary must still lay
// them out within the width.
func longSummarySample() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	long := "/pub/" + strings.Repeat("very-long-directory-name/", 6) + "\x1b[2Jend"
	tgt := ftpaudit.Target{URL: "ftp://" + strings.Repeat("mirror.", 12) + "example.org:2121", Start: "/srv/ftp/pub/with a space/"}
	h := &ftpaudit.HostResult{
		Target: tgt, Info: ftpaudit.ServerInfo{Login: "anonymous", MLSD: true, Banner: strings.Repeat("220-Welcome ", 20), TLS: "unverified"},
		Started: t0, Finished: t0.Add(90 * time.Second),
		Incomplete: []string{"listings failed: " + strings.Repeat("the server said no ", 8)},
		Stats:      ftpaudit.Stats{Dirs: 1200000, Files: 35000000, Links: 1, Listed: 1199990, Unreadable: 10, Errors: 1},
		Unreadable: []ftpaudit.PathError{{Path: long, Error: "550 " + strings.Repeat("Permission denied ", 6)}},
		Errors:     []ftpaudit.PathError{{Path: "/x", Error: "list: connection lost: EOF"}},
		NotListed:  []ftpaudit.Unlisted{{Path: long + "/deeper", Kind: ftpaudit.UnlistedBound, Reason: "not listed: deeper than --max-depth 3"}},
	}
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(91 * time.Second), Hosts: []*ftpaudit.HostResult{h},
		Findings: []ftpaudit.Finding{{Host: tgt.URL, Path: long, Rule: "hidden-name", Severity: ftpaudit.SevHigh}}}
}

// TestSummaryWidth: at 80 and 60 columns (and the narrowest, 30), no line
// of the summary is wider than the terminal, nothing raw reaches it, and
// nothing is lost to the width: every target's status, coverage and
// counts, every reason, path and reply are there in full.
func TestSummaryWidth(t *testing.T) {
	judged := hostileArchive()
	rules.JudgeResult(judged, nil)
	samples := map[string]*ftpaudit.Result{
		"sample": sample(), "judged": judged, "notlisted": notListedSample(), "long": longSummarySample(),
	}
	for name, res := range samples {
		for _, width := range []int{80, 60, 30} {
			var b bytes.Buffer
			if err := (&Summary{Width: width}).Report(&b, res); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			checkWidth(t, out, width)
			checkSafe(t, out)
			flat := blankless(out)
			has := func(what, s string) {
				t.Helper()
				if !strings.Contains(flat, blankless(s)) {
					t.Errorf("%s at %d: %s %q is missing:\n%s", name, width, what, s, out)
				}
			}
			v := NewView(res)
			for _, tv := range v.Targets {
				h := tv.Host
				if h == nil {
					continue
				}
				status := "complete"
				if !h.Complete {
					status = "INCOMPLETE"
				}
				has("target", Display(tv.Name())+":"+status)
				has("coverage", coverageText(tv))
				has("counts", countsText(tv.Counts))
				for _, r := range h.Incomplete {
					has("reason", DisplayText(r))
				}
				if h.Info.Banner != "" {
					has("banner", DisplayText(h.Info.Banner))
				}
				for _, pe := range append(append([]ftpaudit.PathError{}, h.Unreadable...), h.Errors...) {
					has("path", Display(pe.Path)+DisplayText(strings.ReplaceAll(pe.Error, "\n", " | ")))
				}
			}
		}
	}
	// The counts are said in words, with plurals right.
	var b bytes.Buffer
	if err := (&Summary{}).Report(&b, longSummarySample()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1200000 dirs, 35000000 files,", "1 link walked", "1 error;", "1 finding (0 critical, 1 high",
		"TLS: the server certificate was NOT verified", "listed with MLSD in 1m30s"} {
		if !strings.Contains(unwrap(b.String()), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// TestSummaryDefaultWidth: the box-drawn table of earlier versions was
// 109 columns wide at 80; without a Width, the summary fits 80.
func TestSummaryDefaultWidth(t *testing.T) {
	var b bytes.Buffer
	if err := (&Summary{}).Report(&b, hostileArchive()); err != nil {
		t.Fatal(err)
	}
	checkWidth(t, b.String(), 80)
	if strings.ContainsAny(b.String(), "│┌") {
		t.Errorf("summary is still a box-drawn table:\n%s", b.String())
	}
}

// TestSummarySuppressed: findings a suppression file accepted are counted
// apart, never among the target's findings.
func TestSummarySuppressed(t *testing.T) {
	res := sample()
	res.Suppressed = []ftpaudit.Suppressed{{Finding: res.Findings[0], Source: ".ftpauditignore:1"}}
	res.Findings = nil
	var b bytes.Buffer
	if err := (&Summary{}).Report(&b, res); err != nil {
		t.Fatal(err)
	}
	out := unwrap(b.String())
	if !strings.Contains(out, "no findings") || !strings.Contains(out, "1 finding suppressed by the suppression file, not counted above") {
		t.Errorf("suppressed finding not told apart:\n%s", b.String())
	}
}
