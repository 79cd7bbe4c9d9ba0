package report

import (
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// SARIF writes the findings as a SARIF 2.1.0 log (OASIS Static Analysis
// Results Interchange Format), the format code-scanning dashboards and
// security tools read: one run, one reporting descriptor per rule of the
// catalogue (with its explanation and action), one result per finding,
// located by an ftp:// URI of its path, with a fingerprint that stays the
// same across scans (host, path and rule), so that a dashboard follows a
// finding from night to night. A finding a suppression file accepted is a
// result too, after the others, with a suppression (kind "external",
// status "accepted", the line's reason as justification, the line and the
// expiry date as properties): SARIF readers leave such results out of
// their counts, as ftpaudit does. Server text is carried raw; JSON escapes
// it.
type SARIF struct {
	// ToolVersion is the driver's version; empty means "dev".
	ToolVersion string
}

var _ Reporter = (*SARIF)(nil)

// SARIF 2.1.0, reduced to what ftpaudit writes.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifRule struct {
		ID                   string            `json:"id"`
		Name                 string            `json:"name"`
		ShortDescription     sarifText         `json:"shortDescription"`
		FullDescription      sarifText         `json:"fullDescription"`
		Help                 sarifText         `json:"help"`
		DefaultConfiguration sarifConfig       `json:"defaultConfiguration"`
		Properties           map[string]string `json:"properties"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool   `json:"executionSuccessful"`
		StartTimeUTC        string `json:"startTimeUtc,omitempty"`
		EndTimeUTC          string `json:"endTimeUtc,omitempty"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties"`
		// Suppressions is set on the results of suppressed findings only.
		Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	}
	// sarifSuppression is SARIF's suppression object: an external one
	// (the suppression file), accepted, with the line's reason.
	sarifSuppression struct {
		Kind          string         `json:"kind"`
		Status        string         `json:"status"`
		Justification string         `json:"justification,omitempty"`
		Properties    map[string]any `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
)

// sarifLevel maps a severity to SARIF's three levels.
func sarifLevel(s ftpaudit.Severity) string {
	switch {
	case s >= ftpaudit.SevHigh:
		return "error"
	case s == ftpaudit.SevMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub code scanning's "security-severity" (0-10)
// for a severity.
func securitySeverity(s ftpaudit.Severity) string {
	return [...]string{"0.0", "3.0", "5.5", "8.0", "9.5"}[min(max(int(s), 0), 4)]
}

// sarifFingerprint is the finding's fingerprint (host, path and rule).
func sarifFingerprint(f *ftpaudit.Finding) string { return f.Fingerprint() }

// sarifURI is the ftp:// URI of a path on host (a target URL): every
// byte a URI may not hold as it is percent-encoded, in the host as in the
// path, so that every name, however hostile, has an exact and valid URI.
func sarifURI(host, p string) string {
	var b strings.Builder
	host = strings.TrimSuffix(host, "/")
	rest, ok := strings.CutPrefix(host, "ftp://")
	scheme := "ftp://"
	if !ok {
		rest, ok = strings.CutPrefix(host, "ftps://")
		scheme = "ftps://"
	}
	if !ok {
		scheme, rest = "ftp://", host
	}
	b.WriteString(scheme)
	if u, err := url.Parse(scheme + rest); err == nil && u.Host == rest && u.User == nil {
		b.WriteString(rest)
	} else {
		// Not a host and port a URI can hold: a reserved name (RFC 2606)
		// stands in for it, and the result's "host" property has it.
		b.WriteString("invalid-host.invalid")
	}
	if !strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	uriEscape(&b, p, "/-._~!$&'()*+,;=:@")
	return b.String()
}

// uriEscape writes s with every byte that is not an ASCII letter or digit
// or in keep percent-encoded.
func uriEscape(b *strings.Builder, s, keep string) {
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
}

// Report writes r as one SARIF log.
func (s *SARIF) Report(w io.Writer, r *ftpaudit.Result) error {
	v := NewView(r)
	version := s.ToolVersion
	if version == "" {
		version = "dev"
	}
	drv := sarifDriver{Name: "ftpaudit", Version: version, InformationURI: "https://github.com/ftpaudit/ftpaudit"}
	index := map[string]int{}
	for _, rule := range ftpaudit.Rules {
		index[rule.ID] = len(drv.Rules)
		drv.Rules = append(drv.Rules, sarifRule{
			ID: rule.ID, Name: rule.ID,
			ShortDescription:     sarifText{rule.ID},
			FullDescription:      sarifText{rule.Explanation},
			Help:                 sarifText{rule.Action},
			DefaultConfiguration: sarifConfig{sarifLevel(rule.Severity)},
			Properties:           map[string]string{"security-severity": securitySeverity(rule.Severity)},
		})
	}
	run := sarifRun{Tool: sarifTool{drv}, Results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: v.Complete}
	if !v.Started.IsZero() {
		inv.StartTimeUTC = v.Started.UTC().Format(time.RFC3339)
	}
	if !v.Finished.IsZero() {
		inv.EndTimeUTC = v.Finished.UTC().Format(time.RFC3339)
	}
	run.Invocations = []sarifInvocation{inv}
	// result is the SARIF result of one finding, adding a descriptor for a
	// rule the catalogue does not know (a newer history) so that the log
	// stays valid.
	result := func(f *ftpaudit.Finding) sarifResult {
		ri, ok := index[f.Rule]
		if !ok {
			ri = len(run.Tool.Driver.Rules)
			index[f.Rule] = ri
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: f.Rule, Name: f.Rule,
				ShortDescription: sarifText{f.Rule}, FullDescription: sarifText{f.Rule}, Help: sarifText{f.Action},
				DefaultConfiguration: sarifConfig{sarifLevel(f.Severity)}, Properties: map[string]string{}})
		}
		msg := strings.Join(f.Evidence, "; ")
		if msg == "" {
			msg = f.Rule
		}
		props := map[string]any{"severity": f.Severity.String(), "action": f.Action, "host": f.Host}
		if f.Size >= 0 {
			props["size"] = f.Size
		}
		if !f.Modified.IsZero() {
			props["modified"] = f.Modified.UTC().Format(time.RFC3339)
		}
		return sarifResult{
			RuleID: f.Rule, RuleIndex: ri, Level: sarifLevel(f.Severity),
			Message:             sarifText{msg},
			Locations:           []sarifLocation{{sarifPhysical{sarifArtifact{sarifURI(f.Host, f.Path)}}}},
			PartialFingerprints: map[string]string{"ftpaudit/v1": sarifFingerprint(f)},
			Properties:          props,
		}
	}
	for i := range v.Findings {
		run.Results = append(run.Results, result(&v.Findings[i]))
	}
	for i := range v.Suppressed {
		sp := &v.Suppressed[i]
		res := result(&sp.Finding)
		sup := sarifSuppression{Kind: "external", Status: "accepted", Justification: sp.Reason,
			Properties: map[string]any{"suppressedBy": sp.Source}}
		if !sp.Expires.IsZero() {
			sup.Properties["expires"] = sp.Expires.UTC().Format("2006-01-02")
		}
		res.Suppressions = []sarifSuppression{sup}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
