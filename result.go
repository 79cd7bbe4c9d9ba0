package ftpaudit

import (
	"slices"
	"strings"
	"time"
)

// PathError is an error tied to one path.
type PathError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Stats counts what a walk saw.
type Stats struct {
	Dirs       int `json:"dirs"`
	Files      int `json:"files"`
	Links      int `json:"links"`
	Other      int `json:"other"`
	Unreadable int `json:"unreadable"`
	Errors     int `json:"errors"`
	// Listed is the number of directories whose listing succeeded.
	Listed int `json:"listed"`
	// BadLines counts listing lines that could not be parsed.
	BadLines int `json:"bad_lines"`
}

// HostResult is everything a walk learned about one host.
type HostResult struct {
	Target   Target
	Info     ServerInfo
	Started  time.Time
	Finished time.Time
	// Complete is true only when the start directory was listed and every
	// directory the server showed was listed in full, shown by the server
	// itself to be unlistable, provably the same directory as one listed,
	// excluded by configuration, or accepted by the policy: when no entry
	// of NotListed costs completeness and nothing else went wrong (see
	// Settle).
	Complete bool
	// Incomplete says why Complete is false, one reason per line.
	Incomplete []string
	// LoginError is set when no session could be opened at all.
	LoginError string
	Stats      Stats
	// Unreadable lists the directories the server refused to list, with
	// its reply.
	Unreadable []PathError
	// Errors lists directories whose listing failed, and lines that could
	// not be parsed.
	Errors []PathError
	// Notes are facts worth reporting that are not errors (for example a
	// directory skipped because it is the same as one already walked).
	Notes []PathError
	// NotListed names every directory the server showed that the walk
	// did not list, with why and of what kind; sorted by path. The same
	// directories are also in Unreadable, Errors or Notes, as before.
	NotListed []Unlisted
	// Entries holds every entry seen, sorted by path, for a result made
	// by hand or read from the history; a walk's result keeps its
	// entries in Source instead. Read them with AllEntries, NumEntries
	// and EntryFinder, which take either.
	Entries []Entry
	// Source holds a walk's entries (nil otherwise); Close releases it.
	Source EntrySource
	// Probes holds the active probe's outcome per directory (--probe).
	Probes []ProbeResult
	// Fetched holds small files downloaded to judge their content.
	Fetched []FetchedFile
	// Stat says how listing over the control connection went; nil when
	// it was off (--no-stat, FTPS, or a test connector).
	Stat *StatReport
	// Dialect says how the host's directories were asked for (the LIST
	// form, MLST facts, refusals); nil for a test connector.
	Dialect *DialectReport
	// Baseline is the comparison with an earlier scan (scan --baseline);
	// nil when none was asked for.
	Baseline *BaselineReport
	// Manifests are the published indexes compared with (scan --manifest).
	Manifests []*Manifest
	// Tree says how recursive listing went; nil when it was off or the
	// sessions could not do it.
	Tree *TreeReport
	// Pool says how the host's connections went.
	Pool *PoolReport
}

// UnlistedKind says why a directory was not listed, and whether that
// costs the host its completeness (Costs).
type UnlistedKind string

// Kinds of directories not listed.
const (
	// UnlistedUnreadable: the server itself showed that it cannot be
	// listed (a refusal, a "failed" reply, an empty listing of a
	// directory whose attributes deny anonymous reading, or a listing of
	// only itself whose child cannot be listed either).
	UnlistedUnreadable UnlistedKind = "unreadable-by-server"
	// UnlistedSame: provably the same directory as one listed (its MLSD
	// unique fact, trusted on the host, and its listing are those of a
	// directory already walked); not descended.
	UnlistedSame UnlistedKind = "same-directory"
	// UnlistedExcluded: excluded by the operator's configuration
	// (exclude in the hosts file).
	UnlistedExcluded UnlistedKind = "excluded"
	// UnlistedAccepted: a skip that costs completeness, accepted by the
	// policy (accept_unlisted); Accepted says by what, and the kind it had.
	UnlistedAccepted UnlistedKind = "accepted"
	// UnlistedBound: a bound was reached (--max-depth, the entry
	// bounds, the walk stopped).
	UnlistedBound UnlistedKind = "bound"
	// UnlistedHeuristic: skipped on a guess the server did not prove.
	UnlistedHeuristic UnlistedKind = "heuristic"
	// UnlistedUndecided: the evidence cannot tell whether the directory
	// is readable (see docs/listing.md, "lists only itself").
	UnlistedUndecided UnlistedKind = "undecided"
	// UnlistedError: the listing failed, the walk was interrupted, or
	// the name cannot be sent to the server.
	UnlistedError UnlistedKind = "error"
)

// Costs reports whether a directory not listed for this reason makes
// its host incomplete: every kind does except unreadable-by-server,
// same-directory, excluded and accepted.
func (k UnlistedKind) Costs() bool {
	switch k {
	case UnlistedUnreadable, UnlistedSame, UnlistedExcluded, UnlistedAccepted:
		return false
	}
	return true
}

