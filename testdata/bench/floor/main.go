// Command floor is the protocol floor of a walk: a minimal FTP client that
// does only the protocol work ftpaudit's walk does on a server, over the
// same number of connections, and nothing else. It logs in anonymously on
// N control connections, then lists the tree from the start directory
// with the same commands ftpaudit uses there:
//
//	-mode stat  "STAT -a DIR" per directory, over the control connection
//	            (ftpaudit on vsftpd, which refuses LIST -R);
//	-mode tree  the start directory with "STAT -a", then "LIST -aR DIR" over
//	            a passive data connection per subtree, from the depth
//	            ftpaudit picks (1 when the start directory has at least N
//	            subdirectories, else 2; the directories above it with
//	            "STAT -a") (ftpaudit on proftpd);
//	-mode list  "LIST -a DIR" over a passive data connection per directory
//	            (ftpaudit with --no-stat --no-recursive-list).
//
// With -rest, each STAT is pipelined with "REST <nonce>" and its reply
// read, as ftpaudit sends it (its guard against names that fake the end
// of a STAT reply). With -batch K (-mode stat), a connection takes up to
// K queued directories at once, when the queue holds K for every
// connection, and sends the STATs of those whose path is plain in one
// write (with -rest: one REST after them), as ftpaudit's walker does on
// sessions that list by STAT (its Prefetch); the others are listed one by
// one. With -cwd, a directory whose path is not plain
// (anything but ASCII letters, digits and "._+,=@%-", as ftpaudit's
// ftppath.Plain) is listed as ftpaudit lists it: "CWD PATH", "PWD" and
// "STAT -a ." pipelined (with -mode list: "CWD PATH", "PWD", then
// "LIST -a" over a data connection), and in -mode tree it is never
// listed recursively (nor, then, is anything below it). -rest -cwd
// together are ftpaudit's own protocol on vsftpd, less its checks (the
// first directory listed both ways, STAT listings larger than any proven
// one listed again, the recursive form tried until refused); -cwd in
// -mode tree is ftpaudit's on proftpd, less its second session per
// connection (an MLSD listing beside each directory listed on its own).
//
// It parses nothing it does not need: of a per-directory listing it reads
// the lines, and of those that start with 'd' it skips eight fields to the
// name, to queue the subdirectory; a recursive listing is read and counted,
// not parsed. Directories are taken last in, first out from one queue, as
// ftpaudit's walker does. It prints the entries seen (lines that are not
// ".", "..", "total", a section header or empty), the directories listed,
// the bytes read and the wall time to stderr, so that a run can be checked
// against the tree and against ftpaudit's count.
//
// It lives under testdata so that `go build ./...` and `go vet ./...` leave
// it alone; build it by path:
//
//	go build -o /tmp/floor ./testdata/bench/floor
//	/tmp/floor -addr 127.0.0.1:2131 -conns 8 -mode stat
//
// See testdata/bench/floorbench.sh and docs/benchmarks.md.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:2131", "server address")
	conns := flag.Int("conns", 8, "control connections")
	mode := flag.String("mode", "stat", "stat, tree or list (see the package doc)")
	start := flag.String("start", "/", "start directory")
	rest := flag.Bool("rest", false, "pipeline REST <nonce> after each STAT, as ftpaudit does")
	each := flag.Bool("each", false, "with -batch and -rest: a REST <nonce> after every STAT of a batch, not one after the batch")
	batch := flag.Int("batch", 1, "with -mode stat: pipeline the STATs of up to this many queued directories in one write")
	cwd := flag.Bool("cwd", false, "list a directory whose path is not plain with CWD, PWD and STAT -a . (LIST -a with -mode list), as ftpaudit does")
	flag.Parse()
	switch *mode {
	case "stat", "tree", "list":
	default:
		fmt.Fprintf(os.Stderr, "floor: -mode %q: want stat, tree or list\n", *mode)
		os.Exit(2)
	}
	w := &walk{addr: *addr, mode: *mode, rest: *rest, cwd: *cwd, conns: *conns, batch: max(*batch, 1), each: *each}
	t0 := time.Now()
	if err := w.run(*start); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "floor: mode %s, %d connections: %d entries, %d listings, %d bytes in %.3fs\n",
		*mode, *conns, w.entries.Load(), w.listings.Load(), w.bytes.Load(), time.Since(t0).Seconds())
}

