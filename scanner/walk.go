package scanner

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
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
	// Exclude names directories (path globs) that are not descended: they
	// are reported as entries of their parent, and noted, but not listed.
	Exclude []*glob.Glob
	// NoTree turns off recursive listing (LIST -aR) of subtrees: every
	// directory is listed on its own.
	NoTree bool
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

// Default entry bounds: enough for any real archive, small enough to keep
// memory bounded (about 250 bytes per entry, its listing line and path
// included, for a LIST listing).
const (
	DefaultMaxDirEntries = 2_000_000
	DefaultMaxEntries    = 5_000_000
	DefaultMaxEntryBytes = 512 << 20
)

// DefaultMaxDepth is the default depth bound.
const DefaultMaxDepth = 128

// dirJob is one directory waiting to be listed.
type dirJob struct {
	path    string
	depth   int
	entry   *ftpaudit.Entry // the entry in the parent's listing; nil for the start
	parent  *dirNode
	attempt int
	// idleRetried: this directory's session was lost after sitting idle
	// once already (an excused retry, see worker).
	idleRetried bool
	// noTree: list this directory on its own (a recursive listing that
	// covered it was not trusted, or failed).
	noTree bool
}

// dirNode links a listed directory to its ancestors so that a directory
// listing identical to an ancestor's (a loop the server shows as a plain
// directory) is caught.
type dirNode struct {
	fp     uint64
	parent *dirNode
}

// walker holds the state of one host's walk.
type walker struct {
	opt  WalkOptions
	conn ftpaudit.Connector
	res  *ftpaudit.HostResult
	seed maphash.Seed

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []dirJob
	pending int // queued + being listed
	alive   int // sessions currently open
	seen    map[string]struct{}
	uniques map[string]string
	done    bool
	info    bool // res.Info has been filled
	// chunks holds each listing's kept entries, in place: no per-entry
	// copy while walking; finish builds the sorted Entries once.
	chunks [][]ftpaudit.Entry
	nent   int
	nbytes int64 // paths and lines of the entries kept
	tree   treeGate
	// treeDepth is the depth from which subtrees are listed recursively.
	treeDepth int
	pool      poolState
}

// Walk lists every directory reachable from t's start directory, using
// sessions from connect, and returns what it saw. Cancellation of ctx
// stops the walk; what was found so far is returned with Complete false.
func Walk(ctx context.Context, t ftpaudit.Target, connect ftpaudit.Connector, opt WalkOptions) *ftpaudit.HostResult {
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
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = DefaultMaxEntries
	}
	if opt.MaxEntryBytes <= 0 {
		opt.MaxEntryBytes = DefaultMaxEntryBytes
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
	w := &walker{
		opt:     opt,
		conn:    connect,
		res:     &ftpaudit.HostResult{Target: t, Started: time.Now()},
		seed:    maphash.MakeSeed(),
		seen:    map[string]struct{}{t.Start: {}},
		uniques: map[string]string{},
	}
	w.res.Pool = &ftpaudit.PoolReport{Asked: opt.Connections}
	w.pool = poolState{limit: opt.Connections, hold: opt.CapHold}
	w.cond = sync.NewCond(&w.mu)
	w.queue = append(w.queue, dirJob{path: t.Start})
	w.pending = 1

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
			w.worker(ctx)
		}()
	}
	wg.Wait()
	w.finish(ctx)
	return w.res
}

func (w *walker) finish(ctx context.Context) {
	r := w.res
	r.Finished = time.Now()
	if n := len(w.queue); n > 0 {
		r.Incomplete = append(r.Incomplete, fmt.Sprintf("%d directories were never listed", n))
		for _, j := range w.queue {
			r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: "not listed: the walk stopped before reaching it"})
		}
	}
	if ctx.Err() != nil {
		r.Incomplete = append(r.Incomplete, "scan interrupted: "+context.Cause(ctx).Error())
	}
	if r.LoginError != "" {
		r.Incomplete = append(r.Incomplete, "no session: "+r.LoginError)
	}
	w.poolNote()
	r.Entries = w.sortedEntries()
	sortPathErrors(r.Errors)
	sortPathErrors(r.Unreadable)
	sortPathErrors(r.Notes)
	r.Stats.Errors = len(r.Errors)
	r.Stats.Unreadable = len(r.Unreadable)
	r.Complete = len(r.Incomplete) == 0
}

