package rules

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// Names: names built to be overlooked (hidden-name) and names that mark
// abuse (suspicious-name), with the index that finds which name patterns
// can match a name without trying each.

// hiddenName reports a name built to be overlooked (hidden-name), one
// evidence line per trait.
func (j *judge) hiddenName(e *ftpaudit.Entry) {
	if tr := hiddenTraits(e.Name); len(tr) > 0 {
		j.add(e.Path, ftpaudit.RuleHiddenName, ftpaudit.SevHigh, tr, "")
	}
	if ev, sev := dotUpload(e); len(ev) > 0 {
		j.add(e.Path, ftpaudit.RuleHiddenName, sev, ev, "")
	}
}

// conventionalDotNames are the dot names that archives and FTP servers
// use on purpose (lower case): directory messages (.message: wu-ftpd,
// vsftpd, proftpd; .banner: pure-ftpd; .msg, .welcome), per-directory
// server configuration (.ftpaccess: proftpd; .htaccess: web servers
// sharing the tree), wu-ftpd's .notar, mirror tools' leftovers (.listing:
// wget; .mirror), file manager and version control files (.hidden,
// .directory, .DS_Store, .gitignore, .gitattributes, .cvsignore).
var conventionalDotNames = map[string]bool{
	".message": true, ".msg": true, ".welcome": true, ".banner": true,
	".ftpaccess": true, ".htaccess": true, ".notar": true,
	".listing": true, ".mirror": true,
	".hidden": true, ".directory": true, ".ds_store": true,
	".gitignore": true, ".gitattributes": true, ".cvsignore": true,
}

// dotUploadSize is the size from which a dot-named file is large.
const dotUploadSize = 1 << 20

// binaryKind says what a binary extension marks, and whether it is a
// disk image or an executable.
type binaryKind struct {
	kind string
	exec bool
}

