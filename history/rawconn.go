package history

import (
	"context"
	"database/sql/driver"
	"fmt"
)

// Statements on the driver's connection, for Save.

// rawConn runs statements on the driver's connection directly: Save
// inserts up to millions of rows, and database/sql's per-call argument
// conversion and locking would cost more than SQLite's own work.
type rawConn struct {
	ex driver.ExecerContext
	pc driver.ConnPrepareContext
}

func newRawConn(dc any) (*rawConn, error) {
	ex, ok1 := dc.(driver.ExecerContext)
	pc, ok2 := dc.(driver.ConnPrepareContext)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("unexpected SQLite driver connection %T", dc)
	}
	return &rawConn{ex: ex, pc: pc}, nil
}

// exec runs q; args must be driver values (int64, string, []byte, bool,
// nil).
func (c *rawConn) exec(ctx context.Context, q string, args ...any) (driver.Result, error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return c.ex.ExecContext(ctx, q, nv)
}

func (c *rawConn) insert(ctx context.Context, q string, args ...any) (int64, error) {
	r, err := c.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
}

// rawStmt is a statement prepared on a rawConn.
type rawStmt struct {
	st driver.Stmt
	ex driver.StmtExecContext
}

func (c *rawConn) prepare(ctx context.Context, q string) (*rawStmt, error) {
	st, err := c.pc.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("unexpected SQLite statement %T", st)
	}
	return &rawStmt{st: st, ex: ex}, nil
}

// exec runs the statement; args as for rawConn.exec.
func (st *rawStmt) exec(ctx context.Context, args ...any) error {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	_, err := st.ex.ExecContext(ctx, nv)
	return err
}

func (st *rawStmt) close() { _ = st.st.Close() }