func sortPathErrors(p []ftpaudit.PathError) {
	slices.SortFunc(p, func(a, b ftpaudit.PathError) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Error, b.Error)
	})
}

// next blocks until a job is available or the walk is over.
func (w *walker) next(ctx context.Context) (dirJob, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) == 0 && w.pending > 0 && !w.done && ctx.Err() == nil {
		w.cond.Wait()
	}
	if len(w.queue) == 0 || w.done || ctx.Err() != nil {
		return dirJob{}, false
	}
	j := w.queue[len(w.queue)-1] // LIFO: depth first keeps the queue small
	w.queue = w.queue[:len(w.queue)-1]
	return j, true
}

// requeue puts a job back after a lost connection.
func (w *walker) requeue(j dirJob) {
	w.mu.Lock()
	w.queue = append(w.queue, j)
	w.cond.Broadcast()
	w.mu.Unlock()
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
				w.mu.Lock()
				capped := ftpaudit.IsTooMany(err) && w.alive > 0 && ctx.Err() == nil
				if capped {
					// The server's limit: fewer sessions for a while.
					w.capAt(ftpaudit.ReplyText(err))
				} else if w.alive == 0 && w.res.LoginError == "" && failures >= w.opt.MaxConnectAttempts {
					// No session at all: the host has failed.
					w.res.LoginError = err.Error()
					w.done = true
				}
				w.cond.Broadcast()
				w.mu.Unlock()
				if capped {
					failures = 0
					continue
				}
				return
			}
			lastUse = time.Now()
		}
		j, ok := w.next(ctx)
		if !ok {
			return
		}
		idle := time.Since(lastUse)
		var (
			l   *ftpaudit.Listing
			err error
		)
		if tl, ok := s.(ftpaudit.TreeLister); ok && w.wantTree(j) {
			var done bool
			done, err = w.listTree(ctx, tl, j)
			if done {
				lastUse = time.Now()
				w.jobDone()
				continue
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
			l, err = s.List(ctx, j.path)
		}
		lastUse = time.Now()
		if err != nil && errors.Is(err, ftpaudit.ErrConnLost) && ctx.Err() == nil {
			_ = s.Close()
			s = nil
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
				w.requeue(j)
				continue
			}
			if j.attempt+1 < w.opt.Retries {
				j.attempt++
				w.requeue(j)
				continue
			}
		}
		var re *ftpaudit.ReplyError
		if err != nil && errors.As(err, &re) && re.Code >= 400 && re.Code < 500 && !errors.Is(err, ftpaudit.ErrConnLost) &&
			j.attempt+1 < w.opt.Retries && ctx.Err() == nil {
			// A transient refusal (425 no data connection, 426 aborted,
			// 450 busy): wait, then try again on the same session.
			j.attempt++
			if sleepCtx(ctx, w.opt.Backoff*time.Duration(j.attempt)) {
				w.requeue(j)
				continue
			}
		}
		w.record(ctx, j, l, err, nil)
		w.jobDone()
	}
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

// prepared is the part of a listing's outcome that needs no shared
// state: computed before the walker's lock is taken, so that per-entry
// work (paths, duplicate names, the fingerprint) runs in parallel.
type prepared struct {
	kept []ftpaudit.Entry     // entries to keep, Path set, "." and ".." and duplicates dropped
	dups []ftpaudit.PathError // names listed twice
	loop bool                 // lists exactly like an ancestor
	node *dirNode             // this directory in the ancestor chain
	size int64                // entryBytes of kept, summed
}

