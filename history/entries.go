package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/ftpaudit/ftpaudit"
)

// Writing and reading entries: the entries table, which holds the rows
// of deltas (chain.go) and of snapshots saved before schema version 7,
// and the snapshots saved since, in chunks (chunks.go). Both are written
// from the same packed row (rowPacker), and read back as the same entry.

// Entry rows are inserted with one prepared statement per row that binds
// a single BLOB holding all of the row's values, cut into columns with
// substr() (and cast back to TEXT or INTEGER). Binding seventeen values
// per row cost more than SQLite's own work, and the driver allocates for
// every string parameter and every boxed integer: for a million rows,
// hundreds of megabytes of garbage on top of the result being saved.
// With one BLOB, whose offsets and lengths are small integers that box
// without allocating, a row costs the driver's few fixed allocations.

// Kinds of packed columns: how a field's bytes are turned back into the
// column's value. Casting a BLOB to TEXT keeps its bytes as they are
// (SQLite does not check UTF-8); integers travel as decimal text.
const (
	asBlob = iota
	asText
	asInt
)

// entryFields are the packed columns, in the order of their bytes in the
// row's BLOB.
var entryFields = []struct {
	col  string
	kind int
}{
	{"path", asBlob}, {"name", asBlob}, {"type", asText}, {"size", asInt}, {"mtime", asInt}, {"mtime_ns", asInt},
	{"mode", asText}, {"owner", asText}, {"grp", asText}, {"perm", asText}, {"uniq", asText}, {"target", asText},
	{"facts", asBlob}, {"raw", asText}, {"list_raw", asText},
}

// Indexes of entryFields, for rowPacker.
const (
	fPath = iota
	fName
	fType
	fSize
	fMtime
	fMtimeNS
	fMode
	fOwner
	fGroup
	fPerm
	fUnique
	fTarget
	fFacts
	fRaw
	fListRaw
	numFields
)

// Parameters of insertEntrySQL: these, then the length of the path (which
// starts the BLOB), then the (offset, length) pairs of the other
// entryFields: 32 in all, the most the driver matches to the statement
// by scanning rather than by building a map on every call. All but the
// BLOB (:b, numbered at its first use) are anonymous ("?"): the driver
// looks up every parameter's name on every call, and a named or numbered
// one costs an allocation each time. (INSERT ... SELECT could name the
// BLOB once, but makes SQLite keep a statement journal, which doubled
// the time.)
const (
	parHost = iota
	parDup
	parRow
	parFields
)

// The BLOB starts with the row's fingerprint (fingerprint.go) in decimal,
// fpDigits bytes at a fixed place, which costs no parameter; the path
// follows it.
var insertEntrySQL = func() string {
	cols := []string{"host_id", "dup", "fp"}
	vals := []string{"?", "?", fmt.Sprintf("CAST(substr(:b, 1, %d) AS INTEGER)", fpDigits)}
	for i, f := range entryFields {
		v := "substr(:b, ?, ?)"
		if i == fPath {
			v = fmt.Sprintf("substr(:b, %d, ?)", fpDigits+1)
		}
		switch f.kind {
		case asText:
			v = "CAST(" + v + " AS TEXT)"
		case asInt:
			v = "CAST(" + v + " AS INTEGER)"
		}
		cols = append(cols, f.col)
		vals = append(vals, v)
	}
	return "INSERT INTO entries (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
}()

// rowPacker fills insertEntrySQL's parameters for one entry, and
// computes its fingerprint.
type rowPacker struct {
	buf []byte // the row's bytes, its fingerprint first
	// blob is what is bound: buf copied into a buffer whose length stays
	// the same from row to row (bytes past the row's are ignored), so
	// that its interface value is made only when it grows, not once per
	// row; blobArg is that value.
	blob    []byte
	blobArg any
	args    []driver.NamedValue
	fpr     *fingerprinter
	fp      int64 // the row's fingerprint
	// spans are where each of entryFields lies in buf, for the
	// fingerprint and the chunk encoder (chunks.go).
	spans [numFields]span
	// noArgs is set for a packer of entries saved in chunks: args are
	// not filled, nor the fingerprint put into buf.
	noArgs bool
}

