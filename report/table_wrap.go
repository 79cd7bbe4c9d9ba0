package report

// table_wrap.go lays escaped text out in display columns for the table:
// prose wrapped at spaces, names broken only where they must be (after a
// "/" when it can), long paths shortened in the middle. Widths are
// measured with twwidth, so that wide (East Asian) runes take two
// columns; text is cut only between display tokens, so that an escape
// such as \x1b or \u{202e} is never split.

import (
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

const ellipsis = "…"

// displayToken returns the length of the first unit of an escaped string
// that must not be split: one escape sequence or one rune.
func displayToken(s string) int {
	if len(s) >= 2 && s[0] == '\\' {
		switch s[1] {
		case 'x':
			if len(s) >= 4 {
				return 4
			}
		case 'u':
			if j := strings.IndexByte(s, '}'); len(s) > 2 && s[2] == '{' && j > 0 {
				return j + 1
			}
		}
		return 2
	}
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// tokens splits an escaped string into its display tokens, each with its
// width. A rune of no width (a combining mark) stays with the token
// before it, so that no line starts with one.
func tokens(s string) ([]string, []int) {
	var ts []string
	var ws []int
	for i := 0; i < len(s); {
		n := displayToken(s[i:])
		t := s[i : i+n]
		w := twwidth.Width(t)
		if w == 0 && len(ts) > 0 {
			ts[len(ts)-1] += t
		} else {
			ts = append(ts, t)
			ws = append(ws, w)
		}
		i += n
	}
	return ts, ws
}

// proseWords splits escaped prose into the words wrapWords may put on
// different lines: it breaks only at a single space between two other
// characters, so that a run of spaces, or a space at either end, stays
// as it is, and not at a space that carries a combining mark. Joined
// with " ", the words give s back.
func proseWords(s string) []string {
	var words []string
	start := 0
	for i := 1; i < len(s)-1; i++ {
		if s[i] == ' ' && s[i-1] != ' ' && s[i+1] != ' ' {
			if r, _ := utf8.DecodeRuneInString(s[i+1:]); twwidth.Width(string(r)) == 0 {
				continue
			}
			words = append(words, s[start:i])
			start = i + 1
		}
	}
	return append(words, s[start:])
}

// wrapWords fills lines with words, separated by one space: the first
// line at most first display columns wide, the others at most rest. A
// word wider than its line is broken with nameLines. It returns at least
// one line.
func wrapWords(words []string, first, rest int) []string {
	var lines []string
	cur, curW, started := "", 0, false
	limit := first
	for _, w := range words {
		ww := twwidth.Width(w)
		if started {
			if curW+1+ww <= limit {
				cur += " " + w
				curW += 1 + ww
				continue
			}
			lines = append(lines, cur)
			limit = rest
		}
		if ww <= limit {
			cur, curW, started = w, ww, true
			continue
		}
		pieces := nameLines(w, limit, rest)
		lines = append(lines, pieces[:len(pieces)-1]...)
		cur = pieces[len(pieces)-1]
		curW, started = twwidth.Width(cur), true
		limit = rest
	}
	return append(lines, cur)
}

// nameLines breaks an escaped name into lines, the first at most first
// display columns wide, the others at most rest; concatenated, they give
// the name back. It breaks after a "/" when that keeps at least half of
// the line, and otherwise between any two tokens. A single token wider
// than a line (never, at the table's widths) gets a line of its own.
func nameLines(s string, first, rest int) []string {
	ts, ws := tokens(s)
	var lines []string
	limit := first
	var line []string
	var lw []int
	width := 0
	for i, t := range ts {
		for width+ws[i] > limit && len(line) > 0 {
			cut := len(line)
			for j, acc := len(line)-1, width; j > 0; j-- {
				acc -= lw[j]
				if line[j-1] == "/" && acc >= (limit+1)/2 {
					cut = j
					break
				}
			}
			lines = append(lines, strings.Join(line[:cut], ""))
			line, lw = line[cut:], lw[cut:]
			width = 0
			for _, n := range lw {
				width += n
			}
			limit = rest
		}
		line = append(line, t)
		lw = append(lw, ws[i])
		width += ws[i]
	}
	return append(lines, strings.Join(line, ""))
}

// shortenMiddle shortens an escaped name to at most max display columns
// by putting "…" in place of its middle. It keeps whole path elements
// where it can, as many of the last ones (the file and the directories
// it is in) and then of the first ones as fit, "/pub/…/0day/keygen.exe";
// when that would leave more than a third of the room unused, it cuts within
// elements, keeping more of the end than of the start. A name that fits
// is returned as it is.
func shortenMiddle(s string, max int) string {
	if twwidth.Width(s) <= max {
		return s
	}
	budget := max - twwidth.Width(ellipsis)
	ts, ws := tokens(s)
	if head, tail, used := elementCut(ts, ws, budget); used*3 >= budget*2 {
		return strings.Join(ts[:head], "") + ellipsis + strings.Join(ts[tail:], "")
	}
	head, used := 0, 0
	for head < len(ts) && used+ws[head] <= budget*2/5 {
		used += ws[head]
		head++
	}
	tail := len(ts)
	for tail > head && used+ws[tail-1] <= budget {
		tail--
		used += ws[tail]
	}
	// What the tail could not use (a wide token in the way) goes back to
	// the head.
	for head < tail && used+ws[head] <= budget {
		used += ws[head]
		head++
	}
	return strings.Join(ts[:head], "") + ellipsis + strings.Join(ts[tail:], "")
}

// elementCut finds where shortenMiddle cuts a name at its "/"s: the head
// ts[:head] ends with a "/" (at least the first one), the tail ts[tail:]
// starts with one, and together they take used <= budget columns, with
// as many whole elements at the end, then at the start, as fit. used is
// 0 when no cut at "/"s fits.
func elementCut(ts []string, ws []int, budget int) (head, tail, used int) {
	for head < len(ts) && ts[head] != "/" {
		used += ws[head]
		head++
	}
	head++ // the first "/"
	if head > len(ts) {
		return 0, 0, 0
	}
	used += ws[head-1]
	tail = -1
	tailW := 0
	for j, acc := len(ts)-1, 0; j >= head; j-- {
		acc += ws[j]
		if used+acc > budget {
			break
		}
		if ts[j] == "/" {
			tail, tailW = j, acc
		}
	}
	if tail < 0 {
		return 0, 0, 0
	}
	used += tailW
	for k, acc := head, 0; k < tail; k++ {
		acc += ws[k]
		if used+acc > budget {
			break
		}
		if ts[k] == "/" {
			head, used, acc = k+1, used+acc, 0
		}
	}
	return head, tail, used
}
