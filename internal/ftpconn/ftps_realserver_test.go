package ftpconn

// FTPS against a real vsftpd that requires TLS (testdata/realservers:
// vsftpd-tls on 127.0.0.1:2124, explicit AUTH TLS, TLS forced for
// anonymous logins and data, require_ssl_reuse=YES, a certificate from a
// test CA). FTPAUDIT_FTPS_SERVER="name=url=archive-dir=ca-file" names it
// (testdata/realservers/env.sh sets it). Without it these tests skip,
// unless FTPAUDIT_REQUIRE_REAL=1, where skipping is a failure.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/realserver"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// ftpsServer is the FTPS server under test.
type ftpsServer struct{ realserver.Server }

func ftpsRealServer(t *testing.T) ftpsServer {
	t.Helper()
	return ftpsServer{realserver.FTPS(t)}
}

// target parses the server's URL with scheme and path replaced.
func (s ftpsServer) target(t *testing.T, scheme, host string) ftpaudit.Target {
	t.Helper()
	u := strings.Replace(s.URL, "ftps://", scheme+"://", 1)
	if host != "" {
		u = strings.Replace(u, "127.0.0.1", host, 1)
	}
	tg, err := ftpaudit.ParseTarget(u + "/")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// tlsConfig trusts the test CA only. Verification stays on.
func (s ftpsServer) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.CA)
	if err != nil {
		t.Fatalf("CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file %s: no certificate", s.CA)
	}
	return &tls.Config{RootCAs: pool}
}

func ftpsDialOptions(cfg *tls.Config) DialOptions {
	return DialOptions{TLSConfig: cfg, ConnectTimeout: 10 * time.Second, IdleTimeout: 20 * time.Second}
}

// anonView is realserver.View with scanner types, failing the test on
// error.
func anonView(t *testing.T, root string) (map[string]ftpaudit.EntryType, map[string]int64, []string) {
	t.Helper()
	names, sizes, unreadable, err := realserver.View(root)
	if err != nil {
		t.Fatal(err)
	}
	types := make(map[string]ftpaudit.EntryType, len(names))
	for p, ty := range names {
		typ, ok := ftpaudit.ParseEntryType(string(ty))
		if !ok {
			t.Fatalf("%s: type %q", p, ty)
		}
		types[p] = typ
	}
	return types, sizes, unreadable
}

// TestFTPSRealServerWalk walks the whole archive over FTPS, certificate
// verified against the test CA, and compares it with the disk.
func TestFTPSRealServerWalk(t *testing.T) {
	srv := ftpsRealServer(t)
	wantTypes, wantSizes, wantUnreadable := anonView(t, srv.Dir)
	for _, conns := range []int{1, 4} {
		t.Run(fmt.Sprintf("connections=%d", conns), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			tg := srv.target(t, "ftps", "")
			res := scanner.Scan(ctx, []scanner.Job{{Target: tg, Connect: NewDialer(tg, ftpsDialOptions(srv.tlsConfig(t))).Connect,
				Walk: scanner.WalkOptions{Connections: conns, Retries: 2}}}, scanner.Options{})
			h := res.Hosts[0]
			if h.LoginError != "" || !h.Complete {
				t.Fatalf("host not complete: login error %q, incomplete %q, errors %+v", h.LoginError, h.Incomplete, h.Errors)
			}
			if len(h.Errors) != 0 {
				t.Errorf("errors: %+v", h.Errors)
			}
			if h.Info.Banner != "220 ftpaudit vsftpd-tls test server" {
				t.Errorf("banner %q", h.Info.Banner)
			}
			if !slices.Contains(h.Info.Features, "AUTH TLS") || !slices.Contains(h.Info.Features, "PROT") {
				t.Errorf("features %q: want AUTH TLS and PROT", h.Info.Features)
			}
			if h.Stat != nil {
				t.Errorf("STAT listing report on an FTPS host: %+v (STAT is off over TLS)", h.Stat)
			}
			got := map[string]int{}
			for _, e := range h.EntryList() {
				got[e.Path]++
				wt, ok := wantTypes[e.Path]
				if !ok {
					t.Errorf("reported %q, which the archive does not have (raw %q)", e.Path, e.Raw)
					continue
				}
				if e.Type != wt {
					t.Errorf("%q: type %s, want %s (raw %q)", e.Path, e.Type, wt, e.Raw)
				}
				if ws, ok := wantSizes[e.Path]; ok && e.Size != ws {
					t.Errorf("%q: size %d, want %d (raw %q)", e.Path, e.Size, ws, e.Raw)
				}
			}
			for p, n := range got {
				if n != 1 {
					t.Errorf("%q reported %d times", p, n)
				}
			}
			for p := range wantTypes {
				if got[p] == 0 {
					t.Errorf("missed %q", p)
				}
			}
			var gotUnreadable []string
			for _, u := range h.Unreadable {
				gotUnreadable = append(gotUnreadable, u.Path)
			}
			slices.Sort(gotUnreadable)
			if !slices.Equal(gotUnreadable, wantUnreadable) {
				t.Errorf("unreadable %q, want %q (%+v)", gotUnreadable, wantUnreadable, h.Unreadable)
			}
			if h.NumEntries() < 90 {
				t.Errorf("only %d entries: is the archive there?", h.NumEntries())
			}
		})
	}
}

