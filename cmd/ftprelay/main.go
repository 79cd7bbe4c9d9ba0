// Command ftprelay relays an FTP server on a loopback address with a
// simulated round-trip time, for benchmarks on machines without netem:
//
//	ftprelay -upstream 127.0.0.1:2121 -rtt 50ms [-listen 127.0.0.1:0]
//
// It prints the address it listens on as the first line of stdout, then
// serves until SIGINT or SIGTERM. Passive mode only; see
// internal/ftprelay for what is and is not simulated.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftprelay"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "FTP server control address, host:port (required)")
	rtt := flag.Duration("rtt", 50*time.Millisecond, "simulated round-trip time")
	window := flag.Int("window", 1<<20, "bytes in flight per direction and connection")
	verbose := flag.Bool("v", false, "log connection errors on stderr")
	flag.Parse()
	if *upstream == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: ftprelay -upstream HOST:PORT [-listen ADDR] [-rtt DURATION] [-window BYTES] [-v]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := ftprelay.Config{Upstream: *upstream, Listen: *listen, RTT: *rtt, Window: *window}
	if *verbose {
		cfg.Logf = log.New(os.Stderr, "", log.LstdFlags).Printf
	}
	r, err := ftprelay.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(r.Addr())
	<-r.Done()
	if *verbose {
		s := r.Stats()
		log.Printf("ftprelay: %d sessions, %d data connections, %d PASV and %d EPSV replies rewritten",
			s.Sessions, s.DataConns, s.PASV, s.EPSV)
	}
}
