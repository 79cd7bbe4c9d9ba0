package main

// The fault suite: the whole CLI, through run(), against scanner/faultftp,
// an in-process server that misbehaves on purpose (stalls, drops, 421s,
// garbage, PASV elsewhere, enormous, bottomless and changing trees,
// hostile names). Every case checks what the user sees (complete,
// incomplete reasons, errors, notes, entries) and the exit code, and that
// the scan ended within its configured timeouts plus a margin.
//
// faultCases is also the expected-results table the README's fault table
// is written from: fault, what ftpaudit does, exit code. Print it as
// Markdown with
//
//	FTPAUDIT_FAULT_TABLE=1 go test ./cmd/ftpaudit -run TestFaultTable -v

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/docblock"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// faultIdle is the --idle-timeout of the suite; stalls cost one of these
// per attempt.
const faultIdle = time.Second

// faultMargin is added to every case's computed time bound: logins,
// reconnections, backoff (500ms per attempt after a transient 4xx) and a
// loaded 2-core machine running -race.
const faultMargin = 4 * time.Second

// faultArgs are the flags every fault scan starts with; a case's own
// flags come after them and win.
var faultArgs = []string{"scan", "--quiet", "--format", "json", "--inventory",
	"--connections", "2", "--retries", "2",
	"--idle-timeout", faultIdle.String(), "--connect-timeout", "2s"}

// faultDoc is the part of the v1 JSON the fault suite reads.
type faultDoc struct {
	Complete bool `json:"complete"`
	Hosts    []struct {
		Complete   bool             `json:"complete"`
		Incomplete []string         `json:"incomplete"`
		LoginError string           `json:"login_error"`
		Stats      map[string]int   `json:"stats"`
		Errors     []faultPathError `json:"errors"`
		Unreadable []faultPathError `json:"unreadable"`
		Notes      []faultPathError `json:"notes"`
		Pool       struct {
			Refusals int `json:"refusals"`
		} `json:"connections"`
	} `json:"hosts"`
	Entries []struct {
		Path    string `json:"path"`
		PathB64 string `json:"path_b64"`
	} `json:"entries"`
	Findings []faultFinding `json:"findings"`
}

type faultFinding struct {
	Path string `json:"path"`
	Rule string `json:"rule"`
}

type faultPathError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// faultResult is one run of the CLI.
type faultResult struct {
	code    int
	stdout  string
	stderr  string
	elapsed time.Duration
	doc     *faultDoc // nil unless the output was JSON
}

