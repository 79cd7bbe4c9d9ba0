package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Snapshots in chunks (schema version 7).
//
// A full snapshot (a host's first save, every snapshotEvery-th, a save
// whose changes would exceed changeLimit, and a host prune rewrites
// whole) is stored as chunks: rows of the chunks table, each holding up
// to chunkEntries consecutive entries in key order (path, dup), or about
// chunkBytes of them, and keyed by the key of its first entry. Saving a
// million entries is then two thousand inserts of a BLOB instead of a
// million inserts of a row: SQLite's work per row, and the driver's per
// parameter, was most of a snapshot's cost. Deltas stay entries rows
// (chain.go): they are few, and a later delta's rows shadow them by key.
// Snapshots saved before version 7 stay entries rows, and are read as
// such: a host has chunks or entries rows, never both.
//
// A chunk holds its entries in two BLOBs, keys and data, each the
// entries' parts one after the other, in key order. Together they hold
// exactly what the entries' rows would hold, fingerprints included. An
// entry's part of keys is:
//
//	path   uvarint shared, uvarint n, n bytes: the first shared bytes of
//	       the previous entry's path (0 for a chunk's first), then these
//	dup    uvarint
//	fp     8 bytes, big-endian: the row's fingerprint (fingerprint.go)
//
// and its part of data, its rest, is a uvarint length, then that many
// bytes: the columns name to list_raw, in entryFields order, each a
// uvarint tag, 0 for NULL, else shared+1 followed by uvarint n and n
// bytes: the first shared bytes of the previous entry's value of the
// column (empty for a chunk's first entry, or after a NULL), then these.
//
// The columns' bytes are those the packed BLOB of an entries row holds
// (entries.go), and those its fingerprint is computed from: integers in
// decimal, MLSD facts in codec.go's form, the name NULL when it is the
// last part of the path. So an entry has one fingerprint however it is
// stored, and a read by fingerprint (a save, a comparison) reads only
// the keys column, a quarter of the bytes: SQLite does not read the
// data column's pages at all. A lean read (EntryAttrs) decodes each
// rest up to the target column and skips the others by its length.
// Sharing a prefix with the entry before (sorted paths, the raw lines
// of one directory, the same mode, owner and group) makes an entry
// about half the bytes of its row, and a value the same as the one
// before is read back without allocating.

// chunkEntries and chunkBytes bound a chunk: it ends after chunkEntries
// entries, or after the entry that brings it to chunkBytes.
const (
	chunkEntries = 512
	chunkBytes   = 64 << 10
)

// insertChunkSQL writes a chunk.
const insertChunkSQL = `INSERT INTO chunks (host_id, first, first_dup, n, keys, data) VALUES (?, ?, ?, ?, ?, ?)`

// chunkWriter encodes rows packed by a rowPacker, in key order, into
// chunks, and hands each to flush when it is full, and at its end.
type chunkWriter struct {
	flush   func(c *chunkBuf) error
	c       chunkBuf
	rest    []byte            // the current entry's rest
	prev    [numFields][]byte // the previous entry's values (fPath: its path)
	written int               // entries flushed
}

// chunkBuf is a chunk's row as it is written.
type chunkBuf struct {
	first      []byte
	firstDup   int64
	n          int
	keys, data []byte
}

// add appends the row p holds, of key dup, to the chunk, and flushes the
// chunk when it is full.
func (w *chunkWriter) add(p *rowPacker, dup int64) error {
	path, _ := p.field(fPath)
	c := &w.c
	if c.n == 0 {
		c.first = append(c.first[:0], path...)
		c.firstDup = dup
		c.keys, c.data = c.keys[:0], c.data[:0]
		for i := range w.prev {
			w.prev[i] = w.prev[i][:0]
		}
	}
	c.keys = appendShared(c.keys, &w.prev[fPath], path, 0)
	c.keys = binary.AppendUvarint(c.keys, uint64(dup))
	c.keys = binary.BigEndian.AppendUint64(c.keys, uint64(p.fp))
	w.rest = w.rest[:0]
	for i := fName; i < numFields; i++ {
		v, null := p.field(i)
		if null {
			w.rest = append(w.rest, 0)
			w.prev[i] = w.prev[i][:0]
			continue
		}
		w.rest = appendShared(w.rest, &w.prev[i], v, 1)
	}
	c.data = binary.AppendUvarint(c.data, uint64(len(w.rest)))
	c.data = append(c.data, w.rest...)
	if c.n++; c.n >= chunkEntries || len(c.keys)+len(c.data) >= chunkBytes {
		return w.end()
	}
	return nil
}

