package rules

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// TestLiteralRunNeeded: whatever a name glob matches contains the run
// literalRun finds in it, and an index of random patterns (exact,
// suffix and the rest, which the run screens) gives what trying each
// pattern gives, on random names.
func TestLiteralRunNeeded(t *testing.T) {
	for pat, want := range map[string]string{
		"*.r[0-9][0-9]": ".r", "a*bcd?ef": "bcd", "*": "", "ab\\*cd": "ab", "[ab]xyz": "", "?x": "x", "Foo*": "Foo",
	} {
		if got := literalRun(pat); got != want {
			t.Errorf("literalRun(%q) = %q, want %q", pat, got, want)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	piece := []string{"a", "b", ".", "r", "R", "0", "7", "*", "?", "[0-9]", "[!a]", "\\*", "\\[", "é", "x", "-"}
	alpha := []string{"a", "b", ".", "r", "R", "0", "7", "*", "[", "é", "\xe9", "x", "-", "ab", ".r0"}
	var pats []namePattern
	for len(pats) < 300 {
		var b strings.Builder
		for range 1 + r.IntN(6) {
			b.WriteString(piece[r.IntN(len(piece))])
		}
		g, err := glob.Compile(b.String(), glob.Name)
		if err != nil {
			continue
		}
		pats = append(pats, namePattern{glob: g, reason: "r"})
	}
	x := newPatternIndex(pats)
	for range 20000 {
		var b strings.Builder
		for range r.IntN(8) {
			b.WriteString(alpha[r.IntN(len(alpha))])
		}
		lower := ascii.Lower(b.String())
		var want []int
		for i, np := range pats {
			if np.glob.MatchLower(lower) {
				want = append(want, i)
				if run := literalRun(ascii.Lower(np.glob.Pattern)); !strings.Contains(lower, run) {
					t.Fatalf("%q matches %q but lacks its run %q", np.glob.Pattern, lower, run)
				}
			}
		}
		if got := x.matches(lower, nil); !slices.Equal(got, want) {
			t.Fatalf("%q: index gives %v, trying each pattern %v", lower, got, want)
		}
	}
}
