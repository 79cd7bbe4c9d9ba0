package faultftp

import (
	"strconv"
	"strings"
)

// The commands answered by session.answer, one method each. Each sets the
// reply in x (and may change the session); none sends anything.

// fixedReplies are the commands whose reply never depends on the session.
var fixedReplies = map[string]string{
	"SYST": "215 UNIX Type: L8\r\n",
	"OPTS": "200 Always in UTF8 mode.\r\n",
	"MODE": "200 OK.\r\n",
	"STRU": "200 OK.\r\n",
	"NOOP": "200 NOOP ok.\r\n",
	"ABOR": "225 No transfer to ABOR.\r\n",
	"SIZE": "550 Could not get file size.\r\n",
	"MDTM": "550 Could not get file modification time.\r\n",
	"RETR": "550 Failed to open file.\r\n",
	"AUTH": "502 TLS is not offered here.\r\n",
}

// fixedReply returns verb's fixed reply; 502 for a command not known at
// all.
func fixedReply(verb string) string {
	if r, ok := fixedReplies[verb]; ok {
		return r
	}
	return "502 Command not implemented.\r\n"
}

// needLogin reports whether the session has logged in; if not, it sets
// x's reply to 530.
func (ss *session) needLogin(x *Exchange) bool {
	if !ss.loggedIn {
		x.Reply = "530 Please login with USER and PASS.\r\n"
		return false
	}
	return true
}

// cmdUser accepts the anonymous users and Options.Users, and logs the
// session out until PASS.
func (ss *session) cmdUser(x *Exchange) {
	_, named := ss.srv.opt.Users[x.Arg]
	switch {
	case x.Arg == "anonymous", x.Arg == "ftp", named:
		ss.user, ss.loggedIn = x.Arg, false
		x.Reply = "331 Please specify the password.\r\n"
	default:
		x.Reply = "530 This FTP server is anonymous only.\r\n"
	}
}

// cmdPass accepts any password after an anonymous USER, and a named
// user's own password.
func (ss *session) cmdPass(x *Exchange) {
	want, named := ss.srv.opt.Users[ss.user]
	switch {
	case ss.user == "":
		x.Reply = "503 Login with USER first.\r\n"
	case named && x.Arg != want:
		x.Reply = "530 Login incorrect.\r\n"
	default:
		ss.loggedIn = true
		x.Reply = "230 Login successful.\r\n"
	}
}

// cmdFeat lists the features the options turn on.
func (ss *session) cmdFeat(x *Exchange) {
	o := ss.srv.opt
	var b strings.Builder
	b.WriteString("211-Features:\r\n")
	if !o.NoEPSV {
		b.WriteString(" EPSV\r\n")
	}
	b.WriteString(" MDTM\r\n")
	if o.MLSD {
		b.WriteString(" MLST type*;size*;modify*;UNIX.mode*;UNIX.owner*;UNIX.group*;\r\n")
	}
	b.WriteString(" PASV\r\n REST STREAM\r\n SIZE\r\n211 End\r\n")
	x.Reply = b.String()
}

// cmdType accepts the image and ASCII types (the data sent is the same).
func (ss *session) cmdType(x *Exchange) {
	switch strings.ToUpper(x.Arg) {
	case "I", "A", "L 8", "A N":
		x.Reply = "200 Switching to Binary mode.\r\n"
	default:
		x.Reply = "504 Bad TYPE command.\r\n"
	}
}

// cmdPwd names the current directory, quotes doubled.
func (ss *session) cmdPwd(x *Exchange) {
	if ss.needLogin(x) {
		x.Reply = "257 \"" + strings.ReplaceAll(ss.cwd, `"`, `""`) + "\" is the current directory\r\n"
	}
}

// cmdCwd (CWD, CDUP) changes to x.Dir if the Tree has it.
func (ss *session) cmdCwd(x *Exchange) {
	if !ss.needLogin(x) {
		return
	}
	if _, ok := ss.srv.opt.Tree(x.Dir, false); ok {
		ss.cwd = x.Dir
		x.Reply = "250 Directory successfully changed.\r\n"
	} else {
		x.Reply = "550 Failed to change directory.\r\n"
	}
}

// cmdEpsv opens a data listener, unless Options.NoEPSV.
func (ss *session) cmdEpsv(x *Exchange) {
	if ss.srv.opt.NoEPSV {
		x.Reply = "500 Unknown command.\r\n"
	} else if ss.needLogin(x) {
		x.Reply = ss.passive(true)
	}
}

// cmdPasv opens a data listener.
func (ss *session) cmdPasv(x *Exchange) {
	if ss.needLogin(x) {
		x.Reply = ss.passive(false)
	}
}

// cmdList (LIST, MLSD) answers 150 and returns x.Dir's lines when the
// directory exists and a data listener is open; nil otherwise.
func (ss *session) cmdList(x *Exchange) []string {
	mlsd := x.Verb == "MLSD"
	if mlsd && !ss.srv.opt.MLSD {
		x.Reply = "500 Unknown command.\r\n"
		return nil
	}
	if !ss.needLogin(x) {
		return nil
	}
	lines, ok := ss.lines(x.Dir, mlsd)
	switch {
	case !ok:
		x.Reply = "550 Failed to open directory.\r\n"
		return nil
	case ss.pasv == nil:
		x.Reply = "425 Use PORT or PASV first.\r\n"
		return nil
	}
	if lines == nil {
		lines = []string{}
	}
	x.Reply = "150 Here comes the directory listing.\r\n"
	return lines
}

// cmdStat answers a bare STAT with the server's status and, with
// Options.Stat, "STAT DIR" with DIR's LIST lines on the control
// connection.
func (ss *session) cmdStat(x *Exchange) {
	switch {
	case x.Arg == "":
		x.Reply = "211 faultftp status: all is well.\r\n"
	case !ss.srv.opt.Stat:
		x.Reply = "500 Unknown command.\r\n"
	case ss.needLogin(x):
		lines, ok := ss.lines(x.Dir, false)
		if !ok {
			x.Reply = "550 Failed to open directory.\r\n"
			return
		}
		var b strings.Builder
		b.WriteString("213-Status follows:\r\n")
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
		b.WriteString("213 End of status\r\n")
		x.Reply = b.String()
	}
}

// cmdRest accepts any offset (nothing is ever retrieved).
func (ss *session) cmdRest(x *Exchange) {
	if _, err := strconv.ParseUint(x.Arg, 10, 63); err != nil {
		x.Reply = "501 Bad REST offset.\r\n"
	} else {
		x.Reply = "350 Restart position accepted (" + x.Arg + ").\r\n"
	}
}

// cmdQuit says goodbye and hangs up.
func (ss *session) cmdQuit(x *Exchange) {
	x.Reply, x.Hangup = "221 Goodbye.\r\n", true
}