// binaryExts are extensions of binary files that a read-only mirror does
// not hide under a dot name: disk images and executables, and archives.
var binaryExts = func() map[string]binaryKind {
	m := map[string]binaryKind{}
	for _, g := range []struct {
		k    binaryKind
		exts []string
	}{
		{binaryKind{"a disk image", true}, []string{"iso", "img", "bin", "dmg", "vhd", "vhdx", "vmdk", "vdi", "qcow2", "nrg", "toast"}},
		{binaryKind{"an executable", true}, []string{"exe", "com", "scr", "pif", "msi", "dll", "sys", "bat", "cmd", "vbs", "ps1", "jar", "apk", "elf", "so"}},
		{binaryKind{"an archive", false}, []string{"zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "tbz", "tbz2", "xz", "txz", "zst", "lz", "lzma", "z", "cab", "arj", "ace", "deb", "rpm"}},
	} {
		for _, x := range g.exts {
			m[x] = g.k
		}
	}
	return m
}()

// dotUpload reports a file hidden under a dot name that no archive uses
// for it: a disk image or executable (high), an archive or a file of at
// least 1 MiB (medium). Uploads are stashed that way in read-only
// mirrors, where ls and most clients do not show dot names. It returns
// the evidence, or nil.
func dotUpload(e *ftpaudit.Entry) ([]string, ftpaudit.Severity) {
	if e.Type != ftpaudit.TypeFile || len(e.Name) < 2 || e.Name[0] != '.' || strings.Trim(e.Name, ". ") == "" {
		return nil, 0
	}
	lower := ascii.Lower(e.Name)
	if conventionalDotNames[lower] {
		return nil, 0
	}
	var why []string
	sev := ftpaudit.Severity(-1)
	if i := strings.LastIndexByte(lower, '.'); i >= 0 {
		if b, ok := binaryExts[lower[i+1:]]; ok {
			why = append(why, fmt.Sprintf("%s (*%s) under a dot name", b.kind, lower[i:]))
			sev = ftpaudit.SevMedium
			if b.exec {
				sev = ftpaudit.SevHigh
			}
		}
	}
	if e.Size >= dotUploadSize {
		why = append(why, fmt.Sprintf("%d bytes (%s): large for a dot file", e.Size, ftpaudit.FormatSize(e.Size)))
		sev = max(sev, ftpaudit.SevMedium)
	}
	if len(why) == 0 {
		return nil, 0
	}
	ev := append([]string{fmt.Sprintf("name %s starts with a dot: ls and most clients do not show it, and it is not a dot name archives use (.message, .listing, .htaccess, ...)", quoted(e.Name))}, why...)
	ev = append(ev, "an unexpected upload hidden in the tree, unless you put it there")
	return ev, sev
}

// hiddenTraits says why a name is built to be overlooked, one reason per
// trait; nil for an ordinary name (".message" and ".hidden" are ordinary
// dotfiles). Like all evidence it is raw text: the name is only put in
// quotes, and the characters it is made of are named by code point
// (U+001B), never escaped; the report escapes once.
func hiddenTraits(name string) []string {
	if name == "" || name == "." || name == ".." {
		return nil
	}
	if plainName(name) && windowsDevice(name) == "" {
		return nil
	}
	return nameTraits(name)
}

// nameTraits is hiddenTraits without its shortcut for plain names.
func nameTraits(name string) []string {
	var out []string
	if !utf8.ValidString(name) {
		out = append(out, fmt.Sprintf("name %s is not valid UTF-8: clients show it differently, and some cannot open it", quoted(name)))
	}
	if strings.Trim(name, ". ") == "" {
		out = append(out, fmt.Sprintf("name %s is made only of dots and spaces: it passes for \".\", \"..\" or nothing in a listing", quoted(name)))
	} else {
		if r, _ := utf8.DecodeRuneInString(name); unicode.IsSpace(r) {
			out = append(out, fmt.Sprintf("name %s starts with white space", quoted(name)))
		}
		if r, _ := utf8.DecodeLastRuneInString(name); unicode.IsSpace(r) {
			out = append(out, fmt.Sprintf("name %s ends with white space", quoted(name)))
		}
	}
	var ctl, inv []string
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		i += n
		if (r >= 0x20 && r < 0x7f) || (r == utf8.RuneError && n <= 1) {
			continue
		}
		s := fmt.Sprintf("U+%04X", r)
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			if !slices.Contains(ctl, s) {
				ctl = append(ctl, s)
			}
		case isInvisible(r):
			if !slices.Contains(inv, s) {
				inv = append(inv, s)
			}
		}
	}
	if len(ctl) > 0 {
		out = append(out, fmt.Sprintf("name contains control characters (%s): they can rewrite a terminal or a log", strings.Join(ctl, " ")))
	}
	if len(inv) > 0 {
		out = append(out, fmt.Sprintf("name contains invisible or text-direction characters (%s): it does not read as what it is", strings.Join(inv, " ")))
	}
	if dev := windowsDevice(name); dev != "" {
		out = append(out, fmt.Sprintf("name is the Windows device name %s: Windows clients cannot open or delete it", dev))
	}
	return out
}

// plainName reports whether name, not empty, has none of the traits of
// hiddenTraits but perhaps the Windows device name: it is printable ASCII
// (valid UTF-8, no control or invisible character), does not start or end
// with a space (the only white space in printable ASCII), and has a byte
// other than a dot or a space. Most names are: they skip the decoding.
func plainName(name string) bool {
	if name[0] == ' ' || name[len(name)-1] == ' ' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i]-0x20 >= 0x7f-0x20 { // below 0x20 wraps around
			return false
		}
	}
	return name[0] != '.' || strings.Trim(name, ". ") != ""
}

// quoted puts a name in double quotes for evidence, so that its bounds
// show; unlike ftpaudit.EvidenceName it always does. It does not escape.
func quoted(name string) string { return `"` + name + `"` }

