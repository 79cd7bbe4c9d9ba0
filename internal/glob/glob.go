// Package glob is the glob engine of policies, excludes and hosts files:
// patterns over exact server paths, names and target URLs, matched byte
// for byte (names and hosts ASCII case-insensitively), never cleaned.
package glob

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// GlobKind says what a Glob is matched against.
type Kind int

// Glob kinds.
const (
	// GlobPath matches an exact absolute path, element by element: "*",
	// "?" and "[...]" stay within one element, "**" (a whole element)
	// matches any number of elements, including none.
	Path Kind = iota
	// GlobHost matches a target URL, ASCII case-insensitively; "*"
	// matches any run of characters, "/" included.
	Host
	// GlobName matches one name, ASCII case-insensitively; it cannot
	// contain "/".
	Name
)

// Glob is a compiled glob pattern. Syntax: "*" any run of characters
// (within one path element for Path), "?" one character, "[abc]",
// "[a-z]", "[!a-z]" or "[^a-z]" one character of (not of) a set, "\"
// quotes the next character, and for Path "**" as a whole element
// any number of elements. Everything else matches itself, byte for byte:
// spaces, dots, and bytes that are not UTF-8. Paths are never cleaned.
type Glob struct {
	Pattern string
	Kind    Kind
	elems   []globElem
}

type globElem struct {
	doubleStar bool
	toks       []globTok
	// fast paths: the element is a literal (exact) or "*" + a literal
	// (suffix)
	fast    globFast
	fastLit string
}

type globFast uint8

const (
	fastNone globFast = iota
	fastExact
	fastSuffix
)

func newElem(toks []globTok) globElem {
	e := globElem{toks: toks}
	rest := toks
	e.fast = fastExact
	if len(rest) > 0 && rest[0].kind == tokStar {
		e.fast, rest = fastSuffix, rest[1:]
	}
	lit := make([]byte, 0, len(rest))
	for _, t := range rest {
		if t.kind != tokLit {
			e.fast = fastNone
			return e
		}
		lit = append(lit, t.lit)
	}
	e.fastLit = string(lit)
	if e.fast == fastSuffix && len(lit) > 0 && lit[0]&0xC0 == 0x80 {
		// The literal starts inside a UTF-8 sequence: "*" takes whole
		// characters, so "é" (C3 A9) does not end in "\xa9" for the
		// matcher, while a byte suffix test would say it does.
		e.fast = fastNone
	}
	return e
}

func (e *globElem) match(s string) bool {
	switch e.fast {
	case fastExact:
		return s == e.fastLit
	case fastSuffix:
		return strings.HasSuffix(s, e.fastLit)
	}
	return matchToks(e.toks, s)
}

type globTokKind uint8

const (
	tokLit globTokKind = iota
	tokAny
	tokStar
	tokClass
)

type globTok struct {
	kind   globTokKind
	lit    byte
	neg    bool
	ranges [][2]rune
}

// Compile compiles a pattern of the given kind.
func Compile(pattern string, kind Kind) (*Glob, error) {
	g := &Glob{Pattern: pattern, Kind: kind}
	if pattern == "" {
		return nil, errors.New("empty glob")
	}
	switch kind {
	case Path:
		if pattern[0] != '/' {
			return nil, fmt.Errorf("glob %q: a path glob starts with \"/\" (use \"/**/%s\" to match at any depth)", pattern, pattern)
		}
		if pattern == "/" {
			return g, nil
		}
		if strings.HasSuffix(pattern, "/") {
			return nil, fmt.Errorf("glob %q: a path glob does not end with \"/\" (paths never do)", pattern)
		}
		for _, el := range strings.Split(pattern[1:], "/") {
			if el == "" {
				return nil, fmt.Errorf("glob %q: empty path element (\"//\")", pattern)
			}
			if el == "**" {
				g.elems = append(g.elems, globElem{doubleStar: true})
				continue
			}
			if strings.Contains(el, "**") {
				return nil, fmt.Errorf("glob %q: \"**\" must be a whole path element (\"/a/**/b\"); use \"*\" within a name", pattern)
			}
			toks, err := compileElem(el)
			if err != nil {
				return nil, fmt.Errorf("glob %q: %v", pattern, err)
			}
			g.elems = append(g.elems, newElem(toks))
		}
	case Host, Name:
		if kind == Name && strings.Contains(pattern, "/") {
			return nil, fmt.Errorf("name glob %q: a name pattern cannot contain \"/\" (it matches one name)", pattern)
		}
		toks, err := compileElem(ascii.Lower(pattern))
		if err != nil {
			return nil, fmt.Errorf("glob %q: %v", pattern, err)
		}
		g.elems = []globElem{newElem(toks)}
	default:
		return nil, errors.New("unknown glob kind")
	}
	return g, nil
}

func Must(pattern string, kind Kind) *Glob {
	g, err := Compile(pattern, kind)
	if err != nil {
		panic(err)
	}
	return g
}

