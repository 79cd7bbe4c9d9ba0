package scanner

// MLSD unique facts: the only proof, besides a symlink the server shows,
// that two paths are one directory. They are relied on only while they
// look like the server's identity of its entries on this host.

import (
	"fmt"

	"github.com/ftpaudit/ftpaudit"
)

// uniqueSeen is the first directory listed with a unique fact.
type uniqueSeen struct {
	path string
	fp   uint64
}

// sameSkip is a directory not descended because it is the same as one
// listed: filed at the end of the walk, or walked after all if unique
// facts turn out untrustworthy first.
type sameSkip struct {
	job    dirJob
	first  string
	unique string
}

// uniqueClash says why a listing's unique facts cannot be the server's
// identity of its directories: a subdirectory shares its value with
// another entry of the listing (a subdirectory, or an entry of another
// type), so that one of them would be skipped as the other on the
// server's word alone. It returns "" when nothing clashes. Symlinks are
// left out (proftpd gives a symlink its target's unique); files sharing a
// value among themselves (hard links) decide nothing about directories.
// Only the subdirectories are indexed: a listing of many files costs no
// map of them.
func uniqueClash(dir string, es []ftpaudit.Entry) string {
	var dirs map[string]int
	for i := range es {
		e := &es[i]
		if e.Type != ftpaudit.TypeDir || e.Unique() == "" || e.Name == "." || e.Name == ".." {
			continue
		}
		if dirs == nil {
			dirs = map[string]int{}
		}
		if k, ok := dirs[e.Unique()]; ok && es[k].Name != e.Name {
			return clashReason(dir, &es[k], e)
		}
		dirs[e.Unique()] = i
	}
	if dirs == nil {
		return ""
	}
	for i := range es {
		e := &es[i]
		if e.Type == ftpaudit.TypeDir || e.Type == ftpaudit.TypeLink || e.Unique() == "" {
			continue
		}
		if k, ok := dirs[e.Unique()]; ok && es[k].Name != e.Name { // (one name listed twice: see resolveDup)
			return clashReason(dir, &es[k], e)
		}
	}
	return ""
}

func clashReason(dir string, a, b *ftpaudit.Entry) string {
	return fmt.Sprintf("in %s, %s and %s share unique=%s (%s | %s)",
		ftpaudit.EvidenceName(dir), ftpaudit.EvidenceName(a.Name), ftpaudit.EvidenceName(b.Name), a.Unique(), reading(a), reading(b))
}

// distrustUnique stops relying on unique facts for the host, says why in
// a note, and walks every directory that was not descended on them.
// Called with w.mu held.
func (w *walker) distrustUnique(path, why string) {
	if w.uniqueBad != "" {
		return
	}
	w.uniqueBad = why
	w.res.Notes = append(w.res.Notes, ftpaudit.PathError{Path: path,
		Error: "MLSD unique facts are not trusted on this host (" + why + "): no directory is skipped on them"})
	for _, s := range w.same {
		w.queue = append(w.queue, s.job)
		w.pending++
	}
	w.same = nil
	w.cond.Broadcast()
}

// sameAsListed reports whether j's directory, listed with fingerprint
// fp, is provably one already listed: it has that directory's MLSD
// unique fact, unique facts are trusted on the host, and it lists the
// same. It is then kept (see sameSkip) and not descended. A directory
// with a listed one's unique fact that lists differently shows the facts
// are not the server's identity: they are distrusted. The first
// directory listed with a unique fact is registered. Called with w.mu
// held.
func (w *walker) sameAsListed(j dirJob, fp uint64) bool {
	if j.entry == nil || w.uniqueBad != "" {
		return false
	}
	u := j.entry.Unique()
	if u == "" {
		return false
	}
	first, ok := w.uniques[u]
	switch {
	case !ok:
		w.uniques[u] = uniqueSeen{path: j.path, fp: fp}
		return false
	case first.path == j.path:
		return false
	case first.fp != fp:
		w.distrustUnique(j.path, fmt.Sprintf("%s and %s share unique=%s but list differently",
			ftpaudit.EvidenceName(first.path), ftpaudit.EvidenceName(j.path), u))
		return false
	}
	w.same = append(w.same, sameSkip{job: j, first: first.path, unique: u})
	return true
}

// fileSame files the directories not descended as the same as one
// listed. Called with w.mu held, at the end of the walk.
func (w *walker) fileSame() {
	for _, s := range w.same {
		why := fmt.Sprintf("same directory as %s (MLSD unique=%s, and it lists the same); not descended",
			ftpaudit.EvidenceName(s.first), s.unique)
		w.notListed(s.job.path, ftpaudit.UnlistedSame, why, "", &w.res.Notes)
	}
	w.same = nil
}
