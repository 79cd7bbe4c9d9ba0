package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"github.com/ftpaudit/ftpaudit/rules"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// The hosts file (--hosts FILE): the fleet to scan, in YAML. The format is
// documented in docs/fleets.md and testdata/hosts/example.yaml. It is read
// with the policy's YAML front end (rules.Parser), which also reads each
// host's policy keys (drop_boxes, ignore, anonymous), so that both files
// report problems alike: a *rules.PolicyError with the file, the line, the
// setting and, for an unknown key, the closest known one.

// fleetHost is one target of the hosts file, ready to scan.
type fleetHost struct {
	target   ftpaudit.Target
	password string
	tls      *tls.Config
	insecure bool
	conns    int
	noTree   bool
	pathMax  int // 0: the flag's
	exclude  []*glob.Glob
	policy   *rules.HostPolicy
}

// fleet is a parsed hosts file.
type fleet struct {
	hosts          []fleetHost
	maxConnections int
	warnings       []string
}

// has reports whether the hosts file names t (URL and start directory).
// A nil fleet has none.
func (fl *fleet) has(t ftpaudit.Target) bool {
	if fl == nil {
		return false
	}
	for i := range fl.hosts {
		if fl.hosts[i].target.Key() == t.Key() {
			return true
		}
	}
	return false
}

var (
	hostsTopKeys = []string{"version", "max_connections", "defaults", "hosts"}
	// hostKeys are a host's keys, the policy's (rules.HostPolicyKeys)
	// included. defaults takes them all but url and start.
	hostKeys = append([]string{"url", "start", "user", "password_env", "password_file", "netrc", "password", "tls", "ca_file",
		"verify", "connections", "recursive_list", "path_max", "exclude"}, rules.HostPolicyKeys...)
)

// loadHosts reads and checks a hosts file. Relative paths in it (ca_file,
// password_file) are taken from the file's directory. Secrets are read
// here and never appear in errors.
func loadHosts(path string) (*fleet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &rules.Parser{File: path}
	root, err := p.Decode(data, "a hosts file")
	if err != nil {
		return nil, err
	}
	entries, maxConns, err := readHostsFile(p, root)
	if err != nil {
		return nil, err
	}
	base := filepath.Dir(path)
	fl := &fleet{maxConnections: maxConns}
	for _, e := range entries {
		hs, err := e.resolve(base)
		if err != nil {
			return nil, err
		}
		fl.warnings = append(fl.warnings, e.warnings...)
		fl.hosts = append(fl.hosts, hs...)
	}
	return fl, nil
}

