package scanner

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
)

// ManifestKind says what a manifest file is.
type ManifestKind string

// Manifest kinds.
const (
	// ManifestLsLR is recursive "ls -lR" output (ls-lR, ls-lR.gz, ls-lR.txt).
	ManifestLsLR ManifestKind = "ls-lR"
	// ManifestSums is a checksum list (SHA256SUMS, MD5SUMS, md5sum.txt, ...).
	ManifestSums ManifestKind = "checksums"
)

// MaxManifestBytes bounds a manifest (and a decompressed ls-lR.gz): 256 MiB.
// Exceeding it is an error, not a silent cut. The paths a manifest's
// entries add up to are bounded by it too (a crafted ls-lR could otherwise
// join one long section header to millions of short lines).
const MaxManifestBytes = 256 << 20

// maxManifestPathBytes bounds the bytes of a manifest's entry paths
// together (MaxManifestBytes; a variable so that tests can lower it).
var maxManifestPathBytes = MaxManifestBytes

// maxManifestProblems is how many problems a Manifest keeps; the rest are
// counted in one final message.
const maxManifestProblems = 100

// sumsHexLen maps checksum manifest names to the length of their hex
// digests.
var sumsHexLen = map[string]int{
	"MD5SUMS": 32, "MD5SUMS.txt": 32, "md5sum.txt": 32,
	"SHA1SUMS": 40, "SHA1SUMS.txt": 40, "sha1sum.txt": 40,
	"SHA256SUMS": 64, "SHA256SUMS.txt": 64, "sha256sum.txt": 64,
	"SHA512SUMS": 128, "SHA512SUMS.txt": 128, "sha512sum.txt": 128,
}

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
func ManifestKindOf(name string) (ManifestKind, bool) {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	switch name {
	case "ls-lR", "ls-lR.gz", "ls-lR.txt":
		return ManifestLsLR, true
	}
	if _, ok := sumsHexLen[name]; ok {
		return ManifestSums, true
	}
	return "", false
}

// isManifestCompanion reports whether name is a manifest name or a
// detached signature of one (SHA256SUMS.gpg, .asc, .sig, .sign): those are
// published with the index but never listed in it.
func isManifestCompanion(name string) bool {
	if _, ok := ManifestKindOf(name); ok {
		return true
	}
	for _, ext := range []string{".asc", ".sig", ".sign", ".gpg"} {
		if base, ok := strings.CutSuffix(name, ext); ok {
			if _, ok := ManifestKindOf(base); ok {
				return true
			}
		}
	}
	return false
}

// ManifestEntry is one path a manifest lists.
type ManifestEntry struct {
	// Path is the archive path, absolute, "/"-joined, exact bytes.
	Path string
	// Type is TypeDir, TypeFile, TypeLink (or TypeOther) from ls-lR;
	// TypeFile for checksums.
	Type EntryType
	// Size is -1 when unknown (checksums).
	Size int64
	// Hash is the lower-case hex digest for checksums; "" for ls-lR.
	Hash string
	// Line is the 1-based line in the manifest, for evidence.
	Line int
}

