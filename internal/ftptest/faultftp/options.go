package faultftp

import "time"

// Tree returns the listing of dir, one line per entry without its line
// end, in the form the command asks for: RFC 3659 fact lines when mlsd is
// set (MLSD), "ls -l" lines otherwise (LIST, STAT). ok false means dir
// does not exist: listings and CWD are answered 550.
type Tree func(dir string, mlsd bool) (lines []string, ok bool)

// Options configure a Server. The zero value (with a Tree) is a correct,
// LIST-only server.
type Options struct {
	// Tree is the archive. Nil means an empty root directory.
	Tree Tree
	// Users are named accounts and their passwords, besides the
	// anonymous ones: a wrong password gets "530 Login incorrect."
	Users map[string]string
	// MLSD advertises MLST in FEAT and serves MLSD; otherwise MLSD is an
	// unknown command (500).
	MLSD bool
	// NoEPSV answers EPSV with 500 (and leaves it out of FEAT), so that
	// clients use PASV.
	NoEPSV bool
	// PASVHost, an IPv4 address, is named in 227 replies instead of
	// 127.0.0.1; the data listener stays on 127.0.0.1.
	PASVHost string
	// Stat answers "STAT [-a] DIR" with DIR's LIST lines on the control
	// connection, as vsftpd does ("213-Status follows:" ... "213 End of
	// status"), with "." and ".." first; LIST then also shows "." and
	// "..", so that both give the same lines. Otherwise STAT is answered
	// 500 and clients that try it give it up.
	Stat bool
	// DotEntries adds "." and ".." lines to LIST (and type=cdir/pdir lines
	// to MLSD).
	DotEntries bool
	// Greeting replaces the 220 greeting (verbatim bytes, CRLF included).
	Greeting string
	// DataTimeout bounds the wait for a client's data connection after a
	// listing command; then 425 is sent. Zero means 5s.
	DataTimeout time.Duration
	// Script holds the faults.
	Script Script
}

// Script holds the hooks that make the server misbehave. Nil hooks change
// nothing.
type Script struct {
	// Reply is called before every reply, the greeting included.
	Reply func(x *Exchange)
	// Transfer is called before every listing goes over a data
	// connection.
	Transfer func(t *Transfer)
}

// Exchange is one command and the reply the server is about to send. The
// Reply hook may change the fields after Reply.
type Exchange struct {
	// Session numbers the control connection: 1 for the first one
	// accepted, 2 for the next, and so on.
	Session int
	// Seq is the command's position in its session (1 for the first);
	// 0 for the greeting.
	Seq int
	// Verb is the command, upper-cased ("" for the greeting); Arg is the
	// rest of the line, verbatim.
	Verb, Arg string
	// Dir is the directory a CWD, LIST, MLSD or STAT names, resolved to an
	// absolute path ("" for other commands).
	Dir string
	// N counts the commands with this Verb received on all sessions so
	// far, this one included; DirN counts those with this Verb and Dir.
	N, DirN int

	// Reply is what is about to be sent, verbatim (CRLF line ends). For
	// LIST and MLSD it is the preliminary reply ("150 ..."): the listing
	// goes over the data connection only if the Reply sent starts with
	// '1'. A multi-line reply, a reply without a code or a line end, or
	// any bytes at all may be put here.
	Reply string
	// Delay is waited before Reply is sent.
	Delay time.Duration
	// Stall, after Reply (which may be empty or cut short), stops the
	// session: nothing more is sent or answered, and the connection stays
	// open until the client closes it or the server is closed.
	Stall bool
	// Hangup closes the control connection after Reply; Reset closes it
	// with a TCP RST instead of a FIN (Reset implies Hangup).
	Hangup, Reset bool
	// Drip, after Reply, makes the reply go on (see Drip); then Stall,
	// Hangup or Reset apply.
	Drip Drip
}

// End says how the server ends a data connection after the listing data.
type End int

// Ends of a data connection.
const (
	// EndClose closes the data connection normally (FIN).
	EndClose End = iota
	// EndReset closes it with a TCP RST.
	EndReset
	// EndStall keeps it open, sending nothing more, until the client
	// closes it or the server is closed; then Final is sent.
	EndStall
)

// Transfer is one listing on its way over a data connection. The Transfer
// hook may change the fields after Data.
type Transfer struct {
	// Session numbers the control connection (see Exchange).
	Session int
	// Verb is "LIST" or "MLSD"; Dir the directory listed.
	Verb, Dir string
	// N counts the listings of Dir with Verb on all sessions so far, this
	// one included.
	N int

	// Data is what is sent on the data connection: the Tree's lines, each
	// ending in CRLF. It may be cut, replaced or emptied.
	Data []byte
	// Delay is waited after the data connection is accepted and before
	// Data is sent.
	Delay time.Duration
	// Drip, after Data, makes the transfer go on (see Drip) before End.
	Drip Drip
	// End says how the data connection ends after Data.
	End End
	// Final is the reply sent on the control connection once the data
	// connection has ended ("226 Transfer complete.\r\n"); "" sends
	// none. Verbatim bytes, like Exchange.Reply.
	Final string
	// Stall, Hangup and Reset act on the control connection after Final,
	// as in Exchange.
	Stall, Hangup, Reset bool
}
