package ftpconn

// Fuzz target for the path logic: the ftppath helpers, pathArg and the
// glob engine, on arbitrary directories, names and patterns. Its seeds
// (f.Add and testdata/fuzz/FuzzPathLogic) run in every go test.

import (
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// fzQuoteGlob quotes every glob metacharacter in s.
func fzQuoteGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '*', '?', '[':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fzLiteralPath reports whether p is a path that a path glob can name:
// absolute, no empty element, no trailing "/".
func fzLiteralPath(p string) bool {
	return p == "/" || strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, "//")
}

func fzPlainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._+,=@%/-", c) >= 0
}

// FuzzPathLogic checks ftppath.Join, Split, Parent, Plain and AtOrBelow,
// pathArg, glob.Compile, Glob.Match and glob.MatchAtOrBelow on arbitrary
// directories, names and patterns.
func FuzzPathLogic(f *testing.F) {
	names := map[string]bool{}
	for _, s := range seeds.Listings(f) {
		entries, _ := listing.ParseListing(s.Data, s.MLSD, seeds.Now)
		for _, e := range entries {
			names[e.Name] = true
		}
	}
	for _, n := range []string{"", ".", "..", "...", "  ", ". ", " lead", "trail ", "tab\t", "-rf", "-", "a/b", "../..",
		"a\r\nb", "nul\x00", "bad\xff", "café", "\xc3", "*", "**", "[abc]", `\`, "~user", "{a,b}", "x\v", "x\f", "é\u00a0"} {
		names[n] = true
	}
	dirs := []string{"/", "/pub", "/incoming/  ", "/a/-l", "", "//", "/a/", "/pub/x y", "/-", "pub", "/é/\xe9"}
	globs := []string{"/**", "/**/incoming", "/a/**/b/**/c", "/up?", "/caf?", "/caf\xe9", "/[abc]", `/\[abc]`, `/star\*name`,
		"/[!a-c]x", "/[^a-c]x", "/[]]", "/[é-ë]", "/a*b*c", "/*.tar.*", "/-rf", "*", "ftp://127.0.0.1:*", "*.NFO",
		"*.r[0-9][0-9]", "ftp://[[]::1]:21", "/pub/mirrors/**/.snapshot", "/**/upload-only", "*.torrent", "[", `a\`,
		"/a//b", "/a/", "/x**", "[z-a]", ""}
	i := 0
	for n := range names {
		f.Add(dirs[i%len(dirs)], n, globs[i%len(globs)], uint8(i))
		i++
	}
	for j, g := range globs {
		f.Add(dirs[j%len(dirs)], "x", g, uint8(j))
	}
	f.Fuzz(func(t *testing.T, dir, name, pattern string, kind uint8) {
		// splitPath and parentPath on anything.
		for _, p := range []string{dir, name, pattern} {
			d, n := ftppath.Split(p)
			if strings.Contains(n, "/") || !strings.HasSuffix(p, n) || (d != "/" && p != d+"/"+n) || ftppath.Parent(p) != d {
				t.Fatalf("splitPath(%q) = %q, %q; parentPath %q", p, d, n, ftppath.Parent(p))
			}
		}

		// joinPath: the name stays inside its directory.
		if strings.HasPrefix(dir, "/") {
			j := ftppath.Join(dir, name)
			prefix := dir + "/"
			if dir == "/" {
				prefix = "/"
			}
			if j != prefix+name || !ftppath.AtOrBelow(j, dir) || j != dir && !ftppath.Below(j, dir) {
				t.Fatalf("joinPath(%q, %q) = %q", dir, name, j)
			}
			if !strings.Contains(name, "/") {
				if d, n := ftppath.Split(j); d != dir || n != name || ftppath.Parent(j) != dir {
					t.Fatalf("joinPath(%q, %q) = %q splits into %q, %q", dir, name, j, d, n)
				}
			}
		}

		// pathArg: absolute, never trimmable, otherwise the path itself.
		for _, p := range []string{dir, ftppath.Join(dir, name)} {
			a := pathArg(p)
			switch {
			case p == "" || p == "/":
				if a != "/" {
					t.Fatalf("pathArg(%q) = %q", p, a)
				}
			case strings.HasSuffix(p, " ") || strings.HasSuffix(p, "\t"):
				if a != p+"/." {
					t.Fatalf("pathArg(%q) = %q: trailing white space would be trimmed", p, a)
				}
			default:
				if a != p {
					t.Fatalf("pathArg(%q) = %q", p, a)
				}
			}
		}

		// plainPath: only the allowed bytes, no element starting with "-".
		for _, p := range []string{dir, name, ftppath.Join(dir, name)} {
			want := true
			for k := 0; k < len(p); k++ {
				if !fzPlainByte(p[k]) || p[k] == '-' && k > 0 && p[k-1] == '/' {
					want = false
				}
			}
			if got := ftppath.Plain(p); got != want {
				t.Fatalf("plainPath(%q) = %v, want %v", p, got, want)
			}
			if ftppath.Plain(p) && strings.HasPrefix(p, "/") && (strings.Contains(p, "/-") || pathArg(p) != p) {
				t.Fatalf("plain path %q: element with a leading \"-\", or pathArg %q", p, pathArg(p))
			}
		}

		// Any pattern: compiling and matching never panic, and the fast
		// paths agree with the general matcher.
		candidates := []string{dir, name, pattern, ftppath.Join(dir, name), dir + "/x", ascii.Lower(dir), "/" + name}
		if g, err := glob.Compile(pattern, glob.Kind(kind%4)); err == nil {
			if g.Pattern != pattern || g.Kind != glob.Kind(kind%4) {
				t.Fatalf("glob %+v from %q", g, pattern)
			}
			for _, c := range candidates {
				m := g.Match(c)
				if g.Kind == glob.Path && m && !strings.HasPrefix(c, "/") {
					t.Fatalf("path glob %q matched relative %q", pattern, c)
				}
				if m && strings.HasPrefix(c, "/") && glob.MatchAtOrBelow([]*glob.Glob{g}, c) == nil {
					t.Fatalf("glob %q matches %q but matchAtOrBelow does not", pattern, c)
				}
			}
		} else if g != nil {
			t.Fatal("a glob with an error")
		}

		// A quoted literal path matches exactly itself and what is below it.
		if fzLiteralPath(dir) {
			g, err := glob.Compile(fzQuoteGlob(dir), glob.Path)
			if err != nil {
				t.Fatalf("quoted path %q: %v", dir, err)
			}
			for _, c := range append(candidates, dir+" ", strings.ToUpper(dir)) {
				if g.Match(c) != (c == dir) {
					t.Fatalf("literal glob for %q: Match(%q) = %v", dir, c, g.Match(c))
				}
				if strings.HasPrefix(c, "/") && (glob.MatchAtOrBelow([]*glob.Glob{g}, c) != nil) != ftppath.AtOrBelow(c, dir) {
					t.Fatalf("literal glob for %q: matchAtOrBelow(%q) = %v", dir, c, glob.MatchAtOrBelow([]*glob.Glob{g}, c))
				}
			}
		}
		// And a quoted name or host matches itself, ASCII case aside.
		for _, k := range []glob.Kind{glob.Name, glob.Host} {
			lit := name
			if k == glob.Host {
				lit = pattern
			}
			if lit == "" || k == glob.Name && strings.Contains(lit, "/") {
				continue
			}
			g, err := glob.Compile(fzQuoteGlob(lit), k)
			if err != nil {
				t.Fatalf("quoted %q (kind %d): %v", lit, k, err)
			}
			for _, c := range append(candidates, strings.ToUpper(lit), lit+" ") {
				if g.Match(c) != (ascii.Lower(c) == ascii.Lower(lit)) {
					t.Fatalf("literal glob for %q (kind %d): Match(%q) = %v", lit, k, c, g.Match(c))
				}
			}
		}
	})
}
