// Package manifest parses the indexes FTP archives publish of themselves
// (ls-lR, ls-lR.gz, SHA256SUMS, MD5SUMS and the like) into
// ftpaudit.Manifest, byte-exact and bounded (a gzip bomb is an error, not
// a cut). Comparing a manifest with the walked tree is the rules' job.
package manifest

// Published manifests: the indexes many FTP archives keep of themselves
// (ls-lR, SHA256SUMS, MD5SUMS, ...). An entry of the archive that its index
// does not list was not put there by whoever built the index: an upload,
// found on the very first scan without a baseline.

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// MaxManifestBytes bounds a manifest (and a decompressed ls-lR.gz): 256 MiB.
// Exceeding it is an error, not a silent cut. The paths a manifest's
// entries add up to are bounded by it too (a crafted ls-lR could otherwise
// join one long section header to millions of short lines).
const MaxBytes = 256 << 20

// maxManifestPathBytes bounds the bytes of a manifest's entry paths
// together (MaxManifestBytes; a variable so that tests can lower it).
var maxManifestPathBytes = MaxBytes

// maxManifestProblems is how many problems a Manifest keeps; the rest are
// counted in one final message.
const MaxProblems = 100

// sumsHexLen maps checksum manifest names to the length of their hex
// digests.
var sumsHexLen = map[string]int{
	"MD5SUMS": 32, "MD5SUMS.txt": 32, "md5sum.txt": 32,
	"SHA1SUMS": 40, "SHA1SUMS.txt": 40, "sha1sum.txt": 40,
	"SHA256SUMS": 64, "SHA256SUMS.txt": 64, "sha256sum.txt": 64,
	"SHA512SUMS": 128, "SHA512SUMS.txt": 128, "sha512sum.txt": 128,
}

// minNameLen and maxNameLen bound the lengths of the names KindOf
// takes: "ls-lR" and those of sumsHexLen.
var minNameLen, maxNameLen = func() (lo, hi int) {
	lo, hi = len("ls-lR"), len("ls-lR.txt")
	for n := range sumsHexLen {
		lo, hi = min(lo, len(n)), max(hi, len(n))
	}
	return lo, hi
}()

// bsdAlgoHexLen maps the algorithm tags of BSD style lines ("SHA256 (name)
// = hex", coreutils --tag, and OpenSSL's "SHA2-256(name)= hex") to the
// length of their hex digests.
var bsdAlgoHexLen = map[string]int{
	"MD5": 32, "SHA1": 40, "SHA224": 56, "SHA256": 64, "SHA384": 96, "SHA512": 128,
	"SHA2-224": 56, "SHA2-256": 64, "SHA2-384": 96, "SHA2-512": 128,
}

// ManifestKindOf reports whether a file name is a manifest name, and which
// kind: ls-lR, ls-lR.gz and ls-lR.txt (not ls-lR.Z: compress(1) is not
// supported); SHA256SUMS, SHA512SUMS, SHA1SUMS and MD5SUMS, each optionally
// with .txt; md5sum.txt, sha1sum.txt, sha256sum.txt and sha512sum.txt.
// Names are compared case-sensitively, as real archives spell them.
// Single-file sums (foo.iso.sha256) are not manifests. A path is judged by
// its last element.
func KindOf(name string) (ftpaudit.ManifestKind, bool) {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if len(name) < minNameLen || len(name) > maxNameLen {
		return "", false // most names: no map lookup
	}
	switch name {
	case "ls-lR", "ls-lR.gz", "ls-lR.txt":
		return ftpaudit.ManifestLsLR, true
	}
	if _, ok := sumsHexLen[name]; ok {
		return ftpaudit.ManifestSums, true
	}
	return "", false
}

