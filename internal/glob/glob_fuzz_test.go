package glob

import (
	"strings"
	"testing"
)

// FuzzGlobFastPath checks that every element's fast path (exact literal,
// "*suffix") agrees with the general matcher, on any pattern and name.
func FuzzGlobFastPath(f *testing.F) {
	for _, s := range [][2]string{
		{"*.nfo", "x.NFO"}, {"*.r[0-9][0-9]", "a.r01"}, {"/up?", "/upx"}, {"/caf\xe9", "/caf\xe9"},
		{`/star\*name`, "/star*name"}, {"[abc]", "b"}, {"*", ""}, {"/**/incoming", "/a/incoming"},
		{"*.torrent", ".torrent"}, {"KEYGEN.EXE", "keygen.exe"}, {"*é", "É"},
	} {
		f.Add(s[0], s[1], uint8(0))
		f.Add(s[0], s[1], uint8(2))
	}
	f.Fuzz(func(t *testing.T, pattern, name string, kind uint8) {
		g, err := Compile(pattern, Kind(kind%3))
		if err != nil {
			return
		}
		for _, e := range g.elems {
			if e.doubleStar || e.fast == fastNone {
				continue
			}
			for _, x := range append(strings.Split(name, "/"), name, pattern) {
				if e.match(x) != matchToks(e.toks, x) {
					t.Fatalf("glob %q: element fast path %d (%q) says %v for %q, the matcher %v",
						pattern, e.fast, e.fastLit, e.match(x), x, matchToks(e.toks, x))
				}
			}
		}
	})
}
