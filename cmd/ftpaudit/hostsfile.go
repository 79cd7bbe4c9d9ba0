package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"github.com/ftpaudit/ftpaudit/rules"
)

// The hosts file (--hosts FILE): the fleet to scan, in YAML. The format is
// documented in README.md and testdata/hosts/example.yaml.

type hostsDoc struct {
	Version int `yaml:"version"`
	// MaxConnections is the global connection budget (--max-connections
	// overrides it).
	MaxConnections int         `yaml:"max_connections"`
	Defaults       hostEntry   `yaml:"defaults"`
	Hosts          []yaml.Node `yaml:"hosts"`
}

type hostEntry struct {
	URL          string   `yaml:"url"`
	Start        []string `yaml:"start"`
	User         string   `yaml:"user"`
	PasswordEnv  string   `yaml:"password_env"`
	PasswordFile string   `yaml:"password_file"`
	Netrc        *bool    `yaml:"netrc"`
	Password     string   `yaml:"password"`
	TLS          string   `yaml:"tls"`
	CAFile       string   `yaml:"ca_file"`
	Verify       *bool    `yaml:"verify"`
	Connections  int      `yaml:"connections"`
	// RecursiveList false lists every directory of the host on its own
	// (as --no-recursive-list does for all).
	RecursiveList *bool    `yaml:"recursive_list"`
	Exclude       []string `yaml:"exclude"`
	DropBoxes     []string `yaml:"drop_boxes"`
	Ignore        []string `yaml:"ignore"`
	Anonymous     *struct {
		Names []string `yaml:"names"`
		UIDs  []string `yaml:"uids"`
		GIDs  []string `yaml:"gids"`
	} `yaml:"anonymous"`
}

// fleetHost is one target of the hosts file, ready to scan.
type fleetHost struct {
	target   ftpaudit.Target
	password string
	tls      *tls.Config
	insecure bool
	conns    int
	noTree   bool
	exclude  []*glob.Glob
	policy   *rules.HostPolicy
}

// fleet is a parsed hosts file.
type fleet struct {
	hosts          []fleetHost
	maxConnections int
	warnings       []string
}

type hostsError struct {
	file string
	line int
	msg  string
}

func (e *hostsError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return e.file + ": " + e.msg
}

// has reports whether the hosts file names t (URL and start directory).
// A nil fleet has none.
func (fl *fleet) has(t ftpaudit.Target) bool {
	if fl == nil {
		return false
	}
	for i := range fl.hosts {
		if h := fl.hosts[i].target; h.URL == t.URL && h.Start == t.Start {
			return true
		}
	}
	return false
}

