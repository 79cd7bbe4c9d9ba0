package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// releasedMigrations are the SHA-256 of the SQL of every released schema
// version. A released migration is never edited: append a new one.
var releasedMigrations = []string{
	"ef577e5084ad0ea593e2f00c9aabbaedc67f7389823573ce3652b636e58e5ab3", // 1
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // 2: no SQL, Go only
	"0152168b2f5c55d0b9863888152db8c62685ea662965a5200a9def3d6ba853cf", // 3: acceptances
	"1ab779274b68c843e7b746aee651daf3db653fcddb278157370643251c43c495", // 4: not_listed
	"a1e224c18bd565fc9b561130e22263b3af5dcd5caf14f86850976f5e13f32b79", // 5: deltas, removed_entries
	"921b36b0fb1266d2f6fc3102ad64e8eeb9f4c74df7f6b42df7b6adadba273c6f", // 6: fingerprints
	"dfc8a45a3649e972bde3455f7d5f132c26225484a598e8f8a09c34baccc55887", // 7: chunks
}

func TestMigrationsFrozen(t *testing.T) {
	if len(migrations) < len(releasedMigrations) {
		t.Fatalf("%d migrations, %d were released", len(migrations), len(releasedMigrations))
	}
	for i, want := range releasedMigrations {
		if got := fmt.Sprintf("%x", sha256.Sum256([]byte(migrations[i].sql))); got != want {
			t.Errorf("the SQL of released schema version %d changed (sha256 %s, was %s): append a migration instead", i+1, got, want)
		}
	}
	if migrations[1].run == nil {
		t.Error("schema version 2 lost its conversion")
	}
	if migrations[5].run == nil {
		t.Error("schema version 6 lost the making of its key")
	}
}

// v1Gob are host data values as the version 1 code wrote them (encoding/gob
// of the scanner structs, by ftpaudit at 488a0c2): "stat", "probes",
// "fetched" and "baseline" are those of goldenHostData; the "s..." values
// are those of v1Sparse.
var v1Gob = map[string]string{
	"stat": "4e7f0301010a537461745265706f727401ff8000010501045573656401020001044e6f7465010c0001064c6973746564" +
		"010400010946616c6c6261636b730104000107526573796e637301040000002cff8002215354415420616e64204c4953" +
		"54202d6120646966666572206f6e202f7075622fff01020104010600",
	"probes": "0dff85020102ff860001ff8200004fff810301010b50726f6265526573756c7401ff820001050103446972010c000104" +
		"46696c6501ff840001054d6b64697201ff840001085265616461626c650102000107536b6970706564010c0000005dff" +
		"830301010950726f62655374657001ff8400010601055472696564010200010841636365707465640102000105526570" +
		"6c79010c00010752656d6f766564010200010b52656d6f76655265706c79010c00010450617468010c0000005cff8600" +
		"01010e2f7075622f696e636f6d696e67ff01010101010106323236206f6b01010106323530206f6b011f2f7075622f69" +
		"6e636f6d696e67ff2f2e66747061756469742d63616e617279000101010206353530206e6f00010100",
	"fetched": "0dff89020102ff8a0001ff88000033ff870301010b4665746368656446696c6501ff88000103010450617468010c0001" +
		"0444617461010a000103457272010c00000042ff8a0002010b2f6574632f706173737764011b726f6f743a783a303a30" +
		"3a3a2f726f6f743a2f62696e2f73680aff00010b2f6574632f736861646f77020335353000",
	"baseline": "ff84ff8b0301010e426173656c696e655265706f727401ff8c00010801065363616e4944010400010753746172746564" +
		"01ff8e0001054164646564010400010752656d6f76656401040001074368616e676564010400010b4e6f74436f6d7061" +
		"726564010400010f4e6f74436f6d70617265644469727301ff900001044e6f7465010c00000010ff8d0501010454696d" +
		"6501ff8e00000016ff8f020101085b5d737472696e6701ff9000010c00002dff8c0106010f010000000eddca4ea9075b" +
		"cd15ffff010201040106010801010c2f7075622f736563726574ff00",
	"sstat": "4e7f0301010a537461745265706f727401ff8000010501045573656401020001044e6f7465010c0001064c6973746564" +
		"010400010946616c6c6261636b730104000107526573796e6373010400000005ff80010100",
	"sprobes": "0dff85020102ff860001ff8200004fff810301010b50726f6265526573756c7401ff820001050103446972010c000104" +
		"46696c6501ff840001054d6b64697201ff840001085265616461626c650102000107536b6970706564010c0000005dff" +
		"830301010950726f62655374657001ff8400010601055472696564010200010841636365707465640102000105526570" +
		"6c79010c00010752656d6f766564010200010b52656d6f76655265706c79010c00010450617468010c00000026ff8600" +
		"0201032f75700100010002116e6f74207772697461626c653a20353530000200010000",
	"sfetched": "0dff89020102ff8a0001ff88000033ff870301010b4665746368656446696c6501ff88000103010450617468010c0001" +
		"0444617461010a000103457272010c00000014ff8a000201062f656d7074790001042f6e696c00",
	"sbase": "ff84ff8b0301010e426173656c696e655265706f727401ff8c00010801065363616e4944010400010753746172746564" +
		"01ff8e0001054164646564010400010752656d6f76656401040001074368616e676564010400010b4e6f74436f6d7061" +
		"726564010400010f4e6f74436f6d70617265644469727301ff900001044e6f7465010c00000010ff8d0501010454696d" +
		"6501ff8e00000016ff8f020101085b5d737472696e6701ff9000010c000047ff8c0101010f010000000edb4486f50000" +
		"0006fed4062f6e6f20636f6d706c657465207363616e206f66206674703a2f2f783a32312f20746f20636f6d70617265" +
		"207769746800",
}

