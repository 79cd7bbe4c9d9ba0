package ftpconn

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// TestBoundDefaults pins the documented defaults (docs/faults.md): a
// change here is a change of the documented contract.
func TestBoundDefaults(t *testing.T) {
	o := DialOptions{}.withDefaults()
	if o.ReplyTimeout != 30*time.Second || o.MaxReplyLine != 8<<10 || o.MaxReplyBytes != 128<<10 ||
		o.MaxPreliminary != 4 || o.MinDataRate != 1<<10 || o.RateWindow != 30*time.Second || MaxReplyLines != 1024 {
		t.Errorf("defaults changed: %+v (update docs/faults.md and docs/usage.md)", o)
	}
	// A slow but honest server over a 300 ms link: every reply is well
	// within the bounds.
	if o.ReplyTimeout < 100*300*time.Millisecond/10 || o.IdleTimeout < time.Second {
		t.Errorf("bounds too tight for a 300 ms link: %+v", o)
	}
}

func TestReplyBoundsHonestReplies(t *testing.T) {
	b := newReplyBounds(DialOptions{}.withDefaults())
	for _, chunk := range []string{"220-Welcome\r\n220-", strings.Repeat("x", 4000) + "\r\n", "220 ready\r\n",
		"331 pw\r\n", "230 ok\r\n", "150 here\r\n", "226 done\r\n", "120 soon\r\n", "125 x\r\n", "150 y\r\n", "226 z\r\n"} {
		if strings.HasPrefix(chunk, "331") || strings.HasPrefix(chunk, "150") {
			b.command()
		}
		if err := b.read([]byte(chunk)); err != nil {
			t.Fatalf("%q: %v", chunk, err)
		}
	}
	if b.busy() {
		t.Error("a reply is still in progress")
	}
}

func TestReplyBoundsTrip(t *testing.T) {
	o := DialOptions{}.withDefaults()
	for _, c := range []struct {
		name, head, chunk, want string
	}{
		{"endless line", "220 ", "xxxxxxxxxxxxxxxx", "reply line longer than 8192 bytes"},
		{"endless multi-line", "220-hi\r\n", strings.Repeat("y", 200) + "\r\n", "reply longer than 131072 bytes"},
		{"many short lines", "220-hi\r\n", "\r\n", "reply longer than 1024 lines"},
		{"endless 1xx", "", "150 again\r\n", "more than 4 preliminary (1xx) replies"},
		{"1xx multi-line", "150-x\r\n", "150-x\r\n", "reply longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newReplyBounds(o)
			var err error
			if c.head != "" {
				err = b.read([]byte(c.head))
			}
			for i := 0; err == nil && i < 1<<20; i++ {
				err = b.read([]byte(c.chunk))
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if b.read([]byte("220 ok\r\n")) == nil {
				t.Error("the error is not sticky")
			}
		})
	}
}

// dialBounded dials tg with short bounds and returns the error and how
// long it took; the test fails if the dial took longer than max.
func dialBounded(t *testing.T, tg ftpaudit.Target, opt DialOptions, max time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	s, _, err := DialFTP(ctx, tg, opt)
	if err == nil {
		_, err = s.List(ctx, "/")
		_ = s.Close()
	}
	if el := time.Since(start); el > max {
		t.Errorf("took %s, want at most %s", el, max)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Without the bounds a flood costs gigabytes within seconds.
	if a := after.TotalAlloc - before.TotalAlloc; a > 256<<20 {
		t.Errorf("allocated %d MiB", a>>20)
	}
	return err
}

func wantBound(t *testing.T, err error, words string) {
	t.Helper()
	var be *BoundError
	if !errors.As(err, &be) || !errors.Is(err, ftpaudit.ErrConnLost) || !strings.Contains(err.Error(), words) {
		t.Errorf("err = %v, want a lost connection at the bound %q", err, words)
	}
}

func TestHostileRepliesEnd(t *testing.T) {
	t.Parallel()
	short := DialOptions{IdleTimeout: 5 * time.Second, ReplyTimeout: 2 * time.Second, NoStat: true}
	for _, c := range []struct {
		name  string
		opt   faultftp.Options
		words string
		max   time.Duration
	}{
		{"drip greeting", faultftp.Options{Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
			if x.Seq == 0 {
				x.Reply, x.Drip = "2", faultftp.Drip{Chunk: "2", Every: 200 * time.Millisecond}
			}
		}}}, "reply not complete within 2s", 5 * time.Second},
		{"endless multi-line greeting", faultftp.Options{Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
			if x.Seq == 0 {
				x.Reply, x.Drip = "220-Welcome\r\n", faultftp.Drip{Chunk: "220-" + strings.Repeat("w", 1000) + "\r\n"}
			}
		}}}, "reply longer than 131072 bytes", 5 * time.Second},
		{"endless line", faultftp.Options{Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
			if x.Seq == 0 {
				x.Reply, x.Drip = "220 ", faultftp.Drip{Chunk: strings.Repeat("z", 32<<10)}
			}
		}}}, "reply line longer than 8192 bytes", 5 * time.Second},
		{"endless 1xx", faultftp.Options{Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
			if x.Verb == "LIST" {
				x.Reply, x.Drip = "150 Here it comes.\r\n", faultftp.Drip{Chunk: "150 Here it comes.\r\n", Every: 10 * time.Millisecond}
			}
		}}}, "more than 4 preliminary (1xx) replies", 15 * time.Second},
		{"endless multi-line after login", faultftp.Options{Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
			if x.Verb == "PASS" {
				x.Reply, x.Drip = "230-Hi\r\n", faultftp.Drip{Chunk: "230-more\r\n", Every: 100 * time.Millisecond}
			}
		}}}, "reply not complete within 2s", 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, tg := startFault(t, c.opt)
			wantBound(t, dialBounded(t, tg, short, c.max), c.words)
		})
	}
}

func TestTricklingTransferIsAbandoned(t *testing.T) {
	t.Parallel()
	srv, tg := startFault(t, faultftp.Options{Tree: faultftp.Map(map[string][]faultftp.Entry{"/": {faultftp.File("a", 1)}}),
		Script: faultftp.Script{Transfer: func(tr *faultftp.Transfer) {
			tr.Drip = faultftp.Drip{Chunk: "x", Every: 20 * time.Millisecond}
		}}})
	opt := DialOptions{IdleTimeout: 5 * time.Second, RateWindow: time.Second, NoStat: true}
	err := dialBounded(t, tg, opt, 8*time.Second)
	wantBound(t, err, "data transfer stalled")
	if srv.Dripped() == 0 {
		t.Error("the server never trickled")
	}
}