// end flushes the chunk, if it holds any entry. flush may take the
// chunk's buffers, and leave others in their place.
func (w *chunkWriter) end() error {
	n := w.c.n
	if n == 0 {
		return nil
	}
	err := w.flush(&w.c)
	w.c.n = 0
	if err != nil {
		return err
	}
	w.written += n
	return nil
}

// encodedChunk is a chunk encodeAhead encoded, or its error.
type encodedChunk struct {
	chunkBuf
	err  error
	free chan *encodedChunk
}

// release gives c's buffers back to encodeAhead, once inserted.
func (c *encodedChunk) release() {
	select {
	case c.free <- c:
	default:
	}
}

// encodeAhead reads the entries of h in key order (keyed), and packs,
// fingerprints and encodes them into chunks, in a goroutine of its own, a
// few chunks ahead of the receiver; an error (ctx's, checked every 1024
// entries, or reading the entries back) comes as the last chunk. stop
// ends the goroutine and waits for it. Each chunk received should be
// released once inserted, so that its buffers are used again.
func encodeAhead(ctx context.Context, key []byte, h *ftpaudit.HostResult) (<-chan *encodedChunk, func()) {
	const ahead = 2
	ch := make(chan *encodedChunk, ahead)
	free := make(chan *encodedChunk, ahead+2) // every chunk there is fits
	done := make(chan struct{})
	errStopped := errors.New("stopped")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		send := func(c *encodedChunk) bool {
			select {
			case ch <- c:
				return true
			case <-done:
				return false
			}
		}
		w := chunkWriter{flush: func(b *chunkBuf) error {
			var c *encodedChunk
			select {
			case c = <-free:
			default:
				c = &encodedChunk{free: free}
			}
			// The chunk takes the writer's buffers, the writer its old ones.
			c.chunkBuf, *b = *b, c.chunkBuf
			if !send(c) {
				return errStopped
			}
			return nil
		}}
		p := newChunkPacker(key)
		k := 0
		var readErr error
		for e, dup := range keyed(h, &readErr) {
			if k&1023 == 0 {
				if err := ctx.Err(); err != nil {
					send(&encodedChunk{err: err})
					return
				}
			}
			k++
			p.pack(e, dup)
			if err := w.add(p, dup); err != nil {
				return // stopped
			}
		}
		if readErr != nil {
			send(&encodedChunk{err: readErr})
			return
		}
		_ = w.end()
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
	return ch, stop
}

// appendShared appends v to b as the bytes it shares with *prev (their
// common prefix's length plus tag, a uvarint), then the length and bytes
// of the rest, and makes *prev v.
func appendShared(b []byte, prev *[]byte, v []byte, tag uint64) []byte {
	k := sharedPrefix(*prev, v)
	b = binary.AppendUvarint(b, uint64(k)+tag)
	b = binary.AppendUvarint(b, uint64(len(v)-k))
	b = append(b, v[k:]...)
	*prev = append((*prev)[:k], v[k:]...)
	return b
}

// sharedPrefix returns the length of the common prefix of a and b.
func sharedPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < n && a[i] == b[i]; i++ {
	}
	return i
}

