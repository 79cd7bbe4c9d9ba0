package ftpaudit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Severity ranks findings. Higher is worse.
type Severity int

// Severities, lowest first.
const (
	SevInfo Severity = iota
	SevLow
	SevMedium
	SevHigh
	SevCritical
)

var sevNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lower-case name ("high").
func (s Severity) String() string {
	if s < 0 || int(s) >= len(sevNames) {
		return "unknown"
	}
	return sevNames[s]
}

// ParseSeverity parses a severity name.
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range sevNames {
		if n == s {
			return Severity(i), true
		}
	}
	return 0, false
}

// Finding is one thing wrong (or worth knowing) about a host, with the
// evidence it rests on and what to do about it.
type Finding struct {
	// Host is the target URL the finding belongs to.
	Host string
	// Path is the exact path (server bytes) the finding is about; "/" for
	// host-wide findings.
	Path string
	// Rule is the stable rule ID ("writable-dir").
	Rule     string
	Severity Severity
	// Evidence says what the finding rests on, one fact per element
	// ("mode drwxrwxrwx: others may write", "probe: STOR accepted").
	Evidence []string
	// Size and Modified of the entry, when known (Size -1 when not).
	Size     int64
	Modified time.Time
	// Action is what the operator should do.
	Action string
}

// ProbeStep is one half of the active probe in a directory: the canary
// file (zero-byte STOR) or the canary directory (MKD).
type ProbeStep struct {
	// Tried is false when the step was not attempted.
	Tried bool
	// Accepted is true when the server created the canary.
	Accepted bool
	// Reply is the server's reply (or the error) to STOR or MKD.
	Reply string
	// Removed is true when the canary was removed and a check (listing,
	// or SIZE where the directory cannot be listed) confirmed it gone.
	Removed bool
	// RemoveReply is the reply to DELE or RMD, or why removal failed.
	RemoveReply string
	// Path is the canary's exact path.
	Path string
}

// ProbeResult is the outcome of the active probe (--probe) in one
// directory.
type ProbeResult struct {
	Dir   string
	File  ProbeStep
	Mkdir ProbeStep
	// Readable is set when the uploaded canary file could be downloaded
	// again: an upload area that serves uploads.
	Readable bool
	// Skipped says why the probe did not run here, if it did not.
	Skipped string
}

// Residue returns the canary paths this probe left behind.
func (p ProbeResult) Residue() []string {
	var out []string
	for _, s := range []ProbeStep{p.File, p.Mkdir} {
		if s.Accepted && !s.Removed {
			out = append(out, s.Path)
		}
	}
	return out
}

// FetchedFile is a small file the scan downloaded to judge its content
// (for example etc/passwd).
type FetchedFile struct {
	Path string
	Data []byte
	// Err is set when the download failed.
	Err string
}

// Rule describes one finding class.
type Rule struct {
	// ID is stable: it names the rule in JSON, in policies and in docs.
	ID string
	// Severity is the default severity (a rule may lower or raise it for
	// one finding, saying why in the evidence; a policy overrides it).
	Severity Severity
	// Explanation says what the finding means.
	Explanation string
	// Action is what to do about it.
	Action string
}

