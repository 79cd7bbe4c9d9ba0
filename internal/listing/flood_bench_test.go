package listing

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkFlood parses listings that cost a server nothing to send, at
// the walker's default --max-dir-entries (2,000,000) and up to the
// default listing bound (256 MiB), and reports what the parse allocates
// (alloc-MB: the parser's whole peak, as nothing it allocates is freed
// before it returns) against the bytes received (in-MB):
//
//	go test ./internal/listing -run XXX -bench Flood -benchtime 1x
func BenchmarkFlood(b *testing.B) {
	const limit = 2_000_000
	floods := []struct {
		name string
		line string
		mlsd bool
	}{
		{"blank", "\r\n", false},
		{"minimal-MLSD", "type=file; a\n", true},
		{"minimal-LIST", "-rw-r--r-- 1 a b 0 Jan 1 2000 a\r\n", false},
		{"unparsed", "?\r\n", false},
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, size := range []int{16 << 20, 256 << 20} {
		for _, f := range floods {
			b.Run(fmt.Sprintf("%s/%dMiB", f.name, size>>20), func(b *testing.B) {
				text := floodChunks(f.line, size/len(f.line))
				benchParse(b, text, f.mlsd, now, limit)
			})
		}
		b.Run(fmt.Sprintf("huge-line/%dMiB", size>>20), func(b *testing.B) {
			benchParse(b, []string{strings.Repeat("x", size-2) + "\r\n"}, false, now, limit)
		})
	}
}

func benchParse(b *testing.B, text []string, mlsd bool, now time.Time, limit int) {
	in := 0
	for _, s := range text {
		in += len(s)
	}
	var kept, bad int
	var alloc uint64
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		entries, bl, _ := ParseChunksLimit(text, mlsd, now, limit)
		runtime.ReadMemStats(&m1)
		alloc = m1.TotalAlloc - m0.TotalAlloc
		kept, bad = len(entries), len(bl)
	}
	b.ReportMetric(float64(in)/(1<<20), "in-MB")
	b.ReportMetric(float64(alloc)/(1<<20), "alloc-MB")
	b.ReportMetric(float64(kept), "kept")
	b.ReportMetric(float64(bad), "badlines")
}
