package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

func TestFindingsLine(t *testing.T) {
	f := func(sev ftpaudit.Severity) ftpaudit.Finding {
		return ftpaudit.Finding{Path: "/x", Rule: "r", Severity: sev, Size: -1}
	}
	complete := &ftpaudit.HostResult{Complete: true}
	for _, c := range []struct {
		res  *ftpaudit.Result
		want string
	}{
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{complete}}, "no findings"},
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{complete}, Findings: []ftpaudit.Finding{f(ftpaudit.SevCritical), f(ftpaudit.SevHigh), f(ftpaudit.SevInfo)}},
			"3 findings (1 critical, 1 high, 0 medium, 0 low, 1 info); 2 at or above --fail-on high"},
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{complete}, Findings: []ftpaudit.Finding{f(ftpaudit.SevLow)}},
			"1 finding (0 critical, 0 high, 0 medium, 1 low, 0 info); none at or above --fail-on high"},
		{&ftpaudit.Result{Hosts: []*ftpaudit.HostResult{{Complete: false, Incomplete: []string{"cut"}}}, Findings: []ftpaudit.Finding{f(ftpaudit.SevHigh)}},
			"1 finding (0 critical, 1 high, 0 medium, 0 low, 0 info); 1 at or above --fail-on high; the scan is incomplete"},
	} {
		if got := findingsLine(c.res, ftpaudit.SevHigh); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// TestTellFindings: the line is written for --format summary, never with
// --quiet, and not for a report on stdout that shows the findings.
func TestTellFindings(t *testing.T) {
	res := &ftpaudit.Result{Hosts: []*ftpaudit.HostResult{{Complete: true}}, Findings: []ftpaudit.Finding{{Path: "/x", Rule: "r", Severity: ftpaudit.SevHigh, Size: -1}}}
	for _, c := range []struct {
		f    scanFlags
		want bool
	}{
		{scanFlags{format: "summary", failOn: "high"}, true},
		{scanFlags{format: "summary", failOn: "high", quiet: true}, false},
		{scanFlags{format: "json", failOn: "high"}, false},
		{scanFlags{format: "table", failOn: "high"}, false},
		{scanFlags{format: "json", failOn: "high", output: "x.json"}, false}, // stderr is no terminal here
	} {
		var stderr bytes.Buffer
		c.f.tellFindings(res, &bytes.Buffer{}, &stderr)
		if got := stderr.Len() > 0; got != c.want {
			t.Errorf("%+v: line written %v, want %v (%q)", c.f, got, c.want, stderr.String())
		}
	}
}

// keyValue matches slog's key=value noise: a word, "=", a value.
var keyValue = regexp.MustCompile(`(^|\s)[a-z_]+=\S`)

// TestLogSentences: with --log-format auto on a terminal, what scan logs
// (its own call sites: runScanCore, logHosts) reads as sentences, one per
// line, with plurals right and server text escaped, and never key=value.
func TestLogSentences(t *testing.T) {
	srv := serveSpec(t, nil, memftp.Options{})
	target, err := ftpaudit.ParseTarget("ftp://" + srv.Addr + "/pub")
	if err != nil {
		t.Fatal(err)
	}
	var f scanFlags
	f.register(flag.NewFlagSet("", flag.ContinueOnError))
	if f.logFormat != "auto" {
		t.Fatalf("--log-format defaults to %q, want auto", f.logFormat)
	}
	f.quiet = true
	var buf bytes.Buffer
	f.log = slog.New(logHandler(&buf, f.logFormat, slog.LevelDebug, true))
	res := runScanCore(t.Context(), []ftpaudit.Target{target}, nil, &f, nil, io.Discard)

	// Hosts as logHosts sees them: one dir, an incomplete one with a
	// listing error, a refused login with hostile text.
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	logHosts(f.log, &ftpaudit.Result{Hosts: []*ftpaudit.HostResult{
		{Target: ftpaudit.Target{URL: "ftp://one.example:21", Start: "/"}, Complete: true, Started: t0, Finished: t0.Add(1500 * time.Millisecond),
			Stats: ftpaudit.Stats{Dirs: 1, Files: 1, Unreadable: 0, Errors: 1}},
		{Target: ftpaudit.Target{URL: "ftp://two.example:21", Start: "/pub"}, Started: t0, Finished: t0.Add(2 * time.Second),
			Incomplete: []string{"listings failed", "depth bound reached"}, Stats: ftpaudit.Stats{Dirs: 3, Files: 0, Unreadable: 2, Errors: 2},
			Errors: []ftpaudit.PathError{{Path: "/pub/\x1b[2Jx", Error: "list: connection lost: EOF"}}},
		{Target: ftpaudit.Target{URL: "ftp://three.example:21", Start: "/"}, Started: t0, Finished: t0.Add(300 * time.Millisecond),
			Incomplete: []string{"no session"}, LoginError: "530 \x1b[2J\r\nnot you"},
	}})
	f.log.Warn("a server sent back a password the scan logged in with", "strings", 2)
	f.log.Error("--ca-file unusable; every ftps target will fail verification", "error", errors.New("open ca.pem: no such file"))

	out := buf.String()
	if strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("raw control bytes in the log:\n%q", out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(l, "ftpaudit: ") || keyValue.MatchString(l) {
			t.Errorf("not a sentence: %q", l)
		}
	}
	st := res.Hosts[0].Stats
	for _, want := range []string{
		"ftpaudit: scanning ftp://" + srv.Addr + "/pub as anonymous\n",
		fmt.Sprintf("ftpaudit: ftp://%s/pub is complete: %s, %s walked, %d unreadable, %s, in ",
			srv.Addr, plural(int64(st.Dirs), "dir"), plural(int64(st.Files+st.Other), "file"), st.Unreadable, plural(int64(st.Errors), "error")),
		"ftpaudit: ftp://one.example:21 is complete: 1 dir, 1 file walked, 0 unreadable, 1 error, in 1.5s\n",
		"ftpaudit: warning: ftp://two.example:21/pub is incomplete (listings failed; depth bound reached); 3 dirs, 0 files walked, 2 unreadable, 2 errors, in 2s\n",
		`ftpaudit: debug: ftp://two.example:21: listing /pub/\x1b[2Jx failed: list: connection lost: EOF` + "\n",
		`ftpaudit: error: ftp://three.example:21 failed: 530 \x1b[2J\r\nnot you (after 300ms)` + "\n",
		"ftpaudit: warning: a server sent back a password the scan logged in with (strings 2)\n",
		"ftpaudit: error: --ca-file unusable; every ftps target will fail verification: open ca.pem: no such file\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestLogFormats: machines keep theirs. --log-format text gives slog's
// key=value lines even on a terminal, json one JSON object a line, and
// auto gives key=value where stderr is no terminal; an unknown format is
// a usage error.
func TestLogFormats(t *testing.T) {
	logOne := func(format string, terminal bool) string {
		var buf bytes.Buffer
		slog.New(logHandler(&buf, format, slog.LevelInfo, terminal)).Warn("host incomplete", "host", "ftp://h:21", "start", "/", "dirs", 3, "reasons", "listings failed")
		return buf.String()
	}
	for _, c := range []struct {
		format   string
		terminal bool
	}{{"text", true}, {"auto", false}, {"text", false}} {
		if out := logOne(c.format, c.terminal); !strings.Contains(out, `level=WARN msg="host incomplete" host=ftp://h:21 start=/ dirs=3 reasons="listings failed"`) {
			t.Errorf("--log-format %s (terminal %v): %q", c.format, c.terminal, out)
		}
	}
	for _, terminal := range []bool{true, false} {
		var doc map[string]any
		if err := json.Unmarshal([]byte(logOne("json", terminal)), &doc); err != nil || doc["msg"] != "host incomplete" || doc["dirs"] != 3.0 {
			t.Errorf("--log-format json (terminal %v): %v, %v", terminal, doc, err)
		}
	}
	if out := logOne("auto", true); out != "ftpaudit: warning: ftp://h:21 is incomplete (listings failed); 3 dirs walked\n" {
		t.Errorf("--log-format auto on a terminal: %q", out)
	}
	// statusLogger asks whether its writer is a terminal: a buffer is not.
	var buf bytes.Buffer
	statusLogger(&buf, "auto", "info").Info("host done", "host", "ftp://h:21")
	if !strings.Contains(buf.String(), `msg="host done"`) {
		t.Errorf("auto on a buffer: %q", buf.String())
	}
	for format, ok := range map[string]bool{"auto": true, "text": true, "json": true, "xml": false} {
		var f scanFlags
		f.register(flag.NewFlagSet("", flag.ContinueOnError))
		f.logFormat = format
		err := f.check()
		if (err == nil) != ok || (!ok && !strings.Contains(err.Error(), "want auto, text or json")) {
			t.Errorf("--log-format %s: %v", format, err)
		}
	}
}