// chunkReader decodes the entries of one chunk at a time: their keys
// and fingerprints, and, unless it reads keys only, their rests.
type chunkReader struct {
	keys, data []byte // what is not yet read of each column
	keysOnly   bool   // data is not read
	left       int    // entries not yet read
	n          int    // entries read in the chunk
	// The current entry: its key, fingerprint and undecoded rest.
	path []byte
	dup  int64
	fp   int64
	rest []byte
	cols [numFields]chunkCol // the columns after path, as of the last entry applied
	lean bool                // apply decodes the lean columns only (entryColsLean)
	// interned holds the values of columns with few distinct values
	// (type, mode, owner, group, perm), as entryRow.intern does.
	interned map[string]string
}

// chunkCol is a column's value in a chunkReader.
type chunkCol struct {
	b    []byte
	null bool
	s    string // b as a string, when sOK
	sOK  bool
	v    int64 // b as an integer, when vOK
	vOK  bool
}

// errChunk reports a damaged chunk.
func errChunk(why string) error { return fmt.Errorf("chunk: %w (%s)", errCodec, why) }

// start makes r read a chunk of n entries: its keys column, and its data
// column unless r.keysOnly.
func (r *chunkReader) start(keys, data []byte, n int64) error {
	// An entry takes at least 11 bytes of keys and 15 of data.
	if n <= 0 || n > int64(len(keys))/11 || (!r.keysOnly && n > int64(len(data))/15) {
		return errChunk(fmt.Sprintf("%d entries in %d and %d bytes", n, len(keys), len(data)))
	}
	r.keys, r.data, r.left, r.n = keys, data, int(n), 0
	r.path = r.path[:0]
	for i := range r.cols {
		c := &r.cols[i]
		*c = chunkCol{b: c.b[:0], null: true, sOK: true}
	}
	return nil
}

// next reads the key and fingerprint of the next entry, and its rest
// unless r.keysOnly; the rest is decoded by apply, or skipped. It checks
// that keys ascend.
func (r *chunkReader) next() error {
	if r.left == 0 {
		return errChunk("no entry left")
	}
	d := decoder{b: r.keys}
	k, m := d.uvarint(), d.uvarint()
	if d.err != nil || k > uint64(len(r.path)) || m > uint64(len(d.b)) {
		return errChunk("path")
	}
	suffix := d.b[:m]
	d.b = d.b[m:]
	samePath := false
	if r.n > 0 {
		switch {
		case m == 0 && k == uint64(len(r.path)):
			samePath = true
		case m == 0 || (k < uint64(len(r.path)) && suffix[0] <= r.path[k]):
			return errChunk("paths out of order")
		}
	}
	r.path = append(r.path[:k], suffix...)
	dup := int64(d.uvarint())
	if d.err != nil || len(d.b) < 8 {
		return errChunk("dup or fingerprint")
	}
	if samePath && dup <= r.dup {
		return errChunk("dups out of order")
	}
	r.dup = dup
	r.fp = int64(binary.BigEndian.Uint64(d.b))
	r.keys = d.b[8:]
	if !r.keysOnly {
		d = decoder{b: r.data}
		l := d.uvarint()
		if d.err != nil || l > uint64(len(d.b)) {
			return errChunk("rest length")
		}
		r.rest, r.data = d.b[:l], d.b[l:]
	}
	r.left--
	r.n++
	if r.left == 0 && (len(r.keys) != 0 || (len(r.data) != 0 && !r.keysOnly)) {
		return errChunk("bytes after the last entry")
	}
	return nil
}

// apply decodes the current entry's rest into r.cols: the lean columns
// only when r.lean. The entries of a chunk must be applied all or none:
// each holds its values as changes from the one before.
func (r *chunkReader) apply() error {
	d := decoder{b: r.rest}
	last := numFields
	if r.lean {
		last = fFacts
	}
	for i := fName; i < last; i++ {
		c := &r.cols[i]
		t := d.uvarint()
		if d.err != nil {
			return errChunk("column tag")
		}
		if t == 0 {
			if !c.null {
				*c = chunkCol{b: c.b[:0], null: true, sOK: true}
			}
			continue
		}
		k, m := t-1, d.uvarint()
		if d.err != nil || k > uint64(len(c.b)) || m > uint64(len(d.b)) {
			return errChunk("column")
		}
		if m == 0 && k == uint64(len(c.b)) && !c.null {
			continue // the value before
		}
		c.b = append(c.b[:k], d.b[:m]...)
		d.b = d.b[m:]
		c.null, c.sOK, c.vOK = false, false, false
	}
	if !r.lean && len(d.b) != 0 {
		return errChunk("bytes after the last column")
	}
	return nil
}

