package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// notListedSample is a host whose walk left directories unlisted, of
// every kind, one of them accepted by the policy, one with a hostile name.
func notListedSample() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	tgt := ftpaudit.Target{URL: "ftp://127.0.0.1:2121", Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"}
	h := &ftpaudit.HostResult{
		Target: tgt, Info: ftpaudit.ServerInfo{Login: "anonymous"}, Started: t0, Finished: t0.Add(time.Second),
		Incomplete: []string{"depth bound reached", "directories that list only themselves, undecided"},
		Stats:      ftpaudit.Stats{Dirs: 9, Files: 3, Listed: 4, Unreadable: 1, Errors: 2},
		Unreadable: []ftpaudit.PathError{{Path: "/bin", Error: "lists only itself, and listing /bin/bin failed: 226 Transfer done (but failed to open directory)."}},
		NotListed: []ftpaudit.Unlisted{
			{Path: "/bin", Kind: ftpaudit.UnlistedUnreadable, Reason: "lists only itself, and listing /bin/bin failed: 226 Transfer done (but failed to open directory)."},
			{Path: "/deep/a/b/c", Kind: ftpaudit.UnlistedBound, Reason: "not listed: deeper than --max-depth 3", Cause: "depth bound reached"},
			{Path: "/huge", Kind: ftpaudit.UnlistedExcluded, Reason: "excluded by configuration (/huge): not descended"},
			{Path: "/mirror/a", Kind: ftpaudit.UnlistedAccepted, Reason: "not listed: deeper than --max-depth 3",
				Accepted: &ftpaudit.Acceptance{Glob: "/mirror/**", Reason: "mirrored from upstream", Kind: ftpaudit.UnlistedBound}},
			{Path: "/pub-again", Kind: ftpaudit.UnlistedSame, Reason: "same directory as /pub (MLSD unique=fe00u1, and it lists the same); not descended"},
			{Path: "/up/\x1b[2Ju\xff", Kind: ftpaudit.UnlistedUndecided, Reason: "lists only itself, and its only subdirectory /up/\x1b[2Ju\xff/u cannot tell\r\nfake: it lists nothing",
				Cause: "directories that list only themselves, undecided"},
		},
	}
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(time.Second), Hosts: []*ftpaudit.HostResult{h}}
}

func TestNotListedJSONAndSummary(t *testing.T) {
	res := notListedSample()
	var j bytes.Buffer
	if err := (&JSON{}).Report(&j, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "notlisted.json.golden", j.Bytes())
	var doc struct {
		Hosts []struct {
			Complete  bool `json:"complete"`
			NotListed []struct {
				Path     string `json:"path"`
				PathB64  string `json:"path_b64"`
				Kind     string `json:"kind"`
				Reason   string `json:"reason"`
				Accepted *struct {
					Glob   string `json:"glob"`
					Reason string `json:"reason"`
					Kind   string `json:"kind"`
				} `json:"accepted"`
			} `json:"not_listed"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	nl := doc.Hosts[0].NotListed
	if len(nl) != 6 || nl[3].Kind != "accepted" || nl[3].Accepted == nil || nl[3].Accepted.Glob != "/mirror/**" ||
		nl[3].Accepted.Kind != "bound" || nl[5].PathB64 == "" || nl[1].Kind != "bound" || nl[0].Kind != "unreadable-by-server" {
		t.Errorf("not_listed %+v", nl)
	}

	var s bytes.Buffer
	if err := (&Summary{}).Report(&s, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "notlisted.summary.golden", s.Bytes())
	out := unwrap(s.String()) // the summary wraps at 80 columns
	for _, want := range []string{
		"not listed: 6 (1 bound, 1 undecided, 1 accepted, 1 excluded, 1 same-directory, 1 unreadable-by-server)",
		"/deep/a/b/c  bound: not listed: deeper than --max-depth 3",
		"/mirror/a  accepted: accepted (accept_unlisted /mirror/**: mirrored from upstream), was bound",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") || strings.Contains(out, "\xff") || strings.Contains(out, "/huge  excluded") || strings.Contains(out, "/pub-again  same") {
		t.Errorf("summary shows raw control bytes, or directories that cost nothing:\n%q", out)
	}
}
