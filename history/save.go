package history

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Writing a scan: the scan, host and finding rows, in one transaction
// (the entries by chain.go, entries.go and chunks.go).

// saveHook, when set (tests), is called during Save after every
// saveHookEvery entries inserted, with the count so far in the current
// host.
var (
	saveHook      func(n int)
	saveHookEvery = 4096
)

// Save records r in one transaction and returns the new scan's id: the
// scan, each host with everything its HostResult holds, every entry with
// every attribute, and every finding, tied to its host by Host (the
// target URL) and, when several hosts share the URL, by the start
// directory its Path lies under. args is the command line to remember;
// it must not hold secrets. A host whose target and start directory
// were saved before is stored as the changes from that save (chain.go);
// it reads back the same. A host's entries are streamed from it
// (HostResult.AllEntries: from its Source, never all in memory); when
// they cannot all be read back (HostResult.EntriesErr), the save fails.
// Nothing is committed before the end: a save that fails, is cancelled
// or killed leaves the history as it was.
// Save does not set r.SavedID.
func (s *Store) Save(ctx context.Context, r *ftpaudit.Result, args string) (int64, error) {
	sv, err := s.SaveWith(ctx, r, args, SaveOptions{})
	return sv.ID, err
}

// SaveWith is Save with options: with opt.AutoAccept, every complete host
// whose target and start directory has no accepted baseline yet is
// accepted as its first, in the same transaction.
func (s *Store) SaveWith(ctx context.Context, r *ftpaudit.Result, args string, opt SaveOptions) (Saved, error) {
	if r == nil {
		return Saved{}, errors.New("save scan: no result")
	}
	for i, h := range r.Hosts {
		if h == nil {
			return Saved{}, fmt.Errorf("save scan: host %d has no result", i)
		}
	}
	if opt.AutoAccept && opt.By == "" {
		return Saved{}, errors.New("save scan: automatic acceptance needs a name to record")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return Saved{}, s.dbErr("save scan", err)
	}
	defer conn.Close()
	var sv Saved
	var saveErr error
	err = conn.Raw(func(dc any) error {
		c, err := newRawConn(dc)
		if err != nil {
			saveErr = err
			return nil
		}
		if _, err := c.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
			saveErr = s.dbErr("save scan: begin", err)
			return nil
		}
		sv, saveErr = s.save(ctx, c, r, args, opt)
		if saveErr == nil {
			saveErr = ctx.Err()
		}
		if saveErr == nil {
			// Not ctx: a cancellation arriving during the commit could
			// report failure for a scan that was saved.
			if _, err := c.exec(context.Background(), "COMMIT"); err != nil {
				saveErr = s.dbErr("save scan: commit", err)
			}
		}
		if saveErr != nil {
			// Not ctx: the rollback must run after a cancellation too.
			if _, err := c.exec(context.Background(), "ROLLBACK"); err != nil {
				return driver.ErrBadConn // drop the connection
			}
		}
		return nil
	})
	if saveErr != nil {
		return Saved{}, saveErr
	}
	if err != nil {
		return Saved{}, s.dbErr("save scan", err)
	}
	return sv, nil
}

// saveTx holds the statements of one save transaction.
type saveTx struct {
	c                                                     *rawConn
	entry, chunk, note, finding, unlisted, delta, removed *rawStmt
}

func (t *saveTx) close() {
	for _, st := range []*rawStmt{t.entry, t.chunk, t.note, t.finding, t.unlisted, t.delta, t.removed} {
		if st != nil {
			st.close()
		}
	}
}

