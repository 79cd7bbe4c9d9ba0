// Package entrysrc is a fake ftpaudit.EntrySource for tests: a walk's
// entries as a spilling store would hold them, over a slice in memory.
//
// Like a store, which decodes every entry anew, a Source hands out fresh
// deep copies from All and from its finders, so that code that kept a
// pointer into the entries, or compared entries by pointer, is caught.
// It can also fail as a store whose temporary file cannot be read back
// (FailAfter, FailOnCall), say a Len other than the number of entries it
// holds (LenDelta), and count how often it is read (Calls). A finder
// keeps its last answer unsynchronised, as a store's does, so that the
// race detector catches a finder shared by goroutines.
package entrysrc

import (
	"iter"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ftpaudit/ftpaudit"
)

// Source is an ftpaudit.EntrySource over a slice of entries. Its
// methods may be called from several goroutines at once, but for
// Rewrite, the options (FailAfter, FailOnCall, LenDelta) and changes to
// Entries, which are for before it is read.
type Source struct {
	// Entries are the entries held, in path order: All yields copies of
	// them. A test may change them before reading the source, for
	// instance swap two to put them out of order.
	Entries []ftpaudit.Entry
	// LenDelta is added to what Len says, for a source that holds more
	// or fewer entries than its Len.
	LenDelta int

	failCall  int // with failAfter >= 0: the call of All that fails, 0 for every one
	failAfter int // how many entries a failing call of All yields; < 0: none fails
	fail      error

	mu     sync.Mutex
	calls  int
	err    error
	closed bool
}

var _ ftpaudit.EntrySource = (*Source)(nil)

// New returns a Source over a copy of es sorted by path, stably (so that
// entries of the same path keep their order), that does not fail.
func New(es []ftpaudit.Entry) *Source {
	s := &Source{Entries: slices.Clone(es), failAfter: -1}
	slices.SortStableFunc(s.Entries, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return s
}

// FailAfter makes every call of All stop after the first n entries, and
// Err then return err, as a store whose temporary file cannot be read
// back past them; a finder finds none of the entries past them either.
// It returns s.
func (s *Source) FailAfter(n int, err error) *Source {
	return s.FailOnCall(0, n, err)
}

// FailOnCall makes only the call-th call of All (counting from 1) stop
// after the first n entries, and Err then return err; the other calls,
// and the finders, see every entry. Call 0 stands for every call, as
// FailAfter. It returns s.
func (s *Source) FailOnCall(call, n int, err error) *Source {
	s.failCall, s.failAfter, s.fail = call, n, err
	return s
}

// Calls is how many times a sequence All returned has been started (the
// reads of the source).
func (s *Source) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Closed reports whether Close has been called.
func (s *Source) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Len is the number of entries plus LenDelta.
func (s *Source) Len() int { return len(s.Entries) + s.LenDelta }

// All yields a fresh deep copy of every entry, in order; a failing call
// (see FailAfter and FailOnCall) stops early and sets Err.
func (s *Source) All() iter.Seq[*ftpaudit.Entry] {
	return func(yield func(*ftpaudit.Entry) bool) {
		s.mu.Lock()
		s.calls++
		fail := s.failAfter >= 0 && (s.failCall == 0 || s.failCall == s.calls)
		s.mu.Unlock()
		for i := range s.Entries {
			if fail && i >= s.failAfter {
				s.mu.Lock()
				if s.err == nil {
					s.err = s.fail
				}
				s.mu.Unlock()
				return
			}
			if !yield(fresh(s.Entries[i])) {
				return
			}
		}
	}
}

// Finder returns a lookup of the last entry at a path, as a fresh deep
// copy (nil when there is none). It is for one goroutine: it keeps its
// last answer without a lock.
func (s *Source) Finder() func(path string) *ftpaudit.Entry {
	es := s.Entries
	if s.failAfter >= 0 && s.failCall == 0 {
		es = es[:min(len(es), s.failAfter)]
	}
	var (
		lastPath string
		last     *ftpaudit.Entry
		lastOK   bool
	)
	return func(p string) *ftpaudit.Entry {
		if lastOK && lastPath == p {
			return last
		}
		// i is the first entry past p: the one before it is the last at p.
		i := sort.Search(len(es), func(i int) bool { return es[i].Path > p })
		var e *ftpaudit.Entry
		if i > 0 && es[i-1].Path == p {
			e = fresh(es[i-1])
		}
		lastPath, last, lastOK = p, e, true
		return e
	}
}

// Err is the error of the first call of All that failed, if any.
func (s *Source) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Rewrite applies f to the entries held (All yields copies of them from
// then on), sorts them by path again (stably) as a real source keeps
// them in path order, and returns how many f reports it changed.
func (s *Source) Rewrite(f func(*ftpaudit.Entry) bool) int {
	n := 0
	for i := range s.Entries {
		if f(&s.Entries[i]) {
			n++
		}
	}
	slices.SortStableFunc(s.Entries, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
	return n
}

// Close records that the source was closed (see Closed).
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// fresh is a deep copy of e.
func fresh(e ftpaudit.Entry) *ftpaudit.Entry {
	if e.Extra != nil {
		x := *e.Extra
		x.Facts = maps.Clone(x.Facts)
		e.Extra = &x
	}
	return &e
}
