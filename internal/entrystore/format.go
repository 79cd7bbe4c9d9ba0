package entrystore

// The block format: see the package comment.

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

const (
	// maxBlockEntries is the most entries of one block: a huge directory
	// is decoded a block at a time.
	maxBlockEntries = 4096
	// maxBlockText ends a block once its text passes it (long lines).
	maxBlockText = 1 << 20
)

// Entry header bits (the first byte of an entry's record).
const (
	hType      = 7 // Type; 7: Type > 6, its value follows
	hTimeShift = 3 // 2 bits: how Modified is stored (t* below)
	hExtra     = 1 << 5
	hPath      = 1 << 6 // Path is stored, not rebuilt from dir and Name
	hKnown     = 1<<7 - 1
)

// Ways Modified is stored.
const (
	tZero = iota // the zero Time
	tSec         // the previous entry's location, whole seconds: delta
	tMin         // the same, in whole minutes
	tFull        // location, delta seconds, nanoseconds
)

// String reference kinds: the low 3 bits of a reference's tag; the rest
// is its parameter (p).
const (
	refEmpty   = iota // ""
	refPrev           // the previous entry's value of the field
	refPrefix         // Raw[:p]
	refSuffix         // Raw[len(Raw)-p:]
	refInside         // Raw[p:p+n], n follows
	refLiteral        // p bytes from the text
)

// The string fields a reference may say are the previous entry's.
const (
	fName = iota
	fMode
	fOwner
	fGroup
	fPath
	fPerm
	fUnique
	fFactsRaw
	fListRaw
	fTarget
	nFields
	fNone = -1 // no previous value (fact keys and values, zone names)
)

// noLoc is the previous location of a block's first entry.
const noLoc = -2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is the error of a block that does not decode.
var errCorrupt = errors.New("entrystore: corrupt spill block")

// blockRef locates one block of a spilled listing.
type blockRef struct {
	off   int64
	size  int64
	n     int    // entries
	first string // Path of its first entry (kept for multi-block listings)
}

// locTable numbers the time locations of the entries' Modified, so that a
// decoded time has the very *time.Location it had. Past maxLocs
// locations, a time is stored with its zone's name and offset instead.
type locTable struct {
	mu   sync.Mutex
	list []*time.Location
	idx  map[*time.Location]int
}

const maxLocs = 256

func (t *locTable) index(l *time.Location) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.idx[l]; ok {
		return i
	}
	if len(t.list) >= maxLocs {
		return -1
	}
	if t.idx == nil {
		t.idx = map[*time.Location]int{}
	}
	t.idx[l] = len(t.list)
	t.list = append(t.list, l)
	return len(t.list) - 1
}

func (t *locTable) snapshot() []*time.Location {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.list)
}

// encoder encodes one listing's entries into blocks, appended to out.
type encoder struct {
	locs    *locTable
	lastLoc *time.Location // cache of locs.index
	lastIdx int

	out    []byte     // finished blocks
	blocks []blockRef // theirs, off relative to out

	// The block being encoded.
	meta, text []byte
	n, nExtra  int
	decoded    int // bytes of the block's strings, decoded
	first      string
	prev       [nFields]string
	prevRaw    string
	prevSec    int64
	prevLoc    int
	keys       []string // scratch for sorting Facts keys
}

func (e *encoder) reset() {
	e.out = e.out[:0]
	e.blocks = e.blocks[:0]
	e.startBlock()
}

func (e *encoder) startBlock() {
	e.meta, e.text = e.meta[:0], e.text[:0]
	e.n, e.nExtra, e.decoded = 0, 0, 0
	e.first = ""
	e.prev = [nFields]string{}
	e.prevRaw, e.prevSec, e.prevLoc = "", 0, noLoc
}

// add encodes one entry of a listing of dir; entries come in path order.
func (e *encoder) add(dir string, en *ftpaudit.Entry) {
	if e.n == 0 {
		e.first = en.Path
	}
	e.entry(dir, en)
	e.n++
	if en.Extra != nil {
		e.nExtra++
	}
	if e.n == maxBlockEntries || len(e.text) >= maxBlockText {
		e.endBlock()
	}
}

