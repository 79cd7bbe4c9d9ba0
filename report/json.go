package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
)

// Schema is the version tag of the JSON document.
const Schema = "ftpaudit.scan/v1"

// JSON writes the v1 JSON document (see README, "JSON schema"). Server
// text (paths, banners, replies, evidence) is written raw, escaped only
// where JSON must be, as encoding/json escapes it (the inventory's
// entries are encoded by hand, to the same bytes), and a path or line
// that is not valid UTF-8 comes with its exact bytes in base64
// (path_b64, raw_b64, ...). Each host carries its finding counts per
// severity, counted as in every other format (View). The document is
// streamed, never held in memory whole (Report).
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

// jsonHead is the document's first fields. Report writes them, then the
// arrays "hosts" (jsonHost), "entries" (appendEntry), "findings"
// (jsonFinding) and, when there are any, "suppressed" (jsonSuppressed),
// each element as it comes.
type jsonHead struct {
	Schema   string   `json:"schema"`
	Tool     jsonTool `json:"tool"`
	Started  string   `json:"started"`
	Finished string   `json:"finished"`
	Complete bool     `json:"complete"`
	ScanID   int64    `json:"scan_id,omitempty"`
	Shard    string   `json:"shard,omitempty"`
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

// Report writes r as one JSON document followed by a newline: the bytes
// encoding/json writes for the whole document, indented by two spaces,
// with <, > and & left as they are. The document is never held in
// memory: it goes out through a buffered writer piece by piece, the
// first fields (jsonHead), then each host, each entry of the inventory,
// each finding and each suppressed finding in turn. The entries come
// target by target in the order of the View (r.Hosts), each target's
// streamed in path order, byte by byte (HostResult.AllEntries: from its
// Source, never all in memory), each encoded by hand (appendEntry);
// everything else goes through encoding/json one array element at a
// time. When a host's entries cannot all be read back (EntriesErr),
// Report stops there and returns the error: what it wrote is not a
// document.
func (j *JSON) Report(w io.Writer, r *ftpaudit.Result) error {
	v := NewView(r)
	d := newDocWriter(w)
	d.head(jsonHead{
		Schema:   Schema,
		Tool:     jsonTool{Name: "ftpaudit", Version: toolVersion(j.ToolVersion)},
		Started:  rfc3339(v.Started),
		Finished: rfc3339(v.Finished),
		Complete: v.Complete,
		ScanID:   v.SavedID,
		Shard:    j.Shard,
	})
	d.open("hosts")
	for _, t := range v.Targets {
		if t.Host != nil {
			d.elem(hostJSON(t))
		}
	}
	d.close()
	d.open("entries")
	for _, t := range v.Targets {
		if h := t.Host; h != nil && j.Inventory {
			for e := range h.AllEntries() {
				if d.entry(h.Target.URL, e) != nil {
					break
				}
			}
			if err := h.EntriesErr(); err != nil && d.err == nil {
				// Not a document that claims an inventory it did not
				// write in full: nothing more is written.
				d.err = entriesErr(h, err)
			}
		}
	}
	d.close()
	d.open("findings")
	for i := range v.Findings {
		d.elem(findingJSON(&v.Findings[i]))
	}
	d.close()
	if len(v.Suppressed) > 0 {
		d.open("suppressed")
		for i := range v.Suppressed {
			d.elem(suppressedJSON(&v.Suppressed[i]))
		}
		d.close()
	}
	return d.end()
}

// entriesErr is the error of a report that could not read all the
// entries of host h back.
func entriesErr(h *ftpaudit.HostResult, err error) error {
	return fmt.Errorf("read the entries of %s back: %w", h.Target.URL, err)
}

// hostJSON is the walked target t (t.Host is not nil) as a JSON host.
func hostJSON(t *TargetView) jsonHost {
	h := t.Host
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
	return jh
}

func nonNil(p []ftpaudit.PathError) []ftpaudit.PathError {
	if p == nil {
		return []ftpaudit.PathError{}
	}
	return p
}

// docWriter writes the JSON document through a buffered writer, one
// top-level field or array element at a time, indented as encoding/json
// indents the whole document. It keeps the first error met; after it,
// every method does nothing, and end returns it.
type docWriter struct {
	w    *bufio.Writer
	err  error
	buf  bytes.Buffer  // what enc wrote
	enc  *json.Encoder // into buf, HTML characters left as they are
	n    int           // elements written in the array that is open
	line []byte        // one entry, encoded by hand
	keys []string      // one entry's fact names
}

func newDocWriter(w io.Writer) *docWriter {
	d := &docWriter{w: bufio.NewWriterSize(w, 64<<10)}
	d.enc = json.NewEncoder(&d.buf)
	d.enc.SetEscapeHTML(false)
	return d
}

func (d *docWriter) write(p []byte) {
	if d.err == nil {
		_, d.err = d.w.Write(p)
	}
}

func (d *docWriter) writeString(s string) {
	if d.err == nil {
		_, d.err = d.w.WriteString(s)
	}
}

// encode writes v as encoding/json indents it after prefix, without the
// newline Encode ends with, and less the suffix cut.
func (d *docWriter) encode(v any, prefix, cut string) {
	if d.err != nil {
		return
	}
	d.buf.Reset()
	d.enc.SetIndent(prefix, "  ")
	if d.err = d.enc.Encode(v); d.err == nil {
		d.write(bytes.TrimSuffix(d.buf.Bytes(), []byte(cut)))
	}
}

// head writes the document's opening brace and h's fields.
func (d *docWriter) head(h jsonHead) { d.encode(h, "", "\n}\n") }

// open starts the top-level array name.
func (d *docWriter) open(name string) {
	d.writeString(",\n  \"" + name + "\": [")
	d.n = 0
}

// next starts an element of the array that is open.
func (d *docWriter) next() {
	if d.n > 0 {
		d.writeString(",\n    ")
	} else {
		d.writeString("\n    ")
	}
	d.n++
}

// elem writes v as the next element of the array that is open.
func (d *docWriter) elem(v any) {
	d.next()
	d.encode(v, "    ", "\n")
}

// entry writes e, an entry of host, as the next element of "entries",
// and returns the first error met so far.
func (d *docWriter) entry(host string, e *ftpaudit.Entry) error {
	d.next()
	d.line = appendEntry(d.line[:0], host, e, &d.keys)
	d.write(d.line)
	return d.err
}

// close ends the array that is open.
func (d *docWriter) close() {
	if d.n == 0 {
		d.writeString("]")
	} else {
		d.writeString("\n  ]")
	}
}

// end writes the closing brace and the final newline, flushes, and
// returns the first error met.
func (d *docWriter) end() error {
	d.writeString("\n}\n")
	if d.err == nil {
		d.err = d.w.Flush()
	}
	return d.err
}

// entryField starts an entry's field (all but the first), from the comma
// that ends the field before it to the opening quote of the name.
const entryField = ",\n      \""

// appendEntry appends e, an entry of host, to b as encoding/json writes
// it as an element of the document's "entries": an object at depth 2
// whose fields, each on its line, are host, path, path_b64, type, size,
// modified, mode, owner, group, perm, unique, target, facts (names
// sorted), raw, raw_b64, raw_list and raw_list_b64, in that order, those
// with an empty value left out except host, path, type and raw. size is
// left out when unknown; a _b64 field is the standard base64 of the
// field before it, there only when that is not valid UTF-8. raw is the
// line the entry was parsed from; raw_list is the LIST -a line when the
// entry was also seen by MLSD (a paired listing). An entry only LIST -a
// showed has its line in Entry.ListRaw and none in Entry.Raw: that line
// is its raw. keys is room to sort the facts' names in.
//
// It allocates nothing for an entry whose text is valid UTF-8 and that
// has no facts.
func appendEntry(b []byte, host string, e *ftpaudit.Entry, keys *[]string) []byte {
	raw, rawList := e.Raw, e.ListRaw()
	if raw == "" {
		raw, rawList = rawList, ""
	}
	b = append(b, "{\n      \"host\": "...)
	b, _ = appendJSONString(b, host)
	b = append(b, entryField+`path": `...)
	b = appendTextB64(b, e.Path, "path_b64")
	b = append(b, entryField+`type": `...)
	b, _ = appendJSONString(b, e.Type.String())
	if e.Size >= 0 {
		b = append(b, entryField+`size": `...)
		b = strconv.AppendInt(b, e.Size, 10)
	}
	if !e.Modified.IsZero() {
		// RFC 3339 in UTC: digits, -, :, T and Z, none of which JSON
		// escapes.
		b = append(b, entryField+`modified": "`...)
		b = e.Modified.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	b = appendOmitEmpty(b, `mode": `, e.Mode)
	b = appendOmitEmpty(b, `owner": `, e.Owner)
	b = appendOmitEmpty(b, `group": `, e.Group)
	b = appendOmitEmpty(b, `perm": `, e.Perm())
	b = appendOmitEmpty(b, `unique": `, e.Unique())
	b = appendOmitEmpty(b, `target": `, e.Target())
	if facts := e.Facts(); len(facts) > 0 {
		ks := (*keys)[:0]
		for k := range facts {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		b = append(b, entryField+`facts": {`...)
		for i, k := range ks {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b, _ = appendJSONString(b, k)
			b = append(b, ": "...)
			b, _ = appendJSONString(b, facts[k])
		}
		b = append(b, "\n      }"...)
		*keys = ks
	}
	b = append(b, entryField+`raw": `...)
	b = appendTextB64(b, raw, "raw_b64")
	if rawList != "" {
		b = append(b, entryField+`raw_list": `...)
		b = appendTextB64(b, rawList, "raw_list_b64")
	}
	return append(b, "\n    }"...)
}

// appendOmitEmpty appends the entry field that name (its name, closing
// quote and colon) starts with value s, unless s is empty.
func appendOmitEmpty(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, entryField...)
	b = append(b, name...)
	b, _ = appendJSONString(b, s)
	return b
}

// appendTextB64 appends s as a JSON string and, when s is not valid
// UTF-8, the entry field b64Name with its exact bytes in base64.
func appendTextB64(b []byte, s, b64Name string) []byte {
	b, valid := appendJSONString(b, s)
	if valid {
		return b
	}
	b = append(b, entryField...)
	b = append(b, b64Name...)
	b = append(b, `": "`...)
	b = base64.StdEncoding.AppendEncode(b, []byte(s))
	return append(b, '"')
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it with SetEscapeHTML(false): " and \ escaped with a backslash,
// as are \b, \f, \n, \r and \t; other bytes below 0x20 as \u00xx;
// U+2028 and U+2029 as \u2028 and \u2029; each byte of invalid UTF-8 as
// \ufffd; everything else as it is (DEL, <, > and & included). valid
// reports whether s is valid UTF-8 (utf8.ValidString).
func appendJSONString(b []byte, s string) (_ []byte, valid bool) {
	const hex = "0123456789abcdef"
	valid = true
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			valid = false
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), valid
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