// job is a directory to list; tree: with its whole subtree.
type job struct {
	path  string
	depth int
	tree  bool
}

type walk struct {
	addr  string
	mode  string
	rest  bool
	cwd   bool
	conns int
	batch int
	each  bool

	mu        sync.Mutex
	cond      *sync.Cond
	queue     []job
	pending   int
	treeDepth int // mode tree: the depth of the recursive listings, once the start is listed
	err       error

	entries, listings, bytes atomic.Int64
}

func (w *walk) run(start string) error {
	w.cond = sync.NewCond(&w.mu)
	w.queue = []job{{path: start}}
	w.pending = 1
	w.treeDepth = -1
	var wg sync.WaitGroup
	for range w.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.worker(); err != nil {
				w.mu.Lock()
				if w.err == nil {
					w.err = err
				}
				w.cond.Broadcast()
				w.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return w.err
}

func (w *walk) next() (job, bool) {
	js := w.nextN(1)
	if len(js) == 0 {
		return job{}, false
	}
	return js[0], true
}

// nextN blocks until a job is available and takes up to k.
func (w *walk) nextN(k int) []job {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) == 0 && w.pending > 0 && w.err == nil {
		w.cond.Wait()
	}
	if len(w.queue) == 0 || w.err != nil {
		return nil
	}
	k = max(min(k, len(w.queue)/w.conns), 1) // as ftpaudit's walker takes them
	js := make([]job, k)
	for i := range js {
		js[i] = w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
	}
	return js
}

// done files a listed directory's subdirectories (names) and the job.
func (w *walk) done(j job, names []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mode == "tree" && j.depth == 0 {
		w.treeDepth = 2
		if len(names) >= w.conns {
			w.treeDepth = 1
		}
	}
	for _, n := range names {
		c := job{path: join(j.path, n), depth: j.depth + 1}
		c.tree = w.mode == "tree" && c.depth >= w.treeDepth && (!w.cwd || plain(c.path))
		w.queue = append(w.queue, c)
		w.pending++
	}
	w.pending--
	w.cond.Broadcast()
}

func join(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// conn is one control connection.
type conn struct {
	c  net.Conn
	r  *bufio.Reader
	bw *bufio.Writer
}

func (w *walk) worker() error {
	c, err := dial(w.addr)
	if err != nil {
		return err
	}
	defer c.c.Close()
	if w.batch > 1 && w.mode == "stat" {
		return w.batchWorker(c)
	}
	for {
		j, ok := w.next()
		if !ok {
			_, _ = c.bw.WriteString("QUIT\r\n")
			_ = c.bw.Flush()
			return nil
		}
		var names []string
		switch {
		case j.tree:
			err = w.listTree(c, j.path)
		case w.mode == "list":
			names, err = w.listData(c, j.path)
		case w.cwd && !plain(j.path):
			names, err = w.listCWD(c, j.path)
		default:
			names, err = w.stat(c, j.path, false)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", j.path, err)
		}
		w.listings.Add(1)
		w.done(j, names)
	}
}

func dial(addr string) (*conn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &conn{c: nc, r: bufio.NewReaderSize(nc, 64<<10), bw: bufio.NewWriter(nc)}
	if _, err := c.reply(); err != nil {
		nc.Close()
		return nil, err
	}
	for _, cmd := range []string{"USER anonymous", "PASS floor@", "TYPE A"} {
		code, err := c.cmd(cmd)
		if err != nil {
			nc.Close()
			return nil, err
		}
		if code >= 400 {
			nc.Close()
			return nil, fmt.Errorf("%s: %d", cmd, code)
		}
	}
	return c, nil
}

func (c *conn) cmd(s string) (int, error) {
	if _, err := c.bw.WriteString(s + "\r\n"); err != nil {
		return 0, err
	}
	if err := c.bw.Flush(); err != nil {
		return 0, err
	}
	return c.reply()
}

// reply reads one reply, multi-line or not, and returns its code.
func (c *conn) reply() (int, error) {
	code := 0
	var end []byte
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if end == nil {
			if len(line) < 4 {
				return 0, fmt.Errorf("bad reply %q", line)
			}
			code, err = strconv.Atoi(string(line[:3]))
			if err != nil {
				return 0, fmt.Errorf("bad reply %q", line)
			}
			if line[3] != '-' {
				return code, nil
			}
			end = append(line[:3:3], ' ')
			continue
		}
		if bytes.HasPrefix(line, end) {
			return code, nil
		}
	}
}