// readHostsFile walks the file's top level: the version, the connection
// budget, the defaults, and every host with the defaults filled in.
func readHostsFile(p *rules.Parser, root *yaml.Node) (hosts []*hostEntry, maxConns int, err error) {
	if root == nil {
		return nil, 0, p.Errorf(nil, "", "empty file: want version: 1 and a list of hosts")
	}
	var version, list *yaml.Node
	defaults := &hostEntry{p: p, what: "defaults", node: root, set: map[string]setting{}}
	err = p.Mapping(root, "the hosts file", hostsTopKeys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "version":
			version = v
		case "max_connections":
			maxConns, err = p.Int(v, "max_connections", 2, 0)
		case "defaults":
			defaults.node = v
			err = defaults.read(v)
		case "hosts":
			list = v // read once the defaults are known, wherever they are
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	switch {
	case version == nil:
		return nil, 0, p.Errorf(root, "version", "version is required: start the file with version: 1")
	case version.Kind != yaml.ScalarNode || version.Value != "1":
		return nil, 0, p.Errorf(version, "version", "version: only version 1 is known, got %s", nodeText(version))
	}
	// Settings in defaults are checked even where every host overrides
	// them.
	if err := defaults.decode(); err != nil {
		return nil, 0, err
	}
	err = p.Sequence(list, "hosts", func(i int, v *yaml.Node) error {
		e := &hostEntry{p: p, what: fmt.Sprintf("hosts[%d]", i), node: v, set: maps.Clone(defaults.set)}
		if err := e.read(v); err != nil {
			return err
		}
		if err := e.decode(); err != nil {
			return err
		}
		hosts = append(hosts, e)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if len(hosts) == 0 {
		at := list
		if at == nil {
			at = root
		}
		return nil, 0, p.Errorf(at, "hosts", "no hosts: list them under hosts:, each with at least url")
	}
	return hosts, maxConns, nil
}

// nodeText shows a scalar's text, or what kind of node it is.
func nodeText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "something else"
}

// setting is one key of a host as the file gives it: under the host
// itself, or under defaults.
type setting struct {
	owner string // "hosts[2]" or "defaults"
	v     *yaml.Node
}

// what names the setting in messages: "hosts[2].tls".
func (s setting) what(key string) string { return s.owner + "." + key }

// hostEntry is one host of the hosts file (or the defaults): its settings
// by key, the defaults' where the host gives none ("each host's keys
// replace these"), and their values once decoded.
type hostEntry struct {
	p        *rules.Parser
	what     string     // "hosts[2]" or "defaults"
	node     *yaml.Node // the host's mapping, for errors about it as a whole
	set      map[string]setting
	warnings []string // "file:line: text"

	URL, User                           string
	Start                               []string
	PasswordEnv, PasswordFile, Password string
	Netrc, Verify, RecursiveList        *bool
	TLS, CAFile                         string
	Connections, PathMax                int
	Exclude                             []*glob.Glob
	policy                              *rules.HostPolicy // nil when no policy key is set
}

// read takes the keys of mapping n as e's settings, over the defaults'.
func (e *hostEntry) read(n *yaml.Node) error {
	return e.p.Mapping(n, e.what, hostKeys, func(key string, k, v *yaml.Node) error {
		if e.what == "defaults" && (key == "url" || key == "start") {
			return e.p.Errorf(k, "defaults."+key, "defaults.%s: %s is given per host, not in defaults", key, key)
		}
		e.set[key] = setting{owner: e.what, v: v}
		return nil
	})
}

// decode reads the value of every setting, in hostKeys order.
func (e *hostEntry) decode() error {
	p := e.p
	for _, key := range hostKeys {
		s, ok := e.set[key]
		if !ok {
			continue
		}
		what, v := s.what(key), s.v
		var err error
		switch key {
		case "url":
			e.URL, err = p.String(v, what)
		case "start":
			e.Start, err = p.Strings(v, what)
		case "user":
			e.User, err = p.String(v, what)
		case "password_env":
			e.PasswordEnv, err = p.String(v, what)
		case "password_file":
			e.PasswordFile, err = p.String(v, what)
		case "password":
			e.Password, err = p.String(v, what)
		case "netrc":
			e.Netrc, err = boolPtr(p, v, what)
		case "verify":
			e.Verify, err = boolPtr(p, v, what)
		case "recursive_list":
			e.RecursiveList, err = boolPtr(p, v, what)
		case "tls":
			if e.TLS, err = p.String(v, what); err == nil && !slices.Contains([]string{"none", "explicit", "implicit"}, e.TLS) {
				err = p.Errorf(v, what, "%s: %q: want none, explicit or implicit", what, e.TLS)
			}
		case "ca_file":
			e.CAFile, err = p.String(v, what)
		case "connections":
			e.Connections, err = p.Int(v, what, 1, 64)
		case "path_max":
			e.PathMax, err = p.Int(v, what, scanner.LongPathMargin+1, 1<<20)
		case "exclude":
			e.Exclude, err = p.Globs(v, what, glob.Path)
		default: // a policy key
			if e.policy == nil {
				e.policy = &rules.HostPolicy{}
			}
			err = p.HostPolicyKey(e.policy, s.owner, key, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// boolPtr reads true or false.
func boolPtr(p *rules.Parser, v *yaml.Node, what string) (*bool, error) {
	b, err := p.Bool(v, what)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// errf returns an error at the setting key (at the host when it is not
// set).
func (e *hostEntry) errf(key, format string, args ...any) error {
	if s, ok := e.set[key]; ok {
		return e.p.Errorf(s.v, s.what(key), format, args...)
	}
	return e.p.Errorf(e.node, e.what, format, args...)
}

// warnf records a warning at the setting key.
func (e *hostEntry) warnf(key, format string, args ...any) {
	e.warnings = append(e.warnings, e.errf(key, format, args...).Error())
}

// resolve turns the host's settings into the targets it names, one per
// start directory.
func (e *hostEntry) resolve(base string) ([]fleetHost, error) {
	t, err := e.target()
	if err != nil {
		return nil, err
	}
	fh := fleetHost{target: t, conns: e.Connections, noTree: e.RecursiveList != nil && !*e.RecursiveList, pathMax: e.PathMax, exclude: e.Exclude}
	if fh.password, err = e.credentials(t, base); err != nil {
		return nil, err
	}
	if fh.tls, fh.insecure, err = e.tlsConfig(t, base); err != nil {
		return nil, err
	}
	if e.policy != nil {
		// The host's policy applies to this URL alone.
		hp := *e.policy
		if hp.Match, err = glob.Compile(globQuote(t.URL), glob.Host); err != nil {
			return nil, e.errf("url", "%s: %v", t.URL, err)
		}
		fh.policy = &hp
	}
	return e.starts(fh)
}

// target parses url, with user and tls applied to it.
func (e *hostEntry) target() (ftpaudit.Target, error) {
	if e.URL == "" {
		return ftpaudit.Target{}, e.p.Errorf(e.node, e.what, "%s: url is required", e.what)
	}
	t, err := ftpaudit.ParseTarget(e.URL)
	if err != nil {
		return t, e.errf("url", "%v", err)
	}
	if e.User != "" {
		if strings.Contains(e.URL, "@") {
			return t, e.errf("user", "%s: user given twice (in the url and as user)", t.URL)
		}
		i := strings.Index(e.URL, "://")
		if t, err = ftpaudit.ParseTarget(e.URL[:i+3] + url.PathEscape(e.User) + "@" + e.URL[i+3:]); err != nil {
			return t, e.errf("user", "%v", err)
		}
	}
	switch e.TLS {
	case "none":
		if t.TLS != ftpaudit.TLSNone {
			return t, e.errf("tls", "%s: tls: none contradicts the url's scheme", t.URL)
		}
	case "explicit", "implicit":
		want, scheme := ftpaudit.TLSExplicit, "ftps"
		if e.TLS == "implicit" {
			want, scheme = ftpaudit.TLSImplicit, "ftps-implicit"
		}
		if t.TLS == want {
			break
		}
		if e.User != "" {
			return t, e.errf("tls", "%s: with tls: %s, put the user in the url", t.URL, e.TLS)
		}
		i := strings.Index(e.URL, "://")
		if t, err = ftpaudit.ParseTarget(scheme + e.URL[i:]); err != nil {
			return t, e.errf("tls", "%v", err)
		}
	}
	return t, nil
}

// credentials returns the password from the one source the host names
// (password_env, password_file, netrc, password); a named user with none
// falls back to FTPAUDIT_PASSWORD and ~/.netrc. The password never
// appears in an error.
func (e *hostEntry) credentials(t ftpaudit.Target, base string) (string, error) {
	var given []string
	for _, k := range []string{"password_env", "password_file", "netrc", "password"} {
		if _, ok := e.set[k]; ok && (k != "netrc" || *e.Netrc) {
			given = append(given, k)
		}
	}
	if len(given) > 1 {
		return "", e.errf(given[1], "%s: give one of password_env, password_file, netrc, password (%s and %s are both given)", t.URL, given[0], given[1])
	}
	anon := t.User == "anonymous" || t.User == "ftp"
	switch {
	case e.PasswordEnv != "":
		p, ok := os.LookupEnv(e.PasswordEnv)
		if !ok || p == "" {
			return "", e.errf("password_env", "%s: password_env %s is not set", t.URL, e.PasswordEnv)
		}
		return p, nil
	case e.PasswordFile != "":
		return e.passwordFile(t, base)
	case e.Password != "":
		e.warnf("password", "%s: a literal password in the hosts file: use password_env or password_file instead", t.URL)
		return e.Password, nil
	case e.Netrc != nil && *e.Netrc, !anon:
		p, err := lookupPassword(t)
		if err != nil {
			return "", e.errf("netrc", "%v", err)
		}
		return p, nil
	}
	return "", nil
}

// passwordFile reads the password from password_file (relative to base),
// warning when others may read the file.
func (e *hostEntry) passwordFile(t ftpaudit.Target, base string) (string, error) {
	pf := e.PasswordFile
	if !filepath.IsAbs(pf) {
		pf = filepath.Join(base, pf)
	}
	fi, err := os.Stat(pf)
	if err != nil {
		return "", e.errf("password_file", "%s: password_file: %v", t.URL, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		e.warnf("password_file", "%s: password_file %s is readable by others (mode %v): chmod 600 it", t.URL, pf, fi.Mode().Perm())
	}
	b, err := os.ReadFile(pf)
	if err != nil {
		return "", e.errf("password_file", "%s: password_file: %v", t.URL, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// tlsConfig returns the TLS settings of an ftps target (nil for ftp://):
// the CA file, and whether verification is off (insecure).
func (e *hostEntry) tlsConfig(t ftpaudit.Target, base string) (cfg *tls.Config, insecure bool, err error) {
	if t.TLS == ftpaudit.TLSNone {
		if e.CAFile != "" {
			e.warnf("ca_file", "%s: ca_file applies to ftps only", t.URL)
		} else if e.Verify != nil {
			e.warnf("verify", "%s: verify applies to ftps only", t.URL)
		}
		return nil, false, nil
	}
	cfg = &tls.Config{ServerName: t.Host}
	if e.Verify != nil && !*e.Verify {
		cfg.InsecureSkipVerify = true //nolint:gosec // opt-in per host, reported
		insecure = true
	}
	if e.CAFile != "" {
		ca := e.CAFile
		if !filepath.IsAbs(ca) {
			ca = filepath.Join(base, ca)
		}
		pool, err := loadCA(ca)
		if err != nil {
			return nil, false, e.errf("ca_file", "%s: %v", t.URL, err)
		}
		cfg.RootCAs = pool
	}
	return cfg, insecure, nil
}

// starts makes one target of fh per start directory (default: the URL's
// path).
func (e *hostEntry) starts(fh fleetHost) ([]fleetHost, error) {
	starts := e.Start
	if len(starts) == 0 {
		starts = []string{fh.target.Start}
	}
	var out []fleetHost
	for _, s := range starts {
		if !strings.HasPrefix(s, "/") {
			return nil, e.errf("start", "%s: start %q: want an absolute path", fh.target.URL, s)
		}
		h := fh
		h.target.Start = s
		if len(s) > 1 {
			h.target.Start = strings.TrimSuffix(s, "/")
		}
		out = append(out, h)
	}
	return out, nil
}

// loadCA reads a PEM file of CA certificates.
func loadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// globQuote escapes glob characters so that a URL matches only itself.
func globQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
