package scanner

// Proving that a listing is a directory's contents before it is filed,
// for the two listings whose shape alone cannot tell:
//
//   - the start directory's, when it shows at most one entry: a start that
//     does not exist, or is a file, lists like that too (vsftpd and
//     pure-ftpd answer a missing path with an empty success; every server
//     lists a file as itself). Its parent's listing says what it is.
//   - a listing whose only entry is a subdirectory with the directory's own
//     name and attributes: vsftpd answers so for a directory it cannot
//     read (it lists the directory itself), but `mkdir -p x/x` or two
//     anonymous MKDs make exactly that listing of a real directory. The
//     subdirectory is listed: if it cannot be listed either, the directory
//     is unreadable and the subdirectory a phantom; if it lists content,
//     it is real; otherwise the directory is undecided, and the host
//     incomplete.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// settle proves j's listing l where its shape cannot tell (see the file
// comment), listing more on s, and files the outcome itself (done) when
// it is not j's listing as it stands. err is a lost connection or
// cancellation, after which j is retried or left as never listed.
func (w *walker) settle(ctx context.Context, s ftpaudit.Session, j *dirJob, l *ftpaudit.Listing) (done bool, err error) {
	if j.depth == 0 && j.path != "/" {
		if done, err = w.proveStart(ctx, s, j, l); done || err != nil {
			return done, err
		}
	}
	if !listsOnlyItself(*j, l) {
		return false, nil
	}
	return w.proveSelf(ctx, s, *j, l)
}

// listEntries counts a listing's entries other than "." and "..".
func listEntries(l *ftpaudit.Listing) int {
	n := 0
	for i := range l.Entries {
		if nm := l.Entries[i].Name; nm != "." && nm != ".." && nm != "" {
			n++
		}
	}
	return n
}

// onlyEntry returns a listing's only entry other than "." and "..".
func onlyEntry(l *ftpaudit.Listing) *ftpaudit.Entry {
	for i := range l.Entries {
		if nm := l.Entries[i].Name; nm != "." && nm != ".." && nm != "" {
			return &l.Entries[i]
		}
	}
	return nil
}

// listsOnlyItself reports whether l holds only j's directory itself, by
// its shape: one directory entry with the directory's own name (or its
// whole path) and attributes, and no line that failed to parse.
func listsOnlyItself(j dirJob, l *ftpaudit.Listing) bool {
	d := j.entry
	if d == nil || len(l.Bad) > 0 || listEntries(l) != 1 {
		return false
	}
	e := onlyEntry(l)
	if e.Type != ftpaudit.TypeDir || e.Name != d.Name && e.Name != j.path {
		return false
	}
	return e.Mode == d.Mode && e.Size == d.Size && e.Modified.Equal(d.Modified) && e.Owner == d.Owner
}

// proveStart checks, when the start directory's listing shows at most
// one entry, that the start exists and is a directory, from its
// parent's listing (which also gives the start its own entry, for the
// other checks). A start that is not there, or is a file, is filed as not
// listed and makes the host incomplete (done); so is an empty start whose
// parent cannot tell.
func (w *walker) proveStart(ctx context.Context, s ftpaudit.Session, j *dirJob, l *ftpaudit.Listing) (done bool, err error) {
	n := listEntries(l)
	if n > 1 || len(l.Bad) > 0 {
		return false, nil // more than a missing path or a file lists
	}
	parent, name := ftppath.Split(j.path)
	pl, perr := w.listRetrying(ctx, s, parent)
	if perr != nil && (errors.Is(perr, ftpaudit.ErrConnLost) || ctx.Err() != nil) {
		return false, perr
	}
	var found []*ftpaudit.Entry
	if perr == nil {
		for i := range pl.Entries {
			if pl.Entries[i].Name == name {
				found = append(found, &pl.Entries[i])
			}
		}
	}
	var dir, link, file *ftpaudit.Entry
	for _, e := range found {
		switch e.Type {
		case ftpaudit.TypeDir:
			dir = e
		case ftpaudit.TypeLink:
			link = e
		default:
			file = e
		}
	}
	switch {
	case dir != nil:
		ec := *dir
		ec.Path = j.path
		j.entry = &ec
		return false, nil
	case link != nil:
		return false, nil // a start reached through a symlink: its listing stands
	case file != nil:
		w.startNotListed(*j, ftpaudit.UnlistedError, fmt.Sprintf("it is not a directory: its parent %s lists it as %s",
			ftpaudit.EvidenceName(parent), reading(file)))
		return true, nil
	}
	// Not in the parent's listing: proof that it does not exist, if the
	// parent really was listed.
	why := ""
	switch {
	case perr != nil:
		why = "its parent " + ftpaudit.EvidenceName(parent) + " could not be listed (" + perr.Error() + ")"
	case listEntries(pl) == 0:
		why = "its parent " + ftpaudit.EvidenceName(parent) + " lists nothing"
	case listEntries(pl) == 1 && onlyEntry(pl).Name == pathBase(parent):
		why = "its parent " + ftpaudit.EvidenceName(parent) + " lists only itself"
	}
	if why == "" {
		w.startNotListed(*j, ftpaudit.UnlistedError, "it does not exist: its parent "+ftpaudit.EvidenceName(parent)+" lists no "+ftpaudit.EvidenceName(name))
		return true, nil
	}
	switch {
	case n == 0:
		w.startNotListed(*j, ftpaudit.UnlistedUndecided, "its listing is empty, and "+why+": whether it exists cannot be told")
		return true, nil
	case onlyEntry(l).Type != ftpaudit.TypeDir && (onlyEntry(l).Name == name || onlyEntry(l).Name == j.path):
		w.startNotListed(*j, ftpaudit.UnlistedUndecided, "it lists only a file of its own name, and "+why+": it may be that file")
		return true, nil
	}
	return false, nil
}

