package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
)

// The JSON document used to be built whole (every entry a jsonEntry) and
// encoded by encoding/json in one call. It is now written piece by piece,
// entries by hand (appendEntry, appendJSONString). The tests below hold
// the new writer to the bytes the old one wrote: refJSON is the old
// Report, kept here as the reference.

// refDoc is the whole document as the old Report built it.
type refDoc struct {
	Schema     string           `json:"schema"`
	Tool       jsonTool         `json:"tool"`
	Started    string           `json:"started"`
	Finished   string           `json:"finished"`
	Complete   bool             `json:"complete"`
	ScanID     int64            `json:"scan_id,omitempty"`
	Shard      string           `json:"shard,omitempty"`
	Hosts      []jsonHost       `json:"hosts"`
	Entries    []refEntry       `json:"entries"`
	Findings   []jsonFinding    `json:"findings"`
	Suppressed []jsonSuppressed `json:"suppressed,omitempty"`
}

// refEntry is an inventory entry as the old Report built it.
type refEntry struct {
	Host       string            `json:"host"`
	Path       string            `json:"path"`
	PathB64    string            `json:"path_b64,omitempty"`
	Type       string            `json:"type"`
	Size       *int64            `json:"size,omitempty"`
	Modified   string            `json:"modified,omitempty"`
	Mode       string            `json:"mode,omitempty"`
	Owner      string            `json:"owner,omitempty"`
	Group      string            `json:"group,omitempty"`
	Perm       string            `json:"perm,omitempty"`
	Unique     string            `json:"unique,omitempty"`
	Target     string            `json:"target,omitempty"`
	Facts      map[string]string `json:"facts,omitempty"`
	Raw        string            `json:"raw"`
	RawB64     string            `json:"raw_b64,omitempty"`
	RawList    string            `json:"raw_list,omitempty"`
	RawListB64 string            `json:"raw_list_b64,omitempty"`
}

func refEntryOf(host string, e *ftpaudit.Entry) refEntry {
	raw, rawList := e.Raw, e.ListRaw()
	if raw == "" {
		raw, rawList = rawList, ""
	}
	je := refEntry{
		Host: host, Path: e.Path, PathB64: b64(e.Path), Type: e.Type.String(), Modified: rfc3339(e.Modified),
		Mode: e.Mode, Owner: e.Owner, Group: e.Group, Perm: e.Perm(), Unique: e.Unique(), Target: e.Target(),
		Facts: e.Facts(), Raw: raw, RawB64: b64(raw), RawList: rawList, RawListB64: b64(rawList),
	}
	if e.Size >= 0 {
		sz := e.Size
		je.Size = &sz
	}
	return je
}

// refJSON is the old JSON.Report: the whole document in memory, then one
// encoding/json call.
func refJSON(j *JSON, w io.Writer, r *ftpaudit.Result) error {
	v := NewView(r)
	doc := refDoc{
		Schema: Schema, Tool: jsonTool{Name: "ftpaudit", Version: toolVersion(j.ToolVersion)},
		Started: rfc3339(v.Started), Finished: rfc3339(v.Finished), Complete: v.Complete, ScanID: v.SavedID, Shard: j.Shard,
		Hosts: []jsonHost{}, Entries: []refEntry{}, Findings: findingsJSON(v.Findings),
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
		doc.Hosts = append(doc.Hosts, hostJSON(t))
		if !j.Inventory {
			continue
		}
		for i := range h.Entries {
			doc.Entries = append(doc.Entries, refEntryOf(h.Target.URL, &h.Entries[i]))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// hostileText are pieces of server text that JSON must escape, or must
// not: every escape encoding/json knows, HTML characters it is told to
// leave, invalid UTF-8 (a lone continuation byte, a cut sequence, an
// encoded surrogate, an overlong form), the line separators, and text
// that only looks like escapes.
var hostileText = []string{
	"", "a", "/", " ", "\x00", "\x01", "\x07", "\b", "\t", "\n", "\v", "\f", "\r", "\x1b[2J", "\x1b]0;t\x07", "\x1f",
	"\x7f", "\"", "\\", "\\u0000", "<", ">", "&", "</script>", "'", "\u2028", "\u2029", "\u202e", "\u200b", "\ufffd",
	"\u0085", "\u009b", "é", "中文", "\U0001f600", "\xff", "\xfe", "\x80", "\xc3", "\xe2\x80", "\xed\xa0\x80",
	"\xc0\xaf", "\xf4\x90\x80\x80", "=cmd|' /C calc'!A0", "drwxr-xr-x    2 ftp      ftp          4096 Nov 01 12:30 pub",
}

func randText(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(6) {
		switch rng.IntN(3) {
		case 0:
			b.WriteByte(byte(rng.IntN(256)))
		case 1:
			b.WriteRune(rune(rng.IntN(0x110000)))
		default:
			b.WriteString(hostileText[rng.IntN(len(hostileText))])
		}
	}
	return b.String()
}

func randTime(rng *rand.Rand) time.Time {
	switch rng.IntN(6) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(1+rng.IntN(12000), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1e9), time.UTC)
	case 2:
		return time.Date(-rng.IntN(3000), 1, 1, 0, 0, 0, 0, time.UTC) // years before 1 and 0
	case 3:
		return time.Unix(rng.Int64N(1<<40)-1<<39, 0).In(time.FixedZone("X", rng.IntN(50000)-25000))
	}
	return time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(1 << 50)))
}

