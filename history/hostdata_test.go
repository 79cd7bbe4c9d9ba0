package history

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// goldenHostData returns the host data whose encodings are pinned below
// (hostDataGolden) and in migrate_test.go (v1Gob): the values of
// sampleResult's first host when they were made. Never edit it.
func goldenHostData() *ftpaudit.HostResult {
	return &ftpaudit.HostResult{
		Probes: []ftpaudit.ProbeResult{{Dir: "/pub/incoming\xff",
			File:  ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: "226 ok", Removed: true, RemoveReply: "250 ok", Path: "/pub/incoming\xff/.ftpaudit-canary"},
			Mkdir: ftpaudit.ProbeStep{Tried: true, Reply: "550 no"}, Readable: true}},
		Fetched:  []ftpaudit.FetchedFile{{Path: "/etc/passwd", Data: []byte("root:x:0:0::/root:/bin/sh\n\xff")}, {Path: "/etc/shadow", Err: "550"}},
		Stat:     &ftpaudit.StatReport{Used: false, Note: "STAT and LIST -a differ on /pub/\xff", Listed: 1, Fallbacks: 2, Resyncs: 3},
		Baseline: &ftpaudit.BaselineReport{ScanID: 3, Started: time.Date(2024, 5, 6, 4, 8, 9, 123456789, time.UTC), Added: 1, Removed: 2, Changed: 3, NotCompared: 4, NotComparedDirs: []string{"/pub/secret\xff"}},
	}
}

// Golden bytes of goldenHostData in format version 1.
// If one of these changes, the database format changed: old databases
// would be misread. Do not update them; write a new format version.
var hostDataGolden = map[string]string{
	"stat": "01" + // format version
		"00" + // Used: false
		"21" + hex.EncodeToString([]byte("STAT and LIST -a differ on /pub/\xff")) + // Note: length 33, the bytes
		"02" + "04" + "06", // Listed 1, Fallbacks 2, Resyncs 3 (zig-zag varints)
	"probes": "01010e2f7075622f696e636f6d696e67ff010106323236206f6b0106323530206f6b1f2f7075622f696e636f" +
		"6d696e67ff2f2e66747061756469742d63616e617279010006353530206e6f0000000100",
	"fetched": "01020b2f6574632f7061737377641c726f6f743a783a303a303a3a2f726f6f743a2f62696e2f73680aff00" +
		"0b2f6574632f736861646f770003353530",
	"baseline": "01" + "06" + // format version, ScanID 3
		"01" + "d2dec2e30c" + "959aef3a" + // Started: set, Unix seconds, nanoseconds
		"02040608" + // Added 1, Removed 2, Changed 3, NotCompared 4
		"02" + "0c" + hex.EncodeToString([]byte("/pub/secret\xff")) + // NotComparedDirs: 1 string (count+1), length 12
		"00", // Note: ""
}

// Golden bytes of the stat value in format version 2, of goldenHostData's
// report with Batched 4 and BatchesRefused 5. Never edit it.
const statGoldenV2 = "02" + // format version
	"00" + // Used: false
	"21" + "5354415420616e64204c495354202d6120646966666572206f6e202f7075622fff" + // Note
	"02" + "04" + "06" + // Listed 1, Fallbacks 2, Resyncs 3
	"08" + "0a" // Batched 4, BatchesRefused 5

// encodeHostData encodes the four values of h, by name.
func encodeHostData(h *ftpaudit.HostResult) map[string][]byte {
	return map[string][]byte{
		"stat":     encodeStat(h.Stat),
		"probes":   encodeProbes(h.Probes),
		"fetched":  encodeFetched(h.Fetched),
		"baseline": encodeBaseline(h.Baseline),
	}
}

// decodeHostData decodes the four values into a HostResult.
func decodeHostData(m map[string][]byte) (*ftpaudit.HostResult, error) {
	h := &ftpaudit.HostResult{}
	var err error
	if h.Stat, err = decodeStat(m["stat"]); err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if h.Probes, err = decodeProbes(m["probes"]); err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	if h.Fetched, err = decodeFetched(m["fetched"]); err != nil {
		return nil, fmt.Errorf("fetched: %w", err)
	}
	if h.Baseline, err = decodeBaseline(m["baseline"]); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return h, nil
}

