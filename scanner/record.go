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
		w.recordFailure(ctx, j, err)
		return
	}
	w.noteCut(j, l)
	if why, ok := w.refusal(j, l); ok {
		r.Unreadable = append(r.Unreadable, ftpaudit.PathError{Path: j.path, Error: why})
		return
	}
	r.Stats.Listed++
	w.noteProblems(j, l, p)
	node := p.node
	if p.loop {
		node = nil // not descended
	}
	w.applyBounds(j, &p)
	if j.depth == 0 {
		w.setTreeDepth(p.kept)
	}
	dirs, files := w.descend(j, p.kept, node, take)
	if len(p.kept) > 0 {
		w.chunks = append(w.chunks, p.kept)
		w.nent += len(p.kept)
	}
	w.cond.Broadcast()
	w.opt.Progress.Listed(w.res.Target.URL, dirs, files)
}

// recordFailure files a directory that could not be listed: a refusal
// (5xx) makes it unreadable, any other error incomplete; after
// cancellation it is left to be reported as never listed.
func (w *walker) recordFailure(ctx context.Context, j dirJob, err error) {
	r := w.res
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
// list the directory (ok), which then counts as unreadable.
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
	case j.entry != nil && listsAsItself(j, l):
		return "server listed the directory itself instead of its contents", true
	}
	return "", false
}

// noteProblems files what a listing says beside its entries: the
// session's warnings, lines that did not parse, a loop, names listed
// twice.
func (w *walker) noteProblems(j dirJob, l *ftpaudit.Listing, p prepared) {
	r := w.res
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
	if p.loop {
		r.Notes = append(r.Notes, ftpaudit.PathError{Path: j.path, Error: "lists exactly like one of its ancestors (a loop); not descended"})
	}
	r.Errors = append(r.Errors, p.dups...)
}

// applyBounds cuts p.kept to the entry bounds (per directory, per walk,
// and the bytes the entries keep), files each bound reached, stops the
// walk when one of the walk's is, and counts the bytes kept.
func (w *walker) applyBounds(j dirJob, p *prepared) {
	r := w.res
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
}

// descend counts the kept entries of j's directory and queues its
// subdirectories (none when node is nil: a loop), offering each to take
// first. dirs and files count this listing's entries for Progress.
func (w *walker) descend(j dirJob, kept []ftpaudit.Entry, node *dirNode, take func(*dirJob) bool) (dirs, files int) {
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
		if e.Type != ftpaudit.TypeDir || node == nil {
			continue
		}
		child, ok := w.subdir(j, e, node)
		if !ok || take != nil && take(&child) {
			continue
		}
		w.queue = append(w.queue, child)
		w.pending++
	}
	return dirs, files
}

// subdir returns the job that lists e, a subdirectory of j's directory
// (node), and marks it seen. It returns false for one not to be listed:
// seen already, or noted as a name that cannot be sent, excluded, the
// same directory as another by its unique fact, or beyond the depth bound.
func (w *walker) subdir(j dirJob, e *ftpaudit.Entry, node *dirNode) (dirJob, bool) {
	r := w.res
	if strings.ContainsAny(e.Name, "/\x00\r\n") {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: e.Path, Error: "directory name contains '/', NUL, CR or LF: cannot be listed"})
		r.Incomplete = appendReason(r.Incomplete, "directories with names that cannot be sent")
		return dirJob{}, false
	}
	if _, ok := w.seen[e.Path]; ok {
		return dirJob{}, false
	}
	if g := glob.MatchAtOrBelow(w.opt.Exclude, e.Path); g != nil {
		r.Notes = append(r.Notes, ftpaudit.PathError{Path: e.Path, Error: "excluded by configuration (" + g.String() + "): not descended"})
		return dirJob{}, false
	}
	if e.Unique() != "" {
		if first, ok := w.uniques[e.Unique()]; ok {
			r.Notes = append(r.Notes, ftpaudit.PathError{Path: e.Path, Error: "same directory as " + first + " (MLSD unique fact); not descended"})
			return dirJob{}, false
		}
		w.uniques[e.Unique()] = e.Path
	}
	if j.depth+1 > w.opt.MaxDepth {
		r.Errors = append(r.Errors, ftpaudit.PathError{Path: e.Path, Error: fmt.Sprintf("not listed: deeper than --max-depth %d", w.opt.MaxDepth)})
		r.Incomplete = appendReason(r.Incomplete, "depth bound reached")
		return dirJob{}, false
	}
	w.seen[e.Path] = struct{}{}
	ec := *e
	return dirJob{path: e.Path, depth: j.depth + 1, entry: &ec, parent: node}, true
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
// anonymous user to list it: MLSD's perm fact when there is one, else the
// mode's read bit for others, or for the owner or group when they are the
// anonymous account (owner, group: nil means the names "ftp" and
// "anonymous"). Unknown attributes allow it.
func anonCanList(e *ftpaudit.Entry, owner, group func(string) bool) bool {
	if e.Perm() != "" && e.Facts() != nil {
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
