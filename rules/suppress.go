package rules

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// A suppression file accepts known findings, the way .trivyignore and
// .gitleaksignore do: one line per finding, by its fingerprint or by rule,
// host and path, each with an optional expiry date and reason:
//
//	# comment
//	fingerprint=3f2a...  exp=2027-01-31  reason="vendor mirror, read-only"
//	rule=writable-dir host=ftp://ftp.example.org:21 path=/incoming reason="the drop box"
//	rule=hidden-name host=* path="/pub/mirrors/**"
//
// Values with spaces are double-quoted (Go syntax). host is a host glob
// (the target URL) and path a path glob, which covers everything below
// what it matches. A suppressed finding is not dropped: it moves to
// Result.Suppressed, is counted and listed, and no longer decides the exit
// code. An entry past its expiry date stops suppressing, and says so.

// Suppressions is a parsed suppression file.
type Suppressions struct {
	entries []suppression
}

type suppression struct {
	source      string // FILE:LINE
	fingerprint string
	rule        string
	host, path  *glob.Glob
	expires     time.Time
	reason      string
}

// LoadSuppressions reads and parses the suppression file path.
func LoadSuppressions(path string) (*Suppressions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSuppressions(data, path)
}

// suppressKeys are the keys a line may hold.
var suppressKeys = []string{"fingerprint", "rule", "host", "path", "exp", "reason"}

// ParseSuppressions parses a suppression file; name is used in messages
// and in each suppression's Source.
func ParseSuppressions(data []byte, name string) (*Suppressions, error) {
	s := &Suppressions{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseSuppression(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		e.source = fmt.Sprintf("%s:%d", name, i+1)
		s.entries = append(s.entries, e)
	}
	return s, nil
}

// parseSuppression parses one line of key=value fields.
func parseSuppression(line string) (suppression, error) {
	var e suppression
	seen := map[string]bool{}
	for line != "" {
		k, rest, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return e, fmt.Errorf("want key=value fields (%s), got %q", strings.Join(suppressKeys, ", "), line)
		}
		v, rest, err := suppressValue(rest)
		if err != nil {
			return e, fmt.Errorf("%s: %w", k, err)
		}
		if seen[k] {
			return e, fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		switch k {
		case "fingerprint":
			e.fingerprint = strings.ToLower(v)
		case "rule":
			if _, ok := ftpaudit.RuleByID(v); !ok {
				return e, fmt.Errorf("unknown rule %q", v)
			}
			e.rule = v
		case "host":
			e.host, err = glob.Compile(v, glob.Host)
		case "path":
			e.path, err = glob.Compile(v, glob.Path)
		case "exp":
			e.expires, err = time.Parse("2006-01-02", v)
			e.expires = e.expires.Add(24*time.Hour - time.Nanosecond) // through that day, UTC
		case "reason":
			e.reason = v
		default:
			err = fmt.Errorf("unknown key (want %s)", strings.Join(suppressKeys, ", "))
		}
		if err != nil {
			return e, fmt.Errorf("%s: %w", k, err)
		}
		line = strings.TrimSpace(rest)
	}
	switch {
	case e.fingerprint != "" && (e.rule != "" || e.host != nil || e.path != nil):
		return e, fmt.Errorf("give either fingerprint, or rule, host and path")
	case e.fingerprint == "" && (e.rule == "" || e.host == nil || e.path == nil):
		return e, fmt.Errorf("rule, host and path are all needed (or a fingerprint)")
	}
	return e, nil
}

// suppressValue reads one value: quoted (Go syntax) or up to white space.
func suppressValue(s string) (v, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", "", fmt.Errorf("bad quoted value: %w", err)
		}
		v, _ = strconv.Unquote(q)
		return v, s[len(q):], nil
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i:], nil
	}
	return s, "", nil
}

// matches reports whether e covers f.
func (e *suppression) matches(f *ftpaudit.Finding) bool {
	if e.fingerprint != "" {
		return e.fingerprint == f.Fingerprint()
	}
	return e.rule == f.Rule && e.host.Match(f.Host) && glob.MatchAtOrBelow([]*glob.Glob{e.path}, f.Path) != nil
}

// Apply moves every finding of r that an unexpired entry covers from
// r.Findings to r.Suppressed, and returns one message per expired entry
// that would have covered a finding ("FILE:LINE: expired on DATE: ...").
func (s *Suppressions) Apply(r *ftpaudit.Result, now time.Time) (expired []string) {
	if s == nil || len(s.entries) == 0 {
		return nil
	}
	told := map[string]bool{}
	kept := r.Findings[:0]
	for _, f := range r.Findings {
		var hit *suppression
		for i := range s.entries {
			e := &s.entries[i]
			if !e.matches(&f) {
				continue
			}
			if !e.expires.IsZero() && now.After(e.expires) {
				if !told[e.source] {
					told[e.source] = true
					expired = append(expired, fmt.Sprintf("%s: expired on %s: no longer suppresses %s at %s", e.source, e.expires.Format("2006-01-02"), f.Rule, f.Path))
				}
				continue
			}
			hit = e
			break
		}
		if hit == nil {
			kept = append(kept, f)
			continue
		}
		r.Suppressed = append(r.Suppressed, ftpaudit.Suppressed{Finding: f, Source: hit.source, Reason: hit.reason, Expires: hit.expires})
	}
	r.Findings = kept
	return expired
}
