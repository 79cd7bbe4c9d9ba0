package faultftp

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// closePassive closes the session's data listener, if it has one.
func (ss *session) closePassive() {
	if ss.pasv != nil {
		ss.srv.untrack(ss.pasv)
		ss.pasv = nil
	}
}

// lines returns dir's listing lines, with "." and ".." first where the
// options ask for them.
func (ss *session) lines(dir string, mlsd bool) ([]string, bool) {
	o := ss.srv.opt
	lines, ok := o.Tree(dir, mlsd)
	if !ok || !(o.DotEntries || o.Stat) {
		return lines, ok
	}
	var dots []string
	if mlsd {
		dots = []string{"type=cdir;UNIX.mode=0755; " + dir, "type=pdir;UNIX.mode=0755; " + parent(dir)}
	} else {
		dots = []string{Entry{Name: ".", Dir: true}.ListLine(), Entry{Name: "..", Dir: true}.ListLine()}
	}
	return append(dots, lines...), true
}

// passive opens a data listener on 127.0.0.1 (closing any earlier one)
// and returns the 229 or 227 reply naming it.
func (ss *session) passive(epsv bool) string {
	ss.closePassive()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "425 Cannot open a data listener.\r\n"
	}
	if !ss.srv.track(ln) {
		return "421 Server closing.\r\n"
	}
	ss.pasv = ln
	port := ln.Addr().(*net.TCPAddr).Port
	if epsv {
		return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", port)
	}
	host := "127.0.0.1"
	if ss.srv.opt.PASVHost != "" {
		host = ss.srv.opt.PASVHost
	}
	return fmt.Sprintf("227 Entering Passive Mode (%s,%d,%d).\r\n", strings.ReplaceAll(host, ".", ","), port>>8, port&0xff)
}

// transfer sends a listing over the data connection and the final reply;
// false when the session is over.
func (ss *session) transfer(verb, dir string, lines []string) bool {
	s := ss.srv
	n := 0
	for _, l := range lines {
		n += len(l) + 2
	}
	data := make([]byte, 0, n)
	for _, l := range lines {
		data = append(data, l...)
		data = append(data, '\r', '\n')
	}
	t := &Transfer{Session: ss.id, Verb: verb, Dir: dir, N: s.countListing(verb, dir),
		Data: data, Final: "226 Transfer complete.\r\n"}
	if h := s.opt.Script.Transfer; h != nil {
		h(t)
	}
	ln := ss.pasv
	ss.pasv = nil
	if tl, ok := ln.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Now().Add(s.opt.DataTimeout))
	}
	dc, err := ln.Accept()
	s.untrack(ln)
	if err != nil {
		return ss.send("425 Cannot open data connection.\r\n", 0, false, false, false)
	}
	if !s.track(dc) {
		return false
	}
	if !s.sleep(t.Delay) {
		s.untrack(dc)
		return false
	}
	if len(t.Data) > 0 {
		_ = dc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, _ = dc.Write(t.Data)
	}
	s.drip(dc, t.Drip)
	switch t.End {
	case EndReset:
		resetConn(dc)
	case EndStall:
		_, _ = io.Copy(io.Discard, dc)
	}
	s.untrack(dc)
	return ss.send(t.Final, 0, t.Stall, t.Hangup, t.Reset)
}
