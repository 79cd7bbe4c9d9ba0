package main

import "github.com/ftpaudit/ftpaudit/rules"

// loadPolicy returns the policy the judges use: the --policy file (none
// when path is ""), with the per-host policy of every host of the hosts
// file fl added. It is nil when there is neither, which the judges take
// as the defaults. scan, verify and diff all judge with it, so that a
// drop box declared in the hosts file counts alike in each.
func loadPolicy(path string, fl *fleet) (*rules.Policy, error) {
	var pol *rules.Policy
	if path != "" {
		p, err := rules.LoadPolicy(path)
		if err != nil {
			return nil, usageError{err}
		}
		pol = p
	}
	return withHostPolicies(pol, fl), nil
}

// withHostPolicies adds the per-host policy (drop boxes, ignored paths,
// anonymous account) of every host of fl that has one to pol, starting
// from the defaults when pol is nil. A nil fleet adds nothing.
func withHostPolicies(pol *rules.Policy, fl *fleet) *rules.Policy {
	if fl == nil {
		return pol
	}
	for i := range fl.hosts {
		if h := &fl.hosts[i]; h.policy != nil {
			if pol == nil {
				pol = rules.DefaultPolicy()
			}
			pol.Hosts = append(pol.Hosts, *h.policy)
		}
	}
	return pol
}