// v1Sparse is what the "s..." values of v1Gob held when written. gob drops
// empty slices, so Data and NotComparedDirs read back nil; Started reads
// back as the same instant, in UTC.
func v1Sparse() *ftpaudit.HostResult {
	return &ftpaudit.HostResult{
		Stat:    &ftpaudit.StatReport{Used: true},
		Probes:  []ftpaudit.ProbeResult{{Dir: "/up", Skipped: "not writable: 550"}, {}},
		Fetched: []ftpaudit.FetchedFile{{Path: "/empty"}, {Path: "/nil"}},
		Baseline: &ftpaudit.BaselineReport{ScanID: -1, Started: time.Date(2023, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -5*3600)),
			Note: "no complete scan of ftp://x:21/ to compare with"},
	}
}

// v1Host is one host row of a version 1 database: its four gob values.
type v1Host struct {
	stat, probes, fetched, baseline []byte
	want                            *ftpaudit.HostResult // what HostResult must give back
}

// gobOf encodes v as the version 1 code did.
func gobOf(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func v1GobValue(t *testing.T, name string) []byte {
	t.Helper()
	b, err := hex.DecodeString(v1Gob[name])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// v1Hosts returns host rows as version 1 wrote them: the sample, the
// sparse values, all NULL, zero reports encoded from the frozen copies,
// then copies of the sparse ones, more than a migration batch.
func v1Hosts(t *testing.T) []v1Host {
	sample := goldenHostData()
	hosts := []v1Host{
		{v1GobValue(t, "stat"), v1GobValue(t, "probes"), v1GobValue(t, "fetched"), v1GobValue(t, "baseline"), sample},
		{v1GobValue(t, "sstat"), v1GobValue(t, "sprobes"), v1GobValue(t, "sfetched"), v1GobValue(t, "sbase"), v1Sparse()},
		{want: &ftpaudit.HostResult{}},
		{stat: gobOf(t, &gobStatReport{}), baseline: gobOf(t, &gobBaselineReport{}),
			want: &ftpaudit.HostResult{Stat: &ftpaudit.StatReport{}, Baseline: &ftpaudit.BaselineReport{}}},
	}
	for len(hosts) < v1Distinct+gobBatch+10 {
		hosts = append(hosts, hosts[1])
	}
	return hosts
}

// v1Distinct is the number of distinct hosts v1Hosts returns first; the
// rest are copies of the second.
const v1Distinct = 4

// createV1 writes a version 1 database at path, as ftpaudit at 488a0c2
// left it, with one scan of hosts.
func createV1(t *testing.T, path string, hosts []v1Host) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range []string{migrations[0].sql, "PRAGMA user_version = 1", fmt.Sprintf("PRAGMA application_id = %d", appID),
		"INSERT INTO scans (id, started, finished, saved, complete, args) VALUES (1, 1, 2, 3, 1, 'v1')"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range hosts {
		_, err := tx.Exec(`INSERT INTO hosts (id, scan_id, seq, target, start, host, port, user, tls, banner, login,
			mlsd, paired, complete, login_error, dirs, files, links, other, unreadable, errors, listed, bad_lines,
			stat, probes, fetched, baseline, n_entries, n_findings)
			VALUES (?, 1, ?, 'ftp://h:21', x'2f', 'h', '21', 'anonymous', '', '220', '230',
			0, 0, 1, '', 0, 0, 0, 0, 0, 0, 0, 0, ?, ?, ?, ?, 0, 0)`, i+1, i, h.stat, h.probes, h.fetched, h.baseline)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A version 1 database, its host data in gob, opens as version 2 with
// every value re-encoded and every field read back as written.
func TestMigrateGobToHostData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	hosts := v1Hosts(t)
	createV1(t, path, hosts)

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := count(t, s, "PRAGMA user_version"); v != len(migrations) {
		t.Fatalf("user_version %d after migrating, want %d", v, len(migrations))
	}
	for i, h := range hosts[:v1Distinct] {
		id := int64(i + 1)
		got, err := s.HostResult(ctx, id, false)
		if err != nil {
			t.Fatalf("host %d: %v", id, err)
		}
		checkHostFields(t, hostDataOf(got), h.want)
		checkStored(t, s, id, h.want)
	}
	// The copies of host 2, in every batch.
	w := hosts[1].want
	if c := count(t, s, `SELECT count(*) FROM hosts WHERE id > ? AND stat = ? AND probes = ? AND fetched = ? AND baseline = ?`,
		v1Distinct, encodeStat(w.Stat), encodeProbes(w.Probes), encodeFetched(w.Fetched), encodeBaseline(w.Baseline)); c != len(hosts)-v1Distinct {
		t.Errorf("%d of the %d copies of host 2 re-encoded", c, len(hosts)-v1Distinct)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again changes nothing.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	checkStored(t, s2, 1, hosts[0].want)
}

// checkStored checks that host id's columns hold exactly the encoding of
// want's values.
func checkStored(t *testing.T, s *Store, id int64, want *ftpaudit.HostResult) {
	t.Helper()
	var got [4][]byte
	if err := s.db.QueryRow(`SELECT stat, probes, fetched, baseline FROM hosts WHERE id = ?`, id).Scan(
		&got[0], &got[1], &got[2], &got[3]); err != nil {
		t.Fatal(err)
	}
	for i, w := range [][]byte{encodeStat(want.Stat), encodeProbes(want.Probes), encodeFetched(want.Fetched), encodeBaseline(want.Baseline)} {
		if !bytes.Equal(got[i], w) || (got[i] == nil) != (w == nil) {
			t.Errorf("host %d, column %d: stored %x, want %x", id, i, got[i], w)
		}
	}
}

// A gob value that does not decode fails the migration, naming the host
// and the value, and leaves the database at version 1, as it was.
func TestMigrateGobDamaged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	hosts := v1Hosts(t)[:3]
	damaged := v1GobValue(t, "probes")
	damaged = damaged[:len(damaged)/2]
	hosts[2].probes = damaged
	createV1(t, path, hosts)

	_, err := Open(ctx, path)
	if err == nil {
		t.Fatal("opened a database whose gob value is damaged")
	}
	t.Log(err)
	for _, want := range []string{path, "schema version 2", "host 3", "probes", "gob"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	var stat, probes []byte
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != 1 {
		t.Errorf("user_version %d, %v after a failed migration; want 1", version, err)
	}
	if err := db.QueryRow("SELECT stat FROM hosts WHERE id = 1").Scan(&stat); err != nil || !bytes.Equal(stat, hosts[0].stat) {
		t.Errorf("host 1's gob value changed by a failed migration: %x, %v", stat, err)
	}
	if err := db.QueryRow("SELECT probes FROM hosts WHERE id = 3").Scan(&probes); err != nil || !bytes.Equal(probes, damaged) {
		t.Errorf("host 3's damaged value changed: %x, %v", probes, err)
	}
}
