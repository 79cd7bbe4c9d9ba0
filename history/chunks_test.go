package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Snapshots in chunks (chunks.go, schema version 7).

// storedEntries counts the entries stored: entries rows and the entries
// of chunks.
func storedEntries(t *testing.T, s *Store) int {
	t.Helper()
	return count(t, s, "SELECT count(*) FROM entries") + count(t, s, "SELECT coalesce(sum(n), 0) FROM chunks")
}

// unchunk rewrites every host saved in chunks as entries rows, each with
// its fingerprint, as schema version 6 saved snapshots, and deletes its
// chunks.
func unchunk(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.db.Query("SELECT DISTINCT host_id FROM chunks ORDER BY host_id")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var es []ftpaudit.Entry
		var dups []int64
		for k, err := range snapshotRows(ctx, s.db, id, false, "") {
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, k.e)
			dups = append(dups, k.dup)
		}
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			c, err := newRawConn(dc)
			if err != nil {
				return err
			}
			if _, err := c.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
				return err
			}
			st, err := c.prepare(ctx, insertEntrySQL)
			if err != nil {
				return err
			}
			defer st.close()
			p := newRowPacker(id, s.key)
			for i, dup := range inKeyOrder(es, nil) {
				if dup != dups[i] {
					return fmt.Errorf("entry %q: dup %d read, %d numbered", es[i].Path, dups[i], dup)
				}
				p.pack(&es[i], dup)
				if _, err := st.ex.ExecContext(ctx, p.args); err != nil {
					return err
				}
			}
			if _, err := c.exec(ctx, "DELETE FROM chunks WHERE host_id = ?", id); err != nil {
				return err
			}
			_, err = c.exec(ctx, "COMMIT")
			return err
		})
		if cerr := conn.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("unchunk host %d: %v", id, err)
		}
	}
}

func TestChunkFields(t *testing.T) {
	if numFields != len(entryFields) {
		t.Fatalf("numFields %d, entryFields %d", numFields, len(entryFields))
	}
}

// chunkyEntries returns entries that cross chunk boundaries in every way
// there is: a run of 1,100 entries of one path (dups 0 to 1,099, over
// three chunks, their columns NULL, empty and set in turn), a name of 100
// KiB and a raw line of 200 KiB (chunks of one entry, above chunkBytes),
// the hostile entries of store_test.go (NULL and empty names, facts nil
// and empty, links, times and sizes at their limits), and an archive's
// worth of ordinary entries.
func chunkyEntries() []ftpaudit.Entry {
	es := synthEntries(1500, false)
	es = append(es, hostileEntries()...)
	mod := time.Date(2020, 2, 29, 23, 59, 59, 0, time.UTC)
	for i := range 1100 {
		e := ftpaudit.Entry{Path: "/pub/same", Name: "same", Type: ftpaudit.TypeFile, Size: int64(i), Raw: fmt.Sprint("line ", i)}
		switch i % 5 {
		case 0:
			e.Owner, e.Group, e.Modified = "", "", mod
		case 1:
			e.Owner, e.Group, e.Name, e.Modified = "o", "g", "", mod.Add(time.Duration(i))
			e.Extra = &ftpaudit.EntryExtra{Facts: map[string]string{}}
		case 2:
			e.Owner, e.Raw, e.Name = "ow", "", "same/x"
			e.Extra = &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file", "size": fmt.Sprint(i)}, Unique: "u"}
		case 3:
			e.Type, e.Mode = ftpaudit.TypeLink, "lrwxrwxrwx"
			e.Extra = &ftpaudit.EntryExtra{Target: "../" + strings.Repeat("t", i%7), ListRaw: "l"}
		}
		es = append(es, e)
	}
	es = append(es,
		ftpaudit.Entry{Path: "/pub/huge-name/" + strings.Repeat("n", 100<<10), Name: strings.Repeat("n", 100<<10), Type: ftpaudit.TypeFile, Size: 1},
		ftpaudit.Entry{Path: "/pub/huge-raw", Name: "huge-raw", Type: ftpaudit.TypeFile, Size: 2, Raw: strings.Repeat("r\x00\xff", 200<<10/3)},
		ftpaudit.Entry{Path: "/pub/huge-raw2", Name: "huge-raw2", Type: ftpaudit.TypeFile, Size: 3, Raw: strings.Repeat("r\x00\xff", 200<<10/3) + "!"},
		ftpaudit.Entry{Path: "/pub/same0", Name: "", Type: ftpaudit.TypeDir},
	)
	for i := range es { // as they read back
		if !es[i].Modified.IsZero() {
			es[i].Modified = es[i].Modified.UTC()
		}
	}
	return es
}