// prepare reuses l.Entries' array for kept, so afterwards only the
// length of l.Entries, and a single-entry listing's entry, stay meaningful.
func (w *walker) prepare(j dirJob, l *ftpaudit.Listing) prepared {
	var p prepared
	fp := w.fingerprint(l)
	p.node = &dirNode{fp: fp, parent: j.parent}
	for a := j.parent; a != nil; a = a.parent {
		if a.fp == fp && len(l.Entries) > 0 {
			p.loop = true
			break
		}
	}
	// Servers list names sorted; then no name can be there twice, and
	// the map that finds duplicates otherwise (tens of MB for a huge
	// directory) is not needed.
	var names map[string]struct{}
	prev, first := "", true
	for i := range l.Entries {
		n := l.Entries[i].Name
		if n == "." || n == ".." || n == "" {
			continue
		}
		if !first && n <= prev {
			names = make(map[string]struct{}, len(l.Entries))
			break
		}
		prev, first = n, false
	}
	// Every kept entry's Path is a piece of one string, built at once.
	size := 0
	for i := range l.Entries {
		size += len(j.path) + 1 + len(l.Entries[i].Name)
	}
	paths := make([]byte, 0, size)
	p.kept = l.Entries[:0]
	for i := range l.Entries {
		e := l.Entries[i]
		if e.Name == "." || e.Name == ".." || e.Name == "" {
			continue
		}
		if names != nil {
			if _, dup := names[e.Name]; dup {
				p.dups = append(p.dups, ftpaudit.PathError{Path: ftppath.Join(j.path, e.Name), Error: "name listed twice in one directory; kept once"})
				continue
			}
			names[e.Name] = struct{}{}
		}
		start := len(paths)
		paths = ftppath.Append(paths, j.path, e.Name)
		e.Path = unsafe.String(&paths[start], len(paths)-start) // paths never grows: no write reaches it again
		p.size += entryBytes(&e)
		p.kept = append(p.kept, e)
	}
	return p
}

