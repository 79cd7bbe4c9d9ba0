package scanner

// The walk's entries in path order, built once the walk is over: by
// walking the listings as the tree they form, which costs a copy of each
// entry and about one comparison of names, instead of a sort of every
// path; and where the listings do not form such a tree, by merging them.
// Either way the order is that of a stable sort by path (byte order) of
// the listings' entries taken in the order the listings were recorded.

import (
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit"
)

// keptList is one listing's kept entries, as the walk recorded them.
type keptList struct {
	dir string // the directory listed: every entry's Path is ftppath.Append(dir, Name)
	es  []ftpaudit.Entry
	// sorted: es is in strictly increasing name order (servers list
	// sorted; prepare knows it), and so in path order.
	sorted bool
	// slash: a name holds a "/", so that its path can fall among the
	// paths below a sibling directory: the listings do not nest.
	slash bool
}

// sortedEntries joins the listings' entries into one slice sorted by path.
func (w *walker) sortedEntries() []ftpaudit.Entry {
	defer func() { w.chunks = nil }()
	return orderEntries(w.res.Target.Start, w.chunks, w.nent)
}

// orderEntries returns the entries of ls, n of them, sorted by path and,
// among equal paths, in the order of ls and of each listing: what
// slices.SortStableFunc by path gives for the listings' entries
// concatenated. The listings' arrays are reused or reordered.
func orderEntries(start string, ls []keptList, n int) []ftpaudit.Entry {
	if len(ls) == 0 {
		return []ftpaudit.Entry{} // (not nil: as before, an empty inventory)
	}
	// When the largest listing's array has room for every other entry
	// (a huge directory in a small tree: its array was sized by line
	// count, "." and ".." included), gather them there and sort in place,
	// without a second copy of every entry.
	big := 0
	for i := range ls {
		if len(ls[i].es) > len(ls[big].es) {
			big = i
		}
	}
	if len(ls) == 1 {
		// One directory: sorted where it lies (its paths are distinct).
		if !ls[0].sorted {
			sortByName(ls[0].es)
		}
		return ls[0].es
	}
	if cap(ls[big].es) >= n {
		return gatherSorted(ls, big, n)
	}
	for i := range ls {
		if !ls[i].sorted {
			sortByName(ls[i].es)
			ls[i].sorted = true
		}
	}
	if out, ok := treeOrder(start, ls, n); ok {
		return out
	}
	return mergeListings(ls, n)
}

// sortByName sorts one listing's entries by name (their names are
// distinct: prepare keeps one entry per name), and so by path.
func sortByName(es []ftpaudit.Entry) {
	idx := make([]int32, len(es))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return strings.Compare(es[a].Name, es[b].Name) })
	permute(es, idx)
}

// gatherSorted moves every listing's entries into the array of ls[big]
// (which has room for n) and sorts them there, stably in the order of ls.
func gatherSorted(ls []keptList, big, n int) []ftpaudit.Entry {
	all := ls[big].es
	for i := range ls {
		if i != big {
			all = append(all, ls[i].es...)
		}
	}
	if big == 0 && isSortedByPath(all) {
		// (In the order of ls already, equal paths included.)
		return all
	}
	// idx lists the positions in all in the order of ls, so that a
	// stable sort of it breaks ties by that order.
	idx := make([]int32, 0, n)
	at := len(ls[big].es)
	for i := range ls {
		if i == big {
			for k := range ls[big].es {
				idx = append(idx, int32(k))
			}
			continue
		}
		for k := range ls[i].es {
			idx = append(idx, int32(at+k))
		}
		at += len(ls[i].es)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return strings.Compare(all[a].Path, all[b].Path) })
	permute(all, idx)
	return all
}

// isSortedByPath reports whether es is in non-decreasing path order.
func isSortedByPath(es []ftpaudit.Entry) bool {
	for i := 1; i < len(es); i++ {
		if es[i].Path < es[i-1].Path {
			return false
		}
	}
	return true
}

