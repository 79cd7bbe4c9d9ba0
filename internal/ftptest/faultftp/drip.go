package faultftp

import (
	"io"
	"net"
	"time"
)

// Drip makes a reply or a transfer go on: after its bytes, Chunk is sent
// every Every (as fast as the client reads when Every is zero), Count
// times or, when Count is zero, until the client closes the connection or
// the server is closed. It is how the scripts send a greeting dripped a
// byte at a time, a multi-line reply or a line that never ends, 1xx
// replies forever, or a data transfer that trickles.
type Drip struct {
	Chunk string
	Every time.Duration
	Count int
}

// drip sends d on c; false when the connection or the server is done.
func (s *Server) drip(c net.Conn, d Drip) bool {
	if d.Chunk == "" {
		return true
	}
	for i := 0; d.Count == 0 || i < d.Count; i++ {
		if !s.sleep(d.Every) {
			return false
		}
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		n, err := io.WriteString(c, d.Chunk)
		s.dripped.Add(int64(n))
		if err != nil {
			return false
		}
	}
	return true
}

// Dripped returns how many bytes all Drips have sent so far.
func (s *Server) Dripped() int64 { return s.dripped.Load() }