// TestFTPSRealServerSessionReuse runs many data connections on one
// session: every one must resume the control connection's TLS session, or
// vsftpd answers "522 SSL connection failed: session reuse required".
// Both TLS versions the server offers (1.2 and 1.3) are tried, and a
// TLSConfig whose ClientSessionCache is shared by two sessions used in
// turn (as the CLI passes one per host).
func TestFTPSRealServerSessionReuse(t *testing.T) {
	srv := ftpsRealServer(t)
	readme, err := os.ReadFile(filepath.Join(srv.Dir, "README.txt"))
	if err != nil {
		t.Fatal(err)
	}
	versions := []struct {
		name     string
		min, max uint16
	}{
		{"default", 0, 0},
		{"TLS1.2", tls.VersionTLS12, tls.VersionTLS12},
		{"TLS1.3", tls.VersionTLS13, tls.VersionTLS13},
	}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cfg := srv.tlsConfig(t)
			cfg.MinVersion, cfg.MaxVersion = v.min, v.max
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(64)
			tg := srv.target(t, "ftps", "")
			a, _, err := DialFTP(ctx, tg, ftpsDialOptions(cfg))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, _, err := DialFTP(ctx, tg, ftpsDialOptions(cfg))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			for i, dir := range []string{"/", "/pub", "/pub/docs", "/deep/l01", "/links", "/pub/software/v1.0", "/bin", "/empty"} {
				for _, s := range []ftpaudit.Session{a, b} {
					l, err := s.List(ctx, dir)
					if err != nil {
						t.Fatalf("list %d %s: %v", i, dir, err)
					}
					if !strings.HasPrefix(l.Reply, "226 ") {
						t.Errorf("list %s: reply %q", dir, l.Reply)
					}
				}
			}
			p := a.(ftpaudit.Prober)
			if _, err := p.ChangeDir(ctx, "/"); err != nil {
				t.Fatal(err)
			}
			got, err := p.Fetch(ctx, "README.txt", 1<<20)
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			if !bytes.Equal(got, readme) {
				t.Errorf("fetched %d bytes, want the %d on disk", len(got), len(readme))
			}
			// An empty upload writes nothing on the data connection: the
			// handshake must still happen (drainConn.Handshake), or
			// vsftpd's SSL_accept fails and the session breaks. The drop
			// box hides it from every listing.
			if _, err := p.ChangeDir(ctx, "/incoming"); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("ftpaudit-ftps-test-%d", time.Now().UnixNano())
			if reply, err := p.Store(ctx, name); err != nil || !strings.HasPrefix(reply, "226 ") {
				t.Errorf("store of an empty file: %q, %v", reply, err)
			}
			if _, err := a.List(ctx, "/pub"); err != nil {
				t.Errorf("list after the upload: %v", err)
			}
		})
	}
}