// finish ends the last block.
func (e *encoder) finish() {
	if e.n > 0 {
		e.endBlock()
	}
}

func (e *encoder) endBlock() {
	start := len(e.out)
	e.out = binary.AppendUvarint(e.out, uint64(e.n))
	e.out = binary.AppendUvarint(e.out, uint64(e.nExtra))
	e.out = binary.AppendUvarint(e.out, uint64(len(e.meta)))
	e.out = binary.AppendUvarint(e.out, uint64(e.decoded))
	e.out = append(e.out, e.meta...)
	e.out = append(e.out, e.text...)
	e.out = binary.LittleEndian.AppendUint32(e.out, crc32.Checksum(e.out[start:], castagnoli))
	e.blocks = append(e.blocks, blockRef{off: int64(start), size: int64(len(e.out) - start), n: e.n, first: e.first})
	e.startBlock()
}

func (e *encoder) uvarint(v uint64) {
	if v < 0x80 {
		e.meta = append(e.meta, byte(v))
		return
	}
	e.meta = binary.AppendUvarint(e.meta, v)
}

func (e *encoder) varint(v int64) { e.meta = binary.AppendVarint(e.meta, v) }

func (e *encoder) locIndex(l *time.Location) int {
	if l != e.lastLoc || e.lastLoc == nil {
		e.lastLoc, e.lastIdx = l, e.locs.index(l)
	}
	return e.lastIdx
}

func (e *encoder) entry(dir string, en *ftpaudit.Entry) {
	// The header first: it says which parts follow.
	var h uint64
	if en.Type < hType {
		h = uint64(en.Type)
	} else {
		h = hType
	}
	t := en.Modified
	tk, li := tZero, -1
	var sec int64
	var nsec int
	if !t.IsZero() || t.Location() != time.UTC {
		sec, nsec = t.Unix(), t.Nanosecond()
		li = e.locIndex(t.Location())
		switch {
		case li < 0 || li != e.prevLoc || nsec != 0:
			tk = tFull
		case (sec-e.prevSec)%60 == 0:
			tk = tMin
		default:
			tk = tSec
		}
	}
	h |= uint64(tk) << hTimeShift
	if en.Extra != nil {
		h |= hExtra
	}
	explicit := !joined(dir, en.Name, en.Path)
	if explicit {
		h |= hPath
	}
	e.meta = append(e.meta, byte(h))
	if h&hType == hType {
		e.uvarint(uint64(en.Type))
	}

	raw := en.Raw
	k := commonPrefix(e.prevRaw, raw)
	e.uvarint(uint64(k))
	e.uvarint(uint64(len(raw) - k))
	e.text = append(e.text, raw[k:]...)
	e.prevRaw = raw
	e.decoded += len(raw)
	if !explicit {
		e.decoded += len(en.Path)
	}

	e.ref(fName, en.Name, raw)
	e.ref(fMode, en.Mode, raw)
	e.ref(fOwner, en.Owner, raw)
	e.ref(fGroup, en.Group, raw)
	if explicit {
		e.ref(fPath, en.Path, raw)
	}
	e.uvarint(uint64(en.Size) + 1) // -1 is 0

	switch tk {
	case tSec:
		e.varint(sec - e.prevSec)
	case tMin:
		e.varint((sec - e.prevSec) / 60)
	case tFull:
		e.uvarint(uint64(li + 1)) // 0: a zone by name and offset
		e.varint(sec - e.prevSec)
		e.uvarint(uint64(nsec))
		if li < 0 {
			name, off := t.Zone()
			e.varint(int64(off))
			e.ref(fNone, name, raw)
		}
	}
	if tk != tZero {
		e.prevSec, e.prevLoc = sec, li
		if li < 0 {
			e.prevLoc = noLoc
		}
	}

	if x := en.Extra; x != nil {
		var xf uint64
		if x.Facts != nil {
			xf = 1
		}
		e.uvarint(xf)
		e.ref(fPerm, x.Perm, raw)
		e.ref(fUnique, x.Unique, raw)
		e.ref(fFactsRaw, x.FactsRaw, raw)
		e.ref(fListRaw, x.ListRaw, raw)
		e.ref(fTarget, x.Target, raw)
		if x.Facts != nil {
			e.keys = e.keys[:0]
			for k := range x.Facts {
				e.keys = append(e.keys, k)
			}
			slices.Sort(e.keys)
			e.uvarint(uint64(len(e.keys)))
			for _, k := range e.keys {
				e.ref(fNone, k, raw)
				e.ref(fNone, x.Facts[k], raw)
			}
		}
	}
}

