package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// BenchmarkHistoryNight runs one nightly scan of a generated archive
// served by the in-process fault server: about FTPAUDIT_HB_N entries
// (1,000,000), as they are on night FTPAUDIT_HB_NIGHT (0: the first;
// each later night changes 0.1% of the files: a third grown by a byte,
// a third removed, a third added), into the database FTPAUDIT_HB_DB (a
// temporary one when unset), with the scan flags FTPAUDIT_HB_ARGS
// (space-separated, e.g. "--save --baseline last"). The server lists
// each directory as it is asked for it and keeps nothing, so the memory
// is the scan's.
//
// It reports the walk (the host's start to its end), the baseline
// comparison and the save (timed by historyStages), their shares of the
// walk, the process's peak RSS, and the peak memory the Go runtime held
// before the history work and during it (sampled every 10ms);
// testdata/bench/historybench.sh runs it once per step in its own
// process, under /usr/bin/time -v.
//
//	FTPAUDIT_HB_NIGHT=1 FTPAUDIT_HB_DB=/tmp/h.db FTPAUDIT_HB_ARGS="--save" \
//	  go test ./cmd/ftpaudit -run XXX -bench HistoryNight -benchtime 1x
func BenchmarkHistoryNight(b *testing.B) {
	n, night := envInt(b, "FTPAUDIT_HB_N", 1_000_000), envInt(b, "FTPAUDIT_HB_NIGHT", 0)
	db := os.Getenv("FTPAUDIT_HB_DB")
	if db == "" {
		db = filepath.Join(b.TempDir(), "h.db")
	}
	// A loaded machine may take seconds to open a data connection.
	srv, err := faultftp.Start(faultftp.Options{Tree: nightTree(n, night), DataTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	// The history knows a host by its URL, port included: the control
	// connection goes through a fixed port (FTPAUDIT_HB_PORT, 2133), so
	// that every night's process scans the same target. Data connections
	// go to the server directly (its PASV replies name it).
	addr := "127.0.0.1:" + strconv.Itoa(envInt(b, "FTPAUDIT_HB_PORT", 2133))
	stop, err := forward(addr, srv.Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	args := append([]string{"scan", "--quiet", "--format", "json", "--db", db}, strings.Fields(os.Getenv("FTPAUDIT_HB_ARGS"))...)
	args = append(args, "ftp://"+addr+"/")
	for b.Loop() {
		var walk, compare, save time.Duration
		var historyEnd time.Time
		mem := sampleMemory()
		historyStages = func(res *ftpaudit.Result, c, s time.Duration) {
			historyEnd = time.Now()
			for _, h := range res.Hosts {
				walk += h.Finished.Sub(h.Started)
			}
			compare, save = c, s
		}
		var doc struct {
			Hosts []struct {
				Complete bool             `json:"complete"`
				Errors   []faultPathError `json:"errors"`
				Stats    map[string]int   `json:"stats"`
				Baseline struct {
					Added   int `json:"added"`
					Removed int `json:"removed"`
					Changed int `json:"changed"`
				} `json:"baseline"`
			} `json:"hosts"`
		}
		pr, pw := io.Pipe()
		dec := make(chan error, 1)
		go func() { dec <- json.NewDecoder(pr).Decode(&doc); _, _ = io.Copy(io.Discard, pr) }()
		t0 := time.Now()
		code := run(context.Background(), args, nil, pw, os.Stderr)
		total := time.Since(t0)
		_ = pw.Close()
		historyStages = nil
		before, during := mem(historyEnd.Add(-compare - save))
		if err := <-dec; err != nil {
			b.Fatalf("exit %d, output: %v", code, err)
		}
		if len(doc.Hosts) != 1 || !doc.Hosts[0].Complete {
			b.Fatalf("exit %d: the scan is not complete: %+v", code, doc.Hosts)
		}
		h := doc.Hosts[0]
		b.ReportMetric(float64(h.Stats["dirs"]+h.Stats["files"]), "entries")
		b.ReportMetric(walk.Seconds(), "walk-s")
		b.ReportMetric(total.Seconds(), "total-s")
		b.ReportMetric(compare.Seconds(), "compare-s")
		b.ReportMetric(save.Seconds(), "save-s")
		b.ReportMetric(100*compare.Seconds()/walk.Seconds(), "compare-%walk")
		b.ReportMetric(100*save.Seconds()/walk.Seconds(), "save-%walk")
		b.ReportMetric(float64(h.Baseline.Added+h.Baseline.Removed+h.Baseline.Changed), "changes")
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
		}
		b.ReportMetric(before, "go-mem-before-history-MB")
		b.ReportMetric(during, "go-mem-history-MB")
	}
}

// sampleMemory samples the memory the Go runtime holds from the system
// (mapped, less what it released) every 10ms until the returned function
// is called, which returns the peaks before and after the time given, in
// MB.
func sampleMemory() func(split time.Time) (before, after float64) {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	type sample struct {
		t time.Time
		v uint64
	}
	var samples []sample
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			samples = append(samples, sample{time.Now(), s[0].Value.Uint64() - s[1].Value.Uint64()})
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func(split time.Time) (before, after float64) {
		close(stop)
		<-done
		for _, x := range samples {
			mb := float64(x.v) / (1 << 20)
			if x.t.Before(split) {
				before = max(before, mb)
			} else {
				after = max(after, mb)
			}
		}
		return before, after
	}
}

// forward accepts connections on addr and relays each to to; stop closes
// the listener and every relayed connection.
func forward(addr, to string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			relay := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				_ = dst.(*net.TCPConn).CloseWrite()
			}
			go relay(s, c)
			go relay(c, s)
		}
	}()
	return func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}, nil
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return n
}