// checkChunks checks the chunks of host hostID: keys ascending, each the
// key of the chunk's first entry, at most chunkEntries entries, and
// returns how many there are and how many start inside a run of one
// path (first_dup > 0), and the largest.
func checkChunks(t *testing.T, s *Store, hostID int64) (chunks, midRun, largest int) {
	t.Helper()
	rows, err := s.db.Query("SELECT first, first_dup, n, length(data) FROM chunks WHERE host_id = ? ORDER BY first, first_dup", hostID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var first []byte
		var dup, n, size int
		if err := rows.Scan(&first, &dup, &n, &size); err != nil {
			t.Fatal(err)
		}
		chunks++
		if dup > 0 {
			midRun++
		}
		largest = max(largest, size)
		if n > chunkEntries {
			t.Errorf("chunk %q (%d): %d entries", first, dup, n)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return chunks, midRun, largest
}

// A snapshot saved in chunks reads back byte for byte, however its
// entries fall into chunks, every way it is read: whole, lean, by
// fingerprint, from a path on, and entry by entry beside a walk.
func TestChunksReadBack(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	es := chunkyEntries()
	id, err := s.Save(ctx, nightResult(t, es, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(t, s, id)[0]
	if d := depthOf(t, s, h); d != 0 {
		t.Fatalf("first save at depth %d", d)
	}
	if r := rowsOf(t, s, h); r != 0 {
		t.Errorf("a snapshot with %d entries rows", r)
	}
	chunks, midRun, largest := checkChunks(t, s, h)
	if chunks < 8 || midRun < 2 || largest < 200<<10 {
		t.Errorf("%d chunks, %d starting inside a run of one path, largest %d bytes: the test proves less", chunks, midRun, largest)
	}
	if c := count(t, s, "SELECT coalesce(sum(n), 0) FROM chunks WHERE host_id = ?", h); c != len(es) {
		t.Errorf("%d entries in chunks, saved %d", c, len(es))
	}
	want := sorted(es)
	checkHost(t, s, h, es)
	checkChunkHost(t, s, h, want)

	// A delta on it, and one more: read back through the chunks below.
	next := slices.Clone(es)
	for i := 0; i < len(next); i += 97 {
		next[i].Size++
	}
	next = slices.Delete(next, 1000, 1010)
	next = append(next, ftpaudit.Entry{Path: "/pub/same", Name: "same", Type: ftpaudit.TypeFile, Raw: "one more dup"})
	id, err = s.Save(ctx, nightResult(t, next, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	h2 := hostsOf(t, s, id)[0]
	if d, r := depthOf(t, s, h2), rowsOf(t, s, h2); d != 1 || r > len(es)/97+20 {
		t.Errorf("second save: depth %d, %d rows; want a delta of about %d", d, r, len(es)/97+11)
	}
	checkHost(t, s, h2, next)
	checkChunkHost(t, s, h2, sorted(next))
}

// checkChunkHost reads host h every way a chunk is read, and compares
// with want (in key order).
func checkChunkHost(t *testing.T, s *Store, h int64, want []ftpaudit.Entry) {
	t.Helper()
	ctx := context.Background()
	lean := make([]ftpaudit.Entry, len(want))
	for i := range want {
		lean[i] = leanOf(want[i])
	}
	checkEntries(t, collect(t, s.EntryAttrs(ctx, h)), lean)

	// By fingerprint: the keys, and the fingerprints of the entries.
	p := newRowPacker(0, s.key)
	i := 0
	for k, err := range readFingerprints(ctx, s.db, h, s.key, false) {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("more than %d keys", len(want))
		}
		if p.pack(&want[i], k.dup); k.e.Path != want[i].Path || k.fp != p.fp {
			t.Errorf("key %d: %q (%d) fp %x, want %q fp %x", i, k.e.Path, k.dup, k.fp, want[i].Path, p.fp)
		}
		i++
	}
	if i != len(want) {
		t.Errorf("%d keys, want %d", i, len(want))
	}

	// From a path on: paths of entries, between entries, before all and
	// after all, inside runs of one path.
	froms := []string{"", "\x00", "/pub/same", "/pub/same\x00", "/pub/sam", "\xff\xff"}
	for i := 0; i < len(want); i += 89 {
		froms = append(froms, want[i].Path, want[i].Path+"\x00", want[i].Path[:len(want[i].Path)-1])
	}
	for _, from := range froms {
		var wantFrom []ftpaudit.Entry
		for _, e := range want {
			if e.Path >= from {
				wantFrom = append(wantFrom, e)
			}
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []ftpaudit.Entry
		for k, err := range readKeyedFrom(ctx, tx, h, false, from) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, k.e)
		}
		_ = tx.Rollback()
		if len(got) != len(wantFrom) {
			t.Fatalf("from %.40q: %d entries, want %d", from, len(got), len(wantFrom))
		}
		checkEntries(t, got, wantFrom)
	}

	// Beside a walk that differs every few entries, read one at a time,
	// and then all at once.
	cur := slices.Clone(want)
	for i := 3; i < len(cur); i += 7 {
		cur[i].Size--
	}
	for i := 5; i < len(cur); i += 11 {
		cur[i].Owner += "x"
	}
	cur = slices.Delete(cur, 40, 60)
	for _, after := range []int{1 << 30, 64} {
		setBeside(t, after, 0.125, nil)
		got := collect(t, s.EntryAttrsBeside(ctx, h, entrySeq(cur)))
		for i := range got {
			got[i] = leanOf(got[i])
		}
		checkEntries(t, got, lean)
	}
}

// A host with no entries has no chunks and reads back empty; its next
// save, of one entry, is a snapshot.
func TestChunksEmptyHost(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for night, es := range [][]ftpaudit.Entry{nil, {{Path: "/x", Name: "x", Type: ftpaudit.TypeFile}}, {{Path: "/x", Name: "x", Type: ftpaudit.TypeFile}}, nil} {
		id, err := s.Save(ctx, nightResult(t, es, night), "")
		if err != nil {
			t.Fatal(err)
		}
		h := hostsOf(t, s, id)[0]
		c, _, _ := checkChunks(t, s, h)
		if (len(es) == 0 || night == 2) != (c == 0) {
			t.Errorf("night %d, %d entries: %d chunks", night, len(es), c)
		}
		checkHost(t, s, h, es)
		if got := collect(t, s.EntryAttrsBeside(ctx, h, entrySeq(es))); len(got) != len(es) {
			t.Errorf("night %d: beside itself, %d entries", night, len(got))
		}
	}
}

// The chunk codec alone: random rows, NULL, empty and shared in every
// combination, decode to what was packed, whole and lean, and their
// fingerprints are those packed.
func TestChunkCodec(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	str := func() string {
		return pick("", "a", "ab", "abc", "b", "\x00", "\xff\xfe", "-rw-r--r--", "-rw-r--r-x", strings.Repeat("z", rng.IntN(300)))
	}
	var es []ftpaudit.Entry
	for i := range 5000 {
		e := ftpaudit.Entry{Path: fmt.Sprintf("/%s/%05d", pick("a", "a/b", "ab"), i/3), Type: ftpaudit.EntryType(rng.IntN(5)),
			Size: []int64{0, -1, 1, 9, 10, math.MaxInt64, math.MinInt64, rng.Int64()}[rng.IntN(8)],
			Mode: str(), Owner: str(), Group: str(), Raw: str()}
		e.Name = pick(e.Path[strings.LastIndexByte(e.Path, '/')+1:], "", "x/y", str())
		switch rng.IntN(4) {
		case 1:
			e.Modified = time.Unix(rng.Int64N(1<<40)-1<<39, 0).UTC()
		case 2:
			e.Modified = time.Unix(rng.Int64N(1<<40)-1<<39, rng.Int64N(1e9)).UTC()
		}
		x := ftpaudit.EntryExtra{Perm: str(), Unique: str(), Target: str(), ListRaw: str()}
		switch rng.IntN(3) {
		case 1:
			x.Facts = map[string]string{}
		case 2:
			x.Facts = map[string]string{str(): str(), "type": str()}
		}
		if x.Perm != "" || x.Unique != "" || x.Target != "" || x.ListRaw != "" || x.Facts != nil {
			e.Extra = &x
		}
		es = append(es, e)
	}
	slices.SortStableFunc(es, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	var chunks []chunkBuf
	w := chunkWriter{flush: func(c *chunkBuf) error {
		chunks = append(chunks, chunkBuf{bytes.Clone(c.first), c.firstDup, c.n, bytes.Clone(c.keys), bytes.Clone(c.data)})
		return nil
	}}
	// Fingerprints as a row's, packed for a chunk.
	key := make([]byte, keySize)
	rp, p := newRowPacker(0, key), newChunkPacker(key)
	var fps []int64
	var dups []int64
	for i, dup := range inKeyOrder(es, nil) {
		rp.pack(&es[i], dup)
		fps = append(fps, rp.fp)
		dups = append(dups, dup)
		p.pack(&es[i], dup)
		if err := w.add(p, dup); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	if w.written != len(es) || len(chunks) < 10 {
		t.Fatalf("%d entries in %d chunks", w.written, len(chunks))
	}
	for _, mode := range []int{chunkWhole, chunkLean, chunkKeys} {
		r := chunkReader{lean: mode == chunkLean, keysOnly: mode == chunkKeys}
		i := 0
		for _, c := range chunks {
			data := c.data
			if r.keysOnly {
				data = nil
			}
			if err := r.start(c.keys, data, int64(c.n)); err != nil {
				t.Fatal(err)
			}
			for r.left > 0 {
				if err := r.next(); err != nil {
					t.Fatal(err)
				}
				if r.n == 1 && (string(r.path) != string(c.first) || r.dup != c.firstDup) {
					t.Fatalf("chunk %q (%d) starts with %q (%d)", c.first, c.firstDup, r.path, r.dup)
				}
				if r.keysOnly {
					if string(r.path) != es[i].Path {
						t.Fatalf("entry %d: %q, want %q", i, r.path, es[i].Path)
					}
				} else {
					if err := r.apply(); err != nil {
						t.Fatal(err)
					}
					e, err := r.entry()
					if err != nil {
						t.Fatal(err)
					}
					want := es[i]
					if r.lean {
						want = leanOf(want)
					}
					checkEntries(t, []ftpaudit.Entry{e}, []ftpaudit.Entry{want})
				}
				if r.fp != fps[i] || r.dup != dups[i] {
					t.Fatalf("entry %d: dup %d fp %x, want %d %x", i, r.dup, r.fp, dups[i], fps[i])
				}
				i++
			}
		}
		if i != len(es) {
			t.Fatalf("%d entries decoded, want %d", i, len(es))
		}
	}
}

// decodeChunk decodes a chunk, as far as it goes, and returns the first
// error: whole, lean (only the columns EntryAttrs reads) or keys only
// (its data not read).
func decodeChunk(keys, data []byte, n int64, mode int) error {
	r := chunkReader{lean: mode == chunkLean, keysOnly: mode == chunkKeys}
	if r.keysOnly {
		data = nil
	}
	if err := r.start(keys, data, n); err != nil {
		return err
	}
	for r.left > 0 {
		if err := r.next(); err != nil {
			return err
		}
		if r.keysOnly {
			continue
		}
		if err := r.apply(); err != nil {
			return err
		}
		if _, err := r.entry(); err != nil {
			return err
		}
	}
	return nil
}

// hostileChunk returns hostileEntries as one chunk.
func hostileChunk(t testing.TB) chunkBuf {
	var out chunkBuf
	w := chunkWriter{flush: func(c *chunkBuf) error {
		if out.n > 0 {
			t.Fatal("more than one chunk")
		}
		out = chunkBuf{bytes.Clone(c.first), c.firstDup, c.n, bytes.Clone(c.keys), bytes.Clone(c.data)}
		return nil
	}}
	p := newRowPacker(0, make([]byte, keySize))
	es := sortedCopy(hostileEntries())
	for i, dup := range inKeyOrder(es, nil) {
		p.pack(&es[i], dup)
		if err := w.add(p, dup); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A damaged chunk, cut short or with a byte changed anywhere, is an
// error or decodes (a changed byte of a value is a changed value): it
// never panics, and never reads past its end.
func FuzzChunkReader(f *testing.F) {
	c := hostileChunk(f)
	for _, mode := range []int{chunkWhole, chunkLean, chunkKeys} {
		f.Add(c.keys, c.data, int64(c.n), mode)
	}
	f.Fuzz(func(t *testing.T, keys, data []byte, n int64, mode int) {
		_ = decodeChunk(keys, data, n, mode)
	})
}

// Every truncation and every single-byte change of either column of a
// chunk: an error or a decoding, never a panic; a truncation of a column
// read is always an error, and so is a wrong count.
func TestChunkDamagedBytes(t *testing.T) {
	c := hostileChunk(t)
	for _, mode := range []int{chunkWhole, chunkLean, chunkKeys} {
		if err := decodeChunk(c.keys, c.data, int64(c.n), mode); err != nil {
			t.Fatal(err)
		}
		for col, b := range [][]byte{c.keys, c.data} {
			if col == 1 && mode == chunkKeys {
				continue
			}
			with := func(b2 []byte) error {
				if col == 0 {
					return decodeChunk(b2, c.data, int64(c.n), mode)
				}
				return decodeChunk(c.keys, b2, int64(c.n), mode)
			}
			for i := range b {
				if err := with(b[:i]); err == nil {
					t.Errorf("mode %d, column %d cut to %d bytes of %d: no error", mode, col, i, len(b))
				}
				for _, x := range []byte{0, 1, 0x7f, 0x80, 0xff, b[i] ^ 1} {
					d := bytes.Clone(b)
					d[i] = x
					_ = with(d)
				}
			}
		}
		for _, k := range []int64{0, -1, int64(c.n) - 1, int64(c.n) + 1, math.MaxInt64} {
			if err := decodeChunk(c.keys, c.data, k, mode); err == nil {
				t.Errorf("mode %d: %d entries of %d: no error", mode, k, c.n)
			}
		}
	}
}

// A damaged chunk in the database (cut short, a wrong count, a key that
// is not its first entry's, chunks that overlap) is an error wherever it
// is read, never a silent loss or an "unchanged".
func TestChunksDamaged(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	g := newNightly(3000, 9)
	first := g.night(0)
	id, err := s.Save(ctx, nightResult(t, first, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(t, s, id)[0]
	if c, _, _ := checkChunks(t, s, h); c < 4 {
		t.Fatalf("%d chunks", c)
	}
	next := g.night(3)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The second chunk: its key, count and columns.
	var key []byte
	var n int
	var origKeys, origData []byte
	if err := s.db.QueryRow(`SELECT first, n, keys, data FROM chunks WHERE host_id = ? ORDER BY first LIMIT 1 OFFSET 1`, h).Scan(&key, &n, &origKeys, &origData); err != nil {
		t.Fatal(err)
	}
	const where = ` WHERE host_id = ?1 AND first = ?2 AND first_dup = 0`
	// Overlapping: the entries of the second chunk but its first, and the
	// first of the third, in chunks of their own.
	var keyed []keyedEntry
	for k, err := range snapshotRows(ctx, s.db, h, false, string(key)) {
		if err != nil {
			t.Fatal(err)
		}
		if keyed = append(keyed, k); len(keyed) > n {
			break
		}
	}
	var overlap [][]byte
	w := chunkWriter{flush: func(c *chunkBuf) error {
		overlap = append(overlap, bytes.Clone(c.first))
		_, err := s.db.Exec(insertChunkSQL, h, c.first, c.firstDup, c.n, c.keys, c.data)
		return err
	}}
	p := newRowPacker(h, s.key)
	for _, c := range []struct {
		name         string
		damage, undo func()
		dataOnly     bool // read by fingerprint, the chunk is sound
	}{
		{"data cut short", func() { exec(`UPDATE chunks SET data = substr(data, 1, length(data) - 3)`+where, h, key) },
			func() { exec(`UPDATE chunks SET data = ?3`+where, h, key, origData) }, true},
		{"keys cut short", func() { exec(`UPDATE chunks SET keys = substr(keys, 1, length(keys) - 3)`+where, h, key) },
			func() { exec(`UPDATE chunks SET keys = ?3`+where, h, key, origKeys) }, false},
		{"keys of another chunk", func() {
			exec(`UPDATE chunks SET keys = (SELECT keys FROM chunks WHERE host_id = ?1 ORDER BY first LIMIT 1)`+where, h, key)
		}, func() { exec(`UPDATE chunks SET keys = ?3`+where, h, key, origKeys) }, false},
		{"count too high", func() { exec(`UPDATE chunks SET n = n + 1`+where, h, key) },
			func() { exec(`UPDATE chunks SET n = n - 1`+where, h, key) }, false},
		{"count too low", func() { exec(`UPDATE chunks SET n = n - 1`+where, h, key) },
			func() { exec(`UPDATE chunks SET n = n + 1`+where, h, key) }, false},
		{"key", func() { exec(`UPDATE chunks SET first_dup = 5`+where, h, key) },
			func() {
				exec(`UPDATE chunks SET first_dup = 0 WHERE host_id = ?1 AND first = ?2 AND first_dup = 5`, h, key)
			}, false},
		{"overlap", func() {
			for _, k := range keyed[1:] {
				p.pack(&k.e, k.dup)
				if err := w.add(p, k.dup); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.end(); err != nil {
				t.Fatal(err)
			}
		}, func() {
			for _, first := range overlap {
				exec(`DELETE FROM chunks`+where, h, first)
			}
		}, false},
	} {
		c.damage()
		reads := map[string]func(func(ftpaudit.Entry, error) bool){"Entries": s.Entries(ctx, h), "EntryAttrs": s.EntryAttrs(ctx, h)}
		if !c.dataOnly {
			reads["EntryAttrsBeside"] = s.EntryAttrsBeside(ctx, h, entrySeq(next))
		}
		for what, seq := range reads {
			if _, err := collect2(seq); err == nil || !errors.Is(err, errCodec) {
				t.Errorf("%s: %s: %v, want a malformed chunk", c.name, what, err)
			}
		}
		if !c.dataOnly {
			if _, err := s.Save(ctx, nightResult(t, next, 1), ""); err == nil || !strings.Contains(err.Error(), errCodec.Error()) {
				t.Errorf("%s: a save against it: %v", c.name, err)
			}
		}
		c.undo()
		checkEntries(t, collect(t, s.Entries(ctx, h)), sorted(first))
	}
}

// TestMigrateV6ToV7 opens a version 6 database, whose snapshots are
// entries rows, holding a snapshot and two deltas: it is upgraded in
// place (the chunks table added, nothing converted), every scan reads
// back as saved, the next save is a delta of the old chain holding only
// the changes, a snapshot after it is saved in chunks, and a prune that
// rewrites a host whose chain ends in an old snapshot writes it in
// chunks.
func TestMigrateV6ToV7(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	g := newNightly(1500, 10)
	var saved [][]ftpaudit.Entry
	var hosts []int64
	save := func(es []ftpaudit.Entry) int64 {
		t.Helper()
		id, err := s.Save(ctx, nightResult(t, es, len(saved)), "")
		if err != nil {
			t.Fatal(err)
		}
		saved = append(saved, es)
		hosts = append(hosts, hostsOf(t, s, id)[0])
		return hosts[len(hosts)-1]
	}
	for night := range 3 {
		save(g.night(min(night, 1) * 4))
	}
	downgrade(t, s, 6)
	if c := count(t, s, "SELECT count(*) FROM entries WHERE host_id = ?", hosts[0]); c != len(saved[0]) {
		t.Fatalf("the version 6 snapshot has %d rows, want %d", c, len(saved[0]))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := count(t, s, "PRAGMA user_version"); v != len(migrations) {
		t.Fatalf("user_version %d, want %d", v, len(migrations))
	}
	if c := count(t, s, "SELECT count(*) FROM chunks"); c != 0 {
		t.Errorf("%d chunks after the migration: nothing is converted", c)
	}
	for i := range saved {
		checkHost(t, s, hosts[i], saved[i])
	}
	h := save(g.night(4))
	if d, r := depthOf(t, s, h), rowsOf(t, s, h); d != 3 || r > 4*4+2 {
		t.Errorf("first save after the migration: depth %d, %d rows; want a delta of the version 6 chain, about 12", d, r)
	}
	checkHost(t, s, h, saved[len(saved)-1])
	checkChunkHost(t, s, h, sorted(saved[len(saved)-1]))

	// More changes than changeLimit: a snapshot, in chunks.
	h = save(g.night(600))
	if d, c := depthOf(t, s, h), count(t, s, "SELECT count(*) FROM chunks WHERE host_id = ?", h); d != 0 || c == 0 || rowsOf(t, s, h) != 0 {
		t.Errorf("a snapshot after the migration: depth %d, %d chunks, %d rows", d, c, rowsOf(t, s, h))
	}
	checkHost(t, s, h, saved[len(saved)-1])

	// Keep the last two scans: the one before the snapshot is a delta of
	// the version 6 chain, rewritten whole, in chunks.
	p, err := s.PruneWith(ctx, 2, time.Time{})
	if err != nil || p.Materialised != 1 {
		t.Fatalf("prune: %+v, %v", p, err)
	}
	h = hosts[len(hosts)-2]
	if d, c, r := depthOf(t, s, h), count(t, s, "SELECT count(*) FROM chunks WHERE host_id = ?", h), rowsOf(t, s, h); d != 0 || c == 0 || r != 0 {
		t.Errorf("the host rewritten whole: depth %d, %d chunks, %d rows; want chunks only", d, c, r)
	}
	if c := count(t, s, "SELECT fps FROM hosts WHERE id = ?", h); c != 1 {
		t.Errorf("the host rewritten whole: fps %d", c)
	}
	if c := count(t, s, "SELECT count(*) FROM entries"); c != 0 {
		t.Errorf("%d entries rows left: the version 6 rows went with their scans", c)
	}
	for _, i := range []int{len(saved) - 2, len(saved) - 1} {
		checkHost(t, s, hosts[i], saved[i])
	}
	checkChunkHost(t, s, h, sorted(saved[len(saved)-2]))
	h = save(g.night(4))
	if d, r := depthOf(t, s, h), rowsOf(t, s, h); d != 1 || r > 4*4+2 {
		t.Errorf("save after the prune: depth %d, %d rows; want a delta of about 12", d, r)
	}
	checkHost(t, s, h, saved[len(saved)-1])
}
