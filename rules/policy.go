package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"go.yaml.in/yaml/v3"
)

// Policy is what the operator intends for an archive: the drop boxes that
// are meant to be there, paths whose findings are not wanted, who the
// anonymous account is, severity overrides and extra suspicious names. It
// is read from a YAML file (ParsePolicy, LoadPolicy; the format is
// documented in testdata/policy/example.yaml). The zero value is not
// useful: use DefaultPolicy.
type Policy struct {
	// Source names the file the policy came from ("" for the defaults).
	Source string
	// Anonymous describes the anonymous account on every host, unless a
	// host entry overrides it.
	Anonymous AnonymousAccount
	// DropBoxes and Ignore apply to every host; host entries add to them.
	DropBoxes []*glob.Glob
	Ignore    []*glob.Glob
	// Hosts are the per-host entries, in file order. Every entry whose
	// Match matches a target's URL applies to it.
	Hosts []HostPolicy
	// Severity overrides the severity of every finding of a rule.
	Severity map[string]ftpaudit.Severity
	// Off lists rules whose findings are dropped (severity "off").
	Off map[string]bool
	// Suspicious are extra name patterns for the suspicious-name rule.
	Suspicious []NamePattern
}

// AnonymousAccount says which owner and group names and numeric ids are
// the anonymous FTP account.
type AnonymousAccount struct {
	Names []string
	UIDs  []string
	GIDs  []string
	// NoLearn turns off learning the anonymous account from the owners
	// and groups of entries in writable directories. Learning owners is
	// also off whenever UIDs is not empty, learning groups whenever GIDs
	// is not empty.
	NoLearn bool
}

// HostPolicy is one entry of the policy's hosts list.
type HostPolicy struct {
	// Match is a glob on the target URL ("ftp://127.0.0.1:2121", "*").
	Match *glob.Glob
	// DropBoxes and Ignore are path globs added to the policy-wide ones.
	DropBoxes []*glob.Glob
	Ignore    []*glob.Glob
	// Names, UIDs, GIDs replace the policy-wide anonymous account's when
	// not nil; Learn replaces its learning switch when not nil.
	Names, UIDs, GIDs []string
	Learn             *bool
}

// NamePattern is an extra suspicious-name pattern.
type NamePattern struct {
	// Glob matches a single name, ASCII case-insensitively.
	Glob   *glob.Glob
	Reason string
	// UploadAreasOnly restricts the pattern to entries inside writable
	// areas, drop boxes and hidden directories.
	UploadAreasOnly bool
}

// DefaultAnonymousNames are the owner names taken as the anonymous
// account when the policy does not say.
var DefaultAnonymousNames = []string{"ftp", "anonymous"}

// DefaultPolicy returns the policy used without a policy file: anonymous
// account "ftp"/"anonymous" with no known numeric ids, learning on, no
// drop boxes, nothing ignored, default severities.
func DefaultPolicy() *Policy {
	return &Policy{
		Anonymous: AnonymousAccount{Names: slices.Clone(DefaultAnonymousNames)},
		Severity:  map[string]ftpaudit.Severity{},
		Off:       map[string]bool{},
	}
}

// PolicyError is a problem in a policy file, with the line it is on (0
// when unknown).
type PolicyError struct {
	File string
	Line int
	Msg  string
}

func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadPolicy reads and parses the policy file at path.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return ParsePolicy(data, path)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParsePolicy parses a YAML policy. name is used in error messages, which
// name the line: "policy.yaml:12: unknown key \"dropbox\"". Unknown keys,
// unknown rule IDs and severities, and bad globs are errors. An empty
// document gives the default policy.
func ParsePolicy(data []byte, name string) (*Policy, error) {
	pp := &policyParser{file: name, pol: DefaultPolicy()}
	pp.pol.Source = name
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return pp.pol, nil
		}
		return nil, pp.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, pp.errf(&extra, "more than one YAML document: a policy is one document")
	} else if !errors.Is(err, io.EOF) {
		return nil, pp.yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return pp.pol, nil
		}
		root = root.Content[0]
	}
	if err := pp.top(root); err != nil {
		return nil, err
	}
	return pp.pol, nil
}

type policyParser struct {
	file string
	pol  *Policy
}