// save writes the rows of one scan inside the caller's transaction.
func (s *Store) save(ctx context.Context, c *rawConn, r *ftpaudit.Result, args string, opt SaveOptions) (Saved, error) {
	started, err := nanoValue(r.Started)
	if err != nil {
		return Saved{}, fmt.Errorf("save scan: start %w", err)
	}
	finished, err := nanoValue(r.Finished)
	if err != nil {
		return Saved{}, fmt.Errorf("save scan: end %w", err)
	}
	scanID, err := c.insert(ctx, `INSERT INTO scans (started, finished, saved, complete, args) VALUES (?, ?, ?, ?, ?)`,
		started, finished, time.Now().UnixNano(), r.Complete(), args)
	if err != nil {
		return Saved{}, s.dbErr("save scan", err)
	}

	t := &saveTx{c: c}
	defer t.close()
	for _, p := range []struct {
		st **rawStmt
		q  string
	}{
		{&t.entry, insertEntrySQL},
		{&t.chunk, insertChunkSQL},
		{&t.delta, `INSERT INTO deltas (host_id, base_id, depth, chain_rows) VALUES (?, ?, ?, ?)`},
		{&t.removed, `INSERT INTO removed_entries (host_id, path, dup) VALUES (?, ?, ?)`},
		{&t.note, `INSERT INTO path_notes (host_id, kind, seq, path, message) VALUES (?, ?, ?, ?, ?)`},
		{&t.unlisted, `INSERT INTO not_listed (host_id, seq, path, kind, reason, cause, acc_glob, acc_reason, acc_kind)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&t.finding, `INSERT INTO findings (scan_id, host_id, host, path, rule, severity, evidence, size, mtime, mtime_ns, action)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		if *p.st, err = c.prepare(ctx, p.q); err != nil {
			return Saved{}, s.dbErr("save scan", err)
		}
	}

	// Which host each finding belongs to (-1: none).
	owner := make([]int, len(r.Findings))
	counts := make([]int64, len(r.Hosts))
	for i := range r.Findings {
		owner[i] = findingHost(r.Hosts, &r.Findings[i])
		if owner[i] >= 0 {
			counts[owner[i]]++
		}
	}

	hostIDs := make([]int64, len(r.Hosts))
	for i, h := range r.Hosts {
		hostIDs[i], err = s.saveHost(ctx, t, scanID, i, h, counts[i])
		if err != nil {
			return Saved{}, fmt.Errorf("save scan: host %s: %w", h.Target.URL, err)
		}
		if err := s.saveHostEntries(ctx, t, hostIDs[i], h); err != nil {
			return Saved{}, fmt.Errorf("save scan: host %s: %w", h.Target.URL, err)
		}
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		var hostID any
		if owner[i] >= 0 {
			hostID = hostIDs[owner[i]]
		}
		sec, nsec := secValues(f.Modified)
		err := t.finding.exec(ctx, scanID, hostID, f.Host, blobOf(f.Path), f.Rule, int64(f.Severity), encodeList(f.Evidence),
			f.Size, sec, nsec, f.Action)
		if err != nil {
			return Saved{}, s.dbErr("save scan: finding", err)
		}
	}
	sv := Saved{ID: scanID}
	if opt.AutoAccept {
		hosts := make([]savedHost, len(r.Hosts))
		for i, h := range r.Hosts {
			hosts[i] = savedHost{id: hostIDs[i], target: h.Target.URL, start: h.Target.Start, complete: h.Complete}
		}
		if sv.Accepted, err = autoAccept(ctx, c, scanID, hosts, opt.By); err != nil {
			return Saved{}, s.dbErr("save scan: accept", err)
		}
	}
	return sv, nil
}

// findingHost returns the index of the host f belongs to: the first whose
// URL is f.Host and whose start directory holds f.Path, else the first
// with that URL; -1 when none has it.
func findingHost(hosts []*ftpaudit.HostResult, f *ftpaudit.Finding) int {
	first := -1
	for i, h := range hosts {
		if h.Target.URL != f.Host {
			continue
		}
		if under(f.Path, h.Target.Start) {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// under reports whether path is dir or lies below it.
func under(path, dir string) bool {
	if dir == "/" || path == dir {
		return true
	}
	return strings.HasPrefix(path, dir) && strings.HasPrefix(path[len(dir):], "/")
}

// saveHost inserts a host's row and its path notes; findings is the
// number of findings saved with it.
func (s *Store) saveHost(ctx context.Context, t *saveTx, scanID int64, seq int, h *ftpaudit.HostResult, findings int64) (int64, error) {
	started, err := nanoValue(h.Started)
	if err != nil {
		return 0, fmt.Errorf("start %w", err)
	}
	finished, err := nanoValue(h.Finished)
	if err != nil {
		return 0, fmt.Errorf("end %w", err)
	}
	tg, in, st := h.Target, h.Info, h.Stats
	id, err := t.c.insert(ctx, `INSERT INTO hosts (scan_id, seq, target, start, host, port, user, tls,
		banner, features, login, mlsd, paired, started, finished, complete, incomplete, login_error,
		dirs, files, links, other, unreadable, errors, listed, bad_lines,
		stat, probes, fetched, baseline, n_entries, n_findings, fps)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		scanID, int64(seq), tg.URL, blobOf(tg.Start), tg.Host, tg.Port, tg.User, string(tg.TLS),
		in.Banner, encodeList(in.Features), in.Login, in.MLSD, in.Paired, started, finished, h.Complete, encodeList(h.Incomplete), h.LoginError,
		int64(st.Dirs), int64(st.Files), int64(st.Links), int64(st.Other), int64(st.Unreadable), int64(st.Errors), int64(st.Listed), int64(st.BadLines),
		encodeStat(h.Stat), encodeProbes(h.Probes), encodeFetched(h.Fetched), encodeBaseline(h.Baseline),
		int64(h.NumEntries()), findings)
	if err != nil {
		return 0, s.dbErr("insert", err)
	}
	if err := s.saveNotes(ctx, t, id, h); err != nil {
		return 0, err
	}
	return id, nil
}

// saveNotes inserts a host's errors, unreadable directories and notes.
func (s *Store) saveNotes(ctx context.Context, t *saveTx, hostID int64, h *ftpaudit.HostResult) error {
	for _, l := range []struct {
		kind string
		pe   []ftpaudit.PathError
	}{{kindError, h.Errors}, {kindUnreadable, h.Unreadable}, {kindNote, h.Notes}} {
		for i, pe := range l.pe {
			if err := t.note.exec(ctx, hostID, l.kind, int64(i), blobOf(pe.Path), pe.Error); err != nil {
				return s.dbErr("insert "+l.kind, err)
			}
		}
	}
	for i, u := range h.NotListed {
		var glob, reason, kind any
		if a := u.Accepted; a != nil {
			glob, reason, kind = a.Glob, a.Reason, string(a.Kind)
		}
		if err := t.unlisted.exec(ctx, hostID, int64(i), blobOf(u.Path), string(u.Kind), u.Reason, u.Cause, glob, reason, kind); err != nil {
			return s.dbErr("insert not listed", err)
		}
	}
	return nil
}

// Kinds of path_notes rows.
const (
	kindError      = "error"
	kindUnreadable = "unreadable"
	kindNote       = "note"
)

// blobOf binds s as a BLOB. The empty string is an empty BLOB, not NULL:
// converting a string to []byte never yields nil.
func blobOf(s string) []byte { return []byte(s) }
