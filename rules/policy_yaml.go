package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"go.yaml.in/yaml/v3"
)

// The YAML front end: one node walker for the policy file and for the
// policy part of a hosts file (the hosts file reads the rest of its keys
// with the same walker), so that both report problems the same way.

// PolicyError is a problem in a policy file or a hosts file, at a line (0
// when unknown). Its message names the setting in the file's own terms
// ("hosts[0].drop_boxes"), suggests the closest known key for an unknown
// one, and never names a Go type.
type PolicyError struct {
	File string
	Line int
	// Key is the setting the problem is in, as the file spells it
	// ("hosts[0].drop_boxes", "severity.hidden-name"); "" for the file as
	// a whole. Msg already names it.
	Key string
	Msg string
}

// Error returns "file:line: message", or "file: message" when the line is
// not known.
func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Parser walks the YAML nodes of one configuration file. Every problem it
// reports is a *PolicyError with File and the line of the node at fault.
// A what argument names the node in messages, in the file's terms
// ("hosts[2].tls"). Aliases are followed; a null node (a key with no
// value) is an empty mapping or list.
type Parser struct {
	// File names the file in errors.
	File string
}

// Errorf returns a *PolicyError at n's line (0 for nil) about the setting
// key, with the formatted message.
func (p *Parser) Errorf(n *yaml.Node, key, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &PolicyError{File: p.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Decode reads data as one YAML document and returns its root node; nil
// for an empty document (nothing, or only comments). what names the kind
// of file in the error for a second document ("a policy").
func (p *Parser) Decode(data []byte, what string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, p.yamlError(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.Errorf(&extra, "", "more than one YAML document: %s is one document", what)
	} else if !errors.Is(err, io.EOF) {
		return nil, p.yamlError(err, data)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	return root, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a syntax error of the YAML decoder into a PolicyError,
// with a hint for the two mistakes that give its most cryptic messages:
// an unquoted glob starting with "*" (an alias in YAML) and a tab in the
// indentation.
func (p *Parser) yamlError(err error, data []byte) error {
	msg := err.Error()
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return &PolicyError{File: p.File, Msg: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	if strings.Contains(msg, "did not find expected alphabetic or numeric character") ||
		strings.Contains(msg, "unknown anchor") {
		msg += ` (a value starting with "*" or "&" must be quoted: "*.nfo")`
	}
	if strings.Contains(msg, "tab character") || strings.Contains(msg, "cannot start any token") {
		// The decoder names the tab's line or the one before it.
		if t := tabIndented(data, line, line+1); t > 0 {
			line = t
			msg += " (tabs are not allowed for indentation: indent with spaces)"
		}
	}
	return &PolicyError{File: p.File, Line: line, Msg: "YAML: " + msg}
}

// tabIndented returns the first line from line from to line to (1-based)
// whose indentation holds a tab, or 0.
func tabIndented(data []byte, from, to int) int {
	for i, l := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		if n < from {
			continue
		}
		if n > to {
			break
		}
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			return n
		}
	}
	return 0
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is missing or a YAML null (a key with no
// value).
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe says what a node is, for "want X, got Y" messages.
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
			return n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "something else"
}

// Mapping walks a mapping node, calling fn for each key in file order
// with the key's node k and its value v. A key not in known is an error
// that suggests the closest known one (known nil: any key); so is a
// duplicate key.
func (p *Parser) Mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node) error) error {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.Errorf(n, what, "%s: want a mapping (key: value lines), got %s", what, describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return p.Errorf(k, what, "%s: a key must be a plain word, got %s", what, describe(k))
		}
		key := k.Value
		if known != nil && !slices.Contains(known, key) {
			msg := fmt.Sprintf("unknown key %q in %s", key, what)
			if s := Suggest(key, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			msg += " (known: " + strings.Join(known, ", ") + ")"
			return p.Errorf(k, what, "%s", msg)
		}
		if first, dup := seen[key]; dup {
			return p.Errorf(k, what, "duplicate key %q in %s (first at line %d)", key, what, first)
		}
		seen[key] = k.Line
		if err := fn(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

// Sequence walks a list node, calling fn for each element.
func (p *Parser) Sequence(n *yaml.Node, what string, fn func(i int, v *yaml.Node) error) error {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.Errorf(n, what, "%s: want a list (lines starting with \"- \" or [a, b]), got %s", what, describe(n))
	}
	for i, v := range n.Content {
		if err := fn(i, deref(v)); err != nil {
			return err
		}
	}
	return nil
}

// String reads a scalar as a string (a number or a boolean as written).
func (p *Parser) String(n *yaml.Node, what string) (string, error) {
	n = deref(n)
	if isNull(n) || n.Kind != yaml.ScalarNode {
		return "", p.Errorf(n, what, "%s: want a string, got %s", what, describeOrNothing(n))
	}
	return n.Value, nil
}

// Bool reads true or false.
func (p *Parser) Bool(n *yaml.Node, what string) (bool, error) {
	n = deref(n)
	if isNull(n) || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, p.Errorf(n, what, "%s: want true or false, got %s", what, describeOrNothing(n))
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, p.Errorf(n, what, "%s: want true or false, got %s", what, describe(n))
	}
	return b, nil
}

// Int reads a whole number from lo to hi; with hi below lo, of at least
// lo.
func (p *Parser) Int(n *yaml.Node, what string, lo, hi int) (int, error) {
	want := fmt.Sprintf("a whole number from %d to %d", lo, hi)
	if hi < lo {
		want = fmt.Sprintf("a whole number of at least %d", lo)
	}
	n = deref(n)
	if isNull(n) || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, p.Errorf(n, what, "%s: want %s, got %s", what, want, describeOrNothing(n))
	}
	var i int
	if err := n.Decode(&i); err != nil || i < lo || (hi >= lo && i > hi) {
		return 0, p.Errorf(n, what, "%s: want %s, got %s", what, want, n.Value)
	}
	return i, nil
}

// describeOrNothing is describe, with nil as nothing.
func describeOrNothing(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	return describe(n)
}

// Strings reads a list of non-empty strings.
func (p *Parser) Strings(n *yaml.Node, what string) ([]string, error) {
	out := []string{}
	err := p.Sequence(n, what, func(_ int, v *yaml.Node) error {
		s, err := p.String(v, what)
		if err != nil {
			return err
		}
		if s == "" {
			return p.Errorf(v, what, "%s: empty string", what)
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// Globs reads a list of globs of the given kind (glob.Path for paths).
func (p *Parser) Globs(n *yaml.Node, what string, kind glob.Kind) ([]*glob.Glob, error) {
	out := []*glob.Glob{}
	err := p.Sequence(n, what, func(_ int, v *yaml.Node) error {
		s, err := p.String(v, what)
		if err != nil {
			return err
		}
		g, err := glob.Compile(s, kind)
		if err != nil {
			return p.Errorf(v, what, "%s: %v", what, err)
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

// ids reads a list of account names, or with numeric, of numeric ids
// (leading zeros dropped).
func (p *Parser) ids(n *yaml.Node, what string, numeric bool) ([]string, error) {
	out := []string{}
	err := p.Sequence(n, what, func(_ int, v *yaml.Node) error {
		s, err := p.String(v, what)
		if err != nil {
			return err
		}
		if s == "" {
			return p.Errorf(v, what, "%s: empty name", what)
		}
		if numeric {
			if _, err := strconv.ParseUint(s, 10, 32); err != nil {
				return p.Errorf(v, what, "%s: %q is not a numeric id (want digits, e.g. 117)", what, s)
			}
			s = normID(s)
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// HostPolicyKeys are the keys of a policy's host entry besides match:
// what the policy says about the hosts it matches. A hosts file's host
// takes them too.
var HostPolicyKeys = []string{"drop_boxes", "ignore", "anonymous", "accept_unlisted"}

// HostPolicyKey reads key, one of HostPolicyKeys, from its value v into
// hp. what names the entry ("hosts[0]"); the messages name the key below
// it ("hosts[0].drop_boxes").
func (p *Parser) HostPolicyKey(hp *HostPolicy, what, key string, v *yaml.Node) error {
	var err error
	switch key {
	case "drop_boxes":
		hp.DropBoxes, err = p.Globs(v, what+".drop_boxes", glob.Path)
	case "ignore":
		hp.Ignore, err = p.Globs(v, what+".ignore", glob.Path)
	case "anonymous":
		err = p.anonymous(v, what+".anonymous", &hp.Names, &hp.UIDs, &hp.GIDs, func(b bool) { hp.Learn = &b })
	case "accept_unlisted":
		hp.Accept, err = p.acceptRules(v, what+".accept_unlisted")
	default:
		err = p.Errorf(v, what, "%s: %q is not a policy key (want one of %s)", what, key, strings.Join(HostPolicyKeys, ", "))
	}
	return err
}

var acceptKeys = []string{"path", "reason"}

// acceptRules reads accept_unlisted: a list whose elements are a path
// glob, or a mapping with the glob (path) and a reason.
func (p *Parser) acceptRules(n *yaml.Node, what string) ([]AcceptRule, error) {
	out := []AcceptRule{}
	err := p.Sequence(n, what, func(i int, v *yaml.Node) error {
		el := fmt.Sprintf("%s[%d]", what, i)
		var a AcceptRule
		var pat string
		var err error
		if v.Kind == yaml.MappingNode {
			err = p.Mapping(v, el, acceptKeys, func(key string, _, kv *yaml.Node) error {
				var err error
				switch key {
				case "path":
					pat, err = p.String(kv, el+".path")
				case "reason":
					a.Reason, err = p.String(kv, el+".reason")
				}
				return err
			})
			if err == nil && pat == "" {
				err = p.Errorf(v, el, "%s: path is required (a path glob, e.g. \"/pub/mirrors/**\")", el)
			}
		} else {
			pat, err = p.String(v, el)
		}
		if err != nil {
			return err
		}
		if a.Glob, err = glob.Compile(pat, glob.Path); err != nil {
			return p.Errorf(v, el, "%s: %v", what, err)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

var anonKeys = []string{"names", "uids", "gids", "learn"}

// anonymous reads an anonymous account.
func (p *Parser) anonymous(n *yaml.Node, what string, names, uids, gids *[]string, learn func(bool)) error {
	return p.Mapping(n, what, anonKeys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "names":
			*names, err = p.ids(v, what+".names", false)
		case "uids":
			*uids, err = p.ids(v, what+".uids", true)
		case "gids":
			*gids, err = p.ids(v, what+".gids", true)
		case "learn":
			var b bool
			if b, err = p.Bool(v, what+".learn"); err == nil {
				learn(b)
			}
		}
		return err
	})
}

// policyParser reads a policy file into pol.
type policyParser struct {
	*Parser
	pol *Policy
}

var (
	topKeys        = []string{"version", "anonymous", "drop_boxes", "ignore", "accept_unlisted", "severity", "suspicious", "hosts"}
	hostKeys       = append([]string{"match"}, HostPolicyKeys...)
	suspiciousKeys = []string{"name", "reason", "upload_areas_only"}
)

// top reads the policy's root mapping.
func (pp *policyParser) top(root *yaml.Node) error {
	p := pp.pol
	return pp.Mapping(root, "the policy", topKeys, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				return pp.Errorf(v, "version", "version: only version 1 is known, got %s", describe(v))
			}
		case "anonymous":
			return pp.anonymous(v, "anonymous", &p.Anonymous.Names, &p.Anonymous.UIDs, &p.Anonymous.GIDs, func(b bool) { p.Anonymous.NoLearn = !b })
		case "drop_boxes":
			p.DropBoxes, err = pp.Globs(v, "drop_boxes", glob.Path)
		case "ignore":
			p.Ignore, err = pp.Globs(v, "ignore", glob.Path)
		case "accept_unlisted":
			p.Accept, err = pp.acceptRules(v, "accept_unlisted")
		case "severity":
			err = pp.severity(v)
		case "suspicious":
			err = pp.suspicious(v)
		case "hosts":
			err = pp.Sequence(v, "hosts", func(i int, hv *yaml.Node) error { return pp.host(i, hv) })
		}
		return err
	})
}

// severity reads the severity overrides: rule ID → severity or off.
func (pp *policyParser) severity(n *yaml.Node) error {
	return pp.Mapping(n, "severity", nil, func(key string, k, v *yaml.Node) error {
		if _, ok := ftpaudit.RuleByID(key); !ok {
			msg := fmt.Sprintf("severity: unknown rule ID %q", key)
			if s := Suggest(key, ruleIDs()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return pp.Errorf(k, "severity", "%s (rules: %s)", msg, strings.Join(ruleIDs(), ", "))
		}
		what := "severity." + key
		s, err := pp.String(v, what)
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
			return pp.Errorf(v, what, "%s: unknown severity %q (want info, low, medium, high, critical or off)", what, s)
		}
		pp.pol.Severity[key] = sev
		delete(pp.pol.Off, key)
		return nil
	})
}

// suspicious reads the extra suspicious-name patterns.
func (pp *policyParser) suspicious(n *yaml.Node) error {
	return pp.Sequence(n, "suspicious", func(i int, v *yaml.Node) error {
		what := fmt.Sprintf("suspicious[%d]", i)
		var np NamePattern
		var nameNode *yaml.Node
		err := pp.Mapping(v, what, suspiciousKeys, func(key string, _, v *yaml.Node) error {
			var err error
			switch key {
			case "name":
				var s string
				if s, err = pp.String(v, what+".name"); err != nil {
					return err
				}
				nameNode = v
				if np.Glob, err = glob.Compile(s, glob.Name); err != nil {
					return pp.Errorf(v, what+".name", "%s.name: %v", what, err)
				}
			case "reason":
				np.Reason, err = pp.String(v, what+".reason")
			case "upload_areas_only":
				np.UploadAreasOnly, err = pp.Bool(v, what+".upload_areas_only")
			}
			return err
		})
		if err != nil {
			return err
		}
		if v.Kind != yaml.MappingNode {
			return pp.Errorf(v, what, "%s: want a mapping with name and reason, got %s", what, describe(v))
		}
		if nameNode == nil {
			return pp.Errorf(v, what, "%s: name is required", what)
		}
		if strings.TrimSpace(np.Reason) == "" {
			return pp.Errorf(v, what, "%s: reason is required (it is shown as the evidence)", what)
		}
		pp.pol.Suspicious = append(pp.pol.Suspicious, np)
		return nil
	})
}

// host reads the i-th entry of the policy's hosts list.
func (pp *policyParser) host(i int, n *yaml.Node) error {
	what := fmt.Sprintf("hosts[%d]", i)
	var hp HostPolicy
	err := pp.Mapping(n, what, hostKeys, func(key string, _, v *yaml.Node) error {
		if key != "match" {
			return pp.HostPolicyKey(&hp, what, key, v)
		}
		s, err := pp.String(v, what+".match")
		if err != nil {
			return err
		}
		if hp.Match, err = glob.Compile(s, glob.Host); err != nil {
			return pp.Errorf(v, what+".match", "%s.match: %v", what, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return pp.Errorf(n, what, "%s: want a mapping with match and drop_boxes, ignore, anonymous or accept_unlisted, got %s", what, describe(n))
	}
	if hp.Match == nil {
		return pp.Errorf(n, what, "%s: match is required (a glob on the target URL, e.g. \"ftp://ftp.example.org:21\" or \"*\")", what)
	}
	pp.pol.Hosts = append(pp.pol.Hosts, hp)
	return nil
}

// Suggest returns the known word closest to s when it is close enough to
// be a typo of it (same first letter; a few edits, or one a prefix of the
// other), "" otherwise: the "did you mean" of the policy, the hosts file
// and the command line.
func Suggest(s string, known []string) string {
	norm := func(x string) string {
		return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(x))
	}
	best, bestD := "", 4
	for _, k := range known {
		if ns, nk := norm(s), norm(k); ns == "" || nk == "" || ns[0] != nk[0] {
			continue
		}
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

// editDistance is the Levenshtein distance of a and b, in bytes.
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

// ruleIDs lists the catalogue's rule IDs.
func ruleIDs() []string {
	ids := make([]string, len(ftpaudit.Rules))
	for i, r := range ftpaudit.Rules {
		ids[i] = r.ID
	}
	return ids
}
