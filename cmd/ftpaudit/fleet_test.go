package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
	"github.com/ftpaudit/ftpaudit/rules"
)

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// testCA writes a self-signed CA certificate (PEM) to path.
func testCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
}

// The documented example parses, with every credential source.
func TestHostsFileExample(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../testdata/hosts/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "hosts.yaml"), string(data), 0o644)
	testCA(t, filepath.Join(dir, "mirror-ca.pem"))
	writeFile(t, filepath.Join(dir, "backup.pw"), "pw-from-file\n", 0o600)
	home := t.TempDir()
	t.Setenv("HOME", home)
	writeFile(t, filepath.Join(home, ".netrc"), "machine ftp.internal.example login ops password pw-from-netrc\n", 0o600)
	t.Setenv("MIRROR_FTP_PASSWORD", "pw-from-env")
	fl, err := loadHosts(filepath.Join(dir, "hosts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if fl.maxConnections != 32 || len(fl.hosts) != 5 || len(fl.warnings) != 0 {
		t.Fatalf("max %d, %d hosts, warnings %q", fl.maxConnections, len(fl.hosts), fl.warnings)
	}
	got := map[string]fleetHost{}
	for _, h := range fl.hosts {
		got[h.target.URL+h.target.Start] = h
	}
	pub, inc := got["ftp://ftp.example.org:21/pub"], got["ftp://ftp.example.org:21/incoming"]
	if pub.conns != 8 || inc.policy == nil || len(pub.exclude) != 1 || pub.policy.Match.Match("ftp://other:21") || !pub.policy.Match.Match("ftp://ftp.example.org:21") {
		t.Errorf("ftp.example.org: %+v", pub)
	}
	m := got["ftps://mirror@mirror.example.net:2121/"]
	if m.password != "pw-from-env" || m.tls == nil || m.tls.RootCAs == nil || m.tls.InsecureSkipVerify || m.conns != 4 || !m.noTree || pub.noTree || m.tls.ServerName != "mirror.example.net" {
		t.Errorf("mirror: %+v", m)
	}
	b := got["ftps-implicit://backup@10.0.0.7:990/"]
	if b.password != "pw-from-file" || b.tls == nil || !b.tls.InsecureSkipVerify || b.target.TLS != ftpaudit.TLSImplicit {
		t.Errorf("backup: %+v", b)
	}
	if o := got["ftp://ops@ftp.internal.example:21/"]; o.password != "pw-from-netrc" {
		t.Errorf("ops: password from netrc not used")
	}
}

func TestHostsFileErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SET_PW", "x")
	for _, tc := range []struct{ doc, want string }{
		{"version: 2\nhosts: [{url: ftp://a}]\n", `:1: version: only version 1 is known, got "2"`},
		{"hosts: [{url: ftp://a}]\n", `:1: version is required`},
		{"version: 1\n", ":1: no hosts"},
		{"version: 1\nhosts:\n", ":2: no hosts"},
		{"version: 1\nhosts:\n  - url: ftp://a\n    pasword_env: X\n", `:4: unknown key "pasword_env" in hosts[0] (did you mean "password_env"?)`},
		{"version: 1\nbogus: 1\nhosts: [{url: ftp://a}]\n", `:2: unknown key "bogus" in the hosts file`},
		{"version: 1\nhosts:\n  - url: ftp://a\n  - url: ftps://b\n    tls: none\n", ":5: ftps://b:21: tls: none contradicts"},
		{"version: 1\nhosts:\n  - url: ftp://u@a\n    password_env: SET_PW\n    password: y\n", ":5: ftp://u@a:21: give one of"},
		{"version: 1\nhosts:\n  - url: ftp://u@a\n    password_env: NOT_SET_ANYWHERE\n", ":4: ftp://u@a:21: password_env NOT_SET_ANYWHERE is not set"},
		{"version: 1\nhosts:\n  - url: ftps://a\n    ca_file: nope.pem\n", ":4: ftps://a:21: ca_file"},
		{"version: 1\nhosts:\n  - url: ftp://a\n    start: [pub]\n", `:4: ftp://a:21: start "pub": want an absolute path`},
		{"version: 1\nhosts:\n  - url: ftp://a:b:c\n", ":3: target \"ftp://a:b:c\""},
		// One front end with the policy: line numbers, the setting's
		// name, no Go types, tabs named.
		{"version: 1\nhosts:\n\t- url: ftp://a\n", ":3: YAML: found character that cannot start any token (tabs are not allowed for indentation: indent with spaces)"},
		{"version: 1\nhosts:\n  - url: ftp://a\n    connections: many\n", `:4: hosts[0].connections: want a whole number from 1 to 64, got the string "many"`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    connections: 65\n", `:4: hosts[0].connections: want a whole number from 1 to 64, got 65`},
		{"version: 1\nmax_connections: 1\nhosts: [{url: ftp://a}]\n", `:2: max_connections: want a whole number of at least 2, got 1`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    path_max: 512\n", `:4: hosts[0].path_max: want a whole number from 513 to 1048576, got 512`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    verify: nope\n", `:4: hosts[0].verify: want true or false, got the string "nope"`},
		{"version: 1\nhosts:\n  - url: [ftp://a]\n", `:3: hosts[0].url: want a string, got a list`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    tls: yes-please\n", `:4: hosts[0].tls: "yes-please": want none, explicit or implicit`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    exclude: [\"pub/**\"]\n", `:4: hosts[0].exclude: glob "pub/**": a path glob starts with "/"`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    drop_boxes: [\"/in[\"]\n", `:4: hosts[0].drop_boxes: glob "/in[": unclosed "["`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    anonymous: {uids: [ftp]}\n", `:4: hosts[0].anonymous.uids: "ftp" is not a numeric id`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    anonymous:\n      name: [ftp]\n", `:5: unknown key "name" in hosts[0].anonymous (did you mean "names"?)`},
		{"version: 1\nhosts:\n  - url: ftp://a\n    tls: none\n    tls: none\n", `:5: duplicate key "tls" in hosts[0] (first at line 4)`},
		{"version: 1\nhosts:\n  - ftp://a\n", `:3: hosts[0]: want a mapping`},
		{"version: 1\nhosts:\n  - user: bob\n", `:3: hosts[0]: url is required`},
		{"version: 1\ndefaults:\n  url: ftp://a\nhosts: [{url: ftp://b}]\n", `:3: defaults.url: url is given per host`},
		{"version: 1\ndefaults:\n  conections: 4\nhosts: [{url: ftp://b}]\n", `:3: unknown key "conections" in defaults (did you mean "connections"?)`},
		// A bad default is found even where every host overrides it.
		{"version: 1\ndefaults:\n  connections: 0\nhosts: [{url: ftp://b, connections: 2}]\n", `:3: defaults.connections: want a whole number from 1 to 64, got 0`},
		// An inherited default is blamed where it is written.
		{"version: 1\ndefaults:\n  tls: none\nhosts:\n  - url: ftps://b\n", `:3: ftps://b:21: tls: none contradicts`},
	} {
		p := filepath.Join(dir, "h.yaml")
		writeFile(t, p, tc.doc, 0o644)
		_, err := loadHosts(p)
		if err == nil || !strings.Contains(err.Error(), p+tc.want) {
			t.Errorf("%q:\n error %v\n want %q", tc.doc, err, p+tc.want)
			continue
		}
		var pe *rules.PolicyError
		if !errors.As(err, &pe) || pe.File != p {
			t.Errorf("%q: error %T, want a *rules.PolicyError for %s", tc.doc, err, p)
		}
		if strings.Contains(err.Error(), "!!") || strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "main.") {
			t.Errorf("%q: a Go or YAML type in the message: %v", tc.doc, err)
		}
	}
	p := filepath.Join(dir, "h.yaml")
	writeFile(t, p, "version: 1\nhosts:\n  - url: ftp://u@a\n    password: literal\n", 0o644)
	fl, err := loadHosts(p)
	if err != nil || len(fl.warnings) != 1 || !strings.Contains(fl.warnings[0], p+":4: ftp://u@a:21: a literal password") || strings.Contains(fl.warnings[0], "literal\n") {
		t.Errorf("literal password: %v %q", err, fl.warnings)
	}
}

// Each host's keys replace the defaults' one by one, the policy keys
// included, and the policy part is the policy's own grammar.
func TestHostsFileDefaultsAndPolicy(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "h.yaml")
	writeFile(t, p, `version: 1
defaults:
  connections: 3
  path_max: 4096
  drop_boxes: [/incoming]
  anonymous: {names: [ftp], uids: ["014"]}
  exclude: ["/pub/iso/**"]
hosts:
  - url: ftp://a
  - url: ftp://b
    connections: 5
    anonymous: {names: [ftpb], learn: false}
    exclude: []
  - url: ftp://c
    drop_boxes: []
    ignore: [/scratch]
    path_max: 1024
`, 0o644)
	fl, err := loadHosts(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(fl.hosts) != 3 {
		t.Fatalf("%d hosts", len(fl.hosts))
	}
	a, b, c := fl.hosts[0], fl.hosts[1], fl.hosts[2]
	if a.conns != 3 || b.conns != 5 || c.conns != 3 || len(a.exclude) != 1 || len(b.exclude) != 0 {
		t.Errorf("connections %d %d %d, excludes %d %d", a.conns, b.conns, c.conns, len(a.exclude), len(b.exclude))
	}
	if a.pathMax != 4096 || b.pathMax != 4096 || c.pathMax != 1024 {
		t.Errorf("path_max %d %d %d", a.pathMax, b.pathMax, c.pathMax)
	}
	pol := rules.DefaultPolicy()
	for _, h := range fl.hosts {
		pol.Hosts = append(pol.Hosts, *h.policy)
	}
	if acc := pol.AnonymousFor("ftp://a:21"); !slices.Equal(acc.Names, []string{"ftp"}) || !slices.Equal(acc.UIDs, []string{"14"}) || acc.NoLearn {
		t.Errorf("a: anonymous %+v", acc)
	}
	if acc := pol.AnonymousFor("ftp://b:21"); !slices.Equal(acc.Names, []string{"ftpb"}) || !acc.NoLearn {
		t.Errorf("b: anonymous %+v", acc)
	}
	if len(a.policy.DropBoxes) != 1 || len(c.policy.DropBoxes) != 0 || len(c.policy.Ignore) != 1 || len(a.policy.Ignore) != 0 {
		t.Errorf("drop boxes %d %d, ignore %d %d", len(a.policy.DropBoxes), len(c.policy.DropBoxes), len(a.policy.Ignore), len(c.policy.Ignore))
	}
	if !a.policy.Match.Match("ftp://a:21") || a.policy.Match.Match("ftp://b:21") {
		t.Error("a host's policy must match its URL alone")
	}
}

