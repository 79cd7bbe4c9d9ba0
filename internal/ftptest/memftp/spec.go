package memftp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultModTime is the modification time of spec entries that give no date.
var DefaultModTime = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// ParseSpec reads an archive spec and returns its root directory (Name "/").
//
// One entry per line; blank lines and lines whose first non-blank character
// is '#' are ignored:
//
//		<mode> <owner> <group> <size> [<date>] <path> [-> <target>]
//
//	  - mode: ls-style, 10 characters: a type ('-' file, 'd' dir, 'l' symlink,
//	    'p' fifo, 's' socket, 'c' char device, 'b' block device) and rwx bits
//	    with s/S (setuid, setgid) and t/T (sticky), e.g. "drwx-wx-wt" (1733).
//	  - owner, group: words without blanks (names or numbers).
//	  - size: decimal byte count.
//	  - date: optional, UTC, "2006-01-02", "2006-01-02T15:04" or
//	    "2006-01-02T15:04:05"; DefaultModTime when absent.
//	  - path: absolute, as a quoted Go string literal ("..." with escapes, or
//	    `...`), so that any byte except '/' and NUL can be part of a name:
//	    "/pub/\x1b[31mred", "/  /x", "/...", "/caf\xe9". Components may not be
//	    empty, "." or "..". The path "/" sets the root's attributes (default
//	    drwxr-xr-x root root 4096).
//	  - target: symlinks only (and required for them), a quoted Go string.
//
// Parent directories must be declared on an earlier line; they are not
// created implicitly. Children are listed in the order they are declared.
// Errors name the line number.
func ParseSpec(r io.Reader) (*Node, error) {
	root := &Node{Name: "/", Mode: os.ModeDir | 0o755, Owner: "root", Group: "root", Size: 4096, ModTime: DefaultModTime}
	index := map[string]*Node{"/": root}
	rootSeen := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		n, p, err := parseSpecLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if p == "/" {
			if rootSeen {
				return nil, fmt.Errorf("line %d: root \"/\" declared twice", lineNo)
			}
			if !n.Mode.IsDir() {
				return nil, fmt.Errorf("line %d: root \"/\" must be a directory", lineNo)
			}
			rootSeen = true
			root.Mode, root.Owner, root.Group, root.Size, root.ModTime = n.Mode, n.Owner, n.Group, n.Size, n.ModTime
			continue
		}
		if _, dup := index[p]; dup {
			return nil, fmt.Errorf("line %d: %q declared twice", lineNo, p)
		}
		i := strings.LastIndexByte(p, '/')
		dir := p[:i]
		if dir == "" {
			dir = "/"
		}
		parent, ok := index[dir]
		if !ok {
			return nil, fmt.Errorf("line %d: parent directory %q of %q is not declared before it", lineNo, dir, p)
		}
		if !parent.Mode.IsDir() {
			return nil, fmt.Errorf("line %d: parent %q of %q is not a directory", lineNo, dir, p)
		}
		n.Name = p[i+1:]
		parent.Children = append(parent.Children, n)
		index[p] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return root, nil
}

// parseSpecLine parses one non-comment line; it returns the node (without
// Name) and its path.
func parseSpecLine(line string) (*Node, string, error) {
	q := strings.IndexAny(line, "\"`")
	if q < 0 {
		return nil, "", errors.New("missing quoted path")
	}
	fields := strings.Fields(line[:q])
	if len(fields) != 4 && len(fields) != 5 {
		return nil, "", fmt.Errorf("want <mode> <owner> <group> <size> [<date>] before the path, got %d fields", len(fields))
	}
	mode, err := ParseMode(fields[0])
	if err != nil {
		return nil, "", err
	}
	size, err := strconv.ParseInt(fields[3], 10, 64)
	if err != nil || size < 0 {
		return nil, "", fmt.Errorf("bad size %q", fields[3])
	}
	mtime := DefaultModTime
	if len(fields) == 5 {
		if mtime, err = parseDate(fields[4]); err != nil {
			return nil, "", err
		}
	}
	p, rest, err := cutQuoted(line[q:])
	if err != nil {
		return nil, "", fmt.Errorf("path: %w", err)
	}
	if err := checkSpecPath(p); err != nil {
		return nil, "", err
	}
	n := &Node{Mode: mode, Owner: fields[1], Group: fields[2], Size: size, ModTime: mtime}
	rest = strings.TrimSpace(rest)
	switch {
	case rest == "":
		if mode&os.ModeSymlink != 0 {
			return nil, "", errors.New("symlink needs -> \"target\"")
		}
	case strings.HasPrefix(rest, "->"):
		if mode&os.ModeSymlink == 0 {
			return nil, "", errors.New("only symlinks (mode 'l...') take a -> target")
		}
		t, tail, err := cutQuoted(strings.TrimSpace(rest[2:]))
		if err != nil {
			return nil, "", fmt.Errorf("target: %w", err)
		}
		if strings.TrimSpace(tail) != "" {
			return nil, "", fmt.Errorf("unexpected %q after target", strings.TrimSpace(tail))
		}
		if t == "" || strings.IndexByte(t, 0) >= 0 {
			return nil, "", errors.New("symlink target must be non-empty and without NUL")
		}
		n.Target = t
	default:
		return nil, "", fmt.Errorf("unexpected %q after path", rest)
	}
	return n, p, nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q (want 2006-01-02[T15:04[:05]])", s)
}