// record files one directory's outcome. take, if set, is offered each
// subdirectory to be walked; one it takes is not queued (its listing is
// already at hand, in a recursive listing).
func (w *walker) record(ctx context.Context, j dirJob, l *ftpaudit.Listing, err error, take func(*dirJob) bool) {
	var p prepared
	if err == nil {
		p = w.prepare(j, l)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.res
	if err != nil {
		var re *ftpaudit.ReplyError
		switch {
		case ctx.Err() != nil:
			w.queue = append(w.queue, j) // reported as never listed
		case errors.As(err, &re) && re.Code >= 500 && !errors.Is(err, ftpaudit.ErrConnLost):
			r.Unreadable = append(r.Unreadable, ftpaudit.PathError{Path: j.path, Error: re.Error()})
		default:
			r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: err.Error()})
			r.Incomplete = appendReason(r.Incomplete, "listings failed")
		}
		return
	}
	r.Stats.Listed++
	if l.Truncated {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("listing cut short after %d bytes", l.Bytes)})
		r.Incomplete = appendReason(r.Incomplete, "listings cut short")
	}
	if ftpaudit.ReplySaysTruncated(l.Reply) && len(l.Entries) > 0 {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: "server cut the listing short: " + l.Reply})
		r.Incomplete = appendReason(r.Incomplete, "listings cut short")
	}
	if len(l.Entries) == 0 && len(l.Bad) == 0 && ftpaudit.ReplySaysFailed(l.Reply) {
		// Success code, no data, and a text that says otherwise: this is
		// how vsftpd answers for a directory it cannot open.
		r.Stats.Listed--
		r.Unreadable = append(r.Unreadable, ftpaudit.PathError{Path: j.path, Error: l.Reply})
		return
	}
	if len(l.Entries) == 0 && len(l.Bad) == 0 && j.entry != nil && !anonCanList(j.entry) {
		// An empty success for a directory whose own attributes say
		// anonymous users may not read it: not proof of emptiness.
		r.Stats.Listed--
		r.Unreadable = append(r.Unreadable, ftpaudit.PathError{Path: j.path, Error: "empty listing, and its attributes (" + attrSummary(j.entry) + ") do not let anonymous users read it"})
		return
	}
	if j.entry != nil && listsAsItself(j, l) {
		r.Stats.Listed--
		r.Unreadable = append(r.Unreadable, ftpaudit.PathError{Path: j.path, Error: "server listed the directory itself instead of its contents"})
		return
	}
	for _, wn := range l.Warnings {
		r.Notes = append(r.Notes, ftpaudit.PathError{Path: j.path, Error: wn})
	}
	for _, b := range l.Bad {
		r.Stats.BadLines++
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: "unparsed listing line: " + b.Err + ": " + b.Raw})
		// A line that does not parse may be an entry (a name holding a
		// line feed, a line cut short): the listing is not known in full.
		r.Incomplete = appendReason(r.Incomplete, "unparsed listing lines")
	}
	node := p.node
	if p.loop {
		r.Notes = append(r.Notes, ftpaudit.PathError{Path: j.path, Error: "lists exactly like one of its ancestors (a loop); not descended"})
		node = nil
	}
	r.Errors = append(r.Errors, p.dups...)
	nkept := len(p.kept)
	if n := len(p.kept); n > w.opt.MaxDirEntries {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("lists %d entries, more than --max-dir-entries %d: only the first %d kept", n, w.opt.MaxDirEntries, w.opt.MaxDirEntries)})
		r.Incomplete = appendReason(r.Incomplete, "entry bound reached")
		p.kept = p.kept[:w.opt.MaxDirEntries]
	}
	if room := w.opt.MaxEntries - w.nent; len(p.kept) > room {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("the walk reached --max-entries %d here: %d of this directory's %d entries kept, and the walk stopped", w.opt.MaxEntries, max(room, 0), len(p.kept))})
		r.Incomplete = appendReason(r.Incomplete, "entry bound reached")
		p.kept = p.kept[:max(room, 0)]
		w.done = true
	}
	// The text the entries keep (paths, listing lines) grows with depth as
	// well as with count: a bottomless tree of long names makes paths of
	// kilobytes. It has its own bound (p.size is counted outside the lock;
	// entries are walked here only when the bound falls in this listing).
	if len(p.kept) < nkept {
		// Cut by an entry bound above: count what is left.
		p.size = 0
		for i := range p.kept {
			p.size += entryBytes(&p.kept[i])
		}
	}
	if w.nbytes+p.size > w.opt.MaxEntryBytes {
		var size int64
		for i := range p.kept {
			n := entryBytes(&p.kept[i])
			if w.nbytes+size+n > w.opt.MaxEntryBytes {
				r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("the walk reached --max-entry-bytes %d (paths and listing lines kept) here: %d of this directory's %d entries kept, and the walk stopped", w.opt.MaxEntryBytes, i, len(p.kept))})
				r.Incomplete = appendReason(r.Incomplete, "entry bound reached")
				p.kept = p.kept[:i]
				w.done = true
				break
			}
			size += n
		}
		p.size = size
	}
	w.nbytes += p.size
	if j.depth == 0 {
		w.setTreeDepth(p.kept)
	}
	dirs, files := 0, 0
	for i := range p.kept {
		e := &p.kept[i]
		switch e.Type {
		case ftpaudit.TypeDir:
			r.Stats.Dirs++
			dirs++
		case ftpaudit.TypeFile:
			r.Stats.Files++
			files++
		case ftpaudit.TypeLink:
			r.Stats.Links++
			files++
		default:
			r.Stats.Other++
			files++
		}
		if e.Type != ftpaudit.TypeDir || node == nil {
			continue
		}
		if strings.ContainsAny(e.Name, "/\x00\r\n") {
			r.Errors = append(r.Errors, ftpaudit.PathError{Path: e.Path, Error: "directory name contains '/', NUL, CR or LF: cannot be listed"})
			r.Incomplete = appendReason(r.Incomplete, "directories with names that cannot be sent")
			continue
		}
		if _, ok := w.seen[e.Path]; ok {
			continue
		}
		if g := glob.MatchAtOrBelow(w.opt.Exclude, e.Path); g != nil {
			r.Notes = append(r.Notes, ftpaudit.PathError{Path: e.Path, Error: "excluded by configuration (" + g.String() + "): not descended"})
			continue
		}
		if e.Unique() != "" {
			if first, ok := w.uniques[e.Unique()]; ok {
				r.Notes = append(r.Notes, ftpaudit.PathError{Path: e.Path, Error: "same directory as " + first + " (MLSD unique fact); not descended"})
				continue
			}
			w.uniques[e.Unique()] = e.Path
		}
		if j.depth+1 > w.opt.MaxDepth {
			r.Errors = append(r.Errors, ftpaudit.PathError{Path: e.Path, Error: fmt.Sprintf("not listed: deeper than --max-depth %d", w.opt.MaxDepth)})
			r.Incomplete = appendReason(r.Incomplete, "depth bound reached")
			continue
		}
		w.seen[e.Path] = struct{}{}
		ec := *e
		child := dirJob{path: e.Path, depth: j.depth + 1, entry: &ec, parent: node}
		if take != nil && take(&child) {
			continue
		}
		w.queue = append(w.queue, child)
		w.pending++
	}
	if len(p.kept) > 0 {
		w.chunks = append(w.chunks, p.kept)
		w.nent += len(p.kept)
	}
	w.cond.Broadcast()
	w.opt.Progress.Listed(w.res.Target.URL, dirs, files)
}