// A password given through an environment variable appears in no output,
// log or error: not in the report (every format), not in debug logs, not
// in the history database, not when the login is refused.
func TestSecretNeverLeaks(t *testing.T) {
	const secret = "Zq7-s3cr3t-PaSS"
	root, err := memftp.ParseSpec(bytes.NewReader(demoArchive))
	if err != nil {
		t.Fatal(err)
	}
	good, err := memftp.Start(context.Background(), root, memftp.Options{MLSD: true, Users: map[string]string{"bob": secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	bad, err := memftp.Start(context.Background(), root, memftp.Options{Users: map[string]string{"bob": "another"}})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	t.Setenv("FLEET_PW", secret)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.yaml")
	writeFile(t, hosts, "version: 1\nhosts:\n  - url: ftp://bob@"+good.Addr+"/\n    password_env: FLEET_PW\n  - url: ftp://bob@"+bad.Addr+"/\n    password_env: FLEET_PW\n", 0o644)
	db := filepath.Join(dir, "h.db")
	var all strings.Builder
	for _, format := range []string{"json", "table", "csv", "summary"} {
		out := filepath.Join(dir, "out."+format)
		code, stdout, stderr := runCLI(t, "scan", "--hosts", hosts, "--log-level", "debug", "--log-format", "json", "--format", format, "--inventory", "-o", out, "--save", "--db", db, "--quiet")
		if code != exitIncomplete { // the second host refuses the login
			t.Errorf("%s: exit %d; stderr %s", format, code, stderr)
		}
		file, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		all.WriteString(stdout + stderr + string(file))
		if format == "json" {
			doc := decode(t, string(file))
			hs := doc["hosts"].([]any)
			if len(hs) != 2 || hs[0].(map[string]any)["complete"] != true || hs[1].(map[string]any)["complete"] != false || len(doc["entries"].([]any)) == 0 {
				t.Errorf("want the first host scanned with its password and the second refused: %v", hs)
			}
			if !strings.Contains(string(file), "530") || !strings.Contains(stderr, `"level":"DEBUG"`) {
				t.Errorf("the refused login or the debug log is missing:\n%s\n%s", file, stderr)
			}
		}
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	all.Write(raw)
	// The verify command and a hosts file error are outputs too. Without
	// the hosts file, verify has no password for bob (a usage error);
	// with it, the first host is rescanned and the second refused again.
	code, o, e := runCLI(t, "verify", "--db", db, "--format", "json", "--quiet", "1")
	all.WriteString(o + e)
	if code != exitUsage || !strings.Contains(e, "FTPAUDIT_PASSWORD") {
		t.Errorf("verify without --hosts: exit %d, stderr %s", code, e)
	}
	code, o, e = runCLI(t, "verify", "--hosts", hosts, "--db", db, "--format", "json", "--quiet", "1")
	all.WriteString(o + e)
	if code != exitIncomplete {
		t.Errorf("verify --hosts: exit %d, want %d (the second host refuses); stderr %s", code, exitIncomplete, e)
	} else {
		v := decode(t, o)
		inc := fmt.Sprint(v["incomplete"])
		if !strings.Contains(inc, bad.Addr) || strings.Contains(inc, good.Addr) || v["still_there"].(float64) == 0 {
			t.Errorf("verify --hosts: want the first host rescanned (its findings still there) and only the second incomplete: incomplete %s, still there %v", inc, v["still_there"])
		}
	}
	if strings.Contains(all.String(), secret) {
		t.Fatal("the password appears in an output, a log, an error or the database")
	}
}

// --metrics-file is written atomically, readable by node_exporter, and
// keeps a host's last complete scan time when the next scan fails.
func TestMetricsFile(t *testing.T) {
	url := demoServer(t)
	dir := t.TempDir()
	mf := filepath.Join(dir, "ftpaudit.prom")
	code, _, stderr := runCLI(t, "scan", "--quiet", "--format", "json", "--metrics-file", mf, url)
	if code != exitFindings {
		t.Fatalf("exit %d %s", code, stderr)
	}
	fi, err := os.Stat(mf)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("metrics file: %v %v", fi, err)
	}
	first, _ := os.ReadFile(mf)
	host := strings.TrimSuffix(url, "/")
	if !strings.Contains(string(first), `ftpaudit_scan_complete{host="`+host+`"} 1`) || !strings.Contains(string(first), "ftpaudit_last_complete_scan_timestamp_seconds") {
		t.Fatalf("metrics:\n%s", first)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