// Manifest is a parsed manifest.
type Manifest struct {
	// Path is where the manifest file is in the archive (absolute).
	Path string
	Kind ManifestKind
	// Root is the directory the manifest's paths are relative to and
	// whose subtree it covers: the manifest's own directory, except for
	// an ls-lR whose first line is an absolute header naming a directory
	// below it (see ParseManifest).
	Root string
	// Entries are sorted by Path; duplicates are removed (the first is
	// kept and a Problem recorded).
	Entries []ManifestEntry
	// Problems are lines that could not be parsed and other trouble, at
	// most 100 and one final message counting the rest.
	Problems []string

	// rebasable is set when Root came from an absolute ls-lR header taken
	// as an archive path below the manifest's directory: ManifestFindings
	// takes it as the manifest's directory instead when the archive has
	// no such directory (see ParseManifest).
	rebasable bool
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
func ParseManifest(mpath string, data []byte) (*Manifest, error) {
	if !strings.HasPrefix(mpath, "/") {
		return nil, fmt.Errorf("manifest %q: want an absolute archive path", mpath)
	}
	dir, name := splitPath(mpath)
	kind, ok := ManifestKindOf(name)
	if !ok {
		return nil, fmt.Errorf("manifest %s: not a manifest name (want ls-lR, ls-lR.gz, SHA256SUMS, MD5SUMS, ...)", disp(mpath))
	}
	text, err := manifestText(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", disp(mpath), err)
	}
	p := &manifestParser{m: &Manifest{Path: mpath, Kind: kind, Root: dir}, dir: dir}
	if kind == ManifestLsLR {
		p.lslr(text)
	} else {
		p.sums(text, sumsHexLen[name])
	}
	if p.err != nil {
		return nil, fmt.Errorf("manifest %s: %w", disp(mpath), p.err)
	}
	p.finish()
	return p.m, nil
}

// manifestText returns the manifest's text, decompressed when it starts
// with the gzip magic bytes.
func manifestText(data []byte) (string, error) {
	if len(data) > MaxManifestBytes {
		return "", fmt.Errorf("%d bytes: larger than the %d MiB bound", len(data), MaxManifestBytes>>20)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return string(data), nil
	}
	// First measure, keeping nothing: a bomb costs time, not memory.
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	n, err := io.Copy(io.Discard, io.LimitReader(zr, MaxManifestBytes+1))
	if err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	if n > MaxManifestBytes {
		return "", fmt.Errorf("decompresses to more than the %d MiB bound (%d compressed bytes)", MaxManifestBytes>>20, len(data))
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
	m   *Manifest
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
	if len(p.m.Problems) < maxManifestProblems {
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
		return clean(line[:limit]) + "…"
	}
	return clean(line)
}

func (p *manifestParser) add(e ManifestEntry) {
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

// atOrBelow reports whether path p is root or lies below it.
func atOrBelow(p, root string) bool {
	if root == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == root || (strings.HasPrefix(p, root) && len(p) > len(root) && p[len(root)] == '/')
}

// below reports whether path p lies strictly below root.
func below(p, root string) bool { return p != root && atOrBelow(p, root) }

// cleanElems splits a path into its elements, dropping empty and "."
// ones; ok is false when one is "..".
func cleanElems(p string) (elems []string, ok bool) {
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "", ".":
		case "..":
			return nil, false
		default:
			elems = append(elems, el)
		}
	}
	return elems, true
}

// joinElems joins elements to dir in one allocation (a loop of joinPath
// would be quadratic in a crafted header with millions of elements).
func joinElems(dir string, elems []string) string {
	if len(elems) == 0 {
		return dir
	}
	if dir == "/" {
		dir = ""
	}
	return dir + "/" + strings.Join(elems, "/")
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
			e    Entry
			skip bool
			err  error
		)
		if !header {
			e, _, skip, err = ParseListLine(line, lslrNow)
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
			p.problem(n, "name %s contains \"/\": not an entry", disp(e.Name))
			return true
		}
		p.add(ManifestEntry{Path: joinPath(sec, e.Name), Type: e.Type, Size: e.Size, Line: n})
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
	elems, ok := cleanElems(h)
	if !ok {
		return "", "climbs with \"..\""
	}
	if h[0] != '/' {
		d := joinElems(p.dir, elems)
		if !atOrBelow(d, p.m.Root) {
			return "", "lies outside the index's root " + disp(p.m.Root)
		}
		return d, ""
	}
	abs := joinElems("/", elems)
	if p.absMode == 0 {
		switch state {
		case lslrFirst:
			// The listing's top directory is the header itself.
			switch {
			case abs == p.dir:
				p.absMode = 1
			case below(abs, p.dir):
				p.absMode = 1
				p.m.Root, p.m.rebasable = abs, true
			default:
				p.absMode, p.prefix = 2, abs
			}
		case lslrHeaderless:
			// The headerless first section listed the top directory,
			// and this is one of its subdirectories.
			top, _ := splitPath(abs)
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
		if !atOrBelow(abs, p.m.Root) {
			return "", "lies outside the index's root " + disp(p.m.Root)
		}
		return abs, ""
	}
	if !atOrBelow(abs, p.prefix) {
		return "", fmt.Sprintf("lies outside %s, taken as the server's path of %s", disp(p.prefix), disp(p.dir))
	}
	rest := strings.TrimPrefix(abs[len(p.prefix):], "/")
	if rest == "" {
		return p.dir, ""
	}
	return joinPath(p.dir, rest), ""
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

func isHex(s string) bool {
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
		if sp < 0 || !isHex(s[:sp]) {
			p.problem(n, "not a checksum line: %s", excerpt(line))
			return
		}
		hex, name, hexLen = s[:sp], s[sp+1:], wantLen
		if name != "" && (name[0] == ' ' || name[0] == '*') {
			name = name[1:] // text or binary mode marker
		}
	}
	if !isHex(hex) {
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
		p.problem(n, "absolute name %s: names are relative to the index's directory; ignored", disp(name))
		return
	}
	elems, ok := cleanElems(name)
	if !ok {
		p.problem(n, "name %s climbs out of the index's directory with \"..\"; ignored", disp(name))
		return
	}
	if len(elems) == 0 {
		p.problem(n, "name %s names the index's directory itself; ignored", disp(name))
		return
	}
	p.add(ManifestEntry{Path: joinElems(p.dir, elems), Type: TypeFile, Size: -1, Hash: strings.ToLower(hex), Line: n})
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
	slices.SortStableFunc(m.Entries, func(a, b ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
	out := m.Entries[:0]
	for i, e := range m.Entries {
		if i > 0 && e.Path == out[len(out)-1].Path {
			p.problem(e.Line, "%s listed again (first at line %d); the first is kept", disp(e.Path), out[len(out)-1].Line)
			continue
		}
		out = append(out, e)
	}
	clear(m.Entries[len(out):])
	m.Entries = out
	if p.nprob > maxManifestProblems {
		m.Problems = append(m.Problems, fmt.Sprintf("and %d more problems", p.nprob-maxManifestProblems))
	}
}

// ---- comparison ----

// ManifestFindings compares h.Entries with the manifests and returns the
// not-in-manifest and missing-from-archive findings, with the policy
// applied as Judge applies it (ignore globs, severity overrides, rules
// turned off), sorted (SortFindings). p may be nil for DefaultPolicy.
// Manifests without entries say nothing and are not compared.
//
// A manifest covers the subtree of its Root. An entry strictly below the
// Root that no covering manifest lists is not-in-manifest (high; low
// inside a declared drop box). Not compared: the manifest files and every
// other manifest name and its detached signature (SHA256SUMS.gpg), and
// entries inside directories the server would not list. ls-lR covers all
// types; an entry an ls-lR lists as another type, or as a file of another
// size (both known), is not-in-manifest too, with the difference as
// evidence: a replaced file is how trojaned archives are made. Sizes of
// directories and symlinks are not compared (a directory's size changes
// as entries are added). Checksum manifests cover files only, and a flat
// one (every name in its own directory, as "sha256sum *" makes them)
// covers only the files of its own directory, not those of
// subdirectories. An entry is in if any covering manifest lists it. A
// name starting with "." (or inside such a directory) that no covering
// manifest could have listed, because none lists any dot name (ls -lR
// without -a), is still reported, at the same severity: dot names are
// where uploads hide. Its evidence says so.
//
// A listed path the archive does not have is missing-from-archive
// (medium), but only where that is known: its parent directory was
// listed in full by this scan (not unreadable, no failed or partial
// listing, no unparsed line, not left undescended, at or below the start
// directory). Below a missing directory only the directory is reported,
// with the number of entries listed below it.
//
// An ls-lR whose Root was taken from an absolute header below the
// manifest's directory (see ParseManifest) is re-based onto the
// manifest's directory when the scan listed that directory but found no
// directory at Root: its absolute paths were the server's, after all.
func ManifestFindings(h *HostResult, ms []*Manifest, p *Policy) []Finding {
	if h == nil || len(ms) == 0 {
		return nil
	}
	if p == nil {
		p = DefaultPolicy()
	}
	c := newManifestCompare(h, ms, p)
	c.notInManifest()
	c.missing()
	return c.finish()
}

// manifestView is a manifest as compared: possibly re-based.
type manifestView struct {
	m       *Manifest
	root    string
	entries []ManifestEntry
	flat    bool   // a checksum manifest listing only its own directory
	noDots  bool   // lists no name starting with "."
	desc    string // for evidence
	absent  string // "not listed in ..." evidence
}

type manifestDirInfo struct {
	covering   []int // views whose root is at or above the directory
	unreadable bool  // the directory or one above is unreadable
}

type manifestCompare struct {
	h     *HostResult
	hp    *hostPolicy
	start string

	ents       []*Entry // sorted by path
	unreadable map[string]bool
	blocked    map[string]bool // directories whose content is not known in full
	mpaths     map[string]bool // the manifests' own paths

	views  []*manifestView
	roots  map[string][]int
	dirs   map[string]*manifestDirInfo
	listed map[string]bool

	out   []Finding
	index map[[2]string]int
}

func newManifestCompare(h *HostResult, ms []*Manifest, p *Policy) *manifestCompare {
	c := &manifestCompare{
		h:          h,
		hp:         p.forHost(h.Target.URL),
		start:      h.Target.Start,
		unreadable: map[string]bool{},
		blocked:    map[string]bool{},
		mpaths:     map[string]bool{},
		roots:      map[string][]int{},
		dirs:       map[string]*manifestDirInfo{},
		listed:     map[string]bool{},
		index:      map[[2]string]int{},
	}
	if c.start == "" {
		c.start = "/"
	}
	c.ents = make([]*Entry, len(h.Entries))
	for i := range h.Entries {
		c.ents[i] = &h.Entries[i]
	}
	if !slices.IsSortedFunc(c.ents, func(a, b *Entry) int { return strings.Compare(a.Path, b.Path) }) {
		slices.SortStableFunc(c.ents, func(a, b *Entry) int { return strings.Compare(a.Path, b.Path) })
	}
	for _, u := range h.Unreadable {
		c.unreadable[u.Path] = true
		c.blocked[u.Path] = true
	}
	for _, e := range h.Errors {
		// Failed, partial or never made listings, unparsed lines (the
		// line may be the very entry in question), names that could
		// not be sent: what is below is not known in full.
		c.blocked[e.Path] = true
	}
	for _, n := range h.Notes {
		if strings.Contains(n.Error, "not descended") {
			c.blocked[n.Path] = true
		}
	}
	for _, m := range ms {
		if m == nil || len(m.Entries) == 0 || !strings.HasPrefix(m.Root, "/") {
			continue
		}
		c.mpaths[m.Path] = true
		c.addView(m)
	}
	return c
}

func (c *manifestCompare) addView(m *Manifest) {
	v := &manifestView{m: m, root: m.Root, entries: m.Entries}
	if !slices.IsSortedFunc(v.entries, func(a, b ManifestEntry) int { return strings.Compare(a.Path, b.Path) }) {
		v.entries = slices.Clone(v.entries)
		slices.SortStableFunc(v.entries, func(a, b ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
	}
	kind := "ls-lR"
	if m.Kind == ManifestSums {
		kind = "checksum"
	}
	v.desc = fmt.Sprintf("%s (%s index of %s)", disp(m.Path), kind, disp(v.root))
	mdir, _ := splitPath(m.Path)
	if m.rebasable && below(m.Root, mdir) && !c.dirSeen(m.Root) && c.isListed(mdir) {
		v.root = mdir
		v.entries = make([]ManifestEntry, 0, len(m.Entries))
		for _, e := range m.Entries {
			if !below(e.Path, m.Root) {
				continue
			}
			e.Path = joinPath(mdir, e.Path[len(m.Root)+1:])
			v.entries = append(v.entries, e)
		}
		v.desc = fmt.Sprintf("%s (ls-lR index of %s; the archive has no %s, so its paths under %s are taken as the server's and read relative to %s)",
			disp(m.Path), disp(mdir), disp(m.Root), disp(m.Root), disp(mdir))
	}
	if m.Kind == ManifestSums {
		v.flat = true
		for _, e := range v.entries {
			if d, _ := splitPath(e.Path); d != v.root {
				v.flat = false
				break
			}
		}
	}
	v.noDots = !slices.ContainsFunc(v.entries, func(e ManifestEntry) bool { return dotBelow(e.Path, v.root) })
	v.absent = "not listed in " + v.desc
	c.roots[v.root] = append(c.roots[v.root], len(c.views))
	c.views = append(c.views, v)
}

// lookup returns the scan's entry at path p, or nil.
func (c *manifestCompare) lookup(p string) *Entry {
	i, ok := slices.BinarySearchFunc(c.ents, p, func(e *Entry, p string) int { return strings.Compare(e.Path, p) })
	if !ok {
		return nil
	}
	return c.ents[i]
}

// dirSeen reports whether the scan found directory d (or started there,
// or above it).
func (c *manifestCompare) dirSeen(d string) bool {
	if atOrBelow(c.start, d) {
		return true
	}
	e := c.lookup(d)
	return e != nil && e.Type == TypeDir
}

// isListed reports whether the scan listed directory d in full.
func (c *manifestCompare) isListed(d string) bool {
	if v, ok := c.listed[d]; ok {
		return v
	}
	ok := atOrBelow(d, c.start)
	if ok && d != c.start {
		e := c.lookup(d)
		ok = e != nil && e.Type == TypeDir
	}
	for q := d; ok; {
		if c.blocked[q] {
			ok = false
		}
		if q == "/" || q == c.start {
			break
		}
		q, _ = splitPath(q)
	}
	c.listed[d] = ok
	return ok
}

// dirInfo returns what the comparison needs to know about directory d.
func (c *manifestCompare) dirInfo(d string) *manifestDirInfo {
	if di, ok := c.dirs[d]; ok {
		return di
	}
	di := &manifestDirInfo{}
	if d != "/" {
		parent, _ := splitPath(d)
		pi := c.dirInfo(parent)
		di.covering, di.unreadable = pi.covering, pi.unreadable
	}
	if vs := c.roots[d]; len(vs) > 0 {
		di.covering = append(slices.Clip(di.covering), vs...)
	}
	di.unreadable = di.unreadable || c.unreadable[d]
	c.dirs[d] = di
	return di
}

func (c *manifestCompare) skipName(p string) bool {
	_, name := splitPath(p)
	return c.mpaths[p] || isManifestCompanion(name)
}

func (c *manifestCompare) notInManifest() {
	var absent, mismatch []string
	var applies []int
	for _, e := range c.ents {
		if !strings.HasPrefix(e.Path, "/") || strings.HasSuffix(e.Path, "/") {
			continue
		}
		parent, _ := splitPath(e.Path)
		di := c.dirInfo(parent)
		if len(di.covering) == 0 || di.unreadable || c.skipName(e.Path) {
			continue
		}
		absent, mismatch, applies = absent[:0], mismatch[:0], applies[:0]
		in := false
		for _, vi := range di.covering {
			v := c.views[vi]
			if v.m.Kind == ManifestSums && (e.Type != TypeFile || (v.flat && parent != v.root)) {
				continue
			}
			applies = append(applies, vi)
			me := v.find(e.Path)
			if me == nil {
				absent = append(absent, v.absent)
				continue
			}
			if why := manifestMismatch(v, me, e); why != "" {
				mismatch = append(mismatch, why)
				continue
			}
			in = true
			break
		}
		if in || len(applies) == 0 {
			continue
		}
		ev := make([]string, 0, len(mismatch)+len(absent)+2)
		ev = append(append(ev, mismatch...), absent...)
		if len(mismatch) == 0 && c.dotBlind(applies, e.Path) {
			ev = append(ev, manifestDotNote)
		}
		sev := ruleSeverity(RuleNotInManifest)
		if box := matchAtOrBelow(c.hp.dropBoxes, e.Path); box != nil {
			sev = SevLow
			ev = append(ev, "inside the declared drop box "+box.String())
		}
		c.add(e.Path, RuleNotInManifest, sev, ev, e.Size, e.Modified)
	}
}

// manifestDotNote explains a dot name that indexes without dot names
// could not have listed.
const manifestDotNote = "no covering index lists any name starting with \".\" (ls -lR without -a and \"sha256sum *\" leave them out), so none could list this one: it may be an ordinary dotfile such as .message, or an upload hidden under a dot name"

// dotBelow reports whether path p, below root, has an element below root
// that starts with ".".
func dotBelow(p, root string) bool {
	if root != "/" {
		p = p[len(root):]
	}
	return strings.Contains(p, "/.")
}

// dotBlind reports whether p has a name starting with "." below the
// roots of the manifests vis, none of which lists such a name.
func (c *manifestCompare) dotBlind(vis []int, p string) bool {
	for _, vi := range vis {
		v := c.views[vi]
		if !v.noDots || !dotBelow(p, v.root) {
			return false
		}
	}
	return len(vis) > 0
}

func (v *manifestView) find(p string) *ManifestEntry {
	i, ok := slices.BinarySearchFunc(v.entries, p, func(e ManifestEntry, p string) int { return strings.Compare(e.Path, p) })
	if !ok {
		return nil
	}
	return &v.entries[i]
}

// manifestMismatch says how the archive's entry differs from what the
// index lists: another type, or (files only, both sizes known) another
// size. "" when it matches.
func manifestMismatch(v *manifestView, me *ManifestEntry, e *Entry) string {
	if me.Type != e.Type {
		return fmt.Sprintf("listed in %s line %d as %s; the archive has %s", disp(v.m.Path), me.Line, typePhrase(me.Type), typePhrase(e.Type))
	}
	if e.Type == TypeFile && me.Size >= 0 && e.Size >= 0 && me.Size != e.Size {
		return fmt.Sprintf("listed in %s line %d as a %d-byte file; the archive has %d bytes: replaced since the index was built, or the index is stale",
			disp(v.m.Path), me.Line, me.Size, e.Size)
	}
	return ""
}

func typePhrase(t EntryType) string {
	switch t {
	case TypeDir:
		return "a directory"
	case TypeFile:
		return "a file"
	case TypeLink:
		return "a symlink"
	}
	return "an entry of another type (device, pipe or socket)"
}

func (c *manifestCompare) missing() {
	incomplete := ""
	if !c.h.Complete && len(c.h.Incomplete) > 0 {
		incomplete = strings.Join(c.h.Incomplete, "; ")
	} else if !c.h.Complete {
		incomplete = "reason not recorded"
	}
	for _, v := range c.views {
		for i := range v.entries {
			me := &v.entries[i]
			if c.lookup(me.Path) != nil || c.skipName(me.Path) {
				continue
			}
			parent, _ := splitPath(me.Path)
			if !c.isListed(parent) {
				continue
			}
			what := typePhrase(me.Type)
			switch {
			case me.Hash != "":
				what = fmt.Sprintf("a file with %s digest %s", hashName(len(me.Hash)), me.Hash)
			case me.Type == TypeFile && me.Size >= 0:
				what = fmt.Sprintf("a %d-byte file", me.Size)
			}
			ev := []string{
				fmt.Sprintf("listed in %s line %d as %s", v.desc, me.Line, what),
				fmt.Sprintf("the scan listed %s and it is not there", disp(parent)),
			}
			if me.Type == TypeDir {
				n := 0
				for j := i + 1; j < len(v.entries) && below(v.entries[j].Path, me.Path); j++ {
					n++
				}
				if n > 0 {
					ev = append(ev, fmt.Sprintf("the index lists %s below it, not reported one by one", plural(n, "more entry", "more entries")))
				}
			}
			if incomplete != "" {
				ev = append(ev, fmt.Sprintf("the scan was incomplete (%s), but it listed %s in full", clean(incomplete), disp(parent)))
			}
			c.add(me.Path, RuleMissingManifest, ruleSeverity(RuleMissingManifest), ev, me.Size, time.Time{})
		}
	}
}

func hashName(n int) string {
	switch n {
	case 32:
		return "MD5"
	case 40:
		return "SHA-1"
	case 56:
		return "SHA-224"
	case 64:
		return "SHA-256"
	case 96:
		return "SHA-384"
	case 128:
		return "SHA-512"
	}
	return "a"
}

func ruleSeverity(id string) Severity {
	r, _ := RuleByID(id)
	return r.Severity
}

// add records a finding; a second finding of the same rule for the same
// path is merged into the first.
func (c *manifestCompare) add(path, rule string, sev Severity, ev []string, size int64, mod time.Time) {
	k := [2]string{rule, path}
	if i, ok := c.index[k]; ok {
		f := &c.out[i]
		for _, s := range ev {
			if !slices.Contains(f.Evidence, s) {
				f.Evidence = append(f.Evidence, s)
			}
		}
		f.Severity = max(f.Severity, sev)
		return
	}
	c.index[k] = len(c.out)
	c.out = append(c.out, Finding{Host: c.h.Target.URL, Path: path, Rule: rule, Severity: sev, Evidence: ev, Size: size, Modified: mod})
}

func (c *manifestCompare) finish() []Finding {
	pol := c.hp.pol
	out := make([]Finding, 0, len(c.out))
	for _, f := range c.out {
		if pol.Off[f.Rule] || matchAtOrBelow(c.hp.ignore, f.Path) != nil {
			continue
		}
		if s, ok := pol.Severity[f.Rule]; ok {
			f.Severity = s
		}
		r, _ := RuleByID(f.Rule)
		f.Action = r.Action
		out = append(out, f)
	}
	SortFindings(out)
	return out
}