func randEntry(rng *rand.Rand) ftpaudit.Entry {
	e := ftpaudit.Entry{
		Path: "/" + randText(rng), Name: randText(rng), Type: ftpaudit.EntryType(rng.IntN(7)), Modified: randTime(rng),
		Mode: randText(rng), Owner: randText(rng), Group: randText(rng), Raw: randText(rng),
	}
	switch rng.IntN(5) {
	case 0:
		e.Size = -1
	case 1:
		e.Size = 0
	case 2:
		e.Size = math.MaxInt64
	default:
		e.Size = rng.Int64N(1 << 40)
	}
	if rng.IntN(2) == 0 {
		x := &ftpaudit.EntryExtra{Perm: randText(rng), Unique: randText(rng), ListRaw: randText(rng), Target: randText(rng)}
		switch rng.IntN(3) {
		case 0:
			x.Facts = map[string]string{}
		case 1:
			x.Facts = map[string]string{}
			for range 1 + rng.IntN(5) {
				x.Facts[randText(rng)] = randText(rng)
			}
			// Two names that encoding/json writes alike: the sort is by
			// the names' bytes, not their escapes.
			x.Facts["k\xff"], x.Facts["k\xfe"] = "1", "2"
		}
		e.Extra = x
	}
	return e
}

// refEntryBytes is e as the old Report wrote it inside "entries".
func refEntryBytes(t testing.TB, host string, e *ftpaudit.Entry) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	if err := enc.Encode(refEntryOf(host, e)); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func checkEntry(t testing.TB, host string, e *ftpaudit.Entry) {
	t.Helper()
	var keys []string
	got := appendEntry(nil, host, e, &keys)
	if want := refEntryBytes(t, host, e); !bytes.Equal(got, want) {
		t.Fatalf("entry %+v %+v:\n got %s\nwant %s", e, e.Extra, got, want)
	}
}

// TestAppendJSONString: every string is written as encoding/json writes
// it without HTML escaping, and valid says what utf8.ValidString says.
func TestAppendJSONString(t *testing.T) {
	check := func(s string) {
		t.Helper()
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got, valid := appendJSONString([]byte("x"), s)
		if want := "x" + strings.TrimSuffix(b.String(), "\n"); string(got) != want || valid != utf8.ValidString(s) {
			t.Fatalf("%q: got %s (valid %v), want %s (valid %v)", s, got, valid, want, utf8.ValidString(s))
		}
	}
	for c := range 256 {
		check(string([]byte{byte(c)}))
		check("a" + string([]byte{byte(c)}) + "b")
	}
	for _, s := range hostileText {
		check(s)
		check(s + s + "x")
	}
	for r := rune(0); r < 0x110000; r += 1 + r/64 {
		check(string(r))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		check(randText(rng))
	}
}

// TestAppendEntry: every entry, hostile or random, is written byte for
// byte as encoding/json wrote it.
func TestAppendEntry(t *testing.T) {
	for _, r := range []*ftpaudit.Result{sample(), hostileArchive(), notListedSample()} {
		for _, h := range r.Hosts {
			for i := range h.Entries {
				checkEntry(t, h.Target.URL, &h.Entries[i])
			}
		}
	}
	for _, s := range hostileText {
		e := ftpaudit.Entry{Path: "/" + s, Raw: s, Mode: s, Owner: s, Group: s, Size: -1, Type: ftpaudit.TypeFile,
			Extra: &ftpaudit.EntryExtra{Perm: s, Unique: s, ListRaw: s, Target: s, Facts: map[string]string{s: s, "type": s}}}
		checkEntry(t, "ftp://h"+s, &e)
		e.Raw = "" // only LIST -a showed it: its line is its raw
		checkEntry(t, s, &e)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		e := randEntry(rng)
		checkEntry(t, randText(rng), &e)
	}
}

