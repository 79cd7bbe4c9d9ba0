package ftpconn

// The net.Conn wrappers handed to jlaffaye: an idle deadline on every
// read and write, and a data connection that keeps the bytes.

import (
	"crypto/tls"
	"io"
	"net"
	"time"
)

// deadlineConn moves the connection's deadline forward before every read
// and write, so that a silent peer fails the call after idle instead of
// hanging it forever. It also overrides any deadline a library leaves
// behind.
//
// On the control connection, reply is the session's reply bounds: a read
// while a reply is in progress also ends at that reply's deadline, so that
// a server dripping one byte at a time cannot keep moving the idle
// deadline. On a data connection, rate fails a transfer that falls below
// its minimum rate.
type deadlineConn struct {
	net.Conn
	idle  time.Duration
	reply *replyBounds
	rate  *rateMeter
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	d := time.Now().Add(c.idle)
	if c.reply != nil {
		if err := c.reply.expired(); err != nil {
			return 0, err
		}
		if rd, ok := c.reply.deadline(); ok && rd.Before(d) {
			d = rd
		}
	}
	if err := c.Conn.SetReadDeadline(d); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if c.reply != nil && err != nil {
		if e := c.reply.expired(); e != nil {
			return n, e
		}
	}
	if c.rate != nil && err == nil {
		if e := c.rate.read(n); e != nil {
			return n, e
		}
	}
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// drainConn is handed to jlaffaye as the data connection. On the first
// Read it consumes the whole transfer into buf (up to limit) and then
// reports EOF, so jlaffaye's own lossy parser sees nothing and the raw
// bytes stay with us.
type drainConn struct {
	net.Conn
	limit     int64
	buf       listBuf
	drained   bool
	truncated bool
	err       error
}

// Handshake completes a TLS data connection's handshake. jlaffaye calls it
// after an upload that wrote nothing (Store of an empty file), which would
// otherwise close the connection without ever handshaking.
func (c *drainConn) Handshake() error {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.Handshake()
	}
	return nil
}

func (c *drainConn) Read(p []byte) (int, error) {
	if !c.drained {
		c.drained = true
		n, err := c.buf.readFrom(c.Conn, c.limit)
		if err != nil {
			c.err = err
		} else if n == c.limit {
			// Is there more? One more byte tells.
			var one [1]byte
			if m, _ := c.Conn.Read(one[:]); m > 0 {
				c.truncated = true
			}
		}
	}
	return 0, io.EOF
}
