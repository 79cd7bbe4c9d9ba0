package ftpaudit

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// TLSMode says whether and how a connection is protected by TLS.
type TLSMode string

// TLS modes.
const (
	TLSNone     TLSMode = "none"
	TLSExplicit TLSMode = "explicit" // AUTH TLS on the control connection (ftps://)
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (ftps-implicit://)
)

// Target is one FTP host to scan, parsed from a URL such as
// ftp://[user@]host[:port][/start/path].
type Target struct {
	// URL is the canonical form used to name the host in results; it never
	// contains a password.
	URL string
	// Host and Port for dialing; Host is an IP literal or a DNS name
	// without brackets.
	Host string
	Port string
	// User is the login name; "anonymous" unless the URL names one.
	User string
	// Start is the directory the walk begins at ("/" by default).
	Start string
	TLS   TLSMode
}

// Addr returns host:port suitable for net.Dial.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, t.Port) }

// ParseTarget parses an ftp:// or ftps:// URL. A password in the URL is
// refused: it would end up in shell history and process listings.
func ParseTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("target %q: %w", raw, err)
	}
	var t Target
	switch strings.ToLower(u.Scheme) {
	case "ftp":
		t.TLS, t.Port = TLSNone, "21"
	case "ftps":
		t.TLS, t.Port = TLSExplicit, "21"
	case "ftps-implicit":
		t.TLS, t.Port = TLSImplicit, "990"
	case "":
		return Target{}, fmt.Errorf("target %q: missing scheme: use ftp://host[:port][/path]", raw)
	default:
		return Target{}, fmt.Errorf("target %q: unsupported scheme %q (want ftp or ftps)", raw, u.Scheme)
	}
	if u.Opaque != "" {
		return Target{}, fmt.Errorf("target %q: want ftp://host[:port][/path]", raw)
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return Target{}, errors.New("a password in the target URL is refused: use FTPAUDIT_PASSWORD or ~/.netrc")
		}
		t.User = u.User.Username()
	}
	if t.User == "" {
		t.User = "anonymous"
	}
	t.Host = u.Hostname()
	if t.Host == "" {
		return Target{}, fmt.Errorf("target %q: missing host", raw)
	}
	if p := u.Port(); p != "" {
		t.Port = p
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Target{}, fmt.Errorf("target %q: query and fragment are not allowed", raw)
	}
	t.Start = u.Path
	if t.Start == "" {
		t.Start = "/"
	}
	if !strings.HasPrefix(t.Start, "/") {
		t.Start = "/" + t.Start
	}
	if len(t.Start) > 1 {
		t.Start = strings.TrimSuffix(t.Start, "/")
	}
	scheme := strings.ToLower(u.Scheme)
	hostport := net.JoinHostPort(t.Host, t.Port)
	userPart := ""
	if u.User != nil {
		userPart = url.PathEscape(t.User) + "@"
	}
	t.URL = scheme + "://" + userPart + hostport
	return t, nil
}

// Key identifies a target within one run: its URL and start directory.
// Two targets on one host with different start directories are two keys.
func (t Target) Key() string { return t.URL + "\x00" + t.Start }