func FuzzAppendEntry(f *testing.F) {
	for i, s := range hostileText {
		f.Add(s, hostileText[(i+7)%len(hostileText)], s+s, s, s, int64(i)-2, int64(i)<<40, uint8(i))
	}
	f.Fuzz(func(t *testing.T, path, raw, listRaw, factKey, factVal string, size, unix int64, typ uint8) {
		e := ftpaudit.Entry{Path: path, Raw: raw, Size: size, Type: ftpaudit.EntryType(typ), Mode: factVal, Owner: factKey}
		if unix != 0 {
			e.Modified = time.Unix(unix%(1<<45), unix%1e9)
		}
		if listRaw != "" || factKey != "" {
			e.Extra = &ftpaudit.EntryExtra{ListRaw: listRaw, Target: raw, Facts: map[string]string{factKey: factVal, factVal: factKey}}
		}
		checkEntry(t, path, &e)
	})
}

// randResult is a scan of a few hosts (two of them sharing a URL) with
// random entries, findings and suppressed findings.
func randResult(rng *rand.Rand) *ftpaudit.Result {
	res := sample()
	res.SavedID = rng.Int64N(3)
	urls := []string{"ftp://a:21", "ftp://b:21\x1b[2J", "ftp://a:21"}
	res.Hosts = nil
	for i := range 1 + rng.IntN(3) {
		h := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: urls[i], Start: []string{"/", "/pub", "/\xff"}[i]},
			Info: ftpaudit.ServerInfo{Banner: randText(rng), Login: []string{"", "anonymous"}[rng.IntN(2)]}, Complete: rng.IntN(2) == 0}
		for range rng.IntN(40) {
			h.Entries = append(h.Entries, randEntry(rng))
		}
		// Sorted by path, as Entries are (and as the document lists
		// them: AllEntries sorts a hand-made Entries that is not).
		slices.SortStableFunc(h.Entries, func(a, b ftpaudit.Entry) int { return strings.Compare(a.Path, b.Path) })
		res.Hosts = append(res.Hosts, h)
	}
	res.Findings, res.Suppressed = nil, nil
	for range rng.IntN(5) {
		f := ftpaudit.Finding{Host: urls[rng.IntN(len(urls))], Path: "/" + randText(rng), Rule: "r", Severity: ftpaudit.Severity(rng.IntN(5)),
			Evidence: []string{randText(rng)}, Action: randText(rng), Size: rng.Int64N(10) - 1, Modified: randTime(rng)}
		if rng.IntN(3) == 0 {
			res.Suppressed = append(res.Suppressed, ftpaudit.Suppressed{Finding: f, Source: ".ftpauditignore:1", Reason: randText(rng)})
		} else {
			res.Findings = append(res.Findings, f)
		}
	}
	ftpaudit.SortFindings(res.Findings)
	return res
}

// TestJSONStreamedAsBefore: the streamed document is byte for byte the
// one the old Report built in memory, for every sample and for random
// scans, with and without the inventory, a shard and a scan id.
func TestJSONStreamedAsBefore(t *testing.T) {
	results := []*ftpaudit.Result{sample(), findingsSample(), hostileSample(), hostileArchive(), notListedSample(),
		suppressedSample(), sharedURLSample(), {}}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		results = append(results, randResult(rng))
	}
	for i, res := range results {
		for _, j := range []JSON{{}, {Inventory: true}, {Inventory: true, Shard: "2/3", ToolVersion: "v1.2.3"}} {
			var got, want bytes.Buffer
			if err := j.Report(&got, res); err != nil {
				t.Fatal(err)
			}
			if err := refJSON(&j, &want, res); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("result %d, %+v:\n got %s\nwant %s", i, j, got.Bytes(), want.Bytes())
			}
		}
	}
}

// bigResult is one host with n entries like those of a large directory
// listed with LIST.
func bigResult(n int) *ftpaudit.Result {
	mod := time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)
	h := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: "ftp://127.0.0.1:2132", Start: "/"}, Complete: true,
		Info: ftpaudit.ServerInfo{Login: "anonymous"}, Entries: make([]ftpaudit.Entry, n)}
	for i := range h.Entries {
		name := fmt.Sprintf("file-%07d.tar.gz", i)
		h.Entries[i] = ftpaudit.Entry{Path: "/big/" + name, Name: name, Type: ftpaudit.TypeFile, Size: int64(i), Modified: mod,
			Mode: "-rw-r--r--", Owner: "0", Group: "0", Raw: "-rw-r--r--    1 0        0       " + strconv.Itoa(i) + " Nov 01 12:30 " + name}
	}
	return &ftpaudit.Result{Started: mod, Finished: mod, Hosts: []*ftpaudit.HostResult{h}}
}

