// Command ftpaudit audits anonymous FTP archives for writable directories
// and unexpected uploads. It walks every directory a server lets it list,
// judges what it finds (world-writable upload areas, drop boxes that serve
// their uploads, warez leftovers, hidden and suspicious names, symlinks
// that leave the archive), and reports how complete the walk was, so that
// a clean result is never claimed for a tree it could not see.
//
// This is the command's manual in short; docs/ has the details
// (docs/README.md is its index; docs/usage.md has every flag of scan).
// "ftpaudit help COMMAND" (or "ftpaudit COMMAND -h") prints a command's
// usage on stdout, its flags grouped by topic (targets, output, walk,
// probe, history, fleet) and a few examples; the man page
// ("ftpaudit completion man") is generated from the same definitions.
//
// # Usage
//
//	ftpaudit scan [flags] TARGET...
//	ftpaudit demo [flags]
//	ftpaudit history [--db PATH] [--format table|json]
//	ftpaudit diff [--db PATH] [--policy FILE] [--hosts FILE] A B
//	ftpaudit verify [scan flags] [--db PATH] [--save] SCAN-ID
//	ftpaudit baseline accept [--db PATH] [--by NAME] [--note TEXT] [--host TARGET] SCAN-ID
//	ftpaudit baseline list|show [--db PATH] [--format table|json] [TARGET]
//	ftpaudit prune [--db PATH] --keep N | --older-than DURATION
//	ftpaudit version
//
// Scan walks and audits FTP hosts. A TARGET is
// ftp://[user@]host[:port][/start/path], ftps://... (explicit TLS) or
// ftps-implicit://...; --hosts FILE adds the hosts of a hosts file, each
// with its own credentials, TLS settings, limits, excludes and policy
// (docs/fleets.md), and --shard K/N (1/N to N/N) scans only the targets
// a stable hash of their URL puts in shard K of N, so that N jobs of a
// scheduler scan a fleet once between them (a shard with none exits 0).
// Anonymous login is the default; a named user's password comes from
// FTPAUDIT_PASSWORD, ~/.netrc or the hosts file, never from the command
// line. --format picks the report (table, summary, json,
// jsonl, csv, sarif; auto is table on a terminal and json otherwise;
// docs/output.md), --policy FILE declares intended drop boxes, ignored
// paths and the anonymous account (docs/policy.md), and --probe asks the
// server instead of trusting the permission bits, by uploading and
// removing a canary file and directory (docs/usage.md). With --save the
// scan is recorded in the history database, and with --baseline
// accepted|last|ID every entry added, changed or removed since a baseline
// is a finding too: the scan a person accepted as the host's baseline
// (the nightly choice: the first complete scan saved is accepted
// automatically, and later ones only with baseline accept), the newest
// complete scan, or one named (docs/history.md).
//
// Demo serves a built-in sample archive on 127.0.0.1 and scans it as scan
// would, with the same output flags. It needs no FTP server.
//
// History lists the saved scans. Diff compares two saved scans host by
// host, judged as scan --baseline judges; --policy and --hosts give it the
// drop boxes and ignored paths the scans were judged with. Verify is the
// check after a cleanup: it scans the hosts of a saved scan again,
// compares them with the baseline that scan was compared with, and says
// of each earlier finding whether it is gone (the rescan shows its cause
// gone), still there, or not proven gone (the rescan could not see where
// it was, or did not run the check that raised it), and which findings
// are new. Baseline accept records, append-only, who accepted which saved
// scan as a host's baseline, when and why; baseline list and show read
// the record. Prune deletes old saved scans, never a host's current
// accepted baseline.
//
// # Exit codes
//
// The exit code is decided in one place (exit.go), the first that applies:
//
//	130  interrupted (SIGINT or SIGTERM); what was found is still written
//	2    usage or configuration error: a bad flag, target, policy or hosts
//	     file, a missing password
//	4    the results could not be written (output file, metrics file,
//	     history database), or another error stopped the command
//	3    incomplete: a host unreachable, a login refused, a listing that
//	     failed or was cut short, a bound or --timeout reached
//	1    a finding at or above --fail-on (default high); for verify, an
//	     earlier finding above info still there or not proven gone, or a
//	     new one at or above --fail-on; for diff, a change at or above
//	     --fail-on
//	0    clean: every host scanned completely, nothing at or above --fail-on
//
// An incomplete scan outranks findings, because a clean result could not
// have been proven either. Demo exits 0 whenever its scan ran.
//
// # Limitations
//
// ftpaudit sees what the server lists, and only that. A directory the
// server will not list (a write-only drop box, mode 111) is reported as
// unreadable, and whatever was uploaded into it stays unseen. Symlinks are
// reported and never followed. How a server really answers, and how the
// walk makes sure a listing is whole, is in docs/listing.md.
//
// Without --probe, writability is read from the permissions in the
// listings (mode bits, MLSD perm), which the server's configuration may
// override either way (docs/findings.md). --probe writes to the server,
// and where anonymous users may upload but not delete, which is the usual
// set-up, its canaries stay behind and are reported as probe residue.
//
// Data connections are passive (EPSV, then PASV): a server that offers
// only active mode cannot be listed. Listings are read as MLSD, Unix
// "ls -l" or MS-DOS (IIS) lines; a line in any other format is kept as an
// error and makes the scan incomplete. Bounds on entries, bytes and depth
// (--max-entries, --max-entry-bytes, --max-dir-entries, --max-depth) keep
// memory in check on bottomless trees, and reaching one makes the scan
// incomplete.
//
// A baseline or diff compares with a complete scan only, and entries
// below a directory the newer scan could not list are counted as not
// compared rather than removed. Times that a listing gives to the day
// only (ls -l shows old files with a year) are compared to the day.
// Verify cannot prove a finding gone where its rescan is incomplete, where
// it could not list the finding's directory, or without the check that
// raised it (--probe, --manifest, the baseline scan). --timeout bounds the
// walk only: what was walked is still compared and saved.
//
// diff --hosts reads the whole hosts file, so every password source it
// names (password_env, password_file, ~/.netrc) must be available, as for
// scan, although diff logs in nowhere.
package main
