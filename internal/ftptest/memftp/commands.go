package memftp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	server "goftp.io/server/v2"
)

// command adapts a function to goftp's Command interface. FEAT is built by
// our own command, so IsExtend is never consulted.
type command struct {
	noAuth    bool // may be used before login
	needParam bool // goftp answers 553 when the parameter is empty
	run       func(c *ctrlConn, sess *server.Session, param string)
}

func (command) IsExtend() bool       { return false }
func (x command) RequireParam() bool { return x.needParam }
func (x command) RequireAuth() bool  { return !x.noAuth }
func (x command) Execute(sess *server.Session, param string) {
	a, ok := sess.RemoteAddr().(sessAddr)
	if !ok {
		sess.WriteMessage(421, "Service not available.")
		return
	}
	x.run(a.c, sess, param)
}

// wrapped is one of goftp's own commands with a different parameter rule
// and an optional hook that may answer instead of it.
type wrapped struct {
	server.Command
	needParam bool
	pre       func(sess *server.Session, param string) bool // true: handled
}

func (w wrapped) RequireParam() bool { return w.needParam }

func (w wrapped) Execute(sess *server.Session, param string) {
	if w.pre != nil && w.pre(sess, param) {
		return
	}
	w.Command.Execute(sess, param)
}

// commands is the full command table given to goftp. goftp's own commands
// are kept only where they touch none of its path handling, data
// connections or stdout logging.
func (s *Server) commands() map[string]server.Command {
	def := server.DefaultCommands()
	m := map[string]server.Command{}
	for _, k := range []string{"ALLO", "AUTH", "CLNT", "MODE", "NOOP", "PBSZ", "PROT", "QUIT", "STRU", "SYST", "TYPE"} {
		m[k] = def[k]
	}
	m["USER"] = wrapped{Command: def["USER"], needParam: true, pre: func(sess *server.Session, param string) bool {
		if _, named := s.opt.Users[param]; isAnonymous(param) || named {
			return false
		}
		sess.WriteMessage(530, "This FTP server is anonymous only.")
		return true
	}}
	// goftp's PASS requires a parameter; anonymous may send an empty one.
	m["PASS"] = wrapped{Command: def["PASS"]}
	m["OPTS"] = wrapped{Command: def["OPTS"], pre: func(sess *server.Session, param string) bool {
		f := strings.Fields(strings.ToUpper(param))
		if s.opt.MLSD && len(f) > 0 && f[0] == "MLST" {
			sess.WriteMessage(200, "MLST OPTS "+strings.ReplaceAll(mlsxFacts, "*", ""))
			return true
		}
		return false
	}}

	m["FEAT"] = command{noAuth: true, run: s.cmdFeat}
	m["ABOR"] = command{run: func(_ *ctrlConn, sess *server.Session, _ string) { sess.WriteMessage(225, "No transfer to ABOR.") }}
	active := command{run: func(_ *ctrlConn, sess *server.Session, _ string) {
		sess.WriteMessage(502, "Active mode is not supported; use EPSV or PASV.")
	}}
	m["PORT"], m["EPRT"], m["LPRT"] = active, active, active
	m["PASV"] = command{run: s.cmdPasv}
	m["EPSV"] = command{run: s.cmdEpsv}
	m["REST"] = command{needParam: true, run: s.cmdRest}

	cwd := command{needParam: true, run: s.cmdCwd}
	cdup := command{run: func(c *ctrlConn, sess *server.Session, _ string) { s.cmdCwd(c, sess, "..") }}
	pwd := command{run: s.cmdPwd}
	mkd := command{needParam: true, run: s.cmdMkd}
	rmd := command{needParam: true, run: s.cmdRmd}
	m["CWD"], m["XCWD"] = cwd, cwd
	m["CDUP"], m["XCUP"] = cdup, cdup
	m["PWD"], m["XPWD"] = pwd, pwd
	m["MKD"], m["XMKD"] = mkd, mkd
	m["RMD"], m["XRMD"] = rmd, rmd
	m["DELE"] = command{needParam: true, run: s.cmdDele}
	m["RNFR"] = command{needParam: true, run: s.cmdRnfr}
	m["RNTO"] = command{needParam: true, run: s.cmdRnto}
	m["SIZE"] = command{needParam: true, run: s.cmdSize}
	m["MDTM"] = command{needParam: true, run: s.cmdMdtm}
	m["STAT"] = command{run: s.cmdStat}
	m["LIST"] = command{run: func(c *ctrlConn, sess *server.Session, p string) { s.cmdList(c, sess, p, false) }}
	m["NLST"] = command{run: func(c *ctrlConn, sess *server.Session, p string) { s.cmdList(c, sess, p, true) }}
	m["RETR"] = command{needParam: true, run: s.cmdRetr}
	m["STOR"] = command{needParam: true, run: func(c *ctrlConn, sess *server.Session, p string) { s.cmdStore(c, sess, p, false) }}
	m["APPE"] = command{needParam: true, run: func(c *ctrlConn, sess *server.Session, p string) { s.cmdStore(c, sess, p, true) }}
	if s.opt.MLSD {
		m["MLSD"] = command{run: s.cmdMlsd}
		m["MLST"] = command{run: s.cmdMlst}
	}
	return m
}

