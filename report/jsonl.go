package report

import (
	"encoding/json"
	"io"

	"github.com/ftpaudit/ftpaudit"
)

// JSONL writes JSON lines for log shippers: one object per line, first
// one per finding ("type":"finding"), then one per walked target
// ("type":"host") saying how much of it was seen, so that coverage is
// shipped too. A host line's "findings" counts the findings of that
// target (URL and start directory) as every format counts them (View):
// each finding is counted on one host line only, so that the host lines
// add up to the finding lines. Every line carries the schema and the time
// the scan finished, and is valid JSON on its own: encoding/json escapes
// line breaks and control characters, and a path that is not valid UTF-8
// comes with path_b64.
type JSONL struct{}

var _ Reporter = (*JSONL)(nil)

type jsonlFinding struct {
	Type   string `json:"type"`
	Schema string `json:"schema"`
	Time   string `json:"time"`
	jsonFinding
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

// Report writes r as JSON lines.
func (*JSONL) Report(w io.Writer, r *ftpaudit.Result) error {
	v := NewView(r)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	when := rfc3339(v.Finished)
	for i := range v.Findings {
		if err := enc.Encode(jsonlFinding{Type: "finding", Schema: Schema, Time: when, jsonFinding: findingJSON(&v.Findings[i])}); err != nil {
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
	return nil
}