// Unlisted is a directory the server showed that the walk did not list.
type Unlisted struct {
	Path string
	Kind UnlistedKind
	// Reason says why, with the evidence (the server's reply, the bound,
	// the listing that could not be told from a refusal).
	Reason string
	// Cause is the host's Incomplete reason this directory stands for
	// while its kind costs completeness ("depth bound reached"); "" when
	// the reason is the walk's as a whole (an interrupted walk) or the
	// kind costs nothing. Settle derives Incomplete from it.
	Cause string
	// Accepted is set when the policy accepted the skip (Kind is then
	// UnlistedAccepted).
	Accepted *Acceptance
}

// Acceptance is the policy's acceptance of a directory not listed.
type Acceptance struct {
	// Glob is the policy's accept_unlisted path glob that matched.
	Glob string
	// Reason is the reason the policy gives, if any.
	Reason string
	// Kind is the kind the skip had before it was accepted.
	Kind UnlistedKind
}

// Accept marks every directory of NotListed whose kind costs
// completeness and for which match returns ok as accepted (with the
// glob and reason match returns), moves its entry of Errors to Notes,
// and settles the host (Settle). It returns how many it accepted.
func (h *HostResult) Accept(match func(path string) (glob, reason string, ok bool)) int {
	n := 0
	for i := range h.NotListed {
		u := &h.NotListed[i]
		if !u.Kind.Costs() {
			continue
		}
		g, why, ok := match(u.Path)
		if !ok {
			continue
		}
		u.Accepted = &Acceptance{Glob: g, Reason: why, Kind: u.Kind}
		u.Kind = UnlistedAccepted
		note := "not listed (" + u.Reason + "); accepted by the policy (accept_unlisted " + g + ")"
		if why != "" {
			note += ": " + why
		}
		if j := slices.IndexFunc(h.Errors, func(e PathError) bool { return e.Path == u.Path && e.Error == u.Reason }); j >= 0 {
			h.Errors = slices.Delete(h.Errors, j, j+1)
		}
		h.Notes = append(h.Notes, PathError{Path: u.Path, Error: note})
		n++
	}
	if n > 0 {
		sortPathErrors(h.Notes)
		h.Stats.Errors = len(h.Errors)
		h.Settle()
	}
	return n
}

// Settle recomputes Incomplete and Complete from NotListed: the reasons
// that directories of NotListed stand for (their Cause) are kept only
// while one of them still costs completeness; every other reason (a cut
// listing, a failed login, an interrupted walk, a start directory that
// was not listed) stays. Complete is true when no reason is left.
func (h *HostResult) Settle() {
	causes := map[string]bool{}
	for _, u := range h.NotListed {
		if u.Cause != "" {
			causes[u.Cause] = false
		}
	}
	for _, u := range h.NotListed {
		if u.Cause != "" && u.Kind.Costs() {
			causes[u.Cause] = true
		}
	}
	var out []string
	for _, r := range h.Incomplete {
		if live, ok := causes[r]; ok && !live {
			continue
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, u := range h.NotListed {
		if u.Cause != "" && u.Kind.Costs() && !slices.Contains(out, u.Cause) {
			out = append(out, u.Cause)
		}
	}
	h.Incomplete = out
	h.Complete = len(out) == 0
}

func sortPathErrors(p []PathError) {
	slices.SortFunc(p, func(a, b PathError) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Error, b.Error)
	})
}

// Result is a finished scan of one or more hosts.
type Result struct {
	Started  time.Time
	Finished time.Time
	Hosts    []*HostResult
	// Findings are sorted by severity, host and path.
	Findings []Finding
	// Suppressed are the findings an operator's suppression file
	// accepted: kept, counted and listed, but out of Findings and of the
	// exit code.
	Suppressed []Suppressed
	// SavedID is the scan's id in the history database, once saved.
	SavedID int64
}

// Suppressed is a finding a suppression file accepted, with the line that
// did it.
type Suppressed struct {
	Finding Finding
	// Source is FILE:LINE of the suppressing line; Reason its reason.
	Source, Reason string
	// Expires is when the suppression stops; zero for never.
	Expires time.Time
}

// Complete reports whether every host was scanned completely.
func (r *Result) Complete() bool {
	for _, h := range r.Hosts {
		if !h.Complete {
			return false
		}
	}
	return true
}

// StatReport says how STAT listings went on one host.
type StatReport struct {
	// Used is true when the host's listings went over the control
	// connection (after the check on the first directory).
	Used bool `json:"used"`
	// Note says why STAT was not used, when it was not.
	Note string `json:"note,omitempty"`
	// Listed counts directories listed with STAT; Fallbacks those whose
	// STAT reply was refused and that were listed over a data connection;
	// Resyncs those whose STAT reply went on after a faked end.
	Listed    int64 `json:"listed"`
	Fallbacks int64 `json:"fallbacks"`
	Resyncs   int64 `json:"resyncs"`
	// Batched counts the directories of Listed whose STAT went in a
	// batch of several behind one sentinel; BatchesRefused the batches
	// refused whole (each of their directories listed again on its own).
	Batched        int64 `json:"batched"`
	BatchesRefused int64 `json:"batches_refused"`
}