// faultScan runs "ftpaudit scan" with faultArgs, then extra, then the
// server's URL (unless extra ends with a URL).
func faultScan(t *testing.T, srv *faultftp.Server, extra ...string) faultResult {
	t.Helper()
	r, err := scanFault(srv, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// scanFault is faultScan without a *testing.T, for scans run from other
// goroutines.
func scanFault(srv *faultftp.Server, extra ...string) (faultResult, error) {
	args := append(slices.Clone(faultArgs), extra...)
	if len(extra) == 0 || !strings.HasPrefix(extra[len(extra)-1], "ftp://") {
		args = append(args, srv.URL("/"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(ctx, args, nil, &out, &errb)
	r := faultResult{code: code, stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if json.Valid(out.Bytes()) {
		r.doc = &faultDoc{}
		if err := json.Unmarshal(out.Bytes(), r.doc); err != nil {
			return r, fmt.Errorf("ftpaudit %q: %w", args, err)
		}
		if len(r.doc.Hosts) != 1 {
			return r, fmt.Errorf("ftpaudit %q: %d hosts", args, len(r.doc.Hosts))
		}
	}
	return r, nil
}

// paths returns the exact paths of the inventory.
func (r faultResult) paths(t *testing.T) []string {
	t.Helper()
	var ps []string
	for _, e := range r.doc.Entries {
		p := e.Path
		if e.PathB64 != "" {
			b, err := base64.StdEncoding.DecodeString(e.PathB64)
			if err != nil {
				t.Fatalf("path_b64 %q: %v", e.PathB64, err)
			}
			p = string(b)
		}
		ps = append(ps, p)
	}
	return ps
}

// has reports whether list holds an entry for path whose text contains
// every one of words.
func has(list []faultPathError, path string, words ...string) bool {
	for _, e := range list {
		if e.Path != path {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(e.Error, w)
		}
		if ok {
			return true
		}
	}
	return false
}

// faultTreeEntries is the small archive most cases serve.
var faultTreeEntries = map[string][]faultftp.Entry{
	"/":        {faultftp.Dir("pub"), faultftp.File("README", 10)},
	"/pub":     {faultftp.Dir("sub"), faultftp.File("a.txt", 1), faultftp.File("b.txt", 2)},
	"/pub/sub": {faultftp.File("c.txt", 3)},
}

var faultTreePaths = []string{"/README", "/pub", "/pub/a.txt", "/pub/b.txt", "/pub/sub", "/pub/sub/c.txt"}

func faultTree() faultftp.Tree { return faultftp.Map(faultTreeEntries) }

// wideTree is a root with n directories d0 ... d(n-1), each holding a
// file named x.
func wideTree(n int) faultftp.Tree {
	m := map[string][]faultftp.Entry{}
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("d%d", i)
		m["/"] = append(m["/"], faultftp.Dir(d))
		m["/"+d] = []faultftp.Entry{faultftp.File("x", 1)}
	}
	return faultftp.Map(m)
}

// onList returns a Reply hook that changes the reply to LIST or MLSD of
// dir with f (given the count of that directory's listings so far).
func onList(dir string, f func(x *faultftp.Exchange, n int)) func(x *faultftp.Exchange) {
	return func(x *faultftp.Exchange) {
		if (x.Verb == "LIST" || x.Verb == "MLSD") && x.Dir == dir {
			f(x, x.DirN)
		}
	}
}

// onData returns a Transfer hook that changes the listings of dir.
func onData(dir string, f func(tr *faultftp.Transfer)) func(tr *faultftp.Transfer) {
	return func(tr *faultftp.Transfer) {
		if tr.Dir == dir {
			f(tr)
		}
	}
}

// cutLastLine cuts data keep bytes into its last line, leaving that line
// without its line end.
func cutLastLine(data []byte, keep int) []byte {
	body := bytes.TrimSuffix(data, []byte("\r\n"))
	i := bytes.LastIndexByte(body, '\n') + 1
	return data[:min(i+keep, len(body))]
}

// Checks shared by the cases.

func wantComplete(t *testing.T, r faultResult) {
	t.Helper()
	h := r.doc.Hosts[0]
	if !h.Complete || !r.doc.Complete || len(h.Errors) > 0 {
		t.Errorf("want a complete scan without errors: complete=%v incomplete=%q errors=%+v", h.Complete, h.Incomplete, h.Errors)
	}
}

func wantIncomplete(t *testing.T, r faultResult, reason string) {
	t.Helper()
	h := r.doc.Hosts[0]
	if h.Complete || r.doc.Complete {
		t.Errorf("want an incomplete scan (%q); complete=%v", reason, h.Complete)
	}
	if !slices.ContainsFunc(h.Incomplete, func(s string) bool { return strings.Contains(s, reason) }) {
		t.Errorf("incomplete reasons %q lack %q", h.Incomplete, reason)
	}
}

func wantError(t *testing.T, r faultResult, path string, words ...string) {
	t.Helper()
	if !has(r.doc.Hosts[0].Errors, path, words...) {
		t.Errorf("errors lack %s with %q: %+v", path, words, r.doc.Hosts[0].Errors)
	}
}

func wantPaths(t *testing.T, r faultResult, present []string, absent ...string) {
	t.Helper()
	got := r.paths(t)
	for _, p := range present {
		if !slices.Contains(got, p) {
			t.Errorf("inventory lacks %q; has %q", p, got)
		}
	}
	for _, p := range absent {
		if slices.Contains(got, p) {
			t.Errorf("inventory has %q, which it cannot have seen", p)
		}
	}
}

// allPaths checks the whole small tree was reported.
func allPaths(t *testing.T, r faultResult) { t.Helper(); wantPaths(t, r, faultTreePaths) }

// faultCase is one fault, what ftpaudit is expected to do about it, and
// how that is checked.
type faultCase struct {
	name  string
	fault string // the fault, as the README's table says it
	does  string // what ftpaudit does, as the README's table says it
	code  int    // the exit code
	// opt returns the server's options (a new script, with fresh
	// counters, for each run).
	opt func() faultftp.Options
	// args are flags after faultArgs.
	args []string
	// limit bounds the scan's wall time, plus margin (faultMargin when
	// zero).
	limit, margin time.Duration
	check         func(t *testing.T, srv *faultftp.Server, r faultResult)
	// heavy cases take CPU (100,000 entries under -race, on both ends):
	// they run after the others, one at a time, so as not to skew their
	// timings, and with a longer idle timeout, so that the server's own
	// time to generate the listing is not taken for a stall.
	heavy bool
}

// scattered421 says where the 421-scattered case answers 421: at the
// Nth command of each verb, over all sessions ("" is the greeting).
var scattered421 = map[string]int{"": 2, "PASS": 4, "TYPE": 4, "EPSV": 3, "LIST": 5, "STAT": 1}

// tooManyCase is a server that allows 2 sessions and refuses more with
// reply, scanned with 6 connections.
func tooManyCase(name, fault, does, reply string) faultCase {
	return faultCase{
		name: name, fault: fault, does: does,
		code: exitClean, limit: 2 * time.Second,
		args: []string{"--connections", "6"},
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: wideTree(16), Script: limitSessions(2, reply)}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			if h := r.doc.Hosts[0]; h.Pool.Refusals < 1 || !has(h.Notes, "/", "went on with 2 connections") {
				t.Errorf("limit not learned: %+v, notes %+v", h.Pool, h.Notes)
			}
		},
	}
}

// limitSessions refuses a login with reply (at the greeting for a 421,
// after PASS otherwise) while n sessions are logged in; listings take
// 100ms, so that every login the pool starts is answered while the walk
// still runs.
func limitSessions(n int, reply string) faultftp.Script {
	var mu sync.Mutex
	in := map[int]bool{}
	return faultftp.Script{Reply: func(x *faultftp.Exchange) {
		mu.Lock()
		defer mu.Unlock()
		login := x.Seq == 0
		if !strings.HasPrefix(reply, "421") {
			login = x.Verb == "PASS" || x.Verb == "USER" && strings.HasPrefix(x.Reply, "230")
		}
		switch {
		case x.Verb == "QUIT":
			delete(in, x.Session)
		case login && len(in) >= n:
			x.Reply, x.Hangup = reply, true
		case login:
			in[x.Session] = true
		case x.Verb == "LIST":
			x.Delay = 100 * time.Millisecond
		}
	}}
}

// retries is the suite's --retries.
const retries = 2

var faultCases = []faultCase{
	// A server that behaves: the baseline every fault is measured from.
	{
		name: "clean", fault: "none (LIST only, STAT refused)", does: "complete", code: exitClean,
		opt: func() faultftp.Options { return faultftp.Options{Tree: faultTree()} },
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
		},
	},
	{
		name: "clean-mlsd-stat", fault: "none (MLSD and STAT offered)", does: "complete", code: exitClean,
		opt: func() faultftp.Options { return faultftp.Options{Tree: faultTree(), MLSD: true, Stat: true} },
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
		},
	},

	// Stalls.
	{
		name:  "stall-reply",
		fault: "a reply that never comes (LIST of one directory, every time)",
		does:  "the idle timeout fails each attempt; the directory is retried on a new connection --retries times, then reported in errors; the rest is walked",
		code:  exitIncomplete, limit: retries * faultIdle,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Reply: onList("/pub", func(x *faultftp.Exchange, _ int) { x.Reply, x.Stall = "", true }),
			}}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "idle timeout")
			wantPaths(t, r, []string{"/README", "/pub"}, "/pub/a.txt")
			if n := srv.CountDir("LIST", "/pub"); n != retries || srv.Sessions() < retries {
				t.Errorf("/pub asked %d times on %d sessions, want %d times on new connections", n, srv.Sessions(), retries)
			}
		},
	},
	{
		name:  "stall-mid-reply",
		fault: "a reply that stops half way (\"150-...\" continuation, then nothing)",
		does:  "as a reply that never comes (two idle timeouts per attempt: the cut line, then the next)",
		code:  exitIncomplete, limit: 2 * retries * faultIdle,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Reply: onList("/pub", func(x *faultftp.Exchange, _ int) {
					x.Reply, x.Stall = "150-Here comes the directory listing.\r\n150-It is a long o", true
				}),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "idle timeout")
		},
	},
	{
		name:  "stall-data",
		fault: "a data connection that goes silent after part of the listing",
		does:  "the idle timeout fails the read; retried on a new connection, then reported in errors",
		code:  exitIncomplete, limit: retries * faultIdle,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					tr.Data, tr.End = tr.Data[:len(tr.Data)/2], faultftp.EndStall
				}),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "idle timeout")
			wantPaths(t, r, []string{"/README"}, "/pub/a.txt")
		},
	},
	{
		name:  "stall-greeting",
		fault: "no greeting at all",
		does:  "the idle timeout fails the login, once more after a backoff; the host is reported failed with the reason",
		code:  exitIncomplete, limit: 2 * faultIdle,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Reply: func(x *faultftp.Exchange) {
					if x.Verb == "" {
						x.Reply, x.Stall = "", true
					}
				},
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "no session")
			if !strings.Contains(r.doc.Hosts[0].LoginError, "idle timeout") {
				t.Errorf("login_error %q", r.doc.Hosts[0].LoginError)
			}
		},
	},

	// Slow.
	{
		name:  "slow-replies",
		fault: "every reply slow (50ms), one listing reply close to the idle timeout (700ms of 1s)",
		does:  "waits: complete",
		code:  exitClean, limit: 3 * time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Reply: func(x *faultftp.Exchange) {
					x.Delay = 50 * time.Millisecond
					if x.Verb == "LIST" && x.Dir == "/pub" {
						x.Delay = 700 * time.Millisecond
					}
				},
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
		},
	},

	// Dropped data connections.
	{
		name:  "data-reset-always",
		fault: "the data connection reset (RST) half way through the listing, every time, then 226",
		does:  "the session is dropped and the directory retried on a new one; after --retries, reported in errors",
		code:  exitIncomplete, limit: time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					tr.Data, tr.End = tr.Data[:len(tr.Data)/2], faultftp.EndReset
				}),
			}}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "connection lost")
			wantPaths(t, r, []string{"/README", "/pub"}, "/pub/a.txt", "/pub/sub")
			if n := srv.Listings("/pub"); n != retries {
				t.Errorf("/pub listed %d times, want %d (--retries)", n, retries)
			}
		},
	},
	{
		name:  "data-reset-once",
		fault: "the data connection reset half way through the listing, once",
		does:  "retried on a new connection: complete",
		code:  exitClean, limit: time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					if tr.N == 1 {
						tr.Data, tr.End = tr.Data[:len(tr.Data)/2], faultftp.EndReset
					}
				}),
			}}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
			// The reset listing, the retry, and the retry's second
			// listing with CWD: /pub is the first directory below the
			// root, where the host's LIST form is checked (ftpconn's
			// dialect.go).
			if n := srv.Listings("/pub"); n != 3 {
				t.Errorf("/pub listed %d times, want 3", n)
			}
		},
	},
	{
		name:  "data-reset-426",
		fault: "the data connection reset half way, then \"426 transfer aborted\", every time",
		does:  "426 is transient: retried on the same session after a backoff; after --retries, reported in errors with the reply",
		code:  exitIncomplete, limit: time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					tr.Data, tr.End = tr.Data[:len(tr.Data)/2], faultftp.EndReset
					tr.Final = "426 Connection closed; transfer aborted.\r\n"
				}),
			}}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "426")
			if n := srv.Listings("/pub"); n != retries {
				t.Errorf("/pub listed %d times, want %d", n, retries)
			}
		},
	},
	{
		name:  "data-reset-426-once",
		fault: "the data connection reset half way, then 426, once",
		does:  "retried after a backoff: complete",
		code:  exitClean, limit: time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					if tr.N == 1 {
						tr.Data, tr.End = tr.Data[:len(tr.Data)/2], faultftp.EndReset
						tr.Final = "426 Connection closed; transfer aborted.\r\n"
					}
				}),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
		},
	},

	// Truncated listings that claim success.
	{
		name:  "truncated-226-bad-line",
		fault: "listing cut in the middle of its last line (clean close, no line end), then 226",
		does:  "the partial line is an unparsed line in errors, the listing is reported cut short: incomplete",
		code:  exitIncomplete,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) { tr.Data = cutLastLine(tr.Data, 30) }),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "unparsed listing lines")
			wantError(t, r, "/pub", "unparsed listing line")
			wantError(t, r, "/pub", "cut short")
			wantPaths(t, r, []string{"/pub/sub", "/pub/a.txt", "/pub/sub/c.txt"}, "/pub/b.txt")
			if n := r.doc.Hosts[0].Stats["bad_lines"]; n != 1 {
				t.Errorf("bad_lines %d, want 1", n)
			}
		},
	},
	{
		name:  "truncated-226-in-name",
		fault: "listing cut inside the last name (\"b.t\" of \"b.txt\"), no line end, then 226",
		does:  "the last line has no line end: the listing is reported cut short (incomplete); the shortened name is kept as listed",
		code:  exitIncomplete,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) { tr.Data = tr.Data[:len(tr.Data)-4] }),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings cut short")
			wantError(t, r, "/pub", "cut short")
			wantPaths(t, r, []string{"/pub/b.t"}, "/pub/b.txt")
		},
	},
	{
		name:  "empty-226",
		fault: "226 with no data for a directory that has entries (its attributes say readable)",
		does:  "indistinguishable from an empty directory: reported as listed and empty, complete (a limit of FTP, not detectable)",
		code:  exitClean,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) { tr.Data = nil }),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			wantPaths(t, r, []string{"/README", "/pub"}, "/pub/a.txt")
		},
	},
	{
		name:  "empty-226-failed-text",
		fault: "226 with no data and a text saying it failed (vsftpd: \"Transfer done (but failed to open directory)\")",
		does:  "the directory is unreadable (with the reply), which does not make the scan incomplete",
		code:  exitClean,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					tr.Data, tr.Final = nil, "226 Transfer done (but failed to open directory).\r\n"
				}),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			if !has(r.doc.Hosts[0].Unreadable, "/pub", "failed to open directory") {
				t.Errorf("unreadable %+v", r.doc.Hosts[0].Unreadable)
			}
		},
	},
	{
		name:  "truncated-226-server-says",
		fault: "a multi-line 226 saying the output was truncated (pure-ftpd: \"226-Output truncated to 2000 matches\")",
		does:  "reported as cut short by the server: incomplete",
		code:  exitIncomplete,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					tr.Final = faultftp.Reply(226, "Output truncated to 2000 matches", "2 matches total")
				}),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings cut short")
			wantError(t, r, "/pub", "server cut the listing short")
		},
	},

	// 421.
	{
		name:  "421-scattered",
		fault: "\"421\" and a hang-up once at each of many points: the 2nd greeting, the 4th PASS, the 3rd EPSV, the 5th LIST, the 1st STAT, the 4th TYPE",
		does:  "reconnects (backing off after a 421 at login) and retries: complete",
		code:  exitClean, limit: 3 * time.Second,
		// Up to three of the 421s (EPSV, LIST, and STAT or TYPE on the
		// session that retries) may fall on one directory, more often
		// now that the first directory below the root is listed twice
		// (the dialect check, internal/ftpconn/dialect.go).
		args: []string{"--retries", "4"},
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: wideTree(6), Script: faultftp.Script{
				Reply: func(x *faultftp.Exchange) {
					if n, ok := scattered421[x.Verb]; ok && x.N == n {
						x.Reply, x.Hangup = "421 Service not available, closing control connection.\r\n", true
					}
				},
			}}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			for verb, n := range scattered421 {
				if verb != "" && srv.Count(verb) < n {
					t.Errorf("%d %s commands: the 421 at the %dth never fired", srv.Count(verb), verb, n)
				}
			}
			wantPaths(t, r, []string{"/d0/x", "/d1/x", "/d2/x", "/d3/x", "/d4/x", "/d5/x"})
			// Each 421 is followed by a new session, except one at login
			// while other sessions are open: that is taken as the
			// server's connection limit, and the pool shrinks instead.
			if n, refused := srv.Sessions(), r.doc.Hosts[0].Pool.Refusals; n+refused < 7 {
				t.Errorf("%d sessions and %d logins refused, want at least 7 in all (one, and one after each 421)", n, refused)
			}
		},
	},
	{
		name:  "421-always",
		fault: "421 to every LIST of one directory",
		does:  "retried on new connections, then reported in errors with the reply: incomplete",
		code:  exitIncomplete, limit: time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Reply: onList("/pub", func(x *faultftp.Exchange, _ int) {
					x.Reply, x.Hangup = "421 Too busy, closing control connection.\r\n", true
				}),
			}}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "421")
			if n := srv.CountDir("LIST", "/pub"); n != retries {
				t.Errorf("/pub asked %d times, want %d", n, retries)
			}
		},
	},

	// Connection limits.
	tooManyCase("too-many-421",
		"a limit of 2 sessions: a 3rd gets \"421 Too many connections (2) from this IP\" at the greeting",
		"the pool shrinks to 2 and the limit is noted (JSON connections.cap); complete",
		"421 Too many connections (2) from this IP\r\n"),
	tooManyCase("too-many-530",
		"the same limit told at login: \"530 Sorry, the maximum number of clients (2) for this user are already connected.\"",
		"taken for the limit, not for bad credentials: the pool shrinks to 2; complete",
		"530 Sorry, the maximum number of clients (2) for this user are already connected.\r\n"),

	// Malformed replies.
	{
		name:  "malformed-once",
		fault: "a malformed reply to one LIST, once each: no code, code 999, binary garbage, a 3-byte line",
		does:  "the connection is dropped and the directory retried on a new one: complete",
		code:  exitClean, limit: time.Second,
		args: []string{"--connections", "1"},
		opt: func() faultftp.Options {
			bad := []string{"Here is your listing\r\n", "999 Whatever.\r\n", "\x00\xff\x1b[2J\x07\r\n", "15\r\n"}
			return faultftp.Options{Tree: wideTree(4), Script: faultftp.Script{
				Reply: func(x *faultftp.Exchange) {
					if x.Verb == "LIST" && x.DirN == 1 && len(x.Dir) == 3 {
						x.Reply = bad[x.Dir[2]-'0']
					}
				},
			}}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			wantPaths(t, r, []string{"/d0/x", "/d1/x", "/d2/x", "/d3/x"})
			if n := srv.Sessions(); n != 5 {
				t.Errorf("%d sessions, want 5: one, and a new one after each malformed reply", n)
			}
		},
	},
	{
		name:  "malformed-always",
		fault: "a malformed reply (code 999, or no code) to every LIST of one directory",
		does:  "retried on new connections, then reported in errors as a malformed reply: incomplete; never taken as a refusal",
		code:  exitIncomplete, limit: time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Reply: onList("/pub", func(x *faultftp.Exchange, n int) {
					x.Reply = []string{"999 Whatever.\r\n", "Here it comes\r\n"}[n%2]
				}),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "malformed")
			if len(r.doc.Hosts[0].Unreadable) > 0 {
				t.Errorf("a malformed reply was taken as a refusal: unreadable %+v", r.doc.Hosts[0].Unreadable)
			}
		},
	},
	{
		name:  "malformed-final",
		fault: "garbage instead of the 226 after the data, every time",
		does:  "retried on new connections, then reported in errors: incomplete",
		code:  exitIncomplete, limit: time.Second,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) { tr.Final = "\x1b[2Jok\r\n" }),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "listings failed")
			wantError(t, r, "/pub", "malformed")
		},
	},
	{
		name:  "malformed-greeting",
		fault: "an SSH banner for a greeting (\"SSH-2.0-...\")",
		does:  "\"SSH-\" reads as the first line of a multi-line reply: the login waits for its end, fails at the idle timeout, once more after a backoff; the host is reported failed with the reason",
		code:  exitIncomplete, limit: 2 * faultIdle,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Greeting: "SSH-2.0-OpenSSH_9.6\r\n"}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "no session")
			if e := r.doc.Hosts[0].LoginError; !strings.Contains(e, "idle timeout") {
				t.Errorf("login_error %q", e)
			}
		},
	},
	{
		name:  "malformed-greeting-code",
		fault: "a greeting with an impossible code (\"999 FTP ready\")",
		does:  "a malformed reply: the login fails, once more after a backoff; the host is reported failed with the reason",
		code:  exitIncomplete, limit: time.Second,
		opt: func() faultftp.Options { return faultftp.Options{Tree: faultTree(), Greeting: "999 FTP ready\r\n"} },
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "no session")
			if e := r.doc.Hosts[0].LoginError; !strings.Contains(e, "malformed reply: 999 FTP ready") {
				t.Errorf("login_error %q", e)
			}
		},
	},

	// Multi-line replies.
	{
		name:  "multiline",
		fault: "multi-line replies everywhere: greeting, 331, 230, 229, 250, 150 and 226 continuations",
		does:  "read as single replies: complete",
		code:  exitClean,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), MLSD: true, Script: faultftp.Script{
				Reply: func(x *faultftp.Exchange) {
					code, text, ok := strings.Cut(strings.TrimSuffix(x.Reply, "\r\n"), " ")
					if !ok || strings.Contains(text, "\r\n") || len(code) != 3 {
						return // already multi-line (FEAT)
					}
					n := 0
					fmt.Sscan(code, &n)
					x.Reply = faultftp.Reply(n, "Welcome to the multi-line server.", "  indented line", code+"  looks like an end but is not", text)
				},
				Transfer: func(tr *faultftp.Transfer) {
					tr.Final = faultftp.Reply(226, "Transfer complete.", "Total bytes sent: many", "Thank you")
				},
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
		},
	},

	// PASV elsewhere.
	{
		name:  "pasv-elsewhere",
		fault: "EPSV refused; PASV replies name 10.1.2.3 while the server listens on 127.0.0.1",
		does:  "data connections go to the control peer, never to the named address; noted in the host's notes: complete",
		code:  exitClean,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), NoEPSV: true, PASVHost: "10.1.2.3"}
		},
		check: func(t *testing.T, srv *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
			if srv.Count("PASV") == 0 || srv.Count("EPSV") == 0 {
				t.Errorf("EPSV %d, PASV %d: the client did not fall back to PASV", srv.Count("EPSV"), srv.Count("PASV"))
			}
			if !hasPathError(r.doc.Hosts[0].Notes, "PASV reply named 10.1.2.3:") || !hasPathError(r.doc.Hosts[0].Notes, "control peer 127.0.0.1") {
				t.Errorf("notes do not say the PASV address was not followed: %+v", r.doc.Hosts[0].Notes)
			}
		},
	},
	{
		name:  "pasv-elsewhere-mlsd",
		fault: "as above, on a server offering MLSD (two connections per session)",
		does:  "as above",
		code:  exitClean,
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), MLSD: true, NoEPSV: true, PASVHost: "10.1.2.3"}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			allPaths(t, r)
			if !hasPathError(r.doc.Hosts[0].Notes, "PASV reply named 10.1.2.3:") {
				t.Errorf("notes %+v", r.doc.Hosts[0].Notes)
			}
		},
	},

	// Enormous, bottomless and changing trees.
	{
		name:  "huge-dir",
		fault: "one directory of 100,000 entries (generated on each listing)",
		does:  "complete, every entry",
		code:  exitClean, limit: 10 * time.Second,
		heavy: true,
		args:  []string{"--inventory=false", "--idle-timeout", "10s"},
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultftp.Entries(func(dir string) ([]faultftp.Entry, bool) {
				switch dir {
				case "/":
					return []faultftp.Entry{faultftp.Dir("big")}, true
				case "/big":
					return faultftp.Many("f", 100_000), true
				}
				return nil, false
			})}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantComplete(t, r)
			if st := r.doc.Hosts[0].Stats; st["files"] != 100_000 || st["dirs"] != 1 {
				t.Errorf("stats %v, want 100000 files and 1 dir", st)
			}
		},
	},
	{
		name:  "huge-dir-bound",
		fault: "the same, with --max-dir-entries 1000",
		does:  "the parser keeps no more than 1000 entries (it stops counting past the bound); the directory and the bound named in errors: incomplete",
		code:  exitIncomplete, limit: 10 * time.Second,
		heavy: true,
		args:  []string{"--inventory=false", "--idle-timeout", "10s", "--max-dir-entries", "1000"},
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultftp.Entries(func(dir string) ([]faultftp.Entry, bool) {
				switch dir {
				case "/":
					return []faultftp.Entry{faultftp.Dir("big")}, true
				case "/big":
					return faultftp.Many("f", 100_000), true
				}
				return nil, false
			})}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "entry bound reached")
			wantError(t, r, "/big", "lists more entries", "--max-dir-entries 1000")
			if n := r.doc.Hosts[0].Stats["files"]; n != 1000 {
				t.Errorf("%d files kept, want 1000", n)
			}
		},
	},
	{
		name:  "deep",
		fault: "a bottomless tree (every directory has a subdirectory; levels list differently), --max-depth 4",
		does:  "walks 4 levels; the first directory below is named in errors: incomplete",
		code:  exitIncomplete,
		args:  []string{"--max-depth", "4"},
		opt:   func() faultftp.Options { return faultftp.Options{Tree: faultftp.Deep("d", true)} },
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "depth bound reached")
			wantError(t, r, "/d/d/d/d/d", "--max-depth 4")
			wantPaths(t, r, []string{"/d/d/d/d/d"}, "/d/d/d/d/d/d")
		},
	},
	{
		name:  "deep-alike",
		fault: "a bottomless tree whose every level lists alike, --max-depth 6",
		does:  "walked like any tree (alike listings prove no loop) down to the depth bound, which names where it stopped: incomplete",
		code:  exitIncomplete,
		args:  []string{"--max-depth", "6"},
		opt:   func() faultftp.Options { return faultftp.Options{Tree: faultftp.Deep("d", false)} },
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "depth bound reached")
			wantError(t, r, "/d/d/d/d/d/d/d", "--max-depth 6")
		},
	},
	{
		name:  "changing",
		fault: "directories that show new names (two new subdirectories) every time they are listed, --max-entries 300",
		does:  "the walk stops at the bound, naming where: incomplete",
		code:  exitIncomplete, limit: 5 * time.Second,
		args: []string{"--max-entries", "300", "--inventory=false"},
		opt:  func() faultftp.Options { return faultftp.Options{Tree: faultftp.Changing(2)} },
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "entry bound reached")
			if !hasPathError(r.doc.Hosts[0].Errors, "--max-entries 300") {
				t.Errorf("errors do not name the bound: %+v", r.doc.Hosts[0].Errors)
			}
		},
	},
	{
		name:  "changing-depth",
		fault: "the same, bounded by --max-depth 5 only",
		does:  "the walk stops at the depth bound: incomplete",
		code:  exitIncomplete, limit: 5 * time.Second,
		args: []string{"--max-depth", "5", "--inventory=false"},
		opt:  func() faultftp.Options { return faultftp.Options{Tree: faultftp.Changing(2)} },
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "depth bound reached")
			if n := r.doc.Hosts[0].Stats["listed"]; n != 63 {
				t.Errorf("%d directories listed, want 63 (levels 0-5 of a binary tree)", n)
			}
		},
	},

	{
		name:  "changing-bytes",
		fault: "the same, with 200-character names at every level, --max-entry-bytes 200000 and --max-depth 100000",
		does:  "paths grow by a name per level: the walk stops at the bound on kept path and line bytes, naming where: incomplete",
		code:  exitIncomplete, limit: 5 * time.Second,
		args: []string{"--max-entry-bytes", "200000", "--max-depth", "100000", "--inventory=false"},
		opt: func() faultftp.Options {
			long := strings.Repeat("n", 200)
			var n atomic.Int64
			return faultftp.Options{Tree: faultftp.Entries(func(string) ([]faultftp.Entry, bool) {
				return []faultftp.Entry{faultftp.Dir(long + strconv.FormatInt(n.Add(1), 10)), faultftp.File("f", 1)}, true
			})}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "entry bound reached")
			if !hasPathError(r.doc.Hosts[0].Errors, "--max-entry-bytes 200000") {
				t.Errorf("errors do not name the bound: %+v", r.doc.Hosts[0].Errors)
			}
		},
	},

	// The whole-scan bound.
	{
		name:  "timeout-endless",
		fault: "an endless, slow tree (every reply 50ms) under --timeout 2s",
		does:  "stops at 2s and writes what it found; the directories not listed are named: incomplete",
		code:  exitIncomplete, limit: 2 * time.Second, margin: time.Second,
		args: []string{"--timeout", "2s", "--max-depth", "1000", "--inventory=false"},
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultftp.Changing(2), Script: faultftp.Script{
				Reply: func(x *faultftp.Exchange) { x.Delay = 50 * time.Millisecond },
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "--timeout 2s reached")
			if h := r.doc.Hosts[0]; h.Stats["listed"] == 0 {
				t.Errorf("nothing listed before the timeout: %+v\n%s", h, r.stderr)
			}
			if !hasPathError(r.doc.Hosts[0].Errors, "not listed") {
				t.Errorf("errors do not name the directories left: %+v", r.doc.Hosts[0].Errors)
			}
		},
	},
	{
		name:  "timeout-stall",
		fault: "a stalled reply under --timeout 2s with --idle-timeout 30s",
		does:  "the whole-scan bound ends the stalled read: stops at 2s, writes what it found: incomplete",
		code:  exitIncomplete, limit: 2 * time.Second, margin: time.Second,
		args: []string{"--timeout", "2s", "--idle-timeout", "30s"},
		opt: func() faultftp.Options {
			return faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
				Reply: onList("/pub", func(x *faultftp.Exchange, _ int) { x.Reply, x.Stall = "", true }),
			}}
		},
		check: func(t *testing.T, _ *faultftp.Server, r faultResult) {
			wantIncomplete(t, r, "--timeout 2s reached")
			wantError(t, r, "/pub", "not listed")
			wantPaths(t, r, []string{"/README", "/pub"})
		},
	},
}

