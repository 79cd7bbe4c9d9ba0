// Package faultftp is a scriptable, misbehaving FTP server for tests.
//
// It exists to show what ftpaudit does when a server or the network goes
// wrong: a reply that never comes, a data connection that drops half way
// through a listing, a 421 in the middle of a walk, garbage where a reply
// should be, a PASV reply naming another host, a directory of 100,000
// names, a tree without a bottom, names full of escape sequences. It is
// written directly on net.Listener (not on an FTP server library) so that
// it can misbehave at the byte level, and it runs in-process on 127.0.0.1.
//
// # Protocol
//
// By default it speaks just enough FTP, correctly, for ftpaudit and the
// jlaffaye client: a 220 greeting, USER/PASS (anonymous or ftp only), SYST,
// FEAT (with MLST when Options.MLSD is set), OPTS, TYPE, MODE, STRU, PWD,
// CWD, CDUP, EPSV and PASV (each opens a fresh listener on 127.0.0.1; data
// connections are passive only), LIST (options such as "-a" are skipped),
// MLSD, STAT (500 unless Options.Stat), REST, NOOP, ABOR, QUIT, and 550 to
// SIZE, MDTM and RETR. Anything else is answered 502.
//
// Paths are taken literally: a relative path is joined to the current
// directory with "/", a trailing "/." or "/" is dropped, and nothing else
// is cleaned ("..", "a/b" and control characters stay as they are). The
// Tree decides which paths exist.
//
// # The tree
//
// Options.Tree returns the listing lines of a directory (without line
// ends) and whether it exists; it is called for every LIST, MLSD, STAT and
// CWD, so it can generate enormous, endless or changing directories on the
// fly. Entries and Map build a Tree from Entry values, formatted as
// "ls -l" lines for LIST and as RFC 3659 fact lines for MLSD; a Tree
// written by hand can return any bytes at all. Many (a directory of n
// files), Deep (a tree without a bottom) and Changing (new names at every
// listing) are ready-made.
//
// # Faults
//
// Options.Script holds two hooks. Script.Reply sees every reply before it
// is sent (the greeting included), as an *Exchange holding the command and
// the reply the server is about to send; it may change the reply, delay
// it, cut it short, never send it (Stall), hang up (Hangup, Reset), or
// make it go on (Drip: a greeting dripped a byte at a time, a multi-line
// reply or a line that never ends, 1xx replies forever).
// Script.Transfer sees every listing before it goes over a data
// connection, as a *Transfer; it may change or cut the data, end the data
// connection with a FIN, a RST or not at all (End), trickle it (Drip),
// and change or drop the final reply. Options.PASVHost makes PASV replies name another address
// while the server still listens on 127.0.0.1, and Options.NoEPSV refuses
// EPSV so that clients fall back to PASV.
//
// The hooks run on the sessions' goroutines, several at once; a hook that
// keeps state must synchronise it. Exchange.N, Exchange.DirN and
// Transfer.N count across sessions, so that "the first listing of /pub"
// or "the 3rd EPSV" can be scripted without any. For example, a data
// connection reset half way through the first listing of /pub:
//
//	faultftp.Options{Tree: tree, Script: faultftp.Script{
//		Transfer: func(t *faultftp.Transfer) {
//			if t.Dir == "/pub" && t.N == 1 {
//				t.Data, t.End = t.Data[:len(t.Data)/2], faultftp.EndReset
//			}
//		},
//	}}
//
// Afterwards Sessions, Count, CountDir and Listings say what the client
// did (how many connections, commands, listings).
//
// # Lifetime
//
// Close stops the listener, closes every control connection, passive
// listener and data connection, ends every delay and stall, and waits
// for every goroutine the server started.
package faultftp
