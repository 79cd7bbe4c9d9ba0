package report

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
)

// Schema is the version tag of the JSON document.
const Schema = "ftpaudit.scan/v1"

// JSON writes the v1 JSON document (see README, "JSON schema"). Server
// text (paths, banners, replies, evidence) is written raw: encoding/json
// escapes what JSON must, and a path or line that is not valid UTF-8
// comes with its exact bytes in base64 (path_b64, raw_b64, ...). Each
// host carries its finding counts per severity, counted as in every
// other format (View).
type JSON struct {
	// Inventory adds every entry to the document.
	Inventory bool
	// ToolVersion is ftpaudit's version, written as tool.version; empty
	// means "dev".
	ToolVersion string
	// Shard is the share of the targets the run scanned (scan --shard),
	// "K/N", written as shard; empty (left out) when the run scanned
	// them all.
	Shard string
}

var _ Reporter = (*JSON)(nil)

type jsonDoc struct {
	Schema   string        `json:"schema"`
	Tool     jsonTool      `json:"tool"`
	Started  string        `json:"started"`
	Finished string        `json:"finished"`
	Complete bool          `json:"complete"`
	ScanID   int64         `json:"scan_id,omitempty"`
	Shard    string        `json:"shard,omitempty"`
	Hosts    []jsonHost    `json:"hosts"`
	Entries  []jsonEntry   `json:"entries"`
	Findings []jsonFinding `json:"findings"`
	// Suppressed lists the findings a suppression file accepted; left
	// out when there are none.
	Suppressed []jsonSuppressed `json:"suppressed,omitempty"`
}

// jsonSuppressed is a suppressed finding, with the line that suppressed it.
type jsonSuppressed struct {
	jsonFinding
	Fingerprint string `json:"fingerprint"`
	Source      string `json:"suppressed_by"`
	Reason      string `json:"reason,omitempty"`
	Expires     string `json:"expires,omitempty"`
}

// jsonTool names the program that wrote the document.
type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonHost struct {
	Target      string                   `json:"target"`
	Start       string                   `json:"start"`
	Banner      string                   `json:"banner"`
	Features    []string                 `json:"features"`
	Login       string                   `json:"login"`
	Complete    bool                     `json:"complete"`
	Incomplete  []string                 `json:"incomplete,omitempty"`
	LoginError  string                   `json:"login_error,omitempty"`
	Started     string                   `json:"started"`
	Finished    string                   `json:"finished"`
	Stats       ftpaudit.Stats           `json:"stats"`
	Findings    severityCounts           `json:"findings"`
	Errors      []ftpaudit.PathError     `json:"errors"`
	Unreadable  []ftpaudit.PathError     `json:"unreadable"`
	Notes       []ftpaudit.PathError     `json:"notes,omitempty"`
	NotListed   []jsonUnlisted           `json:"not_listed"`
	ListingMode string                   `json:"listing,omitempty"`
	TLS         string                   `json:"tls,omitempty"`
	StatListing *ftpaudit.StatReport     `json:"stat_listing,omitempty"`
	Dialect     *ftpaudit.DialectReport  `json:"dialect,omitempty"`
	Recursive   *ftpaudit.TreeReport     `json:"recursive_listing,omitempty"`
	Connections *ftpaudit.PoolReport     `json:"connections,omitempty"`
	Baseline    *ftpaudit.BaselineReport `json:"baseline,omitempty"`
	Probes      []jsonProbe              `json:"probes,omitempty"`
	Manifests   []jsonManifest           `json:"manifests,omitempty"`
}

// jsonUnlisted is a directory the server showed that the walk did not
// list: why, and of what kind (see ftpaudit.UnlistedKind; accepted ones
// say by which accept_unlisted glob, and the kind they had).
type jsonUnlisted struct {
	Path     string        `json:"path"`
	PathB64  string        `json:"path_b64,omitempty"`
	Kind     string        `json:"kind"`
	Reason   string        `json:"reason"`
	Accepted *jsonAccepted `json:"accepted,omitempty"`
}

type jsonAccepted struct {
	Glob   string `json:"glob"`
	Reason string `json:"reason,omitempty"`
	Kind   string `json:"kind"`
}

// notListedJSON is a host's NotListed as JSON, never nil.
func notListedJSON(us []ftpaudit.Unlisted) []jsonUnlisted {
	out := make([]jsonUnlisted, len(us))
	for i, u := range us {
		out[i] = jsonUnlisted{Path: u.Path, PathB64: b64(u.Path), Kind: string(u.Kind), Reason: u.Reason}
		if a := u.Accepted; a != nil {
			out[i].Accepted = &jsonAccepted{Glob: a.Glob, Reason: a.Reason, Kind: string(a.Kind)}
		}
	}
	return out
}