// TestFaults runs every case of faultCases. The scans run at once (most
// of them wait for timeouts; each has its own server), then each case is
// checked in its own subtest.
func TestFaults(t *testing.T) {
	type outcome struct {
		srv *faultftp.Server
		r   faultResult
		err error
	}
	outs := make([]outcome, len(faultCases))
	var wg sync.WaitGroup
	for i, tc := range faultCases {
		if !selected(tc.name) {
			continue
		}
		srv, err := faultftp.Start(tc.opt())
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		outs[i].srv = srv
		if tc.heavy {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i].r, outs[i].err = scanFault(srv, tc.args...)
		}()
	}
	wg.Wait()
	for i, tc := range faultCases {
		if tc.heavy && outs[i].srv != nil {
			outs[i].r, outs[i].err = scanFault(outs[i].srv, tc.args...)
		}
	}
	for i, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			srv, r := outs[i].srv, outs[i].r
			if outs[i].err != nil {
				t.Fatal(outs[i].err)
			}
			if r.doc == nil {
				t.Fatalf("exit %d, output is not JSON: %.300q\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if r.code != tc.code {
				h := r.doc.Hosts[0]
				t.Errorf("exit %d, want %d; complete=%v incomplete=%q errors=%+v unreadable=%+v\nstderr: %s",
					r.code, tc.code, h.Complete, h.Incomplete, h.Errors, h.Unreadable, r.stderr)
			}
			margin := tc.margin
			if margin == 0 {
				margin = faultMargin
			}
			if r.elapsed > tc.limit+margin {
				t.Errorf("took %s, more than %s + %s", r.elapsed.Round(time.Millisecond), tc.limit, margin)
			}
			tc.check(t, srv, r)
			t.Logf("exit %d in %s", r.code, r.elapsed.Round(time.Millisecond))
		})
	}
}