// isManifestCompanion reports whether name is a manifest name or a
// detached signature of one (SHA256SUMS.gpg, .asc, .sig, .sign): those are
// published with the index but never listed in it.
func IsCompanion(name string) bool {
	if _, ok := KindOf(name); ok {
		return true
	}
	for _, ext := range []string{".asc", ".sig", ".sign", ".gpg"} {
		if base, ok := strings.CutSuffix(name, ext); ok {
			if _, ok := KindOf(base); ok {
				return true
			}
		}
	}
	return false
}

// lslrNow is the "now" ls-lR lines are parsed against. Only the dates
// depend on it, and they are not kept; a fixed late-December date in a
// leap year accepts every "Mon DD HH:MM" date, Feb 29 included.
var lslrNow = time.Date(2024, time.December, 31, 12, 0, 0, 0, time.UTC)

// ParseManifest parses a manifest fetched from the archive path mpath,
// whose last element must be a manifest name (ManifestKindOf). Data
// starting with the gzip magic bytes is decompressed first, whatever the
// name says; decompression is bounded by MaxManifestBytes, so a gzip bomb
// is an error (the size is measured before anything is kept). Lines end
// in "\n", with one "\r" before it stripped; a UTF-8 byte order mark at
// the start is skipped. Lines that cannot be understood are recorded in
// Problems, never dropped silently.
//
// ls-lR: sections, each the "ls -l" listing of one directory, lines parsed
// with ParseListLine ("total N" lines, "." and ".." skipped). A section
// header is a line ending in ":" at the start of the file or after a blank
// line (or one starting with "/" or "./" that is not a listing line). A
// first section without a header is the listing of the manifest's own
// directory. Relative headers ("./pub:", "pub:", ".:") are relative to the
// manifest's directory. Absolute headers ("/pub:") are archive paths,
// unless they are paths of the server's file system (ls-lR built as
// "ls -lR /srv/ftp/pub"). The heuristic, decided at the first absolute
// header H: the listing's top directory T is H itself when H is the first
// line (GNU ls), and H's parent when a headerless first section came
// before it (BSD ls: that section listed T, and H is one of its
// subdirectories). If T is the manifest's directory, headers are archive
// paths. If H is the first line and T lies below the manifest's
// directory, headers are archive paths too and Root is T (a listing of a
// subtree); ManifestFindings checks that against the archive (see there).
// Otherwise T is taken as the server's path of the manifest's directory:
// the prefix T is replaced by the manifest's directory in every absolute
// header. When relative headers came before H, absolute headers are
// archive paths. A header outside the Root (or outside T) is a Problem,
// and its section is skipped.
//
// Checksums: GNU lines "<hex>  name" and "<hex> *name" (binary), a
// leading "\" meaning the name is escaped ("\\", "\n", "\r"); "<hex> name"
// (BSD "-r"); BSD/--tag lines "SHA256 (name) = <hex>" and OpenSSL's
// "SHA256(name)= <hex>". Names are relative to the manifest's directory,
// "./" and "." elements are dropped. A digest of the wrong length for the
// file (or the tag), an absolute name, or a name with a ".." element is a
// Problem, and the line is ignored. Lines starting with "#" are comments.
// A PGP clear-signed file is read for its signed text.
func Parse(mpath string, data []byte) (*ftpaudit.Manifest, error) {
	if !strings.HasPrefix(mpath, "/") {
		return nil, fmt.Errorf("manifest %q: want an absolute archive path", mpath)
	}
	dir, name := ftppath.Split(mpath)
	kind, ok := KindOf(name)
	if !ok {
		return nil, fmt.Errorf("manifest %s: not a manifest name (want ls-lR, ls-lR.gz, SHA256SUMS, MD5SUMS, ...)", ftpaudit.EvidenceName(mpath))
	}
	text, err := manifestText(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", ftpaudit.EvidenceName(mpath), err)
	}
	p := &manifestParser{m: &ftpaudit.Manifest{Path: mpath, Kind: kind, Root: dir}, dir: dir}
	if kind == ftpaudit.ManifestLsLR {
		p.lslr(text)
	} else {
		p.sums(text, sumsHexLen[name])
	}
	if p.err != nil {
		return nil, fmt.Errorf("manifest %s: %w", ftpaudit.EvidenceName(mpath), p.err)
	}
	p.finish()
	return p.m, nil
}

