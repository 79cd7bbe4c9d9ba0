package rules

import (
	"fmt"
	"os"
	"slices"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
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
	// Accept are the directories whose not being listed the operator
	// accepts, on every host (host entries add to them): see
	// AcceptUnlisted.
	Accept []AcceptRule
}

// AcceptRule accepts that the directories a path glob matches (and
// those below them) are not listed: a skip that would make the host
// incomplete (a bound, an undecided listing, a failure) is shown as
// accepted instead, and costs nothing. Unreadable directories need no
// acceptance.
type AcceptRule struct {
	Glob *glob.Glob
	// Reason is the operator's, shown with each directory accepted.
	Reason string
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
	// Accept is added to the policy-wide accept_unlisted.
	Accept []AcceptRule
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

// LoadPolicy reads and parses the policy file at path.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return ParsePolicy(data, path)
}

// ParsePolicy parses a YAML policy. name is used in error messages, which
// name the line: "policy.yaml:12: unknown key \"dropbox\"". Unknown keys,
// unknown rule IDs and severities, and bad globs are errors (*PolicyError).
// An empty document gives the default policy.
func ParsePolicy(data []byte, name string) (*Policy, error) {
	pp := &policyParser{Parser: &Parser{File: name}, pol: DefaultPolicy()}
	pp.pol.Source = name
	root, err := pp.Decode(data, "a policy")
	if err != nil {
		return nil, err
	}
	if root == nil {
		return pp.pol, nil
	}
	if err := pp.top(root); err != nil {
		return nil, err
	}
	return pp.pol, nil
}

// AnonymousFor returns the anonymous account for the target URL: the
// policy-wide one with each field replaced by the last matching host
// entry that sets it. NoLearn is set when learning is off for the host;
// learning owners is also off when UIDs is not empty, and groups when
// GIDs is not (see AnonymousAccount). A nil policy is DefaultPolicy.
func (p *Policy) AnonymousFor(url string) AnonymousAccount {
	if p == nil {
		p = DefaultPolicy()
	}
	a := p.Anonymous
	for _, h := range p.Hosts {
		if h.Match == nil || !h.Match.Match(url) {
			continue
		}
		if h.Names != nil {
			a.Names = h.Names
		}
		if h.UIDs != nil {
			a.UIDs = h.UIDs
		}
		if h.GIDs != nil {
			a.GIDs = h.GIDs
		}
		if h.Learn != nil {
			a.NoLearn = !*h.Learn
		}
	}
	a.Names, a.UIDs, a.GIDs = slices.Clone(a.Names), slices.Clone(a.UIDs), slices.Clone(a.GIDs)
	return a
}

// MatchesOwner reports whether an owner as a listing shows it (a name, or
// a numeric id, leading zeros and all) is the configured anonymous
// account: one of Names, or a number in UIDs. root and 0 never are.
// Owners learned from uploads (see Judge) are not known here: this is what
// can be told from one entry, as a walker deciding whether anonymous users
// may list a directory needs.
func (a AnonymousAccount) MatchesOwner(id string) bool {
	id = normID(id)
	if id == "" || isRootUser(id) {
		return false
	}
	return slices.Contains(a.Names, id) || isDigits(id) && slices.Contains(a.UIDs, id)
}

// MatchesGroup is MatchesOwner for a group: one of Names, or a number in
// GIDs; root, 0 and wheel never are.
func (a AnonymousAccount) MatchesGroup(id string) bool {
	id = normID(id)
	if id == "" || isRootGroup(id) {
		return false
	}
	return slices.Contains(a.Names, id) || isDigits(id) && slices.Contains(a.GIDs, id)
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
	accept    []AcceptRule
	pol       *Policy
}

// forHost resolves the policy for the target URL: drop boxes and ignores
// are the union of the policy-wide ones and every matching host entry's;
// the anonymous account is AnonymousFor's.
func (p *Policy) forHost(url string) *hostPolicy {
	hp := &hostPolicy{pol: p}
	hp.dropBoxes = append(hp.dropBoxes, p.DropBoxes...)
	hp.ignore = append(hp.ignore, p.Ignore...)
	hp.accept = append(hp.accept, p.Accept...)
	for _, h := range p.Hosts {
		if h.Match != nil && h.Match.Match(url) {
			hp.dropBoxes = append(hp.dropBoxes, h.DropBoxes...)
			hp.ignore = append(hp.ignore, h.Ignore...)
			hp.accept = append(hp.accept, h.Accept...)
		}
	}
	a := p.AnonymousFor(url)
	set := func(xs []string) map[string]bool {
		m := make(map[string]bool, len(xs))
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	hp.names, hp.uids, hp.gids = set(a.Names), set(a.UIDs), set(a.GIDs)
	hp.learn = !a.NoLearn && len(a.UIDs) == 0
	hp.learnGIDs = !a.NoLearn && len(a.GIDs) == 0
	return hp
}

// AcceptUnlisted applies the policy's accept_unlisted to every host of r
// (p nil: DefaultPolicy, which accepts nothing): see AcceptHost. It is
// to run once, after the walk and before the result is judged or
// reported, so that every format and the exit code see the same
// completeness.
func AcceptUnlisted(r *ftpaudit.Result, p *Policy) {
	for _, h := range r.Hosts {
		if h != nil {
			p.AcceptHost(h)
		}
	}
}

// AcceptHost marks each directory of h.NotListed that would make h
// incomplete and that an accept_unlisted rule for h's target matches (the
// glob matches it or one of its ancestors) as accepted, with the rule's
// glob and reason, and settles h's completeness (see
// ftpaudit.HostResult.Accept). The first matching rule, in file order
// (policy-wide ones first), is the one shown. It returns how many
// directories it accepted.
func (p *Policy) AcceptHost(h *ftpaudit.HostResult) int {
	if p == nil || h == nil || len(h.NotListed) == 0 {
		return 0
	}
	rules := p.forHost(h.Target.URL).accept
	if len(rules) == 0 {
		return 0
	}
	return h.Accept(func(path string) (string, string, bool) {
		for _, a := range rules {
			if glob.MatchAtOrBelow([]*glob.Glob{a.Glob}, path) != nil {
				return a.Glob.String(), a.Reason, true
			}
		}
		return "", "", false
	})
}