// cutQuoted unquotes the Go string literal at the start of s and returns
// it and what follows it.
func cutQuoted(s string) (string, string, error) {
	if s == "" {
		return "", "", errors.New("missing quoted string")
	}
	end := -1
	switch s[0] {
	case '`':
		if j := strings.IndexByte(s[1:], '`'); j >= 0 {
			end = j + 1
		}
	case '"':
		for j := 1; j < len(s); j++ {
			if s[j] == '\\' {
				j++
				continue
			}
			if s[j] == '"' {
				end = j
				break
			}
		}
	default:
		return "", "", fmt.Errorf("want a quoted string, got %q", s)
	}
	if end < 0 {
		return "", "", errors.New("unterminated quoted string")
	}
	v, err := strconv.Unquote(s[:end+1])
	if err != nil {
		return "", "", fmt.Errorf("bad quoted string %s: %w", s[:end+1], err)
	}
	return v, s[end+1:], nil
}

func checkSpecPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q is not absolute", p)
	}
	if p == "/" {
		return nil
	}
	for _, c := range strings.Split(p[1:], "/") {
		if err := checkName(c); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	return nil
}

func checkName(c string) error {
	switch {
	case c == "":
		return errors.New("empty component")
	case c == "." || c == "..":
		return fmt.Errorf("component %q is not a name", c)
	case strings.IndexByte(c, 0) >= 0:
		return errors.New("NUL in name")
	case strings.IndexByte(c, '/') >= 0:
		return errors.New("'/' in name")
	}
	return nil
}

// ParseMode parses an ls-style mode string such as "drwxr-xr-x",
// "lrwxrwxrwx" or "drwx-wx-wt".
func ParseMode(s string) (os.FileMode, error) {
	if len(s) != 10 {
		return 0, fmt.Errorf("bad mode %q: want 10 characters like drwxr-xr-x", s)
	}
	var m os.FileMode
	switch s[0] {
	case '-':
	case 'd':
		m = os.ModeDir
	case 'l':
		m = os.ModeSymlink
	case 'p':
		m = os.ModeNamedPipe
	case 's':
		m = os.ModeSocket
	case 'c':
		m = os.ModeDevice | os.ModeCharDevice
	case 'b':
		m = os.ModeDevice
	default:
		return 0, fmt.Errorf("bad mode %q: unknown type %q", s, s[0])
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		c := s[1+i]
		bit := os.FileMode(1) << (8 - i)
		switch {
		case c == '-':
		case c == rwx[i]:
			m |= bit
		case i == 2 && (c == 's' || c == 'S'), i == 5 && (c == 's' || c == 'S'), i == 8 && (c == 't' || c == 'T'):
			if c == 's' || c == 't' {
				m |= bit
			}
			switch i {
			case 2:
				m |= os.ModeSetuid
			case 5:
				m |= os.ModeSetgid
			default:
				m |= os.ModeSticky
			}
		default:
			return 0, fmt.Errorf("bad mode %q: unexpected %q at position %d", s, c, i+2)
		}
	}
	return m, nil
}

// LsMode formats m the way ls -l does ("drwxr-xr-x", "drwx-wx-wt").
func LsMode(m os.FileMode) string {
	b := []byte("----------")
	switch {
	case m&os.ModeDir != 0:
		b[0] = 'd'
	case m&os.ModeSymlink != 0:
		b[0] = 'l'
	case m&os.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&os.ModeSocket != 0:
		b[0] = 's'
	case m&os.ModeCharDevice != 0:
		b[0] = 'c'
	case m&os.ModeDevice != 0:
		b[0] = 'b'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	special := func(i int, set bool, on, off byte) {
		if !set {
			return
		}
		if b[1+i] == 'x' {
			b[1+i] = on
		} else {
			b[1+i] = off
		}
	}
	special(2, m&os.ModeSetuid != 0, 's', 'S')
	special(5, m&os.ModeSetgid != 0, 's', 'S')
	special(8, m&os.ModeSticky != 0, 't', 'T')
	return string(b)
}

// unixMode formats the permission bits of m in octal with the setuid,
// setgid and sticky bits, as the MLSD UNIX.mode fact does ("0755", "1733").
func unixMode(m os.FileMode) string {
	v := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}
