package history

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// The encoding of the host data that is only ever read back whole: the
// STAT report (hosts.stat), the probe outcomes (hosts.probes), the
// fetched files (hosts.fetched) and the baseline report (hosts.baseline),
// from schema version 2 on.
//
// Each value is a BLOB that starts with a format version byte,
// hostDataVersion, followed by the fields in a fixed order. The functions
// below write and read every field by hand, never by reflection, so that
// renaming or reordering a Go field cannot change the bytes, and a field
// added to a scanner type is not stored until it is added here, under a
// new format version (TestHostDataFields fails until then).
// TestHostDataGolden pins the bytes of a known value.
//
// Format version 1, field by field:
//   - string: uvarint byte length, then the bytes exactly as they are
//     (invalid UTF-8, NUL, CR and LF included);
//   - bool: one byte, 0 or 1;
//   - integer (int, int64): signed varint (encoding/binary.AppendVarint);
//   - time: one byte 0 for the zero time.Time; otherwise 1, a signed
//     varint of Unix seconds and a uvarint of nanoseconds (0-999999999).
//     It is read back in UTC, like every time in the database;
//   - []byte and []string that may be nil: uvarint count+1, 0 meaning
//     nil, then the bytes, or the strings as above;
//   - a list of structs: uvarint count, then each struct's fields.
//
// Format version 2 changes the stat value only: Batched and
// BatchesRefused follow Resyncs. A stat value in version 1 (written
// before STATs were batched) reads back with both 0, which is what such
// a scan did; the other values are still written in version 1.
//
// The values:
//   - stat: Used, Note, Listed, Fallbacks, Resyncs (and, in version 2,
//     Batched, BatchesRefused);
//   - probes: the list of ProbeResult: Dir, File (a ProbeStep), Mkdir (a
//     ProbeStep), Readable, Skipped; a ProbeStep is Tried, Accepted,
//     Reply, Removed, RemoveReply, Path;
//   - fetched: the list of FetchedFile: Path, Data, Err;
//   - baseline: ScanID, Started, Added, Removed, Changed, NotCompared,
//     NotComparedDirs, Note.
//
// A nil STAT or baseline report, and an empty list of probes or fetched
// files, is NULL. A value in a format version above hostDataVersion was
// written by a newer ftpaudit; it is refused with ErrNewerSchema, never
// guessed at.

// hostDataVersion is the highest format version written and read.
const hostDataVersion = 2

// hostData starts a value in format version v: its version byte.
func hostData(v byte) []byte {
	return append(make([]byte, 0, 64), v)
}

// openHostData checks a value's format version and returns a decoder of
// its fields.
func openHostData(b []byte) (*decoder, error) {
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w (no format version)", errCodec)
	case b[0] == 0:
		return nil, fmt.Errorf("%w (format version 0)", errCodec)
	case b[0] > hostDataVersion:
		return nil, fmt.Errorf("%w: value in format version %d, this ftpaudit reads versions up to %d",
			ErrNewerSchema, b[0], hostDataVersion)
	}
	return &decoder{b: b[1:], version: b[0]}, nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendInt(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendOptBytes(b, v []byte) []byte {
	if v == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(v))+1)
	return append(b, v...)
}

func appendOptList(b []byte, l []string) []byte {
	if l == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(l))+1)
	for _, s := range l {
		b = appendStr(b, s)
	}
	return b
}

// encodeStat encodes a STAT report; nil is NULL.
func encodeStat(r *ftpaudit.StatReport) []byte {
	if r == nil {
		return nil
	}
	b := hostData(2)
	b = appendBool(b, r.Used)
	b = appendStr(b, r.Note)
	b = appendInt(b, r.Listed)
	b = appendInt(b, r.Fallbacks)
	b = appendInt(b, r.Resyncs)
	b = appendInt(b, r.Batched)
	return appendInt(b, r.BatchesRefused)
}

