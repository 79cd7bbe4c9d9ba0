package scanner

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/entrystore"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// Progress receives counts as the walk goes. Implementations must be safe
// for concurrent use. The scanner never prints; the CLI draws a bar.
type Progress interface {
	// Listed is called after each directory listing.
	Listed(host string, dirs, files int)
}

// NopProgress is a Progress that does nothing.
type NopProgress struct{}

// Listed does nothing.
func (NopProgress) Listed(string, int, int) {}

// WalkOptions bound and shape a walk.
type WalkOptions struct {
	// AnonymousOwner and AnonymousGroup say whether a listed owner or
	// group is the anonymous account (the policy's, for this host); nil
	// means the usual names, "ftp" and "anonymous". The walk uses them to
	// tell whether an empty listing of a directory can be believed.
	AnonymousOwner, AnonymousGroup func(id string) bool
	// Observe, when set, is given each listing's entries once the walk
	// has kept them (every entry the result holds, once), with the order
	// in which the walk filed the listing: the order in which entries of
	// one path are read back (ftpaudit.EntrySource). It is called from
	// the walk's sessions at once, and must neither keep nor change the
	// entries (rules.Prejudge).
	Observe func(seq int, es []ftpaudit.Entry)
	// Connections is the number of sessions listing in parallel.
	Connections int
	// MaxDepth bounds how deep below the start the walk goes; reaching it
	// makes the scan incomplete.
	MaxDepth int
	// Retries is how often one directory is retried after its connection
	// was lost.
	Retries int
	// Progress, if set, is told about each listing.
	Progress Progress
	// Backoff is the first wait after a refused connection; it doubles up
	// to 16 times its value. Zero means 500ms.
	Backoff time.Duration
	// MaxConnectAttempts bounds reconnect attempts when no session of the
	// host is alive. Zero means 6.
	MaxConnectAttempts int
	// MaxDirEntries bounds the entries kept from one directory, and
	// MaxEntries those of the whole walk (0: DefaultMaxDirEntries,
	// DefaultMaxEntries). Reaching either is reported and makes the scan
	// incomplete; reaching MaxEntries stops the walk.
	MaxDirEntries int
	MaxEntries    int
	// MaxEntryBytes bounds the bytes of paths and listing lines kept for
	// the whole walk (0: DefaultMaxEntryBytes); reaching it is handled as
	// MaxEntries is.
	MaxEntryBytes int64
	// SpillAfter is the memory, in estimated bytes of entries, that the
	// walk's listings may hold before they are written to a temporary
	// file in SpillDir (os.TempDir() when ""), compactly, and read back
	// in path order by whatever needs them (0: DefaultSpillAfter; < 0:
	// never). A file that cannot be written stops the walk, reported.
	SpillAfter int64
	SpillDir   string
	// Exclude names directories (path globs) that are not descended: they
	// are reported as entries of their parent, and noted, but not listed.
	Exclude []*glob.Glob
	// NoTree turns off recursive listing (LIST -aR) of subtrees: every
	// directory is listed on its own.
	NoTree bool
	// PathMax is the longest path, in bytes, the server is taken to
	// handle (0: DefaultPathMax). A listing of a directory whose path
	// comes within LongPathMargin of it is not proof of the directory's
	// entries (see noteLongPath) and makes the scan incomplete.
	PathMax int
	// LoginInterval is the least time between two logins to the host
	// (DefaultLoginInterval when zero). CapHold is how long a limit
	// learned from a "too many connections" refusal holds before one
	// more session is tried (DefaultCapHold). A session lost after at
	// least IdleReconnect idle is replaced without counting as a failed
	// attempt (DefaultIdleReconnect).
	LoginInterval, CapHold, IdleReconnect time.Duration
}

// DefaultConnections is the default number of connections per host,
// chosen by benchmark (see README).
const DefaultConnections = 8