// replyText makes s safe inside a reply line: CR and LF (possible in names)
// are sent as CR NUL and NUL, after RFC 959's rule for pathnames.
var replyText = strings.NewReplacer("\r", "\r\x00", "\n", "\x00").Replace

func reply(sess *server.Session, code int, msg string) {
	sess.WriteMessage(code, replyText(msg))
}

func replyErr(sess *server.Session, code int, err error) {
	reply(sess, code, err.Error())
}

// replyLines sends a multi-line reply: "code-first", each line indented by
// one space, "code last". goftp has no exported way to do this, so it is
// written to the connection directly (goftp flushes after every reply, so
// nothing of its own is pending).
func (c *ctrlConn) replyLines(code int, first string, lines []string, last string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%d-%s\r\n", code, replyText(first))
	for _, l := range lines {
		b.WriteString(" ")
		b.WriteString(replyText(l))
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "%d %s\r\n", code, replyText(last))
	c.srv.log.logf("memftp: < %q", b.String())
	_, _ = io.WriteString(c.Conn, b.String())
}

// abs makes p absolute against the session's directory, byte-exact.
func (c *ctrlConn) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return joinPath(c.cwd, p)
}

func (s *Server) cmdFeat(c *ctrlConn, _ *server.Session, _ string) {
	feats := []string{"EPSV", "PASV", "MDTM", "SIZE", "REST STREAM", "UTF8"}
	if s.opt.MLSD {
		feats = append(feats, "MLST "+mlsxFacts)
	}
	c.replyLines(211, "Features:", feats, "End")
}

func (s *Server) cmdPasv(c *ctrlConn, sess *server.Session, _ string) {
	port, err := c.listenPassive()
	if err != nil {
		reply(sess, 425, "Can't open passive connection.")
		return
	}
	reply(sess, 227, fmt.Sprintf("Entering Passive Mode (127,0,0,1,%d,%d).", port>>8, port&0xff))
}

func (s *Server) cmdEpsv(c *ctrlConn, sess *server.Session, param string) {
	switch strings.ToUpper(strings.TrimSpace(param)) {
	case "", "1":
	case "ALL":
		reply(sess, 200, "EPSV ALL ok.")
		return
	default:
		reply(sess, 522, "Network protocol not supported, use (1)")
		return
	}
	port, err := c.listenPassive()
	if err != nil {
		reply(sess, 425, "Can't open passive connection.")
		return
	}
	reply(sess, 229, fmt.Sprintf("Entering Extended Passive Mode (|||%d|)", port))
}

func (s *Server) cmdRest(c *ctrlConn, sess *server.Session, param string) {
	var n int64
	if _, err := fmt.Sscanf(param, "%d", &n); err != nil || n < 0 {
		reply(sess, 501, "Bad REST offset.")
		return
	}
	c.rest = n
	reply(sess, 350, fmt.Sprintf("Restart position accepted (%d).", n))
}

func (s *Server) cmdCwd(c *ctrlConn, sess *server.Session, param string) {
	s.fs.mu.RLock()
	l, err := s.fs.resolve(c.abs(param), true)
	if err == nil {
		switch n := l.node(); {
		case !n.Mode.IsDir():
			err = errNotDir
		case !anon(n).x:
			err = errPerm
		}
	}
	s.fs.mu.RUnlock()
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	c.cwd = l.path()
	reply(sess, 250, "Directory successfully changed.")
}

func quotePath(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
}

func (s *Server) cmdPwd(c *ctrlConn, sess *server.Session, _ string) {
	reply(sess, 257, quotePath(c.cwd)+" is the current directory")
}

