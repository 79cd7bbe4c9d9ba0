package scanner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/manifest"
)

// ProbeMode selects the directories the active probe writes to.
type ProbeMode int

// Probe modes.
const (
	ProbeOff        ProbeMode = iota
	ProbeCandidates           // directories whose attributes suggest writing, unreadable ones, and the start
	ProbeAll                  // every directory
)

// maxFetch bounds the files the scan downloads to judge (etc/passwd).
const maxFetch = 1 << 20

// probeCandidates returns the directories to probe, sorted: the start
// directory, every unreadable directory (a drop box cannot be seen into),
// and every directory with a w bit for anyone but root or an MLSD perm
// that grants writing. With ProbeAll, every directory.
func probeCandidates(h *ftpaudit.HostResult, mode ProbeMode) []string {
	set := map[string]bool{h.Target.Start: true}
	for _, u := range h.Unreadable {
		set[u.Path] = true
	}
	for e := range h.AllEntries() {
		if e.Type != ftpaudit.TypeDir {
			continue
		}
		if mode == ProbeAll || looksWritable(e) {
			set[strings.Clone(e.Path)] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// looksWritable is the probe's broad pre-filter: any write bit other than
// root's own, or a server-granted MLSD create/mkdir/append permission.
func looksWritable(e *ftpaudit.Entry) bool {
	if strings.ContainsAny(e.Perm(), "cmp") {
		return true
	}
	if len(e.Mode) < 10 {
		return false
	}
	if e.Mode[8] == 'w' || e.Mode[5] == 'w' {
		return true
	}
	return e.Mode[2] == 'w' && e.Owner != "root" && e.Owner != "0"
}

// AfterWalk runs the checks that need a session after the walk: the
// active probe (when mode is not ProbeOff) and the download of small files
// whose content is judged (etc/passwd). Its outcome goes into h.Probes and
// h.Fetched; failures are recorded there, never dropped.
func AfterWalk(ctx context.Context, h *ftpaudit.HostResult, connect ftpaudit.Connector, mode ProbeMode, manifestArg string) {
	if h.LoginError != "" {
		return
	}
	var c afterCands
	for e := range h.AllEntries() {
		c.note(e)
	}
	afterWalk(ctx, h, connect, mode, manifestArg, &c)
}

// afterCands are the entries AfterWalk downloads, or may (etc/passwd,
// published indexes: see note), in path order. The walk notes them as it
// files its listings (prepare, record), so that the scan does not read
// every entry back for them; AfterWalk alone reads them from the host.
type afterCands struct {
	fetch, manifests []string
}

// note takes e if it is a candidate, as a copy.
func (c *afterCands) note(e *ftpaudit.Entry) {
	if e.Type != ftpaudit.TypeFile {
		return
	}
	if e.Name == "passwd" && strings.HasSuffix(e.Path, "/etc/passwd") && e.Size <= maxFetch {
		c.fetch = append(c.fetch, strings.Clone(e.Path))
	}
	if _, ok := manifest.KindOf(e.Name); ok {
		c.manifests = append(c.manifests, strings.Clone(e.Path))
	}
}

// afterWalk is AfterWalk with its candidates found.
func afterWalk(ctx context.Context, h *ftpaudit.HostResult, connect ftpaudit.Connector, mode ProbeMode, manifestArg string, c *afterCands) {
	if h.LoginError != "" {
		return
	}
	fetch := c.fetch
	var manifests []string
	if manifestArg == "auto" {
		manifests = c.manifests
	}
	if manifestArg != "" && manifestArg != "auto" {
		manifests = append(manifests, manifestArg)
	}
	var dirs []string
	if mode != ProbeOff {
		dirs = probeCandidates(h, mode)
	}
	if err := h.EntriesErr(); err != nil {
		// The candidates come from a partial reading: probing them, or
		// saying no index was found, would claim what was not seen.
		h.Errors = append(h.Errors, ftpaudit.PathError{Path: h.Target.Start, Error: "checks after the walk (probe, downloads, manifests) skipped: the walk's entries could not all be read back: " + err.Error()})
		h.Stats.Errors = len(h.Errors)
		h.Incomplete = append(h.Incomplete, "entries not all read back from the walk's temporary file") // (as the CLI says it)
		h.Complete = false
		return
	}
	if manifestArg == "auto" && len(manifests) == 0 {
		h.Notes = append(h.Notes, ftpaudit.PathError{Path: h.Target.Start, Error: "--manifest auto: no published index (ls-lR, SHA256SUMS, MD5SUMS, ...) found"})
	}
	if len(fetch) == 0 && len(dirs) == 0 && len(manifests) == 0 {
		return
	}
	s, _, err := connect(ctx)
	if err != nil {
		for _, d := range dirs {
			h.Probes = append(h.Probes, ftpaudit.ProbeResult{Dir: d, Skipped: "no session: " + err.Error()})
		}
		for _, f := range fetch {
			h.Fetched = append(h.Fetched, ftpaudit.FetchedFile{Path: f, Err: "no session: " + err.Error()})
		}
		for _, m := range manifests {
			h.Errors = append(h.Errors, ftpaudit.PathError{Path: m, Error: "manifest not fetched: no session: " + err.Error()})
		}
		return
	}
	defer s.Close()
	p, ok := s.(ftpaudit.Prober)
	if !ok {
		for _, d := range dirs {
			h.Probes = append(h.Probes, ftpaudit.ProbeResult{Dir: d, Skipped: "this session cannot write"})
		}
		return
	}
	for _, f := range fetch {
		ff := ftpaudit.FetchedFile{Path: f}
		dir, name := path.Split(f)
		if _, err := p.ChangeDir(ctx, strings.TrimSuffix(dir, "/")); err != nil {
			ff.Err = err.Error()
		} else if ff.Data, err = p.Fetch(ctx, name, maxFetch); err != nil {
			ff.Err = err.Error()
		}
		h.Fetched = append(h.Fetched, ff)
	}
	for _, m := range manifests {
		fetchManifest(ctx, p, h, m)
	}
	names := existingNames(h, dirs)
	if err := h.EntriesErr(); err != nil {
		// (A first read error here: the names that canaries must not
		// collide with are not all known.)
		for _, d := range dirs {
			h.Probes = append(h.Probes, ftpaudit.ProbeResult{Dir: d, Skipped: "the walk's entries could not all be read back: " + err.Error()})
		}
		return
	}
	for _, d := range dirs {
		if ctx.Err() != nil {
			h.Probes = append(h.Probes, ftpaudit.ProbeResult{Dir: d, Skipped: "interrupted"})
			continue
		}
		h.Probes = append(h.Probes, probeDir(ctx, p, h, d, names))
	}
}

// existingNames maps each of dirs to the names listed in it (only those:
// the probe needs them to keep canaries from colliding).
func existingNames(h *ftpaudit.HostResult, dirs []string) map[string]map[string]bool {
	m := make(map[string]map[string]bool, len(dirs))
	for _, d := range dirs {
		m[d] = map[string]bool{}
	}
	for e := range h.AllEntries() {
		dir, name := ftppath.Split(e.Path)
		if set, ok := m[dir]; ok {
			set[strings.Clone(name)] = true
		}
	}
	return m
}

func isUnreadable(h *ftpaudit.HostResult, dir string) bool {
	for _, u := range h.Unreadable {
		if u.Path == dir {
			return true
		}
	}
	return false
}

// probeDir uploads a zero-byte canary file and creates a canary directory
// in dir, judged separately, tries to download the file again, removes
// both and makes sure they are gone (see confirmRemoval).
func probeDir(ctx context.Context, p ftpaudit.Prober, h *ftpaudit.HostResult, dir string, names map[string]map[string]bool) ftpaudit.ProbeResult {
	res := ftpaudit.ProbeResult{Dir: dir}
	listable := !isUnreadable(h, dir)
	file, sub := ftpaudit.CanaryNames(time.Now(), rand.Uint32())
	for names[dir][file] || names[dir][sub] {
		file, sub = ftpaudit.CanaryNames(time.Now(), rand.Uint32())
	}
	res.File.Path, res.Mkdir.Path = ftppath.Join(dir, file), ftppath.Join(dir, sub)
	if reply, err := p.ChangeDir(ctx, dir); err != nil {
		res.Skipped = "CWD refused: " + reply
		return res
	}
	// Never overwrite: where the directory cannot be listed, ask first.
	if !listable {
		for _, c := range []struct {
			name  string
			isDir bool
		}{{file, false}, {sub, true}} {
			exists, err := p.Exists(ctx, dir, c.name, c.isDir)
			if err != nil || exists {
				res.Skipped = fmt.Sprintf("could not make sure %q is free: exists=%v %v", c.name, exists, err)
				return res
			}
		}
	}
	res.File.Tried = true
	reply, err := p.Store(ctx, file)
	res.File.Reply = stepReply(reply, err)
	res.File.Accepted = err == nil
	if errors.Is(err, ftpaudit.ErrConnLost) {
		res.Skipped = "connection lost during the probe: " + reply
		return res
	}
	if res.File.Accepted {
		if _, err := p.Fetch(ctx, file, 1); err == nil {
			res.Readable = true
		}
	}
	res.Mkdir.Tried = true
	reply, err = p.MakeDir(ctx, sub)
	res.Mkdir.Reply = stepReply(reply, err)
	res.Mkdir.Accepted = err == nil
	if !res.File.Accepted && !res.Mkdir.Accepted {
		return res
	}
	// The canaries are removed even when the scan's time is up: a bounded
	// context of their own, not the scan's.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	confirmRemoval(cctx, p, dir, listable, &res, file, sub)
	return res
}

// cleanupTimeout bounds the removal of one directory's canaries and the
// checks that they are gone.
const cleanupTimeout = time.Minute

// stepReply is what a probe step records of the server's answer to STOR
// or MKD: the reply itself ("452 Insufficient storage space") when the
// server refused, so that the judge can tell a permanent refusal (5xx)
// from a transient one (4xx); the error otherwise.
func stepReply(reply string, err error) string {
	var re *ftpaudit.ReplyError
	if err != nil && !errors.Is(err, ftpaudit.ErrConnLost) && errors.As(err, &re) {
		return re.Error()
	}
	return reply
}

// canaryCheck is how one accepted canary is to be proven gone: by a check
// that saw it while it was there, so that its absence afterwards means
// something.
type canaryCheck struct {
	step  *ftpaudit.ProbeStep
	name  string
	isDir bool
	// byList: a trustworthy listing of the directory showed it; byName:
	// the name check (SIZE for the file, CWD for the directory) found it.
	byList, byName bool
	// why says why it could not be proven gone, when it was not.
	why []string
}

// confirmRemoval removes the accepted canaries and sets each one's
// Removed only when it is proven gone. A check proves a canary gone only
// if the same check saw it while it was there: a listing of the directory
// that is itself trustworthy (listed in full: no line it could not parse,
// such as an error message sent inside a 226 transfer, not cut short, no
// failure in its reply) showed it before the removal and not after; or,
// where that cannot be had (a directory anonymous users cannot list), the
// name check (SIZE, CWD) found it before and not after. A server that
// answers SIZE with "550 not enough privileges" whether or not the file
// exists (pyftpdlib), or lists an unreadable directory as empty or as an
// error line, proves nothing: the canary stays unproven, and is reported
// as probe residue.
func confirmRemoval(ctx context.Context, p ftpaudit.Prober, dir string, listable bool, res *ftpaudit.ProbeResult, file, sub string) {
	var checks []*canaryCheck
	if res.File.Accepted {
		checks = append(checks, &canaryCheck{step: &res.File, name: file})
	}
	if res.Mkdir.Accepted {
		checks = append(checks, &canaryCheck{step: &res.Mkdir, name: sub, isDir: true})
	}
	others := checkBefore(ctx, p, dir, listable, checks, map[string]bool{file: true, sub: true})
	if !removeCanaries(ctx, p, dir, checks) {
		return
	}
	checkAfter(ctx, p, dir, checks, others)
	for _, c := range checks {
		if !c.step.Removed {
			c.step.RemoveReply = strings.TrimPrefix(c.step.RemoveReply+"; not proven gone: "+strings.Join(c.why, "; "), "; ")
		}
	}
}

// checkBefore finds, for each canary, a check that sees it while it is
// there: the directory's listing (byList) when it is listable and
// trustworthy, else the name check (byName). It returns the other names
// of that listing, canaries aside, to tell a later listing that lost
// everything.
func checkBefore(ctx context.Context, p ftpaudit.Prober, dir string, listable bool, checks []*canaryCheck, canary map[string]bool) (others []string) {
	if listable {
		l, err := p.List(ctx, dir)
		why := untrusted(l, err)
		for _, c := range checks {
			switch {
			case why != "":
				c.why = append(c.why, "the listing before the removal is not trustworthy: "+why)
			case !listed(l, c.name):
				c.why = append(c.why, "the listing before the removal did not show it")
			default:
				c.byList = true
			}
		}
		if why == "" {
			for _, e := range l.Entries {
				if !canary[e.Name] {
					others = append(others, e.Name)
				}
			}
		}
	} else {
		for _, c := range checks {
			c.why = append(c.why, "the directory cannot be listed")
		}
	}
	for _, c := range checks {
		if c.byList {
			continue
		}
		exists, why := nameCheckOnce(ctx, p, dir, c, "")
		switch {
		case why != "":
			c.why = append(c.why, why)
		case !exists:
			c.why = append(c.why, fmt.Sprintf("%s did not find it either while it was there, so it cannot tell it gone", nameCheck(c.isDir)))
		default:
			c.byName = true
		}
	}
	return others
}

// nameCheckOnce goes back to dir and runs c's name check (SIZE or CWD);
// why says what failed, prefixed by when ("" or " after the removal").
func nameCheckOnce(ctx context.Context, p ftpaudit.Prober, dir string, c *canaryCheck, when string) (exists bool, why string) {
	if _, err := p.ChangeDir(ctx, dir); err != nil {
		return false, "CWD back to the directory failed: " + err.Error()
	}
	exists, err := p.Exists(ctx, dir, c.name, c.isDir)
	if err != nil {
		return false, fmt.Sprintf("%s%s failed: %v", nameCheck(c.isDir), when, err)
	}
	return exists, ""
}

// removeCanaries sends DELE and RMD; false when the directory could not
// be entered again (nothing was removed, and each canary says why).
func removeCanaries(ctx context.Context, p ftpaudit.Prober, dir string, checks []*canaryCheck) bool {
	if _, err := p.ChangeDir(ctx, dir); err != nil {
		for _, c := range checks {
			c.step.RemoveReply = "not removed: CWD back to the directory failed: " + err.Error()
		}
		return false
	}
	for _, c := range checks {
		if c.isDir {
			c.step.RemoveReply, _ = p.RemoveDir(ctx, c.name)
		} else {
			c.step.RemoveReply, _ = p.Delete(ctx, c.name)
		}
	}
	return true
}

// checkAfter runs, for each canary, the check that saw it before, and
// sets Removed only when that check no longer sees it. A listing that
// shows none of the other names it showed before is not trusted.
func checkAfter(ctx context.Context, p ftpaudit.Prober, dir string, checks []*canaryCheck, others []string) {
	var byList []*canaryCheck
	for _, c := range checks {
		if c.byList {
			byList = append(byList, c)
		}
	}
	if len(byList) > 0 {
		l, err := p.List(ctx, dir)
		why := untrusted(l, err)
		if why == "" && len(others) > 0 && !slices.ContainsFunc(others, func(n string) bool { return listed(l, n) }) {
			why = fmt.Sprintf("it shows none of the %d other names the listing before the removal showed", len(others))
		}
		for _, c := range byList {
			switch {
			case why != "":
				c.why = append(c.why, "the listing after the removal is not trustworthy: "+why)
			case listed(l, c.name):
				c.why = append(c.why, "the listing after the removal still shows it")
			default:
				c.step.Removed = true
			}
		}
	}
	for _, c := range checks {
		if !c.byName {
			continue
		}
		exists, why := nameCheckOnce(ctx, p, dir, c, " after the removal")
		switch {
		case why != "":
			c.why = append(c.why, why)
		case exists:
			c.why = append(c.why, fmt.Sprintf("%s still finds it", nameCheck(c.isDir)))
		default:
			c.step.Removed = true
		}
	}
}

// untrusted says why a listing made to check canaries cannot be trusted,
// or "" when it can: it failed, it was cut short, a line could not be
// parsed (an error message sent as data), or the final reply says it
// failed.
func untrusted(l *ftpaudit.Listing, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case l.Truncated:
		return "it was cut short"
	case len(l.Bad) > 0:
		return fmt.Sprintf("%d line(s) it could not parse, such as %q", len(l.Bad), l.Bad[0].Raw)
	case ftpaudit.ReplySaysFailed(l.Reply):
		return "the server's reply says it failed: " + l.Reply
	}
	return ""
}

// listed reports whether l shows an entry named name.
func listed(l *ftpaudit.Listing, name string) bool {
	return slices.ContainsFunc(l.Entries, func(e ftpaudit.Entry) bool { return e.Name == name })
}

// nameCheck names the check Exists makes.
func nameCheck(isDir bool) string {
	if isDir {
		return "CWD into it"
	}
	return "SIZE"
}

// fetchManifest downloads and parses one published index. A manifest
// that cannot be fetched or parsed is an error of the host (the
// comparison it would have allowed did not happen), never silence.
func fetchManifest(ctx context.Context, p ftpaudit.Prober, h *ftpaudit.HostResult, mpath string) {
	dir, name := path.Split(mpath)
	fail := func(err error) {
		h.Errors = append(h.Errors, ftpaudit.PathError{Path: mpath, Error: "manifest not used: " + err.Error()})
		h.Incomplete = appendReason(h.Incomplete, "a manifest could not be used")
		h.Complete = false
	}
	if _, err := p.ChangeDir(ctx, cmpOr(strings.TrimSuffix(dir, "/"), "/")); err != nil {
		fail(err)
		return
	}
	data, err := p.Fetch(ctx, name, manifest.MaxBytes)
	if err != nil {
		fail(err)
		return
	}
	m, err := manifest.Parse(mpath, data)
	if err != nil {
		fail(err)
		return
	}
	for _, pr := range m.Problems {
		h.Notes = append(h.Notes, ftpaudit.PathError{Path: mpath, Error: "manifest: " + pr})
	}
	h.Manifests = append(h.Manifests, m)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