// Default entry bounds: enough for any real archive (the largest
// distribution mirrors hold about 10 million entries). Memory does not
// grow with them past DefaultSpillAfter: the entries go to a temporary
// file, about 80 bytes each for a LIST listing; the byte bound counts
// the paths and listing lines kept, in memory or in that file.
const (
	DefaultMaxDirEntries = 2_000_000
	DefaultMaxEntries    = 20_000_000
	DefaultMaxEntryBytes = 4 << 30
	DefaultSpillAfter    = 256 << 20
)

// DefaultMaxDepth is the default depth bound.
const DefaultMaxDepth = 128

// DefaultPathMax is the path limit the walk assumes of a server: the
// BSDs' and macOS's PATH_MAX (MAXPATHLEN), the smallest of the Unix
// systems anonymous archives run on; Linux's is 4096.
const DefaultPathMax = 1024

// LongPathMargin is how far below PathMax a directory's path must end for
// its listing to count as proof of its entries: room for a slash and a
// name of 255 bytes (NAME_MAX) after it, and 256 bytes for the server's
// own root before it, when the server does not chroot (pyftpdlib and
// Twisted join their root and the path; vsftpd and proftpd, chrooted,
// do not).
const LongPathMargin = 1 + 255 + 256

// dirJob is one directory waiting to be listed.
type dirJob struct {
	path    string
	depth   int
	entry   *ftpaudit.Entry // the entry in the parent's listing; nil for the start
	attempt int
	// idleRetried: this directory's session was lost after sitting idle
	// once already (an excused retry, see worker).
	idleRetried bool
	// noTree: list this directory on its own (a recursive listing that
	// covered it was not trusted, or failed).
	noTree bool
	// undecided, when set, says why the directory's listing cannot be
	// told from a refusal: its entries are kept and walked, but it is
	// filed as undecided, not as listed (see settle).
	undecided string
}

// walker holds the state of one host's walk.
type walker struct {
	opt  WalkOptions
	conn ftpaudit.Connector
	res  *ftpaudit.HostResult
	seed maphash.Seed

	mu      sync.Mutex
	cond    *sync.Cond
	after   afterCands // noted as listings are filed (record)
	queue   []dirJob
	pending int // queued + being listed
	alive   int // sessions currently open
	// noPrefetch: a session was lost while prefetching; no more.
	noPrefetch bool
	seen       map[string]struct{}
	// uniques maps an MLSD unique fact to the first directory listed
	// with it; uniqueBad, once set, says why unique facts are not
	// trusted on the host; same holds the directories not descended as
	// the same as one listed (see unique.go).
	uniques   map[string]uniqueSeen
	uniqueBad string
	same      []sameSkip
	done      bool
	// bounded: the walk was stopped by an entry bound (what is left in
	// the queue was not listed for a bound, not for an error).
	bounded bool
	info    bool // res.Info has been filled
	// store keeps each listing's entries, in memory or past its budget
	// in a temporary file (internal/entrystore); nlists counts the
	// listings filed, nent their entries.
	store  *entrystore.Store
	nlists int
	nent   int
	nbytes int64 // paths and lines of the entries kept
	// longPathErr is noteLongPath's text, made once.
	longPathErr string
	tree        treeGate
	// treeDepth is the depth from which subtrees are listed recursively.
	treeDepth int
	pool      poolState
}

// Walk lists every directory reachable from t's start directory, using
// sessions from connect, and returns what it saw. Cancellation of ctx
// stops the walk; what was found so far is returned with Complete false.
func Walk(ctx context.Context, t ftpaudit.Target, connect ftpaudit.Connector, opt WalkOptions) *ftpaudit.HostResult {
	h, _ := walk(ctx, t, connect, opt)
	return h
}

