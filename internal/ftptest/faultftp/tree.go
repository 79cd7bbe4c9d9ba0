package faultftp

import (
	"io/fs"
	"strconv"
	"sync/atomic"
)

// Entry is one name in a directory, for trees built with Entries or Map.
// Name is sent byte for byte, whatever it holds.
type Entry struct {
	Name string
	Dir  bool
	Size int64
	// Perm is the permission bits; zero means 0755 for directories and
	// 0644 for files.
	Perm fs.FileMode
	// Owner and Group; empty means "root".
	Owner, Group string
}

// Dir returns a directory entry.
func Dir(name string) Entry { return Entry{Name: name, Dir: true} }

// File returns a file entry of the given size.
func File(name string, size int64) Entry { return Entry{Name: name, Size: size} }

func (e Entry) perm() fs.FileMode {
	switch {
	case e.Perm != 0:
		return e.Perm & fs.ModePerm
	case e.Dir:
		return 0o755
	}
	return 0o644
}

func orRoot(s string) string {
	if s == "" {
		return "root"
	}
	return s
}

// ListLine returns the entry as an "ls -l" line, as vsftpd writes it
// (dated 2 Jan 2024).
func (e Entry) ListLine() string {
	mode := []byte("-rwxrwxrwx")
	if e.Dir {
		mode[0] = 'd'
	}
	p := e.perm()
	for i := 0; i < 9; i++ {
		if p&(1<<(8-i)) == 0 {
			mode[i+1] = '-'
		}
	}
	b := make([]byte, 0, 64+len(e.Name))
	b = append(b, mode...)
	b = append(b, "    1 "...)
	b = pad(b, orRoot(e.Owner), 9)
	b = pad(b, orRoot(e.Group), 9)
	size := strconv.FormatInt(e.Size, 10)
	for i := len(size); i < 12; i++ {
		b = append(b, ' ')
	}
	b = append(b, size...)
	b = append(b, " Jan 02  2024 "...)
	return string(append(b, e.Name...))
}

// pad appends s and spaces up to width (at least one space).
func pad(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for i := len(s); i < width-1; i++ {
		b = append(b, ' ')
	}
	return append(b, ' ')
}

// MLSDLine returns the entry as an RFC 3659 MLSD line.
func (e Entry) MLSDLine() string {
	typ := "file"
	if e.Dir {
		typ = "dir"
	}
	return "type=" + typ + ";size=" + strconv.FormatInt(e.Size, 10) + ";modify=20240102030405;UNIX.mode=0" +
		strconv.FormatUint(uint64(e.perm()), 8) + ";UNIX.owner=" + orRoot(e.Owner) + ";UNIX.group=" + orRoot(e.Group) + "; " + e.Name
}

// Entries makes a Tree of a function returning each directory's entries
// (ok false: no such directory), formatted for LIST or MLSD.
func Entries(f func(dir string) ([]Entry, bool)) Tree {
	return func(dir string, mlsd bool) ([]string, bool) {
		es, ok := f(dir)
		if !ok {
			return nil, false
		}
		lines := make([]string, len(es))
		for i, e := range es {
			if mlsd {
				lines[i] = e.MLSDLine()
			} else {
				lines[i] = e.ListLine()
			}
		}
		return lines, true
	}
}

// Map makes a Tree of a map from absolute directory paths ("/", "/pub")
// to their entries. Directories not in the map do not exist.
func Map(m map[string][]Entry) Tree {
	return Entries(func(dir string) ([]Entry, bool) {
		es, ok := m[dir]
		return es, ok
	})
}

// Deep is a tree without a bottom: every directory holds a directory
// named sub and a file named "level"; when distinct is set the file's
// size is the directory's path length, so that no two levels list alike.
// Without distinct every level lists exactly like the one above it (as a
// loop does).
func Deep(sub string, distinct bool) Tree {
	return Entries(func(dir string) ([]Entry, bool) {
		size := int64(1)
		if distinct {
			size = int64(len(dir))
		}
		return []Entry{Dir(sub), File("level", size)}, true
	})
}

// Changing is a tree whose every listing shows new names: each directory,
// each time it is listed, holds dirs new directories and one new file,
// all named after a counter shared by the whole tree.
func Changing(dirs int) Tree {
	var n atomic.Int64
	return Entries(func(dir string) ([]Entry, bool) {
		es := make([]Entry, 0, dirs+1)
		for i := 0; i < dirs; i++ {
			es = append(es, Dir("gen-"+strconv.FormatInt(n.Add(1), 10)))
		}
		return append(es, File("file-"+strconv.FormatInt(n.Add(1), 10), 1)), true
	})
}

// Many returns n file entries named prefix0 ... prefix(n-1), generated on
// each call (for enormous directories).
func Many(prefix string, n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = File(prefix+strconv.Itoa(i), int64(i))
	}
	return es
}

// Reply builds a reply with the given code: one line, or a multi-line
// reply ("150-first", ..., "150 last") when more than one text is given.
func Reply(code int, texts ...string) string {
	if len(texts) == 0 {
		texts = []string{""}
	}
	var b []byte
	for i, t := range texts {
		sep := byte('-')
		if i == len(texts)-1 {
			sep = ' '
		}
		b = strconv.AppendInt(b, int64(code), 10)
		b = append(b, sep)
		b = append(b, t...)
		b = append(b, '\r', '\n')
	}
	return string(b)
}