func (pp *policyParser) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &PolicyError{File: pp.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (pp *policyParser) yamlError(err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		msg = m[2]
		if strings.Contains(msg, "did not find expected alphabetic or numeric character") ||
			strings.Contains(msg, "unknown anchor") {
			msg += ` (a value starting with "*" or "&" must be quoted: "*.nfo")`
		}
		return &PolicyError{File: pp.file, Line: line, Msg: "YAML: " + msg}
	}
	return &PolicyError{File: pp.file, Msg: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "something else"
}

// mapping walks a mapping node, rejecting unknown and duplicate keys.
// A null node is an empty mapping.
func (pp *policyParser) mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node) error) error {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return pp.errf(n, "%s: want a mapping (key: value lines), got %s", what, describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return pp.errf(k, "%s: a key must be a plain word, got %s", what, describe(k))
		}
		key := k.Value
		if known != nil && !slices.Contains(known, key) {
			msg := fmt.Sprintf("unknown key %q in %s", key, what)
			if s := suggest(key, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			msg += " (known: " + strings.Join(known, ", ") + ")"
			return pp.errf(k, "%s", msg)
		}
		if first, dup := seen[key]; dup {
			return pp.errf(k, "duplicate key %q in %s (first at line %d)", key, what, first)
		}
		seen[key] = k.Line
		if err := fn(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

// sequence walks a list node; a null node is an empty list.
func (pp *policyParser) sequence(n *yaml.Node, what string, fn func(i int, v *yaml.Node) error) error {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return pp.errf(n, "%s: want a list (lines starting with \"- \" or [a, b]), got %s", what, describe(n))
	}
	for i, v := range n.Content {
		if err := fn(i, deref(v)); err != nil {
			return err
		}
	}
	return nil
}

func (pp *policyParser) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", pp.errf(n, "%s: want a string, got %s", what, describe(n))
	}
	return n.Value, nil
}

func (pp *policyParser) boolean(n *yaml.Node, what string) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, pp.errf(n, "%s: want true or false, got %s", what, describe(n))
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, pp.errf(n, "%s: %v", what, err)
	}
	return b, nil
}

