package report

import (
	"encoding/json"
	"io"

	"github.com/ftpaudit/ftpaudit"
)

// JSONL writes JSON lines for log shippers: one object per line, first
// one per finding ("type":"finding"), then one per host ("type":"host")
// saying how much of it was seen, so that coverage is shipped too. Every
// line carries the schema and the time the scan finished, and is valid
// JSON on its own: encoding/json escapes line breaks and control
// characters, and a path that is not valid UTF-8 comes with path_b64.
type JSONL struct{}

var _ Reporter = (*JSONL)(nil)

type jsonlFinding struct {
	Type   string `json:"type"`
	Schema string `json:"schema"`
	Time   string `json:"time"`
	jsonFinding
}

// severityCounts counts findings per severity, worst first.
type severityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

func (c *severityCounts) add(s ftpaudit.Severity) {
	switch s {
	case ftpaudit.SevCritical:
		c.Critical++
	case ftpaudit.SevHigh:
		c.High++
	case ftpaudit.SevMedium:
		c.Medium++
	case ftpaudit.SevLow:
		c.Low++
	case ftpaudit.SevInfo:
		c.Info++
	}
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
func (JSONL) Report(w io.Writer, r *ftpaudit.Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	when := rfc3339(r.Finished)
	counts := map[string]*severityCounts{}
	for _, f := range findingsJSON(r.Findings) {
		if err := enc.Encode(jsonlFinding{Type: "finding", Schema: Schema, Time: when, jsonFinding: f}); err != nil {
			return err
		}
	}
	for _, f := range r.Findings {
		c := counts[f.Host]
		if c == nil {
			c = &severityCounts{}
			counts[f.Host] = c
		}
		c.add(f.Severity)
	}
	for _, h := range r.Hosts {
		if h == nil {
			continue
		}
		line := jsonlHost{
			Type: "host", Schema: Schema, Time: when,
			Host: h.Target.URL, Start: h.Target.Start, StartB64: b64(h.Target.Start),
			Complete: h.Complete, Incomplete: h.Incomplete, LoginError: h.LoginError,
			Stats: h.Stats,
		}
		if line.Incomplete == nil {
			line.Incomplete = []string{}
		}
		if c := counts[h.Target.URL]; c != nil {
			line.Findings = *c
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}