// TestFTPSRealServerVerification: verification stays on. Without the CA,
// or for a name the certificate does not hold, the login fails with a
// certificate error; by DNS name (localhost, in the certificate) it works;
// plain FTP to the same port is refused.
func TestFTPSRealServerVerification(t *testing.T) {
	srv := ftpsRealServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tg := srv.target(t, "ftps", "")

	// No CA given: the system roots do not know the test CA.
	res := scanner.Scan(ctx, []scanner.Job{{Target: tg, Connect: NewDialer(tg, ftpsDialOptions(&tls.Config{})).Connect,
		Walk: scanner.WalkOptions{Connections: 1, Backoff: 10 * time.Millisecond, MaxConnectAttempts: 2}}}, scanner.Options{})
	h := res.Hosts[0]
	if h.Complete || h.NumEntries() != 0 {
		t.Errorf("scan without the CA: complete %v, %d entries", h.Complete, h.NumEntries())
	}
	if !strings.Contains(h.LoginError, "x509") || !strings.Contains(h.LoginError, "certificate not trusted") ||
		strings.Contains(h.LoginError, "connection lost") {
		t.Errorf("scan without the CA: login error %q, want an untrusted x509 certificate, not a lost connection", h.LoginError)
	}
	var ue x509.UnknownAuthorityError
	if _, _, err := DialFTP(ctx, tg, ftpsDialOptions(nil)); !errors.As(err, &ue) {
		t.Errorf("dial without the CA: %v (%T), want x509.UnknownAuthorityError", err, err)
	}

	// The CA, but a name the certificate was not made for.
	cfg := srv.tlsConfig(t)
	cfg.ServerName = "ftp.example.org"
	var he x509.HostnameError
	if _, _, err := DialFTP(ctx, tg, ftpsDialOptions(cfg)); !errors.As(err, &he) {
		t.Errorf("dial with ServerName ftp.example.org: %v, want x509.HostnameError", err)
	}

	// By DNS name: ServerName comes from the target's host.
	s, _, err := DialFTP(ctx, srv.target(t, "ftps", "localhost"), ftpsDialOptions(srv.tlsConfig(t)))
	if err != nil {
		t.Fatalf("ftps://localhost: %v", err)
	}
	if _, err := s.List(ctx, "/pub"); err != nil {
		t.Errorf("ftps://localhost list: %v", err)
	}
	_ = s.Close()

	// Plain FTP: vsftpd refuses the anonymous login outright.
	_, _, err = DialFTP(ctx, srv.target(t, "ftp", ""), DialOptions{ConnectTimeout: 10 * time.Second, IdleTimeout: 20 * time.Second})
	var re *ftpaudit.ReplyError
	if !errors.As(err, &re) || re.Code != 530 || !strings.Contains(re.Msg, "must use encryption") || !ftpaudit.IsLoginRefused(err) {
		t.Errorf("plain ftp:// to the FTPS server: %v, want 530 Anonymous sessions must use encryption", err)
	}
}

// TestFTPSSessionTLS is the unit part (no server): each session gets its
// own copy of the caller's config, with ServerName from the target and a
// session cache of its own; the caller's config is left alone.
func TestFTPSSessionTLS(t *testing.T) {
	shared := tls.NewLRUClientSessionCache(8)
	base := &tls.Config{ClientSessionCache: shared, MinVersion: tls.VersionTLS12}
	a := sessionTLS(base, "127.0.0.1")
	b := sessionTLS(base, "127.0.0.1")
	if a.ServerName != "127.0.0.1" || a.MinVersion != tls.VersionTLS12 {
		t.Errorf("ServerName %q, MinVersion %x", a.ServerName, a.MinVersion)
	}
	if a.ClientSessionCache == nil || a.ClientSessionCache == shared || a.ClientSessionCache == b.ClientSessionCache {
		t.Error("sessions must each have a session cache of their own")
	}
	if base.ServerName != "" || base.ClientSessionCache != shared {
		t.Error("the caller's config was changed")
	}
	if c := sessionTLS(&tls.Config{ServerName: "ftp.example.org"}, "192.0.2.1"); c.ServerName != "ftp.example.org" {
		t.Errorf("a given ServerName was replaced: %q", c.ServerName)
	}
	if c := sessionTLS(nil, "fe80::1%eth0"); c.ServerName != "fe80::1" || c.ClientSessionCache == nil {
		t.Errorf("nil base, zoned IPv6: ServerName %q", c.ServerName)
	}
}
