package rules

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

func globPatterns(gs []*glob.Glob) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.Pattern)
	}
	return out
}

func keys(m map[string]bool) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestParseExamplePolicy(t *testing.T) {
	p, err := LoadPolicy("../testdata/policy/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "names", p.Anonymous.Names, []string{"ftp", "anonymous"})
	eq(t, "uids", p.Anonymous.UIDs, []string{})
	if p.Anonymous.NoLearn {
		t.Error("learn: true parsed as off")
	}
	eq(t, "drop boxes", globPatterns(p.DropBoxes), []string{})
	eq(t, "ignore", globPatterns(p.Ignore), []string{"/pub/mirrors/**/.snapshot"})
	if len(p.Severity) != 1 || p.Severity[ftpaudit.RuleUploadOwner] != ftpaudit.SevMedium || len(p.Off) != 0 {
		t.Errorf("severity %v off %v", p.Severity, p.Off)
	}
	if len(p.Suspicious) != 2 || p.Suspicious[0].Glob.Pattern != "*.torrent" || !p.Suspicious[0].UploadAreasOnly ||
		p.Suspicious[1].UploadAreasOnly || !strings.HasPrefix(p.Suspicious[1].Reason, "a web script") {
		t.Errorf("suspicious %+v", p.Suspicious)
	}
	if len(p.Hosts) != 3 {
		t.Fatalf("hosts %+v", p.Hosts)
	}

	hp := p.forHost("ftp://127.0.0.1:2121")
	eq(t, "127 drop boxes", globPatterns(hp.dropBoxes), []string{"/incoming", "/dropbox", "/**/upload-only"})
	eq(t, "127 uids", keys(hp.uids), []string{"117"})
	eq(t, "127 gids", keys(hp.gids), []string{"124"})
	eq(t, "127 names", keys(hp.names), []string{"anonymous", "ftp"})
	if hp.learn {
		t.Error("learning should be off when uids are given")
	}

	hp = p.forHost("ftp://ftp.example.org:21")
	eq(t, "example drop boxes", globPatterns(hp.dropBoxes), []string{"/pub/incoming", "/**/upload-only"})
	eq(t, "example ignore", globPatterns(hp.ignore), []string{"/pub/mirrors/**/.snapshot", "/pub/old releases/**"})
	if !hp.learn || len(hp.uids) != 0 {
		t.Error("example.org: learning should be on, no uids")
	}
	if glob.MatchAtOrBelow(hp.ignore, "/pub/old releases/1.0/x.tar.gz") == nil || glob.MatchAtOrBelow(hp.ignore, "/pub/old-releases/x") != nil {
		t.Error("ignore with a space")
	}
	if glob.MatchAtOrBelow(hp.dropBoxes, "/a/b/upload-only/f") == nil {
		t.Error("** drop box")
	}
}

func TestPolicyErrorFiles(t *testing.T) {
	tests := []struct {
		file string
		line int
		key  string
		msg  string
	}{
		{"bad-unknown-key.yaml", 5, "hosts[0]", `unknown key "dropbox" in hosts[0] (did you mean "drop_boxes"?)`},
		{"bad-severity.yaml", 3, "severity.hidden-name", `severity.hidden-name: unknown severity "severe"`},
		{"bad-rule-id.yaml", 4, "severity", `severity: unknown rule ID "writeable-dir" (did you mean "writable-dir"?)`},
		{"bad-glob.yaml", 5, "hosts[0].drop_boxes", `hosts[0].drop_boxes: glob "/upload[s": unclosed "["`},
		{"bad-yaml.yaml", 3, "", `YAML: did not find expected alphabetic or numeric character (a value starting with "*" or "&" must be quoted`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "policy", tc.file)
			p, err := LoadPolicy(path)
			if err == nil {
				t.Fatalf("no error; policy %+v", p)
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Line != tc.line || pe.File != path || pe.Key != tc.key {
				t.Fatalf("error %q (%#v): want file %s line %d key %q", err, pe, path, tc.line, tc.key)
			}
			prefix := path + ":" + strconv.Itoa(tc.line) + ": "
			if !strings.HasPrefix(err.Error(), prefix+tc.msg) {
				t.Errorf("error %q\nwant prefix %q", err, prefix+tc.msg)
			}
		})
	}
}

func TestPolicyErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int
		msg        string
	}{
		{"unknown top key", "version: 1\ndropbox: [/x]\n", 2, `unknown key "dropbox" in the policy (did you mean "drop_boxes"?)`},
		{"unknown anonymous key", "anonymous:\n  uid: [1]\n", 2, `unknown key "uid" in anonymous (did you mean "uids"?)`},
		{"unknown suspicious key", "suspicious:\n  - name: '*.x'\n    reason: r\n    why: w\n", 4, `unknown key "why" in suspicious[0]`},
		{"bad severity", "severity:\n  writable-dir: urgent\n", 2, `severity.writable-dir: unknown severity "urgent"`},
		{"severity not a string", "severity:\n  writable-dir: [high]\n", 2, `severity.writable-dir: want a string, got a list`},
		{"unknown rule", "\n\nseverity:\n  dropbox: low\n", 4, `severity: unknown rule ID "dropbox" (did you mean "dropbox-dir"?)`},
		{"bad path glob bracket", "ignore:\n  - /ok\n  - \"/a[b\"\n", 3, `ignore: glob "/a[b": unclosed "["`},
		{"relative path glob", "drop_boxes: [incoming]\n", 1, `drop_boxes: glob "incoming": a path glob starts with "/"`},
		{"trailing slash", "drop_boxes: [/incoming/]\n", 1, `drop_boxes: glob "/incoming/": a path glob does not end with "/"`},
		{"double star in a name", "ignore: ['/a/b**']\n", 1, `ignore: glob "/a/b**": "**" must be a whole path element`},
		{"empty element", "ignore: ['/a//b']\n", 1, `ignore: glob "/a//b": empty path element`},
		{"bad range", "ignore: ['/[z-a]']\n", 1, `ignore: glob "/[z-a]": bad range 'z'-'a'`},
		{"trailing backslash", "ignore: ['/a\\']\n", 1, `ignore: glob "/a\\": trailing backslash`},
		{"bad host glob", "hosts:\n  - match: \"ftp://[::1\"\n", 2, `hosts[0].match: glob "ftp://[::1": unclosed "["`},
		{"missing match", "hosts:\n  - drop_boxes: [/x]\n", 2, `hosts[0]: match is required`},
		{"host not a mapping", "hosts:\n  - ftp://x\n", 2, `hosts[0]: want a mapping`},
		{"name glob with slash", "suspicious:\n  - name: a/b\n    reason: r\n", 2, `suspicious[0].name: name glob "a/b": a name pattern cannot contain "/"`},
		{"missing reason", "suspicious:\n  - name: '*.x'\n", 2, `suspicious[0]: reason is required`},
		{"non-numeric uid", "anonymous:\n  uids: [ftp]\n", 2, `anonymous.uids: "ftp" is not a numeric id`},
		{"negative gid", "anonymous:\n  gids: [-1]\n", 2, `anonymous.gids: "-1" is not a numeric id`},
		{"bad learn", "hosts:\n  - match: '*'\n    anonymous:\n      learn: maybe\n", 4, `hosts[0].anonymous.learn: want true or false`},
		{"list wanted", "ignore: /pub\n", 1, `ignore: want a list`},
		{"mapping wanted", "anonymous: ftp\n", 1, `anonymous: want a mapping`},
		{"duplicate key", "version: 1\nignore: []\nignore: [/x]\n", 3, `duplicate key "ignore" in the policy (first at line 2)`},
		{"bad version", "version: 2\n", 1, `version: only version 1 is known`},
		{"two documents", "version: 1\n---\nversion: 1\n", 2, `more than one YAML document`},
		{"unquoted star", "hosts:\n  - match: *\n", 2, `YAML: did not find expected alphabetic or numeric character`},
		{"tab indentation", "ignore:\n\t- /pub\n", 2, `YAML: found character that cannot start any token (tabs are not allowed for indentation: indent with spaces)`},
		{"tab in a mapping", "anonymous:\n  names: [ftp]\n\t  uids: [1]\n", 3, `YAML: found character that cannot start any token (tabs are not allowed for indentation: indent with spaces)`},
		{"tab after a key", "version: 1\nignore:\n  - /a\n\tdrop_boxes: []\n", 4, `YAML: found a tab character that violates indentation (tabs are not allowed for indentation: indent with spaces)`},
		{"bad learn at the top", "anonymous: {learn: 1}\n", 1, `anonymous.learn: want true or false, got the number 1`},
		{"not a mapping", "- a\n- b\n", 1, `the policy: want a mapping`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tc.yaml), "policy.yaml")
			if err == nil {
				t.Fatalf("no error; policy %+v", p)
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Line != tc.line {
				t.Fatalf("error %q: want line %d", err, tc.line)
			}
			if want := "policy.yaml:" + strconv.Itoa(tc.line) + ": " + tc.msg; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q\nwant prefix %q", err, want)
			}
		})
	}
}

