package history

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	future := len(migrations) + 5
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", future)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open = %v, want ErrNewerSchema", err)
	}
	msg := err.Error()
	for _, want := range []string{path, "version " + strconv.Itoa(future), "up to " + strconv.Itoa(len(migrations))} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
}

// openAtOnce opens n stores of db at once, failing the test if one fails.
func openAtOnce(ctx context.Context, t *testing.T, db string, n int) []*Store {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*Store, n)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, db)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	return stores
}

// Opening twice, and by two stores at once, applies migrations once.
func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	stores := openAtOnce(ctx, t, path, 4)
	for _, s := range stores {
		if v := count(t, s, "PRAGMA user_version"); v != len(migrations) {
			t.Errorf("user_version %d, want %d", v, len(migrations))
		}
		if id := count(t, s, "PRAGMA application_id"); id != appID {
			t.Errorf("application_id %#x, want %#x", id, appID)
		}
		if m := count(t, s, "SELECT count(*) FROM sqlite_schema WHERE name IN ('entries', 'chunks')"); m != 2 {
			t.Errorf("%d entries and chunks tables", m)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
	if v := count(t, s, "PRAGMA auto_vacuum"); v != 2 {
		t.Errorf("auto_vacuum %d, want 2 (incremental)", v)
	}
	if v := count(t, s, "PRAGMA foreign_keys"); v != 1 {
		t.Errorf("foreign_keys %d, want 1", v)
	}
	if v := count(t, s, "PRAGMA busy_timeout"); v < 10000 {
		t.Errorf("busy_timeout %d ms, want at least 10 s", v)
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "h?#%20 db") // characters a file: URI must escape
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(context.Background(), sampleResult(t), ""); err != nil {
		t.Fatal(err)
	}
	// SQLite gives its WAL and shared-memory files the database's mode.
	for _, suffix := range []string{"-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path+suffix, got)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "h?#%20 db") {
			t.Errorf("unexpected file %q: the path was not passed exactly", e.Name())
		}
	}
}

func TestNotHistory(t *testing.T) {
	dir := t.TempDir()
	random := make([]byte, 8192)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"random":   random,
		"text":     []byte("# my notes\nnot a database at all\n"),
		"short":    []byte(sqliteMagic),
		"magic":    append([]byte(sqliteMagic), random[:4000]...),
		"truncate": nil, // a real history database cut short, below
	}
	// Another application's databases: one marked with its id, one not.
	for name, setup := range map[string]string{
		"other-app":   "PRAGMA application_id = 1234; CREATE TABLE t (x)",
		"other-plain": "CREATE TABLE t (x)",
	} {
		p := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(setup); err != nil {
			t.Fatal(err)
		}
		db.Close()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	{
		p := filepath.Join(dir, "full")
		s, err := Open(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Save(context.Background(), sampleResult(t), ""); err != nil {
			t.Fatal(err)
		}
		s.Close()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Page 1 intact, the schema's pages gone.
		files["truncate"] = b[:4096+100]
		bad := slices.Clone(b)
		for i := 4096; i < len(bad); i++ {
			bad[i] ^= 0x5a
		}
		files["scrambled"] = bad
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".db")
			if err := os.WriteFile(p, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), p)
			if err == nil {
				// A damaged database may open; it must then fail cleanly.
				defer s.Close()
				_, err = s.Scans(context.Background())
				if err == nil {
					t.Fatalf("%s: opened and listed without error", name)
				}
				t.Log(err)
				if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "damaged") {
					t.Errorf("error %q does not name the file as damaged", err)
				}
				return
			}
			t.Log(err)
			if !errors.Is(err, errNotHistory) || !strings.Contains(err.Error(), p) ||
				!strings.Contains(err.Error(), "is not an ftpaudit history database") {
				t.Errorf("Open = %v; want a not-a-history-database error naming the file", err)
			}
			after, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if name != "truncate" && name != "scrambled" && !bytes.Equal(after, content) {
				t.Errorf("Open changed a file that is not ours")
			}
		})
	}
}

func TestUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	p := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), p) || !errors.Is(err, os.ErrPermission) {
		t.Errorf("Open(unreadable) = %v; want a permission error naming the file", err)
	}
}

func TestOpenDirectoryAndEmptyPath(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(directory) = %v; want an error naming it", err)
	}
	if _, err := Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	for _, c := range []struct{ xdg, want string }{
		{"/state", "/state/ftpaudit/history.db"},
		{"", "/home/u/.local/state/ftpaudit/history.db"},
		{"relative/state", "/home/u/.local/state/ftpaudit/history.db"},
	} {
		t.Setenv("XDG_STATE_HOME", c.xdg)
		got, err := DefaultPath()
		if err != nil || got != c.want {
			t.Errorf("XDG_STATE_HOME=%q: DefaultPath() = %q, %v; want %q", c.xdg, got, err, c.want)
		}
	}
}
