// Package scanner walks a host's directory tree over the root package's
// [ftpaudit.Session] interface (several hosts at once), and returns what
// it saw as an [ftpaudit.HostResult]: every entry, each directory it
// could not list and why (HostResult.NotListed), and whether the walk is
// complete: a listing whose shape alone cannot tell it from a refusal (of
// only the directory itself, or of a start that may not exist) is proven
// by listing more before it is filed, a directory is skipped as a loop or
// a repeat only on the server's own trusted identity (MLSD unique), and
// anything else left unlisted costs completeness. After the walk it can
// probe where anonymous users may write and fetch the few files
// (etc/passwd, published indexes) that the judges read.
//
// It never judges (package rules does), never prints (the CLI draws
// progress through [Progress]) and never imports the FTP client: the CLI
// injects an [ftpaudit.Connector], so a walk can run, and be tested, on
// an in-memory tree. It is not to name CLI flags either; a few messages
// about bounds still quote them, until bounds are reported as typed
// reasons that the CLI phrases.
package scanner
