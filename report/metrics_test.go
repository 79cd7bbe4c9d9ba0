package report

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ftpaudit/ftpaudit"
)

// evilURL is a host URL with everything the text format must escape.
const evilURL = "ftp://we\"ird\\host\nx:21"

// metricsSample is a run of two hosts: one complete with findings of
// several severities, one whose login failed, with a URL to escape.
func metricsSample() *ftpaudit.Result {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	a := ftpaudit.Target{URL: "ftp://127.0.0.1:2121", Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/"}
	b := ftpaudit.Target{URL: evilURL, Host: "we\"ird\\host", Port: "21", User: "anonymous", Start: "/"}
	ha := &ftpaudit.HostResult{Target: a, Info: ftpaudit.ServerInfo{Login: "anonymous"}, Started: t0, Finished: t0.Add(1500 * time.Millisecond),
		Complete: true, Stats: ftpaudit.Stats{Dirs: 12, Files: 40, Links: 2, Other: 1, Unreadable: 2, Errors: 0, Listed: 10}}
	hb := &ftpaudit.HostResult{Target: b, Started: t0.Add(time.Second), Finished: t0.Add(3 * time.Second),
		Incomplete: []string{"no session"}, LoginError: "530 Login incorrect.", Stats: ftpaudit.Stats{Errors: 1}}
	return &ftpaudit.Result{Started: t0, Finished: t0.Add(3250 * time.Millisecond), Hosts: []*ftpaudit.HostResult{ha, hb},
		Findings: []ftpaudit.Finding{
			{Host: a.URL, Path: "/incoming", Rule: "writable-dir", Severity: ftpaudit.SevCritical},
			{Host: a.URL, Path: "/  ", Rule: "hidden-name", Severity: ftpaudit.SevHigh},
			{Host: a.URL, Path: "/x.mkv", Rule: "warez", Severity: ftpaudit.SevHigh},
			{Host: a.URL, Path: "/bin", Rule: "unreadable-dir", Severity: ftpaudit.SevInfo},
			{Host: b.URL, Path: "/", Rule: "login-failed", Severity: ftpaudit.SevLow},
		}}
}

// parseMetrics parses out with Prometheus' own parser, and checks what it
// does not: every family is a gauge with help, and no series repeats.
func parseMetrics(t *testing.T, out []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for name, f := range fams {
		if f.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s is a %v", name, f.GetType())
		}
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
		seen := map[string]bool{}
		for _, m := range f.GetMetric() {
			k := labelKey(m)
			if seen[k] {
				t.Errorf("%s{%s} twice", name, k)
			}
			seen[k] = true
		}
	}
	return fams
}

func labelKey(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// series maps each family to its series, "label=value,..." to value.
func series(fams map[string]*dto.MetricFamily) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for name, f := range fams {
		out[name] = map[string]float64{}
		for _, m := range f.GetMetric() {
			out[name][labelKey(m)] = m.GetGauge().GetValue()
		}
	}
	return out
}

