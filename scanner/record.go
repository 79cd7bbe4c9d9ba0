package scanner

// Filing one directory's listing: what it says (refusals, cut listings,
// problems), the entry bounds, and the subdirectories to walk next.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"unsafe"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// prepared is the part of a listing's outcome that needs no shared
// state: computed before the walker's lock is taken, so that per-entry
// work (paths, duplicate names, the unique checks) runs in parallel.
type prepared struct {
	kept []ftpaudit.Entry     // entries to keep, Path set, "." and ".." dropped, duplicates resolved
	dups []ftpaudit.PathError // names listed twice, the first maxDupsKept
	// dupMore counts the names listed twice past maxDupsKept: resolved
	// like the others, reported in one line.
	dupMore int
	size    int64 // entryBytes of kept, summed
	// after: AfterWalk's candidates among kept (see afterCands).
	after afterCands
	// fp fingerprints the listing, for a directory with an MLSD unique
	// fact (to check a second directory with the same fact against it).
	fp uint64
	// clash says why the listing's unique facts cannot be the server's
	// identity of its entries ("" when they can).
	clash string
	// sorted: kept is in strictly increasing name order (as servers
	// list).
	sorted bool
}

// prepare reuses l.Entries' array for kept, so afterwards only the
// length of l.Entries, and a single-entry listing's entry, stay meaningful.
func (w *walker) prepare(j dirJob, l *ftpaudit.Listing) prepared {
	var p prepared
	if j.entry != nil && j.entry.Unique() != "" {
		p.fp = w.fingerprint(l)
	}
	p.clash = uniqueClash(j.path, l.Entries)
	// Servers list names sorted; then no name can be there twice, and
	// the map that finds duplicates otherwise (tens of MB for a huge
	// directory) is not needed.
	var names map[string]int // name -> index in p.kept
	prev, first := "", true
	for i := range l.Entries {
		n := l.Entries[i].Name
		if n == "." || n == ".." || n == "" {
			continue
		}
		if !first && n <= prev {
			names = make(map[string]int, len(l.Entries))
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
			if k, dup := names[e.Name]; dup {
				// (p.kept[k] lies in a slot of l.Entries already read.)
				d := resolveDup(&p.kept[k], &e)
				if len(p.dups) < maxDupsKept {
					p.dups = append(p.dups, d)
				} else {
					p.dupMore++
				}
				continue
			}
			names[e.Name] = len(p.kept)
		}
		start := len(paths)
		paths = ftppath.Append(paths, j.path, e.Name)
		e.Path = unsafe.String(&paths[start], len(paths)-start) // paths never grows: no write reaches it again
		p.kept = append(p.kept, e)
	}
	p.sorted = names == nil
	for i := range p.kept {
		p.size += entryBytes(&p.kept[i])
		p.after.note(&p.kept[i])
	}
	return p
}

// record files one directory's outcome. take, if set, is offered each
// subdirectory to be walked; one it takes is not queued (its listing is
// already at hand: in a recursive listing, or listed to tell a listing of
// only the directory itself from a refusal).
func (w *walker) record(ctx context.Context, j dirJob, l *ftpaudit.Listing, err error, take func(*dirJob) bool) {
	var p prepared
	if err == nil {
		p = w.prepare(j, l)
	}
	seq, keep := w.file(ctx, j, l, err, &p, take)
	if !keep {
		return
	}
	// Kept outside the lock: the store encodes (and past its memory
	// budget writes) a listing while other sessions file theirs; seq
	// keeps the order in which they were filed.
	if err := w.store.Add(seq, j.path, p.kept, p.sorted); err != nil {
		w.mu.Lock()
		w.storeFailed(j, len(p.kept), err)
		w.mu.Unlock()
		return
	}
	if w.opt.Observe != nil {
		w.opt.Observe(seq, p.kept)
	}
	// AfterWalk's candidates, noted only once the entries are filed:
	// AfterWalk then need not read every entry back.
	if c := p.after; c.fetch != nil || c.manifests != nil {
		w.mu.Lock()
		w.after.fetch = append(w.after.fetch, c.fetch...)
		w.after.manifests = append(w.after.manifests, c.manifests...)
		w.mu.Unlock()
	}
}