// str returns column i as a string ("" for NULL).
func (r *chunkReader) str(i int) string {
	c := &r.cols[i]
	if !c.sOK {
		c.s, c.sOK = string(c.b), true
	}
	return c.s
}

// istr is str for a column of few distinct values: the same string for
// the same bytes, while fewer than maxInterned values were seen.
func (r *chunkReader) istr(i int) string {
	c := &r.cols[i]
	if !c.sOK {
		s, ok := r.interned[string(c.b)]
		if !ok {
			s = string(c.b)
			if r.interned == nil {
				r.interned = map[string]string{}
			}
			if len(r.interned) < maxInterned {
				r.interned[s] = s
			}
		}
		c.s, c.sOK = s, true
	}
	return c.s
}

// num returns column i as an integer, or null.
func (r *chunkReader) num(i int) (v int64, null bool, err error) {
	c := &r.cols[i]
	if c.null {
		return 0, true, nil
	}
	if !c.vOK {
		var ok bool
		if c.v, ok = parseDecimal(c.b); !ok {
			return 0, false, errChunk(fmt.Sprintf("%s %q", entryFields[i].col, c.b))
		}
		c.vOK = true
	}
	return c.v, false, nil
}

// parseDecimal reads an integer as strconv.AppendInt writes it.
func parseDecimal(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 || (b[0] == '0' && (len(b) > 1 || neg)) {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), true
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// entry returns the current entry, applied, as an Entry: lean (without
// facts and raw lines) when r.lean. It is what entryRow.scan reads from
// the same row.
func (r *chunkReader) entry() (ftpaudit.Entry, error) {
	var e ftpaudit.Entry
	e.Path = string(r.path)
	if r.cols[fName].null {
		e.Name = e.Path[strings.LastIndexByte(e.Path, '/')+1:]
	} else {
		e.Name = r.str(fName)
	}
	typ := r.istr(fType)
	var ok bool
	if e.Type, ok = ftpaudit.ParseEntryType(typ); !ok {
		return e, fmt.Errorf("entry %q: unknown type %q", e.Path, typ)
	}
	size, null, err := r.num(fSize)
	if err == nil && null {
		err = errChunk("size NULL")
	}
	if err != nil {
		return e, fmt.Errorf("entry %q: %w", e.Path, err)
	}
	e.Size = size
	sec, null, err := r.num(fMtime)
	if err != nil {
		return e, fmt.Errorf("entry %q: %w", e.Path, err)
	}
	if !null {
		ns, _, err := r.num(fMtimeNS)
		if err != nil {
			return e, fmt.Errorf("entry %q: %w", e.Path, err)
		}
		e.Modified = time.Unix(sec, ns).UTC()
	}
	e.Mode, e.Owner, e.Group = r.istr(fMode), r.istr(fOwner), r.istr(fGroup)
	var x ftpaudit.EntryExtra
	x.Perm, x.Unique, x.Target = r.istr(fPerm), r.str(fUnique), r.str(fTarget)
	if !r.lean {
		e.Raw, x.ListRaw = r.str(fRaw), r.str(fListRaw)
		if c := &r.cols[fFacts]; !c.null {
			// Decoded for every entry: a map is not shared.
			if x.Facts, err = decodeFacts(c.b); err != nil {
				return e, fmt.Errorf("entry %q: %w", e.Path, err)
			}
		}
	}
	if x.Perm != "" || x.Unique != "" || x.ListRaw != "" || x.Target != "" || x.Facts != nil {
		ex := x // on the heap only when there is one
		e.Extra = &ex
	}
	return e, nil
}

// hasChunks reports whether host hostID is a snapshot saved in chunks.
func hasChunks(ctx context.Context, q queryer, hostID int64) (bool, error) {
	var b bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM chunks WHERE host_id = ?)`, hostID).Scan(&b)
	return b, err
}

// What chunkRows decodes of each entry.
const (
	chunkKeys  = iota // key and fingerprint (keyedEntry.e holds only Path)
	chunkLean         // the entry as EntryAttrs reads it
	chunkWhole        // the entry
)

// chunkRows yields the entries of a host saved in chunks, in key order,
// each with its dup and fingerprint, from path from on (the first chunk
// read is the one that holds from), decoded as mode says.
func chunkRows(ctx context.Context, q queryer, hostID int64, mode int, from string) iter.Seq2[keyedEntry, error] {
	return func(yield func(keyedEntry, error) bool) {
		fail := func(first []byte, firstDup int64, err error) {
			yield(keyedEntry{}, fmt.Errorf("host %d, chunk at %q (%d): %w", hostID, first, firstDup, err))
		}
		// By fingerprint, the data column is not read: nor its pages.
		cols := "first, first_dup, n, keys, data"
		if mode == chunkKeys {
			cols = "first, first_dup, n, keys, NULL"
		}
		rows, err := q.QueryContext(ctx, `SELECT `+cols+` FROM chunks
			WHERE host_id = ?1 AND first >= coalesce((SELECT first FROM chunks
				WHERE host_id = ?1 AND first <= ?2 AND (first < ?2 OR first_dup = 0)
				ORDER BY first DESC, first_dup DESC LIMIT 1), first)
			ORDER BY first, first_dup`, hostID, blobOf(from))
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		defer rows.Close()
		r := chunkReader{lean: mode == chunkLean, keysOnly: mode == chunkKeys}
		fromB := []byte(from)
		var first, keys, data sql.RawBytes
		var firstDup, n int64
		for rows.Next() {
			if err := rows.Scan(&first, &firstDup, &n, &keys, &data); err != nil {
				yield(keyedEntry{}, err)
				return
			}
			// After the last key of the chunk before.
			if r.n > 0 {
				if c := bytes.Compare(first, r.path); c < 0 || (c == 0 && firstDup <= r.dup) {
					fail(first, firstDup, errChunk("chunks overlap"))
					return
				}
			}
			if err := r.start(keys, data, n); err != nil {
				fail(first, firstDup, err)
				return
			}
			for r.left > 0 {
				if err := r.next(); err != nil {
					fail(first, firstDup, err)
					return
				}
				if r.n == 1 && (!bytes.Equal(r.path, first) || r.dup != firstDup) {
					fail(first, firstDup, errChunk("first entry is not the chunk's key"))
					return
				}
				before := bytes.Compare(r.path, fromB) < 0
				if mode == chunkKeys {
					if !before && !yield(keyedEntry{e: ftpaudit.Entry{Path: string(r.path)}, dup: r.dup, fp: r.fp}, nil) {
						return
					}
					continue
				}
				if err := r.apply(); err != nil {
					fail(first, firstDup, err)
					return
				}
				if before {
					continue
				}
				e, err := r.entry()
				if err != nil {
					fail(first, firstDup, err)
					return
				}
				if !yield(keyedEntry{e: e, dup: r.dup, fp: r.fp}, nil) {
					return
				}
			}
		}
		if err := rows.Err(); err != nil {
			yield(keyedEntry{}, err)
		}
	}
}

// chunkFinder reads single entries of snapshots saved in chunks, lean,
// by key (EntryAttrsBeside). Asked for keys in ascending order, as a
// comparison asks, it goes on decoding a chunk where the last lookup in
// it stopped, rather than reading it again.
type chunkFinder struct {
	q        queryer
	ok       bool // r holds the chunk (layer, first, firstDup)
	layer    int64
	first    []byte
	firstDup int64
	keys     []byte
	data     []byte
	r        chunkReader
}

func newChunkFinder(q queryer) *chunkFinder {
	return &chunkFinder{q: q, r: chunkReader{lean: true}}
}

// find returns the entry of key (path, dup) of host layer, lean.
func (f *chunkFinder) find(ctx context.Context, layer int64, path string, dup int64) (ftpaudit.Entry, error) {
	var first []byte
	var firstDup int64
	err := f.q.QueryRowContext(ctx, `SELECT first, first_dup FROM chunks
		WHERE host_id = ?1 AND first <= ?2 AND (first < ?2 OR first_dup <= ?3)
		ORDER BY first DESC, first_dup DESC LIMIT 1`, layer, blobOf(path), dup).Scan(&first, &firstDup)
	if errors.Is(err, sql.ErrNoRows) {
		return ftpaudit.Entry{}, fmt.Errorf("entry %q (%d) of host %d is gone", path, dup, layer)
	}
	if err != nil {
		return ftpaudit.Entry{}, err
	}
	fail := func(err error) (ftpaudit.Entry, error) {
		f.ok = false
		return ftpaudit.Entry{}, fmt.Errorf("host %d, chunk at %q (%d): %w", layer, first, firstDup, err)
	}
	resume := f.ok && f.layer == layer && f.firstDup == firstDup && bytes.Equal(f.first, first) &&
		keyBefore(f.r.path, f.r.dup, path, dup)
	if !resume {
		var n int64
		var keys, data sql.RawBytes
		rows, err := f.q.QueryContext(ctx, `SELECT n, keys, data FROM chunks WHERE host_id = ? AND first = ? AND first_dup = ?`, layer, first, firstDup)
		if err != nil {
			return ftpaudit.Entry{}, err
		}
		// The buffers are overwritten below: until the new chunk is
		// read whole, there is none to resume.
		f.ok = false
		if rows.Next() {
			err = rows.Scan(&n, &keys, &data)
			// Kept: resumed by the next lookup.
			f.keys, f.data = append(f.keys[:0], keys...), append(f.data[:0], data...)
		} else if err = rows.Err(); err == nil {
			err = sql.ErrNoRows
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return ftpaudit.Entry{}, err
		}
		f.layer, f.first, f.firstDup, f.ok = layer, append(f.first[:0], first...), firstDup, true
		if err := f.r.start(f.keys, f.data, n); err != nil {
			return fail(err)
		}
	}
	for f.r.left > 0 {
		if err := f.r.next(); err != nil {
			return fail(err)
		}
		if err := f.r.apply(); err != nil {
			return fail(err)
		}
		switch c := keyCmpBytes(f.r.path, f.r.dup, path, dup); {
		case c == 0:
			e, err := f.r.entry()
			if err != nil {
				return fail(err)
			}
			return e, nil
		case c > 0:
			f.ok = false // the next lookup starts the chunk again
			return ftpaudit.Entry{}, fmt.Errorf("entry %q (%d) of host %d is gone", path, dup, layer)
		}
	}
	f.ok = false
	return ftpaudit.Entry{}, fmt.Errorf("entry %q (%d) of host %d is gone", path, dup, layer)
}

// keyCmpBytes compares the key (path, dup) with (p2, dup2).
func keyCmpBytes(path []byte, dup int64, p2 string, dup2 int64) int {
	// Compared as strings: no copy of p2.
	if string(path) != p2 {
		if string(path) < p2 {
			return -1
		}
		return 1
	}
	switch {
	case dup < dup2:
		return -1
	case dup > dup2:
		return 1
	}
	return 0
}

// keyBefore reports whether the key (path, dup) comes before (p2, dup2).
func keyBefore(path []byte, dup int64, p2 string, dup2 int64) bool {
	return keyCmpBytes(path, dup, p2, dup2) < 0
}
