package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
)

// Metric names written by WriteMetrics.
const (
	metricFindings         = "ftpaudit_findings"
	metricSuppressed       = "ftpaudit_findings_suppressed"
	metricEntries          = "ftpaudit_entries"
	metricUnreadable       = "ftpaudit_directories_unreadable"
	metricErrors           = "ftpaudit_errors"
	metricScanComplete     = "ftpaudit_scan_complete"
	metricHostUp           = "ftpaudit_host_up"
	metricScanDuration     = "ftpaudit_scan_duration_seconds"
	metricRunDuration      = "ftpaudit_run_duration_seconds"
	metricLastRun          = "ftpaudit_last_run_timestamp_seconds"
	metricLastCompleteScan = "ftpaudit_last_complete_scan_timestamp_seconds"
)

const (
	// metricsMaxLine bounds the lines ReadLastComplete looks at.
	metricsMaxLine = 64 << 10
	// Timestamps are written to the millisecond.
	millisPerSecond = 1e3
)

// severitiesDesc lists the severities worst first, as the metrics count
// them.
var severitiesDesc = []ftpaudit.Severity{ftpaudit.SevCritical, ftpaudit.SevHigh, ftpaudit.SevMedium, ftpaudit.SevLow, ftpaudit.SevInfo}

// metricsHost is what the metrics say about one host label: every target
// of the View whose URL gives that label (several start directories of
// one server share it), their counts added up.
type metricsHost struct {
	label      string
	url        string
	scanned    bool // at least one HostResult (not only findings)
	complete   bool
	up         bool
	started    time.Time
	finished   time.Time
	stats      ftpaudit.Stats
	findings   Counts
	lastOK     time.Time
	haveLastOK bool
}

// WriteMetrics writes r in the Prometheus text exposition format 0.0.4,
// for node_exporter's textfile collector; every metric is a gauge. The
// caller should write to a temporary file and rename it into place, so
// that the collector never reads half a file.
//
// Per host (label host, the target URL):
//
//	ftpaudit_findings{host,severity}  findings per severity, zeros included
//	ftpaudit_findings_suppressed{host,rule,severity}
//	                                  findings a suppression file accepted,
//	                                  per rule and severity (only those of
//	                                  which there are some); never counted
//	                                  in ftpaudit_findings
//	ftpaudit_entries{host,type}       entries walked, type dir|file|link|other
//	ftpaudit_directories_unreadable{host}
//	ftpaudit_errors{host}
//	ftpaudit_scan_complete{host}      1 or 0
//	ftpaudit_host_up{host}            0 when no session could be opened
//	ftpaudit_scan_duration_seconds{host}
//	ftpaudit_last_complete_scan_timestamp_seconds{host}
//
// and for the run: ftpaudit_run_duration_seconds and
// ftpaudit_last_run_timestamp_seconds.
//
// The last complete scan of a host is r.Finished when the host is complete
// now, else lastSuccess[url] (what ReadLastComplete read from the previous
// file), else the series is left out. Several targets with one URL (other
// start directories) are one host: their counts (the View's, where each
// finding is counted for one target) are summed, so the findings series
// add up to the number of findings; it is complete and up only when all
// of them are, and its duration spans them all. A finding of a severity
// that is not known is counted under severity="unknown". A label value
// that is not valid UTF-8 has its invalid bytes written as \xNN.
func WriteMetrics(w io.Writer, r *ftpaudit.Result, lastSuccess map[string]time.Time) error {
	v := NewView(r)
	hosts := metricsHosts(v, lastSuccess)
	var b bytes.Buffer
	family := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	perHost := func(name, help string, value func(h *metricsHost) (float64, bool)) {
		first := true
		for _, h := range hosts {
			if !h.scanned {
				continue
			}
			v, ok := value(h)
			if !ok {
				continue
			}
			if first {
				family(name, help)
				first = false
			}
			writeSample(&b, name, v, "host", h.label)
		}
	}

	if len(hosts) > 0 {
		family(metricFindings, "Findings of the last scan, per host and severity.")
		for _, h := range hosts {
			for _, s := range severitiesDesc {
				writeSample(&b, metricFindings, float64(h.findings.Of(s)), "host", h.label, "severity", s.String())
			}
			// Severities outside the known ones, should a policy ever make
			// them: shown rather than lost.
			if n := h.findings.Unknown; n > 0 {
				writeSample(&b, metricFindings, float64(n), "host", h.label, "severity", ftpaudit.Severity(-1).String())
			}
		}
	}
	writeSuppressed(&b, v.Suppressed, family)
	first := true
	for _, h := range hosts {
		if !h.scanned {
			continue
		}
		if first {
			family(metricEntries, "Entries walked in the last scan, per host and entry type.")
			first = false
		}
		for _, tv := range []struct {
			typ string
			n   int
		}{{"dir", h.stats.Dirs}, {"file", h.stats.Files}, {"link", h.stats.Links}, {"other", h.stats.Other}} {
			writeSample(&b, metricEntries, float64(tv.n), "host", h.label, "type", tv.typ)
		}
	}
	perHost(metricUnreadable, "Directories the server refused to list in the last scan.", func(h *metricsHost) (float64, bool) {
		return float64(h.stats.Unreadable), true
	})
	perHost(metricErrors, "Directories whose listing failed, and listing lines that could not be parsed, in the last scan.", func(h *metricsHost) (float64, bool) {
		return float64(h.stats.Errors), true
	})
	perHost(metricScanComplete, "1 when the last scan of the host was complete, else 0.", func(h *metricsHost) (float64, bool) {
		return boolFloat(h.complete), true
	})
	perHost(metricHostUp, "0 when no session could be opened to the host in the last scan, else 1.", func(h *metricsHost) (float64, bool) {
		return boolFloat(h.up), true
	})
	perHost(metricScanDuration, "Wall time of the last scan of the host.", func(h *metricsHost) (float64, bool) {
		return durationSeconds(h.started, h.finished), true
	})
	perHost(metricLastCompleteScan, "Unix time of the last complete scan of the host, carried over from earlier runs while scans are incomplete.", func(h *metricsHost) (float64, bool) {
		return unixSeconds(h.lastOK), h.haveLastOK
	})
	family(metricRunDuration, "Wall time of the last ftpaudit run.")
	writeSample(&b, metricRunDuration, durationSeconds(v.Started, v.Finished))
	family(metricLastRun, "Unix time the last ftpaudit run finished.")
	writeSample(&b, metricLastRun, unixSeconds(v.Finished))
	_, err := w.Write(b.Bytes())
	return err
}

