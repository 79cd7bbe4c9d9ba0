package rules

import (
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// collector gathers the findings of one host from any judge (the rules,
// the manifest comparison, the baseline comparison) and applies the
// policy to them, the same way for all three. A judge says what it found
// (path, rule, severity, evidence, and an action when the case needs its
// own); the collector decides what of it the operator sees.
//
// The policy is applied in this order:
//
//  1. ignore: a finding at or below a path the host's policy ignores is
//     dropped (when it is added);
//  2. off: a finding of a rule the policy turns off ("severity: off") is
//     dropped (when it is added);
//  3. merge: findings of one rule for one path become one finding, with
//     the evidence of all (each line once, in the order added), the
//     highest severity, and the first action given;
//  4. severity: a policy severity override replaces the finding's
//     severity, whatever the rule chose for this case (a drop box
//     lowering, a probe raising);
//  5. action: a finding keeps the action its judge gave it for this case
//     (an intended drop box); one without gets its rule's catalogue
//     action. The policy has no action override;
//  6. evidence: a finding without evidence gets its rule's explanation.
//
// Dropping at add time keeps what an ignored subtree would produce (a
// baseline of a million new uploads) out of memory; merging waits for
// finish, so that adding needs no index of every finding.
type collector struct {
	host string
	hp   *hostPolicy
	out  []ftpaudit.Finding
}

func newCollector(host string, hp *hostPolicy) *collector {
	return &collector{host: host, hp: hp}
}

// ignores reports whether the policy ignores path (step 1). A judge that
// counts what it compares (the baseline report) asks first, so that its
// counts agree with its findings.
func (c *collector) ignores(path string) bool {
	return glob.MatchAtOrBelow(c.hp.ignore, path) != nil
}

// off reports whether the policy turns rule off (step 2).
func (c *collector) off(rule string) bool {
	return c.hp.pol.Off[rule]
}

// add records f for the collector's host, unless the policy drops it
// (steps 1 and 2). It reports whether f was kept.
func (c *collector) add(f ftpaudit.Finding) bool {
	if c.ignores(f.Path) || c.off(f.Rule) {
		return false
	}
	f.Host = c.host
	c.out = append(c.out, f)
	return true
}

// finish merges, applies the rest of the policy (steps 3 to 6) and
// returns the findings sorted (SortFindings). The collector is empty
// afterwards.
func (c *collector) finish() []ftpaudit.Finding {
	out := mergeFindings(c.out)
	c.out = nil
	pol := c.hp.pol
	for i := range out {
		f := &out[i]
		if s, ok := pol.Severity[f.Rule]; ok {
			f.Severity = s
		}
		r, _ := ftpaudit.RuleByID(f.Rule)
		if f.Action == "" {
			f.Action = r.Action
		}
		if len(f.Evidence) == 0 {
			f.Evidence = []string{r.Explanation}
		}
	}
	ftpaudit.SortFindings(out)
	return out
}

// mergeFindings merges the findings of one rule for one path (step 3),
// reusing fs.
func mergeFindings(fs []ftpaudit.Finding) []ftpaudit.Finding {
	if len(fs) < 2 {
		return fs
	}
	// A stable sort keeps the findings of one key in the order added.
	slices.SortStableFunc(fs, func(a, b ftpaudit.Finding) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	out := fs[:1]
	for _, f := range fs[1:] {
		last := &out[len(out)-1]
		if f.Path != last.Path || f.Rule != last.Rule {
			out = append(out, f)
			continue
		}
		for _, ev := range f.Evidence {
			if !slices.Contains(last.Evidence, ev) {
				last.Evidence = append(last.Evidence, ev)
			}
		}
		last.Severity = max(last.Severity, f.Severity)
		if last.Action == "" {
			last.Action = f.Action
		}
	}
	clear(fs[len(out):])
	return out
}