func appendReason(rs []string, r string) []string {
	if slices.Contains(rs, r) {
		return rs
	}
	return append(rs, r)
}

// listsAsItself reports whether a listing holds only the directory itself:
// one directory entry with the directory's own name and attributes.
func listsAsItself(j dirJob, l *ftpaudit.Listing) bool {
	if len(l.Entries) != 1 {
		return false
	}
	e, d := l.Entries[0], j.entry
	if e.Type != ftpaudit.TypeDir {
		return false
	}
	if e.Name != d.Name && e.Name != j.path {
		return false
	}
	return e.Mode == d.Mode && e.Size == d.Size && e.Modified.Equal(d.Modified) && e.Owner == d.Owner
}

// fingerprint hashes what a listing shows, to recognise a directory that
// lists the same as an ancestor.
func (w *walker) fingerprint(l *ftpaudit.Listing) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	for i := range l.Entries {
		e := &l.Entries[i]
		h.WriteString(e.Name)
		h.WriteByte(0)
		h.WriteByte(byte(e.Type))
		h.WriteByte(0)
		h.WriteString(e.Mode)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], uint64(e.Size))
		binary.LittleEndian.PutUint64(b[8:], uint64(e.Modified.Unix()))
		h.Write(b[:])
	}
	return h.Sum64()
}

// entryBytes is the text an entry keeps: its path and its listing line.
func entryBytes(e *ftpaudit.Entry) int64 { return int64(len(e.Path) + len(e.Raw)) }

// anonCanList reports whether a directory's own listed attributes allow an
// anonymous user to list it. Unknown attributes allow it.
func anonCanList(e *ftpaudit.Entry) bool {
	if e.Perm() != "" && e.Facts() != nil {
		return strings.ContainsRune(e.Perm(), 'l')
	}
	if len(e.Mode) < 10 {
		return true
	}
	if e.Mode[7] == 'r' {
		return true
	}
	switch e.Owner {
	case "ftp", "anonymous":
		return e.Mode[1] == 'r'
	}
	return false
}

func attrSummary(e *ftpaudit.Entry) string {
	var parts []string
	if e.Mode != "" {
		parts = append(parts, e.Mode)
	}
	if e.Owner != "" {
		parts = append(parts, "owner "+e.Owner)
	}
	if e.Perm() != "" {
		parts = append(parts, "perm="+e.Perm())
	}
	return strings.Join(parts, ", ")
}

// sortedEntries joins the listings' entries into one slice sorted by path,
// sorting pointers rather than moving the large structs around.
func (w *walker) sortedEntries() []ftpaudit.Entry {
	defer func() { w.chunks = nil }()
	byPath := func(a, b *ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) }
	// When the largest listing's array has room for every other entry
	// (a huge directory in a small tree: its array was sized by line
	// count, "." and ".." included), gather them there.
	big := 0
	for i, c := range w.chunks {
		if len(c) > len(w.chunks[big]) {
			big = i
		}
	}
	if len(w.chunks) > 1 && cap(w.chunks[big]) >= w.nent {
		all := w.chunks[big]
		for i, c := range w.chunks {
			if i != big {
				all = append(all, c...)
			}
		}
		w.chunks = [][]ftpaudit.Entry{all}
	}
	if len(w.chunks) == 1 {
		// One directory (or one listing holding nearly everything): sort
		// it where it lies, without a second copy of every entry.
		c := w.chunks[0]
		if !slices.IsSortedFunc(c, func(a, b ftpaudit.Entry) int { return byPath(&a, &b) }) {
			idx := make([]int32, len(c))
			for i := range idx {
				idx[i] = int32(i)
			}
			slices.SortFunc(idx, func(a, b int32) int { return byPath(&c[a], &c[b]) })
			permute(c, idx)
		}
		return c
	}
	ptrs := make([]*ftpaudit.Entry, 0, w.nent)
	for _, c := range w.chunks {
		for i := range c {
			ptrs = append(ptrs, &c[i])
		}
	}
	slices.SortFunc(ptrs, byPath)
	out := make([]ftpaudit.Entry, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// permute reorders es in place so that es[i] becomes the old es[idx[i]],
// following cycles; idx is destroyed.
func permute(es []ftpaudit.Entry, idx []int32) {
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := es[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				es[j] = tmp
				break
			}
			es[j] = es[k]
			j = k
		}
	}
}