// PoolReport says how a host's connections went.
type PoolReport struct {
	// Asked is the number of connections asked for (--connections).
	Asked int `json:"asked"`
	// Peak is the most sessions that were open at once.
	Peak int `json:"peak"`
	// Logins counts sessions opened.
	Logins int `json:"logins"`
	// Cap is the lowest limit learned from the server's refusals (0 when
	// it never refused); Refusals counts those refusals, and Reply is the
	// first one.
	Cap      int    `json:"cap,omitempty"`
	Refusals int    `json:"refusals,omitempty"`
	Reply    string `json:"reply,omitempty"`
	// IdleReconnects counts sessions the server closed while they sat
	// idle, replaced without counting as a failed attempt.
	IdleReconnects int `json:"idle_reconnects,omitempty"`
}

// TreeReport says how recursive listing (LIST -aR) went on one host, and
// which way each subtree was listed.
type TreeReport struct {
	// State is "used" (the server lists recursively and the walk used
	// it), "unsupported" (the server ignored or refused the R), or
	// "untested" (no directory suited a test).
	State string `json:"state"`
	// Note says what decided State.
	Note string `json:"note,omitempty"`
	// Subtrees lists every recursive listing tried: the directories it
	// covered, or why the walk listed that subtree directory by
	// directory instead.
	Subtrees []TreeSubtree `json:"subtrees,omitempty"`
	// Covered counts directories whose listing came from a recursive
	// listing; the others were listed on their own.
	Covered int `json:"covered"`
}

// TreeSubtree is one recursive listing's outcome.
type TreeSubtree struct {
	Path string `json:"path"`
	// Via is "recursive" (sections used) or "per-directory" (not used:
	// see Reason).
	Via string `json:"via"`
	// Dirs counts the directories whose sections were used.
	Dirs int `json:"dirs,omitempty"`
	// Relisted counts directories below Path that had no trustworthy
	// section and were listed on their own.
	Relisted int `json:"relisted,omitempty"`
	// Ignored counts sections that matched no directory of the listing.
	Ignored int    `json:"ignored,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// BaselineReport is a host's comparison with its baseline.
type BaselineReport struct {
	ScanID  int64     `json:"scan_id"`
	Started time.Time `json:"started"`
	Added   int       `json:"added"`
	Removed int       `json:"removed"`
	Changed int       `json:"changed"`
	// NotCompared counts baseline entries below directories this scan
	// could not list (unreadable now, failed, or never reached): whether
	// they are still there is unknown, so they are not reported removed.
	NotCompared int `json:"not_compared"`
	// NotComparedDirs names those directories (at most 100).
	NotComparedDirs []string `json:"not_compared_dirs,omitempty"`
	// Note says why there was nothing to compare with, when ScanID is 0.
	Note string `json:"note,omitempty"`
}

// ManifestKind says what a manifest file is.
type ManifestKind string

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

	// Rebasable is set when Root came from an absolute ls-lR header taken
	// as an archive path below the manifest's directory: ManifestFindings
	// takes it as the manifest's directory instead when the archive has
	// no such directory (see ParseManifest).
	Rebasable bool
}

// Manifest kinds.
const (
	// ManifestLsLR is recursive "ls -lR" output (ls-lR, ls-lR.gz, ls-lR.txt).
	ManifestLsLR ManifestKind = "ls-lR"
	// ManifestSums is a checksum list (SHA256SUMS, MD5SUMS, md5sum.txt, ...).
	ManifestSums ManifestKind = "checksums"
)

// DialectReport says how a host's directories were asked for: the LIST
// form it understood (learned on its own directories, see
// internal/ftpconn/dialect.go), the MLST facts requested, and what the
// server refused on the way.
type DialectReport struct {
	// ListForm is the LIST form in use: "LIST -a PATH", "CWD PATH + LIST
	// -a", "LIST PATH" or "CWD PATH + LIST"; empty when no LIST listed
	// anything.
	ListForm string `json:"list_form,omitempty"`
	// HiddenNames says whether listings show names starting with a dot:
	// "listed" (the form asks for them, or one was seen) or "unknown".
	HiddenNames string `json:"hidden_names,omitempty"`
	// Limit, when set, is what the form in use cannot show: it costs the
	// host its completeness.
	Limit string `json:"limit,omitempty"`
	// MLSTFacts are the facts asked for with OPTS MLST, and MLSTReply the
	// server's answer (empty when not asked: no MLSD, or every fact was
	// already on).
	MLSTFacts string `json:"mlst_facts,omitempty"`
	MLSTReply string `json:"mlst_reply,omitempty"`
	// Refused lists the forms tried and refused, with the reply (at most
	// eight).
	Refused []string `json:"refused,omitempty"`
	// DataErrors counts listings whose data was an error message (see
	// DataError), each filed as unreadable.
	DataErrors int64 `json:"data_errors,omitempty"`
	// Note says why a form was given up after a check.
	Note string `json:"note,omitempty"`
}
