package ftprelay

import (
	"errors"
	"sync"
	"time"
)

// errQueueClosed is what pop returns once the connection pair is torn down.
var errQueueClosed = errors.New("ftprelay: connection closed")

// chunk is one read from a connection, due for writing at due.
type chunk struct {
	due time.Time
	b   []byte
}

// queue is one direction's delay line: the reader pushes chunks stamped
// with their due time, the writer pops them in order and writes each one
// when it is due. Chunks in flight overlap: the reader never waits for the
// writer except when maxBytes (or maxChunks) are already in flight, which
// bounds memory like a TCP window bounds what is unacknowledged.
type queue struct {
	mu        sync.Mutex
	cond      sync.Cond
	q         []chunk
	bytes     int
	maxBytes  int
	maxChunks int
	ended     bool  // the reader is done
	end       error // why (io.EOF: the peer half-closed)
	closed    bool  // the pair is torn down
}

func newQueue(maxBytes int) *queue {
	q := &queue{maxBytes: maxBytes, maxChunks: 4096}
	q.cond.L = &q.mu
	return q
}

// push appends c, waiting while the window is full. It reports false when
// the queue was closed meanwhile. A chunk larger than the window goes
// through alone.
func (q *queue) push(c chunk) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.closed && len(q.q) > 0 && (q.bytes+len(c.b) > q.maxBytes || len(q.q) >= q.maxChunks) {
		q.cond.Wait()
	}
	if q.closed {
		return false
	}
	q.q = append(q.q, c)
	q.bytes += len(c.b)
	q.cond.Broadcast()
	return true
}

// finish records that the reader is done, with its error (io.EOF for a
// clean end). The writer drains what is queued first.
func (q *queue) finish(err error) {
	q.mu.Lock()
	q.ended, q.end = true, err
	q.cond.Broadcast()
	q.mu.Unlock()
}

// pop returns the oldest chunk, waiting for one. ok is false at the end:
// err is then the reader's error (io.EOF when clean) or errQueueClosed.
func (q *queue) pop() (c chunk, ok bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.q) == 0 && !q.ended && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return chunk{}, false, errQueueClosed
	}
	if len(q.q) == 0 {
		return chunk{}, false, q.end
	}
	c = q.q[0]
	q.q[0] = chunk{}
	q.q = q.q[1:]
	return c, true, nil
}

// release returns n written bytes to the window.
func (q *queue) release(n int) {
	q.mu.Lock()
	q.bytes -= n
	q.cond.Broadcast()
	q.mu.Unlock()
}

// close wakes and fails every waiter, now and later, and drops the chunks.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.q = nil
	q.cond.Broadcast()
	q.mu.Unlock()
}