// span is where a field's bytes lie in rowPacker.buf; n < 0 is NULL.
type span struct{ off, n int }

// field returns the bytes of field i of the packed row, and whether it
// is NULL.
func (p *rowPacker) field(i int) ([]byte, bool) {
	sp := p.spans[i]
	if sp.n < 0 {
		return nil, true
	}
	return p.buf[sp.off : sp.off+sp.n], false
}

// newRowPacker returns a packer of rows of host hostID, fingerprinted
// with key.
func newRowPacker(hostID int64, key []byte) *rowPacker {
	p := &rowPacker{args: make([]driver.NamedValue, parFields+2*len(entryFields)-1), fpr: newFingerprinter(key)}
	for i := range p.args {
		p.args[i].Ordinal = i + 1
	}
	p.args[parRow].Name = "b"
	p.args[parHost].Value = hostID
	return p
}

// newChunkPacker returns a packer of entries saved in chunks (chunks.go),
// fingerprinted with key: rows packed, but no statement parameters.
func newChunkPacker(key []byte) *rowPacker {
	return &rowPacker{fpr: newFingerprinter(key), noArgs: true}
}

// null makes field i (not fPath) NULL.
func (p *rowPacker) null(i int) {
	p.spans[i] = span{0, -1}
	if p.noArgs {
		return
	}
	a := p.args[parFields+2*i-1:]
	a[0].Value, a[1].Value = nil, nil
}

// mark sets field i to the bytes of buf from start on. Offsets and
// lengths below 256 box without allocating.
func (p *rowPacker) mark(i, start int) {
	p.spans[i] = span{start, len(p.buf) - start}
	if p.noArgs {
		return
	}
	if i == fPath {
		p.args[parFields].Value = int64(len(p.buf) - start)
		return
	}
	a := p.args[parFields+2*i-1:]
	a[0].Value, a[1].Value = int64(start+1), int64(len(p.buf)-start)
}

func (p *rowPacker) str(i int, s string) {
	start := len(p.buf)
	p.buf = append(p.buf, s...)
	p.mark(i, start)
}

// text stores s, or NULL when it is empty.
func (p *rowPacker) text(i int, s string) {
	if s == "" {
		p.null(i)
		return
	}
	p.str(i, s)
}

func (p *rowPacker) int(i int, v int64) {
	start := len(p.buf)
	p.buf = strconv.AppendInt(p.buf, v, 10)
	p.mark(i, start)
}

// pack fills the parameters of e's row, with key dup, and computes its
// fingerprint (p.fp); a chunk packer only packs the row's bytes (buf and
// spans) and computes its fingerprint.
func (p *rowPacker) pack(e *ftpaudit.Entry, dup int64) {
	var fp [fpDigits]byte // the fingerprint, filled in below
	p.buf = append(p.buf[:0], fp[:]...)
	if !p.noArgs {
		p.args[parDup].Value = dup
	}
	p.str(fPath, e.Path) // first: its offset is always fpDigits+1
	if e.Path[strings.LastIndexByte(e.Path, '/')+1:] == e.Name {
		p.null(fName)
	} else {
		p.str(fName, e.Name)
	}
	p.text(fType, e.Type.String())
	p.int(fSize, e.Size)
	if e.Modified.IsZero() {
		p.null(fMtime)
		p.null(fMtimeNS)
	} else {
		p.int(fMtime, e.Modified.Unix())
		if ns := e.Modified.Nanosecond(); ns != 0 {
			p.int(fMtimeNS, int64(ns))
		} else {
			p.null(fMtimeNS)
		}
	}
	p.text(fMode, e.Mode)
	p.text(fOwner, e.Owner)
	p.text(fGroup, e.Group)
	p.text(fPerm, e.Perm())
	p.text(fUnique, e.Unique())
	p.text(fTarget, e.Target())
	if e.Facts() == nil {
		p.null(fFacts)
	} else {
		start := len(p.buf)
		p.buf = appendFacts(p.buf, e.Facts())
		p.mark(fFacts, start)
	}
	p.text(fRaw, e.Raw)
	p.text(fListRaw, e.ListRaw())
	p.fp = p.fpr.of(p)
	if p.noArgs {
		return
	}
	putDigits(p.buf[:fpDigits], p.fp)
	if len(p.buf) > len(p.blob) {
		p.blob = make([]byte, (len(p.buf)+256)&^255)
		p.blobArg = p.blob
	}
	copy(p.blob, p.buf)
	p.args[parRow].Value = p.blobArg
}