// Rules is the catalogue, in a stable order.
var Rules = []Rule{
	{RuleAnonymousLogin, SevInfo,
		"The host accepted an anonymous login: everything below is what anyone on the network can see.",
		"Nothing, if the archive is meant to be public; otherwise disable anonymous login."},
	{RuleWritableDir, SevCritical,
		"Anonymous users can write to a directory and list it: anyone can upload files and hand out their location, a warez site in waiting.",
		"Remove anonymous write access, or make it a write-only drop box (for example mode 1733 owned by root, not listable by anonymous users); then review what is already in it."},
	{RuleDropboxDir, SevMedium,
		"Anonymous users can write to a directory they cannot list: the write-only drop box layout CERT recommends. Info when the policy declares it a drop box.",
		"If the drop box is intended, declare it in the policy (drop_boxes) and empty it regularly; otherwise remove anonymous write access."},
	{RuleLatentWritable, SevMedium,
		"The directory's permissions let anonymous users write, but the server refused both probe canaries: only the server configuration stands between it and an open upload area.",
		"Remove the write permission as well (chmod o-w, or change the owner), so that a configuration change cannot open it."},
	{RuleWorldWritableFile, SevHigh,
		"A file that anonymous users (others, the anonymous account, or an MLSD perm fact unlike the rest of the server's) may write, append to, delete or rename: anyone can replace a distributed file.",
		"Remove the write permission (chmod o-w; chown it away from the anonymous account) and compare the file with your master copy."},
	{RuleServerPermFacts, SevMedium,
		"The server's MLSD perm facts grant anonymous users write, append, delete or rename on (nearly) every file, whatever its mode and owner: a server-wide setting (proftpd derives perm from its command rules, such as an anonymous upload rule), reported once for the server. Medium when it claims write or append, low for delete and rename alone.",
		"Check the server's configuration (proftpd: the Limit sections of its Anonymous section) so that it grants anonymous users write commands only where uploads are intended; try one as an anonymous user to see whether the file system refuses it."},
	{RuleHiddenName, SevHigh,
		"A name built to be overlooked: only dots and spaces, white space at either end, control or invisible characters, invalid UTF-8, a Windows device name, or a dot name (not .message, .listing, ...) on a disk image, executable, archive or file of 1 MiB or more. Abusers stash uploads under such names.",
		"Look inside; if you did not put it there, delete it and find out how it was uploaded."},
	{RuleUploadOwner, SevHigh,
		"An entry owned by the anonymous account outside every writable area and declared drop box: an upload from a hole that has since been closed, or a file the anonymous account can change.",
		"Check the upload logs for how it got there, compare it with your master copy, and give it to the archive's maintainer (chown)."},
	{RuleInWritableArea, SevMedium,
		"An entry inside a writable directory: anyone may have put it there.",
		"Check every entry in the area; delete what is not yours and close the area (see its writable-dir or dropbox-dir finding)."},
	{RuleSuspiciousName, SevHigh,
		"A name that marks abuse: warez release files, cracks and keygens, account and trust files (.rhosts, .forward, .netrc, authorized_keys), executables and disk images where an archive does not put them, or a policy pattern.",
		"Look at the file; delete it if it is not yours, and find out how it got there."},
	{RuleReadableUpload, SevHigh,
		"Files uploaded to a drop box can be downloaded again: the drop box serves files to anyone who knows their names.",
		"Make uploads unreadable to anonymous users until reviewed (vsftpd: anon_umask=077 or chown_uploads; proftpd: deny READ in a Limit section for the upload directory; pure-ftpd: -s)."},
	{RulePasswdHashes, SevCritical,
		"The archive's etc/passwd carries password hashes: anyone can download and crack them.",
		"Replace the password field with x or * for every account in the archive's etc/passwd, and change the passwords whose hashes were exposed."},
	{RuleUnreadableDir, SevInfo,
		"The server refused to list this directory to anonymous users, so nothing below it was checked.",
		"Nothing, if intended (bin, etc, drop boxes); otherwise fix its permissions so that the archive can be audited."},
	{RuleSymlinkEscape, SevHigh,
		"A symbolic link whose target leaves the archive: high when the target climbs above the root with \"..\", medium when it is absolute. Both resolve outside the archive on a server that does not chroot anonymous users.",
		"Make sure the server chroots anonymous users (vsftpd, proftpd and pure-ftpd do by default); otherwise remove the link or make it relative and inside the archive."},
	{RuleProbeResidue, SevHigh,
		"A canary of the active probe (ftpaudit-canary-...) that is still on the server, or not proven gone: this run could not remove it or prove it removed (by a listing, or a name check, that saw it before the removal and not after), or an earlier run left it.",
		"Delete it as a user allowed to; a server that accepts anonymous uploads but refuses their deletion keeps everything uploaded."},
	{RuleNewSinceBaseline, SevHigh,
		"An entry that was not there in the baseline scan (the accepted baseline, or the scan --baseline names): an upload, unless you put it there. Low inside a declared drop box, where new files are expected.",
		"If you did not add it, look at it, delete it, and find out how it got there; if you did, accept a scan that has it as the new baseline (ftpaudit baseline accept ID)."},
	{RuleChangedSinceBaseline, SevHigh,
		"An entry whose size, time, type, owner or MLSD unique id differs from the baseline: a replaced file is how trojaned archives are made. Medium for directories and symlinks.",
		"Compare the file with your master copy (checksums); restore it if it differs; if the change is yours, accept a scan that has it as the new baseline (ftpaudit baseline accept ID)."},
	{RuleRemovedSinceBaseline, SevMedium,
		"An entry of the baseline that is gone: removed by you, or by someone who could delete it.",
		"Check that the removal was intended; restore it from the master copy if not."},
	{RulePermissionChanged, SevMedium,
		"An entry whose mode or MLSD perm differs from the baseline. Critical when a directory became writable by anonymous users.",
		"Restore the baseline permissions unless the change was intended."},
	{RuleNotInManifest, SevHigh,
		"An entry below a published index (ls-lR, SHA256SUMS, MD5SUMS) that the index does not list: not put there by whoever built the index. This finds uploads on the very first scan, without a baseline. Low inside a declared drop box.",
		"Look at it; delete it if it is not yours, or rebuild the index if it is."},
	{RuleMissingManifest, SevMedium,
		"An entry the archive's published index lists but the archive no longer has: removed, renamed, or hidden from anonymous users.",
		"Restore it, or rebuild the index so that it tells the truth."},
}

