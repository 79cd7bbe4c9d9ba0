package listing

// MLSD and MLST lines (RFC 3659): facts, the modes and times they carry.

import (
	"strings"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
)

// Canonical lower-case fact names, so known keys need no allocation.
const (
	factType      = "type"
	factModify    = "modify"
	factSize      = "size"
	factSizd      = "sizd"
	factPerm      = "perm"
	factUnique    = "unique"
	factMode      = "unix.mode"
	factOwner     = "unix.owner"
	factOwnerName = "unix.ownername"
	factUID       = "unix.uid"
	factGroup     = "unix.group"
	factGroupName = "unix.groupname"
	factGID       = "unix.gid"
	factCreate    = "create"
	factLang      = "lang"
	factMediaType = "media-type"
	factCharset   = "charset"
)

var knownFacts = [...]string{
	factType, factModify, factSize, factSizd, factPerm, factUnique, factMode,
	factOwner, factOwnerName, factUID, factGroup, factGroupName, factGID,
	factCreate, factLang, factMediaType, factCharset,
}

// factKey returns the lower-cased fact name, without allocating for known
// names or names that are already lower case.
func factKey(k string) string {
	for _, f := range knownFacts {
		if len(f) == len(k) && ascii.EqualFold(f, k) {
			return f
		}
	}
	return ascii.Lower(k)
}

// ParseMLSDLine parses one MLSD/MLST line (RFC 3659: "fact=value;fact=value;
// name"). skip is true for entries to be ignored: type=cdir and type=pdir
// (and an empty line). An entry of another type literally named "." or ".."
// is returned as an entry.
//
// The facts end at the first ';' that is followed by a space; exactly that one
// space separates them from the name, which is the rest of the line. A line
// that starts with a space has no facts. Fact names are case-insensitive and
// are stored lower-cased in Facts; values are kept as given.
func ParseMLSDLine(line string) (e ftpaudit.Entry, skip bool, err error) {
	skip, err = parseMLSDLine(line, &e, &ftpaudit.EntryExtra{})
	if err != nil {
		e = ftpaudit.Entry{}
	}
	return e, skip, err
}

// parseMLSDLine is ParseMLSDLine writing into *out, which is assigned whole
// when an entry is found and left in an unspecified state on error. The
// entry's Extra is x, assigned whole too.
func parseMLSDLine(line string, out *ftpaudit.Entry, x *ftpaudit.EntryExtra) (skip bool, err error) {
	if line == "" {
		*out = ftpaudit.Entry{}
		return true, nil
	}
	sep, nf, err := mlsdSeparator(line)
	if err != nil {
		return false, err
	}
	name := line[sep+1:]
	if name == "" {
		return false, errEmptyName
	}
	// The facts stay in the line (FactsRaw, a part of Raw): a map per
	// entry would cost hundreds of bytes (see Entry.Facts). A line
	// without facts has an empty map, so that it still reads as MLSD.
	*x = ftpaudit.EntryExtra{FactsRaw: line[:sep]}
	if sep == 0 {
		x.Facts = map[string]string{}
	}
	_ = nf
	*out = ftpaudit.Entry{Name: name, Type: ftpaudit.TypeOther, Size: -1, Raw: line, Extra: x}
	f := mlsdFacts{size: -1, sizd: -1, typeChar: '?'}
	facts := line[:sep] // "a=b;c=d;" (or "" without facts)
	for facts != "" {
		j := strings.IndexByte(facts, ';') // always found: facts ends in ';'
		fact := facts[:j]
		facts = facts[j+1:]
		if fact == "" {
			return false, errMLSDEmptyFact
		}
		eq := strings.IndexByte(fact, '=')
		if eq <= 0 || strings.IndexByte(fact[:eq], ' ') >= 0 {
			return false, errMLSDBadFact
		}
		key, val := factKey(fact[:eq]), fact[eq+1:]
		if err := f.set(key, val, out, x); err != nil {
			return false, err
		}
	}
	f.fill(out)
	return f.skip, nil
}

