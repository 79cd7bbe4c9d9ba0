package ftpconn

// The Prober methods. They work relative to the current directory, set
// with ChangeDir, so that canary names never travel inside a path a
// server might split or expand.

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

var _ ftpaudit.Prober = (*ftpSession)(nil)

// ChangeDir enters dir (absolute, exact), and checks with PWD that the
// server is there (a 250 that leaves the session elsewhere is an error:
// canaries, downloads and checks would be about another directory).
//
// Some servers refuse CWD into a directory they would let a client write
// to by absolute path: Twisted checks that it can list a directory before
// it enters it, so a write-only drop box refuses CWD but takes
// "STOR /incoming/x" and serves "RETR /incoming/x". Where CWD is refused
// and dir is a plain path (one a server takes verbatim on a command line,
// see ftppath.Plain), the session stays where it is and the methods below
// send dir/name instead of name: the probe still tests what anonymous
// users can do there.
func (s *ftpSession) ChangeDir(ctx context.Context, dir string) (string, error) {
	reply, err := s.simple(ctx, "cwd "+dir, func() error { return s.enter(dir) })
	s.vdir = ""
	var re *ftpaudit.ReplyError
	if err != nil && errors.As(err, &re) && re.Code >= 500 && !errors.Is(err, ftpaudit.ErrConnLost) && dir != "/" && ftppath.Plain(dir) {
		s.vdir = dir
		return "CWD refused (" + re.Error() + "): names are sent as absolute paths in " + dir, nil
	}
	return reply, err
}

// arg is name as sent: relative to the current directory, or absolute
// where ChangeDir was refused (see ChangeDir).
func (s *ftpSession) arg(name string) string {
	if s.vdir != "" && ftppath.Plain(name) {
		return ftppath.Join(s.vdir, name)
	}
	return name
}

// Store uploads an empty file named name into the current directory.
func (s *ftpSession) Store(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "stor "+name, func() error { return s.conn.Stor(s.arg(name), strings.NewReader("")) })
}

// MakeDir creates a directory named name in the current directory.
func (s *ftpSession) MakeDir(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "mkd "+name, func() error { return s.conn.MakeDir(s.arg(name)) })
}

// Delete removes the file name from the current directory.
func (s *ftpSession) Delete(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "dele "+name, func() error { return s.conn.Delete(s.arg(name)) })
}

// RemoveDir removes the directory name from the current directory.
func (s *ftpSession) RemoveDir(ctx context.Context, name string) (string, error) {
	return s.simple(ctx, "rmd "+name, func() error { return s.conn.RemoveDir(s.arg(name)) })
}

// Exists reports whether name exists in the current directory, asked with
// SIZE (files) or CWD and back (directories), for directories that cannot
// be listed. A 550 means it does not; other errors are returned.
func (s *ftpSession) Exists(ctx context.Context, dir, name string, isDir bool) (bool, error) {
	var err error
	if isDir {
		// A 250 proves the directory exists only if the server went
		// there: a server that answers 250 and stays put would say
		// so for any name.
		_, err = s.simple(ctx, "cwd", func() error { return s.enter(ftppath.Join(dir, name)) })
		if err == nil {
			_, err = s.ChangeDir(ctx, dir)
			return true, err
		}
	} else {
		_, err = s.simple(ctx, "size", func() error { _, e := s.conn.FileSize(s.arg(name)); return e })
		if err == nil {
			return true, nil
		}
	}
	var re *ftpaudit.ReplyError
	if errors.As(err, &re) && !errors.Is(err, ftpaudit.ErrConnLost) && re.Code == 550 {
		return false, nil
	}
	return false, err
}

// Fetch downloads name from the current directory, at most max bytes.
func (s *ftpSession) Fetch(ctx context.Context, name string, max int64) ([]byte, error) {
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	s.mu.Lock()
	s.fetchLimit = max
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.fetchLimit = 0
		s.mu.Unlock()
	}()
	s.replies.reset()
	if err := s.clearRest(); err != nil {
		return nil, s.classify(ctx, "retr "+name, err)
	}
	r, err := s.conn.Retr(s.arg(name))
	if err != nil {
		return nil, s.classify(ctx, "retr "+name, err)
	}
	_, _ = io.Copy(io.Discard, r) // drainConn has taken the bytes
	err = r.Close()
	s.mu.Lock()
	data := s.data
	s.data = nil
	s.mu.Unlock()
	if err != nil {
		return nil, s.classify(ctx, "retr "+name, err)
	}
	if data == nil {
		return nil, nil
	}
	if data.err != nil {
		return nil, s.classify(ctx, "retr "+name, data.err)
	}
	b, scratch := data.buf.take()
	s.putScratch(scratch)
	return b, nil
}

// simple runs one control-connection command and returns the server's
// final reply text.
func (s *ftpSession) simple(ctx context.Context, op string, f func() error) (string, error) {
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	s.replies.reset()
	err := s.clearRest()
	if err == nil {
		err = f()
	}
	s.mu.Lock()
	s.data = nil
	s.mu.Unlock()
	if err != nil {
		err = s.classify(ctx, op, err)
		return err.Error(), err
	}
	return s.replies.last(), nil
}

// The pair session probes over its MLSD connection.

func (p *pairSession) ChangeDir(ctx context.Context, dir string) (string, error) {
	return p.mlsd.ChangeDir(ctx, dir)
}
func (p *pairSession) Store(ctx context.Context, name string) (string, error) {
	return p.mlsd.Store(ctx, name)
}
func (p *pairSession) MakeDir(ctx context.Context, name string) (string, error) {
	return p.mlsd.MakeDir(ctx, name)
}
func (p *pairSession) Delete(ctx context.Context, name string) (string, error) {
	return p.mlsd.Delete(ctx, name)
}
func (p *pairSession) RemoveDir(ctx context.Context, name string) (string, error) {
	return p.mlsd.RemoveDir(ctx, name)
}
func (p *pairSession) Exists(ctx context.Context, dir, name string, isDir bool) (bool, error) {
	return p.mlsd.Exists(ctx, dir, name, isDir)
}
func (p *pairSession) Fetch(ctx context.Context, name string, max int64) ([]byte, error) {
	return p.mlsd.Fetch(ctx, name, max)
}
