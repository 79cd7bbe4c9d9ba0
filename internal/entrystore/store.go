// Package entrystore keeps a walk's listings and serves them back in
// path order, as an ftpaudit.EntrySource, without holding every entry in
// memory: listings are kept as they come (their []ftpaudit.Entry) while
// their estimated size stays under a budget; past it, they are encoded
// compactly and written to an unlinked temporary file, and only a small
// index (a listing's directory, record order and block offsets) stays in
// memory. Reading back (All) is a lazy k-way merge of the listings, each
// in path order, that opens a listing only once the merge reaches its
// directory and decodes one block of it at a time; a lookup (Finder)
// searches the listings of the path's parent directory, and a small side
// index of the entries not under their listing's directory (a name with
// a "/").
//
// # Spill file format
//
// The file is a sequence of blocks; a listing is one or more blocks (of
// at most 4096 entries, and ending once its text passes 1 MiB), in path
// order. The file is private to the process (it is removed right after
// it is created), and only the in-memory index says where a block is and
// how many entries it holds. A block is:
//
//	uvarint n          entries
//	uvarint nExtra     entries with an Extra
//	uvarint metaLen
//	uvarint size       bytes of the block's strings, decoded
//	meta               metaLen bytes: n entry records
//	text               the bytes the records take in turn
//	uint32 crc         CRC-32C (Castagnoli) of all the above, little-endian
//
// An entry record is (uvarint: unsigned LEB128; varint: zig-zag):
//
//	byte     header: bits 0-2 Type (7: a uvarint Type follows), bits 3-4
//	         how Modified is stored, bit 5 Extra present, bit 6 Path stored
//	uvarint  Raw: bytes shared with the previous entry's Raw
//	uvarint  Raw: bytes that follow, taken from the text
//	ref      Name, Mode, Owner, Group
//	ref      Path, when stored (otherwise it is ftppath.Append(dir, Name))
//	uvarint  Size + 1 (two's complement: -1 is 0)
//	Modified by the header's time bits:
//	  0 the zero Time
//	  1 the previous entry's location: varint delta seconds to the
//	    previous time of the block
//	  2 the same, the delta in minutes
//	  3 uvarint location (index+1 in the store's table of *time.Location;
//	    0: a zone by name and offset), varint delta seconds, uvarint
//	    nanoseconds; for a zone by name: varint offset, ref name
//	when Extra is present:
//	  uvarint  1 when Facts is not nil, else 0
//	  ref      Perm, Unique, FactsRaw, ListRaw, Target
//	  when Facts is not nil: uvarint count, then ref key, ref value each
//
// A ref is a string: a uvarint tag, kind (low 3 bits) and parameter p
// (the rest): 0 "", 1 the previous entry's value of the field (within
// the block), 2 Raw[:p], 3 the last p bytes of Raw, 4 Raw[p:p+n] with a
// uvarint n following, 5 p bytes from the text. Since a Unix LIST line
// holds its entry's mode, owner, group and name, and lines of a listing
// share their beginnings, such an entry takes little more than the part
// of its line that differs from the line before.
//
// Every field round-trips exactly (reflect.DeepEqual), Modified with
// its very *time.Location (of the first 256 locations; past them, a time
// keeps its instant, zone name and offset), but for a monotonic clock
// reading (which listings do not have). A block decodes into one []ftpaudit.Entry and
// one string holding every Raw, Path and other string of the block, so
// that an entry costs no allocation of its own (except an Extra, one
// array per block, and a Facts map).
package entrystore

