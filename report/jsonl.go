package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"

	"github.com/ftpaudit/ftpaudit"
)

// JSONL writes JSON lines for log shippers: one object per line, first
// one per finding ("type":"finding"), then one per finding a suppression
// file accepted ("type":"suppressed", with "suppressed":true, its
// fingerprint, the line that suppressed it ("suppressed_by"), its reason
// and expiry), then one per walked target ("type":"host") saying how much
// of it was seen, so that coverage is shipped too. Suppressed findings
// are never "finding" lines, and no host line counts them. A host line's "findings" counts the findings of that
// target (URL and start directory) as every format counts them (View):
// each finding is counted on one host line only, so that the host lines
// add up to the finding lines. Every line carries the schema and the time
// the scan finished, and is valid JSON on its own: encoding/json escapes
// line breaks and control characters, and a path that is not valid UTF-8
// comes with path_b64.
//
// With Inventory (scan --inventory), every entry walked follows as a line
// of its own, after the host lines: "type":"entry", the schema and time,
// and "entry", the JSON document's entry object as it is there; target by
// target, sorted by path byte by byte, as in the document.
type JSONL struct {
	Inventory bool
}

var _ Reporter = (*JSONL)(nil)

type jsonlFinding struct {
	Type   string `json:"type"`
	Schema string `json:"schema"`
	Time   string `json:"time"`
	jsonFinding
}

// jsonlSuppressed is a finding a suppression file accepted: the finding,
// marked, with the line that suppressed it.
type jsonlSuppressed struct {
	Type       string `json:"type"`
	Schema     string `json:"schema"`
	Time       string `json:"time"`
	Suppressed bool   `json:"suppressed"`
	jsonSuppressed
}

type jsonlHost struct {
	Type       string         `json:"type"`
	Schema     string         `json:"schema"`
	Time       string         `json:"time"`
	Host       string         `json:"host"`
	Start      string         `json:"start"`
	StartB64   string         `json:"start_b64,omitempty"`
	Complete   bool           `json:"complete"`
	Incomplete []string       `json:"incomplete"`
	LoginError string         `json:"login_error,omitempty"`
	Stats      ftpaudit.Stats `json:"stats"`
	Findings   severityCounts `json:"findings"`
}

// Report writes r as JSON lines, line by line through a buffered writer.
func (j *JSONL) Report(w io.Writer, r *ftpaudit.Result) error {
	v := NewView(r)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	when := rfc3339(v.Finished)
	for i := range v.Findings {
		if err := enc.Encode(jsonlFinding{Type: "finding", Schema: Schema, Time: when, jsonFinding: findingJSON(&v.Findings[i])}); err != nil {
			return err
		}
	}
	for i := range v.Suppressed {
		sp := &v.Suppressed[i]
		line := jsonlSuppressed{Type: "suppressed", Schema: Schema, Time: when, Suppressed: true, jsonSuppressed: suppressedJSON(sp)}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	for _, t := range v.Targets {
		h := t.Host
		if h == nil {
			continue
		}
		line := jsonlHost{
			Type: "host", Schema: Schema, Time: when,
			Host: h.Target.URL, Start: h.Target.Start, StartB64: b64(h.Target.Start),
			Complete: h.Complete, Incomplete: h.Incomplete, LoginError: h.LoginError,
			Stats: h.Stats, Findings: countsJSON(t.Counts),
		}

		if line.Incomplete == nil {
			line.Incomplete = []string{}
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	if j.Inventory {
		if err := writeEntryLines(bw, v, when); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeEntryLines writes each target's entries as JSON lines: the JSON
// document's entry (appendEntry, the one encoder of an entry), compacted,
// under "entry"; streamed in path order (HostResult.AllEntries). When a
// host's entries cannot all be read back (EntriesErr), it returns the
// error, and writes no more lines.
func writeEntryLines(w *bufio.Writer, v *View, when string) error {
	var buf, out bytes.Buffer
	prefix := `{"type":"entry","schema":` + strconv.Quote(Schema) + `,"time":` + strconv.Quote(when) + `,"entry":`
	var ebuf []byte
	var ks []string
	for _, t := range v.Targets {
		h := t.Host
		if h == nil {
			continue
		}
		for e := range h.AllEntries() {
			ebuf = appendEntry(ebuf[:0], h.Target.URL, e, &ks)
			buf.Reset()
			buf.Write(ebuf)
			out.Reset()
			if err := json.Compact(&out, buf.Bytes()); err != nil {
				return err
			}
			b := out.Bytes()
			if _, err := w.WriteString(prefix); err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
			if _, err := w.WriteString("}\n"); err != nil {
				return err
			}
		}
		if err := h.EntriesErr(); err != nil {
			return entriesErr(h, err)
		}
	}
	return nil
}

// suppressedJSON is a suppressed finding as the JSON lines carry it, with
// its fingerprint and the line that suppressed it (as the JSON document's
// "suppressed" list has them).
func suppressedJSON(sp *ftpaudit.Suppressed) jsonSuppressed {
	js := jsonSuppressed{jsonFinding: findingJSON(&sp.Finding), Fingerprint: sp.Finding.Fingerprint(), Source: sp.Source, Reason: sp.Reason}
	if !sp.Expires.IsZero() {
		js.Expires = sp.Expires.UTC().Format("2006-01-02")
	}
	return js
}
