package ftprelay

import (
	"bytes"
	"net"
	"strconv"
)

// maxHold bounds the bytes of one reply line held back while it may still
// be a passive reply. Longer lines pass through as they are.
const maxHold = 1024

// replyFilter watches the server-to-client bytes of a control connection
// line by line, across reads, and rewrites the final line of 227 and 229
// replies. Every other byte passes through untouched and in order; only a
// line that starts like "227 " or "229 " (outside a multi-line reply of
// another code) is held back until its line end.
type replyFilter struct {
	head    [4]byte // first bytes of the current line
	headLen int
	hold    []byte // the current line, while it is a candidate
	holding bool
	inMulti bool // inside a multi-line reply "ddd-" ... "ddd "
	code    [3]byte

	// pasv is called for a 227 reply naming upstream data port port. It
	// returns the address the client should use instead (IPv4 only), or
	// ok false to leave the reply alone.
	pasv func(port int) (ip net.IP, newPort int, ok bool)
	// epsv is the same for a 229 reply (any address family).
	epsv func(port int) (newPort int, ok bool)
}

// feed filters one read and returns the bytes to forward now (a fresh
// slice; p is not retained).
func (f *replyFilter) feed(p []byte) []byte {
	out := make([]byte, 0, len(p)+32)
	for len(p) > 0 {
		seg, rest, eol := p, []byte(nil), false
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			seg, rest, eol = p[:i+1], p[i+1:], true
		}
		if f.headLen == 0 {
			// A line begins. Passive replies are single lines, or the last
			// line of a multi-line reply of their own code.
			f.holding = !f.inMulti || f.code == [3]byte{'2', '2', '7'} || f.code == [3]byte{'2', '2', '9'}
		}
		for k := 0; f.headLen < len(f.head) && k < len(seg); k++ {
			f.head[f.headLen] = seg[k]
			f.headLen++
		}
		if f.holding && !f.candidate() {
			out = append(out, f.hold...)
			f.hold = f.hold[:0]
			f.holding = false
		}
		if f.holding {
			f.hold = append(f.hold, seg...)
			if len(f.hold) > maxHold {
				out = append(out, f.hold...)
				f.hold = f.hold[:0]
				f.holding = false
			}
		} else {
			out = append(out, seg...)
		}
		if eol {
			if f.holding {
				if rw := f.rewrite(f.hold); rw != nil {
					out = append(out, rw...)
				} else {
					out = append(out, f.hold...)
				}
				f.hold = f.hold[:0]
				f.holding = false
			}
			f.endLine()
		}
		p = rest
	}
	return out
}

// flush returns what is still held (at the end of the stream).
func (f *replyFilter) flush() []byte {
	out := append([]byte(nil), f.hold...)
	f.hold = f.hold[:0]
	f.holding = false
	return out
}

// candidate reports whether the line's first bytes may still be "227 " or
// "229 ".
func (f *replyFilter) candidate() bool {
	h := f.head[:f.headLen]
	return bytes.HasPrefix([]byte("227 "), h) || bytes.HasPrefix([]byte("229 "), h)
}

// endLine tracks multi-line replies (RFC 959 4.2: "ddd-" opens one, a line
// starting with the same "ddd " closes it).
func (f *replyFilter) endLine() {
	h := f.head[:f.headLen]
	if len(h) == 4 && isDigit(h[0]) && isDigit(h[1]) && isDigit(h[2]) {
		switch {
		case !f.inMulti && h[3] == '-':
			f.inMulti = true
			copy(f.code[:], h[:3])
		case f.inMulti && h[3] == ' ' && bytes.Equal(h[:3], f.code[:]):
			f.inMulti = false
		}
	}
	f.headLen = 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// rewrite returns line with its passive address replaced, or nil to keep
// the line as it is.
func (f *replyFilter) rewrite(line []byte) []byte {
	switch {
	case bytes.HasPrefix(line, []byte("227 ")) && f.pasv != nil:
		start, end, port, ok := parse227(line)
		if !ok {
			return nil
		}
		ip, np, ok := f.pasv(port)
		if !ok {
			return nil
		}
		ip4 := ip.To4()
		if ip4 == nil {
			return nil
		}
		var b []byte
		b = append(b, line[:start]...)
		for _, n := range []int{int(ip4[0]), int(ip4[1]), int(ip4[2]), int(ip4[3]), np >> 8, np & 0xff} {
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, ',')
		}
		b = b[:len(b)-1]
		return append(b, line[end:]...)
	case bytes.HasPrefix(line, []byte("229 ")) && f.epsv != nil:
		start, end, port, ok := parse229(line)
		if !ok {
			return nil
		}
		np, ok := f.epsv(port)
		if !ok {
			return nil
		}
		var b []byte
		b = append(b, line[:start]...)
		b = strconv.AppendInt(b, int64(np), 10)
		return append(b, line[end:]...)
	}
	return nil
}

// parse227 finds "h1,h2,h3,h4,p1,p2" in a 227 reply line (RFC 1123 4.1.2.6:
// scan for the first digit, do not rely on the parentheses) and returns
// where the six numbers are and the port they name.
func parse227(line []byte) (start, end, port int, ok bool) {
	for i := 4; i < len(line); i++ {
		if !isDigit(line[i]) || isDigit(line[i-1]) {
			continue
		}
		var n [6]int
		j := i
		good := true
		for k := range n {
			d := j
			for j < len(line) && isDigit(line[j]) && j-d < 3 {
				n[k] = n[k]*10 + int(line[j]-'0')
				j++
			}
			if j == d || n[k] > 255 || (j < len(line) && isDigit(line[j])) {
				good = false
				break
			}
			if k < 5 {
				if j >= len(line) || line[j] != ',' {
					good = false
					break
				}
				j++
			}
		}
		if good {
			return i, j, n[4]<<8 | n[5], true
		}
	}
	return 0, 0, 0, false
}

// parse229 finds "(<d><d><d>port<d>)" in a 229 reply line (RFC 2428) and
// returns where the port digits are and their value.
func parse229(line []byte) (start, end, port int, ok bool) {
	i := bytes.IndexByte(line, '(')
	if i < 0 || i+4 >= len(line) {
		return 0, 0, 0, false
	}
	d := line[i+1]
	if d < 33 || d > 126 || isDigit(d) || line[i+2] != d || line[i+3] != d {
		return 0, 0, 0, false
	}
	j := i + 4
	for j < len(line) && isDigit(line[j]) && j-(i+4) < 5 {
		port = port*10 + int(line[j]-'0')
		j++
	}
	if j == i+4 || j+1 >= len(line) || line[j] != d || line[j+1] != ')' || port < 1 || port > 65535 {
		return 0, 0, 0, false
	}
	return i + 4, j, port, true
}
