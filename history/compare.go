package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/readahead"
)

// Reading a saved host for a comparison with a walk, by fingerprint.

// denseAfter and denseShare decide when EntryAttrsBeside stops reading by
// fingerprint: once it has read more than denseAfter rows whole, one at
// a time, and they are more than denseShare of the rows so far, it reads
// the rest in one ordered query, as EntryAttrs does. Variables so that
// tests can lower them.
var (
	denseAfter = 4096
	denseShare = 0.125
)

// besideHook, when set (tests), is called with the number of rows
// EntryAttrsBeside read whole one at a time, and whether it went on to
// read the rest in one query, when it ends.
var besideHook func(wholes int, dense bool)

// EntryAttrsBeside yields what EntryAttrs yields for host hostID, in the
// same order, for a comparison with cur, the entries of a walk in path
// order, streamed (HostResult.AllEntries): an entry saved exactly as
// cur's entry at the same path (every stored attribute the same, byte for
// byte, as their fingerprints say) is not read back, and cur's entry is
// yielded in its place, facts and raw lines included. cur is only
// compared with, never trusted: when it is out of order, or stops early
// (a Source that cannot be read back: the caller learns it from
// HostResult.EntriesErr), what is yielded is the same, at the cost of
// reading more entries whole.
// Only the entries that differ are read whole, one at a time, so that
// comparing a walk with a saved scan costs reading the saved scan's keys
// and fingerprints, and decoding what changed (an entry of a snapshot in
// chunks by decoding its chunk up to it, and the next one asked for in
// the same chunk from there). When most entries differ it reads the rest
// whole, as EntryAttrs does. Memory does not grow with the number of
// entries. An error is yielded once, last; a host that does not exist
// yields ErrNotFound.
func (s *Store) EntryAttrsBeside(ctx context.Context, hostID int64, cur iter.Seq[*ftpaudit.Entry]) iter.Seq2[ftpaudit.Entry, error] {
	return func(yield func(ftpaudit.Entry, error) bool) {
		fail := func(err error) {
			if !errors.Is(err, ErrNotFound) && ctx.Err() == nil {
				err = s.dbErr(fmt.Sprintf("entries of host %d", hostID), err)
			}
			yield(ftpaudit.Entry{}, err)
		}
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			fail(err)
			return
		}
		defer func() { _ = tx.Rollback() }()
		if err := hostExistsIn(ctx, tx, hostID); err != nil {
			fail(err)
			return
		}
		whole, err := tx.PrepareContext(ctx, `SELECT dup, `+entryColsLean+` FROM entries WHERE host_id = ? AND path = ? AND dup = ?`)
		if err != nil {
			fail(err)
			return
		}
		defer whole.Close()
		var r entryRow
		r.lean = true
		chunked := map[int64]bool{} // by layer
		finder := newChunkFinder(tx)
		read := func(layer int64, path string, dup int64) (ftpaudit.Entry, error) {
			c, ok := chunked[layer]
			if !ok {
				var err error
				if c, err = hasChunks(ctx, tx, layer); err != nil {
					return ftpaudit.Entry{}, err
				}
				chunked[layer] = c
			}
			if c {
				return finder.find(ctx, layer, path, dup)
			}
			rows, err := whole.QueryContext(ctx, layer, blobOf(path), dup)
			if err != nil {
				return ftpaudit.Entry{}, err
			}
			defer rows.Close()
			if !rows.Next() {
				if err := rows.Err(); err != nil {
					return ftpaudit.Entry{}, err
				}
				return ftpaudit.Entry{}, fmt.Errorf("entry %q (%d) of host %d is gone", path, dup, layer)
			}
			return r.scan(rows)
		}

		// The keys and fingerprints are read ahead on another core,
		// while cur's are computed on this one.
		ahead, stopAhead := readahead.Seq(readFingerprints(ctx, tx, hostID, s.key, true), fingerprintBatch)
		defer stopAhead() // before the rollback
		p := newRowPacker(0, s.key)
		nextCur, stopCur := iter.Pull2(withDups(cur))
		defer stopCur()
		var (
			ce   *ftpaudit.Entry
			cdup int64
			cok  bool
		)
		advance := func() { ce, cdup, cok = nextCur() }
		advance()
		rows, wholes, dense := 0, 0, false
		if besideHook != nil {
			defer func() { besideHook(wholes, dense) }()
		}
		// k is declared here, not by the loop: its address is taken, and
		// a variable of each iteration's own would be on the heap.
		var k keyedEntry
		for kk, err := range ahead {
			if err != nil {
				fail(err)
				return
			}
			k = kk
			rows++
			for cok && keyCmpAt(&k, ce.Path, cdup) > 0 {
				advance()
			}
			if cok && keyCmpAt(&k, ce.Path, cdup) == 0 {
				if p.pack(ce, cdup); p.fp == k.fp {
					if !yield(*ce, nil) {
						return
					}
					continue
				}
			}
			e := k.e
			if !k.whole {
				if wholes++; wholes > denseAfter && float64(wholes) > denseShare*float64(rows) {
					// Dense changes: the rest in one ordered query.
					dense = true
					stopAhead()
					from, fromDup := k.e.Path, k.dup
					for k2, err := range readKeyedFrom(ctx, tx, hostID, true, from) {
						if err != nil {
							fail(err)
							return
						}
						if keyCmpAt(&k2, from, fromDup) >= 0 && !yield(k2.e, nil) {
							return
						}
					}
					return
				}
				if e, err = read(k.layer, k.e.Path, k.dup); err != nil {
					fail(err)
					return
				}
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// withDups yields the entries of seq, in path order, each with its dup:
// its rank among the entries of its path, from 0, as keyed gives it
// (keyed also checks the order).
func withDups(seq iter.Seq[*ftpaudit.Entry]) iter.Seq2[*ftpaudit.Entry, int64] {
	return func(yield func(*ftpaudit.Entry, int64) bool) {
		var prev *ftpaudit.Entry
		dup := int64(0)
		for e := range seq {
			if prev != nil && prev.Path == e.Path {
				dup++
			} else {
				dup = 0
			}
			prev = e
			if !yield(e, dup) {
				return
			}
		}
	}
}