func compileElem(el string) ([]globTok, error) {
	var toks []globTok
	for i := 0; i < len(el); i++ {
		c := el[i]
		switch c {
		case '\\':
			if i+1 >= len(el) {
				return nil, errors.New("trailing backslash")
			}
			i++
			toks = append(toks, globTok{kind: tokLit, lit: el[i]})
		case '*':
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, globTok{kind: tokStar})
			}
		case '?':
			toks = append(toks, globTok{kind: tokAny})
		case '[':
			t, n, err := compileClass(el[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n - 1
		default:
			toks = append(toks, globTok{kind: tokLit, lit: c})
		}
	}
	return toks, nil
}

// compileClass parses "[...]" at the start of s and returns its length.
func compileClass(s string) (globTok, int, error) {
	t := globTok{kind: tokClass}
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		t.neg = true
		i++
	}
	first := true
	for {
		if i >= len(s) {
			return t, 0, errors.New("unclosed \"[\" (write \\[ for a literal bracket)")
		}
		if s[i] == ']' && !first {
			i++
			break
		}
		first = false
		lo, n, err := classRune(s[i:])
		if err != nil {
			return t, 0, err
		}
		i += n
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			h, n, err := classRune(s[i+1:])
			if err != nil {
				return t, 0, err
			}
			if h < lo {
				return t, 0, fmt.Errorf("bad range %q-%q in [...]", lo, h)
			}
			hi = h
			i += 1 + n
		}
		t.ranges = append(t.ranges, [2]rune{lo, hi})
	}
	return t, i, nil
}

func classRune(s string) (rune, int, error) {
	if s[0] == '\\' {
		if len(s) < 2 {
			return 0, 0, errors.New("trailing backslash")
		}
		r, n := decodeOne(s[1:])
		return r, n + 1, nil
	}
	r, n := decodeOne(s)
	return r, n, nil
}

// decodeOne decodes one character; an invalid byte is returned as a rune
// in the private range 0x110000+byte so that it matches only itself.
func decodeOne(s string) (rune, int) {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n <= 1 {
		return 0x110000 + rune(s[0]), 1
	}
	return r, n
}

// Match reports whether s (a path, URL or name, per the glob's kind)
// matches.
func (g *Glob) Match(s string) bool {
	if g == nil {
		return false
	}
	switch g.Kind {
	case Path:
		if !strings.HasPrefix(s, "/") {
			return false
		}
		var xs []string
		if s != "/" {
			xs = strings.Split(s[1:], "/")
		}
		return matchElems(g.elems, xs)
	default:
		return g.elems[0].match(ascii.Lower(s))
	}
}

// MatchLower is Match for a Host or Name glob on a string that is
// already ASCII lower-case.
func (g *Glob) MatchLower(lower string) bool {
	return g.elems[0].match(lower)
}

func (g *Glob) String() string { return g.Pattern }

func matchElems(pe []globElem, xs []string) bool {
	pi, xi := 0, 0
	starPi, starXi := -1, 0
	for {
		if pi < len(pe) && pe[pi].doubleStar {
			starPi, starXi = pi, xi
			pi++
			continue
		}
		if pi == len(pe) && xi == len(xs) {
			return true
		}
		if pi < len(pe) && xi < len(xs) && pe[pi].match(xs[xi]) {
			pi++
			xi++
			continue
		}
		if starPi >= 0 && starXi < len(xs) {
			starXi++
			pi, xi = starPi+1, starXi
			continue
		}
		return false
	}
}

func matchToks(toks []globTok, s string) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) && toks[ti].kind == tokStar {
			starTi, starSi = ti, si
			ti++
			continue
		}
		if ti == len(toks) && si == len(s) {
			return true
		}
		if ti < len(toks) && si < len(s) {
			if n := toks[ti].matchAt(s[si:]); n > 0 {
				ti++
				si += n
				continue
			}
		}
		if starTi >= 0 && starSi < len(s) {
			_, n := decodeOne(s[starSi:])
			starSi += n
			ti, si = starTi+1, starSi
			continue
		}
		return false
	}
}

// matchAt returns how many bytes of s the token matches at its start (0:
// no match).
func (t *globTok) matchAt(s string) int {
	switch t.kind {
	case tokLit:
		if s[0] == t.lit {
			return 1
		}
		return 0
	case tokAny:
		_, n := decodeOne(s)
		return n
	case tokClass:
		r, n := decodeOne(s)
		in := false
		for _, rg := range t.ranges {
			if r >= rg[0] && r <= rg[1] {
				in = true
				break
			}
		}
		if in != t.neg {
			return n
		}
	}
	return 0
}

// MatchAtOrBelow returns the first glob matching p or one of its
// ancestors.
func MatchAtOrBelow(globs []*Glob, p string) *Glob {
	if len(globs) == 0 {
		return nil
	}
	for q := p; ; {
		for _, g := range globs {
			if g.Match(q) {
				return g
			}
		}
		if q == "/" || q == "" {
			return nil
		}
		q, _ = ftppath.Split(q)
	}
}

// Shape says how g can be matched without running it: exact is set when g
// is one element that matches only the ASCII-lowercased literal lit,
// suffix when it is one element "*lit". Both are false otherwise. An
// index of many patterns uses it to try only the ones that can match.
func (g *Glob) Shape() (lit string, exact, suffix bool) {
	if len(g.elems) != 1 {
		return "", false, false
	}
	e := &g.elems[0]
	return e.fastLit, e.fast == fastExact, e.fast == fastSuffix
}
