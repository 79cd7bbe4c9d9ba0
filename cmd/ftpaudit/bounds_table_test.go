package main

// The hostile-server cases of the bounds (docs/faults.md, "Bounds by
// default"), as a generated table: each row names the test that proves
// it, a function value, so a row cannot outlive its test.

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/docblock"
	"github.com/ftpaudit/ftpaudit/internal/ftpconn"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// boundRow is one hostile case: what the server does, what ftpaudit
// does (with default flags), the exit code, and the test.
type boundRow struct {
	fault, does string
	exit        int
	test        func(*testing.T)
}

var boundRows = []boundRow{
	{"a greeting dripped one byte every 0.5 s", "the reply bound ends each login attempt 30 s after the reply's first byte (`--idle-timeout` never trips); incomplete", exitIncomplete, TestBoundsDripGreetingDefault},
	{"an endless multi-line greeting", "stopped at 128 KiB of reply (`reply longer than 131072 bytes`); incomplete", exitIncomplete, TestBoundsHostileRepliesEnd},
	{"an endless greeting line without LF", "stopped at 8 KiB (`reply line longer than 8192 bytes`); incomplete", exitIncomplete, TestBoundsHostileRepliesEnd},
	{"an endless multi-line reply to LIST", "stopped at 1,024 lines; the directory is retried, then an error; incomplete", exitIncomplete, TestBoundsHostileRepliesEnd},
	{"`150` repeated forever", "stopped after 4 preliminary replies; retried, then an error; incomplete", exitIncomplete, TestBoundsHostileRepliesEnd},
	{"a listing trickled at 100 bytes/s", "abandoned as stalled after the 30 s rate window (1 KiB/s); the directory is an error; incomplete", exitIncomplete, TestBoundsDataTrickleDefault},
	{"a walk kept busy past the host's budget", "stopped at `--host-timeout`; what was found is written; incomplete", exitIncomplete, TestBoundsHostTimeout},
	{"a fleet with an endless greeting, an endless line and a good host", "the good host is complete and written; the hostile ones incomplete, each within its bound", exitIncomplete, TestBoundsFleetHostileHostAlone},
	{"floods as one listing: 32 MiB of blank lines, 64 MiB of blank MLSD lines, 300,000 minimal MLSD lines of one name, a 32 MiB line, 4 Mi unparsed lines", "memory grows with entries kept, not bytes (heap asserted per case); blank lines cost nothing; duplicates and unparsed lines are counted past 100; a huge line keeps its 512-byte prefix and length", exitIncomplete, TestFloods},
	{"a wrong password", "one PASS, not one per connection; the host says the login was refused", exitIncomplete, TestWrongPasswordTriesOnce},
	{"the password echoed in a reply", "redacted in every output and in the history", exitIncomplete, TestEchoedPasswordRedacted},
}

// testName is the name of a test function.
func testName(f func(*testing.T)) string {
	n := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	return n[strings.LastIndexByte(n, '.')+1:]
}

func TestBoundsTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| hostile server | what ftpaudit does (default flags) | exit | test |\n|---|---|---:|---|\n")
	for _, r := range boundRows {
		fmt.Fprintf(&b, "| %s | %s | %d | `%s` |\n", r.fault, r.does, r.exit, testName(r.test))
	}
	if err := docblock.Sync("../../docs/faults.md", "bounds", b.String(), *updateDocs); err != nil {
		t.Error(err)
	}
}

// A listing trickled below the minimum rate is abandoned at the default
// rate window (1 KiB/s over 30 s), with default flags but for one retry:
// the directory is an error, the rest is walked, the host incomplete.
func TestBoundsDataTrickleDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("takes the default rate window (30s)")
	}
	t.Parallel()
	srv := startBounds(t, faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
		Transfer: onData("/pub", func(tr *faultftp.Transfer) {
			tr.Data, tr.Drip = nil, faultftp.Drip{Chunk: "z", Every: 10 * time.Millisecond}
		})}})
	var out, errb strings.Builder
	start := time.Now()
	code := run(t.Context(), []string{"scan", "--quiet", "--format", "json", "--retries", "1", "--no-stat", srv.URL("/")}, nil, &out, &errb)
	elapsed := time.Since(start)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitIncomplete, errb.String())
	}
	if !strings.Contains(out.String(), "data transfer stalled") {
		t.Errorf("no stalled transfer in the report: %s", out.String())
	}
	if max := ftpconn.DefaultRateWindow*2 + faultMargin; elapsed < ftpconn.DefaultRateWindow || elapsed > max {
		t.Errorf("took %s, want between %s and %s", elapsed, ftpconn.DefaultRateWindow, max)
	}
}
