package rules

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/glob"
)

// The anonymous account and what an entry's attributes grant it: who owns
// an entry, what its mode and MLSD perm facts allow, and the rules that
// rest on that alone (anonymous-login, world-writable-file, upload-owner).

// anonymousLogin reports that the host let the anonymous user in, with
// the banner and how much it can see (anonymous-login).
func (j *judge) anonymousLogin() {
	login := j.h.Info.Login
	if (login != "anonymous" && login != "ftp") || j.h.LoginError != "" {
		return
	}
	ev := []string{fmt.Sprintf("login as %q accepted", login)}
	if b := ftpaudit.EvidenceReply(firstLine(j.h.Info.Banner)); b != "" {
		ev = append(ev, "banner: "+b)
	}
	ev = append(ev, fmt.Sprintf("anonymous users can see %s and %s (%s listed)",
		plural(j.h.Stats.Files, "file", "files"), plural(j.h.Stats.Dirs, "directory", "directories"),
		plural(j.h.Stats.Listed, "directory", "directories")))
	j.add("/", ftpaudit.RuleAnonymousLogin, ftpaudit.SevInfo, ev, "")
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normID strips leading zeros from a numeric id.
func normID(s string) string {
	if !isDigits(s) {
		return s
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t
	}
	return "0"
}

// idKey is what an entry's owner (or group) ids are made of: its owner
// (group) column and three MLSD facts, exactly as given (ownerKey,
// groupKey).
type idKey [4]string

// ownerKey is e's owner column and its MLSD UNIX.ownername, UNIX.owner
// and UNIX.uid facts.
func ownerKey(e *ftpaudit.Entry) idKey {
	k := idKey{e.Owner}
	if e.Extra != nil { // (without, every fact is "")
		k[1], k[2], k[3] = e.Fact("unix.ownername"), e.Fact("unix.owner"), e.Fact("unix.uid")
	}
	return k
}

// groupKey is ownerKey for the group: the group column and the MLSD
// UNIX.groupname, UNIX.group and UNIX.gid facts.
func groupKey(e *ftpaudit.Entry) idKey {
	k := idKey{e.Group}
	if e.Extra != nil {
		k[1], k[2], k[3] = e.Fact("unix.groupname"), e.Fact("unix.group"), e.Fact("unix.gid")
	}
	return k
}

// ids gathers k's strings into buf, each normalised (normID) and once,
// in k's order, and returns them (buf's).
func (k *idKey) ids(buf *[4]string) []string {
	out := buf[:0]
	for _, s := range k {
		if s = normID(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ownerIDs returns the owner as the listing gave it: the owner column or
// fact, and the MLSD UNIX.owner / UNIX.uid facts, without duplicates.
// The result is buf's (held by the caller, so that nothing is allocated
// per entry).
func ownerIDs(e *ftpaudit.Entry, buf *[4]string) []string {
	k := ownerKey(e)
	return k.ids(buf)
}

// groupIDs is ownerIDs for the group: the group column or fact and the
// MLSD UNIX.group / UNIX.gid facts.
func groupIDs(e *ftpaudit.Entry, buf *[4]string) []string {
	k := groupKey(e)
	return k.ids(buf)
}

// idMemo keeps what anonOwner (or anonGroup) last worked out, for one
// key (ownerKey, groupKey): entries come in path order, and those of one
// directory mostly have one owner and group, so they ask the same
// question in a row. An answer depends on the key, the policy and what
// the judge learned (learnAnonymous, which clears the memo when it
// learns), and on nothing else. It is the judge's: every copy of the
// judge that eachEntry runs on another goroutine has its own.
type idMemo struct {
	key  idKey
	set  bool      // key, ids and n are those of an entry
	ids  [4]string // key.ids
	n    int
	done [2]bool // how[k], ok[k] are worked out (anonOwner: k is learned)
	how  [2]string
	ok   [2]bool
	lrn  bool // anonGroup's learned
}

// of returns m for key k, emptied first when it held another key.
func (m *idMemo) of(k idKey) *idMemo {
	if !m.set || m.key != k {
		*m = idMemo{key: k, set: true}
		m.n = len(k.ids(&m.ids))
	}
	return m
}

// isRootUser and isRootGroup report the ids that are never the anonymous
// account, whatever another fact of the same entry says.
func isRootUser(id string) bool  { return id == "root" || id == "0" }
func isRootGroup(id string) bool { return id == "root" || id == "0" || id == "wheel" }

// anonOwner reports whether e is owned by the anonymous account: one of
// its owner ids is a configured (or, with learned, a learned) anonymous
// name or uid, and none is root (a server that names every owner "ftp"
// but gives UNIX.owner=0 is showing a root-owned file). how is the
// evidence.
func (j *judge) anonOwner(e *ftpaudit.Entry, learned bool) (how string, ok bool) {
	return j.anonOwnerOf(j.owners.of(ownerKey(e)), learned)
}

// anonOwnerOf is anonOwner for the entry whose owner m holds (j.owners),
// from m when it has the answer.
func (j *judge) anonOwnerOf(m *idMemo, learned bool) (how string, ok bool) {
	k := 0
	if learned {
		k = 1
	}
	if !m.done[k] {
		m.how[k], m.ok[k] = j.ownerIsAnon(m.ids[:m.n], learned)
		m.done[k] = true
	}
	return m.how[k], m.ok[k]
}

// ownerIsAnon is anonOwner for an entry's owner ids (ownerIDs).
func (j *judge) ownerIsAnon(ids []string, learned bool) (how string, ok bool) {
	if slices.ContainsFunc(ids, isRootUser) {
		return "", false
	}
	for _, id := range ids {
		if j.hp.names[id] || (isDigits(id) && j.hp.uids[id]) {
			return fmt.Sprintf("owner %s is the anonymous account", ftpaudit.EvidenceName(id)), true
		}
	}
	if learned {
		for _, id := range ids {
			if ev, ok := j.learned[id]; ok {
				return ev, true
			}
		}
	}
	return "", false
}

// anonGroup reports whether e's group is the anonymous account's: a
// configured name or gid, or a learned one, and never root, 0 or wheel.
func (j *judge) anonGroup(e *ftpaudit.Entry) (how string, ok, learned bool) {
	m := j.groups.of(groupKey(e))
	if !m.done[0] {
		m.how[0], m.ok[0], m.lrn = j.groupIsAnon(m.ids[:m.n])
		m.done[0] = true
	}
	return m.how[0], m.ok[0], m.lrn
}

// groupIsAnon is anonGroup for an entry's group ids (groupIDs).
func (j *judge) groupIsAnon(ids []string) (how string, ok, learned bool) {
	if slices.ContainsFunc(ids, isRootGroup) {
		return "", false, false
	}
	for _, id := range ids {
		if j.hp.names[id] || (isDigits(id) && j.hp.gids[id]) {
			return fmt.Sprintf("group %s is the anonymous account's", ftpaudit.EvidenceName(id)), true, false
		}
	}
	for _, id := range ids {
		if ev, ok := j.learnedGrp[id]; ok {
			return ev, true, true
		}
	}
	return "", false, false
}

// learnAnonymous takes as the anonymous account every owner (other than
// root, and other than the directory's own owner) of an entry directly
// inside a directory that others may write (mode o+w), that the server
// grants create or mkdir on (MLSD perm c or m), or where the probe's
// upload was accepted; and the groups of such entries likewise as its
// group. Entries are taken in path order, so the evidence names the
// first such directory. It is given every entry in turn (survey), when
// the policy learns owners or groups, with the directories' entries read
// before it (dirs).
func (j *judge) learnAnonymous(e *ftpaudit.Entry, dirs *seenDirs) {
	if e.Type != ftpaudit.TypeFile && e.Type != ftpaudit.TypeDir {
		return
	}
	// below: the parent ftppath.Split gives is a proper prefix of
	// e.Path ("/" for "/x"), so every entry at it was read before e.
	below := len(e.Path) > 1 && e.Path[0] == '/'
	if below && !dirs.grants && !j.uploaded {
		return // no entry read so far makes an upload source (uploadSource)
	}
	parent, _ := ftppath.Split(e.Path)
	var de *ftpaudit.Entry // the entry at parent, when it is a directory's
	if below {
		de = dirs.at(parent) // the finder's, if a directory's
	} else {
		de = j.entry(parent)
	}
	if !j.uploadSource(parent, de) {
		return
	}
	pe := j.entry(parent)
	var buf, pbuf [4]string
	if ids := ownerIDs(e, &buf); j.hp.learn && len(ids) > 0 && !slices.ContainsFunc(ids, isRootUser) {
		_, known := j.anonOwner(e, false)
		if !known && (pe == nil || !sharesID(ownerIDs(pe, &pbuf), ids)) {
			for _, id := range ids {
				if _, ok := j.learned[id]; !ok {
					j.owners = idMemo{} // its answers may change
					j.learned[id] = fmt.Sprintf("owner %s owns uploads in %s: taken as the anonymous account", ftpaudit.EvidenceName(id), ftpaudit.EvidenceName(parent))
				}
			}
		}
	}
	if ids := groupIDs(e, &buf); j.hp.learnGIDs && len(ids) > 0 && !slices.ContainsFunc(ids, isRootGroup) {
		known := slices.ContainsFunc(ids, func(id string) bool { return j.hp.names[id] || j.hp.gids[id] })
		if !known && (pe == nil || !sharesID(groupIDs(pe, &pbuf), ids)) {
			for _, id := range ids {
				if _, ok := j.learnedGrp[id]; !ok {
					j.groups = idMemo{} // its answers may change
					j.learnedGrp[id] = fmt.Sprintf("group %s owns uploads in %s: taken as the anonymous account's group", ftpaudit.EvidenceName(id), ftpaudit.EvidenceName(parent))
				}
			}
		}
	}
}

// sharesID reports whether a and b have an id in common.
func sharesID(a, b []string) bool {
	return slices.ContainsFunc(a, func(id string) bool { return slices.Contains(b, id) })
}

// uploadSource reports whether anonymous users can put entries in dir on
// evidence other than ownership. e is the entry at dir (j.entry), if any;
// nil will do where it is not a directory's.
func (j *judge) uploadSource(dir string, e *ftpaudit.Entry) bool {
	for _, pr := range j.probes[dir] {
		if pr.File.Accepted || pr.Mkdir.Accepted {
			return true
		}
	}
	return grantsUpload(e)
}

// grantsUpload reports whether e is a directory whose mode lets others
// write or whose MLSD perm facts grant create or mkdir (c or m).
func grantsUpload(e *ftpaudit.Entry) bool {
	if e == nil || e.Type != ftpaudit.TypeDir {
		return false
	}
	return modeHas(e.Mode, 8, 'w') || strings.ContainsAny(e.Perm(), "cm")
}

// checkOwnership counts the entries with an owner, and those shown as
// owned by the anonymous account, to detect servers that show every owner
// that way (settleOwnership). It reports whether e is shown so (by the
// policy's names and ids: anonOwner without the learned ones).
func (j *judge) checkOwnership(e *ftpaudit.Entry) (anon bool) {
	m := j.owners.of(ownerKey(e))
	if m.n == 0 {
		return false
	}
	j.ownTotal++
	if _, anon = j.anonOwnerOf(m, false); anon {
		j.ownAnon++
	}
	return anon
}

// settleOwnership decides, once every entry was counted
// (checkOwnership), whether ownership is weak evidence on the host.
func (j *judge) settleOwnership() {
	total, anon := j.ownTotal, j.ownAnon
	if total > 0 && anon*10 >= total*9 {
		j.weakOwners = true
		j.weakNote = fmt.Sprintf("%d of the %d entries with an owner (%d%%) are shown as owned by the anonymous account: this server probably shows every owner that way (vsftpd hide_ids, proftpd DirFakeUser), so ownership is weak evidence here",
			anon, total, anon*100/total)
	}
}

// fileWriteLetters are the MLSD perm letters that let a user change a
// file: write, append, delete, rename.
const fileWriteLetters = "wadf"

// checkFilePerms counts, for the server-wide pattern of the MLSD perm
// facts of files (settlePerms takes it), the letters of fileWriteLetters
// a file's perm facts grant. The pattern is the letters the server grants
// on at least 90% of the files it gave perm facts for (j.permPattern). proftpd
// derives perm from its command rules for the logged-in user, not from
// the file (an anonymous upload rule gives perm=adfr to every root-owned
// 0644 file), so those letters say something about the server, reported
// once (serverPermFacts), and nothing about one file. A file's perm facts
// count for the file only where they grant letters outside the pattern
// (fileWritable); otherwise its mode and owner decide, so that a file is
// judged the same whether it was listed with MLSD or with LIST only.
func (j *judge) checkFilePerms(e *ftpaudit.Entry) {
	if e.Type != ftpaudit.TypeFile || e.Perm() == "" {
		return
	}
	j.permFiles++
	for k := 0; k < len(fileWriteLetters); k++ {
		if strings.IndexByte(e.Perm(), fileWriteLetters[k]) >= 0 {
			j.permCount[k]++
		}
	}
}

// settlePerms takes the pattern, once every file was counted
// (checkFilePerms).
func (j *judge) settlePerms() {
	for k := 0; k < len(fileWriteLetters); k++ {
		if j.permCount[k] > 0 && j.permCount[k]*10 >= j.permFiles*9 {
			j.permPattern += string(fileWriteLetters[k])
		}
	}
}

// permOutside returns the letters of fileWriteLetters that perm grants
// and the server-wide pattern does not.
func (j *judge) permOutside(perm string) string {
	var out []byte
	for k := 0; k < len(fileWriteLetters); k++ {
		c := fileWriteLetters[k]
		if strings.IndexByte(perm, c) >= 0 && strings.IndexByte(j.permPattern, c) < 0 {
			out = append(out, c)
		}
	}
	return string(out)
}

// describeLetters names perm letters for evidence: "append (a), delete
// (d)".
func describeLetters(letters string) string {
	ws := make([]string, 0, len(letters))
	for i := 0; i < len(letters); i++ {
		ws = append(ws, permWord(letters[i]))
	}
	return strings.Join(ws, ", ")
}

// serverPermFacts reports the server-wide pattern of file perm facts
// (server-perm-facts) once for the host, when it grants anonymous users
// what the files' modes and owners do not: medium when it claims write
// or append, low for delete and rename alone.
//
// files yields the entries in path order: every one, or at least every
// file whose perm facts grant a letter of fileWriteLetters (the pattern's
// are among them).
func (j *judge) serverPermFacts(files iter.Seq[*ftpaudit.Entry]) {
	if j.permPattern == "" {
		return
	}
	contra := 0
	var examples []string
	for e := range files {
		if e.Type != ftpaudit.TypeFile || !strings.ContainsAny(e.Perm(), j.permPattern) {
			continue
		}
		if _, sev := j.modeWritable(e, !j.weakOwners); sev >= 0 {
			continue
		}
		contra++
		if len(examples) < 3 {
			ex := ftpaudit.EvidenceName(e.Path) + " (perm=" + ftpaudit.EvidenceName(e.Perm())
			if e.Mode != "" {
				ex += ", mode " + ftpaudit.EvidenceName(e.Mode)
			}
			if e.Owner != "" {
				ex += ", owner " + ftpaudit.EvidenceName(e.Owner)
			}
			examples = append(examples, ex+")")
		}
	}
	if contra == 0 {
		return
	}
	more := ""
	if contra > len(examples) {
		more = "; ..."
	}
	ev := []string{
		fmt.Sprintf("the server's MLSD perm facts grant %s on at least 90%% of the %s it gave perm facts for (%s seen in all)",
			describeLetters(j.permPattern), plural(j.permFiles, "file", "files"), plural(max(j.h.Stats.Files, j.permFiles), "file", "files")),
		fmt.Sprintf("%s of them give anonymous users no such right by mode and owner: %s%s",
			plural(contra, "file", "files"), strings.Join(examples, "; "), more),
		"a fact about the server, not about each file (proftpd derives perm from its command rules for the logged-in user, such as an anonymous upload rule): files are judged by their mode and owner, and by their own perm facts only where these grant more than this pattern",
	}
	sev := ftpaudit.SevLow
	if strings.ContainsAny(j.permPattern, "wa") {
		sev = ftpaudit.SevMedium
	}
	j.add("/", ftpaudit.RuleServerPermFacts, sev, ev, "")
}

// permWord names an MLSD perm letter for evidence ("append (a)").
func permWord(c byte) string {
	switch c {
	case 'a':
		return "append (a)"
	case 'c':
		return "create files (c)"
	case 'd':
		return "delete (d)"
	case 'f':
		return "rename (f)"
	case 'm':
		return "make directories (m)"
	case 'p':
		return "delete entries (p)"
	case 'r':
		return "read (r)"
	case 'w':
		return "write (w)"
	}
	return string(c)
}

// permGrants describes which of letters perm grants; "" if none.
func permGrants(perm, letters string) string {
	var ws []string
	for i := 0; i < len(letters); i++ {
		if strings.IndexByte(perm, letters[i]) >= 0 {
			ws = append(ws, permWord(letters[i]))
		}
	}
	if len(ws) == 0 {
		return ""
	}
	return fmt.Sprintf("MLSD perm=%s: the server grants %s", ftpaudit.EvidenceName(perm), strings.Join(ws, ", "))
}

// modeHas reports whether a full ls mode string ("drwxrwxrwx") has c at
// index i: 2 the owner's w, 5 the group's w, 7 others' r, 8 others' w.
func modeHas(mode string, i int, c byte) bool {
	return len(mode) >= 10 && mode[i] == c
}

// worldWritableFile judges files outside writable areas
// (world-writable-file); inside one, every upload is writable by its
// uploader, and in-writable-area carries the same evidence.
func (j *judge) worldWritableFile(e *ftpaudit.Entry) {
	if e.Type != ftpaudit.TypeFile || j.areaAbove(e.Path) != "" {
		return
	}
	if ev, sev := j.fileWritable(e, !j.weakOwners); sev >= 0 {
		j.add(e.Path, ftpaudit.RuleWorldWritableFile, sev, ev, "")
	}
}

// modeWritable collects the evidence that a file's mode and owner let
// anonymous users change it, and its severity (-1: none). byOwner counts
// an anonymous owner or group with its w bit.
func (j *judge) modeWritable(e *ftpaudit.Entry, byOwner bool) ([]string, ftpaudit.Severity) {
	var ev []string
	sev := ftpaudit.Severity(-1)
	if modeHas(e.Mode, 8, 'w') {
		ev = append(ev, fmt.Sprintf("mode %s: others may write", ftpaudit.EvidenceName(e.Mode)))
		sev = ftpaudit.SevHigh
	}
	if byOwner && modeHas(e.Mode, 2, 'w') {
		if how, ok := j.anonOwner(e, true); ok {
			ev = append(ev, how, fmt.Sprintf("mode %s: the owner may write", ftpaudit.EvidenceName(e.Mode)))
			sev = ftpaudit.SevHigh
		}
	}
	if byOwner && modeHas(e.Mode, 5, 'w') {
		if how, ok, _ := j.anonGroup(e); ok {
			ev = append(ev, how, fmt.Sprintf("mode %s: the group may write", ftpaudit.EvidenceName(e.Mode)))
			sev = ftpaudit.SevHigh
		}
	}
	return ev, sev
}

// fileWritable collects the evidence that anonymous users may change a
// file, and its severity (-1: none): its mode and owner (modeWritable),
// and its MLSD perm facts where they grant letters outside the server's
// pattern (checkFilePerms): write or append high, delete or rename
// medium. The perm facts are shown beside a mode that already grants
// write, as corroboration.
func (j *judge) fileWritable(e *ftpaudit.Entry, byOwner bool) ([]string, ftpaudit.Severity) {
	ev, sev := j.modeWritable(e, byOwner)
	g := permGrants(e.Perm(), fileWriteLetters)
	if g == "" {
		return ev, sev
	}
	out := j.permOutside(e.Perm())
	if sev >= 0 || out != "" {
		ev = append(ev, g)
	}
	if out == "" {
		return ev, sev
	}
	if j.permPattern != "" {
		ev = append(ev, fmt.Sprintf("unlike the server's other files, whose perm facts grant only %s of these: %s is this file's own",
			describeLetters(j.permPattern), describeLetters(out)))
	}
	if strings.ContainsAny(out, "wa") {
		sev = ftpaudit.SevHigh
	} else {
		sev = max(sev, ftpaudit.SevMedium)
	}
	return ev, sev
}

// uploadOwner reports an entry owned by the anonymous account outside
// every writable area, writable directory and declared drop box
// (upload-owner): low where ownership is weak evidence.
func (j *judge) uploadOwner(e *ftpaudit.Entry) {
	if e.Type == ftpaudit.TypeLink {
		return
	}
	how, ok := j.anonOwner(e, true)
	if !ok {
		return
	}
	if _, ok := j.areas[e.Path]; ok || j.areaAbove(e.Path) != "" {
		return
	}
	if glob.MatchAtOrBelow(j.hp.dropBoxes, e.Path) != nil {
		return
	}
	if v := j.dirs[e.Path]; v != nil && (v.writable || v.latent) {
		return
	}
	ev := []string{how, "outside every writable area and declared drop box"}
	sev := ftpaudit.SevHigh
	if j.weakOwners {
		sev = ftpaudit.SevLow
		ev = append(ev, j.weakNote)
	}
	j.add(e.Path, ftpaudit.RuleUploadOwner, sev, ev, "")
}
