package history

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"iter"

	"github.com/ftpaudit/ftpaudit"
)

// Fingerprints (schema version 6).
//
// Every entries row saved since version 6 carries a fingerprint (fp): the
// first 8 bytes of HMAC-SHA-256, as an INTEGER, under the database's own
// random key, of the row's stored columns other than its key (host_id,
// path, dup), each written as NULL or as its length and bytes. Two rows
// of one key store the same values exactly when their fingerprints are
// equal, but for a chance of 2^-64 per comparison; and the key is secret
// to the database, so that a server cannot choose names or listing lines
// that collide: without the key, a change it makes goes unseen only by
// that chance.
//
// So a save finds what changed since its base (chain.go), and a
// comparison of a saved scan with a walk what differs (compare.go), by
// reading only path, dup and fp of the rows (fingerprintRows), in key
// order, and decoding whole only the rows that differ. A snapshot in
// chunks (chunks.go, schema version 7) stores each entry's fingerprint
// as its row would, in the chunk's keys column, read without the rest.
// Rows saved before version 6 have none (fp NULL, hosts.fps 0): they are
// read whole and fingerprinted as they are read, which costs what
// comparing cost before.

// fpDigits is the length of a fingerprint written as a signed decimal
// of fixed width, as a row's packed bytes carry it (putDigits): a sign
// and 19 digits.
const fpDigits = 20

// putDigits writes v into b (fpDigits bytes) as a sign and 19 decimal
// digits, which SQLite's CAST AS INTEGER reads back as v.
func putDigits(b []byte, v int64) {
	u := uint64(v)
	b[0] = '+'
	if v < 0 {
		b[0], u = '-', -u
	}
	for i := fpDigits - 1; i > 0; i-- {
		b[i] = byte('0' + u%10)
		u /= 10
	}
}

// keySize is the length of the fingerprint key in bytes.
const keySize = 32

// makeFingerprintKey is the Go step of schema version 6: it makes the
// database's fingerprint key.
func makeFingerprintKey(ctx context.Context, conn *sql.Conn) error {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("fingerprint key: %w", err)
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO fp_key (id, key) VALUES (1, ?)`, key)
	return err
}

// loadKey reads the database's fingerprint key.
func (s *Store) loadKey(ctx context.Context) error {
	var key []byte
	err := s.db.QueryRowContext(ctx, `SELECT key FROM fp_key WHERE id = 1`).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && len(key) != keySize) {
		return fmt.Errorf("%s is %w, or is damaged: no fingerprint key", s.path, errNotHistory)
	}
	if err != nil {
		return s.openErr(err)
	}
	s.key = key
	return nil
}

// fingerprinter computes the fingerprints of rows packed by a rowPacker.
type fingerprinter struct {
	mac   hash.Hash
	canon []byte // the encoding of the row that is hashed
	sum   []byte
}

func newFingerprinter(key []byte) *fingerprinter {
	return &fingerprinter{mac: hmac.New(sha256.New, key), sum: make([]byte, 0, sha256.Size)}
}

// of returns the fingerprint of the row p holds (p.pack): each column
// after path, in entryFields order, as 0 when NULL, else as the uvarint of
// its length plus one followed by its bytes.
func (f *fingerprinter) of(p *rowPacker) int64 {
	f.canon = f.canon[:0]
	for i := fName; i < numFields; i++ {
		b, null := p.field(i)
		if null {
			f.canon = append(f.canon, 0)
			continue
		}
		f.canon = binary.AppendUvarint(f.canon, uint64(len(b))+1)
		f.canon = append(f.canon, b...)
	}
	f.mac.Reset()
	f.mac.Write(f.canon)
	f.sum = f.mac.Sum(f.sum[:0])
	return int64(binary.BigEndian.Uint64(f.sum))
}

// hostHasFingerprints reports whether every entries row of host hostID
// has its fingerprint.
func hostHasFingerprints(ctx context.Context, q queryer, hostID int64) (bool, error) {
	var fps bool
	err := q.QueryRowContext(ctx, `SELECT fps FROM hosts WHERE id = ?`, hostID).Scan(&fps)
	return fps, err
}

// fingerprintRows yields the entries of one host (one layer of a chain)
// in key order, each as its key and fingerprint (keyedEntry.e holds only
// Path), from its chunks (chunks.go) when it has any, else from its
// entries rows. Rows saved before version 6 are read whole and
// fingerprinted with key; they keep their decoded entry in keyedEntry.e
// (lean: without facts and raw lines), and keyedEntry.whole says so.
func fingerprintRows(ctx context.Context, q queryer, hostID int64, key []byte, lean bool) iter.Seq2[keyedEntry, error] {
	return func(yield func(keyedEntry, error) bool) {
		chunked, err := hasChunks(ctx, q, hostID)
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		if chunked {
			for k, err := range chunkRows(ctx, q, hostID, chunkKeys, "") {
				if !yield(k, err) || err != nil {
					return
				}
			}
			return
		}
		fps, err := hostHasFingerprints(ctx, q, hostID)
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		if !fps {
			p := newRowPacker(0, key)
			for k, err := range snapshotRows(ctx, q, hostID, false, "") {
				if err == nil {
					p.pack(&k.e, k.dup)
					k.fp, k.whole = p.fp, true
					if lean {
						k.e = leanOf(k.e)
					}
				}
				if !yield(k, err) || err != nil {
					return
				}
			}
			return
		}
		// The path as TEXT (the same bytes): the driver makes a string
		// of it, which is kept, instead of a []byte to copy.
		rows, err := q.QueryContext(ctx, `SELECT CAST(path AS TEXT), dup, fp FROM entries WHERE host_id = ? ORDER BY path, dup`, hostID)
		if err != nil {
			yield(keyedEntry{}, err)
			return
		}
		defer rows.Close()
		// Scanned into variables of their own, not into a keyedEntry:
		// taking the address of its field would put every row's on the
		// heap.
		var path string
		var dup int64
		var fp sql.NullInt64
		for rows.Next() {
			if err := rows.Scan(&path, &dup, &fp); err != nil {
				yield(keyedEntry{}, err)
				return
			}
			if !fp.Valid {
				yield(keyedEntry{}, fmt.Errorf("entry %q of host %d has no fingerprint: %w", path, hostID, errCodec))
				return
			}
			if !yield(keyedEntry{e: ftpaudit.Entry{Path: path}, dup: dup, fp: fp.Int64}, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(keyedEntry{}, err)
		}
	}
}

// leanOf returns e as EntryAttrs reads it: without the MLSD facts and
// the raw lines.
func leanOf(e ftpaudit.Entry) ftpaudit.Entry {
	e.Raw = ""
	if x := e.Extra; x != nil {
		e.Extra = nil
		if x.Perm != "" || x.Unique != "" || x.Target != "" {
			e.Extra = &ftpaudit.EntryExtra{Perm: x.Perm, Unique: x.Unique, Target: x.Target}
		}
	}
	return e
}

// readFingerprints yields the rows of host hostID as saved, merging its
// chain, in key order, as fingerprintRows yields them; q must be a read
// transaction (or hold the write lock) so that the layers agree. Each
// row's layer is the host whose entries row it is.
func readFingerprints(ctx context.Context, q queryer, hostID int64, key []byte, lean bool) iter.Seq2[keyedEntry, error] {
	return mergeChain(ctx, q, hostID, "", func(layer int64) iter.Seq2[keyedEntry, error] {
		return fingerprintRows(ctx, q, layer, key, lean)
	})
}
