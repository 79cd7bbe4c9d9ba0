package ftpconn

import (
	"bytes"
	"fmt"
	"io"
	"unsafe"

	"github.com/ftpaudit/ftpaudit"
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
// chunk by chunk, which is the same as parsing the whole text). The last,
// partly filled chunk is not copied either: its filled part becomes the
// last string, and what is left of its array after it (never written
// yet) is kept for the session's next listing, which fills it from there
// on. So a session's small listings share chunks, one after the other,
// and no byte a string points into is ever written again.
//
// A listing's listBuf (listing set) reads lines, not bytes: runs of
// empty lines ("\n" or "\r\n") are kept as one "\n" (see squeeze): every parser skips them, and a recursive listing's sections
// are told apart by one as by many; so a listing of empty lines costs one
// chunk, however long it is.
//
// A download's listBuf (listing unset) keeps every byte as it came.
//
// In a listing, a line longer than maxListLine (no entry is: a name is at most a few
// hundred bytes, a path a few kilobytes) is left out of the text: its
// first bytes and its length are kept in long, as a BadLine, and the rest
// of it is counted and dropped as it arrives, so that one endless line
// costs no more than maxListLine, never its own size (a line held whole
// would cost several times that while its buffer doubled).
type listBuf struct {
	full []string // frozen chunks, each ending in '\n'
	cur  []byte   // the chunk being filled; never aliased by a string
	n    int64    // bytes written
	last byte     // the last byte written
	// listing says the bytes are a listing's lines (see above); set it
	// before the first write.
	listing bool
	long    []ftpaudit.BadLine
	skip    bool // in a long line: its bytes up to its '\n' are counted in long's last, not kept
	// clean is where cur's lines not yet squeezed start; blank says the
	// last line squeezed was empty.
	clean int
	blank bool
}

// maxListLine is the longest line readFrom keeps in the text.
const maxListLine = listChunkMax

// errLongLine is a long BadLine's Err.
var errLongLine = fmt.Sprintf("line longer than %d bytes: not parsed", maxListLine)

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
	if b.listing && need == 0 && b.squeeze() {
		return
	}
	// Cut after the last line end; the partial line moves on.
	cut := bytes.LastIndexByte(b.cur, '\n') + 1
	tail := b.cur[cut:]
	if b.listing && need == 0 && len(tail) >= maxListLine {
		// Too long to be an entry: keep its prefix, drop the rest.
		b.long = append(b.long, ftpaudit.NewBadLine(unsafe.String(&tail[0], len(tail)), errLongLine))
		b.cur = b.cur[:cut]
		b.skip = true
		return
	}
	// (cur may be what an earlier listing left of its chunk: small.)
	size := max(min(2*cap(b.cur), listChunkMax), listChunkMin)
	for size < 2*len(tail) || size < need+len(tail) {
		size *= 2 // one line longer than a chunk
	}
	next := make([]byte, len(tail), size)
	copy(next, tail)
	if cut > 0 {
		b.full = append(b.full, unsafe.String(&b.cur[0], cut))
	}
	b.cur = next
	b.clean = 0
}

// squeeze keeps one "\n" of each run of empty lines among cur's whole
// lines not yet squeezed, and reports whether that freed any room.
func (b *listBuf) squeeze() bool {
	end := bytes.LastIndexByte(b.cur, '\n') + 1
	if end <= b.clean {
		return false
	}
	w := b.clean
	for r := b.clean; r < end; {
		i := r + bytes.IndexByte(b.cur[r:end], '\n') + 1
		blank := i-r == 1 || (i-r == 2 && b.cur[r] == '\r')
		switch {
		case blank && b.blank: // dropped
		case blank:
			b.cur[w] = '\n'
			w++
		case w < r:
			w += copy(b.cur[w:], b.cur[r:i])
		default:
			w = i
		}
		b.blank = blank
		r = i
	}
	n := copy(b.cur[w:], b.cur[end:])
	freed := len(b.cur) > w+n
	b.cur = b.cur[:w+n]
	b.clean = w
	return freed
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
			at, prev := len(b.cur), b.last
			b.cur = b.cur[:at+m]
			total += int64(m)
			b.n += int64(m)
			b.last = b.cur[len(b.cur)-1]
			if b.skip {
				b.skipLong(at, prev)
			}
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

// skipLong counts the bytes of a long line read at cur[at:] (prev is the
// byte before them) and drops them, up to its '\n'.
func (b *listBuf) skipLong(at int, prev byte) {
	got := b.cur[at:]
	l := &b.long[len(b.long)-1]
	i := bytes.IndexByte(got, '\n')
	if i < 0 {
		l.Len += len(got)
		b.cur = b.cur[:at]
		return
	}
	l.Len += i
	if i > 0 {
		prev = got[i-1]
	}
	if prev == '\r' {
		l.Len-- // "\r\n" ends it, as the parsers take it
	}
	b.cur = b.cur[:at+copy(got, got[i+1:])]
	b.skip = false
}

// takeLong returns the lines left out of the text (see listBuf), and
// forgets them.
func (b *listBuf) takeLong() []ftpaudit.BadLine {
	l := b.long
	b.long = nil
	return l
}

// finish returns the text as strings that each end in '\n', the last
// one aside, and what is left of cur's array after them, never written,
// for the next newListBuf (nil when little is left, or when the array
// grew past listChunkMax for one very long line). The strings point into
// the arrays as they are; the listBuf is empty afterwards.
func (b *listBuf) finish() (text []string, scratch []byte) {
	text = b.full
	if len(b.cur) > 0 {
		text = append(text, unsafe.String(&b.cur[0], len(b.cur)))
	}
	scratch = b.cur[len(b.cur):]
	if cap(scratch) < listScratchMin || cap(b.cur) > listChunkMax {
		scratch = nil
	}
	*b = listBuf{}
	return text, scratch
}

// listScratchMin is the least room left in a chunk worth handing to the
// next listing.
const listScratchMin = 1 << 10

// take returns a copy of the whole text (nil when empty) and empties the
// listBuf like finish; since no string points into cur, all of its
// array is handed on.
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