func TestPolicyDefaults(t *testing.T) {
	for _, y := range []string{"", "# nothing but a comment\n", "---\n", "version: 1\n"} {
		p, err := ParsePolicy([]byte(y), "p.yaml")
		if err != nil {
			t.Fatalf("%q: %v", y, err)
		}
		d := DefaultPolicy()
		if !slices.Equal(p.Anonymous.Names, d.Anonymous.Names) || len(p.Anonymous.UIDs) != 0 || p.Anonymous.NoLearn ||
			len(p.DropBoxes)+len(p.Ignore)+len(p.Hosts)+len(p.Severity)+len(p.Off)+len(p.Suspicious) != 0 {
			t.Errorf("%q: not the default policy: %+v", y, p)
		}
		hp := p.forHost("ftp://x:21")
		eq(t, "names", keys(hp.names), []string{"anonymous", "ftp"})
		if !hp.learn {
			t.Error("default learns")
		}
	}
	if _, err := LoadPolicy(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestPolicySeverityAndOff(t *testing.T) {
	p := mustPolicy(t, "severity:\n  hidden-name: low\n  unreadable-dir: off\n  writable-dir: critical\n")
	if p.Severity[ftpaudit.RuleHiddenName] != ftpaudit.SevLow || p.Severity[ftpaudit.RuleWritableDir] != ftpaudit.SevCritical || !p.Off[ftpaudit.RuleUnreadableDir] || len(p.Severity) != 2 {
		t.Errorf("severity %v off %v", p.Severity, p.Off)
	}
}

func TestHostOverrides(t *testing.T) {
	p := mustPolicy(t, `
anonymous: {names: [ftp], gids: [50]}
drop_boxes: [/incoming]
hosts:
  - match: "*"
    anonymous: {names: [ftpsecure]}
  - match: "ftp://a.example:*"
    drop_boxes: ["/up"]
    anonymous: {names: [ftpa], learn: false}
  - match: "ftps://*"
    ignore: ["/**"]
`)
	hp := p.forHost("ftp://a.example:21")
	eq(t, "a names", keys(hp.names), []string{"ftpa"})
	eq(t, "a gids", keys(hp.gids), []string{"50"})
	eq(t, "a boxes", globPatterns(hp.dropBoxes), []string{"/incoming", "/up"})
	if hp.learn {
		t.Error("a: learn false")
	}
	hp = p.forHost("ftp://b.example:21")
	eq(t, "b names", keys(hp.names), []string{"ftpsecure"})
	eq(t, "b boxes", globPatterns(hp.dropBoxes), []string{"/incoming"})
	eq(t, "b ignore", globPatterns(hp.ignore), []string{})
	if !hp.learn {
		t.Error("b: learn")
	}
	hp = p.forHost("ftps://b.example:21")
	eq(t, "ftps ignore", globPatterns(hp.ignore), []string{"/**"})
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat  string
		kind glob.Kind
		s    string
		want bool
	}{
		{"/incoming", glob.Path, "/incoming", true},
		{"/incoming", glob.Path, "/incoming/x", false}, // Match is exact; at-or-below is matchAtOrBelow
		{"/incoming", glob.Path, "/Incoming", false},
		{"/incoming", glob.Path, "/incoming ", false},
		{"/", glob.Path, "/", true},
		{"/", glob.Path, "/a", false},
		{"/*", glob.Path, "/a", true},
		{"/*", glob.Path, "/a/b", false},
		{"/*", glob.Path, "/.hidden", true},
		{"/*", glob.Path, "/", false},
		{"/pub/*.iso", glob.Path, "/pub/debian.iso", true},
		{"/pub/*.iso", glob.Path, "/pub/x/debian.iso", false},
		{"/**", glob.Path, "/", true},
		{"/**", glob.Path, "/a/b/c", true},
		{"/pub/**", glob.Path, "/pub", true},
		{"/pub/**", glob.Path, "/pub/a/b", true},
		{"/pub/**", glob.Path, "/public", false},
		{"/**/incoming", glob.Path, "/incoming", true},
		{"/**/incoming", glob.Path, "/a/b/incoming", true},
		{"/**/incoming", glob.Path, "/a/b/incoming/x", false},
		{"/a/**/b/**/c", glob.Path, "/a/x/b/y/z/c", true},
		{"/a/**/b/**/c", glob.Path, "/a/b/c", true},
		{"/a/**/b/**/c", glob.Path, "/a/c/b", false},
		{"/**/**/x", glob.Path, "/x", true},
		{"/up?", glob.Path, "/up1", true},
		{"/up?", glob.Path, "/up", false},
		{"/caf?", glob.Path, "/café", true},       // ? is one character, not one byte
		{"/caf?", glob.Path, "/caf\xe9", true},    // or one invalid byte
		{"/caf\xe9", glob.Path, "/caf\xe9", true}, // exact bytes
		{"/caf\xe9", glob.Path, "/café", false},   // Latin-1 is not UTF-8
		{"/old releases/**", glob.Path, "/old releases/1.0", true},
		{"/  ", glob.Path, "/  ", true},
		{"/  ", glob.Path, "/ ", false},
		{"/*", glob.Path, "/  ", true},
		{"/. ", glob.Path, "/.", false},
		{"/...", glob.Path, "/...", true},
		{"/trail dir ", glob.Path, "/trail dir ", true},
		{"/trail dir ", glob.Path, "/trail dir", false},
		{"/[abc]", glob.Path, "/b", true},
		{"/[abc]", glob.Path, "/[abc]", false},
		{`/\[abc]`, glob.Path, "/[abc]", true},
		{`/star\*name`, glob.Path, "/star*name", true},
		{`/star\*name`, glob.Path, "/starXname", false},
		{"/[!a-c]x", glob.Path, "/dx", true},
		{"/[^a-c]x", glob.Path, "/bx", false},
		{"/[]]", glob.Path, "/]", true},
		{"/[é-ë]", glob.Path, "/ê", true},
		{"/a*b*c", glob.Path, "/aXXbYYc", true},
		{"/a*b*c", glob.Path, "/aXXbYY", false},
		{"/*.tar.*", glob.Path, "/x.tar.gz", true},
		{"/-rf", glob.Path, "/-rf", true},
		{"*", glob.Host, "ftp://127.0.0.1:2121", true},
		{"ftp://127.0.0.1:2121", glob.Host, "ftp://127.0.0.1:2121", true},
		{"ftp://127.0.0.1:2121", glob.Host, "ftp://127.0.0.1:21", false},
		{"ftp://127.0.0.1:*", glob.Host, "ftp://127.0.0.1:2121", true},
		{"FTP://Mirror.Example.ORG:*", glob.Host, "ftp://mirror.example.org:21", true},
		{"*.example.org:*", glob.Host, "ftps://ftp.example.org:990", true},
		{"ftp://[[]::1]:21", glob.Host, "ftp://[::1]:21", true},
		{"*.NFO", glob.Name, "team.nfo", true},
		{"*.nfo", glob.Name, "TEAM.NFO", true},
		{"file_id.diz", glob.Name, "FILE_ID.DIZ", true},
		{"*.nfo", glob.Name, "x.nfo.txt", false},
		{"*.r[0-9][0-9]", glob.Name, "setup.r42", true},
		{"*.r[0-9][0-9]", glob.Name, "setup.rar", false},
	}
	for _, tc := range tests {
		g, err := glob.Compile(tc.pat, tc.kind)
		if err != nil {
			t.Errorf("CompileGlob(%q): %v", tc.pat, err)
			continue
		}
		if got := g.Match(tc.s); got != tc.want {
			t.Errorf("glob %q (kind %d) Match(%q) = %v, want %v", tc.pat, tc.kind, tc.s, got, tc.want)
		}
	}
}

func TestMatchAtOrBelow(t *testing.T) {
	gs := []*glob.Glob{glob.Must("/incoming", glob.Path), glob.Must("/**/drop box", glob.Path)}
	for p, want := range map[string]string{
		"/incoming":              "/incoming",
		"/incoming/a/b":          "/incoming",
		"/incoming2":             "",
		"/x/drop box/file":       "/**/drop box",
		"/x/drop box":            "/**/drop box",
		"/x/drop  box/file":      "",
		"/":                      "",
		"/pub/incoming-not-here": "",
	} {
		got := ""
		if g := glob.MatchAtOrBelow(gs, p); g != nil {
			got = g.Pattern
		}
		if got != want {
			t.Errorf("matchAtOrBelow(%q) = %q, want %q", p, got, want)
		}
	}
	if glob.MatchAtOrBelow([]*glob.Glob{glob.Must("/**", glob.Path)}, "/") == nil {
		t.Error("/** covers /")
	}
}

func TestGlobPathological(t *testing.T) {
	// Backtracking stays linear-ish: this would take ages with naive
	// recursion.
	g := glob.Must("/"+strings.Repeat("**/", 12)+"x", glob.Path)
	long := "/" + strings.Repeat("a/", 60) + "b"
	if g.Match(long) {
		t.Error("matched")
	}
	n := glob.Must("/"+strings.Repeat("*a", 20)+"b", glob.Path)
	if n.Match("/" + strings.Repeat("a", 200)) {
		t.Error("matched")
	}
}

// AnonymousFor is the one model of the anonymous account for a host:
// what the judges use, and what a walker can ask.
func TestAnonymousFor(t *testing.T) {
	var nilPolicy *Policy
	d := nilPolicy.AnonymousFor("ftp://x:21")
	if !slices.Equal(d.Names, DefaultAnonymousNames) || d.NoLearn || len(d.UIDs)+len(d.GIDs) != 0 {
		t.Errorf("nil policy: %+v", d)
	}
	p := mustPolicy(t, `
anonymous: {names: [ftp], uids: ["0117"], gids: [50]}
hosts:
  - match: "ftp://a.example:*"
    anonymous: {names: [ftpa], learn: false}
  - match: "*"
    anonymous: {gids: [60]}
`)
	a := p.AnonymousFor("ftp://a.example:21")
	if !slices.Equal(a.Names, []string{"ftpa"}) || !slices.Equal(a.UIDs, []string{"117"}) || !slices.Equal(a.GIDs, []string{"60"}) || !a.NoLearn {
		t.Errorf("a.example: %+v", a)
	}
	b := p.AnonymousFor("ftp://b.example:21")
	if !slices.Equal(b.Names, []string{"ftp"}) || !slices.Equal(b.GIDs, []string{"60"}) || b.NoLearn {
		t.Errorf("b.example: %+v", b)
	}
	a.Names[0] = "changed"
	if p.AnonymousFor("ftp://a.example:21").Names[0] != "ftpa" {
		t.Error("AnonymousFor hands out the policy's own slices")
	}
	for _, c := range []struct {
		id           string
		owner, group bool
	}{
		{"ftp", true, true},
		{"117", true, false},
		{"00117", true, false},
		{"50", false, true},
		{"60", false, false},
		{"root", false, false},
		{"0", false, false},
		{"wheel", false, false},
		{"", false, false},
		{"bob", false, false},
	} {
		acc := p.AnonymousFor("ftp://b.example:21")
		acc.GIDs = []string{"50"}
		if got := acc.MatchesOwner(c.id); got != c.owner {
			t.Errorf("MatchesOwner(%q) = %v", c.id, got)
		}
		if got := acc.MatchesGroup(c.id); got != c.group {
			t.Errorf("MatchesGroup(%q) = %v", c.id, got)
		}
	}
}

func TestAcceptUnlisted(t *testing.T) {
	p, err := ParsePolicy([]byte(`
accept_unlisted:
  - /pub/mirrors/**
  - path: "/upload/u"
    reason: "an uploader's mkdir -p, checked by hand on 2026-12-01"
hosts:
  - match: "ftp://b.example:*"
    accept_unlisted:
      - path: /deep
        reason: deeper than we walk
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Accept) != 2 || p.Accept[0].Glob.Pattern != "/pub/mirrors/**" || p.Accept[0].Reason != "" ||
		p.Accept[1].Glob.Pattern != "/upload/u" || !strings.HasPrefix(p.Accept[1].Reason, "an uploader's") {
		t.Fatalf("accept %+v", p.Accept)
	}
	host := func(url string) *ftpaudit.HostResult {
		h := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: url, Start: "/"},
			NotListed: []ftpaudit.Unlisted{
				{Path: "/bin", Kind: ftpaudit.UnlistedUnreadable, Reason: "550 Permission denied"},
				{Path: "/deep/a/b", Kind: ftpaudit.UnlistedBound, Reason: "not listed: deeper than --max-depth 2", Cause: "depth bound reached"},
				{Path: "/pub/mirrors/x/y", Kind: ftpaudit.UnlistedBound, Reason: "not listed: deeper than --max-depth 2", Cause: "depth bound reached"},
				{Path: "/upload/u/u", Kind: ftpaudit.UnlistedUndecided, Reason: "lists only itself, and ...", Cause: "undecided"},
			},
			Unreadable: []ftpaudit.PathError{{Path: "/bin", Error: "550 Permission denied"}},
			Errors: []ftpaudit.PathError{
				{Path: "/deep/a/b", Error: "not listed: deeper than --max-depth 2"},
				{Path: "/pub/mirrors/x/y", Error: "not listed: deeper than --max-depth 2"},
				{Path: "/upload/u/u", Error: "lists only itself, and ..."},
			},
		}
		h.Stats.Errors = len(h.Errors)
		h.Settle()
		return h
	}
	h := host("ftp://a.example:21")
	if h.Complete {
		t.Fatal("not settled")
	}
	if n := p.AcceptHost(h); n != 2 || h.Complete || !slices.Equal(h.Incomplete, []string{"depth bound reached"}) {
		t.Errorf("a: accepted %d, complete=%v %q", n, h.Complete, h.Incomplete)
	}
	kinds := func(h *ftpaudit.HostResult) []string {
		var out []string
		for _, u := range h.NotListed {
			s := string(u.Kind)
			if u.Accepted != nil {
				s += "(" + string(u.Accepted.Kind) + " by " + u.Accepted.Glob + ")"
			}
			out = append(out, s)
		}
		return out
	}
	eq(t, "a kinds", kinds(h), []string{"unreadable-by-server", "bound", "accepted(bound by /pub/mirrors/**)", "accepted(undecided by /upload/u)"})
	if len(h.Errors) != 1 || h.Stats.Errors != 1 || len(h.Notes) != 2 || !strings.Contains(h.Notes[1].Error, "checked by hand") {
		t.Errorf("a: errors %+v notes %+v", h.Errors, h.Notes)
	}
	// The host entry's rule applies to its host only; then nothing costs.
	h = host("ftp://b.example:21")
	if n := p.AcceptHost(h); n != 3 || !h.Complete || len(h.Incomplete) != 0 || len(h.Errors) != 0 {
		t.Errorf("b: accepted %d, complete=%v %q %+v", n, h.Complete, h.Incomplete, h.Errors)
	}
	// AcceptUnlisted does every host; the default policy accepts nothing.
	r := &ftpaudit.Result{Hosts: []*ftpaudit.HostResult{host("ftp://a.example:21"), host("ftp://b.example:21")}}
	AcceptUnlisted(r, nil)
	if r.Complete() {
		t.Error("the default policy accepted something")
	}
	AcceptUnlisted(r, p)
	if r.Hosts[0].Complete || !r.Hosts[1].Complete {
		t.Errorf("complete %v %v", r.Hosts[0].Complete, r.Hosts[1].Complete)
	}

	for _, c := range []struct{ yaml, msg string }{
		{"accept_unlisted: /x\n", "accept_unlisted: want a list"},
		{"accept_unlisted: [x]\n", `accept_unlisted: glob "x": a path glob starts with "/"`},
		{"accept_unlisted:\n  - reason: r\n", "accept_unlisted[0]: path is required"},
		{"accept_unlisted:\n  - path: /x\n    why: r\n", `unknown key "why" in accept_unlisted[0]`},
		{"hosts:\n  - match: '*'\n    accept_unlisted: [[/x]]\n", "hosts[0].accept_unlisted[0]: want a string"},
	} {
		if _, err := ParsePolicy([]byte(c.yaml), "p.yaml"); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.msg)
		}
	}
}
