package main

import (
	"context"
	"encoding/json"
	"io"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// BenchmarkEndlessTree scans a server whose tree has no end: every
// directory, each time it is listed, holds 1,000 new files and 10 new
// subdirectories. Only the bounds stop the walk: with the defaults,
// --max-entry-bytes (512 MiB of paths and lines: at the default --max-depth
// of 128, paths reach a kilobyte); --max-entries 1,000,000 at the default
// depth; or, with no depth bound to speak of, --max-entry-bytes 256 MiB. It
// reports the peak of the Go runtime's mapped memory (server and scanner
// share the process; the server keeps nothing between listings) and checks
// the scan stops at the bound, incomplete.
//
//	go test ./cmd/ftpaudit -run XXX -bench EndlessTree -benchtime 1x
func BenchmarkEndlessTree(b *testing.B) {
	var n atomic.Int64
	tree := faultftp.Entries(func(string) ([]faultftp.Entry, bool) {
		es := make([]faultftp.Entry, 0, 1010)
		for range 10 {
			es = append(es, faultftp.Dir("d"+strconv.FormatInt(n.Add(1), 10)))
		}
		for range 1000 {
			es = append(es, faultftp.File("f"+strconv.FormatInt(n.Add(1), 10)+".tar.gz", 1))
		}
		return es, true
	})
	srv, err := faultftp.Start(faultftp.Options{Tree: tree})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cases := []struct {
		name  string
		args  []string
		bound string
	}{
		{"defaults", nil, "--max-entry-bytes"},
		{"max-entries", []string{"--max-entries", "1000000"}, "--max-entries 1000000"},
		{"max-entry-bytes", []string{"--max-depth", "1000000", "--max-entry-bytes", strconv.Itoa(256 << 20)}, "--max-entry-bytes"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				peak := watchPeak()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				pr, pw := io.Pipe()
				var doc struct {
					Hosts []struct {
						Complete bool             `json:"complete"`
						Stats    map[string]int   `json:"stats"`
						Errors   []faultPathError `json:"errors"`
					} `json:"hosts"`
				}
				dec := make(chan error, 1)
				go func() { dec <- json.NewDecoder(pr).Decode(&doc); _, _ = io.Copy(io.Discard, pr) }()
				args := append([]string{"scan", "--quiet", "--format", "json", "--connections", "4"}, c.args...)
				code := run(ctx, append(args, srv.URL("/")), nil, pw, io.Discard)
				_ = pw.Close()
				cancel()
				if err := <-dec; err != nil {
					b.Fatalf("exit %d, output: %v", code, err)
				}
				mb := peak()
				h := doc.Hosts[0]
				if code != exitIncomplete || h.Complete || !hasPathError(h.Errors, c.bound) {
					b.Fatalf("exit %d, complete %v: want the walk stopped at %s, incomplete", code, h.Complete, c.bound)
				}
				b.ReportMetric(mb, "peak-MB")
				b.ReportMetric(float64(h.Stats["dirs"]+h.Stats["files"]), "entries")
			}
		})
	}
}

// watchPeak samples the runtime's mapped memory every 10ms until the
// returned function is called, which returns the peak in MB.
func watchPeak() func() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(stop)
		<-done
		return float64(peak.Load()) / (1 << 20)
	}
}
