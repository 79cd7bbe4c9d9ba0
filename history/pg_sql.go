package history

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The PostgreSQL side of pgConn (pg.go): SQLite's SQL rewritten, rows
// read through cursors, rows written with COPY.

// pgStatements are whole SQLite statements that mean something else, or
// nothing, on PostgreSQL ("": nothing is run).
var pgStatements = map[string]string{
	// prune.go: PostgreSQL's autovacuum reuses the space of deleted rows;
	// the size is not measured, so Pruned.Reclaimed is 0.
	"PRAGMA incremental_vacuum": "",
	"PRAGMA page_count":         "SELECT 0",
	"PRAGMA page_size":          "SELECT 0",
}

// pgSpellings are SQLite-only phrases and their PostgreSQL equivalents.
var pgSpellings = []struct{ sqlite, pg string }{
	// fingerprint.go reads the path as TEXT to get a string of its bytes;
	// a BYTEA is scanned into a string as it is, while casting it to TEXT
	// would give its hex form.
	{"CAST(path AS TEXT)", "path"},
	// entries.go reads name as TEXT so that SQLite tells an empty name
	// from NULL (its driver reads an empty BLOB as nil); a BYTEA keeps
	// the difference.
	{"CAST(name AS TEXT)", "name"},
	// prune.go's temporary table.
	{"(id INTEGER PRIMARY KEY)", "(id BIGINT PRIMARY KEY)"},
	{"temp.prune_ids", "pg_temp.prune_ids"},
}