// hostDataOf keeps only the four values of h.
func hostDataOf(h *ftpaudit.HostResult) *ftpaudit.HostResult {
	return &ftpaudit.HostResult{Stat: h.Stat, Probes: h.Probes, Fetched: h.Fetched, Baseline: h.Baseline}
}

func TestHostDataGolden(t *testing.T) {
	want := goldenHostData()
	golden := map[string][]byte{}
	for name, got := range encodeHostData(want) {
		if h := hex.EncodeToString(got); name != "stat" && h != hostDataGolden[name] {
			t.Errorf("%s encodes as\n%s\nwant\n%s", name, h, hostDataGolden[name])
		}
		b, err := hex.DecodeString(hostDataGolden[name])
		if err != nil {
			t.Fatal(err)
		}
		golden[name] = b
	}
	got, err := decodeHostData(golden)
	if err != nil {
		t.Fatal(err)
	}
	checkHostFields(t, got, want) // a version 1 stat value: Batched and BatchesRefused 0

	// The stat value in format version 2, written now.
	v2 := *want.Stat
	v2.Batched, v2.BatchesRefused = 4, 5
	if h := hex.EncodeToString(encodeStat(&v2)); h != statGoldenV2 {
		t.Errorf("stat encodes as\n%s\nwant\n%s", h, statGoldenV2)
	}
	b, _ := hex.DecodeString(statGoldenV2)
	if r, err := decodeStat(b); err != nil || *r != v2 {
		t.Errorf("stat in version 2 decodes as %+v, %v; want %+v", r, err, v2)
	}
}

func TestHostDataRoundTrip(t *testing.T) {
	hostile := "\xff\xfe\x00\r\n\x1b[31m\u00e9"
	step := ftpaudit.ProbeStep{Tried: true, Accepted: true, Reply: hostile, Removed: true, RemoveReply: "", Path: "/a/" + hostile}
	for i, h := range []*ftpaudit.HostResult{
		{}, // all NULL
		{Stat: &ftpaudit.StatReport{}, Baseline: &ftpaudit.BaselineReport{}},
		{
			Stat:   &ftpaudit.StatReport{Used: true, Note: hostile, Listed: math.MaxInt64, Fallbacks: math.MinInt64, Resyncs: -1, Batched: math.MaxInt64, BatchesRefused: -2},
			Probes: []ftpaudit.ProbeResult{{}, {Dir: hostile, File: step, Mkdir: step, Readable: true, Skipped: hostile}},
			Fetched: []ftpaudit.FetchedFile{{}, {Path: hostile, Data: []byte{}}, {Data: []byte(hostile), Err: hostile},
				{Data: make([]byte, 300)}},
			Baseline: &ftpaudit.BaselineReport{ScanID: math.MinInt64, Started: time.Date(1, 1, 1, 0, 0, 1, 1, time.UTC),
				Added: math.MaxInt, Removed: math.MinInt, Changed: -7, NotCompared: 1 << 40,
				NotComparedDirs: []string{"", hostile, strings.Repeat("d", 200)}, Note: hostile},
		},
		{Baseline: &ftpaudit.BaselineReport{Started: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", 3600)),
			NotComparedDirs: []string{}}},
		{Baseline: &ftpaudit.BaselineReport{Started: time.Unix(-1, 5)}},
	} {
		got, err := decodeHostData(encodeHostData(h))
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		checkHostFields(t, got, h)
	}
	// An empty list of probes or fetched files is NULL, and reads back
	// nil, like a nil one.
	if b := encodeProbes([]ftpaudit.ProbeResult{}); b != nil {
		t.Errorf("empty probes encode as %x, want NULL", b)
	}
	if b := encodeFetched([]ftpaudit.FetchedFile{}); b != nil {
		t.Errorf("empty fetched files encode as %x, want NULL", b)
	}
}

