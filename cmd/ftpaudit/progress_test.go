package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TestProgressLineFits: at every width the line fits, so that the bar
// never wraps (a wrapped bar leaves a line behind at every redraw).
func TestProgressLineFits(t *testing.T) {
	hosts := []string{"ftp://127.0.0.1:2121", "ftp://" + strings.Repeat("長", 60) + ":21", "ftp://evil\x1b[2J.example:21"}
	for width := -1; width <= 200; width++ {
		for n := 0; n <= 3; n++ {
			for _, h := range hosts {
				for _, stage := range []string{"walking", "judging", "saving to history"} {
					l := progressLine(width, stage, n, h, 123456, 9876543, 95*time.Minute)
					if w := twwidth.Width(l); w > max(width, 0) {
						t.Fatalf("width %d: %q is %d wide", width, l, w)
					}
					if strings.ContainsAny(l, "\x1b\r\n") {
						t.Fatalf("control bytes in %q", l)
					}
				}
			}
		}
	}
}

// TestProgressLineLabel: one host's counts under its name; several hosts'
// under "N hosts", never under one host's name.
func TestProgressLineLabel(t *testing.T) {
	if l := progressLine(120, "walking", 1, "ftp://a:21", 3, 4, 2*time.Second); !strings.HasPrefix(l, "walking ftp://a:21: 3 dirs, 4 files, 4 entries/s, 2s") {
		t.Errorf("one host: %q", l)
	}
	l := progressLine(120, "walking", 3, "ftp://a:21", 3, 1, time.Second)
	if strings.Contains(l, "ftp://a") || !strings.HasPrefix(l, "walking 3 hosts: 3 dirs, 1 file,") {
		t.Errorf("three hosts: %q", l)
	}
	if l := progressLine(120, "saving to history", 0, "", 0, 0, time.Second); l != "saving to history, 1s" {
		t.Errorf("stage of its own: %q", l)
	}
	if l := progressLine(40, "judging", 1, "ftp://a-long-host-name.example.org:21", 1234, 56789, time.Second); l != "judging: 1234 dirs, 56789 files, 1s" {
		t.Errorf("narrow: %q", l)
	}
}

// TestProgressOffWithoutTerminal: nothing is drawn when stderr is not a
// terminal, whatever the scan calls.
func TestProgressOffWithoutTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false)
	p.Listed("ftp://a:21", 1, 2)
	p.Stage("judging")
	p.Finish()
	p.Finish()
	stageWhile(&b, false, "saving to history")()
	if b.Len() != 0 {
		t.Errorf("wrote %q", b.String())
	}
}