// manifestText returns the manifest's text, decompressed when it starts
// with the gzip magic bytes.
func manifestText(data []byte) (string, error) {
	if len(data) > MaxBytes {
		return "", fmt.Errorf("%d bytes: larger than the %d MiB bound", len(data), MaxBytes>>20)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return string(data), nil
	}
	// First measure, keeping nothing: a bomb costs time, not memory.
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	n, err := io.Copy(io.Discard, io.LimitReader(zr, MaxBytes+1))
	if err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	if n > MaxBytes {
		return "", fmt.Errorf("decompresses to more than the %d MiB bound (%d compressed bytes)", MaxBytes>>20, len(data))
	}
	if err := zr.Reset(bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	var b strings.Builder
	b.Grow(int(n))
	if _, err := io.CopyN(&b, zr, n); err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	return b.String(), nil
}

type manifestParser struct {
	m   *ftpaudit.Manifest
	dir string // the manifest's directory
	err error  // fatal: the paths exceed the bound

	nprob     int
	pathBytes int

	// ls-lR absolute header mode: 0 undecided, 1 archive paths, 2 server
	// paths under prefix.
	absMode int
	prefix  string
}

func (p *manifestParser) problem(line int, format string, args ...any) {
	p.nprob++
	if len(p.m.Problems) < MaxProblems {
		msg := fmt.Sprintf(format, args...)
		if line > 0 {
			msg = fmt.Sprintf("line %d: %s", line, msg)
		}
		p.m.Problems = append(p.m.Problems, msg)
	}
}

// excerpt shows (the start of) a manifest line in a problem.
func excerpt(line string) string {
	const limit = 120
	if len(line) > limit {
		return ftpaudit.EvidenceReply(line[:limit]) + "…"
	}
	return ftpaudit.EvidenceReply(line)
}

func (p *manifestParser) add(e ftpaudit.ManifestEntry) {
	p.pathBytes += len(e.Path)
	if p.pathBytes > maxManifestPathBytes {
		p.err = fmt.Errorf("its paths add up to more than the %d-byte bound", maxManifestPathBytes)
		return
	}
	p.m.Entries = append(p.m.Entries, e)
}

// manifestLines calls fn for each line of text with its 1-based number,
// until fn returns false.
func manifestLines(text string, fn func(n int, line string) bool) {
	text = strings.TrimPrefix(text, "\xef\xbb\xbf")
	for n := 1; len(text) > 0; n++ {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if !fn(n, line) {
			return
		}
	}
}

// ---- ls-lR ----

func (p *manifestParser) lslr(text string) {
	sec := p.dir     // the current section's directory; "" while skipping one
	started := false // a non-blank line has been seen
	content := false // an entry or total line came before the first header
	headers := 0
	prevBlank := false
	manifestLines(text, func(n int, line string) bool {
		if line == "" {
			prevBlank = true
			return true
		}
		wasBlank, first := prevBlank, !started
		prevBlank, started = false, true
		header := strings.HasSuffix(line, ":") && (first || wasBlank)
		var (
			e    ftpaudit.Entry
			skip bool
			err  error
		)
		if !header {
			e, _, skip, err = listing.ParseListLine(line, lslrNow)
			if err != nil && strings.HasSuffix(line, ":") &&
				(strings.HasPrefix(line, "/") || strings.HasPrefix(line, "./") || line == ".:") {
				header = true
			}
		}
		if header {
			var why string
			state := lslrFirst
			switch {
			case headers > 0:
				state = lslrAfterHeader
			case content:
				state = lslrHeaderless
			}
			sec, why = p.header(line[:len(line)-1], state)
			if why != "" {
				p.problem(n, "section header %s %s: its lines are skipped", excerpt(line), why)
			}
			headers++
			return true
		}
		if headers == 0 {
			content = true
		}
		switch {
		case err != nil:
			p.problem(n, "%v: %s", err, excerpt(line))
			return true
		case skip, sec == "":
			return true
		case e.Name == "." || e.Name == "..":
			p.problem(n, "%s named %q: not an entry", e.Type, e.Name)
			return true
		case strings.IndexByte(e.Name, '/') >= 0:
			p.problem(n, "name %s contains \"/\": not an entry", ftpaudit.EvidenceName(e.Name))
			return true
		}
		p.add(ftpaudit.ManifestEntry{Path: ftppath.Join(sec, e.Name), Type: e.Type, Size: e.Size, Line: n})
		return p.err == nil
	})
}

// Where a section header comes in an ls-lR.
const (
	lslrFirst       = iota // the first line with content
	lslrHeaderless         // after a first section without a header
	lslrAfterHeader        // after another header
)

// header resolves a section header (without its ":") to an archive
// directory, or returns why it cannot. The first absolute header decides
// how absolute headers are read (see ParseManifest).
func (p *manifestParser) header(h string, state int) (dir, why string) {
	if h == "" {
		return "", "is empty"
	}
	elems, ok := ftppath.CleanElems(h)
	if !ok {
		return "", "climbs with \"..\""
	}
	if h[0] != '/' {
		d := ftppath.JoinElems(p.dir, elems)
		if !ftppath.AtOrBelow(d, p.m.Root) {
			return "", "lies outside the index's root " + ftpaudit.EvidenceName(p.m.Root)
		}
		return d, ""
	}
	abs := ftppath.JoinElems("/", elems)
	if p.absMode == 0 {
		switch state {
		case lslrFirst:
			// The listing's top directory is the header itself.
			switch {
			case abs == p.dir:
				p.absMode = 1
			case ftppath.Below(abs, p.dir):
				p.absMode = 1
				p.m.Root, p.m.Rebasable = abs, true
			default:
				p.absMode, p.prefix = 2, abs
			}
		case lslrHeaderless:
			// The headerless first section listed the top directory,
			// and this is one of its subdirectories.
			top, _ := ftppath.Split(abs)
			if top == p.dir {
				p.absMode = 1
			} else {
				p.absMode, p.prefix = 2, top
			}
		default:
			// Relative headers came first: they say where the top is,
			// so absolute ones are taken as archive paths.
			p.absMode = 1
		}
	}
	if p.absMode == 1 {
		if !ftppath.AtOrBelow(abs, p.m.Root) {
			return "", "lies outside the index's root " + ftpaudit.EvidenceName(p.m.Root)
		}
		return abs, ""
	}
	if !ftppath.AtOrBelow(abs, p.prefix) {
		return "", fmt.Sprintf("lies outside %s, taken as the server's path of %s", ftpaudit.EvidenceName(p.prefix), ftpaudit.EvidenceName(p.dir))
	}
	rest := strings.TrimPrefix(abs[len(p.prefix):], "/")
	if rest == "" {
		return p.dir, ""
	}
	return ftppath.Join(p.dir, rest), ""
}

// ---- checksums ----

func (p *manifestParser) sums(text string, wantLen int) {
	const (
		plain = iota
		pgpHeader
		pgpBody
		pgpSig
	)
	state := plain
	started := false
	manifestLines(text, func(n int, line string) bool {
		if !started && line != "" {
			started = true
			if line == "-----BEGIN PGP SIGNED MESSAGE-----" {
				state = pgpHeader
				return true
			}
		}
		switch state {
		case pgpHeader:
			if line == "" {
				state = pgpBody
			}
			return true
		case pgpBody:
			if line == "-----BEGIN PGP SIGNATURE-----" {
				state = pgpSig
				return true
			}
			line = strings.TrimPrefix(line, "- ") // dash-escaped text
		case pgpSig:
			return true
		}
		if line == "" || line[0] == '#' {
			return true
		}
		p.sumLine(n, line, wantLen)
		return p.err == nil
	})
}

func IsHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// bsdSum parses "ALGO (name) = hex" and "ALGO(name)= hex".
func bsdSum(s string) (name, hex string, hexLen int, ok bool) {
	open := strings.IndexByte(s, '(')
	if open <= 0 {
		return "", "", 0, false
	}
	hexLen, ok = bsdAlgoHexLen[strings.TrimSuffix(s[:open], " ")]
	if !ok {
		return "", "", 0, false
	}
	closing := strings.LastIndexByte(s, ')')
	if closing <= open {
		return "", "", 0, false
	}
	after := s[closing+1:]
	if rest, ok := strings.CutPrefix(after, " = "); ok {
		after = rest
	} else if rest, ok := strings.CutPrefix(after, "= "); ok {
		after = rest
	} else {
		return "", "", 0, false
	}
	return s[open+1 : closing], after, hexLen, true
}

func (p *manifestParser) sumLine(n int, line string, wantLen int) {
	s := line
	escaped := s[0] == '\\'
	if escaped {
		s = s[1:]
	}
	name, hex, hexLen, ok := bsdSum(s)
	if !ok {
		sp := strings.IndexByte(s, ' ')
		if sp < 0 || !IsHex(s[:sp]) {
			p.problem(n, "not a checksum line: %s", excerpt(line))
			return
		}
		hex, name, hexLen = s[:sp], s[sp+1:], wantLen
		if name != "" && (name[0] == ' ' || name[0] == '*') {
			name = name[1:] // text or binary mode marker
		}
	}
	if !IsHex(hex) {
		p.problem(n, "digest is not hexadecimal: %s", excerpt(line))
		return
	}
	if len(hex) != hexLen {
		p.problem(n, "digest has %d hex digits, want %d: %s", len(hex), hexLen, excerpt(line))
		return
	}
	if name == "" {
		p.problem(n, "no file name: %s", excerpt(line))
		return
	}
	if escaped {
		var err error
		if name, err = unescapeSumName(name); err != nil {
			p.problem(n, "%v: %s", err, excerpt(line))
			return
		}
	}
	if name[0] == '/' {
		p.problem(n, "absolute name %s: names are relative to the index's directory; ignored", ftpaudit.EvidenceName(name))
		return
	}
	elems, ok := ftppath.CleanElems(name)
	if !ok {
		p.problem(n, "name %s climbs out of the index's directory with \"..\"; ignored", ftpaudit.EvidenceName(name))
		return
	}
	if len(elems) == 0 {
		p.problem(n, "name %s names the index's directory itself; ignored", ftpaudit.EvidenceName(name))
		return
	}
	p.add(ftpaudit.ManifestEntry{Path: ftppath.JoinElems(p.dir, elems), Type: ftpaudit.TypeFile, Size: -1, Hash: strings.ToLower(hex), Line: n})
}

// unescapeSumName undoes coreutils' escaping of names in checksum lines
// that start with "\".
func unescapeSumName(s string) (string, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("escaped name ends in a lone \"\\\"")
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("unknown escape \"\\%c\" in name", s[i])
		}
	}
	return b.String(), nil
}

// finish sorts the entries, removes duplicates and bounds the problems.
func (p *manifestParser) finish() {
	m := p.m
	slices.SortStableFunc(m.Entries, func(a, b ftpaudit.ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
	out := m.Entries[:0]
	for i, e := range m.Entries {
		if i > 0 && e.Path == out[len(out)-1].Path {
			p.problem(e.Line, "%s listed again (first at line %d); the first is kept", ftpaudit.EvidenceName(e.Path), out[len(out)-1].Line)
			continue
		}
		out = append(out, e)
	}
	clear(m.Entries[len(out):])
	m.Entries = out
	if p.nprob > MaxProblems {
		m.Problems = append(m.Problems, fmt.Sprintf("and %d more problems", p.nprob-MaxProblems))
	}
}
