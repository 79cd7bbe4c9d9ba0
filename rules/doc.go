// Package rules judges a walked host against the rule catalogue
// (ftpaudit.Rules) and the operator's policy, and returns findings. It
// does no I/O and knows no FTP client: everything it judges is already in
// the ftpaudit.HostResult (entries, refusals, probe replies, fetched
// files, manifests) or comes as a stream of entries from a stored scan.
//
// There are three judges, with one entry point each:
//
//   - Judge (and JudgeResult for a whole result) applies the catalogue's
//     rules to the listing, the probe and the fetched files;
//   - ManifestFindings compares the listing with the archive's own
//     published indexes (ls-lR, SHA256SUMS);
//   - NewBaselineJudge, fed by DiffEntries, compares it with an earlier
//     scan.
//
// All three hand their findings to one collector, which applies the
// policy in one order: a path the policy ignores, then a rule it turns
// off, drops the finding; findings of one rule for one path are merged;
// a severity override replaces the severity; a finding without an action
// of its own gets its rule's catalogue action.
//
// The policy (Policy, read by ParsePolicy or LoadPolicy) says what the
// operator intends: the drop boxes that are meant to be there, the paths
// not to report, who the anonymous account is, severity overrides and
// extra suspicious names. Its YAML front end (Parser) also reads the
// policy part of a hosts file, so both files report problems the same way
// (PolicyError).
//
// Evidence is raw text: server names and replies go in as the server sent
// them (ftpaudit.EvidenceName, ftpaudit.EvidenceReply), and only the
// report layer escapes them.
package rules
