package history

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// stress reports whether to run the large variants of the tests that
// save many rows: set FTPAUDIT_STRESS, and do not pass -short. By
// default the tests use the least data that still exercises what they
// check (a save that spans several saveHook calls, pages spilled into
// the WAL file before the commit).
func stress() bool {
	return !testing.Short() && os.Getenv("FTPAUDIT_STRESS") != ""
}

// Helper process for the tests below: it saves a synthetic scan of
// FTPAUDIT_HISTORY_N entries into the database FTPAUDIT_HISTORY_DB and
// reports on stdout.
//
//   - kill: reports "inserting <n> wal=<bytes>" once at least half the
//     rows are written (and spilled into the WAL file), then stops there,
//     inside the save's transaction, until killed.
//   - concurrent: reports "ready", waits for a line on stdin, reports
//     "saving" and saves. With FTPAUDIT_HISTORY_HOLD set, it stops at the
//     first call of saveHook, inside the save's transaction, reports
//     "holding" and waits for another line. It reports "saved <id>".
//
// FTPAUDIT_HISTORY_CACHE_KIB sets cacheKiB (a small cache makes a small
// save spill into the WAL file), FTPAUDIT_HISTORY_HOOK_EVERY sets
// saveHookEvery, FTPAUDIT_HISTORY_COPY_ROWS pgCopyRows (PostgreSQL: a
// small value sends the rows to the server early).
//   - diffsetup: saves a scan of n entries and then its variant.
//   - killdelta: as kill, but saves the scan with a fifth of its entries
//     changed (changeEveryFifth), as a delta of the scan of n entries the
//     test saved, and stops once half the changed rows are written.
//   - killcompare: as killdelta, but stops once half the entries are
//     compared with the base, before any entry row is written.
func TestHelperSaveProcess(t *testing.T) {
	mode := os.Getenv("FTPAUDIT_HISTORY_HELPER")
	if mode == "" {
		t.Skip("helper process, run by TestKillMidSave and TestConcurrentSaveProcesses")
	}
	path := os.Getenv("FTPAUDIT_HISTORY_DB")
	n, err := strconv.Atoi(os.Getenv("FTPAUDIT_HISTORY_N"))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*int{"FTPAUDIT_HISTORY_CACHE_KIB": &cacheKiB, "FTPAUDIT_HISTORY_HOOK_EVERY": &saveHookEvery, "FTPAUDIT_HISTORY_COPY_ROWS": &pgCopyRows} {
		if e := os.Getenv(name); e != "" {
			if *v, err = strconv.Atoi(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := synthResult(n, false)
	switch mode {
	case "kill":
		saveHook = stopMidSave(path, n)
	case "killdelta": // TestKillMidDeltaSave: a fifth of the entries changed
		changeEveryFifth(r)
		deltaHook = stopMidSave(path, n/5)
	case "killcompare": // the same, killed while comparing with the base
		changeEveryFifth(r)
		saveHook = stopMidSave(path, n)
	case "diffsetup": // BenchmarkDiff1M: a scan, then its variant
		if _, err := s.Save(ctx, r, "a"); err != nil {
			t.Fatal(err)
		}
		r = nil
		runtime.GC()
		r = synthResult(n, true)
	case "concurrent":
		stdin := bufio.NewReader(os.Stdin)
		fmt.Println("ready")
		if _, err := stdin.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		if os.Getenv("FTPAUDIT_HISTORY_HOLD") != "" {
			saveHook = holdMidSave(stdin)
		}
		fmt.Println("saving")
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	id, err := s.Save(ctx, r, mode)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("saved %d\n", id)
}

// stopMidSave is the kill helper's saveHook: once half of n rows are
// written, it reports the WAL file's size and stops the save for good.
func stopMidSave(path string, n int) func(int) {
	return func(done int) {
		if done < n/2 {
			return
		}
		size := int64(-1)
		if fi, err := os.Stat(path + "-wal"); err == nil {
			size = fi.Size()
		}
		fmt.Printf("inserting %d wal=%d\n", done, size)
		time.Sleep(time.Hour) // until killed
	}
}

// holdMidSave is the holding helper's saveHook: the first time, it
// reports "holding" and waits for a line on stdin.
func holdMidSave(stdin *bufio.Reader) func(int) {
	var once sync.Once
	return func(int) {
		once.Do(func() {
			fmt.Println("holding")
			if _, err := stdin.ReadString('\n'); err != nil {
				panic(err)
			}
		})
	}
}

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines <-chan string
}

// helper starts the helper process with the environment variables env
// (name=value) added; lines of its stdout arrive on lines, which is
// closed at its end. It is killed at the end of the test if still
// running.
func helper(t *testing.T, mode, db string, n int, env ...string) *child {
	t.Helper()
	return startChild(t, "TestHelperSaveProcess", append([]string{"FTPAUDIT_HISTORY_HELPER=" + mode, "FTPAUDIT_HISTORY_DB=" + db, "FTPAUDIT_HISTORY_N=" + strconv.Itoa(n)}, env...))
}

// startChild runs this test binary's test as a child process, with env
// added to this process's environment, reading its stdout line by line.
func startChild(t *testing.T, test string, env []string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=5m")
	// The race detector's second of sleep at exit, per child, is not
	// spent: races are still reported as they happen.
	cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return &child{cmd, stdin, lines}
}

// send writes a line to the child's stdin.
func (c *child) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// waitLine returns the first line with prefix, failing after d.
func waitLine(t *testing.T, lines <-chan string, prefix string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("helper ended without saying %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("helper did not say %q within %v", prefix, d)
		}
	}
}

// savedID waits for the child's "saved <id>" and its end.
func (c *child) savedID(t *testing.T) int64 {
	t.Helper()
	l := waitLine(t, c.lines, "saved ", 5*time.Minute)
	id, err := strconv.ParseInt(strings.TrimPrefix(l, "saved "), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	return id
}

// A save killed (SIGKILL) in the middle, its uncommitted rows already in
// the WAL file, leaves the earlier scans intact and no trace of itself,
// and the next save works. The killed save is a snapshot (it adds more
// than changeLimit to the earlier scan of its host), killed while it
// writes its chunks (chunks.go): after two of them.
func TestKillMidSave(t *testing.T) { eachBackend(t, testKillMidSave) }

func testKillMidSave(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	earlier := synthResult(200, false)
	id, err := s.Save(ctx, earlier, "earlier")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// 1200 rows in a 16 KiB page cache: the save stops after 768 rows,
	// about 25 pages, most of them spilled into the WAL file.
	// On PostgreSQL, every chunk row is sent (COPY) as it is written, so
	// that the server holds the save's rows when it is killed.
	n, env := 1200, []string{"FTPAUDIT_HISTORY_CACHE_KIB=16", "FTPAUDIT_HISTORY_HOOK_EVERY=256", "FTPAUDIT_HISTORY_COPY_ROWS=1"}
	if stress() {
		n, env = 120_000, nil
	}
	c := helper(t, "kill", db, n, env...)
	l := waitLine(t, c.lines, "inserting ", 2*time.Minute)
	if onPostgres(t) {
		checkWriting(t, db, "chunks")
	}
	killed(t, c, l, !onPostgres(t))

	s, err = Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkOnlyEarlier(t, s, id, earlier)
	id2, err := s.Save(ctx, synthResult(200, true), "after")
	if err != nil {
		t.Fatal(err)
	}
	if id2 <= id {
		t.Errorf("new scan id %d, want > %d", id2, id)
	}
}

// changeEveryFifth changes the size of every fifth entry of r's host.
func changeEveryFifth(r *ftpaudit.Result) {
	es := r.Hosts[0].Entries
	for i := 1; i < len(es); i += 5 {
		es[i].Size++
	}
}

// TestKillMidDeltaSave kills a process in the middle of a change-only save
// (schema version 5 and later), while it compares the scan with its base
// by fingerprint (its scan and host rows written, uncommitted) and while
// it writes the changes: the snapshot and the delta saved before it read
// back as saved, and nothing of the killed save is left.
func TestKillMidDeltaSave(t *testing.T) { eachBackend(t, killMidDeltaSaves) }

func killMidDeltaSaves(t *testing.T) {
	for _, c := range []struct {
		mode string
		wal  bool // the killed save's rows reached the WAL file
	}{{"killcompare", false}, {"killdelta", true}} {
		t.Run(c.mode, func(t *testing.T) { testKillMidDeltaSave(t, c.mode, c.wal) })
	}
}

func testKillMidDeltaSave(t *testing.T, mode string, wal bool) {
	ctx := context.Background()
	db := newTestDB(t)
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// 6000 rows, 1200 of them changed, in a 16 KiB page cache: the save
	// stops after 3072 entries compared, or after 768 changed rows
	// written, most of them spilled into the WAL.
	n, env := 6000, []string{"FTPAUDIT_HISTORY_CACHE_KIB=16", "FTPAUDIT_HISTORY_HOOK_EVERY=256", "FTPAUDIT_HISTORY_COPY_ROWS=128"}
	if stress() {
		n, env = 300_000, nil
	}
	first, second := synthResult(n, false), synthResult(n, true)
	ids := make([]int64, 2)
	for i, r := range []*ftpaudit.Result{first, second} {
		if ids[i], err = s.Save(ctx, r, "earlier"); err != nil {
			t.Fatal(err)
		}
	}
	if d := depthOf(t, s, hostsOf(t, s, ids[1])[0]); d != 1 {
		t.Fatalf("second scan: depth %d, want a delta", d)
	}
	rows := count(t, s, "SELECT count(*) FROM entries") + count(t, s, "SELECT count(*) FROM removed_entries") + count(t, s, "SELECT count(*) FROM chunks")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	c := helper(t, mode, db, n, env...)
	l := waitLine(t, c.lines, "inserting ", 2*time.Minute)
	if onPostgres(t) {
		checkWriting(t, db, map[bool]string{false: "hosts", true: "entries"}[wal])
	}
	killed(t, c, l, wal && !onPostgres(t))

	s, err = Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkIntegrity(t, s)
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 2 {
		t.Fatalf("after the kill: %d scans, want the 2 earlier", len(scans))
	}
	for i, r := range []*ftpaudit.Result{first, second} {
		checkHost(t, s, hostsOf(t, s, ids[i])[0], r.Hosts[0].Entries)
	}
	if c := count(t, s, "SELECT count(*) FROM entries") + count(t, s, "SELECT count(*) FROM removed_entries") + count(t, s, "SELECT count(*) FROM chunks"); c != rows {
		t.Errorf("%d entry rows, want %d: the killed save left rows", c, rows)
	}
	if c := count(t, s, "SELECT count(*) FROM hosts") + count(t, s, "SELECT count(*) FROM deltas"); c != 3 {
		t.Errorf("%d host and delta rows, want 3: the killed save left rows", c)
	}
	third := synthResult(n, false)
	changeEveryFifth(third)
	id, err := s.Save(ctx, third, "after")
	if err != nil {
		t.Fatal(err)
	}
	checkHost(t, s, hostsOf(t, s, id)[0], third.Hosts[0].Entries)
}

// killed kills the child, which said l ("inserting <n> wal=<bytes>"), and
// checks that it died of the kill, mid-save, with rows in the WAL file
// when wal is set.
func killed(t *testing.T, c *child, l string, wal bool) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	var rest []string
	for l := range c.lines {
		rest = append(rest, l)
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper was not killed mid-save: %v, output after %q: %q", err, l, rest)
	}
	var size int64
	if _, err := fmt.Sscanf(l[strings.Index(l, "wal="):], "wal=%d", &size); err != nil || (wal && size <= 0) {
		t.Errorf("%q: the uncommitted rows had not reached the WAL file; the test proves less", l)
	}
	t.Logf("killed after %q", l)
}

// checkOnlyEarlier checks that the database is sound and holds only the
// scan id, earlier, every entry readable.
func checkOnlyEarlier(t *testing.T, s *Store, id int64, earlier *ftpaudit.Result) {
	t.Helper()
	ctx := context.Background()
	checkIntegrity(t, s)
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 1 || scans[0].ID != id || scans[0].Args != "earlier" {
		t.Fatalf("after the kill: scans %+v, want only scan %d", scans, id)
	}
	h := scans[0].Hosts[0]
	if h.Entries != len(earlier.Hosts[0].Entries) {
		t.Errorf("earlier scan: %d entries, want %d", h.Entries, len(earlier.Hosts[0].Entries))
	}
	checkEntries(t, collect(t, s.Entries(ctx, h.ID)), earlier.Hosts[0].Entries)
	if c := storedEntries(t, s); c != len(earlier.Hosts[0].Entries) {
		t.Errorf("%d entries stored, want %d: the killed save left rows", c, len(earlier.Hosts[0].Entries))
	}
}

// Two processes that open a new database and save into it at the same
// time both land. The overlap is forced: the first stops inside its save
// transaction until the second has started saving, and the second must
// wait for the first to commit. The stress variant saves more, and lets
// the saves overlap as they will.
func TestConcurrentSaveProcesses(t *testing.T) { eachBackend(t, testConcurrentSaveProcesses) }

func testConcurrentSaveProcesses(t *testing.T) {
	if stress() {
		testConcurrentSaveProcessesFree(t, 50_000)
		return
	}
	ctx := context.Background()
	db := newTestDB(t)
	const n = 1200 // the first save holds after 256
	first := helper(t, "concurrent", db, n, "FTPAUDIT_HISTORY_HOLD=1", "FTPAUDIT_HISTORY_HOOK_EVERY=256")
	second := helper(t, "concurrent", db, n)
	waitLine(t, first.lines, "ready", time.Minute)
	waitLine(t, second.lines, "ready", time.Minute)
	first.send(t, "go")
	waitLine(t, first.lines, "holding", time.Minute)
	second.send(t, "go")
	waitLine(t, second.lines, "saving", time.Minute)
	select {
	case l := <-second.lines:
		t.Fatalf("the second save said %q while the first held the write lock", l)
	case <-time.After(300 * time.Millisecond):
	}
	first.send(t, "release")
	ids := []int64{first.savedID(t), second.savedID(t)}
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkScans(t, s, ids, n)
}

// testConcurrentSaveProcessesFree is the stress variant: two processes
// of n entries each, started together, their saves left to overlap as
// they will.
func testConcurrentSaveProcessesFree(t *testing.T, n int) {
	ctx := context.Background()
	db := newTestDB(t)
	cs := []*child{helper(t, "concurrent", db, n), helper(t, "concurrent", db, n)}
	for _, c := range cs {
		waitLine(t, c.lines, "ready", time.Minute)
	}
	for _, c := range cs {
		c.send(t, "go")
	}
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.savedID(t))
	}
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkScans(t, s, ids, n)
}

