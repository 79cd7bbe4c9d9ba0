package scanner

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// memTree is an in-memory archive served through the Session interface:
// dirs maps a directory path to its listing.
type memTree struct {
	dirs map[string][]ftpaudit.Entry
	// replies overrides the final reply for a path (with an empty listing).
	replies map[string]string
	// errs makes listing a path fail with this error.
	errs map[string]error
	// dropFirst makes the first N listings of a path lose the connection.
	dropFirst map[string]int
	// busyFirst makes the first N listings of a path (after dropFirst's)
	// answer 425, a transient refusal.
	busyFirst map[string]int

	mu       sync.Mutex
	listings map[string]int
	sessions atomic.Int32
	open     atomic.Int32
	maxOpen  atomic.Int32
	// refuse makes connects fail with this error while > 0 remain.
	refuse atomic.Int32
}

func d(name string) ftpaudit.Entry {
	return ftpaudit.Entry{Name: name, Type: ftpaudit.TypeDir, Mode: "drwxr-xr-x", Size: 4096}
}
func f(name string) ftpaudit.Entry {
	return ftpaudit.Entry{Name: name, Type: ftpaudit.TypeFile, Mode: "-rw-r--r--", Size: 1}
}
func l(name, target string) ftpaudit.Entry {
	return ftpaudit.Entry{Name: name, Type: ftpaudit.TypeLink, Mode: "lrwxrwxrwx", Size: int64(len(target)), Extra: &ftpaudit.EntryExtra{Target: target}}
}

func (m *memTree) connector() ftpaudit.Connector {
	return func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		if m.refuse.Load() > 0 {
			m.refuse.Add(-1)
			return nil, ftpaudit.ServerInfo{}, &ftpaudit.ReplyError{Code: 421, Msg: "Too many connections"}
		}
		m.sessions.Add(1)
		n := m.open.Add(1)
		for {
			mx := m.maxOpen.Load()
			if n <= mx || m.maxOpen.CompareAndSwap(mx, n) {
				break
			}
		}
		return &memSession{m: m}, ftpaudit.ServerInfo{Banner: "220 mem", Login: "anonymous"}, nil
	}
}

type memSession struct {
	m      *memTree
	closed bool
}

func (s *memSession) Close() error {
	if !s.closed {
		s.closed = true
		s.m.open.Add(-1)
	}
	return nil
}

func (s *memSession) List(ctx context.Context, dir string) (*ftpaudit.Listing, error) {
	if s.closed {
		return nil, fmt.Errorf("list: %w", ftpaudit.ErrConnLost)
	}
	m := s.m
	m.mu.Lock()
	if m.listings == nil {
		m.listings = map[string]int{}
	}
	m.listings[dir]++
	n := m.listings[dir]
	m.mu.Unlock()
	if n <= m.dropFirst[dir] {
		return nil, fmt.Errorf("list %s: %w: reset", dir, ftpaudit.ErrConnLost)
	}
	if n <= m.dropFirst[dir]+m.busyFirst[dir] {
		return nil, &ftpaudit.ReplyError{Code: 425, Msg: "Can't open data connection"}
	}
	if err, ok := m.errs[dir]; ok {
		return nil, err
	}
	if r, ok := m.replies[dir]; ok {
		return &ftpaudit.Listing{Reply: r}, nil
	}
	es, ok := m.dirs[dir]
	if !ok {
		return nil, &ftpaudit.ReplyError{Code: 550, Msg: "No such file or directory"}
	}
	return &ftpaudit.Listing{Entries: slices.Clone(es), Reply: "226 Transfer complete"}, nil
}

func paths(r *ftpaudit.HostResult) []string {
	var out []string
	for _, e := range r.EntryList() {
		out = append(out, e.Path)
	}
	return out
}

func walkMem(t *testing.T, m *memTree, opt WalkOptions) *ftpaudit.HostResult {
	t.Helper()
	if opt.Backoff == 0 {
		opt.Backoff = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Walk(ctx, ftpaudit.Target{URL: "ftp://mem", Start: "/"}, m.connector(), opt)
}

func TestWalkAwkwardNames(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":               {d("pub"), d("..."), d("  "), d(". "), f(" lead"), f("trail "), l("loop", "."), l("escape", "/etc")},
		"/pub":            {d("sub"), f("README"), f("\x1b[31mred\xff")},
		"/pub/sub":        {f("a")},
		"/...":            {f("warez.zip")},
		"/  ":             {d("  "), f("x")},
		"/  /  ":          {f("deep")},
		"/. ":             {},
		"/pub/sub/a/nope": {f("never reached")},
	}}
	for _, conns := range []int{1, 4} {
		r := walkMem(t, m, WalkOptions{Connections: conns})
		want := []string{
			"/  ", "/  /  ", "/  /  /deep", "/  /x", "/ lead", "/...", "/.../warez.zip", "/. ",
			"/escape", "/loop", "/pub", "/pub/README", "/pub/sub", "/pub/sub/a", "/pub/\x1b[31mred\xff", "/trail ",
		}
		slices.Sort(want)
		if got := paths(r); !slices.Equal(got, want) {
			t.Errorf("connections=%d: paths\n got %q\nwant %q", conns, got, want)
		}
		if !r.Complete {
			t.Errorf("connections=%d: incomplete: %v %v", conns, r.Incomplete, r.Errors)
		}
		if r.Stats.Dirs != 6 || r.Stats.Files != 8 || r.Stats.Links != 2 || r.Stats.Listed != 7 {
			t.Errorf("stats %+v", r.Stats)
		}
	}
}