// countWriter counts bytes and writes, and keeps the largest write.
type countWriter struct{ n, writes, largest int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	c.writes++
	c.largest = max(c.largest, len(p))
	return len(p), nil
}

// TestJSONInventoryStreams: the inventory is written as it is encoded, in
// writes no larger than the buffer, and what the report allocates does
// not grow with the entries (the old Report held every entry as a struct
// and the whole document as bytes: about 1 KB an entry).
func TestJSONInventoryStreams(t *testing.T) {
	allocated := func(n int) (uint64, *countWriter) {
		res := bigResult(n)
		var w countWriter
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := (&JSON{Inventory: true}).Report(&w, res); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, &w
	}
	// The least of three runs each: TotalAlloc counts the whole
	// process's allocations, the runtime's own included.
	least := func(n int) (uint64, *countWriter) {
		a, w := allocated(n)
		for range 2 {
			if b, _ := allocated(n); b < a {
				a = b
			}
		}
		return a, w
	}
	small, _ := least(1000)
	big, w := least(50000)
	if w.writes < w.n/(64<<10) || w.largest > 64<<10 {
		t.Errorf("%d bytes in %d writes, the largest %d: not streamed through a 64 KiB buffer", w.n, w.writes, w.largest)
	}
	if perEntry := (float64(big) - float64(small)) / 49000; perEntry > 8 {
		t.Errorf("the report allocates %.0f bytes per entry of the inventory (%d for 1,000 entries, %d for 50,000)", perEntry, small, big)
	}
}

// TestAppendEntryAllocs: an entry with valid UTF-8 text and no facts is
// encoded without allocating.
func TestAppendEntryAllocs(t *testing.T) {
	res := bigResult(1)
	e := &res.Hosts[0].Entries[0]
	e.Extra = &ftpaudit.EntryExtra{ListRaw: "x", Target: "/y"}
	buf := make([]byte, 0, 1024)
	var keys []string
	if n := testing.AllocsPerRun(100, func() { buf = appendEntry(buf[:0], "ftp://h", e, &keys) }); n != 0 {
		t.Errorf("appendEntry allocates %v times per entry", n)
	}
}

// BenchmarkJSONInventory writes the inventory of one host with 100,000
// LIST entries, streamed and (encoding/json) as before.
//
//	go test ./report -run XXX -bench JSONInventory -benchmem
func BenchmarkJSONInventory(b *testing.B) {
	const n = 100000
	res := bigResult(n)
	for _, c := range []struct {
		name   string
		report func(io.Writer) error
	}{
		{"streamed", func(w io.Writer) error { return (&JSON{Inventory: true}).Report(w, res) }},
		{"encoding-json", func(w io.Writer) error { return refJSON(&JSON{Inventory: true}, w, res) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var w countWriter
			for b.Loop() {
				if err := c.report(&w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/entry")
			b.ReportMetric(float64(w.n)/float64(b.N)/n, "out-bytes/entry")
		})
	}
}

// JSONL's entry lines are the JSON document's entries, one per line,
// with the line's type, schema and time, in the same order.
func TestJSONLEntriesAreTheDocumentsEntries(t *testing.T) {
	res := hostileArchive()
	var doc, lines bytes.Buffer
	if err := (&JSON{Inventory: true}).Report(&doc, res); err != nil {
		t.Fatal(err)
	}
	if err := (&JSONL{Inventory: true}).Report(&lines, res); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(doc.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, l := range bytes.Split(bytes.TrimSuffix(lines.Bytes(), []byte("\n")), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if m["type"] != "entry" {
			continue
		}
		e, ok := m["entry"].(map[string]any)
		if m["schema"] != Schema || m["time"] == "" || !ok || len(m) != 4 {
			t.Errorf("entry line %q: want type, schema, time and entry", l)
		}
		got = append(got, e)
	}
	if len(d.Entries) == 0 || !reflect.DeepEqual(got, d.Entries) {
		t.Errorf("JSONL entries differ from the JSON document's:\n got %v\nwant %v", got, d.Entries)
	}
	var none bytes.Buffer
	if err := (&JSONL{}).Report(&none, res); err != nil || bytes.Contains(none.Bytes(), []byte(`"type":"entry"`)) {
		t.Errorf("entry lines without --inventory (%v)", err)
	}
}