// RuleByID returns the rule with the given ID.
func RuleByID(id string) (Rule, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// CanaryPrefix starts the name of every probe canary.
const CanaryPrefix = "ftpaudit-canary-"

const canaryTimeLayout = "20060102T150405Z"

// CanaryNames returns the probe's canary names for a time and a random
// number: ftpaudit-canary-<YYYYMMDDTHHMMSSZ>-<8 lowercase hex> followed by
// ".txt" for the file and ".dir" for the directory.
func CanaryNames(now time.Time, rnd uint32) (file, dir string) {
	base := fmt.Sprintf("%s%s-%08x", CanaryPrefix, now.UTC().Format(canaryTimeLayout), rnd)
	return base + ".txt", base + ".dir"
}

// IsCanaryName reports whether name is a canary name as CanaryNames makes
// them.
func IsCanaryName(name string) bool {
	_, ok := CanaryTime(name)
	return ok
}

func CanaryTime(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, CanaryPrefix)
	if !ok || len(rest) != len(canaryTimeLayout)+1+8+4 {
		return time.Time{}, false
	}
	ts, dash, hex, ext := rest[:16], rest[16], rest[17:25], rest[25:]
	if dash != '-' || (ext != ".txt" && ext != ".dir") {
		return time.Time{}, false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(canaryTimeLayout, ts)
	if err != nil || t.Format(canaryTimeLayout) != ts {
		return time.Time{}, false
	}
	return t, true
}

// SortFindings sorts findings by severity (worst first), then host, path,
// rule and evidence.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return slices.Compare(a.Evidence, b.Evidence)
	})
}

// Rule IDs.
const (
	RuleAnonymousLogin    = "anonymous-login"
	RuleWritableDir       = "writable-dir"
	RuleDropboxDir        = "dropbox-dir"
	RuleLatentWritable    = "latent-writable"
	RuleWorldWritableFile = "world-writable-file"
	RuleServerPermFacts   = "server-perm-facts"
	RuleHiddenName        = "hidden-name"
	RuleUploadOwner       = "upload-owner"
	RuleInWritableArea    = "in-writable-area"
	RuleSuspiciousName    = "suspicious-name"
	RuleReadableUpload    = "readable-upload"
	RulePasswdHashes      = "passwd-hashes"
	RuleUnreadableDir     = "unreadable-dir"
	RuleSymlinkEscape     = "symlink-escape"
	RuleProbeResidue      = "probe-residue"

	// Against a baseline (an earlier complete scan; scan --baseline).
	RuleNewSinceBaseline     = "new-since-baseline"
	RuleChangedSinceBaseline = "changed-since-baseline"
	RuleRemovedSinceBaseline = "removed-since-baseline"
	RulePermissionChanged    = "permission-changed"

	// Against the archive's own published index (scan --manifest).
	RuleNotInManifest   = "not-in-manifest"
	RuleMissingManifest = "missing-from-archive"
)

// Fingerprint identifies a finding across scans by its host, path and
// rule only (not its evidence, severity or times), so that a dashboard or
// a suppression file can follow one finding from night to night: 32 hex
// digits of SHA-256.
func (f *Finding) Fingerprint() string {
	h := sha256.Sum256([]byte(f.Host + "\x00" + f.Path + "\x00" + f.Rule))
	return hex.EncodeToString(h[:16])
}
