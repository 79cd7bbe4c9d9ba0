package main

// Bounds by default: servers that never end a reply, drip it, flood it,
// repeat 1xx forever or trickle a transfer are stopped by a documented
// bound (docs/faults.md), reported incomplete for that host only, exit 3;
// one hostile host never takes the others' results with it.

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftpconn"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// onGreeting returns a Reply hook that sends head for the greeting and
// then drips d.
func onGreeting(head string, d faultftp.Drip) func(x *faultftp.Exchange) {
	return func(x *faultftp.Exchange) {
		if x.Seq == 0 {
			x.Reply, x.Drip = head, d
		}
	}
}

// endlessMultiLine floods a multi-line greeting that never ends.
func endlessMultiLine() faultftp.Script {
	return faultftp.Script{Reply: onGreeting("220-Welcome\r\n", faultftp.Drip{Chunk: "220-" + strings.Repeat("w", 500) + "\r\n"})}
}

func startBounds(t *testing.T, opt faultftp.Options) *faultftp.Server {
	t.Helper()
	srv, err := faultftp.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestBoundsHostileRepliesEnd(t *testing.T) {
	t.Parallel()
	// faultArgs shorten --idle-timeout (1s) and --retries (2); every
	// other bound is at its default.
	for _, c := range []struct {
		name   string
		script faultftp.Script
		words  string
		within time.Duration
	}{
		{"endless multi-line greeting", endlessMultiLine(), "reply longer than 131072 bytes", 0},
		{"endless line without LF", faultftp.Script{Reply: onGreeting("220 ", faultftp.Drip{Chunk: strings.Repeat("z", 64<<10)})},
			"reply line longer than 8192 bytes", 0},
		{"endless multi-line reply to LIST", faultftp.Script{Reply: onList("/", func(x *faultftp.Exchange, _ int) {
			x.Reply, x.Drip = "150-Here it comes\r\n", faultftp.Drip{Chunk: "150-more\r\n"}
		})}, "reply longer than 1024 lines", 3 * faultIdle},
		{"endless 1xx", faultftp.Script{Reply: onList("/", func(x *faultftp.Exchange, _ int) {
			x.Reply, x.Drip = "150 Here it comes.\r\n", faultftp.Drip{Chunk: "150 Here it comes.\r\n", Every: 5 * time.Millisecond}
		})}, "more than 4 preliminary (1xx) replies", 3 * faultIdle},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := startBounds(t, faultftp.Options{Tree: faultTree(), Script: c.script})
			r := faultScan(t, srv)
			if r.code != exitIncomplete || r.doc == nil {
				t.Fatalf("exit %d, want %d; stderr %s", r.code, exitIncomplete, r.stderr)
			}
			h := r.doc.Hosts[0]
			if h.Complete || !strings.Contains(strings.Join(h.Incomplete, "\n")+h.LoginError+errorsText(h.Errors), c.words) {
				t.Errorf("want incomplete at %q; incomplete %q, login error %q, errors %+v", c.words, h.Incomplete, h.LoginError, h.Errors)
			}
			if max := c.within + faultMargin; r.elapsed > max {
				t.Errorf("took %s, want at most %s", r.elapsed, max)
			}
		})
	}
}

func errorsText(es []faultPathError) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Error + "\n")
	}
	return b.String()
}

// A greeting dripped a byte every 0.5s ends at the default reply bound
// (30s from its first byte) for every attempt; --idle-timeout never trips.
func TestBoundsDripGreetingDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("takes the default reply timeout (30s)")
	}
	t.Parallel()
	srv := startBounds(t, faultftp.Options{Tree: faultTree(), Script: faultftp.Script{
		Reply: onGreeting("2", faultftp.Drip{Chunk: "2", Every: 500 * time.Millisecond})}})
	r := faultScan(t, srv, "--connections", "1", "--retries", "1")
	if r.code != exitIncomplete || r.doc == nil {
		t.Fatalf("exit %d, want %d; stderr %s", r.code, exitIncomplete, r.stderr)
	}
	wantIncomplete(t, r, "reply not complete within 30s")
	if max := 2*ftpconn.DefaultReplyTimeout + faultMargin; r.elapsed > max {
		t.Errorf("took %s, want at most %s", r.elapsed, max)
	}
}

func TestBoundsHostTimeout(t *testing.T) {
	t.Parallel()
	if defaultHostTimeout != 6*time.Hour {
		t.Errorf("--host-timeout default %s: update docs/usage.md and docs/faults.md", defaultHostTimeout)
	}
	srv := startBounds(t, faultftp.Options{Tree: wideTree(50), Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
		if x.Verb == "LIST" {
			x.Delay = 200 * time.Millisecond
		}
	}}})
	r := faultScan(t, srv, "--host-timeout", "1s")
	if r.code != exitIncomplete || r.doc == nil {
		t.Fatalf("exit %d, want %d; stderr %s", r.code, exitIncomplete, r.stderr)
	}
	wantIncomplete(t, r, "--host-timeout 1s reached")
	if max := time.Second + faultMargin; r.elapsed > max {
		t.Errorf("took %s, want at most %s", r.elapsed, max)
	}
}

// A fleet run with hostile hosts and a good one: the good host's result
// is complete and written; each hostile one is incomplete, within its
// bound; the run exits 3.
func TestBoundsFleetHostileHostAlone(t *testing.T) {
	t.Parallel()
	good := startBounds(t, faultftp.Options{Tree: faultTree()})
	flood := startBounds(t, faultftp.Options{Tree: faultTree(), Script: endlessMultiLine()})
	line := startBounds(t, faultftp.Options{Tree: faultTree(), Script: faultftp.Script{Reply: onGreeting("220 ", faultftp.Drip{Chunk: strings.Repeat("z", 64<<10)})}})
	args := append(append([]string{}, faultArgs...), flood.URL("/"), good.URL("/"), line.URL("/"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(ctx, args, nil, &out, &errb)
	elapsed := time.Since(start)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitIncomplete, errb.String())
	}
	var doc faultDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("no report: %v", err)
	}
	if len(doc.Hosts) != 3 {
		t.Fatalf("%d hosts in the report, want 3", len(doc.Hosts))
	}
	if doc.Complete || doc.Hosts[0].Complete || doc.Hosts[2].Complete {
		t.Errorf("hostile hosts reported complete: %+v", doc.Hosts)
	}
	if h := doc.Hosts[1]; !h.Complete || len(h.Errors) > 0 || h.Stats["files"] == 0 {
		t.Errorf("good host: complete %v, incomplete %q, errors %+v, stats %v", h.Complete, h.Incomplete, h.Errors, h.Stats)
	}
	if elapsed > faultMargin {
		t.Errorf("took %s, want at most %s", elapsed, faultMargin)
	}
}