// file files one directory's outcome under the lock, and says whether
// its kept entries go to the store (keep), with their order of filing.
func (w *walker) file(ctx context.Context, j dirJob, l *ftpaudit.Listing, err error, p *prepared, take func(*dirJob) bool) (seq int, keep bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.res
	// Whatever the server made of a directory this deep (a listing, a
	// refusal, an error) proves nothing about what is in it.
	w.noteLongPath(j)
	if err != nil {
		w.recordFailure(ctx, j, err)
		return 0, false
	}
	w.noteCut(j, l)
	if why, ok := w.refusal(j, l); ok {
		w.unreadable(j, why)
		return 0, false
	}
	if p.clash != "" {
		w.distrustUnique(j.path, p.clash)
	}
	if w.sameAsListed(j, p.fp) {
		return 0, false
	}
	if j.undecided == "" {
		r.Stats.Listed++
	} else {
		w.notListed(j.path, ftpaudit.UnlistedUndecided, j.undecided, causeUndecided, &r.Errors)
	}
	w.noteProblems(j, l, *p)
	w.applyBounds(j, p)
	if j.depth == 0 {
		w.setTreeDepth(p.kept)
	}
	dirs, files := w.descend(j, p.kept, take)
	if len(p.kept) > 0 {
		seq, keep = w.nlists, true
		w.nlists++
		w.nent += len(p.kept)
	}
	w.cond.Broadcast()
	w.opt.Progress.Listed(w.res.Target.URL, dirs, files)
	return seq, keep
}

// storeFailed files a listing whose entries the store could not keep
// (its spill file could not be written): the walk stops, and the host is
// incomplete, since its entries are not all there to judge. Called with
// w.mu held.
func (w *walker) storeFailed(j dirJob, n int, err error) {
	r := w.res
	r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("%d entries of this directory could not be kept (%v), and the walk stopped", n, err)})
	r.Incomplete = appendReason(r.Incomplete, "entries could not be kept: "+err.Error())
	w.nent -= n
	w.done = true
	w.cond.Broadcast()
}

// Causes: the host's Incomplete reasons that directories not listed
// stand for (ftpaudit.Unlisted.Cause).
const (
	causeFailed    = "listings failed"
	causeDepth     = "depth bound reached"
	causeBadName   = "directories with names that cannot be sent"
	causeUndecided = "directories that list only themselves, undecided"
)

// notListed files a directory not listed: in NotListed, and with the
// same text in list (Errors, Unreadable or Notes), if not nil. Called
// with w.mu held.
func (w *walker) notListed(path string, kind ftpaudit.UnlistedKind, reason, cause string, list *[]ftpaudit.PathError) {
	r := w.res
	// A copy: path may be a part of a listing's paths, which the store
	// does not keep in memory once it has spilled them (a bottomless
	// tree files ten directories of every listing at the depth bound).
	path = strings.Clone(path)
	if !kind.Costs() {
		cause = ""
	}
	r.NotListed = append(r.NotListed, ftpaudit.Unlisted{Path: path, Kind: kind, Reason: reason, Cause: cause})
	if list != nil {
		*list = append(*list, ftpaudit.PathError{Path: path, Error: reason})
	}
	if cause != "" {
		r.Incomplete = appendReason(r.Incomplete, cause)
	}
}

// unreadable files j's directory as refused by the server, with why. The
// start directory refused makes the host incomplete: no root listing, no
// complete.
func (w *walker) unreadable(j dirJob, why string) {
	r := w.res
	w.notListed(j.path, ftpaudit.UnlistedUnreadable, why, "", &r.Unreadable)
	if j.depth == 0 {
		r.Incomplete = appendReason(r.Incomplete, startReason(j.path, "the server refused to list it: "+why))
	}
}

// startReason is the Incomplete reason of a start directory not listed.
func startReason(start, why string) string {
	return "start directory " + ftpaudit.EvidenceName(start) + " not listed: " + why
}

