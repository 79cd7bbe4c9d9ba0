package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// The terminal test (issue 16, "Done when"): the real binary, built here,
// runs in a tmux pane 60, 80 and 120 columns wide, on the demo archive and
// on a slow archive of hostile names (slow, so that the progress bar is
// drawn). From the pane's screen and scrollback, and from the raw bytes
// the program wrote to the terminal, it checks: no line is wider than the
// terminal (lines the terminal wrapped are joined back), every finding's
// full action is on screen (as the JSON of the same scan gives them),
// no control bytes reach the terminal but the colour SGR around severity
// words (and the bar's own line erasing, before the table), and nothing
// of the bar is left on screen. It needs tmux (CI installs it); without
// it the test is skipped, except under FTPAUDIT_REQUIRE_REAL=1 (CI).

// hostileTree is a LIST-only archive of names that attack a terminal: ANSI
// sequences (clear screen, colour, window title), a right-to-left
// override, invalid UTF-8, wide runes, and a name longer than any
// terminal.
func hostileTree() faultftp.Tree {
	long := strings.Repeat("a", 150)
	wide := strings.Repeat("長い名前のディレクトリ", 4)
	dir := func(name string) string { return "drwxr-xr-x 2 ftp ftp 4096 Jan 30 03:12 " + name }
	file := func(name string) string { return "-rw-r--r-- 1 ftp ftp 412672 Jan 30 03:12 " + name }
	tree := map[string][]string{
		"/":         {"drwxr-xr-x 2 root root 4096 Jan 30 03:12 pub", "drwxrwxrwx 2 root ftp 4096 Jan 30 03:12 incoming"},
		"/pub":      {"-rw-rw-rw- 1 root root 58 Jan 30 03:12 NOTICE.txt", "-rw-r--r-- 1 root root 46 Jan 30 03:12 \x1b[31mURGENT\x1b[0m-read-me.txt"},
		"/incoming": {file("\x1b[2J\x1b[H\x1b]0;owned\x07release.nfo"), file("evil\u202egpj.exe"), file("\xff\xfe invalid.zip"), dir(wide), dir(long), dir("..."), dir("0day")},
	}
	for _, d := range []string{wide, long, "...", "0day"} {
		tree["/incoming/"+d] = []string{file("keygen.exe"), file("file_id.diz")}
	}
	return func(d string, mlsd bool) ([]string, bool) {
		l, ok := tree[d]
		return l, ok
	}
}

func TestTerminalScreens(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives tmux")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("FTPAUDIT_REQUIRE_REAL") == "1" {
			t.Fatal("tmux is not installed, and CI (FTPAUDIT_REQUIRE_REAL=1) needs this test: apt-get install tmux")
		}
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	bin := filepath.Join(t.TempDir(), "ftpaudit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv, err := faultftp.Start(faultftp.Options{Tree: hostileTree(), Script: faultftp.Script{
		Transfer: func(x *faultftp.Transfer) { x.Delay = 250 * time.Millisecond },
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hostile := []string{"scan", "--connections", "1", "--no-recursive-list", "--no-stat", srv.URL("/")}

	for _, c := range []struct {
		name string
		args []string
		bar  bool // the scan is slow enough for the bar to be drawn
	}{
		{"demo", []string{"demo"}, false},
		{"hostile", hostile, true},
	} {
		actions := jsonActions(t, bin, c.args)
		for _, width := range []int{60, 80, 120} {
			t.Run(fmt.Sprintf("%s/%d", c.name, width), func(t *testing.T) {
				args := append(append([]string{}, c.args...), "--format", "table", "--verbose")
				screen, raw := inTmux(t, tmux, bin, args, width)
				checkScreen(t, screen, width, actions)
				checkRaw(t, raw, c.bar)
			})
		}
	}
}