// walk is Walk, and returns what AfterWalk needs of the entries as well,
// noted as they were filed.
func walk(ctx context.Context, t ftpaudit.Target, connect ftpaudit.Connector, opt WalkOptions) (*ftpaudit.HostResult, *afterCands) {
	if opt.Connections <= 0 {
		opt.Connections = DefaultConnections
	}
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = DefaultMaxDepth
	}
	if opt.Retries <= 0 {
		opt.Retries = 3
	}
	if opt.Progress == nil {
		opt.Progress = NopProgress{}
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 500 * time.Millisecond
	}
	if opt.MaxConnectAttempts <= 0 {
		opt.MaxConnectAttempts = 6
	}
	if opt.MaxDirEntries <= 0 {
		opt.MaxDirEntries = DefaultMaxDirEntries
	}
	// The parsers keep no more entries of one listing than this.
	ctx = ftpaudit.WithListLimit(ctx, opt.MaxDirEntries)
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = DefaultMaxEntries
	}
	if opt.MaxEntryBytes <= 0 {
		opt.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if opt.SpillAfter == 0 {
		opt.SpillAfter = DefaultSpillAfter
	}
	if opt.LoginInterval <= 0 {
		opt.LoginInterval = DefaultLoginInterval
	}
	if opt.CapHold <= 0 {
		opt.CapHold = DefaultCapHold
	}
	if opt.IdleReconnect <= 0 {
		opt.IdleReconnect = DefaultIdleReconnect
	}
	if opt.PathMax <= 0 {
		opt.PathMax = DefaultPathMax
	}
	w := &walker{
		opt:     opt,
		conn:    connect,
		res:     &ftpaudit.HostResult{Target: t, Started: time.Now()},
		seed:    maphash.MakeSeed(),
		seen:    map[string]struct{}{t.Start: {}},
		uniques: map[string]uniqueSeen{},
		store:   entrystore.New(entrystore.Options{Dir: opt.SpillDir, SpillAfter: max(opt.SpillAfter, 0)}),
	}
	w.res.Pool = &ftpaudit.PoolReport{Asked: opt.Connections}
	w.pool = poolState{limit: opt.Connections, hold: opt.CapHold}
	w.cond = sync.NewCond(&w.mu)
	w.queue = append(w.queue, dirJob{path: t.Start})
	w.pending = 1

	// A panic in one worker (a bug some server's answers reach) stops
	// this host's walk, reported as its reason; it never takes the
	// process, and so the other hosts, down.
	ctx, cancelWalk := context.WithCancelCause(ctx)
	defer cancelWalk(nil)

	// Wake waiting workers on cancellation.
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer stop()

	var wg sync.WaitGroup
	for i := 0; i < opt.Connections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					cancelWalk(fmt.Errorf("internal error (panic) while walking this host: %v", v))
				}
			}()
			w.worker(ctx)
		}()
	}
	wg.Wait()
	w.finish(ctx)
	slices.Sort(w.after.fetch)
	slices.Sort(w.after.manifests)
	return w.res, &w.after
}

func (w *walker) finish(ctx context.Context) {
	r := w.res
	r.Finished = time.Now()
	w.fileSame()
	if n := len(w.queue); n > 0 {
		what := fmt.Sprintf("%d directories were never listed", n)
		if n == 1 {
			what = "1 directory was never listed"
		}
		r.Incomplete = append(r.Incomplete, what)
		kind := ftpaudit.UnlistedError
		if w.bounded && ctx.Err() == nil {
			kind = ftpaudit.UnlistedBound
		}
		for _, j := range w.queue {
			// The walk's own reason (above) stands for these: no cause.
			w.notListed(j.path, kind, "not listed: the walk stopped before reaching it", "", &r.Errors)
			if j.depth == 0 {
				r.Incomplete = appendReason(r.Incomplete, startReason(j.path, "the walk stopped before listing it"))
			}
		}
	}
	if ctx.Err() != nil {
		r.Incomplete = append(r.Incomplete, "scan interrupted: "+context.Cause(ctx).Error())
	}
	if r.LoginError != "" {
		r.Incomplete = append(r.Incomplete, "no session: "+r.LoginError)
	}
	w.poolNote()
	r.Source = w.store.Seal()
	sortPathErrors(r.Errors)
	sortPathErrors(r.Unreadable)
	sortPathErrors(r.Notes)
	slices.SortStableFunc(r.NotListed, func(a, b ftpaudit.Unlisted) int { return strings.Compare(a.Path, b.Path) })
	r.Stats.Errors = len(r.Errors)
	r.Stats.Unreadable = len(r.Unreadable)
	r.Settle()
}