// isInvisible reports format characters (zero-width, bidi controls, soft
// hyphen, BOM, tags), line and paragraph separators, and letters that
// render as nothing.
func isInvisible(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x180E:
		return true
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

// windowsDevice returns the Windows device name that name is (CON, LPT1,
// "con.txt" too: the extension does not matter to Windows), upper-cased
// (ASCII letters only), or "".
func windowsDevice(name string) string {
	base := name
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	if len(base) > len("CONOUT$") {
		return "" // longer than every device name
	}
	for _, dev := range [...]string{"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} {
		if ascii.EqualFold(base, dev) {
			return dev
		}
	}
	if len(base) >= 4 {
		for _, dev := range [...]string{"COM", "LPT"} {
			if !ascii.EqualFold(base[:3], dev) {
				continue
			}
			switch base[3:] {
			case "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
				return dev + base[3:]
			}
		}
	}
	return ""
}

// hiddenAncestor returns the first directory above p whose name has a
// hidden-name trait.
func hiddenAncestor(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	// The elements of p[1:] but the last, each ending at a "/".
	for end := 1; ; end++ {
		i := strings.IndexByte(p[end:], '/')
		if i < 0 {
			return ""
		}
		start := end
		end += i
		if len(hiddenTraits(p[start:end])) > 0 {
			return "/" + p[1:end]
		}
	}
}

// namePattern is a suspicious-name pattern: built in, or the policy's.
type namePattern struct {
	glob   *glob.Glob
	reason string
	upload bool // only where uploads land
}

// builtinPatterns are the suspicious-name patterns of the catalogue:
// warez release files, trust and credential files, and executables and
// disk images where uploads land.
func builtinPatterns() []namePattern {
	type b struct {
		pat, reason string
		upload      bool
	}
	list := []b{
		{"*.nfo", "release info file that warez groups sign their uploads with", false},
		{"*.sfv", "SFV checksum list that comes with warez releases", false},
		{"file_id.diz", "release description of warez and BBS uploads", false},
		{"*.r[0-9][0-9]", "numbered RAR volume, the way warez releases are split", false},
		{".rhosts", "trust file: lets remote users log in without a password", false},
		{".shosts", "trust file: lets remote users log in without a password", false},
		{"hosts.equiv", "trust file: lets remote users log in without a password", false},
		{".forward", "mail forwarding file: on a writable FTP home it runs commands when mail arrives", false},
		{".netrc", "FTP client credentials: holds passwords", false},
		{".ssh", "ssh configuration directory: where authorized_keys are planted", false},
		{"authorized_keys", "ssh key list: a planted key grants a shell", false},
		{"authorized_keys2", "ssh key list: a planted key grants a shell", false},
		{"id_rsa", "ssh private key", false},
		{"id_dsa", "ssh private key", false},
		{"id_ecdsa", "ssh private key", false},
		{"id_ed25519", "ssh private key", false},
		{".htpasswd", "web server password file: holds password hashes", false},
		{".htaccess", "web server configuration: an uploaded one reconfigures a web server that serves this tree", true},
	}
	for _, ext := range []string{"exe", "scr", "com", "pif", "bat", "cmd", "msi", "vbs"} {
		list = append(list, b{"*." + ext, "an executable where an archive does not put them", true})
	}
	for _, ext := range []string{"iso", "img", "dmg", "vhd", "vhdx", "vmdk"} {
		list = append(list, b{"*." + ext, "a disk image where an archive does not put them", true})
	}
	out := make([]namePattern, len(list))
	for i, x := range list {
		out[i] = namePattern{glob.Must(x.pat, glob.Name), x.reason, x.upload}
	}
	return out
}

var builtinNamePatterns = builtinPatterns()

// patternIndex finds which of a list of name patterns can match a name
// without trying each: exact names by map, "*suffix" patterns by the
// suffix's last "."-part, the rest always tried. Judging runs it on every
// entry, so it matters on large archives.
type patternIndex struct {
	pats   []namePattern
	exact  map[string][]int
	suffix map[string][]int // key: the literal's part from its last '.' ("" when none)
	// exactKeys and suffixKeys screen the lookups of exact and suffix.
	exactKeys, suffixKeys keyScreen
	other                 []int
	// need[k] is a run of bytes that every name matching pats[other[k]]
	// contains ("": none known), so that most names skip the matcher.
	need []string
}

// newPatternIndex indexes pats by their shape (glob.Shape).
func newPatternIndex(pats []namePattern) *patternIndex {
	x := &patternIndex{pats: pats, exact: map[string][]int{}, suffix: map[string][]int{}}
	for i, np := range pats {
		lit, exact, suffix := np.glob.Shape()
		switch {
		case exact:
			x.exact[lit] = append(x.exact[lit], i)
			x.exactKeys.add(lit)
		case suffix:
			k := lastDotPart(lit)
			x.suffix[k] = append(x.suffix[k], i)
			x.suffixKeys.add(k)
		default:
			x.other = append(x.other, i)
			x.need = append(x.need, literalRun(ascii.Lower(np.glob.Pattern)))
		}
	}
	return x
}

// literalRun returns the longest run of literal bytes in a name glob
// before its first "[" or "\" (whose parsing it leaves to the glob
// package): each of them matches itself and only itself, one after the
// other, so a name the glob matches contains the run.
func literalRun(pat string) string {
	best, start := "", 0
	for i := 0; i <= len(pat); i++ {
		if i == len(pat) || strings.IndexByte("*?[\\", pat[i]) >= 0 {
			if i-start > len(best) {
				best = pat[start:i]
			}
			if i == len(pat) || pat[i] == '[' || pat[i] == '\\' {
				break
			}
			start = i + 1
		}
	}
	return best
}

// lastDotPart is s from its last '.', or "" when s has none.
func lastDotPart(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i:]
	}
	return ""
}

