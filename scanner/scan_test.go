package scanner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// panicSession lists like its memTree but panics on one directory: a bug
// some server's answer reaches.
type panicSession struct {
	ftpaudit.Session
	dir string
}

func (s panicSession) List(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	if dir == s.dir {
		panic("boom in " + dir)
	}
	return s.Session.List(ctx, dir)
}

func TestScanPanicIsThatHostsError(t *testing.T) {
	tree := func() *memTree {
		return &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("a"), d("b"), f("x")}, "/a": {f("y")}, "/b": {f("z")}}}
	}
	bad := tree().connector()
	panicky := func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		s, info, err := bad(ctx)
		if err != nil {
			return nil, info, err
		}
		return panicSession{Session: s, dir: "/a"}, info, nil
	}
	walk := WalkOptions{Connections: 2, Backoff: time.Millisecond}
	jobs := []Job{
		{Target: ftpaudit.Target{URL: "ftp://bad", Start: "/"}, Connect: panicky, Walk: walk},
		{Target: ftpaudit.Target{URL: "ftp://good", Start: "/"}, Connect: tree().connector(), Walk: walk},
		{Target: ftpaudit.Target{URL: "ftp://afterwalk", Start: "/"}, Connect: tree().connector(), Walk: walk,
			StatReport: func() *ftpaudit.StatReport { panic("boom after the walk") }},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := Scan(ctx, jobs, Options{})
	for i, want := range []string{"boom in /a", "", "boom after the walk"} {
		h := res.Hosts[i]
		if h == nil {
			t.Fatalf("host %d: no result", i)
		}
		if want == "" {
			if !h.Complete || len(paths(h)) != 5 {
				t.Errorf("good host: complete %v, incomplete %q, paths %q", h.Complete, h.Incomplete, paths(h))
			}
			continue
		}
		if h.Complete || !strings.Contains(strings.Join(h.Incomplete, "\n"), want) {
			t.Errorf("host %d: complete %v, incomplete %q, want a reason with %q", i, h.Complete, h.Incomplete, want)
		}
	}
}

func TestScanHostTimeout(t *testing.T) {
	slow := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("a")}, "/a": {f("y")}}}
	conn := slow.connector()
	slowConn := func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		<-ctx.Done()
		return nil, ftpaudit.ServerInfo{}, ctx.Err()
	}
	jobs := []Job{
		{Target: ftpaudit.Target{URL: "ftp://slow", Start: "/"}, Connect: slowConn, Walk: WalkOptions{Connections: 1},
			Timeout: 100 * time.Millisecond},
		{Target: ftpaudit.Target{URL: "ftp://fast", Start: "/"}, Connect: conn, Walk: WalkOptions{Connections: 1},
			Timeout: time.Minute},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := Scan(ctx, jobs, Options{})
	if h := res.Hosts[0]; h.Complete || !strings.Contains(strings.Join(h.Incomplete, "\n"), "host time budget (100ms) reached") {
		t.Errorf("slow host: complete %v, incomplete %q", h.Complete, h.Incomplete)
	}
	if h := res.Hosts[1]; !h.Complete {
		t.Errorf("fast host: incomplete %q", h.Incomplete)
	}
}
