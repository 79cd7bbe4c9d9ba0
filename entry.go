package ftpaudit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// EntryType is the kind of a directory entry. Its text form (String,
// MarshalText) is the one in the v1 JSON: "dir", "file", "link", "other",
// and "" for the zero value.
type EntryType uint8

// Entry types, as they appear in the v1 JSON.
const (
	TypeDir EntryType = iota + 1
	TypeFile
	TypeLink
	TypeOther
)

var entryTypeNames = [...]string{"", "dir", "file", "link", "other"}

// String returns the type as it appears in the v1 JSON.
func (t EntryType) String() string {
	if int(t) < len(entryTypeNames) {
		return entryTypeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// MarshalText returns the type as it appears in the v1 JSON.
func (t EntryType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// ParseEntryType is the inverse of String: ok is false for any other text.
func ParseEntryType(s string) (t EntryType, ok bool) {
	for i, n := range entryTypeNames {
		if n == s {
			return EntryType(i), true
		}
	}
	return 0, false
}

// Entry is one name the server showed in a listing, with every attribute the
// listing carried. Name and Path hold the server's bytes exactly (they may be
// invalid UTF-8, contain spaces, control characters, or consist of dots).
//
// A scan keeps every Entry of a host in memory, so the struct is kept
// small: what most entries lack (the MLSD facts, the LIST -a line of a
// merged listing, a symlink's target) sits behind one pointer, Extra,
// read through the methods Perm, Unique, Facts, ListRaw and Target.
type Entry struct {
	// Path is the entry's path from the archive root, parent path and Name
	// joined with "/". It always starts with "/".
	Path string
	// Name is the exact name as the server gave it.
	Name string
	// Size in bytes; -1 when the listing did not say.
	Size int64
	// Modified is zero when the listing did not say.
	Modified time.Time
	// Mode is the ls-style mode string ("drwxrwxrwx"), from LIST or from the
	// MLSD UNIX.mode fact; empty when unknown.
	Mode string
	// Owner and Group as listed (names or numeric ids).
	Owner, Group string
	// Raw is the server's line, without its line terminator.
	Raw string
	// Extra holds the attributes only some listings give; nil when the
	// entry has none of them.
	Extra *EntryExtra
	Type  EntryType
}

// EntryExtra is the part of an Entry that most entries lack.
type EntryExtra struct {
	// Perm is the MLSD perm fact ("flcdmpe"), empty when not given.
	Perm string
	// Unique is the MLSD unique fact, empty when not given.
	Unique string
	// Facts holds every MLSD fact as given (keys lower-cased), nil for
	// LIST. An entry parsed from an MLSD line keeps its facts as
	// FactsRaw instead, and Facts is nil: see Entry.Facts.
	Facts map[string]string
	// FactsRaw is the facts part of the MLSD line ("type=file;size=3;"),
	// for an entry whose Facts is nil: a part of Raw, which costs no
	// memory of its own, where a map costs hundreds of bytes per entry.
	FactsRaw string
	// ListRaw is the entry's LIST -a line when the directory was listed
	// both ways (MLSD and LIST -a); empty otherwise.
	ListRaw string
	// Target is a symlink's target, when the listing shows it.
	Target string
}

// Perm is the MLSD perm fact ("flcdmpe"), empty when not given.
func (e *Entry) Perm() string {
	if e.Extra == nil {
		return ""
	}
	return e.Extra.Perm
}

// Unique is the MLSD unique fact, empty when not given.
func (e *Entry) Unique() string {
	if e.Extra == nil {
		return ""
	}
	return e.Extra.Unique
}

// Facts holds every MLSD fact as given (keys lower-cased), nil for LIST.
// For an entry that keeps its facts as FactsRaw, the map is built on each
// call: Fact and HasFacts ask without building it.
func (e *Entry) Facts() map[string]string {
	if e.Extra == nil {
		return nil
	}
	if e.Extra.Facts != nil || e.Extra.FactsRaw == "" {
		return e.Extra.Facts
	}
	m := map[string]string{}
	eachFact(e.Extra.FactsRaw, func(k, v string) bool {
		m[lowerASCII(k)] = v
		return true
	})
	return m
}

// HasFacts reports whether the entry carries MLSD facts (Facts is not
// nil).
func (e *Entry) HasFacts() bool {
	return e.Extra != nil && (e.Extra.Facts != nil || e.Extra.FactsRaw != "")
}

// Fact returns the MLSD fact key (lower-case), as Facts()[key] would,
// without building the map; the last one where a line gives it twice.
func (e *Entry) Fact(key string) string {
	if e.Extra == nil {
		return ""
	}
	if e.Extra.Facts != nil || e.Extra.FactsRaw == "" {
		return e.Extra.Facts[key]
	}
	var out string
	eachFact(e.Extra.FactsRaw, func(k, v string) bool {
		if equalFoldASCII(k, key) {
			out = v
		}
		return true
	})
	return out
}

// eachFact calls f with each "key=value" of an MLSD facts part ("a=b;c=d;")
// as the MLSD parser accepted it, keys as given.
func eachFact(raw string, f func(k, v string) bool) {
	for raw != "" {
		j := strings.IndexByte(raw, ';')
		if j < 0 {
			j = len(raw)
		}
		fact := raw[:j]
		raw = raw[min(j+1, len(raw)):]
		if eq := strings.IndexByte(fact, '='); eq > 0 && !f(fact[:eq], fact[eq+1:]) {
			return
		}
	}
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// ListRaw is the entry's LIST -a line when the directory was listed both
// ways (MLSD and LIST -a); empty otherwise.
func (e *Entry) ListRaw() string {
	if e.Extra == nil {
		return ""
	}
	return e.Extra.ListRaw
}

// Target is a symlink's target, when the listing shows it.
func (e *Entry) Target() string {
	if e.Extra == nil {
		return ""
	}
	return e.Extra.Target
}

// EnsureExtra returns e.Extra, allocated when nil.
func (e *Entry) EnsureExtra() *EntryExtra {
	if e.Extra == nil {
		e.Extra = &EntryExtra{}
	}
	return e.Extra
}

// ListFormat says which parser a listing went through.
type ListFormat string

// Listing formats.
const (
	FormatMLSD ListFormat = "mlsd"
	FormatUnix ListFormat = "unix"
	FormatDOS  ListFormat = "dos"
)

// BadLine is a listing line that could not be parsed. It is kept, never
// dropped, so that the report can show it: its first BadLineKeep bytes at
// most (a line of a server's may be hundreds of megabytes long) and its
// length. Build one with NewBadLine.
type BadLine struct {
	// Raw is the line as received, without its terminator: all of it
	// when Len == len(Raw), else a copy of its first bytes, at most
	// BadLineKeep, cut at a UTF-8 boundary where the line has one.
	Raw string
	Len int    // the line's full length in bytes
	Err string // why it was not understood
	// More counts the unparsed lines after this one in the same listing
	// that were counted but not kept (see MaxBadLinesKept).
	More int
}

// BadLineKeep is the most bytes of an unparsed line that are kept.
const BadLineKeep = 512

// MaxBadLinesKept is the most unparsed lines kept from one listing; the
// last kept one counts the rest in More.
const MaxBadLinesKept = 100

// NewBadLine returns the BadLine for line, keeping a bounded prefix of it
// (copied, so that a long line's text is not held by the prefix).
func NewBadLine(line string, err string) BadLine {
	b := BadLine{Raw: line, Len: len(line), Err: err}
	if len(line) > BadLineKeep {
		n := BadLineKeep
		for i := n; i > n-utf8.UTFMax && i > 0; i-- {
			if utf8.RuneStart(line[i]) {
				n = i
				break
			}
		}
		b.Raw = strings.Clone(line[:n])
	}
	return b
}

// Cut reports whether Raw is only a prefix of the line.
func (b BadLine) Cut() bool { return len(b.Raw) < b.Len }

// String is the line for a report: the kept text, and when it is only a
// prefix, the line's full length.
func (b BadLine) String() string {
	if b.Cut() {
		return fmt.Sprintf("%s... (first %d of %d bytes)", b.Raw, len(b.Raw), b.Len)
	}
	return b.Raw
}

// AppendBadLine appends the BadLine for line to bad, or, once bad holds
// MaxBadLinesKept lines, counts it in the last one's More.
func AppendBadLine(bad []BadLine, line string, err string) []BadLine {
	if n := len(bad); n >= MaxBadLinesKept {
		bad[n-1].More++
		return bad
	}
	return append(bad, NewBadLine(line, err))
}

type listLimitKey struct{}

// WithListLimit returns ctx carrying n, the most entries a listing made
// under it needs to keep: a walker passes --max-dir-entries, so that a
// listing's parser stops keeping entries past n+1 (one more, to show the
// bound was passed) instead of after.
func WithListLimit(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, listLimitKey{}, n)
}

// ListLimit is the limit WithListLimit put in ctx, 0 when none.
func ListLimit(ctx context.Context) int {
	n, _ := ctx.Value(listLimitKey{}).(int)
	return n
}

// cloneText is the bytes of e's strings, which Clone copies into one
// allocation.
func (e *Entry) cloneText() int {
	n := len(e.Path) + len(e.Name) + len(e.Mode) + len(e.Owner) + len(e.Group) + len(e.Raw)
	if x := e.Extra; x != nil {
		n += len(x.Perm) + len(x.Unique) + len(x.FactsRaw) + len(x.ListRaw) + len(x.Target)
	}
	return n
}

// CloneSize is about the memory a Clone of e holds: the struct, its
// strings, and its Extra with its facts.
func (e *Entry) CloneSize() int {
	n := int(unsafe.Sizeof(Entry{})) + e.cloneText()
	if x := e.Extra; x != nil {
		n += int(unsafe.Sizeof(EntryExtra{}))
		for k, v := range x.Facts {
			n += 48 + len(k) + len(v) // (a map slot's share, about)
		}
	}
	return n
}

// Clone returns a copy of e that shares no memory with it: its strings
// are copied into one allocation (Extra and its Facts copied too), so
// that a copy kept for long (a directory waiting to be listed) does not
// keep the listing it came from in memory.
func (e *Entry) Clone() Entry {
	c := *e
	var b strings.Builder
	b.Grow(e.cloneText())
	put := func(s *string) {
		if *s == "" {
			return
		}
		off := b.Len()
		b.WriteString(*s)
		*s = b.String()[off:]
	}
	put(&c.Path)
	put(&c.Name)
	put(&c.Mode)
	put(&c.Owner)
	put(&c.Group)
	put(&c.Raw)
	if e.Extra != nil {
		x := *e.Extra
		put(&x.Perm)
		put(&x.Unique)
		put(&x.FactsRaw)
		put(&x.ListRaw)
		put(&x.Target)
		if x.Facts != nil {
			m := make(map[string]string, len(x.Facts))
			for k, v := range x.Facts {
				m[strings.Clone(k)] = strings.Clone(v)
			}
			x.Facts = m
		}
		c.Extra = &x
	}
	return c
}
