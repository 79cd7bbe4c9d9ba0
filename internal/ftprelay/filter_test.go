package ftprelay

import (
	"bytes"
	"net"
	"testing"
)

// testFilter rewrites every passive reply to 10.1.2.3 port 4660 (18,52)
// and records the upstream ports it was asked about.
func testFilter(ports *[]int) *replyFilter {
	return &replyFilter{
		pasv: func(port int) (net.IP, int, bool) {
			*ports = append(*ports, port)
			return net.IPv4(10, 1, 2, 3), 4660, true
		},
		epsv: func(port int) (int, bool) {
			*ports = append(*ports, port)
			return 4660, true
		},
	}
}

// feedAll feeds in in pieces of n bytes (and flushes at the end).
func feedAll(f *replyFilter, in []byte, n int) []byte {
	var out []byte
	for len(in) > 0 {
		k := min(n, len(in))
		out = append(out, f.feed(in[:k])...)
		in = in[k:]
	}
	return append(out, f.flush()...)
}

func TestFilterRewrites(t *testing.T) {
	in := "220 hello\r\n" +
		"227 Entering Passive Mode (127,0,0,1,195,80).\r\n" +
		"229 Entering Extended Passive Mode (|||50001|)\r\n" +
		"227 =127,0,0,1,4,1\n" + // no parentheses, LF only
		"229 ok (!!!2121!)\r\n" + // another delimiter
		"227-multi\r\n227 (127,0,0,1,0,21)\r\n" + // last line of a multi-line 227
		"213-Status follows:\r\n227 (127,0,0,1,0,22)\r\n229 (|||23|)\r\n213 End\r\n" + // inside another reply: untouched
		"227 Entering Passive Mode (1,2,3,4,5).\r\n" + // five numbers: untouched
		"229 Entering Extended Passive Mode (|||99999|)\r\n" + // bad port: untouched
		"2270 no\r\n22 \r\n\xff\x00\xfe binary \x1b[31m\r\n" +
		"227 (127,0,0,1,1,2)" // no line end at the end of the stream
	want := "220 hello\r\n" +
		"227 Entering Passive Mode (10,1,2,3,18,52).\r\n" +
		"229 Entering Extended Passive Mode (|||4660|)\r\n" +
		"227 =10,1,2,3,18,52\n" +
		"229 ok (!!!4660!)\r\n" +
		"227-multi\r\n227 (10,1,2,3,18,52)\r\n" +
		"213-Status follows:\r\n227 (127,0,0,1,0,22)\r\n229 (|||23|)\r\n213 End\r\n" +
		"227 Entering Passive Mode (1,2,3,4,5).\r\n" +
		"229 Entering Extended Passive Mode (|||99999|)\r\n" +
		"2270 no\r\n22 \r\n\xff\x00\xfe binary \x1b[31m\r\n" +
		"227 (127,0,0,1,1,2)"
	wantPorts := []int{195<<8 | 80, 50001, 4<<8 | 1, 2121, 21}
	for _, n := range []int{1, 2, 3, 7, 64, len(in)} {
		var ports []int
		got := feedAll(testFilter(&ports), []byte(in), n)
		if string(got) != want {
			t.Errorf("pieces of %d:\n got %q\nwant %q", n, got, want)
		}
		if !slicesEqual(ports, wantPorts) {
			t.Errorf("pieces of %d: upstream ports %v, want %v", n, ports, wantPorts)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Bytes that cannot start a passive reply are forwarded at once, not held
// until their line ends.
func TestFilterForwardsEarly(t *testing.T) {
	var ports []int
	f := testFilter(&ports)
	if got := f.feed([]byte("213-Status\r\ndrwx")); string(got) != "213-Status\r\ndrwx" {
		t.Errorf("got %q", got)
	}
	f = testFilter(&ports)
	if got := f.feed([]byte("22")); len(got) != 0 {
		t.Errorf("a possible 227 line start was forwarded: %q", got)
	}
	if got := f.feed([]byte("5")); string(got) != "225" {
		t.Errorf("got %q, want the held bytes once they cannot be a passive reply", got)
	}
	// An over-long candidate line is let through, unrewritten.
	long := append([]byte("227 "), bytes.Repeat([]byte("x"), 2*maxHold)...)
	f = testFilter(&ports)
	got := feedAll(f, append(long, "(127,0,0,1,1,2)\r\n"...), 100)
	if !bytes.Equal(got, append(long, "(127,0,0,1,1,2)\r\n"...)) {
		t.Errorf("long line changed")
	}
}

func TestParse227(t *testing.T) {
	for _, tc := range []struct {
		line string
		port int
		ok   bool
	}{
		{"227 Entering Passive Mode (127,0,0,1,195,80).", 195<<8 | 80, true},
		{"227 (127,0,0,1,0,1)", 1, true},
		{"227 1 (127,0,0,1,0,2)", 2, true},
		{"227 (1270,0,0,1,0,2)", 0, false},
		{"227 (256,0,0,1,0,2)", 0, false},
		{"227 (1,2,3,4,5)", 0, false},
		{"227 ", 0, false},
	} {
		_, _, port, ok := parse227([]byte(tc.line))
		if ok != tc.ok || (ok && port != tc.port) {
			t.Errorf("%q: %d %v, want %d %v", tc.line, port, ok, tc.port, tc.ok)
		}
	}
}

func TestParse229(t *testing.T) {
	for _, tc := range []struct {
		line string
		port int
		ok   bool
	}{
		{"229 Entering Extended Passive Mode (|||50001|)", 50001, true},
		{"229 x (###1#)", 1, true},
		{"229 x (||1|)", 0, false},
		{"229 x (|||0|)", 0, false},
		{"229 x (|||65536|)", 0, false},
		{"229 x (|||12|", 0, false},
		{"229 x (111211)", 0, false},
	} {
		_, _, port, ok := parse229([]byte(tc.line))
		if ok != tc.ok || (ok && port != tc.port) {
			t.Errorf("%q: %d %v, want %d %v", tc.line, port, ok, tc.port, tc.ok)
		}
	}
}