func (s *Server) cmdMkd(c *ctrlConn, sess *server.Session, param string) {
	fs := s.fs
	fs.mu.Lock()
	d, name, err := fs.parentFor(c.abs(param))
	if err == nil {
		switch dir := d.node(); {
		case child(dir, name) != nil:
			err = errExist
		case !canModify(dir):
			err = errPerm
		default:
			n := &Node{Name: name, Mode: os.ModeDir | 0o755, Owner: "ftp", Group: "ftp", Size: 4096, ModTime: now()}
			dir.Children = append(dir.Children, n)
			fs.assignID(n)
		}
	}
	fs.mu.Unlock()
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	reply(sess, 257, quotePath(joinPath(d.path(), name))+" created")
}

func (s *Server) cmdRmd(c *ctrlConn, sess *server.Session, param string) {
	fs := s.fs
	fs.mu.Lock()
	l, err := fs.resolve(c.abs(param), false)
	if err == nil {
		switch n := l.node(); {
		case l.parent() == nil:
			err = errPerm
		case !n.Mode.IsDir():
			err = errNotDir
		case len(n.Children) > 0:
			err = errNotEmpty
		case !canDelete(l.parent(), n):
			err = errPerm
		default:
			removeChild(l.parent(), n)
		}
	}
	fs.mu.Unlock()
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	reply(sess, 250, "Remove directory operation successful.")
}

func (s *Server) cmdDele(c *ctrlConn, sess *server.Session, param string) {
	fs := s.fs
	fs.mu.Lock()
	l, err := fs.resolve(c.abs(param), false)
	if err == nil {
		switch n := l.node(); {
		case n.Mode.IsDir():
			err = errIsDir
		case !canDelete(l.parent(), n):
			err = errPerm
		default:
			removeChild(l.parent(), n)
		}
	}
	fs.mu.Unlock()
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	reply(sess, 250, "Delete operation successful.")
}

func (s *Server) cmdRnfr(c *ctrlConn, sess *server.Session, param string) {
	c.renameFrom = ""
	p := c.abs(param)
	s.fs.mu.RLock()
	_, err := s.fs.resolve(p, false)
	s.fs.mu.RUnlock()
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	c.renameFrom = p
	reply(sess, 350, "Ready for RNTO.")
}

func (s *Server) cmdRnto(c *ctrlConn, sess *server.Session, param string) {
	from := c.renameFrom
	c.renameFrom = ""
	if from == "" {
		reply(sess, 503, "RNFR required first.")
		return
	}
	fs := s.fs
	fs.mu.Lock()
	src, err := fs.resolve(from, false)
	var d loc
	var name string
	if err == nil {
		d, name, err = fs.parentFor(c.abs(param))
	}
	if err == nil {
		n, sp, dir := src.node(), src.parent(), d.node()
		switch {
		case sp == nil || !canDelete(sp, n) || !canModify(dir):
			err = errPerm
		case child(dir, name) != nil:
			err = errExist
		case d.contains(n):
			err = errBadName
		default:
			removeChild(sp, n)
			n.Name = name
			dir.Children = append(dir.Children, n)
		}
	}
	fs.mu.Unlock()
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	reply(sess, 250, "Rename successful.")
}

// statFile resolves a regular file for SIZE, MDTM and RETR.
func (s *Server) statFile(p string) (Node, error) {
	s.fs.mu.RLock()
	defer s.fs.mu.RUnlock()
	l, err := s.fs.resolve(p, true)
	if err != nil {
		return Node{}, err
	}
	n := l.node()
	switch {
	case n.Mode.IsDir():
		return Node{}, errIsDir
	case !isRegular(n):
		return Node{}, errNotFile
	}
	return *n, nil
}

func (s *Server) cmdSize(c *ctrlConn, sess *server.Session, param string) {
	n, err := s.statFile(c.abs(param))
	if err != nil {
		reply(sess, 550, "Could not get file size.")
		return
	}
	reply(sess, 213, fmt.Sprint(n.Size))
}

func (s *Server) cmdMdtm(c *ctrlConn, sess *server.Session, param string) {
	n, err := s.statFile(c.abs(param))
	if err != nil {
		reply(sess, 550, "Could not get file modification time.")
		return
	}
	reply(sess, 213, n.ModTime.UTC().Format("20060102150405"))
}

func (s *Server) cmdStat(c *ctrlConn, sess *server.Session, param string) {
	if param == "" {
		c.replyLines(211, "FTP server status:", []string{
			"Connected to 127.0.0.1",
			"Logged in as " + sess.LoginUser(),
			"TYPE: BINARY",
			"memftp (in-memory archive)",
		}, "End of status")
		return
	}
	flags, p := splitListArgs(param)
	data, err := s.listing(c.abs(p), true, strings.Contains(flags, "a") && s.opt.DotEntries, false)
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
	if len(data) == 0 {
		lines = nil
	}
	c.replyLines(213, "Status follows:", lines, "End of status")
}

