// Package ftpconn is the FTP adapter: a [Dialer]'s Connect is the
// [ftpaudit.Connector] the CLI hands the scanner, and its sessions are the
// root package's Session, Prober and TreeLister over
// github.com/jlaffaye/ftp. It is the only non-test code that imports
// jlaffaye (all_test.go checks).
//
// jlaffaye keeps dialling, login, TLS, EPSV/PASV and opening data
// connections. What an audit needs and jlaffaye would lose is taken around
// it, through the two hooks it offers. The dial function handed to it
// returns, for every data connection, a drainConn that swallows the
// transfer on the first read and answers EOF: jlaffaye's lossy listing
// parser sees nothing, and the raw bytes go to package listing as sent.
// Its debug writer is a replyLog, which keeps the server's replies (a
// listing's final reply, the banner, FEAT) and never the commands sent.
//
// Where a host allows it, directories are listed over the control
// connection with STAT (statlist.go) and whole subtrees with LIST -aR
// (recursive.go); why each is safe is written at the code. Every CWD is
// checked with PWD before anything is listed or written after it
// (cwd.go), and where MLSD and LIST -a disagree about a name, both
// readings are kept and the one that exposes more is judged
// (listing.Merge, pairSession).
package ftpconn