// writeSuppressed writes the ftpaudit_findings_suppressed family: the
// suppressed findings counted per host label, rule and severity, sorted by
// them (severity worst first); nothing when there are none.
func writeSuppressed(b *bytes.Buffer, sup []ftpaudit.Suppressed, family func(name, help string)) {
	if len(sup) == 0 {
		return
	}
	type key struct {
		host, rule string
		sev        ftpaudit.Severity
	}
	count := map[key]int{}
	var keys []key
	for i := range sup {
		f := &sup[i].Finding
		k := key{labelValue(f.Host), labelValue(f.Rule), f.Severity}
		if !knownSeverity(k.sev) {
			k.sev = -1 // "unknown", as ftpaudit_findings counts them
		}
		if count[k] == 0 {
			keys = append(keys, k)
		}
		count[k]++
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.host, b.host); c != 0 {
			return c
		}
		if c := strings.Compare(a.rule, b.rule); c != 0 {
			return c
		}
		return int(b.sev - a.sev)
	})
	family(metricSuppressed, "Findings of the last scan that a suppression file accepted, per host, rule and severity; not counted in ftpaudit_findings.")
	for _, k := range keys {
		writeSample(b, metricSuppressed, float64(count[k]), "host", k.host, "rule", k.rule, "severity", k.sev.String())
	}
}