// splitListArgs separates ls-style option words ("-a", "-la") from the
// path of a LIST/NLST/STAT parameter. Each option word is followed by
// exactly one space; what remains is the path, byte-exact, so "LIST -a   x"
// names the relative path "  x". (goftp's parser drops leading blanks of
// the path.) A path whose first word looks like an option must be given
// after one, or as an absolute path.
func splitListArgs(param string) (flags, path string) {
	for strings.HasPrefix(param, "-") {
		word, rest, _ := strings.Cut(param, " ")
		if !isFlagWord(word) {
			break
		}
		flags += word[1:]
		param = rest
	}
	return flags, param
}

func isFlagWord(w string) bool {
	if len(w) < 2 {
		return false
	}
	for _, r := range w[1:] {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func (s *Server) cmdList(c *ctrlConn, sess *server.Session, param string, namesOnly bool) {
	flags, p := splitListArgs(param)
	target := c.cwd
	if p != "" {
		target = c.abs(p)
	}
	// Like ls (and vsftpd, proftpd): dot files only with -a or -A; "."
	// and ".." only with -a, and only when Options.DotEntries.
	all := strings.ContainsAny(flags, "aA")
	dots := strings.Contains(flags, "a") && s.opt.DotEntries && !namesOnly
	if !c.hasPassive() {
		reply(sess, 425, errNoPassive.Error())
		return
	}
	data, err := s.listing(target, all, dots, namesOnly)
	s.sendListing(c, sess, data, err)
}

// listing renders LIST (or NLST) output for the path p.
func (s *Server) listing(p string, all, dots, namesOnly bool) ([]byte, error) {
	fs := s.fs
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	l, err := fs.resolve(p, false)
	if err != nil {
		return nil, err
	}
	n := l.node()
	if isSymlink(n) {
		if t, err := fs.resolve(p, true); err == nil && t.node().Mode.IsDir() {
			l, n = t, t.node()
		}
	}
	t := now()
	var b bytes.Buffer
	line := func(n *Node, name string) {
		if namesOnly {
			b.WriteString(name)
		} else {
			b.WriteString(lsLine(n, name, t))
		}
		b.WriteString("\r\n")
	}
	if !n.Mode.IsDir() {
		line(n, l.name())
		return b.Bytes(), nil
	}
	if !anon(n).r {
		return nil, errPerm
	}
	if dots {
		line(n, ".")
		parent := l.parent()
		if parent == nil {
			parent = n
		}
		line(parent, "..")
	}
	for _, ch := range n.Children {
		if !all && strings.HasPrefix(ch.Name, ".") {
			continue
		}
		line(ch, ch.Name)
	}
	return b.Bytes(), nil
}

func (s *Server) cmdMlsd(c *ctrlConn, sess *server.Session, param string) {
	target := c.cwd
	if param != "" {
		target = c.abs(param)
	}
	if !c.hasPassive() {
		reply(sess, 425, errNoPassive.Error())
		return
	}
	data, err := s.mlsd(target)
	s.sendListing(c, sess, data, err)
}

func (s *Server) mlsd(p string) ([]byte, error) {
	fs := s.fs
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	l, err := fs.resolve(p, true)
	if err != nil {
		return nil, err
	}
	n := l.node()
	if !n.Mode.IsDir() {
		return nil, errNotDir
	}
	if !anon(n).r {
		return nil, errPerm
	}
	var b bytes.Buffer
	line := func(s string) {
		b.WriteString(s)
		b.WriteString("\r\n")
	}
	if s.opt.DotEntries {
		line(fs.mlsxLine(n, "cdir", permFact(n, canDelete(l.parent(), n)), "."))
		if len(l.nodes) > 1 {
			pl := loc{nodes: l.nodes[:len(l.nodes)-1], names: l.names[:len(l.names)-1]}
			pn := pl.node()
			line(fs.mlsxLine(pn, "pdir", permFact(pn, canDelete(pl.parent(), pn)), ".."))
		} else {
			line(fs.mlsxLine(n, "pdir", permFact(n, false), ".."))
		}
	}
	for _, ch := range n.Children {
		line(fs.mlsxLine(ch, "", fs.entryPerm(l, ch.Name, ch), ch.Name))
	}
	return b.Bytes(), nil
}

func (s *Server) cmdMlst(c *ctrlConn, sess *server.Session, param string) {
	target := c.cwd
	if param != "" {
		target = c.abs(param)
	}
	fs := s.fs
	fs.mu.RLock()
	l, err := fs.resolve(target, false)
	var fact string
	if err == nil {
		n := l.node()
		if len(l.nodes) == 1 {
			fact = fs.mlsxLine(n, "", permFact(n, false), "/")
		} else {
			pl := loc{nodes: l.nodes[:len(l.nodes)-1], names: l.names[:len(l.names)-1]}
			fact = fs.mlsxLine(n, "", fs.entryPerm(pl, n.Name, n), l.path())
		}
	}
	fs.mu.RUnlock()
	if err != nil {
		replyErr(sess, 550, err)
		return
	}
	c.replyLines(250, "Start of list for "+target, []string{fact}, "End of list")
}

// sendListing sends a listing over the prepared passive connection.
func (s *Server) sendListing(c *ctrlConn, sess *server.Session, data []byte, err error) {
	done := "Directory send OK."
	if err != nil {
		if !errors.Is(err, errPerm) || !s.opt.EmptyOnUnreadable {
			c.dropPassive()
			replyErr(sess, 550, err)
			return
		}
		data, done = nil, "Transfer done (but failed to open directory)."
	}
	reply(sess, 150, "Here comes the directory listing.")
	conn, err := c.acceptData()
	if err != nil {
		reply(sess, 425, "Failed to establish connection.")
		return
	}
	_ = conn.SetWriteDeadline(time.Now().Add(dataTimeout))
	_, err = conn.Write(data)
	c.closeDataConn(conn)
	if err != nil {
		reply(sess, 426, "Failure writing network stream.")
		return
	}
	reply(sess, 226, done)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func (s *Server) cmdRetr(c *ctrlConn, sess *server.Session, param string) {
	offset := c.rest
	c.rest = 0
	if !c.hasPassive() {
		reply(sess, 425, errNoPassive.Error())
		return
	}
	n, err := s.statFile(c.abs(param))
	if err == nil && !anon(&n).r {
		err = errPerm
	}
	if err != nil {
		c.dropPassive()
		reply(sess, 550, "Failed to open file: "+err.Error())
		return
	}
	offset = min(offset, n.Size)
	reply(sess, 150, fmt.Sprintf("Opening BINARY mode data connection (%d bytes).", n.Size))
	conn, err := c.acceptData()
	if err != nil {
		reply(sess, 425, "Failed to establish connection.")
		return
	}
	_, err = io.CopyN(conn, zeroReader{}, n.Size-offset)
	c.closeDataConn(conn)
	if err != nil {
		reply(sess, 426, "Failure writing network stream.")
		return
	}
	reply(sess, 226, "Transfer complete.")
}

// openForWrite finds or creates the file p for STOR/APPE.
func (s *Server) openForWrite(p string) (*Node, error) {
	fs := s.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	l, err := fs.resolve(p, true)
	switch {
	case err == nil:
		n := l.node()
		switch {
		case n.Mode.IsDir():
			return nil, errIsDir
		case !isRegular(n):
			return nil, errNotFile
		case !anon(n).w:
			return nil, errPerm
		}
		return n, nil
	case !errors.Is(err, errNotExist):
		return nil, err
	}
	d, name, err := fs.parentFor(p)
	if err != nil {
		return nil, err
	}
	dir := d.node()
	switch {
	case child(dir, name) != nil: // a dangling symlink
		return nil, errExist
	case !canModify(dir):
		return nil, errPerm
	}
	n := &Node{Name: name, Mode: 0o644, Owner: "ftp", Group: "ftp", ModTime: now()}
	dir.Children = append(dir.Children, n)
	fs.assignID(n)
	return n, nil
}

func (s *Server) cmdStore(c *ctrlConn, sess *server.Session, param string, appendMode bool) {
	offset := c.rest
	c.rest = 0
	if !c.hasPassive() {
		reply(sess, 425, errNoPassive.Error())
		return
	}
	n, err := s.openForWrite(c.abs(param))
	if err != nil {
		c.dropPassive()
		reply(sess, 553, "Could not create file: "+err.Error())
		return
	}
	s.fs.mu.Lock()
	base := offset
	if appendMode {
		base = n.Size
	}
	n.Size = min(n.Size, base) // truncated at the write position
	s.fs.mu.Unlock()
	reply(sess, 150, "Ok to send data.")
	conn, err := c.acceptData()
	if err != nil {
		reply(sess, 425, "Failed to establish connection.")
		return
	}
	got, err := io.Copy(io.Discard, conn)
	c.closeDataConn(conn)
	s.fs.mu.Lock()
	n.Size = base + got
	n.ModTime = now()
	s.fs.mu.Unlock()
	if err != nil {
		reply(sess, 426, "Failure reading network stream.")
		return
	}
	reply(sess, 226, "Transfer complete.")
}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
