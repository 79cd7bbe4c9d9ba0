// Package scanner walks FTP archives and judges what it finds. It never
// prints: everything it learns is returned as data (Entry, HostResult) or
// reported through the Progress interface.
package scanner

import "time"

// EntryType is the kind of a directory entry.
type EntryType string

// Entry types, as they appear in the v1 JSON.
const (
	TypeDir   EntryType = "dir"
	TypeFile  EntryType = "file"
	TypeLink  EntryType = "link"
	TypeOther EntryType = "other"
)

// Entry is one name the server showed in a listing, with every attribute the
// listing carried. Name and Path hold the server's bytes exactly (they may be
// invalid UTF-8, contain spaces, control characters, or consist of dots).
type Entry struct {
	// Path is the entry's path from the archive root, parent path and Name
	// joined with "/". It always starts with "/".
	Path string
	// Name is the exact name as the server gave it.
	Name string
	Type EntryType
	// Size in bytes; -1 when the listing did not say.
	Size int64
	// Modified is zero when the listing did not say.
	Modified time.Time
	// Mode is the ls-style mode string ("drwxrwxrwx"), from LIST or from the
	// MLSD UNIX.mode fact; empty when unknown.
	Mode string
	// Owner and Group as listed (names or numeric ids).
	Owner, Group string
	// Perm is the MLSD perm fact ("flcdmpe"), empty when not given.
	Perm string
	// Unique is the MLSD unique fact, empty when not given.
	Unique string
	// Target is a symlink's target, when the listing shows it.
	Target string
	// Facts holds every MLSD fact as given (keys lower-cased), nil for LIST.
	Facts map[string]string
	// Raw is the server's line, without its line terminator.
	Raw string
	// ListRaw is the entry's LIST -a line when the directory was listed
	// both ways (MLSD and LIST -a); empty otherwise.
	ListRaw string
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