// loadHosts reads and checks a hosts file. Relative paths in it (ca_file,
// password_file) are taken from the file's directory. Secrets are read
// here and never appear in errors.
func loadHosts(path string) (*fleet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc hostsDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, &hostsError{file: path, msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Version != 1 {
		return nil, &hostsError{file: path, msg: fmt.Sprintf("version %d: want version: 1", doc.Version)}
	}
	if len(doc.Hosts) == 0 {
		return nil, &hostsError{file: path, msg: "no hosts"}
	}
	base := filepath.Dir(path)
	fl := &fleet{maxConnections: doc.MaxConnections}
	for i := range doc.Hosts {
		n := &doc.Hosts[i]
		e := doc.Defaults // a copy: the host's keys override it
		e.URL, e.Start = "", nil
		// yaml.Node.Decode has no KnownFields: check keys ourselves.
		if err := checkKeys(n); err != nil {
			return nil, &hostsError{file: path, line: n.Line, msg: err.Error()}
		}
		if err := n.Decode(&e); err != nil {
			return nil, &hostsError{file: path, line: n.Line, msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		hs, warn, err := e.resolve(base)
		if err != nil {
			return nil, &hostsError{file: path, line: n.Line, msg: err.Error()}
		}
		for _, w := range warn {
			fl.warnings = append(fl.warnings, fmt.Sprintf("%s:%d: %s", path, n.Line, w))
		}
		fl.hosts = append(fl.hosts, hs...)
	}
	return fl, nil
}

var hostKeys = []string{"url", "start", "user", "password_env", "password_file", "netrc", "password", "tls", "ca_file",
	"verify", "connections", "recursive_list", "exclude", "drop_boxes", "ignore", "anonymous"}

func checkKeys(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return errors.New("a host must be a mapping with at least url")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		known := false
		for _, h := range hostKeys {
			known = known || h == k
		}
		if !known {
			return fmt.Errorf("unknown key %q in a host (known: %s)", k, strings.Join(hostKeys, ", "))
		}
	}
	return nil
}

func (e *hostEntry) resolve(base string) ([]fleetHost, []string, error) {
	var warn []string
	if e.URL == "" {
		return nil, nil, errors.New("a host without url")
	}
	t, err := ftpaudit.ParseTarget(e.URL)
	if err != nil {
		return nil, nil, err
	}
	if e.User != "" {
		if strings.Contains(e.URL, "@") {
			return nil, nil, fmt.Errorf("%s: user given twice (in the url and as user)", t.URL)
		}
		i := strings.Index(e.URL, "://")
		if t, err = ftpaudit.ParseTarget(e.URL[:i+3] + url.PathEscape(e.User) + "@" + e.URL[i+3:]); err != nil {
			return nil, nil, err
		}
	}
	switch e.TLS {
	case "":
	case "none":
		if t.TLS != ftpaudit.TLSNone {
			return nil, nil, fmt.Errorf("%s: tls: none contradicts the url's scheme", t.URL)
		}
	case "explicit", "implicit":
		want := ftpaudit.TLSExplicit
		scheme := "ftps"
		if e.TLS == "implicit" {
			want, scheme = ftpaudit.TLSImplicit, "ftps-implicit"
		}
		if t.TLS != want {
			i := strings.Index(e.URL, "://")
			if t, err = ftpaudit.ParseTarget(scheme + e.URL[i:]); err != nil {
				return nil, nil, err
			}
			if e.User != "" {
				return nil, nil, fmt.Errorf("%s: with tls: %s, put the user in the url", t.URL, e.TLS)
			}
		}
	default:
		return nil, nil, fmt.Errorf("tls %q: want none, explicit or implicit", e.TLS)
	}
	fh := fleetHost{target: t, conns: e.Connections, noTree: e.RecursiveList != nil && !*e.RecursiveList}
	if e.Connections < 0 || e.Connections > 64 {
		return nil, nil, fmt.Errorf("%s: connections %d: want 1 to 64", t.URL, e.Connections)
	}
	// Credentials: one source, named.
	anon := t.User == "anonymous" || t.User == "ftp"
	sources := 0
	for _, s := range []bool{e.PasswordEnv != "", e.PasswordFile != "", e.Netrc != nil && *e.Netrc, e.Password != ""} {
		if s {
			sources++
		}
	}
	if sources > 1 {
		return nil, nil, fmt.Errorf("%s: give one of password_env, password_file, netrc, password", t.URL)
	}
	switch {
	case e.PasswordEnv != "":
		p, ok := os.LookupEnv(e.PasswordEnv)
		if !ok || p == "" {
			return nil, nil, fmt.Errorf("%s: password_env %s is not set", t.URL, e.PasswordEnv)
		}
		fh.password = p
	case e.PasswordFile != "":
		pf := e.PasswordFile
		if !filepath.IsAbs(pf) {
			pf = filepath.Join(base, pf)
		}
		fi, err := os.Stat(pf)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: password_file: %w", t.URL, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			warn = append(warn, fmt.Sprintf("%s: password_file %s is readable by others (mode %v): chmod 600 it", t.URL, pf, fi.Mode().Perm()))
		}
		b, err := os.ReadFile(pf)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: password_file: %w", t.URL, err)
		}
		fh.password = strings.TrimRight(string(b), "\r\n")
	case e.Password != "":
		warn = append(warn, fmt.Sprintf("%s: a literal password in the hosts file: use password_env or password_file instead", t.URL))
		fh.password = e.Password
	case e.Netrc != nil && *e.Netrc, !anon:
		p, err := lookupPassword(t)
		if err != nil {
			return nil, nil, err
		}
		fh.password = p
	}
	// TLS.
	if t.TLS != ftpaudit.TLSNone {
		cfg := &tls.Config{ServerName: t.Host}
		if e.Verify != nil && !*e.Verify {
			cfg.InsecureSkipVerify = true //nolint:gosec // opt-in per host, reported
			fh.insecure = true
		}
		if e.CAFile != "" {
			ca := e.CAFile
			if !filepath.IsAbs(ca) {
				ca = filepath.Join(base, ca)
			}
			pool, err := loadCA(ca)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", t.URL, err)
			}
			cfg.RootCAs = pool
		}
		fh.tls = cfg
	} else if e.CAFile != "" || e.Verify != nil {
		warn = append(warn, fmt.Sprintf("%s: ca_file and verify apply to ftps only", t.URL))
	}
	for _, x := range e.Exclude {
		g, err := glob.Compile(x, glob.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: exclude %q: %w", t.URL, x, err)
		}
		fh.exclude = append(fh.exclude, g)
	}
	if len(e.DropBoxes)+len(e.Ignore) > 0 || e.Anonymous != nil {
		hp := &rules.HostPolicy{}
		if hp.Match, err = glob.Compile(globQuote(t.URL), glob.Host); err != nil {
			return nil, nil, err
		}
		for _, x := range e.DropBoxes {
			g, err := glob.Compile(x, glob.Path)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: drop_boxes %q: %w", t.URL, x, err)
			}
			hp.DropBoxes = append(hp.DropBoxes, g)
		}
		for _, x := range e.Ignore {
			g, err := glob.Compile(x, glob.Path)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: ignore %q: %w", t.URL, x, err)
			}
			hp.Ignore = append(hp.Ignore, g)
		}
		if a := e.Anonymous; a != nil {
			hp.Names, hp.UIDs, hp.GIDs = a.Names, a.UIDs, a.GIDs
		}
		fh.policy = hp
	}
	starts := e.Start
	if len(starts) == 0 {
		starts = []string{t.Start}
	}
	var out []fleetHost
	for _, s := range starts {
		if !strings.HasPrefix(s, "/") {
			return nil, nil, fmt.Errorf("%s: start %q: want an absolute path", t.URL, s)
		}
		h := fh
		h.target.Start = s
		if len(s) > 1 {
			h.target.Start = strings.TrimSuffix(s, "/")
		}
		out = append(out, h)
	}
	return out, warn, nil
}

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
