package scanner

// A name listed twice in one listing: never resolved by order. Two
// identical readings are one entry; two different readings are an
// anomaly, reported with both, and resolved by the stronger one: a
// directory if either says so (it is walked), judged with the most
// exposing attributes of the two.

import (
	"strings"

	"github.com/ftpaudit/ftpaudit"
)

// resolveDup merges e, a second reading of the name of *kept, into
// *kept (whose Path stays), and returns the error that reports it (with a
// copy of the path: the listing's paths, once the store has spilled its
// entries, are not kept in memory for it).
func resolveDup(kept, e *ftpaudit.Entry) ftpaudit.PathError {
	if sameReading(kept, e) {
		return ftpaudit.PathError{Path: strings.Clone(kept.Path), Error: "name listed twice in one directory; kept once"}
	}
	a, b := *kept, *e
	base, other := &a, &b
	if stronger(other, base) {
		base, other = other, base
	}
	m := *base
	m.Path = kept.Path
	m.Mode = unionMode(base.Mode, other.Mode)
	if p := unionPerm(base.Perm(), other.Perm()); p != base.Perm() {
		x := *m.EnsureExtra() // a copy: the readings' facts stay as listed
		x.Perm = p
		m.Extra = &x
	}
	*kept = m
	what := "kept as a " + m.Type.String()
	if m.Type == ftpaudit.TypeDir {
		what = "walked as a directory"
	}
	if m.Mode != "" {
		what += ", judged with mode " + m.Mode
	}
	if m.Perm() != "" {
		what += " and perm=" + m.Perm()
	}
	return ftpaudit.PathError{Path: strings.Clone(kept.Path), Error: "name listed twice in one directory with different readings (" +
		reading(&a) + " | " + reading(&b) + "): " + what + ", the stronger reading"}
}

// sameReading reports whether two readings of one name say the same.
func sameReading(a, b *ftpaudit.Entry) bool {
	return a.Type == b.Type && a.Mode == b.Mode && a.Size == b.Size && a.Modified.Equal(b.Modified) &&
		a.Owner == b.Owner && a.Group == b.Group && a.Perm() == b.Perm() && a.Unique() == b.Unique() &&
		a.Target() == b.Target()
}

// stronger reports whether reading a exposes more than b: a directory
// over anything else (it can hide a subtree), then more permission bits
// granted to others, to the group, to the owner.
func stronger(a, b *ftpaudit.Entry) bool {
	if (a.Type == ftpaudit.TypeDir) != (b.Type == ftpaudit.TypeDir) {
		return a.Type == ftpaudit.TypeDir
	}
	for _, cls := range [][2]int{{7, 10}, {4, 7}, {1, 4}} {
		if na, nb := bits(a.Mode, cls), bits(b.Mode, cls); na != nb {
			return na > nb
		}
	}
	if la, lb := len(a.Perm()), len(b.Perm()); la != lb {
		return la > lb
	}
	// Equal exposure: pick by the lines, so that order never decides.
	return a.Raw+a.ListRaw() > b.Raw+b.ListRaw()
}

// bits counts the permissions granted in mode[cls[0]:cls[1]].
func bits(mode string, cls [2]int) int {
	if len(mode) < cls[1] {
		return 0
	}
	n := 0
	for _, c := range mode[cls[0]:cls[1]] {
		if c != '-' {
			n++
		}
	}
	return n
}

// unionMode grants every permission either mode grants, keeping a's
// type letter; a mode that is not ten characters long is left as it is.
func unionMode(a, b string) string {
	if len(a) != 10 || len(b) != 10 {
		if a == "" {
			return b
		}
		return a
	}
	m := []byte(a)
	for i := 1; i < 10; i++ {
		x, y := a[i], b[i]
		if i%3 != 0 { // r, w
			if x == '-' {
				m[i] = y
			}
			continue
		}
		// Execute column: x, s/S (setuid, setgid), t/T (sticky).
		exec := strings.IndexByte("xst", x) >= 0 || strings.IndexByte("xst", y) >= 0
		special := strings.IndexByte("sStT", x) >= 0 || strings.IndexByte("sStT", y) >= 0
		switch {
		case special && i == 9:
			m[i] = map[bool]byte{true: 't', false: 'T'}[exec]
		case special:
			m[i] = map[bool]byte{true: 's', false: 'S'}[exec]
		case exec:
			m[i] = 'x'
		default:
			m[i] = '-'
		}
	}
	return string(m)
}

// unionPerm is every MLSD perm letter of a, then those of b it lacks.
func unionPerm(a, b string) string {
	out := a
	for _, c := range b {
		if !strings.ContainsRune(out, c) {
			out += string(c)
		}
	}
	return out
}

// reading describes one reading of a name for evidence: its line, or its
// type and mode when it has none.
func reading(e *ftpaudit.Entry) string {
	if e.Raw != "" {
		return e.Raw
	}
	if e.ListRaw() != "" {
		return e.ListRaw()
	}
	s := e.Type.String()
	if e.Mode != "" {
		s += " " + e.Mode
	}
	if e.Perm() != "" {
		s += " perm=" + e.Perm()
	}
	return s
}
