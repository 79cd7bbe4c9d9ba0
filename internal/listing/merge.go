package listing

import (
	"fmt"

	"github.com/ftpaudit/ftpaudit"
)

// Merge joins a directory's MLSD and LIST -a entries by exact name.
// Servers hide different things from each: proftpd leaves dangling and
// looping symlinks out of MLSD but shows them in LIST -a, and leaves some
// symlinks to directories out of LIST -a but shows them in MLSD. MLSD facts
// win where the two agree or LIST says nothing; LIST fills what MLSD lacks
// (pure-ftpd sends no owner). Entries only LIST shows are returned too, and
// their names are reported in onlyList.
//
// Where the two readings of one name disagree on what it exposes, the
// disagreement is evidence, not noise: each is described in conflicts
// (the name and both readings), and the merged entry takes the reading
// that exposes more (see reconcile): a directory if either says directory,
// so that it is walked, and the permission bits either grants. Both lines
// are kept, the MLSD line in Raw and the LIST line in ListRaw.
//
// Nothing is dropped: a name listed more often by LIST than by MLSD (a
// name listed twice) is paired with MLSD's entries of that name in order,
// and each LIST line left over is returned as an entry of its own, for the
// walker to judge as the duplicate it is.
func Merge(mlsd, list []ftpaudit.Entry) (merged []ftpaudit.Entry, onlyList []string, conflicts []string) {
	// next maps a name to the first MLSD entry of that name not yet
	// paired (-1: all are); chain links the MLSD entries of one name, in
	// order, where a name is listed more than once.
	next := make(map[string]int, len(mlsd))
	var chain []int32
	merged = mlsd
	for i := range merged {
		if _, dup := next[merged[i].Name]; dup {
			chain = make([]int32, len(merged))
			break
		}
		next[merged[i].Name] = i
	}
	if chain != nil {
		clear(next)
		for i := len(merged) - 1; i >= 0; i-- {
			j, ok := next[merged[i].Name]
			if !ok {
				j = -1
			}
			chain[i] = int32(j)
			next[merged[i].Name] = i
		}
	}
	for _, le := range list {
		i, ok := next[le.Name]
		if !ok || i < 0 {
			if !ok {
				onlyList = append(onlyList, le.Name)
				next[le.Name] = -1
			}
			le.EnsureExtra().ListRaw, le.Raw = le.Raw, ""
			merged = append(merged, le)
			continue
		}
		if chain != nil {
			next[le.Name] = int(chain[i])
		} else {
			next[le.Name] = -1
		}
		if c := reconcile(&merged[i], &le); c != "" {
			conflicts = append(conflicts, c)
		}
	}
	return merged, onlyList, conflicts
}