type jsonProbeStep struct {
	Path        string `json:"path"`
	PathB64     string `json:"path_b64,omitempty"`
	Accepted    bool   `json:"accepted"`
	Reply       string `json:"reply"`
	Removed     bool   `json:"removed"`
	RemoveReply string `json:"remove_reply,omitempty"`
}

type jsonProbe struct {
	Dir      string         `json:"dir"`
	DirB64   string         `json:"dir_b64,omitempty"`
	File     *jsonProbeStep `json:"file,omitempty"`
	Mkdir    *jsonProbeStep `json:"mkdir,omitempty"`
	Readable bool           `json:"readable"`
	Skipped  string         `json:"skipped,omitempty"`
}

func probeStepJSON(s ftpaudit.ProbeStep) *jsonProbeStep {
	if !s.Tried {
		return nil
	}
	return &jsonProbeStep{Path: s.Path, PathB64: b64(s.Path), Accepted: s.Accepted, Reply: s.Reply, Removed: s.Removed, RemoveReply: s.RemoveReply}
}

type jsonEntry struct {
	Host     string            `json:"host"`
	Path     string            `json:"path"`
	PathB64  string            `json:"path_b64,omitempty"`
	Type     string            `json:"type"`
	Size     *int64            `json:"size,omitempty"`
	Modified string            `json:"modified,omitempty"`
	Mode     string            `json:"mode,omitempty"`
	Owner    string            `json:"owner,omitempty"`
	Group    string            `json:"group,omitempty"`
	Perm     string            `json:"perm,omitempty"`
	Unique   string            `json:"unique,omitempty"`
	Target   string            `json:"target,omitempty"`
	Facts    map[string]string `json:"facts,omitempty"`
	Raw      string            `json:"raw"`
	RawB64   string            `json:"raw_b64,omitempty"`
	// RawList is the LIST -a line of an entry also listed by MLSD (raw
	// is then the MLSD line).
	RawList    string `json:"raw_list,omitempty"`
	RawListB64 string `json:"raw_list_b64,omitempty"`
}

// jsonManifest is a published index a host was compared with.
type jsonManifest struct {
	Path     string `json:"path"`
	Kind     string `json:"kind"`
	Root     string `json:"root"`
	Entries  int    `json:"entries"`
	Problems int    `json:"problems"`
}

// jsonFinding is one finding, with what the CSV carries: the action to
// take, and the size (bytes) and modification time (RFC 3339 UTC) of the
// entry when known (absent when not).
type jsonFinding struct {
	Host     string   `json:"host"`
	Path     string   `json:"path"`
	PathB64  string   `json:"path_b64,omitempty"`
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Evidence []string `json:"evidence"`
	Action   string   `json:"action"`
	Size     *int64   `json:"size,omitempty"`
	Modified string   `json:"modified,omitempty"`
}

// severityCounts is a target's findings per severity, worst first, in
// the JSON host objects and the JSON lines host lines.
type severityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

func countsJSON(c Counts) severityCounts {
	return severityCounts{
		Critical: c.Of(ftpaudit.SevCritical), High: c.Of(ftpaudit.SevHigh), Medium: c.Of(ftpaudit.SevMedium),
		Low: c.Of(ftpaudit.SevLow), Info: c.Of(ftpaudit.SevInfo),
	}
}

