package ftpaudit

import (
	"strconv"
	"time"
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
	// Facts holds every MLSD fact as given (keys lower-cased), nil for LIST.
	Facts map[string]string
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
func (e *Entry) Facts() map[string]string {
	if e.Extra == nil {
		return nil
	}
	return e.Extra.Facts
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
// dropped, so that the report can show it.
type BadLine struct {
	Raw string // the line exactly as received, without its terminator
	Err string // why it was not understood
}
