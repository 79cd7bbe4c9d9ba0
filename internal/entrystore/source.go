package entrystore

import (
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// source is a sealed Store: an ftpaudit.EntrySource.
type source struct {
	ls    []listing // by dir, then seq
	order []int32   // ls by key, then seq, when that is not the order of ls
	side  map[string]int32
	n     int
	f     *os.File
	fname string
	fsize int64 // bytes written to f
	locs  []*time.Location

	mu     sync.Mutex
	err    error
	closed bool
	// rewrite is applied to every spilled entry read back (Rewrite).
	rewrite func(*ftpaudit.Entry) bool
	// mat, once a rewrite has moved an entry in path order, is every
	// entry, in memory, sorted again: All and Finder serve it.
	mat []ftpaudit.Entry
}

var _ ftpaudit.EntrySource = (*source)(nil)

// Len is the number of entries.
func (s *source) Len() int { return s.n }

// Err is the first error reading the entries back.
func (s *source) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *source) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Close closes (and so deletes) the spill file.
func (s *source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.f == nil {
		return nil
	}
	s.closed = true
	err := s.f.Close()
	if s.fname != "" {
		if rerr := os.Remove(s.fname); err == nil {
			err = rerr
		}
	}
	return err
}

// byKey is the k-th listing in the order All opens them.
func (s *source) byKey(k int) *listing {
	if s.order != nil {
		return &s.ls[s.order[k]]
	}
	return &s.ls[k]
}

// load returns the entries of block b of a listing: the listing's own
// when it is held in memory, else read and decoded.
func (s *source) load(d *decoder, l *listing, b int) ([]ftpaudit.Entry, error) {
	if es := l.held(); es != nil {
		return es, nil
	}
	if s.f == nil {
		return nil, fmt.Errorf("entrystore: no spill file for a listing spilled")
	}
	br := l.block(b)
	buf, err := s.read(d, br)
	if err != nil {
		// (No path in the error: it is not redacted, see Rewrite.)
		return nil, fmt.Errorf("entrystore: reading a listing back (%d bytes at %d): %w", br.size, br.off, err)
	}
	es, err := d.block(buf, l.dir, br.n)
	if err != nil {
		return nil, fmt.Errorf("%w (a listing's block, %d bytes at %d)", err, br.size, br.off)
	}
	s.mu.Lock()
	rw := s.rewrite
	s.mu.Unlock()
	if rw != nil {
		for i := range es {
			rw(&es[i])
		}
	}
	return es, nil
}

// Rewrite applies f to every entry: at once to those held in memory, in
// place, and to each spilled one as it is read back from then on (after
// earlier rewrites), counting the spilled entries f changes in one pass
// over them. It returns how many entries f changed (of the spilled ones,
// those counted before a read error, which Err then reports).
//
// f may change an entry's Path (a password in a file name becomes
// [REDACTED]). A file's new path that keeps its listing (and its block)
// in order changes nothing else. One that may not (a directory's, whose
// listing is found by its old path; one at a block's edge; one outside
// its listing's directory; one out of order among its neighbours) makes
// the source read back once more, in full, and keep every entry in
// memory, sorted again (of equal paths, in the order of the listings'
// filing): a rare case (a server that echoes the scan's password in a
// name), and the path order every reader relies on must hold.
func (s *source) Rewrite(f func(*ftpaudit.Entry) bool) int {
	n := 0
	if s.mat != nil {
		// A new slice: entries a reader kept stay what they were.
		mat := slices.Clone(s.mat)
		moved := false
		for i := range mat {
			old := mat[i].Path
			if f(&mat[i]) {
				n++
				moved = moved || mat[i].Path != old
			}
		}
		if moved {
			sortByPath(mat)
		}
		s.mat = mat
		return n
	}
	moved := false
	// run applies f to es, the entries of l held or of one of its
	// blocks (edges: the listing has several blocks, whose first and
	// last entries bound the others').
	run := func(l *listing, es []ftpaudit.Entry, edges bool) {
		changed := false
		for k := range es {
			e := &es[k]
			old := e.Path
			if !f(e) {
				continue
			}
			n++
			if e.Path == old {
				continue
			}
			changed = true
			if dir, _ := ftppath.Split(old); e.Type == ftpaudit.TypeDir || dir != l.dir || l.x != nil && l.x.keyed ||
				edges && (k == 0 || k == len(es)-1) {
				moved = true
			}
		}
		for k := 1; changed && k < len(es); k++ {
			if es[k-1].Path >= es[k].Path {
				moved = true
			}
		}
	}
	for i := range s.ls {
		if es := s.ls[i].held(); es != nil {
			run(&s.ls[i], es, false)
		}
	}
	d := decoder{locs: s.locs}
spilled:
	for i := range s.ls {
		l := &s.ls[i]
		if l.held() != nil {
			continue
		}
		for b := range l.nblocks() {
			es, err := s.load(&d, l, b)
			if err != nil {
				s.setErr(err)
				break spilled
			}
			run(l, es, l.nblocks() > 1)
		}
	}
	s.mu.Lock()
	if prev := s.rewrite; prev != nil {
		s.rewrite = func(e *ftpaudit.Entry) bool {
			a := prev(e)
			return f(e) || a
		}
	} else {
		s.rewrite = f
	}
	s.mu.Unlock()
	if moved {
		s.mat = s.materialize(&d)
	}
	return n
}

