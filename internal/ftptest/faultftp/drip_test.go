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
	if got := srv.Dripped(); got != 3*int64(len("220-more\r\n")) {
		t.Errorf("Dripped = %d", got)
	}
}
