// Package ascii folds ASCII case and nothing else: server names are bytes,
// and a byte that is not an ASCII letter (invalid UTF-8 included) is never
// changed or equated with another.
package ascii

// Lower lower-cases ASCII letters only and leaves every other byte
// (including invalid UTF-8) untouched.
func Lower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// EqualFold is strings.EqualFold for ASCII letters only: non-ASCII bytes
// must match exactly, so that no Unicode folding ("ſ" for "s", the Kelvin
// sign for "k") can make a server's bytes equal a keyword.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}