// pgRewrite rewrites a statement written for SQLite for PostgreSQL:
// pgStatements, pgSpellings and INSERT OR IGNORE, then, outside quotes and comments, the
// placeholders '?' and '?N' become '$N' (a bare '?' is numbered after
// the highest number so far, as SQLite numbers it), and the column name
// user, a reserved word in PostgreSQL, is quoted.
func pgRewrite(q string) string {
	if r, ok := pgStatements[strings.TrimSpace(q)]; ok {
		return r
	}
	for _, sp := range pgSpellings {
		q = strings.ReplaceAll(q, sp.sqlite, sp.pg)
	}
	// INSERT OR IGNORE: a row that breaks a uniqueness constraint is
	// skipped, on any constraint.
	if t := strings.TrimSpace(q); len(t) > len("INSERT OR IGNORE ") && strings.EqualFold(t[:len("INSERT OR IGNORE ")], "INSERT OR IGNORE ") {
		q = "INSERT " + strings.TrimSuffix(t[len("INSERT OR IGNORE "):], ";") + " ON CONFLICT DO NOTHING"
	}
	if !strings.ContainsAny(q, "?uU") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	highest := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			b.WriteString(q[i:j])
			i = j
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				j = len(q) - i
			} else {
				j += 4
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '$' && i+1 < len(q) && (q[i+1] == '$' || isIdentStart(q[i+1])):
			// A dollar-quoted string: $tag$ ... $tag$.
			k := i + 1
			for k < len(q) && isIdentChar(q[k]) {
				k++
			}
			if k >= len(q) || q[k] != '$' {
				b.WriteByte(c)
				i++
				continue
			}
			tag := q[i : k+1]
			end := strings.Index(q[k+1:], tag)
			j := len(q)
			if end >= 0 {
				j = k + 1 + end + len(tag)
			}
			b.WriteString(q[i:j])
			i = j
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			n := highest + 1
			if j > i+1 {
				n, _ = strconv.Atoi(q[i+1 : j])
			}
			highest = max(highest, n)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && isIdentChar(q[j]) {
				j++
			}
			if w := q[i:j]; strings.EqualFold(w, "user") {
				b.WriteString(`"user"`)
			} else {
				b.WriteString(w)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// Reading through cursors.
//
// A PostgreSQL connection returns one result set at a time, in full,
// where SQLite steps several statements of one connection at once: the
// package merges the layers of a chain, each an ordered query, within
// one read transaction. So in a transaction a query declares a cursor
// and reads its rows in batches (pgRows), each read whole before the
// next statement: the connection is free between batches, and memory
// is bounded by the batch. The first batch comes in the round trip
// that declares the cursor; a cursor done with is closed in the round
// trip that declares the next. Names are reused, so that pgx's cache of
// prepared statements (by query text) serves the DECLAREs too.

// Rows per batch: the first (small, as most queries read one row), then
// the others.
// A chunks row holds up to chunkBytes of each of its two columns, so a
// query of chunks fetches fewer rows a batch (pgChunkFetch): a batch stays
// within a few MiB either way.
const (
	pgFirstFetch = 128
	pgFetch      = 2048
	pgChunkFetch = 16
)

// fetchFor is the batch size for the cursor of query pq.
func fetchFor(pq string) int {
	if strings.Contains(pq, "FROM chunks") {
		return pgChunkFetch
	}
	return pgFetch
}

// pgCursors tracks the cursors of a connection's transaction.
type pgCursors struct {
	gen     int      // changes whenever a transaction ends
	made    int      // names made on this connection
	free    []string // names not in use
	toClose []string // cursors done with, to close with the next DECLARE
}

func (p *pgCursors) take() string {
	if n := len(p.free); n > 0 {
		name := p.free[n-1]
		p.free = p.free[:n-1]
		return name
	}
	p.made++
	return fmt.Sprintf("ftpaudit_c%d", p.made)
}

// reset forgets the cursors of a transaction that ended: they are gone.
func (p *pgCursors) reset() {
	p.gen++
	p.free, p.toClose = p.free[:0], nil
	for i := p.made; i >= 1; i-- {
		p.free = append(p.free, fmt.Sprintf("ftpaudit_c%d", i))
	}
}

// openCursor declares a cursor for pq and reads its first batch, in
// one round trip with the closing of the cursors done with. The
// statements are not prepared (pgx would cache a FETCH's columns by its
// text, which names a cursor, not a query): the arguments are sent
// typed by their Go types (pgParams), and the rows come in binary,
// described with the result.
func (c *pgConn) openCursor(ctx context.Context, pq string, args []any) (driver.Rows, error) {
	vals, oids, fmts, err := pgParams(c.px().TypeMap(), args)
	if err != nil {
		return nil, err
	}
	closing := c.cur.toClose
	c.cur.toClose = nil
	name := c.cur.take()
	pipe := c.px().PgConn().StartPipeline(ctx)
	for _, n := range closing {
		pipe.SendQueryParams("CLOSE "+n, nil, nil, nil, nil)
	}
	pipe.SendQueryParams("DECLARE "+name+" NO SCROLL CURSOR FOR "+pq, vals, oids, fmts, nil)
	first := min(pgFirstFetch, fetchFor(pq))
	pipe.SendQueryParams(fmt.Sprintf("FETCH FORWARD %d FROM %s", first, name), nil, nil, nil, pgBinary)
	r := &pgRows{c: c, ctx: ctx, name: name, gen: c.cur.gen, fetch: fetchFor(pq)}
	err = func() error {
		if err := pipe.Sync(); err != nil {
			return err
		}
		for range len(closing) + 1 {
			res, err := pipe.GetResults()
			if err != nil {
				return err
			}
			if rr, ok := res.(*pgconn.ResultReader); ok {
				if _, err := rr.Close(); err != nil {
					return err
				}
			}
		}
		c.cur.free = append(c.cur.free, closing...)
		res, err := pipe.GetResults()
		if err != nil {
			return err
		}
		rr, ok := res.(*pgconn.ResultReader)
		if !ok {
			return fmt.Errorf("unexpected PostgreSQL result %T", res)
		}
		return r.fill(pgx.RowsFromResultReader(c.px().TypeMap(), rr), first)
	}()
	if cerr := pipe.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// pgBinary asks for every column in binary.
var pgBinary = []int16{pgtype.BinaryFormatCode}

// pgParams encodes arguments in binary, each typed by its Go type: int64
// as BIGINT, []byte as BYTEA (nil: NULL), anything else as pgx types it.
func pgParams(m *pgtype.Map, args []any) (vals [][]byte, oids []uint32, fmts []int16, err error) {
	for _, a := range args {
		var oid uint32
		var v []byte
		switch x := a.(type) {
		case nil:
		case int64:
			oid, v = pgtype.Int8OID, binary.BigEndian.AppendUint64(nil, uint64(x))
		case int:
			oid, v = pgtype.Int8OID, binary.BigEndian.AppendUint64(nil, uint64(int64(x)))
		case []byte:
			oid, v = pgtype.ByteaOID, x
		default:
			t, ok := m.TypeForValue(a)
			if !ok {
				return nil, nil, nil, fmt.Errorf("cannot send a %T to PostgreSQL", a)
			}
			oid = t.OID
			if v, err = m.Encode(oid, pgtype.BinaryFormatCode, a, nil); err != nil {
				return nil, nil, nil, err
			}
		}
		vals, oids, fmts = append(vals, v), append(oids, oid), append(fmts, pgtype.BinaryFormatCode)
	}
	return vals, oids, fmts, nil
}

// pgRows are the rows of a cursor.
type pgRows struct {
	c      *pgConn
	ctx    context.Context
	name   string
	gen    int // the transaction's (pgCursors.gen)
	fetch  int // rows a batch after the first
	cols   []string
	buf    [][]driver.Value
	i      int
	done   bool // the cursor has no more rows
	closed bool
}

// fill reads a batch of at most n rows.
func (r *pgRows) fill(rows pgx.Rows, n int) error {
	defer rows.Close()
	r.buf, r.i = r.buf[:0], 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		row := make([]driver.Value, len(vals))
		for i, v := range vals {
			row[i] = driverValue(v)
		}
		r.buf = append(r.buf, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if r.cols == nil {
		fds := rows.FieldDescriptions()
		r.cols = make([]string, len(fds))
		for i, fd := range fds {
			r.cols[i] = fd.Name
		}
	}
	r.done = len(r.buf) < n
	return nil
}

// driverValue converts a value pgx decoded into one database/sql takes.
func driverValue(v any) driver.Value {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

func (r *pgRows) Columns() []string { return r.cols }

func (r *pgRows) Close() error {
	if !r.closed {
		r.closed = true
		r.buf = nil
		if r.gen == r.c.cur.gen {
			r.c.cur.toClose = append(r.c.cur.toClose, r.name)
		}
	}
	return nil
}

func (r *pgRows) Next(dest []driver.Value) error {
	for r.i >= len(r.buf) {
		if r.done || r.closed {
			return io.EOF
		}
		if r.gen != r.c.cur.gen {
			return errors.New("rows read after their transaction ended")
		}
		if err := r.c.flush(r.ctx); err != nil {
			return err
		}
		rr := r.c.px().PgConn().ExecParams(r.ctx, fmt.Sprintf("FETCH FORWARD %d FROM %s", r.fetch, r.name), nil, nil, nil, pgBinary)
		if err := r.fill(pgx.RowsFromResultReader(r.c.px().TypeMap(), rr), r.fetch); err != nil {
			return err
		}
	}
	copy(dest, r.buf[r.i])
	r.buf[r.i] = nil
	r.i++
	return nil
}

// Writing with COPY.

// pgCopyRows is the most rows collected before they are sent, and
// pgCopyBytes the most bytes of their values (a chunk row is up to
// 2*chunkBytes); variables so that tests can lower them.
var (
	pgCopyRows  = 8192
	pgCopyBytes = 16 << 20
)

// pgBuffer holds rows of one table collected for COPY.
type pgBuffer struct {
	table string
	cols  []string
	rows  [][]any
	bytes int // of the rows' []byte and string values
}

// collect adds a row to the table's buffer.
func (c *pgConn) collect(ctx context.Context, table string, cols []string, row []any) error {
	var b *pgBuffer
	for _, p := range c.pending {
		if p.table == table {
			b = p
			break
		}
	}
	if b == nil {
		b = &pgBuffer{table: table, cols: cols}
		c.pending = append(c.pending, b)
	}
	b.rows = append(b.rows, row)
	for _, v := range row {
		switch v := v.(type) {
		case []byte:
			b.bytes += len(v)
		case string:
			b.bytes += len(v)
		}
	}
	if len(b.rows) >= pgCopyRows || b.bytes >= pgCopyBytes {
		return c.flush(ctx)
	}
	return nil
}

// flush sends the collected rows, table by table in the order their
// first rows came.
func (c *pgConn) flush(ctx context.Context) error {
	if len(c.pending) == 0 {
		return nil
	}
	pending := c.pending
	c.pending = nil
	for _, b := range pending {
		n, err := c.px().CopyFrom(ctx, pgx.Identifier{b.table}, b.cols, pgx.CopyFromRows(b.rows))
		if err == nil && n != int64(len(b.rows)) {
			err = fmt.Errorf("%d rows written", n)
		}
		if err != nil {
			return fmt.Errorf("write %d rows into %s: %w", len(b.rows), b.table, err)
		}
	}
	return nil
}

// pgEntryCols are the columns of an entries row as pgEntryRow gives them.
var pgEntryCols = func() []string {
	cols := []string{"host_id", "dup", "fp"}
	for _, f := range entryFields {
		cols = append(cols, f.col)
	}
	return cols
}()

// pgEntryInsertSQL inserts one row of pgEntryCols.
var pgEntryInsertSQL = func() string {
	ps := make([]string, len(pgEntryCols))
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(i+1)
	}
	return "INSERT INTO entries (" + strings.Join(pgEntryCols, ", ") + ") VALUES (" + strings.Join(ps, ", ") + ")"
}()

// pgEntryRow unpacks the arguments of insertEntrySQL (rowPacker, in
// entries.go) into the values of pgEntryCols, as SQLite's substr() and
// CAST cut them: text and blobs as copies of their bytes, integers
// parsed from their decimal form, NULL where the packer left a field
// without offset.
func pgEntryRow(args []driver.NamedValue) ([]any, error) {
	bad := errors.New("history: malformed packed entry row")
	if len(args) != parFields+2*len(entryFields)-1 {
		return nil, bad
	}
	blob, ok := args[parRow].Value.([]byte)
	pathLen, ok2 := args[parFields].Value.(int64)
	if !ok || !ok2 || len(blob) < fpDigits || pathLen < 0 || int64(len(blob)-fpDigits) < pathLen {
		return nil, bad
	}
	fp, err := strconv.ParseInt(string(blob[:fpDigits]), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: fingerprint: %v", bad, err)
	}
	row := make([]any, len(pgEntryCols))
	row[0], row[1], row[2] = args[parHost].Value, args[parDup].Value, fp
	row[3] = bytes.Clone(blob[fpDigits : fpDigits+int(pathLen)])
	for i := fName; i < len(entryFields); i++ {
		a := args[parFields+2*i-1:]
		if a[0].Value == nil {
			continue // NULL
		}
		off, ok1 := a[0].Value.(int64)
		n, ok2 := a[1].Value.(int64)
		if !ok1 || !ok2 || off < 1 || n < 0 || off-1+n > int64(len(blob)) {
			return nil, bad
		}
		b := blob[off-1 : off-1+n]
		if entryFields[i].kind == asInt {
			v, err := strconv.ParseInt(string(b), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", bad, entryFields[i].col, err)
			}
			row[3+i] = v
			continue
		}
		row[3+i] = append([]byte{}, b...) // never nil: an empty value is not NULL
	}
	return row, nil
}