// reconcile merges le, a name's LIST -a reading, into me, its MLSD
// reading, and describes the disagreement on what the name exposes, if
// any ("" when they agree).
//
//   - Type: a link in either listing is a link, never followed (a server
//     that shows a link has said what the name is; following it could
//     walk in circles); otherwise a directory in either is a directory,
//     so that it is walked; otherwise MLSD's type stands.
//   - Mode: the permission bits either reading grants (a letter in
//     either wins over '-'), after the merged type's character. Where one
//     mode cannot be read position by position, MLSD's stands and the
//     disagreement is still reported.
//   - A link that only LIST shows as one (MLSD followed it) takes LIST's
//     mode, owner, group, size and time, and loses MLSD's unique and perm
//     facts: they are its target's.
//   - The perm fact comes from MLSD alone; owner, group, size and time
//     come from MLSD where it gives them (they differ between the two
//     forms as a matter of course: names against ids, seconds against
//     minutes, and grant nothing by themselves).
func reconcile(me, le *ftpaudit.Entry) string {
	me.EnsureExtra().ListRaw = le.Raw
	mType, mMode := me.Type, me.Mode
	typeDiffers := me.Type != le.Type && me.Type != 0 && le.Type != 0
	switch {
	case me.Type == ftpaudit.TypeLink || le.Type == ftpaudit.TypeLink:
		me.Type = ftpaudit.TypeLink
	case me.Type == ftpaudit.TypeDir || le.Type == ftpaudit.TypeDir:
		me.Type = ftpaudit.TypeDir
	}
	if me.Target() == "" && le.Target() != "" {
		me.EnsureExtra().Target = le.Target()
	}
	modeDiffers := false
	switch {
	case me.Mode == "":
		me.Mode = le.Mode
	case le.Mode != "":
		if u, ok := unionMode(me.Mode, le.Mode); ok {
			modeDiffers = me.Mode[1:10] != le.Mode[1:10]
			me.Mode = u
		} else {
			modeDiffers = me.Mode != le.Mode
		}
	}
	if me.Mode != "" {
		me.Mode = withTypeChar(me.Mode, me.Type)
	}
	if le.Type == ftpaudit.TypeLink && mType != ftpaudit.TypeLink && mType != 0 {
		// MLSD followed a link that LIST shows (pyftpdlib): its facts
		// are the target's. The link's own attributes are LIST's, and
		// the target's identity (unique) and rights (perm) are not the
		// link's; the MLSD line stays in Raw as evidence.
		me.Mode, me.Size, me.Modified = le.Mode, le.Size, le.Modified
		if le.Owner != "" {
			me.Owner, me.Group = le.Owner, le.Group
		}
		x := me.EnsureExtra()
		x.Unique, x.Perm, x.Facts, x.FactsRaw = "", "", nil, ""
	}
	if me.Owner == "" {
		me.Owner = le.Owner
	}
	if me.Group == "" {
		me.Group = le.Group
	}
	if me.Size < 0 {
		me.Size = le.Size
	}
	if me.Modified.IsZero() {
		me.Modified = le.Modified
	}
	if !typeDiffers && !modeDiffers {
		return ""
	}
	return fmt.Sprintf("MLSD and LIST -a disagree on %q: MLSD says %s (%q), LIST -a says %s (%q); taken as %s, the reading that exposes more",
		me.Name, reading(mType, mMode), me.Raw, reading(le.Type, le.Mode), le.Raw, reading(me.Type, me.Mode))
}

func reading(t ftpaudit.EntryType, mode string) string {
	if mode == "" {
		return t.String() + " without a mode"
	}
	return t.String() + " " + mode
}

// withTypeChar returns mode with the ls type character of t (mode is at
// least one byte long); TypeOther keeps the character it has.
func withTypeChar(mode string, t ftpaudit.EntryType) string {
	var c byte
	switch t {
	case ftpaudit.TypeDir:
		c = 'd'
	case ftpaudit.TypeLink:
		c = 'l'
	case ftpaudit.TypeFile:
		c = '-'
	default:
		return mode
	}
	if mode[0] == c {
		return mode
	}
	return string(c) + mode[1:]
}

// unionMode returns the ls mode that grants every permission either a or
// b grants, with a's type character and a's trailing characters (an ACL
// mark); ok is false when either is not an ls mode.
func unionMode(a, b string) (string, bool) {
	if len(a) < 10 || len(b) < 10 {
		return "", false
	}
	if a[1:10] == b[1:10] {
		return a, true
	}
	u := []byte(a)
	for i := 1; i < 10; i++ {
		x, ok := unionBit(i, a[i], b[i])
		if !ok {
			return "", false
		}
		u[i] = x
	}
	return string(u), true
}

// unionBit joins one position of two ls modes: r, w, and the execute
// positions, where x combines with the setuid, setgid and sticky marks
// (s = S + x, t = T + x).
func unionBit(i int, a, b byte) (byte, bool) {
	if (i-1)%3 != 2 { // r or w
		want := "rw"[(i-1)%3]
		if a != want && a != '-' || b != want && b != '-' {
			return 0, false
		}
		if a == want || b == want {
			return want, true
		}
		return '-', true
	}
	special := byte('s')
	if i == 9 {
		special = 't'
	}
	upper := special - 'a' + 'A'
	var x, sp bool
	for _, c := range []byte{a, b} {
		switch c {
		case '-':
		case 'x':
			x = true
		case special:
			x, sp = true, true
		case upper:
			sp = true
		default:
			return 0, false
		}
	}
	switch {
	case sp && x:
		return special, true
	case sp:
		return upper, true
	case x:
		return 'x', true
	}
	return '-', true
}
