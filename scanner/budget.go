package scanner

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/ftpaudit/ftpaudit"
)

// Budget bounds the connections open at once across every host of a
// scan. A session over MLSD holds two connections (MLSD and LIST -a), so
// it costs two: a host's first session reserves two and gives one back
// once the login shows it needs one.
type Budget struct {
	tokens chan struct{}
	turn   chan struct{} // one acquirer at a time, so partial holds cannot deadlock
}

// NewBudget returns a budget of n connections (n < 2 is raised to 2, the
// price of one paired session).
func NewBudget(n int) *Budget {
	n = max(n, 2)
	b := &Budget{tokens: make(chan struct{}, n), turn: make(chan struct{}, 1)}
	for range n {
		b.tokens <- struct{}{}
	}
	return b
}

func (b *Budget) acquire(ctx context.Context, w int) error {
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	defer func() { <-b.turn }()
	for got := 0; got < w; got++ {
		select {
		case <-b.tokens:
		case <-ctx.Done():
			b.release(got)
			return context.Cause(ctx)
		}
	}
	return nil
}

func (b *Budget) release(w int) {
	for range w {
		b.tokens <- struct{}{}
	}
}

// budgeted makes every session of connect hold its connections' worth of
// b while open.
func budgeted(connect ftpaudit.Connector, b *Budget) ftpaudit.Connector {
	var weight atomic.Int32 // 0 until the first login says 1 or 2
	return func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		w := int(weight.Load())
		if w == 0 {
			w = 2
		}
		if err := b.acquire(ctx, w); err != nil {
			return nil, ftpaudit.ServerInfo{}, err
		}
		s, info, err := connect(ctx)
		if err != nil {
			b.release(w)
			return nil, info, err
		}
		need := 1
		if info.Paired {
			need = 2
		}
		weight.Store(int32(need))
		if w > need {
			b.release(w - need)
		}
		var once sync.Once
		done := func() { once.Do(func() { b.release(need) }) }
		if p, ok := s.(ftpaudit.Prober); ok {
			return &budgetProber{Prober: p, done: done}, info, nil
		}
		return &budgetSession{Session: s, done: done}, info, nil
	}
}

type budgetSession struct {
	ftpaudit.Session
	done func()
}

func (s *budgetSession) Close() error {
	defer s.done()
	return s.Session.Close()
}

type budgetProber struct {
	ftpaudit.Prober
	done func()
}

func (s *budgetProber) Close() error {
	defer s.done()
	return s.Prober.Close()
}

// ListTree passes recursive listing through when the session has it.
func (s *budgetSession) ListTree(ctx context.Context, dir string) (*ftpaudit.TreeListing, error) {
	if tl, ok := s.Session.(ftpaudit.TreeLister); ok {
		return tl.ListTree(ctx, dir)
	}
	return nil, ftpaudit.ErrTreeUnsupported
}

// ListTree passes recursive listing through when the session has it.
func (s *budgetProber) ListTree(ctx context.Context, dir string) (*ftpaudit.TreeListing, error) {
	if tl, ok := s.Prober.(ftpaudit.TreeLister); ok {
		return tl.ListTree(ctx, dir)
	}
	return nil, ftpaudit.ErrTreeUnsupported
}

// Prefetch passes prefetching through when the session has it.
func (s *budgetSession) Prefetch(ctx context.Context, dirs []string) error {
	if pf, ok := s.Session.(ftpaudit.Prefetcher); ok {
		return pf.Prefetch(ctx, dirs)
	}
	return nil
}

// Prefetch passes prefetching through when the session has it.
func (s *budgetProber) Prefetch(ctx context.Context, dirs []string) error {
	if pf, ok := s.Prober.(ftpaudit.Prefetcher); ok {
		return pf.Prefetch(ctx, dirs)
	}
	return nil
}

// Prefetches passes the session's answer through.
func (s *budgetSession) Prefetches() bool {
	pf, ok := s.Session.(ftpaudit.Prefetcher)
	return ok && pf.Prefetches()
}

// Prefetches passes the session's answer through.
func (s *budgetProber) Prefetches() bool {
	pf, ok := s.Prober.(ftpaudit.Prefetcher)
	return ok && pf.Prefetches()
}

// ListOnly passes listing with LIST alone through when the session has
// it, else lists as List does.
func (s *budgetSession) ListOnly(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	if lo, ok := s.Session.(ftpaudit.ListOnlyLister); ok {
		return lo.ListOnly(ctx, dir)
	}
	return s.Session.List(ctx, dir)
}

// ListOnly passes listing with LIST alone through when the session has
// it, else lists as List does.
func (s *budgetProber) ListOnly(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	if lo, ok := s.Prober.(ftpaudit.ListOnlyLister); ok {
		return lo.ListOnly(ctx, dir)
	}
	return s.Prober.List(ctx, dir)
}