// listRetrying lists dir on s, trying again after a transient refusal
// (4xx) while the walk's retries allow, as the worker does for a job.
func (w *walker) listRetrying(ctx context.Context, s ftpaudit.Session, dir string) (*ftpaudit.Listing, error) {
	for attempt := 1; ; attempt++ {
		l, err := s.List(ctx, dir)
		var re *ftpaudit.ReplyError
		if err == nil || !errors.As(err, &re) || re.Code < 400 || re.Code >= 500 || errors.Is(err, ftpaudit.ErrConnLost) ||
			attempt >= w.opt.Retries || !sleepCtx(ctx, w.opt.Backoff*time.Duration(attempt)) {
			return l, err
		}
	}
}

// pathBase is the last name of a path ("" for "/").
func pathBase(p string) string {
	_, name := ftppath.Split(p)
	return name
}

// startNotListed files the start directory as not listed, of kind, for
// why: the host is incomplete whatever the kind.
func (w *walker) startNotListed(j dirJob, kind ftpaudit.UnlistedKind, why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.res
	list := &r.Errors
	if kind == ftpaudit.UnlistedUnreadable {
		list = &r.Unreadable
	}
	w.notListed(j.path, kind, why, "", list)
	r.Incomplete = appendReason(r.Incomplete, startReason(j.path, why))
}

// selfLink is one directory of a chain of listings of only themselves.
type selfLink struct {
	j dirJob
	l *ftpaudit.Listing
}

// proveSelf settles j, whose listing l holds only j itself (its own name
// and attributes), by listing that subdirectory, and below while each
// lists only itself in turn (`mkdir -p u/u/u`). At the bottom of the
// chain:
//
//   - the subdirectory is refused (5xx, a "failed" reply, an empty listing
//     its attributes deny): the last directory of the chain is unreadable
//     and its only entry a phantom, which is dropped; every directory
//     above it is undecided (its only subdirectory exists, or not, and is
//     unreadable: nothing tells whether it was listed);
//   - the subdirectory lists content: it is real, and so is every
//     directory of the chain, each listed as it stands, except one whose
//     own attributes deny anonymous users reading it (a listing of it may
//     be the server's answer about the directory, with its content
//     unseen): that one is undecided, its entries kept;
//   - anything else (an empty listing, which a server may give for a path
//     it does not have; another failure; a bound or an exclusion that
//     stops the check): every directory of the chain is undecided.
//
// Undecided directories make the host incomplete, each named with its
// evidence. Everything is filed here (done), unless the connection is
// lost (err), when j is retried as a whole.
func (w *walker) proveSelf(ctx context.Context, s ftpaudit.Session, j dirJob, l *ftpaudit.Listing) (done bool, err error) {
	chain := []selfLink{{j, l}}
	for {
		cur := chain[len(chain)-1]
		e := onlyEntry(cur.l)
		if e.Name == cur.j.path && strings.Contains(e.Name, "/") {
			// A name holding "/" is no entry of the directory: the
			// server described the directory itself.
			return true, w.fileChain(ctx, chain, bottom{refused: "the server listed the directory itself, by its whole path, instead of its contents"})
		}
		ec := e.Clone()
		ec.Path = ftppath.Join(cur.j.path, e.Name)
		child := dirJob{path: ec.Path, depth: cur.j.depth + 1, entry: &ec}
		if why := w.cannotList(child); why != "" {
			return true, w.fileChain(ctx, chain, bottom{child: child, other: why})
		}
		cl, cerr := w.listRetrying(ctx, s, child.path)
		var re *ftpaudit.ReplyError
		switch {
		case cerr != nil && (errors.Is(cerr, ftpaudit.ErrConnLost) || ctx.Err() != nil):
			return false, cerr
		case cerr != nil && refusedBy(cerr, &re):
			return true, w.fileChain(ctx, chain, bottom{child: child, refused: re.Error()})
		case cerr != nil:
			return true, w.fileChain(ctx, chain, bottom{child: child, other: "listing it failed: " + cerr.Error()})
		}
		if why, ok := w.refusal(child, cl); ok {
			return true, w.fileChain(ctx, chain, bottom{child: child, refused: why})
		}
		if listsOnlyItself(child, cl) {
			chain = append(chain, selfLink{child, cl})
			continue
		}
		if listEntries(cl) == 0 && len(cl.Bad) == 0 {
			return true, w.fileChain(ctx, chain, bottom{child: child, other: "it lists nothing (" + ftpaudit.EvidenceReply(cl.Reply) +
				"), which a server may also answer for a path it does not have"})
		}
		return true, w.fileChain(ctx, chain, bottom{child: child, listing: cl})
	}
}

