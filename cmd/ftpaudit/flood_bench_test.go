package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// BenchmarkFlood scans, with default flags, a server whose /pub listing
// is a 256 MiB flood (FLOOD_MB sets another size), and reports the heap's peak above the start (peak-MB;
// the server's copy of the flood, built before, is not in it) against the
// bytes sent (sent-MB). One flood per process, for a clean peak:
//
//	go test -c -o /tmp/cmd.test ./cmd/ftpaudit
//	/usr/bin/time -f '%M KB' /tmp/cmd.test -test.run XXX -test.bench 'Flood/blank$' -test.benchtime 1x
func BenchmarkFlood(b *testing.B) {
	size := 256 << 20
	if mb, err := strconv.Atoi(os.Getenv("FLOOD_MB")); err == nil && mb > 0 {
		size = mb << 20
	}
	floods := []struct {
		name string
		mlsd bool
		verb string
		data func() []byte
	}{
		{"blank", false, "", func() []byte { return bytes.Repeat([]byte("\r\n"), size/2) }},
		{"minimal-MLSD", true, "MLSD", func() []byte { return bytes.Repeat([]byte("type=file; a\n"), size/13) }},
		{"huge-line", false, "", func() []byte { return append(bytes.Repeat([]byte("x"), size-2), "\r\n"...) }},
		{"unparsed", false, "", func() []byte { return bytes.Repeat([]byte("?\r\n"), size/3) }},
	}
	for _, f := range floods {
		b.Run(f.name, func(b *testing.B) {
			data := f.data()
			srv, err := faultftp.Start(faultftp.Options{Tree: faultTree(), MLSD: f.mlsd, Script: faultftp.Script{
				Transfer: onData("/pub", func(tr *faultftp.Transfer) {
					if f.verb == "" || tr.Verb == f.verb {
						tr.Data = data
					}
				}),
			}})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			var peak uint64
			for range b.N {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				stop := heapPeak()
				code := run(ctx, []string{"scan", "--quiet", "--format", "json", srv.URL("/")}, nil, io.Discard, io.Discard)
				peak = stop()
				cancel()
				if code != 0 && code != 1 && code != 3 {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(len(data))/(1<<20), "sent-MB")
			b.ReportMetric(float64(peak)/1e6, "peak-MB")
		})
	}
}