func TestWalkUnreadableKinds(t *testing.T) {
	bin := ftpaudit.Entry{Name: "bin", Type: ftpaudit.TypeDir, Mode: "d--x--x--x", Owner: "root", Size: 4096}
	incoming := ftpaudit.Entry{Name: "incoming", Type: ftpaudit.TypeDir, Mode: "drwx-wx-wx", Owner: "root", Size: 4096}
	etc := ftpaudit.Entry{Name: "etc", Type: ftpaudit.TypeDir, Mode: "d--x--x--x", Owner: "root", Size: 4096}
	self := ftpaudit.Entry{Name: "self", Type: ftpaudit.TypeDir, Mode: "drwx------", Owner: "root", Size: 4096}
	m := &memTree{
		dirs: map[string][]ftpaudit.Entry{
			"/":         {bin, incoming, etc, self, d("empty")},
			"/incoming": {},
			"/empty":    {},
			"/self":     {self},
		},
		replies: map[string]string{"/bin": "226 Transfer done (but failed to open directory)."},
		errs:    map[string]error{"/etc": fmt.Errorf("list /etc: %w", &ftpaudit.ReplyError{Code: 550, Msg: "Permission denied"})},
	}
	r := walkMem(t, m, WalkOptions{Connections: 2})
	if !r.Complete {
		t.Fatalf("unreadable directories must not make the scan incomplete: %v", r.Incomplete)
	}
	var got []string
	for _, u := range r.Unreadable {
		got = append(got, u.Path)
	}
	want := []string{"/bin", "/etc", "/incoming", "/self"}
	if !slices.Equal(got, want) {
		t.Errorf("unreadable %q, want %q (%+v)", got, want, r.Unreadable)
	}
	for _, u := range r.Unreadable {
		if u.Path == "/etc" && !strings.Contains(u.Error, "550 Permission denied") {
			t.Errorf("/etc reply not kept: %q", u.Error)
		}
		if u.Path == "/bin" && !strings.Contains(u.Error, "failed to open") {
			t.Errorf("/bin reply not kept: %q", u.Error)
		}
	}
	if r.Stats.Listed != 2 { // / and /empty
		t.Errorf("listed %d, want 2", r.Stats.Listed)
	}
}

// A directory listing exactly like one of its ancestors proves nothing
// (mirror/a holding a README and a/, like mirror): without the server's
// own identity (MLSD unique) or a symlink it showed, it is walked, down
// to --max-depth, and the bound names what was not listed.
func TestWalkAlikeListingsAreWalked(t *testing.T) {
	// A server that shows a symlink loop as a plain directory: /loop
	// lists exactly like /, forever.
	root := []ftpaudit.Entry{d("loop"), f("x")}
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": root}}
	for p := "/loop"; len(p) < 200; p += "/loop" {
		m.dirs[p] = root
	}
	r := walkMem(t, m, WalkOptions{Connections: 3, MaxDepth: 3})
	if got := paths(r); !slices.Equal(got, []string{"/loop", "/loop/loop", "/loop/loop/loop", "/loop/loop/loop/loop", "/loop/loop/loop/x", "/loop/loop/x", "/loop/x", "/x"}) {
		t.Errorf("paths %q", got)
	}
	if r.Complete || !slices.Contains(r.Incomplete, "depth bound reached") {
		t.Errorf("complete=%v incomplete=%q: reaching the bound must make the host incomplete", r.Complete, r.Incomplete)
	}
	wantNotListed(t, r, ftpaudit.Unlisted{Path: "/loop/loop/loop/loop", Kind: ftpaudit.UnlistedBound})

	// The uploader's version: /v/v/v/x.nfo below directories whose
	// listings collide (a one-byte file and a subdirectory, same minute).
	m = &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":          {d("v"), f("a")},
		"/v":         {d("v"), f("a")},
		"/v/v":       {d("v"), f("a")},
		"/v/v/v":     {f("x.nfo")},
		"/v/v/v/x.n": {},
	}}
	r = walkMem(t, m, WalkOptions{Connections: 2})
	if !slices.Contains(paths(r), "/v/v/v/x.nfo") || !r.Complete {
		t.Errorf("complete=%v %q: colliding listings hid /v/v/v/x.nfo", r.Complete, paths(r))
	}
}