// saveEntries saves the entries of host h whole, as a snapshot: in
// chunks (chunks.go), in key order (keyed), which appends to the table's
// B-tree. ins is insertChunkSQL. The chunks are encoded on the other
// core (encodeAhead), as the entries are read, while this one inserts
// them. An error reading the entries back is an *entriesError.
func (s *Store) saveEntries(ctx context.Context, ins *rawStmt, hostID int64, h *ftpaudit.HostResult) error {
	chunks, stop := encodeAhead(ctx, s.key, h)
	defer stop()
	// Chunks are inserted without ctx: watching ctx costs a goroutine
	// handoff per statement. It is checked before each.
	bg := context.Background()
	args := make([]driver.NamedValue, 6)
	for i := range args {
		args[i].Ordinal = i + 1
	}
	args[0].Value = hostID
	written := 0
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		args[1].Value, args[2].Value, args[3].Value = c.first, c.firstDup, int64(c.n)
		args[4].Value, args[5].Value = c.keys, c.data
		if _, err := ins.ex.ExecContext(bg, args); err != nil {
			return s.dbErr(fmt.Sprintf("insert the entries from %q", c.first), err)
		}
		before := written
		written += c.n
		c.release()
		if saveHook != nil && written/saveHookEvery > before/saveHookEvery {
			saveHook(written)
		}
	}
	return ctx.Err()
}

// Entries yields a host's entries in ascending byte order of Path (Go's
// strings.Compare order), every attribute as saved; Modified is UTC. Rows
// are read as they are yielded, so memory does not grow with the number
// of entries. An error is yielded once, last; a host that does not exist
// yields ErrNotFound.
func (s *Store) Entries(ctx context.Context, hostID int64) iter.Seq2[ftpaudit.Entry, error] {
	return s.entries(ctx, hostID, false)
}

// EntryAttrs is Entries without the MLSD facts and the raw lines: every
// attribute a baseline comparison looks at, read faster (the driver's
// cost is per column).
func (s *Store) EntryAttrs(ctx context.Context, hostID int64) iter.Seq2[ftpaudit.Entry, error] {
	return s.entries(ctx, hostID, true)
}

