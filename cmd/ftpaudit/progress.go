package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// progress draws one line on stderr for the whole run: what it is doing
// (walking, judging, saving to history), the hosts, the directories and
// files listed so far, the rate and the time taken. It is a no-op when
// stderr is not a terminal or --quiet is given.
//
// The line never grows wider than the terminal (it is measured again at
// each redraw, so a resize is followed), so that it never wraps: a
// wrapped bar cannot be erased with a carriage return and leaves a line
// behind at every redraw. Counts of several hosts are shown as one total
// under "N hosts", never under one host's name. Finish erases the line,
// so nothing of it is left above what follows.
type progress struct {
	bar   *progressbar.ProgressBar
	out   *os.File // stderr, for its width
	start time.Time

	dirs, files atomic.Int64
	stage       atomic.Value // string
	mu          sync.Mutex
	hosts       map[string]bool
	lastHost    string

	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	drawMu   sync.Mutex // held while drawing or erasing
	finished bool       // under drawMu
}

var _ scanner.Progress = (*progress)(nil)

// progressTick is how often the line is redrawn.
const progressTick = 150 * time.Millisecond

// newProgress returns the progress line on stderr, drawn from now until
// Finish; it draws nothing with quiet (--quiet), when stderr is not a
// terminal, or on a terminal that cannot erase a line (TERM=dumb).
func newProgress(stderr io.Writer, quiet bool) *progress {
	p := &progress{start: time.Now(), hosts: map[string]bool{}}
	p.stage.Store("walking")
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return p
	}
	p.out = f
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetDescription(""),
		// ANSI line clearing (ESC[2K) rather than overwriting with spaces
		// as wide as the longest line drawn, which wraps on a terminal
		// made narrower since.
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetRenderBlankState(false),
		progressbar.OptionThrottle(0),
		// No redraws of the library's own (a goroutine of its own, which
		// Finish could not stop: a redraw after the erase left the line
		// above the report): the spinner turns at each of loop's draws.
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.loop()
	return p
}

// loop redraws the line until Finish, also while nothing is listed (the
// seconds spent judging), so that the time keeps moving.
func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(progressTick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.draw()
		}
	}
}

// Listed implements scanner.Progress.
func (p *progress) Listed(host string, dirs, files int) {
	p.dirs.Add(int64(dirs))
	p.files.Add(int64(files))
	p.mu.Lock()
	p.hosts[host] = true
	p.lastHost = host
	p.mu.Unlock()
}

// Stage says what the run is doing now that the walk is over, such as
// "judging" or "saving to history", and redraws the line at once.
func (p *progress) Stage(what string) {
	p.stage.Store(what)
	if p.bar != nil {
		p.draw()
	}
}

// draw redraws the line, fitted to the terminal's current width.
func (p *progress) draw() {
	p.drawMu.Lock()
	defer p.drawMu.Unlock()
	if p.finished {
		return
	}
	cols := 80
	if c, _, err := term.GetSize(int(p.out.Fd())); err == nil && c > 0 {
		cols = c
	}
	p.mu.Lock()
	n, host := len(p.hosts), p.lastHost
	p.mu.Unlock()
	// The bar draws "<spinner> <description>  ": four columns besides
	// the description; one more is left free, so that the cursor never
	// sits past the last column (where some terminals wrap).
	p.bar.Describe(progressLine(cols-5, p.stage.Load().(string), n, host,
		p.dirs.Load(), p.files.Load(), time.Since(p.start)))
}

// progressLine is the progress line's text in at most width display
// columns: the longest of its forms that fits, dropping first the host,
// then the rate, then the time; the last resort is cut.
func progressLine(width int, stage string, hosts int, host string, dirs, files int64, elapsed time.Duration) string {
	if width < 1 {
		return ""
	}
	subject := ""
	switch {
	case hosts == 1:
		subject = " " + report.Display(host)
	case hosts > 1:
		subject = fmt.Sprintf(" %d hosts", hosts)
	}
	counts := plural(dirs, "dir") + ", " + plural(files, "file")
	took := elapsed.Round(time.Second).String()
	rate := ""
	if s := elapsed.Seconds(); s > 0 && stage == "walking" {
		rate = fmt.Sprintf(", %.0f entries/s", float64(dirs+files)/s)
	}
	forms := []string{
		stage + subject + ": " + counts + rate + ", " + took,
		stage + ": " + counts + rate + ", " + took,
		stage + ": " + counts + ", " + took,
		stage + ": " + counts,
		counts,
	}
	if hosts == 0 && dirs+files == 0 && stage != "walking" {
		// A stage of its own (stageWhile): nothing was counted.
		forms = []string{stage + ", " + took, stage}
	}
	for _, s := range forms {
		if lineWidth(s) <= width {
			return s
		}
	}
	return cutWidth(forms[len(forms)-1], width)
}

// lineWidth is at least the display width of s, which Display has
// escaped: a rune outside ASCII is counted two columns (wide East Asian
// runes take two; the others take one or none), so that a line measured
// with it never overflows the terminal.
func lineWidth(s string) int {
	n := 0
	for _, r := range s {
		if r < 0x80 {
			n++
		} else {
			n += 2
		}
	}
	return n
}

// cutWidth shortens s to at most width display columns.
func cutWidth(s string, width int) string {
	out := ""
	for _, r := range s {
		if lineWidth(out+string(r)) > width {
			break
		}
		out += string(r)
	}
	return out
}

// plural is "1 dir", "2 dirs".
func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Finish stops the redraws and erases the line, leaving the cursor at
// the start of the empty line for what comes next. It may be called
// more than once.
func (p *progress) Finish() {
	if p.bar == nil {
		return
	}
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		p.drawMu.Lock()
		defer p.drawMu.Unlock()
		p.finished = true
		_ = p.bar.Clear()
		_ = p.bar.Exit()
	})
}

// stageWhile draws a progress line that says only what is being done
// (and for how long) until the returned function is called, which erases
// it: for the work after the walk that has no counts of its own, such as
// saving to the history database.
func stageWhile(stderr io.Writer, quiet bool, what string) (done func()) {
	p := newProgress(stderr, quiet)
	p.Stage(what)
	return p.Finish
}