// batchWorker lists up to w.batch directories at a time, their STATs
// (and REST sentinels) sent in one write and the replies read in order.
func (w *walk) batchWorker(c *conn) error {
	for {
		js := w.nextN(w.batch)
		if len(js) == 0 {
			_, _ = c.bw.WriteString("QUIT\r\n")
			_ = c.bw.Flush()
			return nil
		}
		var batch []job
		for _, j := range js {
			if w.cwd && !plain(j.path) {
				names, err := w.listCWD(c, j.path)
				if err != nil {
					return fmt.Errorf("%s: %w", j.path, err)
				}
				w.listings.Add(1)
				w.done(j, names)
				continue
			}
			batch = append(batch, j)
		}
		if len(batch) == 0 {
			continue
		}
		js = batch
		for _, j := range js {
			cmd := "STAT -a " + j.path + "\r\n"
			if w.rest && w.each {
				cmd += "REST 123456789012345\r\n"
			}
			if _, err := c.bw.WriteString(cmd); err != nil {
				return err
			}
		}
		if w.rest && !w.each {
			// One sentinel after the batch, as ftpaudit sends it.
			if _, err := c.bw.WriteString("REST 123456789012345\r\n"); err != nil {
				return err
			}
		}
		if err := c.bw.Flush(); err != nil {
			return err
		}
		for i, j := range js {
			names, err := w.statReply(c, w.rest && (w.each || i == len(js)-1))
			if err != nil {
				return fmt.Errorf("%s: %w", j.path, err)
			}
			w.listings.Add(1)
			w.done(j, names)
		}
	}
}

// stat lists dir with STAT -a over the control connection and returns its
// subdirectories. With enter, dir is entered with CWD and PWD pipelined
// before "STAT -a .".
func (w *walk) stat(c *conn, dir string, enter bool) ([]string, error) {
	cmd := "STAT -a " + dir + "\r\n"
	if enter {
		cmd = "CWD " + dir + "\r\nPWD\r\nSTAT -a .\r\n"
	}
	if w.rest {
		cmd += "REST 123456789012345\r\n"
	}
	if _, err := c.bw.WriteString(cmd); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	if enter {
		if code, err := c.reply(); err != nil || code != 250 {
			return nil, fmt.Errorf("CWD: %d %v", code, err)
		}
		if code, err := c.reply(); err != nil || code != 257 {
			return nil, fmt.Errorf("PWD: %d %v", code, err)
		}
	}
	return w.statReply(c, w.rest)
}

// statReply reads a STAT reply (and the sentinel's, with rest) and
// returns the directory's subdirectories.
func (w *walk) statReply(c *conn, rest bool) ([]string, error) {
	first, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	n := int64(len(first))
	if len(first) < 4 || first[3] != '-' {
		return nil, fmt.Errorf("STAT -a answered %q", first)
	}
	end := append([]byte(nil), first[:3]...)
	end = append(end, ' ')
	var names []string
	var ents int64
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		n += int64(len(line))
		if bytes.HasPrefix(line, end) {
			break
		}
		if len(line) > 0 && line[0] == ' ' {
			line = line[1:] // proftpd indents
		}
		line = bytes.TrimRight(line, "\r\n")
		name, dir, ok := entry(line)
		if !ok {
			continue
		}
		ents++
		if dir {
			names = append(names, name)
		}
	}
	if rest {
		if _, err := c.reply(); err != nil {
			return nil, err
		}
	}
	w.entries.Add(ents)
	w.bytes.Add(n)
	return names, nil
}

// entry finds an ls -l line's name, skipping eight fields, and says
// whether it is a directory; ok is false for what is not an entry (".",
// "..", "total N", an empty line).
func entry(line []byte) (name string, dir, ok bool) {
	if len(line) == 0 || bytes.HasPrefix(line, []byte("total ")) {
		return "", false, false
	}
	rest := line
	for range 8 {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return "", false, false
		}
		rest = rest[i:]
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
	}
	if string(rest) == "." || string(rest) == ".." {
		return "", false, false
	}
	if line[0] == 'd' {
		return string(rest), true, true
	}
	return "", false, true
}