// metricsHosts groups the targets of v by host label, in the order they
// were scanned, then the hosts known only from findings, sorted.
func metricsHosts(v *View, lastSuccess map[string]time.Time) []*metricsHost {
	var hosts []*metricsHost
	byLabel := map[string]*metricsHost{}
	get := func(url string) *metricsHost {
		label := labelValue(url)
		h := byLabel[label]
		if h == nil {
			h = &metricsHost{label: label, url: url, complete: true, up: true}
			byLabel[label] = h
			hosts = append(hosts, h)
		}
		return h
	}
	for _, t := range v.Targets {
		hr := t.Host
		if hr == nil {
			continue
		}
		h := get(t.URL)
		h.scanned = true
		h.complete = h.complete && hr.Complete
		h.up = h.up && hr.LoginError == ""
		if !hr.Started.IsZero() && (h.started.IsZero() || hr.Started.Before(h.started)) {
			h.started = hr.Started
		}
		if hr.Finished.After(h.finished) {
			h.finished = hr.Finished
		}
		s := &h.stats
		s.Dirs += hr.Stats.Dirs
		s.Files += hr.Stats.Files
		s.Links += hr.Stats.Links
		s.Other += hr.Stats.Other
		s.Unreadable += hr.Stats.Unreadable
		s.Errors += hr.Stats.Errors
	}
	scanned := len(hosts)
	for _, t := range v.Targets {
		get(t.URL).findings.merge(t.Counts)
	}
	slices.SortFunc(hosts[scanned:], func(a, b *metricsHost) int { return strings.Compare(a.label, b.label) })
	for _, h := range hosts {
		switch {
		case h.scanned && h.complete:
			h.lastOK, h.haveLastOK = v.Finished, true
		default:
			t, ok := lastSuccess[h.url]
			if !ok {
				t, ok = lastSuccess[h.label]
			}
			if ok && !t.IsZero() {
				h.lastOK, h.haveLastOK = t, true
			}
		}
	}
	return hosts
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func durationSeconds(from, to time.Time) float64 {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return 0
	}
	return to.Sub(from).Seconds()
}

// unixSeconds is t as Unix seconds, to the millisecond, so that a value
// read back by ReadLastComplete is written again unchanged.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / millisPerSecond
}

// writeSample writes one sample line; labels are name, value pairs.
func writeSample(b *bytes.Buffer, name string, v float64, labels ...string) {
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i])
			b.WriteString(`="`)
			writeLabelValue(b, labels[i+1])
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// writeLabelValue escapes a label value for the text format: backslash,
// double quote and line feed.
func writeLabelValue(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
}

// labelValue makes s a valid label value: the format wants UTF-8, and a
// collector refuses the whole file otherwise. Invalid bytes become the
// text \xNN.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&15])
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// ReadLastComplete reads the ftpaudit_last_complete_scan_timestamp_seconds
// series of a metrics file WriteMetrics wrote, keyed by host label (the
// target URL), so that the next run can carry each host's last complete
// scan over. Lines it cannot parse are skipped; only a read error is
// returned. When a host appears twice the later time wins.
func ReadLastComplete(r io.Reader) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	br := bufio.NewReaderSize(r, metricsMaxLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than any we write: skip it whole.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			continue
		}
		if len(line) > 0 {
			if host, t, ok := parseLastComplete(string(line)); ok {
				if prev, seen := out[host]; !seen || t.After(prev) {
					out[host] = t
				}
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// parseLastComplete parses one sample line of the last-complete series.
func parseLastComplete(line string) (host string, t time.Time, ok bool) {
	line = strings.TrimRight(line, "\r\n")
	line = strings.TrimLeft(line, " \t")
	rest, found := strings.CutPrefix(line, metricLastCompleteScan)
	if !found {
		return "", time.Time{}, false
	}
	rest = strings.TrimLeft(rest, " \t")
	if !strings.HasPrefix(rest, "{") {
		return "", time.Time{}, false
	}
	labels, rest, ok := parseLabels(rest[1:])
	if !ok {
		return "", time.Time{}, false
	}
	host, ok = labels["host"]
	if !ok || host == "" {
		return "", time.Time{}, false
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 || len(fields) > 2 {
		return "", time.Time{}, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	// Within a range time.Time and UnixMilli hold exactly (year 1 to
	// about 292 million).
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < -62135596800 || v > 9e15 {
		return "", time.Time{}, false
	}
	ms := int64(math.Round(v * millisPerSecond))
	return host, time.UnixMilli(ms).UTC(), true
}

// parseLabels parses `name="value",...}` (the opening brace already
// consumed) and returns the labels and what follows the closing brace.
func parseLabels(s string) (map[string]string, string, bool) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, "", false
		}
		name := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		if !strings.HasPrefix(s, `"`) {
			return nil, "", false
		}
		var v strings.Builder
		i := 1
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] != '\\' {
				v.WriteByte(s[i])
				continue
			}
			i++
			if i == len(s) {
				return nil, "", false
			}
			switch s[i] {
			case '\\', '"':
				v.WriteByte(s[i])
			case 'n':
				v.WriteByte('\n')
			default:
				return nil, "", false
			}
		}
		if i == len(s) {
			return nil, "", false
		}
		if _, dup := labels[name]; dup || name == "" {
			return nil, "", false
		}
		labels[name] = v.String()
		s = strings.TrimPrefix(strings.TrimLeft(s[i+1:], " \t"), ",")
	}
}
