package memftp

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Errors of the in-memory file system; their text is what the FTP replies
// carry after the status code.
var (
	errNotExist = errors.New("No such file or directory")
	errPerm     = errors.New("Permission denied")
	errLoop     = errors.New("Too many levels of symbolic links")
	errNotDir   = errors.New("Not a directory")
	errIsDir    = errors.New("Is a directory")
	errExist    = errors.New("File exists")
	errNotEmpty = errors.New("Directory not empty")
	errBadName  = errors.New("Invalid file name")
	errNotFile  = errors.New("Not a regular file")
)

// maxHops bounds the symlinks followed while resolving one path (Linux
// uses 40).
const maxHops = 40

// fsys is the archive shared by all sessions of a server.
type fsys struct {
	mu   sync.RWMutex
	root *Node
	ids  map[*Node]uint64
	next uint64
}

func newFS(root *Node) *fsys {
	fs := &fsys{root: root, ids: map[*Node]uint64{}, next: 2}
	var walk func(n *Node)
	walk = func(n *Node) {
		fs.assignID(n)
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(root)
	return fs
}

func (fs *fsys) assignID(n *Node) {
	fs.ids[n] = fs.next
	fs.next++
}

// unique is the MLSD unique fact of n, in proftpd's "<dev>U<inode>" form.
func (fs *fsys) unique(n *Node) string {
	return fmt.Sprintf("fd01U%x", fs.ids[n])
}

// copyTree deep-copies n, checking that the tree is well formed.
func copyTree(n *Node, isRoot bool) (*Node, error) {
	c := *n
	c.Children = nil
	if isRoot {
		if !n.Mode.IsDir() {
			return nil, errors.New("memftp: root must be a directory")
		}
	} else if err := checkName(n.Name); err != nil {
		return nil, fmt.Errorf("memftp: bad node name %q: %w", n.Name, err)
	}
	if len(n.Children) > 0 && !n.Mode.IsDir() {
		return nil, fmt.Errorf("memftp: %q has children but is not a directory", n.Name)
	}
	seen := map[string]bool{}
	for _, ch := range n.Children {
		if ch == nil {
			return nil, fmt.Errorf("memftp: nil child in %q", n.Name)
		}
		if seen[ch.Name] {
			return nil, fmt.Errorf("memftp: duplicate name %q in %q", ch.Name, n.Name)
		}
		seen[ch.Name] = true
		cc, err := copyTree(ch, false)
		if err != nil {
			return nil, err
		}
		c.Children = append(c.Children, cc)
	}
	return &c, nil
}

// rights are what the anonymous user may do with a node.
type rights struct{ r, w, x bool }

// anon returns the anonymous user's rights on n: the owner bits when n is
// owned by "ftp", the "others" bits otherwise.
func anon(n *Node) rights {
	shift := 0
	if n.Owner == "ftp" {
		shift = 6
	}
	b := uint32(n.Mode.Perm()>>shift) & 7
	return rights{r: b&4 != 0, w: b&2 != 0, x: b&1 != 0}
}

// canModify says whether anonymous may create or remove names in dir.
func canModify(dir *Node) bool {
	r := anon(dir)
	return r.w && r.x
}

// canDelete says whether anonymous may remove or rename child of dir,
// honouring the sticky bit.
func canDelete(dir, child *Node) bool {
	if dir == nil || !canModify(dir) {
		return false
	}
	if dir.Mode&os.ModeSticky != 0 && child.Owner != "ftp" && dir.Owner != "ftp" {
		return false
	}
	return true
}

func isSymlink(n *Node) bool { return n.Mode&os.ModeSymlink != 0 }

func isRegular(n *Node) bool { return n.Mode.IsRegular() }

func child(dir *Node, name string) *Node {
	for _, c := range dir.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func removeChild(dir, n *Node) {
	kids := make([]*Node, 0, len(dir.Children))
	for _, c := range dir.Children {
		if c != n {
			kids = append(kids, c)
		}
	}
	dir.Children = kids
}

// loc is a resolved location: the nodes from the root to the target and
// the names leading there (len(names) == len(nodes)-1).
type loc struct {
	nodes []*Node
	names []string
}

func (l loc) node() *Node { return l.nodes[len(l.nodes)-1] }

func (l loc) parent() *Node {
	if len(l.nodes) < 2 {
		return nil
	}
	return l.nodes[len(l.nodes)-2]
}

func (l loc) name() string {
	if len(l.names) == 0 {
		return "/"
	}
	return l.names[len(l.names)-1]
}

// path is the canonical absolute path of the location.
func (l loc) path() string { return "/" + strings.Join(l.names, "/") }

func (l loc) contains(n *Node) bool {
	for _, m := range l.nodes {
		if m == n {
			return true
		}
	}
	return false
}

// resolve walks the absolute path p the way a Unix kernel would inside a
// chroot: components are taken byte-exact (only "", "." and ".." are
// special), ".." is physical and stops at the root, symlinks are followed
// (absolute targets from the archive root) except for the last component
// when follow is false and p has no trailing '/'. Looking a name up in a
// directory needs x on it.
func (fs *fsys) resolve(p string, follow bool) (loc, error) {
	if strings.HasSuffix(p, "/") {
		follow = true
	}
	l := loc{nodes: []*Node{fs.root}}
	queue := strings.Split(p, "/")
	hops := 0
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == "" {
			continue
		}
		cur := l.node()
		if !cur.Mode.IsDir() {
			return loc{}, errNotDir
		}
		if !anon(cur).x {
			return loc{}, errPerm
		}
		if c == "." {
			continue
		}
		if c == ".." {
			if len(l.nodes) > 1 {
				l.nodes = l.nodes[:len(l.nodes)-1]
				l.names = l.names[:len(l.names)-1]
			}
			continue
		}
		n := child(cur, c)
		if n == nil {
			return loc{}, errNotExist
		}
		if isSymlink(n) && (follow || hasName(queue)) {
			hops++
			if hops > maxHops {
				return loc{}, errLoop
			}
			if n.Target == "" {
				return loc{}, errNotExist
			}
			if strings.HasPrefix(n.Target, "/") {
				l.nodes = l.nodes[:1]
				l.names = l.names[:0]
			}
			q := strings.Split(n.Target, "/")
			queue = append(q, queue...)
			continue
		}
		l.nodes = append(l.nodes, n)
		l.names = append(l.names, c)
	}
	return l, nil
}

// hasName says whether queue still holds a component that is looked up (so
// a symlink before it must be followed).
func hasName(queue []string) bool {
	for _, c := range queue {
		if c != "" {
			return true
		}
	}
	return false
}

// splitPath splits an absolute path into its directory and last name.
func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	dir, name = p[:i], p[i+1:]
	if dir == "" {
		dir = "/"
	}
	return dir, name
}