// data opens a passive data connection (EPSV, else PASV).
func (c *conn) data() (net.Conn, error) {
	if _, err := c.bw.WriteString("EPSV\r\n"); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(c.c.RemoteAddr().String())
	var port int
	switch {
	case strings.HasPrefix(line, "229 "):
		i := strings.Index(line, "(|||")
		j := strings.LastIndex(line, "|)")
		if i < 0 || j < i+4 {
			return nil, fmt.Errorf("EPSV answered %q", line)
		}
		port, err = strconv.Atoi(line[i+4 : j])
		if err != nil {
			return nil, fmt.Errorf("EPSV answered %q", line)
		}
	default:
		if _, err := c.bw.WriteString("PASV\r\n"); err != nil {
			return nil, err
		}
		if err := c.bw.Flush(); err != nil {
			return nil, err
		}
		line, err = c.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		i, j := strings.IndexByte(line, '('), strings.IndexByte(line, ')')
		if !strings.HasPrefix(line, "227 ") || i < 0 || j < i {
			return nil, fmt.Errorf("PASV answered %q", line)
		}
		f := strings.Split(line[i+1:j], ",")
		if len(f) != 6 {
			return nil, fmt.Errorf("PASV answered %q", line)
		}
		hi, _ := strconv.Atoi(f[4])
		lo, _ := strconv.Atoi(f[5])
		port = hi<<8 | lo
	}
	return net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// transfer sends cmd over a fresh data connection and hands the data to
// read, then reads the final reply.
func (c *conn) transfer(cmd string, read func(io.Reader) error) error {
	dc, err := c.data()
	if err != nil {
		return err
	}
	defer dc.Close()
	code, err := c.cmd(cmd)
	if err != nil {
		return err
	}
	if code != 150 && code != 125 {
		return fmt.Errorf("%s: %d", cmd, code)
	}
	if err := read(dc); err != nil {
		return err
	}
	dc.Close()
	code, err = c.reply()
	if err != nil {
		return err
	}
	if code != 226 && code != 250 {
		return fmt.Errorf("%s: final reply %d", cmd, code)
	}
	return nil
}

// plain is ftpaudit's ftppath.Plain: a path that can go on a command line.
func plain(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("._+,=@%-", c) >= 0:
		case c == '/':
			if i+1 < len(p) && p[i+1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// listCWD lists dir as ftpaudit lists a path that is not plain: CWD, PWD,
// then STAT -a . pipelined (-mode list: LIST -a over a data connection).
func (w *walk) listCWD(c *conn, dir string) ([]string, error) {
	if w.mode != "list" {
		return w.stat(c, dir, true)
	}
	if code, err := c.cmd("CWD " + dir); err != nil || code != 250 {
		return nil, fmt.Errorf("CWD: %d %v", code, err)
	}
	if code, err := c.cmd("PWD"); err != nil || code != 257 {
		return nil, fmt.Errorf("PWD: %d %v", code, err)
	}
	return w.listData(c, "")
}

// listData lists dir with LIST -a over a data connection and returns its
// subdirectories.
func (w *walk) listData(c *conn, dir string) ([]string, error) {
	var names []string
	err := c.transfer(strings.TrimSpace("LIST -a "+dir), func(r io.Reader) error {
		br := bufio.NewReaderSize(r, 64<<10)
		var ents, n int64
		for {
			line, err := br.ReadSlice('\n')
			n += int64(len(line))
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			name, dir, ok := entry(bytes.TrimRight(line, "\r\n"))
			if !ok {
				continue
			}
			ents++
			if dir {
				names = append(names, name)
			}
		}
		w.entries.Add(ents)
		w.bytes.Add(n)
		return nil
	})
	return names, err
}

// listTree lists dir's subtree with LIST -aR over a data connection:
// counted, not parsed.
func (w *walk) listTree(c *conn, dir string) error {
	return c.transfer("LIST -aR "+dir, func(r io.Reader) error {
		br := bufio.NewReaderSize(r, 64<<10)
		var ents, n int64
		for {
			line, err := br.ReadSlice('\n')
			n += int64(len(line))
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			// Entries: not empty, not a "/dir:" header, not "total",
			// not "." or "..". (Counted by their ends: no fields split.)
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 || line[0] == '/' && line[len(line)-1] == ':' ||
				bytes.HasPrefix(line, []byte("total ")) ||
				bytes.HasSuffix(line, []byte(" .")) || bytes.HasSuffix(line, []byte(" ..")) {
				continue
			}
			ents++
		}
		w.entries.Add(ents)
		w.bytes.Add(n)
		return nil
	})
}
