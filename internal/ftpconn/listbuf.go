package ftpconn

import (
	"bytes"
	"io"
	"unsafe"
)

// listBuf collects a listing's raw bytes without ever holding it twice.
//
// A listing is the largest thing a scan reads: a directory of 1,000,000
// names is about 72 MB of text, and every entry's Raw, Name, Mode, ...
// are substrings of it. A bytes.Buffer grows by doubling (up to about
// three times the text while it copies) and its text is then copied once
// more into the string the entries keep. listBuf instead fills chunks of
// at most listChunkMax bytes, no doubling, and cuts them only at a line
// end: a full chunk holds whole lines and is never written again, so it
// becomes, as it is, one of the strings the entries point into (parsed
// chunk by chunk, which is the same as parsing the whole text). Only the
// last, partly filled chunk is copied, to a string of its exact size, and
// its array is kept for the session's next listing.
type listBuf struct {
	full []string // frozen chunks, each ending in '\n'
	cur  []byte   // the chunk being filled; never aliased by a string
	n    int64    // bytes written
	last byte     // the last byte written
}

const (
	listChunkMin = 16 << 10
	listChunkMax = 1 << 20
)

// newListBuf returns a listBuf that fills scratch first (may be nil).
func newListBuf(scratch []byte) listBuf {
	return listBuf{cur: scratch[:0]}
}

// Len is the number of bytes written.
func (b *listBuf) Len() int64 { return b.n }

// lastByte is the last byte written, 0 when none was.
func (b *listBuf) lastByte() byte { return b.last }

// room makes cur have free space, at least need bytes when a whole line
// of that size must fit (writeLine), else any (readFrom).
func (b *listBuf) room(need int) {
	if cap(b.cur)-len(b.cur) >= max(need, 1) {
		return
	}
	if cap(b.cur) == 0 {
		b.cur = make([]byte, 0, max(listChunkMin, need))
		return
	}
	// Cut after the last line end; the partial line moves on.
	cut := bytes.LastIndexByte(b.cur, '\n') + 1
	tail := b.cur[cut:]
	size := min(2*cap(b.cur), listChunkMax)
	for size < 2*len(tail) || size < need+len(tail) {
		size *= 2 // one line longer than a chunk
	}
	next := make([]byte, len(tail), size)
	copy(next, tail)
	if cut > 0 {
		b.full = append(b.full, unsafe.String(&b.cur[0], cut))
	}
	b.cur = next
}

// writeLine appends line and a '\n'.
func (b *listBuf) writeLine(line []byte) {
	b.room(len(line) + 1)
	b.cur = append(b.cur, line...)
	b.cur = append(b.cur, '\n')
	b.n += int64(len(line)) + 1
	b.last = '\n'
}

// readFrom reads r to its end, or to limit bytes in all; it returns the
// bytes read and the read error other than io.EOF.
func (b *listBuf) readFrom(r io.Reader, limit int64) (int64, error) {
	var total int64
	for total < limit {
		b.room(0)
		free := b.cur[len(b.cur):cap(b.cur)]
		if rest := limit - total; int64(len(free)) > rest {
			free = free[:rest]
		}
		m, err := r.Read(free)
		if m > 0 {
			b.cur = b.cur[:len(b.cur)+m]
			total += int64(m)
			b.n += int64(m)
			b.last = b.cur[len(b.cur)-1]
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// finish returns the text as strings that each end in '\n', the last
// one aside, and cur's array for the next newListBuf (nil when it grew
// past listChunkMax for one very long line). The listBuf is empty
// afterwards.
func (b *listBuf) finish() (text []string, scratch []byte) {
	text, scratch = b.full, b.cur
	if len(b.cur) > 0 {
		text = append(text, string(b.cur))
	}
	if cap(scratch) > listChunkMax {
		scratch = nil
	}
	*b = listBuf{}
	return text, scratch[:0]
}

// take returns a copy of the whole text (nil when empty) and empties the listBuf like
// finish.
func (b *listBuf) take() (text []byte, scratch []byte) {
	if b.n > 0 {
		text = make([]byte, 0, b.n)
	}
	for _, c := range b.full {
		text = append(text, c...)
	}
	text = append(text, b.cur...)
	b.cur = b.cur[:0]
	_, scratch = b.finish()
	return text, scratch
}