// materialize returns every entry (rewritten), sorted by path; of equal
// paths, in the order of their listings' filing (seq) and within one
// listing in its order, as All gives them. It stops at a read error
// (which Err then reports).
func (s *source) materialize(d *decoder) []ftpaudit.Entry {
	bySeq := make([]int, len(s.ls))
	for i := range bySeq {
		bySeq[i] = i
	}
	slices.SortStableFunc(bySeq, func(a, b int) int { return s.ls[a].seq - s.ls[b].seq })
	mat := make([]ftpaudit.Entry, 0, s.n)
	for _, i := range bySeq {
		l := &s.ls[i]
		if es := l.held(); es != nil {
			mat = append(mat, es...)
			continue
		}
		for b := range l.nblocks() {
			es, err := s.load(d, l, b)
			if err != nil {
				s.setErr(err)
				sortByPath(mat)
				return mat
			}
			mat = append(mat, es...)
		}
	}
	sortByPath(mat)
	return mat
}

// read reads a block, from d's windows when it has them (and the block
// is smaller than a window). How far a window reads ahead adapts: it
// doubles when blocks are found in windows read before (listings
// written in the order All reads them), and halves when they are not
// (listings written in the order a walk of many sessions filed them,
// scattered over the file: reading 64 KiB for a block of one small
// directory made each pass over 10 million entries read the file
// sixty times over).
func (s *source) read(d *decoder, br blockRef) ([]byte, error) {
	if d.wins == nil || br.size >= windowSize {
		buf := d.readBuf(br.size)
		return buf, readFull(s.f, buf, br.off)
	}
	d.tick++
	lru := &d.wins[0]
	for i := range d.wins {
		w := &d.wins[i]
		if br.off >= w.off && br.off+br.size <= w.off+int64(len(w.b)) {
			w.last = d.tick
			d.ahead = min(2*d.ahead+minAhead, windowSize)
			return w.b[br.off-w.off:][:br.size], nil
		}
		if w.last < lru.last {
			lru = w
		}
	}
	d.ahead /= 2
	n := max(br.size, min(d.ahead, s.fsize-br.off))
	if int64(cap(lru.b)) < n {
		lru.b = make([]byte, n)
	}
	lru.off, lru.b, lru.last = br.off, lru.b[:n], d.tick
	if err := readFull(s.f, lru.b, br.off); err != nil {
		lru.b = lru.b[:0]
		return nil, err
	}
	return lru.b[:br.size], nil
}