// parentFor resolves the directory that is to hold the last name of p and
// checks that anonymous may create or remove names there.
func (fs *fsys) parentFor(p string) (loc, string, error) {
	dir, name := splitPath(p)
	if checkName(name) != nil {
		return loc{}, "", errBadName
	}
	d, err := fs.resolve(dir, true)
	if err != nil {
		return loc{}, "", err
	}
	if !d.node().Mode.IsDir() {
		return loc{}, "", errNotDir
	}
	return d, name, nil
}

// lsDate formats t the way ls -l does: time of day for the last six months,
// the year otherwise.
func lsDate(t, now time.Time) string {
	t = t.UTC()
	if t.After(now.AddDate(0, -6, 0)) && !t.After(now.Add(time.Hour)) {
		return t.Format("Jan _2 15:04")
	}
	return t.Format("Jan _2  2006")
}

func nlink(n *Node) int {
	if !n.Mode.IsDir() {
		return 1
	}
	k := 2
	for _, c := range n.Children {
		if c.Mode.IsDir() {
			k++
		}
	}
	return k
}

// lsLine is one line of LIST output for n shown as name (no terminator).
func lsLine(n *Node, name string, now time.Time) string {
	s := fmt.Sprintf("%s %4d %-8s %-8s %12d %s %s", LsMode(n.Mode), nlink(n), n.Owner, n.Group, n.Size, lsDate(n.ModTime, now), name)
	if isSymlink(n) {
		s += " -> " + n.Target
	}
	return s
}

// permFact is the MLSD perm fact for subject (a symlink's target, or the
// entry itself); deletable says whether the entry may be removed/renamed.
func permFact(subject *Node, deletable bool) string {
	var b strings.Builder
	if subject == nil {
		if deletable {
			b.WriteString("df")
		}
		return b.String()
	}
	r := anon(subject)
	if subject.Mode.IsDir() {
		// proftpd's order: "flcdmpe".
		if deletable {
			b.WriteByte('f')
		}
		if r.r {
			b.WriteByte('l')
		}
		if r.w && r.x {
			b.WriteByte('c')
		}
		if deletable {
			b.WriteByte('d')
		}
		if r.w && r.x {
			b.WriteString("mp")
		}
		if r.x {
			b.WriteByte('e')
		}
		return b.String()
	}
	// proftpd's order: "adfrw".
	if r.w {
		b.WriteByte('a')
	}
	if deletable {
		b.WriteString("df")
	}
	if r.r {
		b.WriteByte('r')
	}
	if r.w {
		b.WriteByte('w')
	}
	return b.String()
}

func typeFact(n *Node) string {
	m := n.Mode
	switch {
	case m.IsDir():
		return "dir"
	case m&os.ModeSymlink != 0:
		return "OS.unix=slink:" + n.Target
	case m&os.ModeNamedPipe != 0:
		return "OS.unix=fifo"
	case m&os.ModeSocket != 0:
		return "OS.unix=socket"
	case m&os.ModeCharDevice != 0:
		return "OS.unix=chardev"
	case m&os.ModeDevice != 0:
		return "OS.unix=blockdev"
	}
	return "file"
}

// mlsxFacts is the fact list advertised in FEAT (all of them on by default).
const mlsxFacts = "modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.mode*;UNIX.owner*;"

// mlsxLine formats the facts of n followed by "; name"-style separator and
// name (no terminator). typ overrides the type fact ("cdir", "pdir").
func (fs *fsys) mlsxLine(n *Node, typ, perm, name string) string {
	if typ == "" {
		typ = typeFact(n)
	}
	return fmt.Sprintf("modify=%s;perm=%s;size=%d;type=%s;unique=%s;UNIX.mode=%s;UNIX.owner=%s;UNIX.group=%s; %s",
		n.ModTime.UTC().Format("20060102150405"), perm, n.Size, typ, fs.unique(n),
		unixMode(n.Mode), n.Owner, n.Group, name)
}

// entryPerm computes the perm fact of the entry name in the directory at
// dir (a resolved location), following symlinks for the subject.
func (fs *fsys) entryPerm(dir loc, name string, n *Node) string {
	deletable := canDelete(dir.node(), n)
	subject := n
	if isSymlink(n) {
		subject = nil
		if t, err := fs.resolve(joinPath(dir.path(), name), true); err == nil {
			subject = t.node()
		}
	}
	return permFact(subject, deletable)
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