func TestWalkDepthBoundIsReported(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("a")}, "/a": {d("b")}, "/a/b": {d("c")}, "/a/b/c": {}}}
	r := walkMem(t, m, WalkOptions{MaxDepth: 2})
	if r.Complete {
		t.Fatal("a walk cut by --max-depth claims to be complete")
	}
	if len(r.Errors) != 1 || r.Errors[0].Path != "/a/b/c" {
		t.Errorf("errors %+v", r.Errors)
	}
}

func TestWalkRetriesLostConnections(t *testing.T) {
	m := &memTree{
		dirs:      map[string][]ftpaudit.Entry{"/": {d("a"), d("b")}, "/a": {f("1")}, "/b": {f("2")}},
		dropFirst: map[string]int{"/a": 2, "/b": 5},
	}
	r := walkMem(t, m, WalkOptions{Connections: 2, Retries: 3})
	if r.Complete {
		t.Fatal("a directory that failed every retry must make the scan incomplete")
	}
	if got := paths(r); !slices.Equal(got, []string{"/a", "/a/1", "/b"}) {
		t.Errorf("paths %q", got)
	}
	if len(r.Errors) != 1 || r.Errors[0].Path != "/b" || !strings.Contains(r.Errors[0].Error, "connection lost") {
		t.Errorf("errors %+v", r.Errors)
	}
	if m.open.Load() != 0 {
		t.Errorf("%d sessions left open", m.open.Load())
	}
}

func TestWalkBacksOffWhenRefused(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {f("x")}}}
	m.refuse.Store(3)
	r := walkMem(t, m, WalkOptions{Connections: 1})
	if !r.Complete || r.NumEntries() != 1 {
		t.Fatalf("complete=%v entries=%d incomplete=%v", r.Complete, r.NumEntries(), r.Incomplete)
	}
	m = &memTree{dirs: map[string][]ftpaudit.Entry{"/": {f("x")}}}
	m.refuse.Store(1000)
	r = walkMem(t, m, WalkOptions{Connections: 2, MaxConnectAttempts: 3})
	if r.Complete || r.LoginError == "" {
		t.Fatalf("an unreachable host must be incomplete with a reason: %+v", r)
	}
}

func TestWalkCancelledIsIncomplete(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("a")}, "/a": {}}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Walk(ctx, ftpaudit.Target{URL: "ftp://mem", Start: "/"}, m.connector(), WalkOptions{})
	if r.Complete {
		t.Fatal("cancelled walk claims completeness")
	}
}

func TestWalkHostileNames(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":   {d("a/b"), d(".."), d("."), f("dup"), f("dup"), d("ok")},
		"/ok": {},
	}}
	r := walkMem(t, m, WalkOptions{})
	if got := paths(r); !slices.Equal(got, []string{"/a/b", "/dup", "/ok"}) {
		t.Errorf("paths %q", got)
	}
	if r.Complete {
		t.Error("a directory that could not be listed (name with '/') must make the scan incomplete")
	}
	var errs []string
	for _, e := range r.Errors {
		errs = append(errs, e.Path)
	}
	if !slices.Equal(errs, []string{"/a/b", "/dup"}) {
		t.Errorf("errors %+v", r.Errors)
	}
}

func TestTransient4xxRetried(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {f("x")}},
		errs: map[string]error{"/": &ftpaudit.ReplyError{Code: 425, Msg: "Can't open data connection"}}}
	r := walkMem(t, m, WalkOptions{Retries: 2})
	if r.Complete || m.listings["/"] != 2 {
		t.Errorf("complete=%v listings=%d", r.Complete, m.listings["/"])
	}
}

func TestWalkExclude(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("pub"), d("huge")}, "/pub": {f("a")}, "/huge": {d("x")}, "/huge/x": {f("b")}}}
	r := walkMem(t, m, WalkOptions{Exclude: []*glob.Glob{glob.Must("/huge", glob.Path)}})
	if got := paths(r); !slices.Equal(got, []string{"/huge", "/pub", "/pub/a"}) {
		t.Errorf("paths %q", got)
	}
	if !r.Complete || len(r.Notes) != 1 || r.Notes[0].Path != "/huge" || !strings.Contains(r.Notes[0].Error, "excluded") {
		t.Errorf("complete=%v notes %+v", r.Complete, r.Notes)
	}
	if m.listings["/huge"] != 0 {
		t.Error("an excluded directory was listed")
	}
}

