// Package ftppath joins, splits and compares server paths exactly: paths
// are the server's bytes, never cleaned, so that a name holding "..",
// spaces or a leading "-" is kept as it was listed.
package ftppath

import "strings"

// Join joins a directory path and a name exactly; it never cleans, so
// a server name such as ".." or "a/b" cannot move the result elsewhere
// without it being visible.
func Join(dir, name string) string {
	return string(Append(make([]byte, 0, len(dir)+1+len(name)), dir, name))
}

// Append appends joinPath(dir, name) to b.
func Append(b []byte, dir, name string) []byte {
	if dir != "/" {
		b = append(b, dir...)
	}
	b = append(b, '/')
	return append(b, name...)
}

// Split splits an exact path at its last "/".
func Split(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/", p[i+1:]
	}
	return p[:i], p[i+1:]
}

func Parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// AtOrBelow reports whether path p is root or lies below it.
func AtOrBelow(p, root string) bool {
	if root == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == root || (strings.HasPrefix(p, root) && len(p) > len(root) && p[len(root)] == '/')
}

// Below reports whether path p lies strictly below root.
func Below(p, root string) bool { return p != root && AtOrBelow(p, root) }

// CleanElems splits a path into its elements, dropping empty and "."
// ones; ok is false when one is "..".
func CleanElems(p string) (elems []string, ok bool) {
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "", ".":
		case "..":
			return nil, false
		default:
			elems = append(elems, el)
		}
	}
	return elems, true
}

// JoinElems joins elements to dir in one allocation (a loop of joinPath
// would be quadratic in a crafted header with millions of elements).
func JoinElems(dir string, elems []string) string {
	if len(elems) == 0 {
		return dir
	}
	if dir == "/" {
		dir = ""
	}
	return dir + "/" + strings.Join(elems, "/")
}

// Plain reports whether a path can go on a LIST command line without a
// server reading anything into it: ASCII letters, digits and ._+,=@%/-
// only, and no element that starts with "-".
func Plain(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '_' || c == '+' || c == ',' || c == '=' || c == '@' || c == '%':
		case c == '/':
			if i+1 < len(p) && p[i+1] == '-' {
				return false
			}
		case c == '-':
		default:
			return false
		}
	}
	return true
}