// mlsdSeparator finds the space that separates an MLSD line's facts from
// its name: the one after the first ';' that a space follows (index 0
// when the line starts with a space: no facts). nf counts the ';'s up to
// it, the number of facts.
func mlsdSeparator(line string) (sep, nf int, err error) {
	if line[0] == ' ' {
		return 0, 0, nil
	}
	for i := 0; i < len(line); i++ {
		if line[i] == ';' {
			nf++
			if i+1 < len(line) && line[i+1] == ' ' {
				return i + 1, nf, nil
			}
		}
	}
	return -1, nf, errMLSDNoSeparator
}

// mlsdFacts gathers, fact by fact, what several facts decide together:
// the size (size, else sizd), owner and group (a name, else an id), the
// mode (unix.mode, with the type from the type fact or else from the
// mode's S_IFMT bits) and whether the entry is skipped (cdir, pdir).
type mlsdFacts struct {
	size, sizd            int64
	mode                  uint32
	haveMode              bool
	owner, ownerName, uid string
	group, groupName, gid string
	typeChar              byte
	skip                  bool
}

// set applies one fact (key lower-cased) to e and x, or to f where
// several facts decide together.
func (f *mlsdFacts) set(key, val string, e *ftpaudit.Entry, x *ftpaudit.EntryExtra) error {
	switch key {
	case factType:
		e.Type, f.typeChar, x.Target, f.skip = mlsdType(val)
	case factModify:
		t, ok := parseMLSDTime(val)
		if !ok {
			return errMLSDModify
		}
		e.Modified = t
	case factSize:
		v, ok, overflow := parseDigits(val)
		if !ok || overflow {
			return errMLSDSize
		}
		f.size = v
	case factSizd:
		v, ok, overflow := parseDigits(val)
		if !ok || overflow {
			return errMLSDSizd
		}
		f.sizd = v
	case factPerm:
		x.Perm = val
	case factUnique:
		x.Unique = val
	case factMode:
		if len(val) > 2 && val[0] == '0' && (val[1] == 'o' || val[1] == 'O') {
			// pyftpdlib writes the mode with Python's oct(): "0o755".
			val = val[2:]
		}
		m, ok := parseOctal(val)
		if !ok {
			return errMLSDMode
		}
		f.mode, f.haveMode = m, true
	case factOwner:
		f.owner = val
	case factOwnerName:
		f.ownerName = val
	case factUID:
		f.uid = val
	case factGroup:
		f.group = val
	case factGroupName:
		f.groupName = val
	case factGID:
		f.gid = val
	}
	return nil
}

// fill sets e's size, owner, group and mode from the facts seen.
func (f *mlsdFacts) fill(e *ftpaudit.Entry) {
	switch {
	case f.size >= 0:
		e.Size = f.size
	case f.sizd >= 0:
		e.Size = f.sizd
	}
	e.Owner = firstSet(f.ownerName, f.owner, f.uid)
	e.Group = firstSet(f.groupName, f.group, f.gid)
	if f.haveMode {
		typeChar := f.typeChar
		if typeChar == '?' {
			typeChar = ifmtChar(f.mode)
		}
		e.Mode = unixModeString(typeChar, f.mode)
	}
}

func firstSet(a, b, c string) string {
	if a != "" {
		return a
	}
	if b != "" {
		return b
	}
	return c
}