func readFull(f *os.File, buf []byte, off int64) error {
	if n, err := f.ReadAt(buf, off); n < len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// cursor is a listing being merged: es[i] is its next entry, es is its
// block b.
type cursor struct {
	l  *listing
	es []ftpaudit.Entry
	i  int
	b  int
}

// before orders cursors by their next entry's path, then by seq.
func before(a, b *cursor) bool {
	if c := strings.Compare(a.es[a.i].Path, b.es[b.i].Path); c != 0 {
		return c < 0
	}
	return a.l.seq < b.l.seq
}

// cursorHeap is a binary min-heap of cursors (before).
type cursorHeap []*cursor

func (h *cursorHeap) push(c *cursor) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !before(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *cursorHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	*h = s[:n]
	h.down()
}

// down restores the heap after its top cursor moved on.
func (h cursorHeap) down() {
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && before(h[r], h[l]) {
			m = r
		}
		if !before(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// All yields every entry in path order, of entries with the same path
// those of the listing recorded first first: a merge of the listings,
// each opened only once the merge reaches its key (its directory: no
// entry of a listing sorts before its directory's path, but for a Path
// not under it, and then its first path is the key), so that the heap
// holds about as many listings as the tree is deep. A read error stops
// it and is kept for Err.
func (s *source) All() iter.Seq[*ftpaudit.Entry] {
	if mat := s.mat; mat != nil {
		return func(yield func(*ftpaudit.Entry) bool) {
			for i := range mat {
				if !yield(&mat[i]) {
					return
				}
			}
		}
	}
	return func(yield func(*ftpaudit.Entry) bool) {
		d := decoder{locs: s.locs, wins: make([]window, windows), ahead: windowSize}
		var h cursorHeap
		next, nextKey := 0, ""
		if len(s.ls) > 0 {
			nextKey = s.byKey(0).key()
		}
		for {
			for next < len(s.ls) && (len(h) == 0 || nextKey <= h[0].es[h[0].i].Path) {
				l := s.byKey(next)
				if next++; next < len(s.ls) {
					nextKey = s.byKey(next).key()
				}
				es, err := s.load(&d, l, 0)
				if err != nil {
					s.setErr(err)
					return
				}
				h.push(&cursor{l: l, es: es})
			}
			if len(h) == 0 {
				return
			}
			// The top cursor's entries up to the next of another
			// cursor or listing go at once, without the heap.
			c := h[0]
			for end := c.runEnd(h, nextKey, next < len(s.ls)); c.i < end; c.i++ {
				if !yield(&c.es[c.i]) {
					return
				}
			}
			if c.i == len(c.es) {
				if c.b+1 == c.l.nblocks() || c.l.held() != nil {
					h.pop()
					continue
				}
				c.b++
				es, err := s.load(&d, c.l, c.b)
				if err != nil {
					s.setErr(err)
					return
				}
				c.es, c.i = es, 0
			}
			h.down()
		}
	}
}

// runEnd returns the end of the run of the entries of c, the top of h,
// that come before the next entry of every other cursor, and before
// nextKey when there is a listing still to open (more): all of es when
// its last entry does (as a listing without subdirectories below it
// does), else found by binary search. The run holds c's next entry at
// least.
func (c *cursor) runEnd(h cursorHeap, nextKey string, more bool) int {
	var lim string
	has, incl := false, false // incl: entries at lim go first too
	if len(h) > 1 {
		o := h[1]
		if len(h) > 2 && before(h[2], h[1]) {
			o = h[2]
		}
		lim, has, incl = o.es[o.i].Path, true, c.l.seq < o.l.seq
	}
	if more && (!has || nextKey <= lim) {
		lim, has, incl = nextKey, true, false
	}
	if !has {
		return len(c.es)
	}
	ok := func(p string) bool { return p < lim || incl && p == lim }
	if ok(c.es[len(c.es)-1].Path) {
		return len(c.es)
	}
	rest := c.es[c.i+1:]
	return c.i + 1 + sort.Search(len(rest), func(j int) bool { return !ok(rest[j].Path) })
}

// Finder returns a lookup of the entry at a path (nil when none; of
// entries sharing a path, the last one All yields), for one goroutine. A
// read error gives nil and is kept for Err.
func (s *source) Finder() func(path string) *ftpaudit.Entry {
	if mat := s.mat; mat != nil {
		return func(p string) *ftpaudit.Entry {
			i := sort.Search(len(mat), func(i int) bool { return mat[i].Path > p })
			if i > 0 && mat[i-1].Path == p {
				return &mat[i-1]
			}
			return nil
		}
	}
	f := &finder{s: s, d: decoder{locs: s.locs}}
	for i := range f.cache {
		f.cache[i].l = -1
	}
	return f.find
}

// finder keeps a few decoded blocks (callers ask about one directory
// many times in a row) and its last answer.
type finder struct {
	s        *source
	d        decoder
	cache    [4]cachedBlock // most recently used first
	lastPath string
	last     *ftpaudit.Entry
	lastOK   bool
}

type cachedBlock struct {
	l, b int
	es   []ftpaudit.Entry
}

func (f *finder) find(p string) *ftpaudit.Entry {
	if f.lastOK && f.lastPath == p {
		return f.last
	}
	e := f.lookup(p)
	f.lastPath, f.last, f.lastOK = p, e, true
	return e
}

func (f *finder) lookup(p string) *ftpaudit.Entry {
	ls := f.s.ls
	dir, _ := ftppath.Split(p)
	lo := sort.Search(len(ls), func(i int) bool { return ls[i].dir >= dir })
	hi := lo
	for hi < len(ls) && ls[hi].dir == dir {
		hi++
	}
	// The listings of dir from the last recorded: the first that has p.
	var found *ftpaudit.Entry
	seq := 0
	for i := hi - 1; i >= lo; i-- {
		if e := f.inListing(i, p); e != nil {
			found, seq = e, ls[i].seq
			break
		}
	}
	// A listing of another directory that has p (a name with a "/").
	if j, ok := f.s.side[p]; ok && (found == nil || ls[j].seq > seq) {
		if e := f.inListing(int(j), p); e != nil {
			found = e
		}
	}
	return found
}

// inListing returns the last entry at p of listing li, nil when none.
func (f *finder) inListing(li int, p string) *ftpaudit.Entry {
	l := &f.s.ls[li]
	es := l.held()
	if es == nil {
		b := 0
		if n := l.nblocks(); n > 1 {
			b = sort.Search(n, func(k int) bool { return l.x.blocks[k].first > p }) - 1
			if b < 0 {
				return nil
			}
		}
		var err error
		if es, err = f.block(li, b); err != nil {
			f.s.setErr(err)
			return nil
		}
	}
	i := sort.Search(len(es), func(i int) bool { return es[i].Path > p })
	if i > 0 && es[i-1].Path == p {
		return &es[i-1]
	}
	return nil
}

// block returns block b of listing li, from the cache or decoded.
func (f *finder) block(li, b int) ([]ftpaudit.Entry, error) {
	for k, c := range f.cache {
		if c.l == li && c.b == b {
			copy(f.cache[1:k+1], f.cache[:k])
			f.cache[0] = c
			return c.es, nil
		}
	}
	es, err := f.s.load(&f.d, &f.s.ls[li], b)
	if err != nil {
		return nil, err
	}
	copy(f.cache[1:], f.cache[:len(f.cache)-1])
	f.cache[0] = cachedBlock{l: li, b: b, es: es}
	return es, nil
}