// jsonActions runs the scan with --format json (no terminal) and returns
// every finding's action.
func jsonActions(t *testing.T, bin string, args []string) []string {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{}, args...), "--format", "json")...)
	out, err := cmd.Output()
	if err != nil && cmd.ProcessState.ExitCode() > 3 {
		t.Fatalf("%v: %v", args, err)
	}
	var doc struct {
		Findings []struct {
			Action string `json:"action"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if len(doc.Findings) == 0 {
		t.Fatalf("%v: no findings", args)
	}
	var acts []string
	for _, f := range doc.Findings {
		if f.Action == "" {
			t.Errorf("%v: a finding without action", args)
		}
		acts = append(acts, f.Action)
	}
	return acts
}

// inTmux runs bin with args in a detached tmux pane width columns wide
// and returns the pane's screen with its scrollback (wrapped lines
// joined) and the raw bytes the program wrote to the terminal.
func inTmux(t *testing.T, tmux, bin string, args []string, width int) (screen, raw string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "fa-tmux") // short: the socket path is bounded
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock, conf, gate, rawPath := filepath.Join(dir, "s"), filepath.Join(dir, "conf"), filepath.Join(dir, "go"), filepath.Join(dir, "raw")
	if err := os.WriteFile(conf, []byte("set -g history-limit 100000\nset -g status off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	quoted := []string{shQuote(bin)}
	for _, a := range args {
		quoted = append(quoted, shQuote(a))
	}
	script := fmt.Sprintf("unset NO_COLOR COLUMNS; while [ ! -e %s ]; do sleep 0.02; done; %s; echo __EXIT__$?; sleep 600",
		shQuote(gate), strings.Join(quoted, " "))
	tm := func(a ...string) string {
		out, err := exec.Command(tmux, append([]string{"-S", sock, "-f", conf}, a...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", a, err, out)
		}
		return string(out)
	}
	tm("new-session", "-d", "-s", "t", "-x", fmt.Sprint(width), "-y", "40", "sh", "-c", script)
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	tm("pipe-pane", "-t", "t", "-o", "cat > "+shQuote(rawPath))
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		screen = tm("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "t")
		if strings.Contains(screen, "__EXIT__") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no end after 60s; screen:\n%s", screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let pipe-pane's cat write the rest
	b, err := os.ReadFile(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	screen = screen[:strings.Index(screen, "__EXIT__")]
	raw = string(b)
	if i := strings.Index(raw, "__EXIT__"); i >= 0 {
		raw = raw[:i]
	}
	return screen, raw
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

var spaces = regexp.MustCompile(`\s+`)

// checkScreen checks the lines' widths, the actions and that no bar is
// left.
func checkScreen(t *testing.T, screen string, width int, actions []string) {
	t.Helper()
	for i, l := range strings.Split(screen, "\n") {
		l = strings.TrimRight(l, " ")
		if w := twwidth.Width(l); w > width {
			t.Errorf("line %d is %d columns wide, the terminal %d: %q", i+1, w, width, l)
		}
		if strings.Contains(l, "walking") || strings.Contains(l, "judging") || strings.Contains(l, "entries/s") || strings.ContainsAny(l, "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
			t.Errorf("line %d: the progress bar is left on screen: %q", i+1, l)
		}
	}
	flat := spaces.ReplaceAllString(screen, " ")
	for _, a := range actions {
		if !strings.Contains(flat, spaces.ReplaceAllString(a, " ")) {
			t.Errorf("action not on screen in full: %q", a)
		}
	}
	if t.Failed() {
		t.Logf("screen:\n%s", screen)
	}
}

var (
	sgr      = regexp.MustCompile(`^\x1b\[[0-9;]*m`)
	coloured = regexp.MustCompile(`\x1b\[[0-9;]*[1-9][0-9;]*m([^\x1b]*)\x1b\[0?m`)
	barCodes = regexp.MustCompile(`\x1b\[[02]?K`)
)

// checkRaw checks the bytes the program wrote: before the table, only
// the bar's line erasing; in the table, only colour SGR, and only around
// severity words.
func checkRaw(t *testing.T, raw string, bar bool) {
	t.Helper()
	table := raw
	if i := strings.LastIndex(raw, "\x1b[2K"); i >= 0 {
		table = raw[i+len("\x1b[2K"):]
		if !strings.ContainsAny(raw[:i], "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
			t.Errorf("the bar erased a line it never drew: %q", raw[:i])
		}
		if rest := barCodes.ReplaceAllString(raw[:i], ""); strings.ContainsAny(rest, "\x1b\a\b") {
			t.Errorf("control bytes besides the bar's erasing before the table: %q", rest)
		}
	} else if bar {
		t.Errorf("the bar was never drawn (or never erased): %q", raw)
	}
	table = strings.TrimPrefix(table, "\r")
	for i := 0; i < len(table); {
		c := table[i]
		switch {
		case c == '\x1b':
			m := sgr.FindString(table[i:])
			if m == "" {
				t.Fatalf("escape sequence in the table: %q", table[i:min(len(table), i+20)])
			}
			i += len(m)
			continue
		case c == '\r' && strings.HasPrefix(table[i:], "\r\n"), c == '\n':
		case c < 0x20 || c == 0x7f:
			t.Fatalf("control byte %#x in the table: %q", c, table[max(0, i-20):min(len(table), i+20)])
		}
		i++
	}
	for _, r := range strings.ToValidUTF8(table, "") {
		if r >= 0x80 && r <= 0x9f {
			t.Fatalf("C1 control %U in the table", r)
		}
	}
	for _, m := range coloured.FindAllStringSubmatch(table, -1) {
		switch strings.TrimSpace(m[1]) {
		case "critical", "high", "medium", "low", "info":
		default:
			t.Errorf("colour around %q, not a severity word", m[1])
		}
	}
	if bytes.Count([]byte(table), []byte("\x1b[")) > 0 && len(coloured.FindAllString(table, -1)) == 0 {
		t.Errorf("SGR in the table, but none around a severity word")
	}
}
