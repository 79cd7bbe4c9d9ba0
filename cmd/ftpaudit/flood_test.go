package main

// Floods end to end (issue 15, items 3 and 4): a server that sends a
// listing of blank lines, of minimal MLSD lines or one huge line, against
// the whole CLI with default flags. The scan must end, say honestly
// whether it is complete, write a small report (a huge line's prefix
// only) and keep the heap bounded by what it keeps, not by what it
// received.

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// heapPeak samples the heap until stop is called and returns the highest
// HeapAlloc seen above the one at the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapAlloc)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		if peak < base {
			return 0
		}
		return peak - base
	}
}

func TestFloods(t *testing.T) {
	if testing.Short() {
		t.Skip("floods send tens of megabytes")
	}
	huge := "x" + strings.Repeat("é", 16<<20) // 32 MiB, one line, no parser takes it
	cases := []struct {
		name string
		mlsd bool
		verb string // the listing command whose data is replaced; "": all
		data []byte // /pub's listing
		// heap is the most the scan may hold above copies times the
		// data (the listing's text, held while it is read, is bounded by
		// --max-listing-bytes; on an MLSD server, both the MLSD and the
		// LIST -a listing are read).
		heap     uint64
		copies   uint64
		complete bool
		reason   string // the incomplete reason
		error    string // in /pub's errors
	}{
		{name: "blank lines", data: bytes.Repeat([]byte("\r\n"), 32<<20), heap: 16 << 20, copies: 1, complete: true},
		{name: "blank lines MLSD", mlsd: true, data: bytes.Repeat([]byte("\n"), 64<<20), heap: 16 << 20, copies: 2, complete: true},
		// 300,000 entries of one name: kept once, each duplicate resolved
		// (the first 100 reported one by one); what they cost is the
		// entries parsed, about 600 bytes each. LIST -a, which the
		// client also sends, shows the real names: MLSD hid them.
		{name: "minimal MLSD", mlsd: true, verb: "MLSD", data: bytes.Repeat([]byte("type=file; a\n"), 300_000), heap: 300_000*1024 + 16<<20, copies: 1, error: "299899 more names listed twice"},
		// Until the data connection's buffer is marked as a listing's (see
		// listBuf.listing), a line is held whole while it is read, in a
		// buffer that doubles: about five times its size at the peak.
		{name: "huge line", data: []byte(huge + "\r\n"), heap: 16 << 20, copies: 1, reason: "unparsed listing lines", error: "first 511 of 33554433 bytes"},
		{name: "unparsed lines", data: bytes.Repeat([]byte("?\r\n"), 4<<20), heap: 16 << 20, copies: 1, reason: "unparsed listing lines", error: "4194204 more unparsed lines"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, err := faultftp.Start(faultftp.Options{Tree: faultTree(), MLSD: c.mlsd, Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					if c.verb == "" || tr.Verb == c.verb {
						tr.Data = c.data
					}
				}),
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out, errb bytes.Buffer
			stop := heapPeak()
			code := run(ctx, []string{"scan", "--quiet", "--format", "json", srv.URL("/")}, nil, &out, &errb)
			peak := stop()
			t.Logf("%d bytes sent, exit %d, report %d bytes, heap peak %.1f MB above the start", len(c.data), code, out.Len(), float64(peak)/1e6)
			var doc faultDoc
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.Hosts) != 1 {
				t.Fatalf("exit %d, report not JSON (%v): %.300s\nstderr: %s", code, err, out.String(), errb.String())
			}
			if max := c.copies*uint64(len(c.data)) + c.heap; peak > max {
				t.Errorf("heap peak %d bytes, more than %d (%d × %d received + %d)", peak, max, c.copies, len(c.data), c.heap)
			}
			if out.Len() > 64<<10 {
				t.Errorf("report of %d bytes", out.Len())
			}
			r := faultResult{code: code, doc: &doc}
			if c.complete {
				h := doc.Hosts[0]
				if !h.Complete {
					t.Errorf("want complete; incomplete %q, errors %+v", h.Incomplete, h.Errors)
				}
				return
			}
			if c.reason != "" {
				wantIncomplete(t, r, c.reason)
			}
			wantError(t, r, "/pub", c.error)
			for _, e := range doc.Hosts[0].Errors {
				if len(e.Error) > ftpaudit.BadLineKeep+200 {
					t.Errorf("error of %d bytes: %.100q...", len(e.Error), e.Error)
				}
			}
		})
	}
}
