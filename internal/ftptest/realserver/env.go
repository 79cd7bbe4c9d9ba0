package realserver

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// Server is one real server under test.
type Server struct {
	// Name is the server's short name ("vsftpd", "proftpd", "pureftpd",
	// "pyftpdlib", "twisted", "inetutils", "vsftpd-tls", "vsftpd-r",
	// "pyftpdlib-nomlsd").
	Name string
	// URL is its root, without a trailing slash: "ftp://127.0.0.1:2121",
	// or "ftps://..." for the FTPS server.
	URL string
	// Dir is the archive directory on disk that the server serves.
	Dir string
	// CA is the file of the test CA that signed the server's certificate
	// (FTPS only; "" otherwise).
	CA string
}

// The variables Servers, FTPS, Recurse and NoMLSD read, and the one that
// makes a missing server a failure.
const (
	envServers = "FTPAUDIT_REAL_SERVERS"
	envFTPS    = "FTPAUDIT_FTPS_SERVER"
	envRecurse = "FTPAUDIT_RECURSE_SERVER"
	envNoMLSD  = "FTPAUDIT_NOMLSD_SERVER"
	envRequire = "FTPAUDIT_REQUIRE_REAL"
)

// ciServers are the plain-FTP servers CI must test, sorted: vsftpd,
// proftpd, pure-ftpd, pyftpdlib (with MLSD), Twisted and GNU inetutils
// ftpd.
var ciServers = []string{"inetutils", "proftpd", "pureftpd", "pyftpdlib", "twisted", "vsftpd"}

// required reports whether FTPAUDIT_REQUIRE_REAL=1: a server that is not
// there is a failure, not a reason to skip.
func required() bool { return os.Getenv(envRequire) == "1" }

// Servers returns the plain-FTP servers of FTPAUDIT_REAL_SERVERS
// ("name=url=archive-dir", comma separated). When it is unset or empty it
// skips tb, or fails it under FTPAUDIT_REQUIRE_REAL=1; under
// FTPAUDIT_REQUIRE_REAL=1 it also fails tb unless the servers are exactly
// the six of ciServers. A malformed element fails tb.
func Servers(tb testing.TB) []Server {
	tb.Helper()
	spec := os.Getenv(envServers)
	if spec == "" {
		if required() {
			tb.Fatal("FTPAUDIT_REQUIRE_REAL=1 but FTPAUDIT_REAL_SERVERS is empty: the real servers did not start")
		}
		tb.Skip("FTPAUDIT_REAL_SERVERS not set; run testdata/realservers/start.sh and source env.sh")
	}
	var out []Server
	for _, s := range strings.Split(spec, ",") {
		parts := strings.SplitN(s, "=", 3)
		if len(parts) != 3 {
			tb.Fatalf("bad FTPAUDIT_REAL_SERVERS element %q (want name=url=dir)", s)
		}
		out = append(out, Server{Name: parts[0], URL: parts[1], Dir: parts[2]})
	}
	if required() {
		var names []string
		for _, s := range out {
			names = append(names, s.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, ciServers) {
			tb.Fatalf("CI needs %v; have %v", ciServers, names)
		}
	}
	return out
}

// FTPS returns the FTPS server of FTPAUDIT_FTPS_SERVER
// ("name=ftps://host:port=archive-dir=ca-file"). When it is unset or empty
// it skips tb, or fails it under FTPAUDIT_REQUIRE_REAL=1. A malformed value
// fails tb.
func FTPS(tb testing.TB) Server {
	tb.Helper()
	spec := os.Getenv(envFTPS)
	if spec == "" {
		if required() {
			tb.Fatal("FTPAUDIT_REQUIRE_REAL=1 but FTPAUDIT_FTPS_SERVER is empty: the FTPS server did not start")
		}
		tb.Skip("FTPAUDIT_FTPS_SERVER not set; run testdata/realservers/start.sh and source env.sh")
	}
	parts := strings.SplitN(spec, "=", 4)
	if len(parts) != 4 || !strings.HasPrefix(parts[1], "ftps://") {
		tb.Fatalf("bad FTPAUDIT_FTPS_SERVER %q (want name=ftps://host:port=archive-dir=ca-file)", spec)
	}
	return Server{Name: parts[0], URL: parts[1], Dir: parts[2], CA: parts[3]}
}

// Recurse returns the server of FTPAUDIT_RECURSE_SERVER
// ("name=url=archive-dir"), a vsftpd with ls_recurse_enable=YES, and true.
// It is an extra: when the variable is unset or empty Recurse returns
// false and the test goes on without it, except under
// FTPAUDIT_REQUIRE_REAL=1, where it fails tb. A malformed value fails tb.
func Recurse(tb testing.TB) (Server, bool) {
	tb.Helper()
	return extra(tb, envRecurse, "vsftpd-r")
}

// NoMLSD returns the server of FTPAUDIT_NOMLSD_SERVER
// ("name=url=archive-dir"), pyftpdlib with MLSD and MLST turned off (its
// LIST-only dialect), and true. An extra, like Recurse: absent, it returns
// false, except under FTPAUDIT_REQUIRE_REAL=1, where it fails tb. A
// malformed value fails tb.
func NoMLSD(tb testing.TB) (Server, bool) {
	tb.Helper()
	return extra(tb, envNoMLSD, "pyftpdlib-nomlsd")
}

// extra reads the "name=url=archive-dir" of an extra server from env.
func extra(tb testing.TB, env, what string) (Server, bool) {
	tb.Helper()
	spec := os.Getenv(env)
	if spec == "" {
		if required() {
			tb.Fatalf("FTPAUDIT_REQUIRE_REAL=1 but %s is empty: %s did not start", env, what)
		}
		return Server{}, false
	}
	parts := strings.SplitN(spec, "=", 3)
	if len(parts) != 3 {
		tb.Fatalf("bad %s %q (want name=url=dir)", env, spec)
	}
	return Server{Name: parts[0], URL: parts[1], Dir: parts[2]}, true
}