// nightTree is an archive of about n entries laid out like a mirror,
// /pub/dNNNN/subNN/fileNNNNNNN.tar.gz, 99 files to a directory, as it is
// on the given night: each night after the first picks n/1000 files at
// random (seeded by the night), and grows the first third by a byte,
// removes the second and adds a file beside each of the third.
func nightTree(n, night int) faultftp.Tree {
	const filesPerSub, subsPerDir = 99, 10
	subs := (n + filesPerSub) / (filesPerSub + 1)
	dirs := (subs + subsPerDir - 1) / subsPerDir
	type change struct{ night, op int }
	changes := map[int][]change{} // by file number
	for k := 1; k <= night; k++ {
		rng := rand.New(rand.NewPCG(uint64(k), 18))
		for i := range n / 1000 {
			f := rng.IntN(subs * filesPerSub)
			changes[f] = append(changes[f], change{k, i % 3})
		}
	}
	num := func(v, width int) string {
		s := strconv.Itoa(v)
		return strings.Repeat("0", max(0, width-len(s))) + s
	}
	return faultftp.Entries(func(dir string) ([]faultftp.Entry, bool) {
		switch {
		case dir == "/":
			return []faultftp.Entry{faultftp.Dir("pub")}, true
		case dir == "/pub":
			es := make([]faultftp.Entry, dirs)
			for d := range es {
				es[d] = faultftp.Dir("d" + num(d, 4))
			}
			return es, true
		}
		parts := strings.Split(strings.TrimPrefix(dir, "/pub/"), "/")
		d, err := strconv.Atoi(strings.TrimPrefix(parts[0], "d"))
		if err != nil || !strings.HasPrefix(parts[0], "d") || d >= dirs || len(parts) > 2 {
			return nil, false
		}
		if len(parts) == 1 {
			var es []faultftp.Entry
			for s := d * subsPerDir; s < min(subs, (d+1)*subsPerDir); s++ {
				es = append(es, faultftp.Dir("sub"+num(s%subsPerDir, 2)))
			}
			return es, true
		}
		s, err := strconv.Atoi(strings.TrimPrefix(parts[1], "sub"))
		if err != nil || !strings.HasPrefix(parts[1], "sub") || d*subsPerDir+s >= subs {
			return nil, false
		}
		s += d * subsPerDir
		es := make([]faultftp.Entry, 0, filesPerSub+4)
		for f := s * filesPerSub; f < (s+1)*filesPerSub; f++ {
			name := "file" + num(f, 7) + ".tar.gz"
			size, gone := int64(1000+f*7), false
			var added []faultftp.Entry
			for _, c := range changes[f] {
				switch c.op {
				case 0:
					size++
				case 1:
					gone = true
				case 2:
					added = append(added, faultftp.File(name+".n"+strconv.Itoa(c.night), size))
				}
			}
			if !gone {
				es = append(es, faultftp.File(name, size))
			}
			es = append(es, added...)
		}
		return es, true
	})
}