// matches appends to out the indexes, in list order, of the patterns that
// match lower (a lower-cased name).
func (x *patternIndex) matches(lower string, out []int) []int {
	n := len(out)
	if x.exactKeys.may(lower) {
		out = append(out, x.exact[lower]...)
	}
	for _, k := range [2]string{lastDotPart(lower), ""} {
		if x.suffixKeys.may(k) {
			for _, i := range x.suffix[k] {
				if x.pats[i].glob.MatchLower(lower) {
					out = append(out, i)
				}
			}
		}
		if k == "" {
			break
		}
	}
	for k, i := range x.other {
		if x.need[k] != "" && !strings.Contains(lower, x.need[k]) {
			continue
		}
		if x.pats[i].glob.MatchLower(lower) {
			out = append(out, i)
		}
	}
	slices.Sort(out[n:])
	return out
}

var builtinNameIndex = newPatternIndex(builtinNamePatterns)

// keyScreen tells, without hashing it, most strings that are not one of
// a set of keys from those that may be: a key has its length, its first
// and last bytes and the byte before the last. Names are looked up in a
// few small maps on every entry, and nearly all of them are in none.
type keyScreen struct {
	empty bool // "" is a key
	// For each byte, a bit per length (1<<min(len, 63)) of the keys that
	// have it there.
	first, last, beforeLast [256]uint64
}

// lenBit is the bit of keyScreen for length n.
func lenBit(n int) uint64 { return 1 << min(n, 63) }

// add adds k to the keys.
func (s *keyScreen) add(k string) {
	if k == "" {
		s.empty = true
		return
	}
	b := lenBit(len(k))
	s.first[k[0]] |= b
	s.last[k[len(k)-1]] |= b
	if len(k) > 1 {
		s.beforeLast[k[len(k)-2]] |= b
	}
}

// may reports whether k can be one of the keys: false proves it is none.
func (s *keyScreen) may(k string) bool {
	if k == "" {
		return s.empty
	}
	b := lenBit(len(k))
	return s.first[k[0]]&b != 0 && s.last[k[len(k)-1]]&b != 0 && (len(k) == 1 || s.beforeLast[k[len(k)-2]]&b != 0)
}

