package ftpconn

// Bounds on what a server can make one control reply or one data
// transfer cost: a reply must end within ReplyTimeout of its first byte,
// hold no line longer than MaxReplyLine and no more than MaxReplyBytes in
// all, and follow at most MaxPreliminary 1xx replies; a data transfer must
// keep MinDataRate over every RateWindow. Reaching a bound fails the read
// that reached it with a *BoundError, which the session reports as a lost
// connection (the control connection is out of step).

import (
	"fmt"
	"sync"
	"time"
)

// Defaults of the reply and transfer bounds. They are chosen so that a
// slow but honest server over a 300 ms link never reaches them: RFC 959
// replies are a few short lines, sent at once.
const (
	// DefaultReplyTimeout bounds one control reply, from its first byte
	// to the end of its last line.
	DefaultReplyTimeout = 30 * time.Second
	// DefaultMaxReplyLine bounds one line of a control reply.
	DefaultMaxReplyLine = 8 << 10
	// DefaultMaxReplyBytes bounds one whole (multi-line) control reply.
	DefaultMaxReplyBytes = 128 << 10
	// MaxReplyLines bounds the lines of one control reply (jlaffaye
	// joins them into one string, a copy per line).
	MaxReplyLines = 1024
	// DefaultMaxPreliminary bounds the 1xx replies in a row before a
	// final (2xx-5xx) one.
	DefaultMaxPreliminary = 4
	// DefaultMinDataRate is the rate, in bytes per second, a data
	// transfer must keep over every RateWindow.
	DefaultMinDataRate = 1 << 10
	// DefaultRateWindow is the window the data rate is averaged over.
	DefaultRateWindow = 30 * time.Second
)

// BoundError says which bound a server's reply or transfer reached.
type BoundError struct {
	What string
}

func (e *BoundError) Error() string { return e.What }

// replyBounds follows the bytes of the control replies (as jlaffaye reads
// them, through the reply log) and fails them once a reply goes on too
// long or too big. It is safe for concurrent use: deadlineConn asks for
// the current reply's deadline from the reading goroutine.
type replyBounds struct {
	timeout           time.Duration
	maxLine, maxReply int
	maxPrelim         int
	mu                sync.Mutex
	err               error     // sticky: once a bound is reached the reply is never read on
	inReply           bool      // a reply has begun and not ended
	start             time.Time // its first byte
	code              [3]byte   // the code of a multi-line reply in progress
	multi             bool
	head              [4]byte // the first bytes of the current line
	lineLen, replyLen int
	lines             int // lines of the reply so far
	prelim            int // 1xx replies since the last final one
}

func newReplyBounds(o DialOptions) *replyBounds {
	return &replyBounds{timeout: o.ReplyTimeout, maxLine: o.MaxReplyLine, maxReply: o.MaxReplyBytes, maxPrelim: o.MaxPreliminary}
}

// command notes a command sent: a new reply is awaited.
func (b *replyBounds) command() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.inReply {
		b.prelim = 0
	}
}

// busy reports whether a reply is in progress.
func (b *replyBounds) busy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inReply
}

// read accounts for reply bytes just read and returns the bound they
// reached, if any.
func (b *replyBounds) read(p []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	now := time.Now()
	for _, c := range p {
		if !b.inReply {
			b.inReply, b.start, b.replyLen, b.lineLen, b.lines, b.multi = true, now, 0, 0, 0, false
		}
		if b.lineLen < len(b.head) {
			b.head[b.lineLen] = c
		}
		b.lineLen++
		b.replyLen++
		if c == '\n' {
			if b.lines++; b.lines > MaxReplyLines {
				b.err = &BoundError{fmt.Sprintf("reply longer than %d lines", MaxReplyLines)}
				return b.err
			}
			b.endLine()
			if b.err != nil {
				return b.err
			}
			continue
		}
		if b.lineLen > b.maxLine {
			b.err = &BoundError{fmt.Sprintf("reply line longer than %d bytes", b.maxLine)}
			return b.err
		}
		if b.replyLen > b.maxReply {
			b.err = &BoundError{fmt.Sprintf("reply longer than %d bytes", b.maxReply)}
			return b.err
		}
	}
	if b.inReply && now.Sub(b.start) > b.timeout {
		b.err = b.slow()
	}
	return b.err
}

func (b *replyBounds) slow() error {
	return &BoundError{fmt.Sprintf("reply not complete within %s of its first byte", b.timeout)}
}

// endLine ends a line (its LF was just read).
func (b *replyBounds) endLine() {
	n := b.lineLen
	b.lineLen = 0
	coded := n >= 4 && isCode(string(b.head[:]))
	if b.multi {
		if coded && b.head[3] == ' ' && [3]byte(b.head[:3]) == b.code {
			b.final()
		}
		return
	}
	if coded && b.head[3] == '-' {
		b.multi, b.code = true, [3]byte(b.head[:3])
		return
	}
	b.final()
}

// final ends a reply.
func (b *replyBounds) final() {
	b.inReply, b.multi = false, false
	if b.head[0] != '1' {
		b.prelim = 0
		return
	}
	b.prelim++
	if b.prelim > b.maxPrelim {
		b.err = &BoundError{fmt.Sprintf("more than %d preliminary (1xx) replies in a row", b.maxPrelim)}
	}
}

// failed returns the bound reached, if any.
func (b *replyBounds) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// deadline returns when the reply in progress must have ended; ok false
// when none is in progress.
func (b *replyBounds) deadline() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.inReply {
		return time.Time{}, false
	}
	return b.start.Add(b.timeout), true
}

// expired returns the bound error when the reply in progress is past its
// deadline (a read that timed out at it).
func (b *replyBounds) expired() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil && b.inReply && time.Since(b.start) >= b.timeout {
		b.err = b.slow()
	}
	return b.err
}

// rateMeter fails a data transfer that falls below min bytes per second
// averaged over a window.
type rateMeter struct {
	min    int64
	window time.Duration
	start  time.Time
	n      int64
}

func (m *rateMeter) read(n int) error {
	now := time.Now()
	if m.start.IsZero() {
		m.start = now
	}
	m.n += int64(n)
	if el := now.Sub(m.start); el >= m.window {
		if float64(m.n) < float64(m.min)*el.Seconds() {
			return &BoundError{fmt.Sprintf("data transfer stalled: %d bytes in %s, below %d bytes/s", m.n, el.Round(time.Second), m.min)}
		}
		m.start, m.n = now, 0
	}
	return nil
}