func hostKey(host string, more ...string) string {
	parts := []string{fmt.Sprintf("host=%q", host)}
	for i := 0; i+1 < len(more); i += 2 {
		parts = append(parts, fmt.Sprintf("%s=%q", more[i], more[i+1]))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func writeMetrics(t *testing.T, r *ftpaudit.Result, last map[string]time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteMetrics(&b, r, last); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMetrics(t *testing.T) {
	res := metricsSample()
	prev := time.Date(2026, 11, 21, 3, 0, 0, 500e6, time.UTC)
	out := writeMetrics(t, res, map[string]time.Time{evilURL: prev, "ftp://gone:21": prev})
	golden(t, "metrics.prom.golden", out)
	got := series(parseMetrics(t, out))
	const a, b = "ftp://127.0.0.1:2121", evilURL
	finished := float64(res.Finished.UnixMilli()) / 1e3
	want := map[string]map[string]float64{
		"ftpaudit_findings": {
			hostKey(a, "severity", "critical"): 1, hostKey(a, "severity", "high"): 2, hostKey(a, "severity", "medium"): 0,
			hostKey(a, "severity", "low"): 0, hostKey(a, "severity", "info"): 1,
			hostKey(b, "severity", "critical"): 0, hostKey(b, "severity", "high"): 0, hostKey(b, "severity", "medium"): 0,
			hostKey(b, "severity", "low"): 1, hostKey(b, "severity", "info"): 0,
		},
		"ftpaudit_entries": {
			hostKey(a, "type", "dir"): 12, hostKey(a, "type", "file"): 40, hostKey(a, "type", "link"): 2, hostKey(a, "type", "other"): 1,
			hostKey(b, "type", "dir"): 0, hostKey(b, "type", "file"): 0, hostKey(b, "type", "link"): 0, hostKey(b, "type", "other"): 0,
		},
		"ftpaudit_directories_unreadable":               {hostKey(a): 2, hostKey(b): 0},
		"ftpaudit_errors":                               {hostKey(a): 0, hostKey(b): 1},
		"ftpaudit_scan_complete":                        {hostKey(a): 1, hostKey(b): 0},
		"ftpaudit_host_up":                              {hostKey(a): 1, hostKey(b): 0},
		"ftpaudit_scan_duration_seconds":                {hostKey(a): 1.5, hostKey(b): 2},
		"ftpaudit_last_complete_scan_timestamp_seconds": {hostKey(a): finished, hostKey(b): float64(prev.UnixMilli()) / 1e3},
		"ftpaudit_run_duration_seconds":                 {"": 3.25},
		"ftpaudit_last_run_timestamp_seconds":           {"": finished},
	}
	for name, w := range want {
		if !maps.Equal(got[name], w) {
			t.Errorf("%s:\n got %v\nwant %v", name, got[name], w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected family %s", name)
		}
	}
	// The escapes themselves, as node_exporter reads them.
	if !bytes.Contains(out, []byte(`ftpaudit_host_up{host="ftp://we\"ird\\host\nx:21"} 0`+"\n")) {
		t.Errorf("label value not escaped as the format wants:\n%s", out)
	}

	// Without a carried value, a failed host has no last-complete series.
	got = series(parseMetrics(t, writeMetrics(t, res, nil)))
	if w := map[string]float64{hostKey(a): finished}; !maps.Equal(got["ftpaudit_last_complete_scan_timestamp_seconds"], w) {
		t.Errorf("no carry-over: %v", got["ftpaudit_last_complete_scan_timestamp_seconds"])
	}
}

func TestMetricsLastCompleteRoundTrip(t *testing.T) {
	res := metricsSample()
	prev := time.Date(2026, 11, 21, 3, 0, 0, 123e6, time.UTC)
	first := writeMetrics(t, res, map[string]time.Time{evilURL: prev})
	last, err := ReadLastComplete(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"ftp://127.0.0.1:2121": res.Finished, evilURL: prev}
	if !maps.EqualFunc(last, want, time.Time.Equal) {
		t.Fatalf("ReadLastComplete = %v, want %v", last, want)
	}

	// Next run: host a fails too. Both carry their last complete scan over,
	// to the same bytes.
	next := metricsSample()
	next.Started = next.Started.Add(24 * time.Hour)
	next.Finished = next.Finished.Add(24 * time.Hour)
	next.Hosts[0].Complete = false
	next.Hosts[0].Incomplete = []string{"listings failed"}
	second := writeMetrics(t, next, last)
	again, err := ReadLastComplete(bytes.NewReader(second))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(again, want, time.Time.Equal) {
		t.Fatalf("after a failed run: %v, want %v", again, want)
	}
	lastLines := func(b []byte) []string {
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "ftpaudit_last_complete_scan_timestamp_seconds{") {
				out = append(out, l)
			}
		}
		return out
	}
	if l1, l2 := lastLines(first), lastLines(second); !slices.Equal(l1, l2) || len(l1) != 2 {
		t.Errorf("carried lines changed:\n%q\n%q", l1, l2)
	}

	// And once host a is complete again, it is the new run's time.
	next.Hosts[0].Complete = true
	got, _ := ReadLastComplete(bytes.NewReader(writeMetrics(t, next, again)))
	if !got["ftp://127.0.0.1:2121"].Equal(next.Finished) || !got[evilURL].Equal(prev) {
		t.Errorf("after recovery: %v", got)
	}
}

func TestReadLastCompleteGarbage(t *testing.T) {
	in := strings.Join([]string{
		"# HELP ftpaudit_last_complete_scan_timestamp_seconds x",
		"# TYPE ftpaudit_last_complete_scan_timestamp_seconds gauge",
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://ok:21"} 1795316400.5`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://ts:21"} 1795316400 1795316400000`,
		`ftpaudit_last_complete_scan_timestamp_seconds{severity="x", host = "ftp://spaced:21" , } 1795316401`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://dup:21"} 100`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://dup:21"} 200`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://dup:21"} 150`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://nan:21"} NaN`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://inf:21"} +Inf`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://huge:21"} 1e300`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://word:21"} soon`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://three:21"} 1 2 3`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://open:21 1795316400`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://badesc\q:21"} 1795316400`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="a",host="b"} 1795316400`,
		`ftpaudit_last_complete_scan_timestamp_seconds{other="ftp://x:21"} 1795316400`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host=""} 1795316400`,
		`ftpaudit_last_complete_scan_timestamp_seconds 1795316400`,
		`ftpaudit_last_complete_scan_timestamp_seconds_other{host="ftp://other:21"} 1795316400`,
		`ftpaudit_host_up{host="ftp://up:21"} 1`,
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://long:21"} 1` + strings.Repeat("0", 200<<10),
		"\x00\xff\xfe garbage {{{ \"\\",
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://crlf:21"} 1795316402` + "\r",
		`ftpaudit_last_complete_scan_timestamp_seconds{host="ftp://noeol:21"} 1795316403`,
	}, "\n")
	got, err := ReadLastComplete(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{
		"ftp://ok:21":     time.UnixMilli(1795316400500),
		"ftp://ts:21":     time.Unix(1795316400, 0),
		"ftp://spaced:21": time.Unix(1795316401, 0),
		"ftp://dup:21":    time.Unix(200, 0),
		"ftp://crlf:21":   time.Unix(1795316402, 0),
		"ftp://noeol:21":  time.Unix(1795316403, 0),
	}
	if !maps.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if m, err := ReadLastComplete(strings.NewReader("")); err != nil || m == nil || len(m) != 0 {
		t.Errorf("empty input: %v, %v", m, err)
	}
	if _, err := ReadLastComplete(&failReader{}); err == nil {
		t.Error("read error not returned")
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk on fire") }

func FuzzReadLastComplete(f *testing.F) {
	f.Add(string(writeMetricsF(metricsSample())))
	f.Add(`ftpaudit_last_complete_scan_timestamp_seconds{host="a\"b\\c\nd"} 1.5`)
	f.Add(`ftpaudit_last_complete_scan_timestamp_seconds{host="a` + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ReadLastComplete(strings.NewReader(s))
		if err != nil || m == nil {
			t.Fatalf("%v, %v", m, err)
		}
	})
}

func writeMetricsF(r *ftpaudit.Result) []byte {
	var b bytes.Buffer
	_ = WriteMetrics(&b, r, nil)
	return b.Bytes()
}

// FuzzMetricsLabels checks that any host URL gives a file Prometheus
// parses, and that the host's last complete scan reads back.
func FuzzMetricsLabels(f *testing.F) {
	for _, s := range []string{evilURL, "ftp://a:21", "ftp://\xff\xfe:21", `\xff`, "", "\"", "a\r\x1b\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, url string) {
		res := metricsSample()
		res.Hosts[1].Target.URL = url
		res.Hosts[1].Complete = true
		res.Findings[4].Host = url
		out := writeMetricsF(res)
		p := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := p.TextToMetricFamilies(bytes.NewReader(out)); err != nil {
			t.Fatalf("%q: %v\n%s", url, err, out)
		}
		m, err := ReadLastComplete(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if url != "" && !m[labelValue(url)].Equal(res.Finished) {
			t.Errorf("%q: last complete %v", url, m)
		}
	})
}

func TestMetricsInvalidUTF8Host(t *testing.T) {
	res := metricsSample()
	res.Hosts[1].Target.URL = "ftp://bad\xff:21"
	res.Findings[4].Host = "ftp://bad\xff:21"
	out := writeMetrics(t, res, map[string]time.Time{"ftp://bad\xff:21": time.Unix(1000, 0)})
	got := series(parseMetrics(t, out))
	if v, ok := got["ftpaudit_host_up"][hostKey(`ftp://bad\xff:21`)]; !ok || v != 0 {
		t.Errorf("host_up %v", got["ftpaudit_host_up"])
	}
	if v := got["ftpaudit_last_complete_scan_timestamp_seconds"][hostKey(`ftp://bad\xff:21`)]; v != 1000 {
		t.Errorf("carry-over by raw URL: %v", got["ftpaudit_last_complete_scan_timestamp_seconds"])
	}
	// What ReadLastComplete gives back is keyed by the label; it carries
	// over as well.
	last, _ := ReadLastComplete(bytes.NewReader(out))
	got = series(parseMetrics(t, writeMetrics(t, res, last)))
	if v := got["ftpaudit_last_complete_scan_timestamp_seconds"][hostKey(`ftp://bad\xff:21`)]; v != 1000 {
		t.Errorf("carry-over by label: %v", got["ftpaudit_last_complete_scan_timestamp_seconds"])
	}
}

// TestMetricsSameURL: two start directories of one server are one host,
// never two series with the same labels (which a collector refuses).
func TestMetricsSameURL(t *testing.T) {
	res := metricsSample()
	second := *res.Hosts[0]
	second.Target.Start = "/pub"
	second.Complete = false
	second.Started = res.Hosts[0].Started.Add(-time.Second)
	second.Stats = ftpaudit.Stats{Dirs: 1, Files: 2, Errors: 3}
	res.Hosts = append(res.Hosts, &second)
	got := series(parseMetrics(t, writeMetrics(t, res, nil)))
	a := "ftp://127.0.0.1:2121"
	for name, want := range map[string]float64{
		"ftpaudit_scan_complete":         0,
		"ftpaudit_host_up":               1,
		"ftpaudit_errors":                3,
		"ftpaudit_scan_duration_seconds": 2.5,
	} {
		if v := got[name][hostKey(a)]; v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if v := got["ftpaudit_entries"][hostKey(a, "type", "dir")]; v != 13 {
		t.Errorf("dirs %v", v)
	}
	if _, ok := got["ftpaudit_last_complete_scan_timestamp_seconds"][hostKey(a)]; ok {
		t.Error("a host with an incomplete start directory counted complete")
	}
}

func TestMetricsEmpty(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	got := series(parseMetrics(t, writeMetrics(t, &ftpaudit.Result{Started: t0, Finished: t0.Add(time.Second)}, nil)))
	if len(got) != 2 || got["ftpaudit_run_duration_seconds"][""] != 1 || got["ftpaudit_last_run_timestamp_seconds"][""] != float64(t0.Unix()+1) {
		t.Errorf("%v", got)
	}
}

func TestMetricsWriteError(t *testing.T) {
	full := len(writeMetrics(t, metricsSample(), nil))
	for _, n := range []int{0, full - 1} {
		if err := WriteMetrics(&failWriter{left: n}, metricsSample(), nil); err == nil {
			t.Errorf("writer failing after %d of %d bytes: no error", n, full)
		}
	}
}