func sortPathErrors(p []ftpaudit.PathError) {
	slices.SortFunc(p, func(a, b ftpaudit.PathError) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Error, b.Error)
	})
}

// next blocks until a job is available or the walk is over, and takes
// it, with up to ahead-1 more when the queue holds enough for every
// session to take as many (see prefetchJobs), into buf's array.
func (w *walker) next(ctx context.Context, ahead int, buf []dirJob) ([]dirJob, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) == 0 && w.pending > 0 && !w.done && ctx.Err() == nil {
		w.cond.Wait()
	}
	if len(w.queue) == 0 || w.done || ctx.Err() != nil {
		return nil, false
	}
	n := max(min(ahead, len(w.queue)/max(w.opt.Connections, 1)), 1)
	js := slices.Grow(buf[:0], n)[:n]
	for i := range js {
		js[i] = w.queue[len(w.queue)-1] // LIFO: depth first keeps the queue small
		w.queue = w.queue[:len(w.queue)-1]
	}
	return js, true
}

// requeue puts jobs back: after a lost connection, or taken ahead and
// not listed.
func (w *walker) requeue(js ...dirJob) {
	if len(js) == 0 {
		return
	}
	w.mu.Lock()
	for i := len(js) - 1; i >= 0; i-- { // the first taken on top again
		w.queue = append(w.queue, js[i])
	}
	w.cond.Broadcast()
	w.mu.Unlock()
}

// prefetchJobs is how many directories a worker takes at once where its
// session can list them in one exchange (ftpaudit.Prefetcher): STATs
// behind one sentinel save what the sentinel and the round trips cost
// the server, and eight, against four, the client's system calls
// (docs/benchmarks.md).
const prefetchJobs = 8