// cannotList says why child, a subdirectory met while proving a listing
// of only itself, is not to be listed (a name that cannot be sent, an
// exclusion, the depth bound), or "".
func (w *walker) cannotList(child dirJob) string {
	if why := unsendable(child.entry.Name); why != "" {
		return why
	}
	if g := glob.MatchAtOrBelow(w.opt.Exclude, child.path); g != nil {
		return "it is excluded by configuration (" + g.String() + ")"
	}
	if child.depth > w.opt.MaxDepth {
		return "it is " + strings.TrimPrefix(depthReason(w.opt.MaxDepth), "not listed: ")
	}
	return ""
}

// bottom is how the subdirectory below a chain of listings of only
// themselves answered: listing (it lists content), refused (the server
// refused it, why), or other (why nothing can be told).
type bottom struct {
	child   dirJob
	listing *ftpaudit.Listing
	refused string
	other   string
}

// fileChain files a chain of listings of only themselves, from how the
// subdirectory at its bottom answered (see proveSelf). It returns nil.
func (w *walker) fileChain(ctx context.Context, chain []selfLink, b bottom) error {
	last := len(chain) - 1
	if b.listing != nil {
		// The bottom is real, and so is every link's only entry: each
		// link is filed with its listing, its only subdirectory taken
		// (it is filed next, not queued).
		for i, c := range chain {
			next := b.child
			if i < last {
				next = chain[i+1].j
			}
			if !anonCanList(c.j.entry, w.opt.AnonymousOwner, w.opt.AnonymousGroup) {
				c.j.undecided = fmt.Sprintf("lists only itself, and its attributes (%s) do not let anonymous users read it, although %s lists content: whether its own listing shows its content cannot be told",
					attrSummary(c.j.entry), ftpaudit.EvidenceName(next.path))
			}
			w.record(ctx, c.j, c.l, nil, takePath(next.path))
		}
		w.record(ctx, b.child, b.listing, nil, nil)
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.res
	if b.child.path != "" {
		// The subdirectory's refusal or failure proves nothing about
		// the chain if its path is too long (noteLongPath).
		w.noteLongPath(b.child)
	}
	for i := last; i >= 0; i-- {
		c := chain[i]
		w.noteLongPath(c.j)
		var why string
		switch {
		case i == last && b.refused != "" && b.child.path == "":
			w.unreadable(c.j, b.refused)
			continue
		case i == last && b.refused != "":
			w.unreadable(c.j, fmt.Sprintf("lists only itself, and listing %s failed: %s", ftpaudit.EvidenceName(b.child.path), b.refused))
			continue
		case i == last:
			why = fmt.Sprintf("lists only itself, and its only subdirectory %s cannot tell whether it was listed: %s",
				ftpaudit.EvidenceName(b.child.path), b.other)
		default:
			why = fmt.Sprintf("lists only itself, and its only subdirectory %s lists only itself too, and is not readable or undecided: whether %s was listed cannot be told",
				ftpaudit.EvidenceName(chain[i+1].j.path), ftpaudit.EvidenceName(c.j.path))
		}
		w.notListed(c.j.path, ftpaudit.UnlistedUndecided, why, causeUndecided, &r.Errors)
		if c.j.depth == 0 {
			r.Incomplete = appendReason(r.Incomplete, startReason(c.j.path, why))
		}
	}
	w.cond.Broadcast()
	return nil
}

// takePath is a take function (see record) that takes the subdirectory
// at path p only.
func takePath(p string) func(*dirJob) bool {
	return func(c *dirJob) bool { return c.path == p }
}
