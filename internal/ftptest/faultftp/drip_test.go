package faultftp_test

import (
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

func TestDripGoesOnThenEnds(t *testing.T) {
	srv, err := faultftp.Start(faultftp.Options{Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
		if x.Seq == 0 {
			x.Reply = "220-Welcome\r\n"
			x.Drip = faultftp.Drip{Chunk: "220-more\r\n", Every: time.Millisecond, Count: 3}
		}
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl := dial(t, srv)
	// The drip is followed by nothing: the reply never ends; the
	// client reads what was dripped.
	for i, want := range []string{"220-Welcome\r\n", "220-more\r\n", "220-more\r\n", "220-more\r\n"} {
		l, err := cl.r.ReadString('\n')
		if err != nil || l != want {
			t.Fatalf("line %d: %q, %v; want %q", i, l, err, want)
		}
	}
	// The server counts a chunk after writing it: wait for the last.
	want := 3 * int64(len("220-more\r\n"))
	deadline := time.Now().Add(2 * time.Second)
	for srv.Dripped() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := srv.Dripped(); got != want {
		t.Errorf("Dripped = %d, want %d", got, want)
	}
}