func (pp *policyParser) globs(n *yaml.Node, what string, kind glob.Kind) ([]*glob.Glob, error) {
	out := []*glob.Glob{}
	err := pp.sequence(n, what, func(_ int, v *yaml.Node) error {
		s, err := pp.scalar(v, what)
		if err != nil {
			return err
		}
		g, err := glob.Compile(s, kind)
		if err != nil {
			return pp.errf(v, "%s: %v", what, err)
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

func (pp *policyParser) strings(n *yaml.Node, what string, numeric bool) ([]string, error) {
	out := []string{}
	err := pp.sequence(n, what, func(_ int, v *yaml.Node) error {
		s, err := pp.scalar(v, what)
		if err != nil {
			return err
		}
		if s == "" {
			return pp.errf(v, "%s: empty name", what)
		}
		if numeric {
			if _, err := strconv.ParseUint(s, 10, 32); err != nil {
				return pp.errf(v, "%s: %q is not a numeric id (want digits, e.g. 117)", what, s)
			}
			s = strings.TrimLeft(s, "0")
			if s == "" {
				s = "0"
			}
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

var (
	topKeys        = []string{"version", "anonymous", "drop_boxes", "ignore", "severity", "suspicious", "hosts"}
	anonKeys       = []string{"names", "uids", "gids", "learn"}
	hostKeys       = []string{"match", "drop_boxes", "ignore", "anonymous"}
	suspiciousKeys = []string{"name", "reason", "upload_areas_only"}
)

func (pp *policyParser) top(root *yaml.Node) error {
	p := pp.pol
	return pp.mapping(root, "the policy", topKeys, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				return pp.errf(v, "version: only version 1 is known, got %s", describe(v))
			}
		case "anonymous":
			return pp.anonymous(v, "anonymous", &p.Anonymous.Names, &p.Anonymous.UIDs, &p.Anonymous.GIDs, func(b bool) { p.Anonymous.NoLearn = !b })
		case "drop_boxes":
			p.DropBoxes, err = pp.globs(v, "drop_boxes", glob.Path)
		case "ignore":
			p.Ignore, err = pp.globs(v, "ignore", glob.Path)
		case "severity":
			err = pp.severity(v)
		case "suspicious":
			err = pp.suspicious(v)
		case "hosts":
			err = pp.sequence(v, "hosts", func(i int, hv *yaml.Node) error { return pp.host(i, hv) })
		}
		return err
	})
}

func (pp *policyParser) anonymous(n *yaml.Node, what string, names, uids, gids *[]string, learn func(bool)) error {
	return pp.mapping(n, what, anonKeys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "names":
			*names, err = pp.strings(v, what+".names", false)
		case "uids":
			*uids, err = pp.strings(v, what+".uids", true)
		case "gids":
			*gids, err = pp.strings(v, what+".gids", true)
		case "learn":
			var b bool
			if b, err = pp.boolean(v, what+".learn"); err == nil {
				learn(b)
			}
		}
		return err
	})
}

func (pp *policyParser) severity(n *yaml.Node) error {
	return pp.mapping(n, "severity", nil, func(key string, k, v *yaml.Node) error {
		if _, ok := ftpaudit.RuleByID(key); !ok {
			msg := fmt.Sprintf("severity: unknown rule ID %q", key)
			if s := suggest(key, ruleIDs()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return pp.errf(k, "%s (rules: %s)", msg, strings.Join(ruleIDs(), ", "))
		}
		s, err := pp.scalar(v, "severity."+key)
		if err != nil {
			return err
		}
		if s == "off" {
			pp.pol.Off[key] = true
			delete(pp.pol.Severity, key)
			return nil
		}
		sev, ok := ftpaudit.ParseSeverity(s)
		if !ok {
			return pp.errf(v, "severity.%s: unknown severity %q (want info, low, medium, high, critical or off)", key, s)
		}
		pp.pol.Severity[key] = sev
		delete(pp.pol.Off, key)
		return nil
	})
}

func (pp *policyParser) suspicious(n *yaml.Node) error {
	return pp.sequence(n, "suspicious", func(i int, v *yaml.Node) error {
		what := fmt.Sprintf("suspicious[%d]", i)
		var np NamePattern
		var nameNode *yaml.Node
		err := pp.mapping(v, what, suspiciousKeys, func(key string, _, v *yaml.Node) error {
			var err error
			switch key {
			case "name":
				var s string
				if s, err = pp.scalar(v, what+".name"); err != nil {
					return err
				}
				nameNode = v
				if np.Glob, err = glob.Compile(s, glob.Name); err != nil {
					return pp.errf(v, "%s.name: %v", what, err)
				}
			case "reason":
				np.Reason, err = pp.scalar(v, what+".reason")
			case "upload_areas_only":
				np.UploadAreasOnly, err = pp.boolean(v, what+".upload_areas_only")
			}
			return err
		})
		if err != nil {
			return err
		}
		if v.Kind != yaml.MappingNode {
			return pp.errf(v, "%s: want a mapping with name and reason, got %s", what, describe(v))
		}
		if nameNode == nil {
			return pp.errf(v, "%s: name is required", what)
		}
		if strings.TrimSpace(np.Reason) == "" {
			return pp.errf(v, "%s: reason is required (it is shown as the evidence)", what)
		}
		pp.pol.Suspicious = append(pp.pol.Suspicious, np)
		return nil
	})
}

func (pp *policyParser) host(i int, n *yaml.Node) error {
	what := fmt.Sprintf("hosts[%d]", i)
	var hp HostPolicy
	err := pp.mapping(n, what, hostKeys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "match":
			var s string
			if s, err = pp.scalar(v, what+".match"); err != nil {
				return err
			}
			if hp.Match, err = glob.Compile(s, glob.Host); err != nil {
				return pp.errf(v, "%s.match: %v", what, err)
			}
		case "drop_boxes":
			hp.DropBoxes, err = pp.globs(v, what+".drop_boxes", glob.Path)
		case "ignore":
			hp.Ignore, err = pp.globs(v, what+".ignore", glob.Path)
		case "anonymous":
			err = pp.anonymous(v, what+".anonymous", &hp.Names, &hp.UIDs, &hp.GIDs, func(b bool) { hp.Learn = &b })
		}
		return err
	})
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return pp.errf(n, "%s: want a mapping with match and drop_boxes, ignore or anonymous, got %s", what, describe(n))
	}
	if hp.Match == nil {
		return pp.errf(n, "%s: match is required (a glob on the target URL, e.g. \"ftp://ftp.example.org:21\" or \"*\")", what)
	}
	pp.pol.Hosts = append(pp.pol.Hosts, hp)
	return nil
}

// suggest returns the known word closest to s, if it is close.
func suggest(s string, known []string) string {
	norm := func(x string) string {
		return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(x))
	}
	best, bestD := "", 4
	for _, k := range known {
		d := editDistance(norm(s), norm(k))
		if strings.HasPrefix(norm(k), norm(s)) || strings.HasPrefix(norm(s), norm(k)) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func ruleIDs() []string {
	ids := make([]string, len(ftpaudit.Rules))
	for i, r := range ftpaudit.Rules {
		ids[i] = r.ID
	}
	return ids
}

// hostPolicy is a Policy resolved for one target URL.
type hostPolicy struct {
	dropBoxes []*glob.Glob
	ignore    []*glob.Glob
	names     map[string]bool
	uids      map[string]bool
	gids      map[string]bool
	learn     bool // learn owner ids (off when uids are given)
	learnGIDs bool // learn group ids (off when gids are given)
	pol       *Policy
}

// forHost resolves the policy for the target URL: drop boxes and ignores
// are the union of the policy-wide ones and every matching host entry's;
// the anonymous account is the policy-wide one with each field replaced
// by the last matching host entry that sets it.
func (p *Policy) forHost(url string) *hostPolicy {
	names, uids, gids := p.Anonymous.Names, p.Anonymous.UIDs, p.Anonymous.GIDs
	learn := !p.Anonymous.NoLearn
	hp := &hostPolicy{pol: p}
	hp.dropBoxes = append(hp.dropBoxes, p.DropBoxes...)
	hp.ignore = append(hp.ignore, p.Ignore...)
	for _, h := range p.Hosts {
		if h.Match == nil || !h.Match.Match(url) {
			continue
		}
		hp.dropBoxes = append(hp.dropBoxes, h.DropBoxes...)
		hp.ignore = append(hp.ignore, h.Ignore...)
		if h.Names != nil {
			names = h.Names
		}
		if h.UIDs != nil {
			uids = h.UIDs
		}
		if h.GIDs != nil {
			gids = h.GIDs
		}
		if h.Learn != nil {
			learn = *h.Learn
		}
	}
	set := func(xs []string) map[string]bool {
		m := make(map[string]bool, len(xs))
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	hp.names, hp.uids, hp.gids = set(names), set(uids), set(gids)
	hp.learn = learn && len(uids) == 0
	hp.learnGIDs = learn && len(gids) == 0
	return hp
}
