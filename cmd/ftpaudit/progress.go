package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ftpaudit/ftpaudit/report"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// progress draws a spinner bar on stderr with counts and rate. It is a
// no-op when stderr is not a terminal or --quiet is given.
type progress struct {
	bar   *progressbar.ProgressBar
	dirs  atomic.Int64
	files atomic.Int64
	last  atomic.Int64 // unix nanos of the last redraw
	start time.Time
}

var _ scanner.Progress = (*progress)(nil)

func newProgress(stderr io.Writer, quiet bool) *progress {
	p := &progress{start: time.Now()}
	if quiet || !isTerminal(stderr) {
		return p
	}
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetDescription("walking"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetElapsedTime(true),
	)
	return p
}

// Listed implements scanner.Progress.
func (p *progress) Listed(host string, dirs, files int) {
	d := p.dirs.Add(int64(dirs))
	f := p.files.Add(int64(files))
	if p.bar == nil {
		return
	}
	now := time.Now().UnixNano()
	if last := p.last.Load(); now-last < int64(100*time.Millisecond) || !p.last.CompareAndSwap(last, now) {
		return
	}
	rate := float64(d+f) / time.Since(p.start).Seconds()
	p.bar.Describe(fmt.Sprintf("%s: %d dirs, %d files, %.0f entries/s", report.Display(host), d, f, rate))
	_ = p.bar.Add(1)
}

// Finish removes the bar.
func (p *progress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
