package ftpaudit

import (
	"context"
	"errors"
	"fmt"
)

// Session lists directories over one connection. It is used by one
// goroutine at a time.
type Session interface {
	// List returns the listing of dir, an absolute path whose names are
	// exact server bytes. A *ReplyError in the chain means the server
	// refused; ErrConnLost means the session is unusable.
	List(ctx context.Context, dir string) (*Listing, error)
	Close() error
}

// Listing is one directory's parsed listing.
type Listing struct {
	Entries []Entry
	Bad     []BadLine
	Format  ListFormat
	// Reply is the server's final reply to the listing command.
	Reply string
	// Bytes is the size of the raw listing.
	Bytes int64
	// Truncated is set when the listing was cut short: by our size bound,
	// or by a data connection closed in the middle of a line.
	Truncated bool
	// Warnings are facts about the listing worth reporting (for example
	// names one listing command showed and the other hid).
	Warnings []string
	// Via says how the listing was fetched: ViaMLSD, ViaList, ViaStat, or
	// two of them joined with "+" (MLSD and LIST -a, merged).
	Via string
}

// How a listing was fetched.
const (
	ViaMLSD = "mlsd"
	ViaList = "list"
	ViaStat = "stat"
	// ViaListR marks a directory's listing taken from a section of a
	// recursive LIST -aR of one of its ancestors (or itself).
	ViaListR = "list-R"
)

// Connector opens sessions to one host.
type Connector func(ctx context.Context) (Session, ServerInfo, error)

// ReplyError is a negative FTP reply.
type ReplyError struct {
	Code int
	Msg  string
}

func (e *ReplyError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Msg) }

// ServerInfo is what a server told us when we logged in.
type ServerInfo struct {
	Banner   string
	Features []string
	Login    string
	MLSD     bool
	// Paired is set when every directory is listed with both MLSD and
	// LIST -a, over two connections per session.
	Paired bool
	// TLS says how the session was protected: "none", "verified", or
	// "unverified" (certificate verification turned off by the user).
	TLS string
}

// ErrConnLost marks errors after which a session must be discarded and the
// operation retried on a new one.
var ErrConnLost = errors.New("connection lost")

// TreeLister is implemented by sessions that can list a subtree in one
// transfer.
type TreeLister interface {
	// ListTree lists dir and every directory below it with one recursive
	// listing. ErrTreeUnsupported means this session cannot try.
	ListTree(ctx context.Context, dir string) (*TreeListing, error)
}

// A ListOnlyLister lists a directory with LIST alone where List would
// also list it with MLSD: as a recursive listing sees it (see the walker's
// listLikeTree).
type ListOnlyLister interface {
	ListOnly(ctx context.Context, dir string) (*Listing, error)
}

// A Prefetcher can list several directories the caller is about to list
// in one exchange with the server, where that can be done safely; List
// then returns each of them from what was read. Prefetch lists nothing it
// cannot (List lists those as usual), and returns an error only when the
// session was lost (ErrConnLost), the directories not listed.
type Prefetcher interface {
	Prefetch(ctx context.Context, dirs []string) error
	// Prefetches reports whether Prefetch can list anything now.
	Prefetches() bool
}

// ErrTreeUnsupported is returned by ListTree for a directory or session it
// cannot list recursively (a path that cannot go on a LIST command line, an
// MLSD-only session, a server without LIST -a).
var ErrTreeUnsupported = errors.New("recursive listing not possible here")

// TreeListing is one recursive listing, split into sections.
type TreeListing struct {
	// Sections in the order the server sent them. The first is the
	// listed directory's own (its header, if the server sent one, is
	// not required to match).
	Sections []TreeSection
	// Reply is the server's final reply.
	Reply string
	// Bytes is the size of the raw listing.
	Bytes int64
	// Truncated is set when the transfer was cut short (our size bound,
	// or a last line without its line end).
	Truncated bool
	// Lines counts entry lines (every line that parsed as an entry or
	// failed to), for the server-cap check.
	Lines    int
	Warnings []string
}

// Prober is a Session that can also write: what the active probe and
// content checks need. Names are relative to the directory set with
// ChangeDir. Each method returns the server's reply text.
type Prober interface {
	Session
	ChangeDir(ctx context.Context, dir string) (string, error)
	Store(ctx context.Context, name string) (string, error)
	MakeDir(ctx context.Context, name string) (string, error)
	Delete(ctx context.Context, name string) (string, error)
	RemoveDir(ctx context.Context, name string) (string, error)
	// Exists asks, without listing, whether name exists in dir (the
	// current directory).
	Exists(ctx context.Context, dir, name string, isDir bool) (bool, error)
	// Fetch downloads name, at most max bytes.
	Fetch(ctx context.Context, name string, max int64) ([]byte, error)
}

// treeSection is the part of a recursive listing about one directory.
type TreeSection struct {
	// Header is the path as the server wrote it, without the colon;
	// empty for a first section without a header.
	Header  string
	Entries []Entry
	Bad     []BadLine
	// Dot is set when the section lists its own "." entry: the server
	// really read the directory (proftpd writes an empty section for a
	// directory it cannot read; LIST -a always shows ".").
	Dot bool
}

// DataError is a listing the server answered with success whose data is
// an error message instead of entries: GNU inetutils and netkit ftpd run
// ls, and send its "bin: Permission denied" in the data with a 226. The
// directory was refused, in the server's words; it is neither listed nor
// empty.
type DataError struct {
	Reply string // the final reply
	Text  string // the error text the data held
}

func (e *DataError) Error() string {
	return "the listing's data is an error message: " + e.Text + " (reply: " + e.Reply + ")"
}