// recordFailure files a directory that could not be listed: a refusal
// (5xx) makes it unreadable, any other error incomplete; after
// cancellation it is left to be reported as never listed. A syntax
// error (500-504: "command line too long", "not implemented") refuses
// the command, not the directory, and is an error (pyftpdlib answers
// "500 Command too long." for a path of over 2,048 bytes), as is a 53x
// (refusedBy).
func (w *walker) recordFailure(ctx context.Context, j dirJob, err error) {
	r := w.res
	var re *ftpaudit.ReplyError
	var de *ftpaudit.DataError
	switch {
	case ctx.Err() != nil:
		w.queue = append(w.queue, j) // reported as never listed
	case refusedBy(err, &re):
		w.unreadable(j, re.Error())
	case errors.As(err, &de):
		// Success, and an error message for data: refused, in the
		// server's words.
		w.unreadable(j, de.Error())
	default:
		w.notListed(j.path, ftpaudit.UnlistedError, err.Error(), causeFailed, &r.Errors)
		if j.depth == 0 {
			r.Incomplete = appendReason(r.Incomplete, startReason(j.path, err.Error()))
		}
	}
}

// refusedBy reports whether err is the server's refusal of a directory
// (a 5xx reply on a live connection), and sets *re to the reply. A
// syntax error (500-504) refuses the command, and a 53x the session (530
// not logged in, 534 the TLS policy): neither says anything about the
// directory.
func refusedBy(err error, re **ftpaudit.ReplyError) bool {
	return errors.As(err, re) && (*re).Code >= 505 && (*re).Code/10 != 53 && !errors.Is(err, ftpaudit.ErrConnLost)
}

// noteCut files a listing that was cut short: by the byte bound on a
// transfer, or by the server, as its final reply says.
func (w *walker) noteCut(j dirJob, l *ftpaudit.Listing) {
	r := w.res
	if l.Truncated {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("listing cut short after %d bytes", l.Bytes)})
		r.Incomplete = appendReason(r.Incomplete, "listings cut short")
	}
	if ftpaudit.ReplySaysTruncated(l.Reply) && len(l.Entries) > 0 {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: "server cut the listing short: " + l.Reply})
		r.Incomplete = appendReason(r.Incomplete, "listings cut short")
	}
}

// refusal says why a listing that came back as a success is a refusal to
// list the directory (ok), which then counts as unreadable. A listing of
// only the directory itself is not judged here: the walk lists below it
// first (see settle).
func (w *walker) refusal(j dirJob, l *ftpaudit.Listing) (why string, ok bool) {
	empty := len(l.Entries) == 0 && len(l.Bad) == 0
	switch {
	case empty && ftpaudit.ReplySaysFailed(l.Reply):
		// Success code, no data, and a text that says otherwise: this is
		// how vsftpd answers for a directory it cannot open.
		return l.Reply, true
	case empty && j.entry != nil && !anonCanList(j.entry, w.opt.AnonymousOwner, w.opt.AnonymousGroup):
		// An empty success for a directory whose own attributes say
		// anonymous users may not read it: not proof of emptiness.
		return "empty listing, and its attributes (" + attrSummary(j.entry) + ") do not let anonymous users read it", true
	}
	return "", false
}

// reasonLongPath is the cause of incompleteness filed by noteLongPath.
const reasonLongPath = "listings of directories whose paths are too long to prove them whole (--path-max)"