// treeOrder lays out the entries of ls, each listing sorted, by walking
// the tree the listings form from the one of start: a directory's
// entries in name order, each subdirectory's own (recursively) inserted
// where its path's prefix P+"/" falls among its siblings' names. Since no
// name holds a "/", every path below P starts with P+"/", and no sibling
// path can fall among them, that is path order. It gives up (ok false)
// when the listings do not form one tree: a name with a "/", a directory
// listed twice, a listing not reached from start.
func treeOrder(start string, ls []keptList, n int) (out []ftpaudit.Entry, ok bool) {
	byDir := make(map[string]int32, len(ls))
	for i := range ls {
		if ls[i].slash {
			return nil, false
		}
		if _, dup := byDir[ls[i].dir]; dup {
			return nil, false
		}
		byDir[ls[i].dir] = int32(i)
	}
	root, found := byDir[start]
	if !found {
		return nil, false
	}
	used := make([]bool, len(ls))
	used[root] = true
	out = make([]ftpaudit.Entry, 0, n)
	// A frame is a listing being laid out; pend holds, for every frame,
	// the subdirectories whose listings are still to be laid out (from
	// the frame's base up), the last one the next due: each subdirectory
	// pushed comes before those already pending (see below).
	type frame struct {
		es   []ftpaudit.Entry
		i    int
		base int // of pend
	}
	type pending struct {
		name string
		ls   int32
	}
	var pend []pending
	stack := []frame{{es: ls[root].es}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if len(pend) > f.base {
			p := pend[len(pend)-1]
			if f.i == len(f.es) || blockBefore(p.name, f.es[f.i].Name) {
				pend = pend[:len(pend)-1]
				stack = append(stack, frame{es: ls[p.ls].es, base: len(pend)})
				continue
			}
		}
		if f.i == len(f.es) {
			stack = stack[:len(stack)-1]
			continue
		}
		// Copy the run of entries up to the next directory (or the
		// next entry a pending block comes before) at once.
		k := f.i
		for k < len(f.es) && f.es[k].Type != ftpaudit.TypeDir {
			if len(pend) > f.base && blockBefore(pend[len(pend)-1].name, f.es[k].Name) {
				break
			}
			k++
		}
		if k < len(f.es) && k == f.i {
			k++ // the directory itself
		}
		out = append(out, f.es[f.i:k]...)
		f.i = k
		e := &f.es[k-1]
		if e.Type != ftpaudit.TypeDir {
			continue
		}
		if c, has := byDir[e.Path]; has {
			if used[c] {
				return nil, false
			}
			used[c] = true
			// Every block still pending, q+"/", sorts after e.Name (or
			// it would have been laid out before e): as q < e.Name <
			// q+"/", e.Name is q followed by a byte below '/', and so
			// e.Name+"/" < q+"/": this block is due before them.
			pend = append(pend, pending{e.Name, c})
		}
	}
	if len(out) != n {
		return nil, false // a listing not reached from start
	}
	return out, true
}

// blockBefore reports whether name+"/" sorts before next, for a name and
// a next sibling name (greater than name) without "/": whether the
// paths below directory name come before the path of next.
func blockBefore(name, next string) bool {
	if strings.HasPrefix(next, name) {
		// next = name + c + ...: the block comes first iff '/' < c.
		return len(next) > len(name) && next[len(name)] > '/'
	}
	return name < next
}

// mergeListings merges the listings, each sorted, into path order: a
// k-way merge, ties broken by the order of ls.
func mergeListings(ls []keptList, n int) []ftpaudit.Entry {
	out := make([]ftpaudit.Entry, 0, n)
	// h is a binary min-heap of the listings not yet exhausted, by their
	// next entry's path, then by index in ls.
	type cursor struct {
		es []ftpaudit.Entry
		ls int
	}
	h := make([]cursor, 0, len(ls))
	less := func(a, b *cursor) bool {
		if c := strings.Compare(a.es[0].Path, b.es[0].Path); c != 0 {
			return c < 0
		}
		return a.ls < b.ls
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(&h[r], &h[l]) {
				m = r
			}
			if !less(&h[m], &h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := range ls {
		if len(ls[i].es) > 0 {
			h = append(h, cursor{ls[i].es, i})
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		top := &h[0]
		out = append(out, top.es[0])
		top.es = top.es[1:]
		if len(top.es) == 0 {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return out
}

// listedOf makes the keptList of a listing of dir (p.kept after the
// bounds). Not sorted when prepare found the names out of order.
func listedOf(dir string, p *prepared) keptList {
	return keptList{dir: dir, es: p.kept, sorted: p.sorted, slash: p.slash}
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