// markerWords are whole words (split at anything but letters and digits)
// that mark warez and cracks. Words that legitimate archives use
// ("patch", "serial", "crack" inside "cracklib") are not here alone.
var markerWords = map[string]string{
	"0day":      "warez scene term",
	"0days":     "warez scene term",
	"0dayz":     "warez scene term",
	"warez":     "warez scene term",
	"keygen":    "key generator: software piracy",
	"keygens":   "key generator: software piracy",
	"keymaker":  "key generator: software piracy",
	"crack":     "crack: software piracy",
	"cracked":   "crack: software piracy",
	"cracks":    "crack: software piracy",
	"crackz":    "crack: software piracy",
	"serials":   "serial numbers: software piracy",
	"serialz":   "serial numbers: software piracy",
	"tagged":    "warez tagging: couriers mark hijacked upload areas",
	"nulled":    "nulled (licence-stripped) software",
	"activator": "licence activator: software piracy",
	"activated": "pre-activated software: piracy",
	"kmspico":   "licence activator: software piracy",
}

// markerKeys screens the lookups of markerWords.
var markerKeys = func() *keyScreen {
	s := &keyScreen{}
	for w := range markerWords {
		s.add(w)
	}
	return s
}()

// crackToolWords turn an executable into a crack tool ("patch.exe").
var crackToolWords = []string{"patch", "loader", "crack", "keygen", "activator", "kmspico"}

var executableExts = []string{"exe", "com", "scr", "msi", "bat", "cmd", "pif"}

// appendNameWords appends the words of lower, a lower-cased name (runs
// of a-z and 0-9: every other byte, UTF-8 or not, separates), to words.
func appendNameWords(words []string, lower string) []string {
	isWord := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i < len(lower); {
		for i < len(lower) && !isWord(lower[i]) {
			i++
		}
		j := i
		for j < len(lower) && isWord(lower[j]) {
			j++
		}
		if j > i {
			words = append(words, lower[i:j])
		}
		i = j
	}
	return words
}

// suspiciousName reports a name that marks abuse (suspicious-name): a
// built-in or policy name pattern (some only where uploads land, see
// uploadPlace), a warez or crack marker word, or an executable named as a
// crack tool.
func (j *judge) suspiciousName(e *ftpaudit.Entry) {
	var ev []string
	place := ""
	placeDone := false
	where := func() string {
		if !placeDone {
			place, placeDone = j.uploadPlace(e.Path), true
		}
		return place
	}
	lower := ascii.Lower(e.Name)
	report := func(np namePattern) {
		if np.upload {
			if w := where(); w != "" {
				ev = append(ev, fmt.Sprintf("name matches %s %s: %s", ftpaudit.EvidenceName(np.glob.Pattern), w, np.reason))
			}
			return
		}
		ev = append(ev, fmt.Sprintf("name matches %s: %s", ftpaudit.EvidenceName(np.glob.Pattern), np.reason))
	}
	var mbuf [4]int
	for _, i := range builtinNameIndex.matches(lower, mbuf[:0]) {
		report(builtinNamePatterns[i])
	}
	var wbuf [16]string
	words := appendNameWords(wbuf[:0], lower)
	var seen []string
	for i, w := range words {
		if markerKeys.may(w) {
			if r, ok := markerWords[w]; ok && !slices.Contains(seen, w) {
				seen = append(seen, w)
				ev = append(ev, fmt.Sprintf("name contains the word %q: %s", w, r))
			}
		}
		if w == "serial" && i+1 < len(words) && (words[i+1] == "key" || words[i+1] == "keys" || words[i+1] == "number" || words[i+1] == "numbers") {
			ev = append(ev, fmt.Sprintf("name contains %q: serial numbers, software piracy", w+" "+words[i+1]))
		}
	}
	if len(words) > 1 && slices.Contains(executableExts, words[len(words)-1]) && e.Type == ftpaudit.TypeFile {
		for _, w := range words[:len(words)-1] {
			if slices.Contains(crackToolWords, w) {
				ev = append(ev, fmt.Sprintf("an executable named %q: how cracks are distributed", w))
				break
			}
		}
	}
	for _, sp := range j.hp.pol.Suspicious {
		if sp.Glob.MatchLower(lower) {
			report(namePattern{sp.Glob, "policy: " + sp.Reason, sp.UploadAreasOnly})
		}
	}
	if len(ev) > 0 {
		j.add(e.Path, ftpaudit.RuleSuspiciousName, ftpaudit.SevHigh, ev, "")
	}
}