// A budget shared by several hosts bounds the sessions open at once
// across all of them, and every token comes back.
func TestBudgetBoundsConnectionsAcrossHosts(t *testing.T) {
	b := NewBudget(3)
	var open, maxOpen atomic.Int32
	var wg sync.WaitGroup
	for h := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs := map[string][]ftpaudit.Entry{"/": {}}
			for i := range 30 {
				name := fmt.Sprintf("d%d", i)
				dirs["/"] = append(dirs["/"], d(name))
				dirs["/"+name] = []ftpaudit.Entry{f("x")}
			}
			m := &memTree{dirs: dirs}
			inner := m.connector()
			counting := func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
				s, info, err := inner(ctx)
				if err == nil {
					n := open.Add(1)
					for mx := maxOpen.Load(); n > mx && !maxOpen.CompareAndSwap(mx, n); mx = maxOpen.Load() {
					}
					s = &countSession{Session: s, open: &open}
				}
				return s, info, err
			}
			r := Walk(context.Background(), ftpaudit.Target{URL: fmt.Sprintf("ftp://mem%d", h), Start: "/"}, budgeted(counting, b), WalkOptions{Connections: 4, Backoff: time.Millisecond})
			if !r.Complete || r.Stats.Dirs != 30 {
				t.Errorf("host %d: complete=%v dirs=%d %v", h, r.Complete, r.Stats.Dirs, r.Incomplete)
			}
		}()
	}
	wg.Wait()
	if maxOpen.Load() > 3 {
		t.Errorf("at most %d sessions open at once, budget 3", maxOpen.Load())
	}
	if len(b.tokens) != 3 {
		t.Errorf("%d of 3 tokens back", len(b.tokens))
	}
}

type countSession struct {
	ftpaudit.Session
	open *atomic.Int32
}

func (s *countSession) Close() error { s.open.Add(-1); return s.Session.Close() }

func TestWalkEntryBounds(t *testing.T) {
	big := []ftpaudit.Entry{d("sub")}
	for i := range 50 {
		big = append(big, f(fmt.Sprintf("f%02d", i)))
	}
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": big, "/sub": {d("a"), d("b")}, "/sub/a": {f("x")}, "/sub/b": {f("y")}}}
	r := walkMem(t, m, WalkOptions{MaxDirEntries: 10})
	if r.Complete || r.NumEntries() != 10+2+1+1 || !strings.Contains(strings.Join(r.Incomplete, ";"), "entry bound") {
		t.Errorf("per directory: complete=%v entries=%d incomplete=%q", r.Complete, r.NumEntries(), r.Incomplete)
	}
	r = walkMem(t, m, WalkOptions{MaxEntries: 52, Connections: 1})
	if r.Complete || r.NumEntries() != 52 || len(r.Errors) == 0 {
		t.Errorf("total: complete=%v entries=%d errors=%+v", r.Complete, r.NumEntries(), r.Errors)
	}
	for _, e := range r.Errors {
		if e.Path == "/sub" && !strings.Contains(e.Error, "--max-entries 52") {
			t.Errorf("error %+v", e)
		}
	}
}

// TestWalkSpill walks the same tree with its entries held in memory, all
// spilled to a temporary file, and spilled to a directory that cannot
// hold the file: the first two give the same entries in the same order;
// the third stops the walk, says why, and is incomplete.
func TestWalkSpill(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":        {d("pub"), d("a.b"), f("a"), f("a-b")},
		"/pub":     {d("sub"), f("z"), f("a b")},
		"/pub/sub": {f("x"), f("y")},
		"/a.b":     {f("c")},
	}}
	held := walkMem(t, m, WalkOptions{SpillAfter: -1, Connections: 2})
	spilled := walkMem(t, m, WalkOptions{SpillAfter: 1, SpillDir: t.TempDir(), Connections: 2})
	defer spilled.Close()
	if !held.Complete || !spilled.Complete {
		t.Fatalf("complete: held %v %q, spilled %v %q", held.Complete, held.Incomplete, spilled.Complete, spilled.Incomplete)
	}
	if got, want := spilled.EntryList(), held.EntryList(); !reflect.DeepEqual(got, want) || len(got) != 10 {
		t.Errorf("spilled entries differ from held ones:\n%+v\n%+v", got, want)
	}
	if e := spilled.EntryFinder()("/pub/sub/y"); e == nil || e.Name != "y" {
		t.Errorf("finder: %+v", e)
	}

	bad := walkMem(t, m, WalkOptions{SpillAfter: 1, SpillDir: filepath.Join(t.TempDir(), "missing"), Connections: 1})
	defer bad.Close()
	if bad.Complete || !strings.Contains(strings.Join(bad.Incomplete, ";"), "entries could not be kept") {
		t.Errorf("unwritable spill directory: complete %v, incomplete %q", bad.Complete, bad.Incomplete)
	}
	if len(bad.Errors) == 0 || !strings.Contains(bad.Errors[0].Error, "could not be kept") {
		t.Errorf("errors %+v", bad.Errors)
	}
}