// selected reports whether -run may select TestFaults' subtest name, so
// that "go test -run TestFaults/stall" runs only those scans. Patterns it
// cannot read select everything (the subtests are filtered anyway).
func selected(name string) bool {
	f := flag.Lookup("test.run")
	if f == nil {
		return true
	}
	parts := strings.Split(f.Value.String(), "/")
	if len(parts) < 2 {
		return true
	}
	re, err := regexp.Compile(parts[1])
	return err != nil || re.MatchString(name)
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated blocks of docs/ from the code")

// TestFaultTable checks that docs/faults.md holds faultCases as the
// table of faults and what ftpaudit does; go generate (-update-docs)
// rewrites it.
func TestFaultTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| fault | what ftpaudit does | exit |\n|---|---|---:|\n")
	for _, tc := range faultCases {
		fmt.Fprintf(&b, "| %s | %s | %d |\n", tc.fault, tc.does, tc.code)
	}
	fmt.Fprintf(&b, "| %s | %s | %d |\n", hostileFault, hostileDoes, exitIncomplete)
	if err := docblock.Sync("../../docs/faults.md", "faults", b.String(), *updateDocs); err != nil {
		t.Error(err)
	}
}

// hostileNames are served in /pub by TestFaultHostileNames, in LIST and
// MLSD lines alike.
var hostileNames = []faultftp.Entry{
	faultftp.File("esc\x1b[31mred", 1),
	faultftp.File("osc\x1b]0;pwned\x07title", 1),
	faultftp.File("cr\rname", 1),
	faultftp.File("lf\nname", 1), // the line feed splits the line: "lf", then an unparsed "name"
	faultftp.File("fake\r\n213 End of status", 1),
	faultftp.File("nul\x00name", 1),
	faultftp.File("bad\xff\xfeutf8", 1),
	faultftp.File("a/b", 1),
	faultftp.File("../up", 1),
	faultftp.Dir("../../etc"),
	faultftp.Dir(".."),
	faultftp.File("=HYPERLINK(\"http://x/\")", 1),
	faultftp.File("+SUM(1)", 1),
	faultftp.File("-2+3", 1),
	faultftp.File("@cmd", 1),
	faultftp.Dir("..."),
}