// TestHostDataFields lists the fields of the scanner types that
// hostdata.go encodes. When it fails, a scanner type gained, lost or
// changed a field: encode it in hostdata.go (a new format version, read
// next to the old one) or say here why it is not stored, then update the
// list. A field renamed by the compiler's rules (a mechanical rename) is
// only a name change here; the bytes do not depend on names.
func TestHostDataFields(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{ftpaudit.StatReport{}, "Used bool; Note string; Listed int64; Fallbacks int64; Resyncs int64; Batched int64; BatchesRefused int64"},
		{ftpaudit.ProbeResult{}, "Dir string; File ProbeStep; Mkdir ProbeStep; Readable bool; Skipped string"},
		{ftpaudit.ProbeStep{}, "Tried bool; Accepted bool; Reply string; Removed bool; RemoveReply string; Path string"},
		{ftpaudit.FetchedFile{}, "Path string; Data []uint8; Err string"},
		{ftpaudit.BaselineReport{}, "ScanID int64; Started time.Time; Added int; Removed int; Changed int; NotCompared int; " +
			"NotComparedDirs []string; Note string"},
	} {
		typ := reflect.TypeOf(c.v)
		var fields []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			fields = append(fields, f.Name+" "+f.Type.String())
		}
		// Without the package's name: the types may move.
		got := strings.Join(fields, "; ")
		got = strings.ReplaceAll(got, typ.PkgPath()[strings.LastIndexByte(typ.PkgPath(), '/')+1:]+".", "")
		if got != c.want {
			t.Errorf("%s has fields\n%s\nhostdata.go encodes\n%s", typ.Name(), got, c.want)
		}
	}
}

func TestHostDataNewerFormat(t *testing.T) {
	for name, value := range hostDataGolden {
		b, err := hex.DecodeString(value)
		if err != nil {
			t.Fatal(err)
		}
		b[0] = hostDataVersion + 1
		_, err = decodeHostData(map[string][]byte{name: b})
		if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), fmt.Sprintf("format version %d", hostDataVersion+1)) {
			t.Errorf("%s in format version %d: %v; want ErrNewerSchema naming the version", name, b[0], err)
		}
	}

	// Through the store: the host's row holds a newer value.
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.Save(ctx, sampleResult(t), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE hosts SET baseline = x'09' || substr(baseline, 2) WHERE baseline IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	var hostID int64
	if err := s.db.QueryRow(`SELECT id FROM hosts WHERE baseline IS NOT NULL`).Scan(&hostID); err != nil {
		t.Fatal(err)
	}
	_, err := s.HostResult(ctx, hostID, false)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "baseline report") {
		t.Errorf("HostResult of a newer value = %v; want ErrNewerSchema naming the baseline report", err)
	}
}

// Damaged values are errors, never a panic or a guess: every truncation,
// a trailing byte, a bool that is not 0 or 1, format version 0.
func TestHostDataMalformed(t *testing.T) {
	for name, value := range hostDataGolden {
		b, err := hex.DecodeString(value)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			if _, err := decodeHostData(map[string][]byte{name: b[:n:n]}); err == nil {
				t.Errorf("%s cut to %d bytes: accepted", name, n)
			}
		}
		if _, err := decodeHostData(map[string][]byte{name: append(b[:len(b):len(b)], 0)}); err == nil {
			t.Errorf("%s with a trailing byte: accepted", name)
		}
		zero := append([]byte(nil), b...)
		zero[0] = 0
		if _, err := decodeHostData(map[string][]byte{name: zero}); err == nil {
			t.Errorf("%s in format version 0: accepted", name)
		}
	}
	if _, err := decodeStat([]byte{hostDataVersion, 2, 0, 0, 0, 0}); err == nil {
		t.Error("a bool byte of 2 accepted")
	}
	if _, err := decodeBaseline([]byte{hostDataVersion, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("nanoseconds beyond a second accepted")
	}
	if _, err := decodeFetched([]byte{hostDataVersion, 1, 0, 0xff, 0xff, 0xff, 0x7f}); err == nil {
		t.Error("a data length beyond the value accepted")
	}
}
