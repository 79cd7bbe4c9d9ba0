package ftpaudit

import (
	"iter"
	"slices"
	"sort"
	"strings"
)

// EntrySource holds a walked host's entries where HostResult.Entries
// would hold too many: a walk keeps its listings in a compact form and
// spills them to a temporary file past a memory budget (see
// internal/entrystore), and reads them back in path order for each
// consumer, so that memory does not grow with the archive.
type EntrySource interface {
	// Len is the number of entries.
	Len() int
	// All yields every entry in path order (byte order; of entries with
	// the same path, in the order their listings were recorded). A
	// yielded *Entry is not reused: it may be kept. All may be called
	// any number of times, also at once from several goroutines. When the
	// entries cannot be read back, All stops early and Err says why.
	All() iter.Seq[*Entry]
	// Finder returns a lookup of the entry at a path (nil when there is
	// none; of entries sharing a path, the last one All yields), for use
	// by one goroutine.
	Finder() func(path string) *Entry
	// Err is the first error reading the entries back, if any.
	Err() error
	// Rewrite applies f to every entry, as All yields them from then on
	// (Result.Redact uses it), and returns how many entries f changed
	// (f reports whether it changed one). It must not be called while
	// All or a Finder is in use.
	Rewrite(f func(*Entry) bool) int
	// Close releases the source (its temporary file).
	Close() error
}

// NumEntries is the number of the host's entries.
func (h *HostResult) NumEntries() int {
	if h.Source != nil {
		return h.Source.Len()
	}
	return len(h.Entries)
}

// AllEntries yields every entry of the host in path order (of entries
// with the same path, in the order of Entries), from Source or from
// Entries (sorted first when a hand-made Entries is not).
func (h *HostResult) AllEntries() iter.Seq[*Entry] {
	if h.Source != nil {
		return h.Source.All()
	}
	es := h.Entries
	if !entriesSorted(es) {
		ps := sortedPointers(es)
		return func(yield func(*Entry) bool) {
			for _, e := range ps {
				if !yield(e) {
					return
				}
			}
		}
	}
	return func(yield func(*Entry) bool) {
		for i := range es {
			if !yield(&es[i]) {
				return
			}
		}
	}
}

// EntryFinder returns a lookup of the host's entry at a path: nil when
// there is none; of entries sharing a path, the last one AllEntries
// yields. A finder is for one goroutine; it keeps its last answer, since
// callers ask about one directory many times in a row.
func (h *HostResult) EntryFinder() func(path string) *Entry {
	if h.Source != nil {
		return h.Source.Finder()
	}
	es := h.Entries
	var ps []*Entry
	if !entriesSorted(es) {
		ps = sortedPointers(es)
	}
	at := func(i int) *Entry {
		if ps != nil {
			return ps[i]
		}
		return &es[i]
	}
	var (
		lastPath string
		last     *Entry
		lastOK   bool
	)
	return func(p string) *Entry {
		if lastOK && lastPath == p {
			return last
		}
		i := sort.Search(len(es), func(i int) bool { return at(i).Path > p })
		var e *Entry
		if i > 0 && at(i-1).Path == p {
			e = at(i - 1)
		}
		lastPath, last, lastOK = p, e, true
		return e
	}
}

// EntriesErr is the error that stopped reading the host's entries back
// (Source), if any: a report made while it is set has not seen every
// entry.
func (h *HostResult) EntriesErr() error {
	if h.Source != nil {
		return h.Source.Err()
	}
	return nil
}

// EntryList returns every entry of the host in path order, as one slice:
// for tests and small results (it holds every entry in memory).
func (h *HostResult) EntryList() []Entry {
	if h.Source == nil && entriesSorted(h.Entries) {
		return h.Entries
	}
	out := make([]Entry, 0, h.NumEntries())
	for e := range h.AllEntries() {
		out = append(out, *e)
	}
	return out
}

// Close releases the host's Source, if any.
func (h *HostResult) Close() error {
	if h.Source == nil {
		return nil
	}
	return h.Source.Close()
}

// Close releases every host's Source.
func (r *Result) Close() error {
	var first error
	for _, h := range r.Hosts {
		if err := h.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// entriesSorted reports whether es is in non-decreasing path order: one
// pass comparing paths in place.
func entriesSorted(es []Entry) bool {
	for i := 1; i < len(es); i++ {
		if es[i].Path < es[i-1].Path {
			return false
		}
	}
	return true
}

// sortedPointers is es in path order, stably.
func sortedPointers(es []Entry) []*Entry {
	ps := make([]*Entry, len(es))
	for i := range es {
		ps[i] = &es[i]
	}
	slices.SortStableFunc(ps, func(a, b *Entry) int { return strings.Compare(a.Path, b.Path) })
	return ps
}