// decodeStat reverses encodeStat.
func decodeStat(b []byte) (*ftpaudit.StatReport, error) {
	if b == nil {
		return nil, nil
	}
	d, err := openHostData(b)
	if err != nil {
		return nil, err
	}
	r := &ftpaudit.StatReport{}
	r.Used = d.bool()
	r.Note = d.str()
	r.Listed = d.int64()
	r.Fallbacks = d.int64()
	r.Resyncs = d.int64()
	if d.version >= 2 {
		r.Batched = d.int64()
		r.BatchesRefused = d.int64()
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return r, nil
}

// encodeProbes encodes probe outcomes; an empty list is NULL.
func encodeProbes(l []ftpaudit.ProbeResult) []byte {
	if len(l) == 0 {
		return nil
	}
	b := hostData(1)
	b = binary.AppendUvarint(b, uint64(len(l)))
	for i := range l {
		p := &l[i]
		b = appendStr(b, p.Dir)
		b = appendProbeStep(b, &p.File)
		b = appendProbeStep(b, &p.Mkdir)
		b = appendBool(b, p.Readable)
		b = appendStr(b, p.Skipped)
	}
	return b
}

func appendProbeStep(b []byte, s *ftpaudit.ProbeStep) []byte {
	b = appendBool(b, s.Tried)
	b = appendBool(b, s.Accepted)
	b = appendStr(b, s.Reply)
	b = appendBool(b, s.Removed)
	b = appendStr(b, s.RemoveReply)
	return appendStr(b, s.Path)
}

// decodeProbes reverses encodeProbes.
func decodeProbes(b []byte) ([]ftpaudit.ProbeResult, error) {
	if b == nil {
		return nil, nil
	}
	d, err := openHostData(b)
	if err != nil {
		return nil, err
	}
	// Grown as read, not made n long: a damaged count must not allocate
	// more than the value's size.
	n := d.count()
	var l []ftpaudit.ProbeResult
	for i := 0; i < n && d.err == nil; i++ {
		var p ftpaudit.ProbeResult
		p.Dir = d.str()
		d.probeStep(&p.File)
		d.probeStep(&p.Mkdir)
		p.Readable = d.bool()
		p.Skipped = d.str()
		l = append(l, p)
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return l, nil
}

func (d *decoder) probeStep(s *ftpaudit.ProbeStep) {
	s.Tried = d.bool()
	s.Accepted = d.bool()
	s.Reply = d.str()
	s.Removed = d.bool()
	s.RemoveReply = d.str()
	s.Path = d.str()
}

// encodeFetched encodes fetched files; an empty list is NULL.
func encodeFetched(l []ftpaudit.FetchedFile) []byte {
	if len(l) == 0 {
		return nil
	}
	b := hostData(1)
	b = binary.AppendUvarint(b, uint64(len(l)))
	for i := range l {
		f := &l[i]
		b = appendStr(b, f.Path)
		b = appendOptBytes(b, f.Data)
		b = appendStr(b, f.Err)
	}
	return b
}

// decodeFetched reverses encodeFetched.
func decodeFetched(b []byte) ([]ftpaudit.FetchedFile, error) {
	if b == nil {
		return nil, nil
	}
	d, err := openHostData(b)
	if err != nil {
		return nil, err
	}
	n := d.count()
	var l []ftpaudit.FetchedFile // grown as read, like probes
	for i := 0; i < n && d.err == nil; i++ {
		var f ftpaudit.FetchedFile
		f.Path = d.str()
		f.Data = d.optBytes()
		f.Err = d.str()
		l = append(l, f)
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return l, nil
}

// encodeBaseline encodes a baseline report; nil is NULL.
func encodeBaseline(r *ftpaudit.BaselineReport) []byte {
	if r == nil {
		return nil
	}
	b := hostData(1)
	b = appendInt(b, r.ScanID)
	b = appendTime(b, r.Started)
	b = appendInt(b, int64(r.Added))
	b = appendInt(b, int64(r.Removed))
	b = appendInt(b, int64(r.Changed))
	b = appendInt(b, int64(r.NotCompared))
	b = appendOptList(b, r.NotComparedDirs)
	return appendStr(b, r.Note)
}

// decodeBaseline reverses encodeBaseline.
func decodeBaseline(b []byte) (*ftpaudit.BaselineReport, error) {
	if b == nil {
		return nil, nil
	}
	d, err := openHostData(b)
	if err != nil {
		return nil, err
	}
	r := &ftpaudit.BaselineReport{}
	r.ScanID = d.int64()
	r.Started = d.time()
	r.Added = d.int()
	r.Removed = d.int()
	r.Changed = d.int()
	r.NotCompared = d.int()
	r.NotComparedDirs = d.optList()
	r.Note = d.str()
	if err := d.done(); err != nil {
		return nil, err
	}
	return r, nil
}
