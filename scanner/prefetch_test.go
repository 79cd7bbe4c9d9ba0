package scanner

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// preSession is a memSession that can prefetch: it records each batch,
// and fails the batches failAt lists (1 = the first) by losing the
// session.
type preSession struct {
	memSession
	p *preLog
}

type preLog struct {
	mu      sync.Mutex
	batches [][]string
	failAt  map[int]bool
}

func (s *preSession) Prefetches() bool { return true }

func (s *preSession) Prefetch(ctx context.Context, dirs []string) error {
	s.p.mu.Lock()
	s.p.batches = append(s.p.batches, slices.Clone(dirs))
	fail := s.p.failAt[len(s.p.batches)]
	s.p.mu.Unlock()
	if fail {
		s.closed = true
		s.m.open.Add(-1)
		return fmt.Errorf("stat %v: %w: reset", dirs, ftpaudit.ErrConnLost)
	}
	return nil
}

func wideMem() *memTree {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{}}
	var root []ftpaudit.Entry
	for i := range 120 {
		top := fmt.Sprintf("/d%03d", i)
		root = append(root, d(top[1:]))
		m.dirs[top] = []ftpaudit.Entry{d("x"), d("y"), f("file")}
		m.dirs[top+"/x"] = []ftpaudit.Entry{f("a"), f("b")}
		m.dirs[top+"/y"] = []ftpaudit.Entry{f("c")}
	}
	m.dirs["/"] = root
	return m
}

// TestWalkPrefetch: sessions that prefetch are handed batches of the
// directories the worker took at once, and the walk is the same as one
// without: every directory listed once, the same entries, complete. A
// batch that loses its session puts its directories back, uncounted, to
// be listed on their own, and prefetching stops for the host.
func TestWalkPrefetch(t *testing.T) {
	plain := wideMem()
	want := walkMem(t, plain, WalkOptions{Connections: 4})
	if !want.Complete || len(paths(want)) != 120*7 {
		t.Fatalf("plain walk: complete %v, %d paths", want.Complete, len(paths(want)))
	}
	for _, fail := range []map[int]bool{nil, {1: true}, {3: true}} {
		t.Run(fmt.Sprintf("fail %v", fail), func(t *testing.T) {
			m := wideMem()
			p := &preLog{failAt: fail}
			connect := func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
				s, info, err := m.connector()(ctx)
				if err != nil {
					return nil, info, err
				}
				return &preSession{memSession: *s.(*memSession), p: p}, info, nil
			}
			ctx := context.Background()
			got := Walk(ctx, ftpaudit.Target{URL: "ftp://mem", Start: "/"}, connect, WalkOptions{Connections: 4, Backoff: 1})
			if !got.Complete || len(got.Errors) > 0 {
				t.Fatalf("complete %v, errors %+v, incomplete %q", got.Complete, got.Errors, got.Incomplete)
			}
			if !slices.Equal(paths(got), paths(want)) {
				t.Fatalf("paths differ from the walk without prefetching: %d against %d", len(paths(got)), len(paths(want)))
			}
			for dir, n := range m.listings {
				if n != 1 {
					t.Errorf("%s listed %d times", dir, n)
				}
			}
			if len(m.listings) != len(m.dirs) {
				t.Errorf("%d directories listed, want %d", len(m.listings), len(m.dirs))
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.batches) == 0 {
				t.Fatal("no batch was prefetched: the test tests nothing")
			}
			for _, b := range p.batches {
				if len(b) < 2 || len(b) > prefetchJobs || slices.Contains(b, "/") {
					t.Errorf("batch %q", b)
				}
			}
			for k := range fail {
				if len(p.batches) != k {
					t.Errorf("%d batches after the one that lost its session (%d)", len(p.batches), k)
				}
			}
			if m.open.Load() != 0 {
				t.Errorf("%d sessions left open", m.open.Load())
			}
		})
	}
}

// TestWalkPrefetchLostListing: a session lost while listing one of the
// directories taken at once puts the others back: all are listed, the
// lost one retried.
func TestWalkPrefetchLostListing(t *testing.T) {
	m := wideMem()
	m.dropFirst = map[string]int{"/d100": 1, "/d050/x": 2}
	p := &preLog{}
	connect := func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		s, info, err := m.connector()(ctx)
		if err != nil {
			return nil, info, err
		}
		return &preSession{memSession: *s.(*memSession), p: p}, info, nil
	}
	got := Walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, connect, WalkOptions{Connections: 4, Backoff: 1, Retries: 3})
	if !got.Complete || len(paths(got)) != 120*7 {
		t.Fatalf("complete %v, %d paths, errors %+v", got.Complete, len(paths(got)), got.Errors)
	}
	if m.listings["/d100"] != 2 || m.listings["/d050/x"] != 3 {
		t.Errorf("listings: /d100 %d, /d050/x %d", m.listings["/d100"], m.listings["/d050/x"])
	}
	if len(p.batches) == 0 {
		t.Fatal("no batch was prefetched: the test tests nothing")
	}
}