import (
	"cmp"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// Options configure a Store.
type Options struct {
	// Dir is the directory of the spill file; "" is os.TempDir().
	Dir string
	// SpillAfter is the estimated size in bytes of the entries held in
	// memory past which listings are spilled to the file: 0 (or less)
	// never spills, 1 spills every listing. Once it is passed, every
	// listing added after is spilled; those held stay held (so that a
	// walk a little past the budget decodes only what went past it).
	SpillAfter int64
}

// flushAt is the most encoded bytes of one listing held before they are
// written (a huge directory is written as it is encoded).
const flushAt = 4 << 20

// Store collects a walk's listings (Add), then serves them (Seal).
type Store struct {
	opt  Options
	locs locTable
	encs sync.Pool // *encoder

	mu       sync.Mutex
	f        *os.File
	fname    string // the file's name, when it could not be removed
	size     int64  // bytes written to f
	ls       []listing
	heldEst  int64
	spilling bool
	n        int
	side     map[string]int // path -> highest seq of a listing with it outside its Split dir
	src      *source        // once sealed
}

// listing is one listing in the index.
type listing struct {
	dir  string
	seq  int
	n    int   // entries
	off  int64 // spilled: the offset of its (first) block
	size int64 // spilled: the size of its (first) block
	x    *listingExtra
}

// listingExtra is what most spilled listings lack.
type listingExtra struct {
	es     []ftpaudit.Entry // held in memory (sorted): nil once spilled
	key    string           // the path of its first entry, when keyed
	keyed  bool             // its first entry's path sorts before dir
	blocks []blockRef       // every block, when more than one
}

func (l *listing) held() []ftpaudit.Entry {
	if l.x == nil {
		return nil
	}
	return l.x.es
}

// key is a path that no entry of the listing sorts before.
func (l *listing) key() string {
	if l.x != nil && l.x.keyed {
		return l.x.key
	}
	return l.dir
}

func (l *listing) nblocks() int {
	if l.x != nil && l.x.blocks != nil {
		return len(l.x.blocks)
	}
	return 1
}

func (l *listing) block(i int) blockRef {
	if l.x != nil && l.x.blocks != nil {
		return l.x.blocks[i]
	}
	return blockRef{off: l.off, size: l.size, n: l.n}
}

// New returns an empty Store.
func New(opt Options) *Store {
	s := &Store{opt: opt}
	s.encs.New = func() any { return &encoder{locs: &s.locs} }
	return s
}

var errSealed = errors.New("entrystore: Add after Seal")

// Add files one listing of dir. Every entry's Path is normally
// ftppath.Append(dir, e.Name) (when not, the Path is stored as it is);
// names are distinct within the listing. sorted says es is in strictly
// increasing path order already (otherwise Add sorts it, stably by
// path). seq is the listing's record order: distinct for every listing;
// of entries with the same path, those of the lower seq come first. The
// store takes es over. Add may be called from several goroutines at
// once; the encoding of a listing to spill is done outside the store's
// lock. When the spill file cannot be created or written, Add returns the
// error and the listing is not kept.
func (s *Store) Add(seq int, dir string, es []ftpaudit.Entry, sorted bool) error {
	if len(es) == 0 {
		return nil
	}
	dir = strings.Clone(dir)
	p := prepare(dir, es, sorted)
	l := listing{dir: dir, seq: seq, n: len(es)}
	if p.keyed {
		l.x = &listingExtra{key: p.key, keyed: true}
	}

	s.mu.Lock()
	if s.src != nil {
		s.mu.Unlock()
		return errSealed
	}
	if !s.spilling && (s.opt.SpillAfter <= 0 || s.heldEst+p.est <= s.opt.SpillAfter) {
		if l.x == nil {
			l.x = &listingExtra{}
		}
		l.x.es = es
		s.ls = append(s.ls, l)
		s.heldEst += p.est
		s.keep(&l, &p)
		s.mu.Unlock()
		return nil
	}
	// Past the budget: this listing, and every later one, is spilled;
	// those held stay held.
	s.spilling = true
	s.mu.Unlock()

	enc := s.encs.Get().(*encoder)
	defer s.putEncoder(enc)
	blocks, err := s.spill(enc, dir, es)
	if err != nil {
		return err
	}
	l.setBlocks(blocks)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ls = append(s.ls, l)
	s.keep(&l, &p)
	return nil
}

// keep counts a listing just added (under s.mu).
func (s *Store) keep(l *listing, p *prepared) {
	s.n += l.n
	for _, path := range p.side {
		if s.side == nil {
			s.side = map[string]int{}
		}
		if q, ok := s.side[path]; !ok || l.seq > q {
			s.side[path] = l.seq
		}
	}
}

// setBlocks records where a spilled listing's blocks are.
func (l *listing) setBlocks(blocks []blockRef) {
	l.off, l.size = blocks[0].off, blocks[0].size
	if len(blocks) > 1 {
		if l.x == nil {
			l.x = &listingExtra{}
		}
		l.x.blocks = blocks
	}
	if l.x != nil && !l.x.keyed && l.x.es == nil && l.x.blocks == nil {
		l.x = nil
	}
}

func (s *Store) putEncoder(enc *encoder) {
	if cap(enc.out) > 2*flushAt || cap(enc.text) > 2*maxBlockText {
		return // (one huge line: let it go)
	}
	// Drop what refers to the caller's entries.
	enc.startBlock()
	clear(enc.blocks)
	clear(enc.keys[:cap(enc.keys)])
	s.encs.Put(enc)
}

// spill encodes a listing and writes it, returning where its blocks are
// (absolute offsets; first paths only when more than one).
func (s *Store) spill(enc *encoder, dir string, es []ftpaudit.Entry) ([]blockRef, error) {
	enc.reset()
	var blocks []blockRef
	flush := func() error {
		if len(enc.out) == 0 {
			return nil
		}
		off, err := s.write(enc.out)
		if err != nil {
			return err
		}
		for _, b := range enc.blocks {
			b.off += off
			blocks = append(blocks, b)
		}
		clear(enc.blocks)
		enc.out, enc.blocks = enc.out[:0], enc.blocks[:0]
		return nil
	}
	for i := range es {
		enc.add(dir, &es[i])
		if len(enc.out) >= flushAt {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	enc.finish()
	if err := flush(); err != nil {
		return nil, err
	}
	// Keep the first paths of a listing of several blocks (Finder picks
	// a block by them), as copies: es is the caller's.
	for i := range blocks {
		if len(blocks) == 1 {
			blocks[i].first = ""
		} else {
			blocks[i].first = strings.Clone(blocks[i].first)
		}
	}
	return blocks, nil
}

// write appends b to the spill file, creating it first, and returns
// where b starts.
func (s *Store) write(b []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		f, err := os.CreateTemp(s.opt.Dir, "ftpaudit-entries-*")
		if err != nil {
			return 0, err
		}
		if os.Remove(f.Name()) != nil {
			s.fname = f.Name() // (removed at Close instead)
		}
		s.f = f
	}
	if _, err := s.f.WriteAt(b, s.size); err != nil {
		return 0, err
	}
	off := s.size
	s.size += int64(len(b))
	return off, nil
}

// Len is the number of entries added (and kept).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Spilled is the number of bytes written to the spill file.
func (s *Store) Spilled() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Seal ends adding and returns the entries as a source, which owns the
// spill file (Close it). Add must not be called after Seal; calling Seal
// again returns the same source.
func (s *Store) Seal() ftpaudit.EntrySource {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src != nil {
		return s.src
	}
	ls := s.ls
	s.ls = nil
	slices.SortFunc(ls, func(a, b listing) int {
		if c := strings.Compare(a.dir, b.dir); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	src := &source{ls: ls, n: s.n, f: s.f, fname: s.fname, fsize: s.size, locs: s.locs.snapshot()}
	for i := range ls {
		if ls[i].key() != ls[i].dir {
			src.order = make([]int32, len(ls))
			for i := range src.order {
				src.order[i] = int32(i)
			}
			slices.SortFunc(src.order, func(a, b int32) int {
				if c := strings.Compare(ls[a].key(), ls[b].key()); c != 0 {
					return c
				}
				return cmp.Compare(ls[a].seq, ls[b].seq)
			})
			break
		}
	}
	if len(s.side) > 0 {
		at := make(map[int]int32, len(s.side))
		for _, seq := range s.side {
			at[seq] = -1
		}
		for i := range ls {
			if _, ok := at[ls[i].seq]; ok {
				at[ls[i].seq] = int32(i)
			}
		}
		src.side = make(map[string]int32, len(s.side))
		for path, seq := range s.side {
			src.side[path] = at[seq]
		}
	}
	s.side = nil
	s.src = src
	return src
}

// prepared is what Add learns of a listing before taking the lock.
type prepared struct {
	est   int64    // estimated bytes held
	key   string   // its first path, when keyed
	keyed bool     // its first path sorts before dir
	side  []string // paths whose ftppath.Split dir is not dir
}

// prepare sorts a listing (when it is not sorted) and looks at its
// entries.
func prepare(dir string, es []ftpaudit.Entry, sorted bool) prepared {
	var p prepared
	for i := range es {
		e := &es[i]
		p.est += estimate(e)
		if d, _ := ftppath.Split(e.Path); d != dir {
			p.side = append(p.side, strings.Clone(e.Path))
		}
		if sorted && i > 0 && es[i-1].Path >= e.Path {
			sorted = false
		}
	}
	if !sorted {
		sortByPath(es)
	}
	if es[0].Path < dir {
		p.key, p.keyed = strings.Clone(es[0].Path), true
	}
	return p
}

// sortByPath sorts es stably by path: indexes, then entries moved once.
func sortByPath(es []ftpaudit.Entry) {
	idx := make([]int32, len(es))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := strings.Compare(es[a].Path, es[b].Path); c != 0 {
			return c
		}
		return int(a - b)
	})
	permute(es, idx)
}

// permute reorders es in place so that es[i] becomes the old es[idx[i]],
// following cycles; idx is destroyed.
func permute(es []ftpaudit.Entry, idx []int32) {
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := es[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				es[j] = tmp
				break
			}
			es[j] = es[k]
			j = k
		}
	}
}

const (
	entrySize = int64(unsafe.Sizeof(ftpaudit.Entry{}))
	extraSize = int64(unsafe.Sizeof(ftpaudit.EntryExtra{}))
)

// estimate is about the bytes an entry holds: Name, Mode, Owner, Group
// and FactsRaw are counted as parts of Raw.
func estimate(e *ftpaudit.Entry) int64 {
	n := entrySize + int64(len(e.Path)+len(e.Raw))
	if x := e.Extra; x != nil {
		n += extraSize + int64(len(x.ListRaw)+len(x.Target)+64*len(x.Facts))
	}
	return n
}