// mlsdType interprets a type fact value.
func mlsdType(v string) (typ ftpaudit.EntryType, typeChar byte, target string, skip bool) {
	switch {
	case ascii.EqualFold(v, "file"):
		return ftpaudit.TypeFile, '-', "", false
	case ascii.EqualFold(v, "dir"):
		return ftpaudit.TypeDir, 'd', "", false
	case ascii.EqualFold(v, "cdir"), ascii.EqualFold(v, "pdir"):
		return ftpaudit.TypeDir, 'd', "", true
	}
	const osu = "os.unix="
	if len(v) < len(osu) || !ascii.EqualFold(v[:len(osu)], osu) {
		return ftpaudit.TypeOther, '?', "", false
	}
	u := v[len(osu):]
	const slink = "slink"
	switch {
	case len(u) >= len(slink) && ascii.EqualFold(u[:len(slink)], slink) &&
		(len(u) == len(slink) || u[len(slink)] == ':'):
		if len(u) > len(slink) {
			target = u[len(slink)+1:]
		}
		return ftpaudit.TypeLink, 'l', target, false
	case ascii.EqualFold(u, "symlink"):
		return ftpaudit.TypeLink, 'l', "", false
	case ascii.EqualFold(u, "chr"), ascii.EqualFold(u, "chrdev"), ascii.EqualFold(u, "char"):
		return ftpaudit.TypeOther, 'c', "", false
	case ascii.EqualFold(u, "blk"), ascii.EqualFold(u, "blkdev"), ascii.EqualFold(u, "block"):
		return ftpaudit.TypeOther, 'b', "", false
	case ascii.EqualFold(u, "fifo"), ascii.EqualFold(u, "pipe"):
		return ftpaudit.TypeOther, 'p', "", false
	case ascii.EqualFold(u, "socket"):
		return ftpaudit.TypeOther, 's', "", false
	}
	return ftpaudit.TypeOther, '?', "", false
}

// ifmtChar maps S_IFMT bits that a server may include in UNIX.mode.
func ifmtChar(m uint32) byte {
	switch m & 0170000 {
	case 0140000:
		return 's'
	case 0120000:
		return 'l'
	case 0100000:
		return '-'
	case 0060000:
		return 'b'
	case 0040000:
		return 'd'
	case 0020000:
		return 'c'
	case 0010000:
		return 'p'
	}
	return '?'
}

// commonModes caches the ls form of plain files, directories and symlinks
// without setuid/setgid/sticky bits, so that most MLSD lines need no
// allocation for Mode.
var commonModes = sync.OnceValue(func() *[3][512]string {
	var t [3][512]string
	for i, c := range []byte("-dl") {
		for m := range 512 {
			t[i][m] = buildModeString(c, uint32(m))
		}
	}
	return &t
})

// unixModeString renders permission bits (with setuid/setgid/sticky) in ls
// form after the given type character.
func unixModeString(typeChar byte, m uint32) string {
	if m&07000 == 0 {
		switch typeChar {
		case '-':
			return commonModes()[0][m&0777]
		case 'd':
			return commonModes()[1][m&0777]
		case 'l':
			return commonModes()[2][m&0777]
		}
	}
	return buildModeString(typeChar, m)
}

func buildModeString(typeChar byte, m uint32) string {
	var b [10]byte
	b[0] = typeChar
	for i := 0; i < 9; i++ {
		if m&(1<<(8-i)) != 0 {
			b[1+i] = "rwxrwxrwx"[i]
		} else {
			b[1+i] = '-'
		}
	}
	if m&04000 != 0 {
		b[3] = specialBit(b[3], 's')
	}
	if m&02000 != 0 {
		b[6] = specialBit(b[6], 's')
	}
	if m&01000 != 0 {
		b[9] = specialBit(b[9], 't')
	}
	return string(b[:])
}

// parseOctal parses 1 to 7 octal digits (at most 0177777, which leaves room
// for the S_IFMT bits).
func parseOctal(s string) (uint32, bool) {
	if s == "" || len(s) > 7 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v<<3 | uint32(c-'0')
	}
	return v, v <= 0177777
}

// parseMLSDTime parses YYYYMMDDHHMMSS[.sss] in UTC.
func parseMLSDTime(s string) (time.Time, bool) {
	if len(s) < 14 || !allDecDigits(s[:14]) {
		return time.Time{}, false
	}
	y, mo, d := smallAtoi(s[:4]), smallAtoi(s[4:6]), smallAtoi(s[6:8])
	h, mi, sec := smallAtoi(s[8:10]), smallAtoi(s[10:12]), smallAtoi(s[12:14])
	if !validYMD(y, mo, d) || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	ns := 0
	if frac := s[14:]; frac != "" {
		if len(frac) < 2 || frac[0] != '.' || !allDecDigits(frac[1:]) {
			return time.Time{}, false
		}
		frac = frac[1:]
		for i := 0; i < 9; i++ {
			ns *= 10
			if i < len(frac) {
				ns += int(frac[i] - '0')
			}
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
}