// ahead is how many jobs a worker on s takes at once.
func (w *walker) ahead(s ftpaudit.Session) int {
	if pf, ok := s.(ftpaudit.Prefetcher); !ok || !pf.Prefetches() {
		return 1
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.noPrefetch {
		return 1
	}
	return prefetchJobs
}

// prefetch has s list, in one exchange, the directories of js that it
// would list on their own (not the start, not those a recursive listing
// is to cover or that are to be listed on their own). An error means the
// session was lost: prefetching is then given up for the host (a server
// that drops the connection on pipelined STATs would otherwise cost a
// session per batch), and the jobs are to be listed again, each on its
// own.
func (w *walker) prefetch(ctx context.Context, s ftpaudit.Session, js []dirJob) error {
	pf, ok := s.(ftpaudit.Prefetcher)
	if !ok {
		return nil
	}
	_, trees := s.(ftpaudit.TreeLister)
	var dirs []string
	for _, j := range js {
		if j.depth > 0 && j.undecided == "" && !(trees && w.wantTree(j)) { // as listJob decides
			dirs = append(dirs, j.path)
		}
	}
	if len(dirs) < 2 {
		return nil
	}
	err := pf.Prefetch(ctx, dirs)
	if err != nil && ctx.Err() == nil {
		w.mu.Lock()
		w.noPrefetch = true
		w.mu.Unlock()
	}
	return err
}

// stopped reports whether the walk was stopped (w.done).
func (w *walker) stopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

// jobDone marks one job finished.
func (w *walker) jobDone() {
	w.mu.Lock()
	w.pending--
	if w.pending == 0 {
		w.cond.Broadcast()
	}
	w.mu.Unlock()
}

// worker lists directories on one session until the walk is over,
// opening the session first and again whenever it is lost.
func (w *walker) worker(ctx context.Context) {
	var s ftpaudit.Session
	var lastUse time.Time
	defer func() {
		if s != nil {
			_ = s.Close()
			w.mu.Lock()
			w.alive--
			w.mu.Unlock()
		}
	}()
	failures := 0
	// ahead holds the jobs taken with the last one, listed next, in
	// turn, on this session; any left when the worker stops go back.
	var ahead, taken []dirJob // taken: next's array, reused once ahead is empty
	defer func() { w.requeue(ahead...) }()
	for {
		if s == nil {
			// Sessions are opened before there is work for them (the
			// root is being listed meanwhile), one login at a time and
			// never above the pool's limit.
			if !w.waitSlot(ctx) {
				return
			}
			var err error
			s, err = w.connect(ctx, &failures)
			if err != nil {
				if w.connectFailed(ctx, err, &failures) {
					continue
				}
				return
			}
			lastUse = time.Now()
		}
		var j dirJob
		if len(ahead) > 0 {
			if ctx.Err() != nil || w.stopped() {
				return // the jobs taken ahead go back (deferred), never listed
			}
			j, ahead = ahead[0], ahead[1:]
		} else {
			js, ok := w.next(ctx, w.ahead(s), taken)
			if !ok {
				return
			}
			taken = js
			if err := w.prefetch(ctx, s, js); err != nil {
				// The session is lost: the jobs go back, not counted
				// as attempts (nothing was listed), and are listed on
				// their own on the next session.
				_ = s.Close()
				s = nil
				w.mu.Lock()
				w.alive--
				w.mu.Unlock()
				w.requeue(js...)
				continue
			}
			j, ahead = js[0], js[1:]
		}
		idle := time.Since(lastUse)
		l, done, err := w.listJob(ctx, s, &j)
		if !done && err == nil {
			// A listing that may not be the directory's contents (of
			// the start, or of only the directory itself) is proven
			// first, on this session.
			done, err = w.settle(ctx, s, &j, l)
		}
		lastUse = time.Now()
		if done {
			w.jobDone()
			continue
		}
		if err != nil && errors.Is(err, ftpaudit.ErrConnLost) && ctx.Err() == nil {
			_ = s.Close()
			s = nil
			// What this session prefetched went with it.
			w.requeue(ahead...)
			ahead = nil
			if w.retryLost(&j, idle) {
				w.requeue(j)
				continue
			}
		}
		if w.retryRefused(ctx, &j, err) {
			w.requeue(j)
			continue
		}
		w.record(ctx, j, l, err, nil)
		w.jobDone()
	}
}

// LoginRefusedPrefix starts a host's LoginError when the server refused
// the login itself (530 or 332 that is not about too many connections):
// the credentials are wrong, and the host was tried once.
const LoginRefusedPrefix = "login refused (check the user and password): "

// refusedLogin reports a permanent refusal of the login itself.
func refusedLogin(err error) bool {
	return ftpaudit.IsLoginRefused(err) && !ftpaudit.IsTooMany(err)
}

// connectFailed files a failure to open a session and says whether the
// worker is to try again: when the refusal is the server's limit on
// sessions, the pool is capped and the worker waits for a slot again;
// otherwise it stops, and when no session is alive after the last
// attempt, the host has failed.
func (w *walker) connectFailed(ctx context.Context, err error, failures *int) (again bool) {
	w.mu.Lock()
	capped := ftpaudit.IsTooMany(err) && w.alive > 0 && ctx.Err() == nil
	if capped {
		// The server's limit: fewer sessions for a while.
		w.capAt(ftpaudit.ReplyText(err))
	} else if refusedLogin(err) && !w.pool.verified && w.res.LoginError == "" {
		// A permanent refusal of the login itself (wrong password, no
		// such user): no other session is tried.
		w.res.LoginError = LoginRefusedPrefix + err.Error()
		w.done = true
	} else if w.alive == 0 && w.res.LoginError == "" && *failures >= w.opt.MaxConnectAttempts {
		// No session at all: the host has failed.
		w.res.LoginError = err.Error()
		w.done = true
	}
	w.cond.Broadcast()
	w.mu.Unlock()
	if capped {
		*failures = 0
	}
	return capped
}

// listJob lists j's directory: first, where wanted, with its whole
// subtree in one recursive listing (done: everything is filed), else on
// its own. When the recursive listing is not used, j is marked to be
// listed on its own from then on, its retries included.
func (w *walker) listJob(ctx context.Context, s ftpaudit.Session, j *dirJob) (l *ftpaudit.Listing, done bool, err error) {
	if tl, ok := s.(ftpaudit.TreeLister); ok && w.wantTree(*j) {
		done, err = w.listTree(ctx, tl, *j)
		if done {
			return nil, true, nil
		}
		// From here on the directory is listed on its own. A lost
		// connection, a transient refusal (4xx) or cancellation
		// counts as this attempt's outcome; a permanent refusal of
		// the recursive form (5xx) does not.
		j.noTree = true
		var re *ftpaudit.ReplyError
		if err != nil && !errors.Is(err, ftpaudit.ErrConnLost) && ctx.Err() == nil && (!errors.As(err, &re) || re.Code >= 500) {
			err = nil
		}
	}
	if err == nil {
		if lo, ok := s.(ftpaudit.ListOnlyLister); ok && w.listLikeTree(*j) {
			l, err = lo.ListOnly(ctx, j.path)
		} else {
			l, err = s.List(ctx, j.path)
		}
	}
	return l, false, err
}

// retryLost counts out a session lost while listing j, after idle
// without use, and says whether j is to be tried again: once for free
// when the server closed a session that sat idle, else while j has
// retries left.
func (w *walker) retryLost(j *dirJob, idle time.Duration) bool {
	w.mu.Lock()
	w.alive--
	excused := idle >= w.opt.IdleReconnect && !j.idleRetried
	if excused {
		// The server closed the session while it sat idle: not
		// this directory's fault, once.
		w.res.Pool.IdleReconnects++
	}
	w.mu.Unlock()
	if excused {
		j.idleRetried = true
		return true
	}
	if j.attempt+1 < w.opt.Retries {
		j.attempt++
		return true
	}
	return false
}

// retryRefused says whether j is to be tried again on the same session
// after err, having waited: for a transient refusal (425 no data
// connection, 426 aborted, 450 busy) while j has retries left.
func (w *walker) retryRefused(ctx context.Context, j *dirJob, err error) bool {
	var re *ftpaudit.ReplyError
	if err != nil && errors.As(err, &re) && re.Code >= 400 && re.Code < 500 && !errors.Is(err, ftpaudit.ErrConnLost) &&
		j.attempt+1 < w.opt.Retries && ctx.Err() == nil {
		j.attempt++
		return sleepCtx(ctx, w.opt.Backoff*time.Duration(j.attempt))
	}
	return false
}

// connect opens a session in the slot waitSlot reserved, backing off
// while the server refuses.
func (w *walker) connect(ctx context.Context, failures *int) (s ftpaudit.Session, err error) {
	defer func() {
		w.mu.Lock()
		w.opened(err)
		w.mu.Unlock()
	}()
	backoff := w.opt.Backoff
	for {
		s, info, err := w.conn(ctx)
		if err == nil {
			w.mu.Lock()
			if !w.info {
				w.res.Info, w.info = info, true
			}
			w.mu.Unlock()
			*failures = 0
			return s, nil
		}
		*failures++
		if ctx.Err() != nil {
			return nil, err
		}
		w.mu.Lock()
		alive := w.alive
		if !w.info && info.Banner != "" {
			w.res.Info = info
		}
		w.mu.Unlock()
		if ftpaudit.IsLoginRefused(err) && !ftpaudit.IsTooMany(err) {
			*failures = w.opt.MaxConnectAttempts
			return nil, err
		}
		if !ftpaudit.IsTooMany(err) && *failures >= 2 {
			// Refused, unreachable, TLS failure: a definite answer, not
			// a busy server. One retry covers a passing fault.
			*failures = w.opt.MaxConnectAttempts
			return nil, err
		}
		// The server is busy or limiting us. With other sessions open,
		// that is its limit (the caller caps the pool); with none, back
		// off and try again.
		if (ftpaudit.IsTooMany(err) && alive > 0) || *failures >= w.opt.MaxConnectAttempts || (alive > 0 && *failures >= 2) {
			return nil, err
		}
		d := backoff + rand.N(backoff/2+1)
		if !sleepCtx(ctx, d) {
			return nil, err
		}
		if backoff < 16*w.opt.Backoff {
			backoff *= 2
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