// noteLongPath files the outcome of listing a directory whose path
// leaves less than LongPathMargin of the server's path limit (PathMax):
// a server that joins the directory's path and an entry's name to look
// the entry up (vsftpd, proftpd, pyftpdlib) leaves out, without a word,
// every entry whose joined path is too long for it, and one may refuse
// the directory itself for its length (Twisted: "550 ... internal
// server error"), so neither its listing nor a refusal is proof of what
// it holds. An anonymous uploader who may create directories can nest
// them that deep, and hide files at the bottom; the host is made
// incomplete, and every such directory is named in Errors, the list
// that verify, the baseline and the manifest comparison read as not
// seen in full (each checks the directories above an entry only up to
// the nearest one seen, so naming the topmost would not do). The text
// is one string for all of them: a directory costs its path. Called
// with w.mu held.
func (w *walker) noteLongPath(j dirJob) {
	if len(j.path) < w.opt.PathMax-LongPathMargin {
		return
	}
	r := w.res
	if w.longPathErr == "" {
		w.longPathErr = fmt.Sprintf("this directory's path leaves %d bytes or less of the server's path limit (taken as --path-max %d): a server leaves out of a listing, without a word, an entry whose path would pass its limit, or refuses a path that long, so what it showed of this directory may be missing entries",
			LongPathMargin, w.opt.PathMax)
	}
	r.Errors = append(r.Errors, ftpaudit.PathError{Path: strings.Clone(j.path), Error: w.longPathErr})
	r.Incomplete = appendReason(r.Incomplete, reasonLongPath)
}

// noteProblems files what a listing says beside its entries: the
// session's warnings, lines that did not parse, names listed twice.
func (w *walker) noteProblems(j dirJob, l *ftpaudit.Listing, p prepared) {
	r := w.res
	for _, wn := range l.Warnings {
		r.Notes = append(r.Notes, ftpaudit.PathError{Path: j.path, Error: wn})
	}
	for _, b := range l.Bad {
		r.Stats.BadLines += 1 + b.More
		msg := "unparsed listing line: " + b.Err + ": " + b.String()
		if b.More > 0 {
			msg += fmt.Sprintf(" (and %d more unparsed lines, not kept)", b.More)
		}
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: msg})
		// A line that does not parse may be an entry (a name holding a
		// line feed, a line cut short): the listing is not known in full.
		r.Incomplete = appendReason(r.Incomplete, "unparsed listing lines")
	}
	r.Errors = append(r.Errors, p.dups...)
	if p.dupMore > 0 {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("%d more names listed twice in this directory, each kept once (not reported one by one)", p.dupMore)})
	}
}

// maxDupsKept bounds the names listed twice that one listing reports one
// by one: a server can list one name millions of times.
const maxDupsKept = 100

// applyBounds cuts p.kept to the entry bounds (per directory, per walk,
// and the bytes the entries keep), files each bound reached, stops the
// walk when one of the walk's is, and counts the bytes kept.
func (w *walker) applyBounds(j dirJob, p *prepared) {
	r := w.res
	nkept := len(p.kept)
	if n := len(p.kept); n > w.opt.MaxDirEntries {
		// The parser keeps one entry past the bound it was given
		// (ftpaudit.WithListLimit) to show it was passed, and no more.
		what := fmt.Sprintf("lists %d entries", n)
		if n == w.opt.MaxDirEntries+1 {
			what = "lists more entries"
		}
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("%s, more than --max-dir-entries %d: only the first %d kept", what, w.opt.MaxDirEntries, w.opt.MaxDirEntries)})
		r.Incomplete = appendReason(r.Incomplete, "entry bound reached")
		p.kept = p.kept[:w.opt.MaxDirEntries]
	}
	if room := w.opt.MaxEntries - w.nent; len(p.kept) > room {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: j.path, Error: fmt.Sprintf("the walk reached --max-entries %d here: %d of this directory's %d entries kept, and the walk stopped", w.opt.MaxEntries, max(room, 0), len(p.kept))})
		r.Incomplete = appendReason(r.Incomplete, "entry bound reached")
		p.kept = p.kept[:max(room, 0)]
		w.done, w.bounded = true, true
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
				w.done, w.bounded = true, true
				break
			}
			size += n
		}
		p.size = size
	}
	w.nbytes += p.size
}

// descend counts the kept entries of j's directory and queues its
// subdirectories, offering each to take first. dirs and files count this
// listing's entries for Progress.
func (w *walker) descend(j dirJob, kept []ftpaudit.Entry, take func(*dirJob) bool) (dirs, files int) {
	r := w.res
	for i := range kept {
		e := &kept[i]
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
		if e.Type != ftpaudit.TypeDir {
			continue
		}
		child, ok := w.subdir(j, e)
		if !ok || take != nil && take(&child) {
			continue
		}
		w.queue = append(w.queue, child)
		w.pending++
	}
	return dirs, files
}