// checkScans checks that exactly the scans ids exist, each with one host
// of n entries, all readable.
func checkScans(t *testing.T, s *Store, ids []int64, n int) {
	t.Helper()
	ctx := context.Background()
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, sc := range scans {
		got = append(got, sc.ID)
		if len(sc.Hosts) != 1 || sc.Hosts[0].Entries != n {
			t.Errorf("scan %d: %+v", sc.ID, sc.Hosts)
			continue
		}
		read := 0
		for _, err := range s.Entries(ctx, sc.Hosts[0].ID) {
			if err != nil {
				t.Fatal(err)
			}
			read++
		}
		if read != n {
			t.Errorf("scan %d: read %d entries, want %d", sc.ID, read, n)
		}
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("scans %v, want %v", got, ids)
	}
}

// Two stores of one process, opening a new database at the same time
// and then saving into it at the same time, both land. The overlap is
// forced: the first save to reach 256 entries waits, inside its
// transaction, while the other is waiting for the write lock.
func TestConcurrentStores(t *testing.T) { eachBackend(t, testConcurrentStores) }

func testConcurrentStores(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	n := 1200
	if stress() {
		n = 20_000
	}
	r := synthResult(n, false)
	var once sync.Once
	setSaveHook(t, 256, func(int) {
		once.Do(func() { time.Sleep(100 * time.Millisecond) })
	})
	var opened, wg sync.WaitGroup
	opened.Add(2)
	ids := make([]int64, 2)
	errs := make([]error, 2)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, db)
			opened.Done()
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			opened.Wait() // both save at once
			ids[i], errs[i] = s.Save(ctx, r, "goroutine")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkScans(t, s, ids, n)
}