// ref encodes the string v of field f (fNone: none): as the previous
// entry's, as a part of raw, or literally in the text.
func (e *encoder) ref(f int, v, raw string) {
	switch {
	case v == "":
		e.uvarint(refEmpty)
	case f != fNone && v == e.prev[f]:
		e.uvarint(refPrev)
	case strings.HasPrefix(raw, v):
		e.uvarint(refPrefix | uint64(len(v))<<3)
	case strings.HasSuffix(raw, v):
		e.uvarint(refSuffix | uint64(len(v))<<3)
	default:
		if i := strings.Index(raw, v); i >= 0 {
			e.uvarint(refInside | uint64(i)<<3)
			e.uvarint(uint64(len(v)))
		} else {
			e.uvarint(refLiteral | uint64(len(v))<<3)
			e.text = append(e.text, v...)
			e.decoded += len(v)
		}
	}
	if f != fNone {
		e.prev[f] = v
	}
}

// joined reports whether path is ftppath.Append(dir, name), without
// building it.
func joined(dir, name, path string) bool {
	if dir == "/" {
		return len(path) == 1+len(name) && path[0] == '/' && path[1:] == name
	}
	return len(path) == len(dir)+1+len(name) && path[len(dir)] == '/' &&
		path[:len(dir)] == dir && path[len(dir)+1:] == name
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && a[i:i+8] == b[i:i+8] {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// decoder decodes blocks; its read buffers are reused from block to
// block. The entries it returns share nothing with it.
type decoder struct {
	locs []*time.Location
	read []byte // the block as read
	// wins, when not nil, are windows of the file read ahead: All
	// reads a listing's block, then, often, those of its siblings,
	// recorded about when it was.
	wins []window
	tick int
	// ahead is how many bytes a window reads (see source.read).
	ahead int64
}

// window is a part of the file as read, at off.
type window struct {
	off  int64
	b    []byte
	last int // decoder.tick when last used
}

const (
	windowSize = 64 << 10
	windows    = 8
	minAhead   = 4 << 10
)

// readBuf returns a buffer of n bytes for reading a block.
func (d *decoder) readBuf(n int64) []byte {
	if int64(cap(d.read)) < n {
		d.read = make([]byte, n)
	}
	return d.read[:n]
}

// reader reads varints and bytes from a part of a block; past its end
// or at a bad varint it keeps its first error and yields zeros.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	if len(r.b) > 0 && r.b[0] < 0x80 {
		v := r.b[0]
		r.b = r.b[1:]
		return uint64(v)
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

// varint reads what binary.AppendVarint wrote: a zigzag uvarint.
func (r *reader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.bad = true
		r.b = nil
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

// block decodes a block as read (with its checksum) of a listing of dir,
// that holds n entries.
func (d *decoder) block(b []byte, dir string, n int) ([]ftpaudit.Entry, error) {
	if len(b) < 4 {
		return nil, errCorrupt
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(body):]) {
		return nil, errCorrupt
	}
	return d.body(body, dir, n)
}

// body decodes a block without its checksum. It checks every length and
// reference against the block: corrupt bytes give errCorrupt (or, past
// the checksum, wrong entries), never a panic.
//
// Every string of the block is written once into a textBuf, and every
// field is a part of the string so far: one allocation per piece of
// about textPiece bytes of the block's text (see textBuf).
func (d *decoder) body(body []byte, dir string, n int) ([]ftpaudit.Entry, error) {
	r := reader{b: body}
	cnt, nx, ml, size := r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
	if r.bad || n <= 0 || n > maxBlockEntries || cnt != uint64(n) || nx > cnt || ml > uint64(len(r.b)) {
		return nil, errCorrupt
	}
	meta := reader{b: r.b[:ml]}
	text := reader{b: r.b[ml:]}
	// (Each Raw, made of text and the Raw before it, is at most the
	// text; so is each Name, and all literals together.)
	if size > uint64(n)*(2*uint64(len(text.b))+uint64(len(dir))+1)+uint64(len(text.b)) {
		return nil, errCorrupt
	}
	sb := textBuf{left: int(size)}

	es := make([]ftpaudit.Entry, n)
	var xs []ftpaudit.EntryExtra
	if nx > 0 {
		xs = make([]ftpaudit.EntryExtra, nx)
	}
	var prev [nFields]string
	var prevRaw string
	prevSec, prevLoc := int64(0), noLoc
	nextX := 0
	for i := range es {
		e := &es[i]
		h := meta.uvarint()
		if h&^hKnown != 0 {
			return nil, errCorrupt
		}
		typ := h & hType
		if typ == hType {
			if typ = meta.uvarint(); typ > 255 {
				return nil, errCorrupt
			}
		}
		e.Type = ftpaudit.EntryType(typ)

		k, sl := meta.uvarint(), meta.uvarint()
		if k > uint64(len(prevRaw)) || sl > uint64(len(text.b)) {
			return nil, errCorrupt
		}
		// Room for the line, and for the path and a name no longer than
		// the line (literals beyond that grow the piece).
		sb.entry(2*int(k+sl) + len(dir) + 1)
		start := sb.len()
		sb.writeString(prevRaw[:k])
		sb.write(text.bytes(sl))
		raw := sb.string()[start:]
		e.Raw, prevRaw = raw, raw

		e.Name = d.ref(&meta, &text, &sb, &prev[fName], raw)
		e.Mode = d.ref(&meta, &text, &sb, &prev[fMode], raw)
		e.Owner = d.ref(&meta, &text, &sb, &prev[fOwner], raw)
		e.Group = d.ref(&meta, &text, &sb, &prev[fGroup], raw)
		if h&hPath != 0 {
			e.Path = d.ref(&meta, &text, &sb, &prev[fPath], raw)
		} else {
			off := sb.len()
			if dir != "/" {
				sb.writeString(dir)
			}
			sb.writeByte('/')
			sb.writeString(e.Name)
			e.Path = sb.string()[off:]
		}
		e.Size = int64(meta.uvarint() - 1)

		switch tk := h >> hTimeShift & 3; tk {
		case tSec, tMin:
			if prevLoc < 0 {
				return nil, errCorrupt
			}
			dv := meta.varint()
			if tk == tMin {
				dv *= 60
			}
			prevSec += dv
			e.Modified = time.Unix(prevSec, 0).In(d.locs[prevLoc])
		case tFull:
			lr, dv, ns := meta.uvarint(), meta.varint(), meta.uvarint()
			if ns >= 1e9 {
				return nil, errCorrupt
			}
			prevSec += dv
			var loc *time.Location
			if lr == 0 {
				off := meta.varint()
				loc = time.FixedZone(d.ref(&meta, &text, &sb, nil, raw), int(off))
				prevLoc = noLoc
			} else {
				if lr > uint64(len(d.locs)) {
					return nil, errCorrupt
				}
				prevLoc = int(lr - 1)
				loc = d.locs[prevLoc]
			}
			e.Modified = time.Unix(prevSec, int64(ns)).In(loc)
		}

		if h&hExtra != 0 {
			if nextX >= len(xs) {
				return nil, errCorrupt
			}
			x := &xs[nextX]
			nextX++
			e.Extra = x
			xf := meta.uvarint()
			if xf > 1 {
				return nil, errCorrupt
			}
			x.Perm = d.ref(&meta, &text, &sb, &prev[fPerm], raw)
			x.Unique = d.ref(&meta, &text, &sb, &prev[fUnique], raw)
			x.FactsRaw = d.ref(&meta, &text, &sb, &prev[fFactsRaw], raw)
			x.ListRaw = d.ref(&meta, &text, &sb, &prev[fListRaw], raw)
			x.Target = d.ref(&meta, &text, &sb, &prev[fTarget], raw)
			if xf == 1 {
				nf := meta.uvarint()
				if nf > uint64(len(meta.b)) { // (two bytes at least per fact)
					return nil, errCorrupt
				}
				x.Facts = make(map[string]string, nf)
				for range nf {
					k := d.ref(&meta, &text, &sb, nil, raw)
					x.Facts[k] = d.ref(&meta, &text, &sb, nil, raw)
				}
			}
		}
		if meta.bad || text.bad {
			return nil, errCorrupt
		}
	}
	if nextX != len(xs) || len(meta.b) != 0 || len(text.b) != 0 || uint64(sb.total) != size {
		return nil, errCorrupt
	}
	return es, nil
}

// ref decodes a string reference: a part of raw, the field's previous
// value (prev; nil: none), or bytes of the text, written to sb. A bad
// reference marks meta bad and gives "".
func (d *decoder) ref(meta, text *reader, sb *textBuf, prev *string, raw string) string {
	tag := meta.uvarint()
	p := tag >> 3
	var s string
	switch tag & 7 {
	case refEmpty:
		if p != 0 {
			meta.bad = true
		}
	case refPrev:
		if prev == nil || p != 0 {
			meta.bad = true
			return ""
		}
		s = *prev
	case refPrefix:
		if p > uint64(len(raw)) {
			meta.bad = true
			return ""
		}
		s = raw[:p]
	case refSuffix:
		if p > uint64(len(raw)) {
			meta.bad = true
			return ""
		}
		s = raw[uint64(len(raw))-p:]
	case refInside:
		n := meta.uvarint()
		if p > uint64(len(raw)) || n > uint64(len(raw))-p {
			meta.bad = true
			return ""
		}
		s = raw[p : p+n]
	case refLiteral:
		off := sb.len()
		sb.write(text.bytes(p))
		s = sb.string()[off:]
	default:
		meta.bad = true
		return ""
	}
	if prev != nil {
		*prev = s
	}
	return s
}

// textBuf holds the strings of a block's entries in pieces of about
// textPiece bytes, each entry's in one piece: a string a caller keeps
// (a directory's path, a finding's) keeps its piece in memory, not the
// block's whole text.
type textBuf struct {
	sb    strings.Builder
	total int // bytes written
	left  int // bytes of the block's text not yet written
}

// textPiece is the size of a piece; a new one starts before an entry
// when less than the entry needs, and at least textRoom, is left in the
// current one.
const textPiece, textRoom = 1024, 256

// entry starts an entry that needs about need bytes: in a new piece when
// the current one has not the room (a piece of textPiece, or need when
// larger). (An entry larger than that grows the piece: the strings made
// before stay valid, in the piece they were made in.)
func (t *textBuf) entry(need int) {
	need = max(min(need, t.left), textRoom)
	if t.sb.Cap()-t.sb.Len() < need {
		t.sb = strings.Builder{}
		t.sb.Grow(max(min(textPiece, t.left), need))
	}
}

func (t *textBuf) len() int { return t.sb.Len() }

func (t *textBuf) string() string { return t.sb.String() }

func (t *textBuf) writeString(s string) {
	t.sb.WriteString(s)
	t.total += len(s)
	t.left -= len(s)
}

func (t *textBuf) write(b []byte) {
	t.sb.Write(b)
	t.total += len(b)
	t.left -= len(b)
}

func (t *textBuf) writeByte(c byte) {
	t.sb.WriteByte(c)
	t.total++
	t.left--
}