// subdir returns the job that lists e, a subdirectory of j's directory,
// and marks it seen. It returns false for one not to be listed: seen
// already, or filed as a name that cannot be sent, excluded, or beyond
// the depth bound. (A directory with the MLSD unique fact of one already
// walked is listed, and not descended only if it lists the same: see
// sameAsListed.)
func (w *walker) subdir(j dirJob, e *ftpaudit.Entry) (dirJob, bool) {
	r := w.res
	if why := unsendable(e.Name); why != "" {
		w.notListed(e.Path, ftpaudit.UnlistedError, why, causeBadName, &r.Errors)
		return dirJob{}, false
	}
	if _, ok := w.seen[e.Path]; ok {
		return dirJob{}, false
	}
	if g := glob.MatchAtOrBelow(w.opt.Exclude, e.Path); g != nil {
		w.notListed(e.Path, ftpaudit.UnlistedExcluded, "excluded by configuration ("+g.String()+"): not descended", "", &r.Notes)
		return dirJob{}, false
	}
	if j.depth+1 > w.opt.MaxDepth {
		w.notListed(e.Path, ftpaudit.UnlistedBound, depthReason(w.opt.MaxDepth), causeDepth, &r.Errors)
		return dirJob{}, false
	}
	// A copy of its own: a job may wait long in the queue (an endless
	// tree queues many), and must not keep its parent's listing, paths
	// and text in memory, once the store has spilled them.
	ec := e.Clone()
	w.seen[ec.Path] = struct{}{}
	return dirJob{path: ec.Path, depth: j.depth + 1, entry: &ec}, true
}

// unsendable says why a directory name cannot be sent to the server, or
// "" when it can.
func unsendable(name string) string {
	if strings.ContainsAny(name, "/\x00\r\n") {
		return "directory name contains '/', NUL, CR or LF: cannot be listed"
	}
	return ""
}

// depthReason is the reason of a directory beyond the depth bound.
func depthReason(max int) string {
	return fmt.Sprintf("not listed: deeper than --max-depth %d", max)
}

func appendReason(rs []string, r string) []string {
	if slices.Contains(rs, r) {
		return rs
	}
	return append(rs, r)
}

// fingerprint hashes what a listing shows (names, types, modes, sizes,
// times, unique facts), to check that a directory with the MLSD unique
// fact of one already listed really is that directory.
func (w *walker) fingerprint(l *ftpaudit.Listing) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	for i := range l.Entries {
		e := &l.Entries[i]
		if e.Name == "." || e.Name == ".." || e.Name == "" {
			continue
		}
		h.WriteString(e.Name)
		h.WriteByte(0)
		h.WriteByte(byte(e.Type))
		h.WriteByte(0)
		h.WriteString(e.Mode)
		h.WriteByte(0)
		h.WriteString(e.Unique())
		h.WriteByte(0)
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
// anonymous user to list it: MLSD's perm fact when there is one, else the
// mode's read bit for others, or for the owner or group when they are the
// anonymous account (owner, group: nil means the names "ftp" and
// "anonymous"). Unknown attributes allow it.
func anonCanList(e *ftpaudit.Entry, owner, group func(string) bool) bool {
	if e.Perm() != "" && e.HasFacts() {
		return strings.ContainsRune(e.Perm(), 'l')
	}
	if len(e.Mode) < 10 {
		return true
	}
	if e.Mode[7] == 'r' {
		return true
	}
	if owner == nil {
		owner = defaultAnonymous
	}
	if group == nil {
		group = defaultAnonymous
	}
	return owner(e.Owner) && e.Mode[1] == 'r' || group(e.Group) && e.Mode[4] == 'r'
}

// defaultAnonymous matches the usual names of the anonymous account.
func defaultAnonymous(id string) bool { return id == "ftp" || id == "anonymous" }

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