// b64 returns the base64 of s when s is not valid UTF-8 (JSON strings
// cannot carry such bytes exactly), else "".
func b64(s string) string {
	if utf8.ValidString(s) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(s))
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Report writes r as one JSON document followed by a newline.
func (j *JSON) Report(w io.Writer, r *ftpaudit.Result) error {
	v := NewView(r)
	doc := jsonDoc{
		Schema:   Schema,
		Tool:     jsonTool{Name: "ftpaudit", Version: toolVersion(j.ToolVersion)},
		Started:  rfc3339(v.Started),
		Finished: rfc3339(v.Finished),
		Complete: v.Complete,
		ScanID:   v.SavedID,
		Shard:    j.Shard,
		Hosts:    []jsonHost{},
		Entries:  []jsonEntry{},
		Findings: findingsJSON(v.Findings),
	}
	for i := range v.Suppressed {
		sp := &v.Suppressed[i]
		js := jsonSuppressed{jsonFinding: findingJSON(&sp.Finding), Fingerprint: sp.Finding.Fingerprint(), Source: sp.Source, Reason: sp.Reason}
		if !sp.Expires.IsZero() {
			js.Expires = sp.Expires.UTC().Format("2006-01-02")
		}
		doc.Suppressed = append(doc.Suppressed, js)
	}
	for _, t := range v.Targets {
		h := t.Host
		if h == nil {
			continue
		}
		jh := jsonHost{
			Target:     h.Target.URL,
			Start:      h.Target.Start,
			Banner:     h.Info.Banner,
			Features:   h.Info.Features,
			Login:      h.Info.Login,
			Complete:   h.Complete,
			Incomplete: h.Incomplete,
			LoginError: h.LoginError,
			Started:    rfc3339(h.Started),
			Finished:   rfc3339(h.Finished),
			Stats:      h.Stats,
			Findings:   countsJSON(t.Counts),
			Errors:     nonNil(h.Errors),
			Unreadable: nonNil(h.Unreadable),
			Notes:      h.Notes,
			NotListed:  notListedJSON(h.NotListed),
		}
		if jh.Login == "" {
			jh.Login = h.Target.User
		}
		if jh.Features == nil {
			jh.Features = []string{}
		}
		if h.Info.Login != "" {
			jh.ListingMode = strings.ToLower(t.Listing)
			jh.StatListing = h.Stat
			jh.Dialect = h.Dialect
			jh.Recursive = h.Tree
			jh.Connections = h.Pool
			jh.TLS = h.Info.TLS
			jh.Baseline = h.Baseline
		}
		for _, p := range h.Probes {
			jh.Probes = append(jh.Probes, jsonProbe{Dir: p.Dir, DirB64: b64(p.Dir), File: probeStepJSON(p.File), Mkdir: probeStepJSON(p.Mkdir), Readable: p.Readable, Skipped: p.Skipped})
		}
		for _, m := range h.Manifests {
			jh.Manifests = append(jh.Manifests, jsonManifest{Path: m.Path, Kind: string(m.Kind), Root: m.Root, Entries: len(m.Entries), Problems: len(m.Problems)})
		}
		doc.Hosts = append(doc.Hosts, jh)
		if !j.Inventory {
			continue
		}
		for i := range h.Entries {
			doc.Entries = append(doc.Entries, entryJSON(h.Target.URL, &h.Entries[i]))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func nonNil(p []ftpaudit.PathError) []ftpaudit.PathError {
	if p == nil {
		return []ftpaudit.PathError{}
	}
	return p
}

// entryJSON is one entry of the inventory. raw is the line the entry was
// parsed from; raw_list is the LIST -a line when the entry was also seen
// by MLSD (a paired listing). An entry only LIST -a showed has its line in
// Entry.ListRaw and none in Entry.Raw: that line is its raw.
func entryJSON(host string, e *ftpaudit.Entry) jsonEntry {
	raw, rawList := e.Raw, e.ListRaw()
	if raw == "" {
		raw, rawList = rawList, ""
	}
	je := jsonEntry{
		Host:       host,
		Path:       e.Path,
		PathB64:    b64(e.Path),
		Type:       e.Type.String(),
		Modified:   rfc3339(e.Modified),
		Mode:       e.Mode,
		Owner:      e.Owner,
		Group:      e.Group,
		Perm:       e.Perm(),
		Unique:     e.Unique(),
		Target:     e.Target(),
		Facts:      e.Facts(),
		Raw:        raw,
		RawB64:     b64(raw),
		RawList:    rawList,
		RawListB64: b64(rawList),
	}
	if e.Size >= 0 {
		sz := e.Size
		je.Size = &sz
	}
	return je
}

// findingsJSON is fs as JSON findings, never nil.
func findingsJSON(fs []ftpaudit.Finding) []jsonFinding {
	out := make([]jsonFinding, len(fs))
	for i := range fs {
		out[i] = findingJSON(&fs[i])
	}
	return out
}

// findingJSON is one finding as JSON: evidence raw, never null.
func findingJSON(f *ftpaudit.Finding) jsonFinding {
	ev := f.Evidence
	if ev == nil {
		ev = []string{}
	}
	jf := jsonFinding{Host: f.Host, Path: f.Path, PathB64: b64(f.Path), Rule: f.Rule, Severity: f.Severity.String(), Evidence: ev,
		Action: f.Action, Modified: rfc3339(f.Modified)}
	if f.Size >= 0 {
		sz := f.Size
		jf.Size = &sz
	}
	return jf
}

// toolVersion is v, or "dev" when the caller does not know it.
func toolVersion(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}