// The hostile-names row of the fault table.
const (
	hostileFault = "names with ANSI and OSC escapes, CR, LF, NUL, invalid UTF-8, \"/\" and \"..\" (LIST, MLSD and STAT)"
	hostileDoes  = "JSON keeps the exact bytes (path_b64 for invalid UTF-8); table and CSV show them escaped; " +
		"\"..\" entries are dropped and no name climbs out of its directory (\"../../etc\" in /pub is /pub/../../etc); " +
		"an LF splits the line (the rest is an unparsed line) and a directory named with \"/\" cannot be listed: incomplete"
)

// TestFaultHostileNames serves names holding escape sequences, CR, LF,
// NUL, invalid UTF-8, "/" and "..", over LIST, MLSD (with LIST -a) and
// STAT, and checks the JSON keeps them exactly, the table and the CSV
// show them escaped, and no name climbs out of its directory.
func TestFaultHostileNames(t *testing.T) {
	tree := faultftp.Map(map[string][]faultftp.Entry{
		"/":        {faultftp.Dir("pub")},
		"/pub":     hostileNames,
		"/pub/...": {faultftp.File("keygen.exe", 1)},
	})
	for _, cfg := range []struct {
		name string
		opt  faultftp.Options
	}{
		{"list", faultftp.Options{Tree: tree}},
		{"mlsd", faultftp.Options{Tree: tree, MLSD: true}},
		{"stat", faultftp.Options{Tree: tree, Stat: true}},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			srv, err := faultftp.Start(cfg.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()

			r := faultScan(t, srv)
			if r.code != exitIncomplete {
				t.Errorf("exit %d, want %d", r.code, exitIncomplete)
			}
			wantIncomplete(t, r, "unparsed listing lines")
			wantIncomplete(t, r, "directories with names that cannot be sent")
			wantError(t, r, "/pub", "unparsed listing line", "name")
			wantError(t, r, "/pub/../../etc", "cannot be listed")
			got := r.paths(t)
			want := []string{"/pub/lf", "/pub/fake", "/pub/.../keygen.exe"}
			for _, e := range hostileNames {
				if !strings.Contains(e.Name, "\n") && e.Name != ".." {
					want = append(want, "/pub/"+e.Name)
				}
			}
			wantPaths(t, r, want, "/pub/..", "/etc", "/up")
			for _, p := range got {
				if p != "/pub" && !strings.HasPrefix(p, "/pub/") {
					t.Errorf("%q is outside /pub, where every name was listed", p)
				}
			}
			for _, e := range r.doc.Entries {
				if strings.Contains(e.Path, "bad") && (e.PathB64 == "" || !strings.Contains(e.Path, "\uFFFD")) {
					t.Errorf("invalid UTF-8 path %q without path_b64 (%q) or U+FFFD", e.Path, e.PathB64)
				}
			}
			for _, p := range []string{"/pub/esc\x1b[31mred", "/pub/osc\x1b]0;pwned\x07title", "/pub/cr\rname", "/pub/nul\x00name", "/pub/..."} {
				if !slices.ContainsFunc(r.doc.Findings, func(f faultFinding) bool { return f.Path == p && f.Rule == "hidden-name" }) {
					t.Errorf("no hidden-name finding for %q", p)
				}
			}
			if cfg.opt.Stat {
				// /pub's STAT reply holds a name faking its end: caught
				// by the nonce, listed over a data connection instead.
				var doc struct {
					Hosts []struct {
						Stat struct {
							Used    bool `json:"used"`
							Resyncs int  `json:"resyncs"`
						} `json:"stat_listing"`
					} `json:"hosts"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
					t.Fatal(err)
				}
				if st := doc.Hosts[0].Stat; !st.Used || st.Resyncs < 1 {
					t.Errorf("stat_listing %+v: want used, with a resync on /pub", st)
				}
			}

			// The table: escaped, nothing a terminal would act on.
			tr := faultScan(t, srv, "--format", "table")
			if tr.code != exitIncomplete {
				t.Errorf("table: exit %d", tr.code)
			}
			if i := strings.IndexAny(tr.stdout, "\x1b\x07\r\x00"); i >= 0 {
				t.Errorf("table holds a raw control byte %q at %d:\n%s", tr.stdout[i], i, tr.stdout)
			}
			for _, w := range []string{`esc\x1b[31mred`, `osc\x1b]0;pwned\x07title`, `cr\rname`, `bad\xff\xfeutf8`, "/pub/.../keygen.exe", "INCOMPLETE"} {
				if !strings.Contains(tr.stdout, w) {
					t.Errorf("table lacks %q:\n%s", w, tr.stdout)
				}
			}

			// The CSV: one record per finding, escaped cells, no formulas.
			cr := faultScan(t, srv, "--format", "csv")
			recs, err := csv.NewReader(strings.NewReader(cr.stdout)).ReadAll()
			if err != nil {
				t.Fatalf("csv: %v\n%s", err, cr.stdout)
			}
			if len(recs) < 5 {
				t.Fatalf("csv: %d records:\n%s", len(recs), cr.stdout)
			}
			for _, rec := range recs {
				for _, cell := range rec {
					if strings.ContainsAny(cell, "\x1b\x07\r\n\x00") {
						t.Errorf("csv cell %q holds a raw control byte", cell)
					}
					if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
						t.Errorf("csv cell %q starts like a formula", cell)
					}
				}
			}
			if !strings.Contains(cr.stdout, `/pub/esc\x1b[31mred`) {
				t.Errorf("csv lacks the escaped name:\n%s", cr.stdout)
			}
		})
	}
}

// hasPathError reports whether one of es says sub.
func hasPathError(es []faultPathError, sub string) bool {
	return slices.ContainsFunc(es, func(e faultPathError) bool { return strings.Contains(e.Error, sub) })
}
