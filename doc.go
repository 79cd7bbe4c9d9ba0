// Package ftpaudit is the vocabulary of the ftpaudit tool: what a listing
// entry, a target, a host's result and a finding are, the rule catalogue,
// and the Session interface a walk lists through. It does no I/O and
// imports nothing else of the module.
//
// The rest of the module is arranged around it, and its dependencies point
// one way (all_test.go checks them):
//
//   - scanner walks a host's tree through a Session; it never judges,
//     prints or imports the FTP client (cmd injects the connector).
//   - rules judges a walked host against the rule catalogue and a policy.
//   - report renders a judged result in every output format, and is the
//     only place that escapes server text.
//   - history stores scans, for baselines, diffs and verification.
//   - internal/ftpconn is the FTP adapter, internal/listing the listing
//     parsers, internal/manifest the ls-lR and checksum-file parsers,
//     internal/glob, internal/ftppath and internal/ascii small helpers,
//     and internal/ftptest the test servers.
//   - cmd/ftpaudit is the command line.
//
// # Completeness
//
// A HostResult is Complete only when its start directory was listed and
// every directory the server showed was listed in full, shown by the
// server itself to be unlistable, or provably the same directory as one
// listed (or excluded, or accepted by the policy). Every directory not
// listed is named in NotListed with its reason and kind; every other
// outcome names its reason in Incomplete (see HostResult.Settle).
package ftpaudit