func (s *Store) entries(ctx context.Context, hostID int64, lean bool) iter.Seq2[ftpaudit.Entry, error] {
	return func(yield func(ftpaudit.Entry, error) bool) {
		// One read transaction, so that a host and its bases agree.
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			yield(ftpaudit.Entry{}, s.dbErr(fmt.Sprintf("entries of host %d", hostID), err))
			return
		}
		defer func() { _ = tx.Rollback() }()
		if err := hostExistsIn(ctx, tx, hostID); err != nil {
			if !errors.Is(err, ErrNotFound) {
				err = s.dbErr(fmt.Sprintf("host %d", hostID), err)
			}
			yield(ftpaudit.Entry{}, err)
			return
		}
		for e, err := range readEntries(ctx, tx, hostID, lean) {
			if err != nil {
				yield(ftpaudit.Entry{}, s.dbErr(fmt.Sprintf("entries of host %d", hostID), err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// entryCols are the columns entryRow.scan reads, after dup; the lean
// ones are the first twelve. The name is read as TEXT (the same bytes):
// the driver reads an empty BLOB as nil, the same as NULL, and an empty
// name that is not the last part of its path must read back as empty.
const (
	entryCols     = "path, CAST(name AS TEXT), type, size, mtime, mtime_ns, mode, owner, grp, perm, uniq, target, facts, raw, list_raw"
	entryColsLean = "path, CAST(name AS TEXT), type, size, mtime, mtime_ns, mode, owner, grp, perm, uniq, target"
)

// snapshotRows yields the entries of one host (one layer of a chain) in
// key order, each with its dup, from path from on: its chunks (chunks.go)
// when it has any, else its entries rows.
func snapshotRows(ctx context.Context, q queryer, hostID int64, lean bool, from string) iter.Seq2[keyedEntry, error] {
	cols := entryCols
	mode := chunkWhole
	if lean {
		cols, mode = entryColsLean, chunkLean
	}
	return func(yield func(keyedEntry, error) bool) {
		chunked, err := hasChunks(ctx, q, hostID)
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		if chunked {
			for k, err := range chunkRows(ctx, q, hostID, mode, from) {
				if !yield(k, err) || err != nil {
					return
				}
			}
			return
		}
		rows, err := q.QueryContext(ctx, `SELECT dup, `+cols+`
			FROM entries WHERE host_id = ? AND path >= ? ORDER BY path, dup`, hostID, blobOf(from))
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		defer rows.Close()
		var r entryRow
		r.lean = lean
		for rows.Next() {
			e, err := r.scan(rows)
			if err != nil {
				yield(keyedEntry{}, err)
				return
			}
			if !yield(keyedEntry{e: e, dup: r.dup}, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(keyedEntry{}, err)
		}
	}
}

// entryRow holds the scan destinations of one entries row, reused from
// row to row.
type entryRow struct {
	path, facts                   sql.RawBytes
	typ, mode, owner, group, perm sql.RawBytes // few distinct values: interned
	name, mtime, mtimeNS          any
	uniq, targ, raw, listRaw      any
	dup                           int64
	dest                          []any
	lean                          bool // no facts, raw, list_raw
	interned                      map[string]string
}

// maxInterned bounds entryRow.interned.
const maxInterned = 4096

// intern returns b as a string, the same string for the same bytes while
// fewer than maxInterned distinct values were seen: a million entries
// share a handful of types, modes, owners and groups, and reading them
// back should not allocate each again. NULL is "".
func (r *entryRow) intern(b sql.RawBytes) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := r.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.interned == nil {
		r.interned = map[string]string{}
	}
	if len(r.interned) < maxInterned {
		r.interned[s] = s
	}
	return s
}

func (r *entryRow) scan(rows *sql.Rows) (ftpaudit.Entry, error) {
	if r.dest == nil {
		r.dest = []any{&r.dup, &r.path, &r.name, &r.typ, nil, &r.mtime, &r.mtimeNS,
			&r.mode, &r.owner, &r.group, &r.perm, &r.uniq, &r.targ, &r.facts, &r.raw, &r.listRaw}
	}
	var e ftpaudit.Entry
	r.dest[4] = &e.Size
	dest := r.dest
	if r.lean {
		dest = dest[:13]
	}
	if err := rows.Scan(dest...); err != nil {
		return e, err
	}
	e.Path = string(r.path)
	var err error
	if r.name == nil {
		e.Name = e.Path[strings.LastIndexByte(e.Path, '/')+1:]
	} else if e.Name, err = text(r.name); err != nil {
		return e, fmt.Errorf("entry %q: %w", e.Path, err)
	}
	typ := r.intern(r.typ)
	e.Mode, e.Owner, e.Group = r.intern(r.mode), r.intern(r.owner), r.intern(r.group)
	var x ftpaudit.EntryExtra
	x.Perm = r.intern(r.perm)
	for _, f := range []struct {
		dst *string
		v   any
	}{{&x.Unique, r.uniq}, {&x.Target, r.targ}, {&e.Raw, r.raw}, {&x.ListRaw, r.listRaw}} {
		if *f.dst, err = text(f.v); err != nil {
			return e, fmt.Errorf("entry %q: %w", e.Path, err)
		}
	}
	var ok bool
	if e.Type, ok = ftpaudit.ParseEntryType(typ); !ok {
		return e, fmt.Errorf("entry %q: unknown type %q", e.Path, typ)
	}
	if e.Modified, err = secTime(r.mtime, r.mtimeNS); err != nil {
		return e, fmt.Errorf("entry %q: %w", e.Path, err)
	}
	if r.facts != nil {
		if x.Facts, err = decodeFacts(r.facts); err != nil {
			return e, fmt.Errorf("entry %q: %w", e.Path, err)
		}
	}
	if x.Perm != "" || x.Unique != "" || x.ListRaw != "" || x.Target != "" || x.Facts != nil {
		ex := x // on the heap only when there is one
		e.Extra = &ex
	}
	return e, nil
}
