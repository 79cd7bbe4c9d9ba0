package faultftp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

// session is one control connection.
type session struct {
	srv      *Server
	id       int
	c        net.Conn
	r        *bufio.Reader
	seq      int
	user     string
	loggedIn bool
	cwd      string
	pasv     net.Listener
}

// maxLine bounds a command line.
const maxLine = 64 << 10

// writeTimeout bounds one write to a client that does not read.
const writeTimeout = time.Minute

func (ss *session) serve() {
	greeting := ss.srv.opt.Greeting
	if greeting == "" {
		greeting = "220 faultftp ready.\r\n"
	}
	if !ss.exchange(&Exchange{Session: ss.id, Reply: greeting}) {
		return
	}
	for {
		line, err := ss.readLine()
		if err != nil {
			return
		}
		ss.seq++
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if !ss.handle(verb, arg) {
			return
		}
	}
}

// readLine reads one command line without its line end.
func (ss *session) readLine() (string, error) {
	var b []byte
	for {
		frag, err := ss.r.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > maxLine {
			return "", errors.New("command line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		s := strings.TrimSuffix(string(b), "\n")
		return strings.TrimSuffix(s, "\r"), nil
	}
}

// exchange runs the Reply hook and sends the reply; false when the
// session is over.
func (ss *session) exchange(x *Exchange) bool {
	if h := ss.srv.opt.Script.Reply; h != nil {
		h(x)
	}
	if x.Drip.Chunk != "" {
		if !ss.send(x.Reply, x.Delay, false, false, false) || !ss.srv.drip(ss.c, x.Drip) {
			return false
		}
		return ss.send("", 0, x.Stall, x.Hangup, x.Reset)
	}
	return ss.send(x.Reply, x.Delay, x.Stall, x.Hangup, x.Reset)
}

// send waits delay, writes reply, then stalls or hangs up as told; false
// when the session is over.
func (ss *session) send(reply string, delay time.Duration, stall, hangup, reset bool) bool {
	if !ss.srv.sleep(delay) {
		return false
	}
	if reply != "" {
		_ = ss.c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := io.WriteString(ss.c, reply); err != nil {
			return false
		}
	}
	switch {
	case reset:
		resetConn(ss.c)
		return false
	case hangup:
		return false // serve's caller closes the connection
	case stall:
		// Read and discard until the client (or Close) ends it.
		_, _ = io.Copy(io.Discard, ss.c)
		return false
	}
	return true
}

// resetConn closes c with a TCP RST.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// resolve turns a command's path argument into an absolute path, literally
// (see the package comment).
func (ss *session) resolve(arg string) string {
	p := arg
	switch {
	case p == "" || p == ".":
		p = ss.cwd
	case !strings.HasPrefix(p, "/"):
		if ss.cwd == "/" {
			p = "/" + p
		} else {
			p = ss.cwd + "/" + p
		}
	}
	for {
		switch {
		case p == "/." || p == "/":
			return "/"
		case strings.HasSuffix(p, "/."):
			p = p[:len(p)-2]
		case strings.HasSuffix(p, "/"):
			p = p[:len(p)-1]
		default:
			return p
		}
	}
}

// listArg returns LIST's path argument: the line after any leading option
// words ("-a", "-la").
func listArg(arg string) string {
	for strings.HasPrefix(arg, "-") {
		_, rest, _ := strings.Cut(arg, " ")
		arg = rest
	}
	return arg
}

// parent returns dir's parent directory ("/" for "/" and top-level ones).
func parent(dir string) string {
	i := strings.LastIndexByte(dir, '/')
	if i <= 0 {
		return "/"
	}
	return dir[:i]
}

// handle answers one command; false when the session is over.
func (ss *session) handle(verb, arg string) bool {
	x := &Exchange{Session: ss.id, Seq: ss.seq, Verb: verb, Arg: arg, Dir: ss.commandDir(verb, arg)}
	x.N, x.DirN = ss.srv.count(verb, x.Dir)
	listing := ss.answer(x)
	if !ss.exchange(x) {
		return false
	}
	if listing == nil || !strings.HasPrefix(x.Reply, "1") {
		return true
	}
	return ss.transfer(verb, x.Dir, listing)
}

// commandDir returns the directory a CWD, CDUP, LIST, MLSD or STAT names,
// resolved to an absolute path; "" for other commands (and a bare STAT).
func (ss *session) commandDir(verb, arg string) string {
	switch verb {
	case "CWD", "XCWD", "MLSD":
		return ss.resolve(arg)
	case "CDUP", "XCUP":
		return parent(ss.cwd)
	case "LIST":
		return ss.resolve(listArg(arg))
	case "STAT":
		if arg != "" {
			return ss.resolve(listArg(arg))
		}
	}
	return ""
}

// answer sets x's reply to the command x holds (see commands.go). For a
// LIST or MLSD answered 150 it also returns the lines to send over the
// data connection, never nil then; nil otherwise.
func (ss *session) answer(x *Exchange) (listing []string) {
	switch x.Verb {
	case "USER":
		ss.cmdUser(x)
	case "PASS":
		ss.cmdPass(x)
	case "FEAT":
		ss.cmdFeat(x)
	case "TYPE":
		ss.cmdType(x)
	case "PWD", "XPWD":
		ss.cmdPwd(x)
	case "CWD", "XCWD", "CDUP", "XCUP":
		ss.cmdCwd(x)
	case "EPSV":
		ss.cmdEpsv(x)
	case "PASV":
		ss.cmdPasv(x)
	case "LIST", "MLSD":
		return ss.cmdList(x)
	case "STAT":
		ss.cmdStat(x)
	case "REST":
		ss.cmdRest(x)
	case "QUIT":
		ss.cmdQuit(x)
	default:
		x.Reply = fixedReply(x.Verb)
	}
	return nil
}
