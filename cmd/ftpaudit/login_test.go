package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// TestWrongPasswordTriesOnce: a wrong password costs one failed login,
// not one per connection (fail2ban counts them), and the host says the
// login was refused, distinct from a network fault.
func TestWrongPasswordTriesOnce(t *testing.T) {
	t.Setenv("FTPAUDIT_PASSWORD", "wrong-password")
	srv, err := faultftp.Start(faultftp.Options{Tree: faultTree(), Users: map[string]string{"auditor": "right-password"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := strings.Replace(srv.URL("/"), "ftp://", "ftp://auditor@", 1)
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"scan", "--quiet", "--format", "json", "--connections", "8", "--retries", "3", url}, nil, &stdout, &stderr)
	if code != exitIncomplete {
		t.Errorf("exit %d, want %d (incomplete)", code, exitIncomplete)
	}
	if n := srv.Count("PASS"); n != 1 {
		t.Errorf("%d PASS commands for a wrong password, want 1", n)
	}
	var doc struct {
		Hosts []struct {
			LoginError string   `json:"login_error"`
			Incomplete []string `json:"incomplete"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || len(doc.Hosts) != 1 {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	h := doc.Hosts[0]
	if !strings.Contains(h.LoginError, "login refused") || !strings.Contains(h.LoginError, "530") {
		t.Errorf("login error %q: want the refusal, with the server's 530", h.LoginError)
	}
	if !strings.Contains(strings.Join(h.Incomplete, "; "), "login refused") {
		t.Errorf("incomplete %q: want the login refusal named", h.Incomplete)
	}

	// The right password: the pool opens its sessions as usual.
	t.Setenv("FTPAUDIT_PASSWORD", "right-password")
	stdout.Reset()
	code = run(t.Context(), []string{"scan", "--quiet", "--format", "json", "--connections", "4", url}, nil, &stdout, &stderr)
	if code == exitIncomplete || srv.Count("PASS") < 2 {
		t.Errorf("right password: exit %d, %d logins in all", code, srv.Count("PASS"))
	}
}
