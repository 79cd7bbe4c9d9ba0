package history

import (
	"context"
	"database/sql"
	"fmt"
)

// The schema of the history database.
//
// Versioning: the schema version is SQLite's PRAGMA user_version, and the
// file is marked as ftpaudit's with PRAGMA application_id (appID). Both
// live in the database header, so they change in the same transaction as
// the tables. Version N means that migrations[0:N] have been applied;
// migrations[0] is version 1. Open applies the missing steps, in order, in
// one write transaction (BEGIN IMMEDIATE), after reading the version again
// inside it, so two processes opening a new file at once apply each step
// once, and a step that fails leaves the file as it was. A version higher
// than len(migrations) was written by a newer ftpaudit: Open refuses it
// with ErrNewerSchema rather than guess.
//
// A migration is only ever appended; a released step is never edited
// (TestMigrationsFrozen holds the SQL of each to its released bytes).
//
//   - Version 1: the tables below.
//   - Version 2: hosts.stat, hosts.probes, hosts.fetched and
//     hosts.baseline re-encoded from encoding/gob of scanner structs to
//     the package's own versioned encoding (hostdata.go); see
//     migrate_gob.go. The columns keep their names, and their comments in
//     version 1's SQL still say gob.
//   - Version 3: the acceptances table (schemaV3): the baselines a person
//     accepted (ftpaudit baseline accept), or that were accepted
//     automatically as a host's first, with who, when and why. It is
//     append-only (triggers refuse UPDATE and DELETE), and its rows name
//     their scan and host without a foreign key, so that the record of an
//     acceptance outlives the scan (Prune never deletes the scan a host's
//     current acceptance names).
//   - Version 4: the not_listed table.
//   - Version 5: change-only storage (chain.go): the deltas and
//     removed_entries tables. A host with a deltas row stores in entries
//     only what was added or changed since its base (an earlier host of
//     the same target and start directory) and in removed_entries the
//     keys of what is gone; a host without one is a full snapshot, as
//     every host saved before version 5 is, so nothing is converted.
//   - Version 6: fingerprints (fingerprint.go): entries.fp, a keyed
//     64-bit digest of each row's stored columns, so that a save finds
//     what changed since its base, and a comparison what differs, by
//     reading fingerprints instead of whole rows; hosts.fps, 1 when every
//     entries row of the host has one; and the fp_key table, which holds
//     the database's fingerprint key, made by this migration. Rows saved
//     before version 6 keep a NULL fp and their hosts fps 0: nothing is
//     converted (a comparison decodes such rows whole, as before).
//   - Version 7: snapshots in chunks (chunks.go): the chunks table. A
//     full snapshot saved since version 7 stores its entries in chunks
//     of consecutive entries in key order, each one row, instead of one
//     entries row per entry; deltas stay entries rows. Snapshots saved
//     before stay entries rows and are read as before: a host has
//     chunks or entries rows, never both, so nothing is converted.
//
// Encodings, chosen so that every byte a server sent round-trips exactly:
//   - Paths and names are BLOBs, so that ORDER BY path is memcmp order,
//     the same as Go's strings.Compare. Other server text (raw lines,
//     owners, replies) is TEXT, which SQLite stores byte for byte without
//     checking UTF-8; nothing here applies SQL string functions to it.
//   - An empty string attribute of an entry is stored as NULL.
//   - entries.name is NULL when it is the part of path after its last
//     '/', which it almost always is (a name holding '/' is stored).
//   - Times are UTC: scan and host times as Unix nanoseconds; entry and
//     finding times, which a server may set anywhere in the calendar, as
//     Unix seconds plus a nanosecond column that is NULL when zero. A zero
//     time.Time is NULL.
//   - String lists (features, incomplete reasons, evidence) and MLSD facts
//     are BLOBs in the package's own length-prefixed form (codec.go); NULL
//     is a nil list or map, so "no facts" (LIST) and "empty facts" stay
//     apart.
//   - Nested host data that is only ever read back whole (STAT report,
//     probe outcomes, fetched files, baseline report) is a BLOB in the
//     package's own encoding (hostdata.go): a format version byte, then
//     every field written explicitly, so that renaming a Go field cannot
//     change the database format. Byte exact, unlike JSON, which replaces
//     invalid UTF-8. No Go struct is stored by reflection (gob, JSON).
//   - A snapshot saved since version 7 holds its entries in chunks, each
//     entry's columns as the bytes an entries row's packed BLOB holds
//     (NULL kept apart from empty), in the package's own encoding
//     (chunks.go).

// appID marks a database as ftpaudit's (PRAGMA application_id): "ftau".
const appID = 0x66746175

// A migration is one schema step: its SQL, then its Go code, both inside
// Open's write transaction.
type migration struct {
	sql string
	run func(ctx context.Context, conn *sql.Conn) error
}

// migrations are the schema steps; migrations[i] brings the schema to
// version i+1.
var migrations = []migration{
	{sql: schemaV1},
	{run: migrateGobHostData}, // version 2
	{sql: schemaV3},
	{sql: schemaV4},
	{sql: schemaV5},
	{sql: schemaV6, run: makeFingerprintKey},
	{sql: schemaV7},
}

// schemaV1 is the SQL of version 1.
const schemaV1 = `
CREATE TABLE scans (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	started   INTEGER,           -- Unix ns
	finished  INTEGER,           -- Unix ns
	saved     INTEGER NOT NULL,  -- Unix ns, when Save ran
	complete  INTEGER NOT NULL,  -- every host complete
	args      TEXT NOT NULL      -- the command line, without secrets
);

CREATE TABLE hosts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,  -- position in the scan's host list
	target      TEXT NOT NULL,     -- scanner.Target.URL
	start       BLOB NOT NULL,     -- scanner.Target.Start
	host        TEXT NOT NULL,
	port        TEXT NOT NULL,
	user        TEXT NOT NULL,
	tls         TEXT NOT NULL,
	banner      TEXT NOT NULL,
	features    BLOB,              -- string list
	login       TEXT NOT NULL,
	mlsd        INTEGER NOT NULL,
	paired      INTEGER NOT NULL,
	started     INTEGER,           -- Unix ns
	finished    INTEGER,           -- Unix ns
	complete    INTEGER NOT NULL,
	incomplete  BLOB,              -- string list
	login_error TEXT NOT NULL,
	dirs        INTEGER NOT NULL,
	files       INTEGER NOT NULL,
	links       INTEGER NOT NULL,
	other       INTEGER NOT NULL,
	unreadable  INTEGER NOT NULL,
	errors      INTEGER NOT NULL,
	listed      INTEGER NOT NULL,
	bad_lines   INTEGER NOT NULL,
	stat        BLOB,              -- gob *scanner.StatReport
	probes      BLOB,              -- gob []scanner.ProbeResult
	fetched     BLOB,              -- gob []scanner.FetchedFile
	baseline    BLOB,              -- gob *scanner.BaselineReport
	n_entries   INTEGER NOT NULL,
	n_findings  INTEGER NOT NULL,
	UNIQUE (scan_id, seq)
);
CREATE INDEX hosts_target ON hosts (target, start, scan_id);

-- One row per entry. dup numbers entries that share a path within one
-- host (a hostile name holding '/' can collide with a real path); it is 0
-- otherwise. Rows are inserted in key order.
CREATE TABLE entries (
	host_id  INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	path     BLOB NOT NULL,
	dup      INTEGER NOT NULL,
	name     BLOB,     -- NULL: the part of path after its last '/'
	type     TEXT,
	size     INTEGER NOT NULL,
	mtime    INTEGER,  -- Unix seconds; NULL when unknown
	mtime_ns INTEGER,  -- nanoseconds part; NULL when zero
	mode     TEXT,
	owner    TEXT,
	grp      TEXT,
	perm     TEXT,
	uniq     TEXT,
	target   TEXT,
	facts    BLOB,     -- MLSD facts; NULL for LIST
	raw      TEXT,
	list_raw TEXT,
	PRIMARY KEY (host_id, path, dup)
) WITHOUT ROWID;

-- A host's errors, unreadable directories and notes (scanner.PathError).
CREATE TABLE path_notes (
	host_id  INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	kind     TEXT NOT NULL,  -- 'error', 'unreadable' or 'note'
	seq      INTEGER NOT NULL,
	path     BLOB NOT NULL,
	message  TEXT NOT NULL,
	PRIMARY KEY (host_id, kind, seq)
) WITHOUT ROWID;

-- Findings in the order saved (id). host_id is NULL for a finding whose
-- host is not among the scan's hosts; it is kept with the scan.
CREATE TABLE findings (
	id       INTEGER PRIMARY KEY,
	scan_id  INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	host_id  INTEGER REFERENCES hosts(id) ON DELETE CASCADE,
	host     TEXT NOT NULL,
	path     BLOB NOT NULL,
	rule     TEXT NOT NULL,
	severity INTEGER NOT NULL,
	evidence BLOB,     -- string list
	size     INTEGER NOT NULL,
	mtime    INTEGER,
	mtime_ns INTEGER,
	action   TEXT NOT NULL
);
CREATE INDEX findings_host ON findings (host_id);
CREATE INDEX findings_scan ON findings (scan_id);
`

// schemaV3 is the SQL of version 3: accepted baselines.
const schemaV3 = `
-- One row per acceptance of a saved host as the baseline of its target
-- and start directory; the newest row of a target and start is its
-- current baseline. Append-only.
CREATE TABLE acceptances (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	target      TEXT NOT NULL,     -- ftpaudit.Target.URL
	start       BLOB NOT NULL,     -- ftpaudit.Target.Start
	scan_id     INTEGER NOT NULL,  -- the accepted scan (no foreign key: the record outlives it)
	host_id     INTEGER NOT NULL,  -- its host row
	accepted    INTEGER NOT NULL,  -- Unix ns
	accepted_by TEXT NOT NULL,     -- who accepted it
	note        TEXT NOT NULL,     -- why
	automatic   INTEGER NOT NULL   -- accepted automatically as the host's first baseline
);
CREATE INDEX acceptances_target ON acceptances (target, start, id);
CREATE TRIGGER acceptances_no_update BEFORE UPDATE ON acceptances
	BEGIN SELECT RAISE(ABORT, 'acceptances are append-only'); END;
CREATE TRIGGER acceptances_no_delete BEFORE DELETE ON acceptances
	BEGIN SELECT RAISE(ABORT, 'acceptances are append-only'); END;
`

const schemaV4 = `
-- One row per directory the walk did not list (ftpaudit.Unlisted), in the
-- host's order: why, of what kind, and the policy acceptance if any.
CREATE TABLE not_listed (
	host_id    INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	path       BLOB NOT NULL,
	kind       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	cause      TEXT NOT NULL,
	acc_glob   TEXT,             -- NULL: not accepted
	acc_reason TEXT,
	acc_kind   TEXT,
	PRIMARY KEY (host_id, seq)
) WITHOUT ROWID;
`

const schemaV5 = `
-- A host saved as the changes from its base, an earlier host of the same
-- target and start directory: its entries rows are the entries added or
-- changed since the base (compared by path, dup and every column), and
-- its removed_entries rows the keys of those gone. depth is the number of
-- deltas from the nearest full snapshot (1: the base is a snapshot), and
-- chain_rows the rows of those deltas (entries and removed_entries); both
-- may overstate once a base was rewritten whole by prune. A host without
-- a row here is a full snapshot. base_id has no ON DELETE action:
-- deleting a base that a host still depends on fails.
CREATE TABLE deltas (
	host_id    INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
	base_id    INTEGER NOT NULL REFERENCES hosts(id),
	depth      INTEGER NOT NULL,
	chain_rows INTEGER NOT NULL
);
CREATE INDEX deltas_base ON deltas (base_id);

CREATE TABLE removed_entries (
	host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	path    BLOB NOT NULL,
	dup     INTEGER NOT NULL,
	PRIMARY KEY (host_id, path, dup)
) WITHOUT ROWID;
`

const schemaV6 = `
-- The fingerprint of an entries row: the first 8 bytes of HMAC-SHA-256,
-- big-endian, as a signed integer, under the key in fp_key, of the row's
-- columns other than host_id, path and dup, each NULL or its bytes
-- (fingerprint.go). NULL for rows saved before version 6.
ALTER TABLE entries ADD COLUMN fp INTEGER;
-- 1 when every entries row of the host has its fp.
ALTER TABLE hosts ADD COLUMN fps INTEGER NOT NULL DEFAULT 0;
-- The fingerprint key of the database: one row, 32 random bytes, made by
-- the migration to version 6 and never changed.
CREATE TABLE fp_key (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	key BLOB NOT NULL CHECK (length(key) = 32)
);
`

const schemaV7 = `
-- A full snapshot saved since version 7: its entries, in key order, in
-- chunks of consecutive entries, each of them a row here (chunks.go):
-- first and first_dup are the key of its first entry, n the number of
-- its entries, keys their paths, dups and fingerprints, and data the
-- rest of their columns; together, what their entries rows would hold.
-- A host has rows here or in entries, never both: deltas, and snapshots
-- saved before version 7, are entries rows.
CREATE TABLE chunks (
	host_id   INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	first     BLOB NOT NULL,
	first_dup INTEGER NOT NULL,
	n         INTEGER NOT NULL,
	keys      BLOB NOT NULL,
	data      BLOB NOT NULL,
	PRIMARY KEY (host_id, first, first_dup)
) WITHOUT ROWID;
`

// migrate applies the missing migrations in one write transaction.
func (s *Store) migrate(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.openErr(err)
	}
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()
	// Again, under the write lock: another process may have migrated.
	id, version, objects, err := s.header(ctx, conn)
	if err != nil {
		return s.openErr(err)
	}
	if err := s.checkHeader(id, version, objects); err != nil {
		return err
	}
	if version < int64(len(migrations)) {
		if err := s.applyMigrations(ctx, conn, version); err != nil {
			return err
		}
	}
	// Nothing written when another process had migrated.
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return s.openErr(err)
	}
	return nil
}

// applyMigrations brings the schema from version to the latest and
// records the new version, inside migrate's transaction.
func (s *Store) applyMigrations(ctx context.Context, conn *sql.Conn, version int64) error {
	for v := version; v < int64(len(migrations)); v++ {
		m := s.migrationList()[v]
		if m.sql != "" {
			if _, err := conn.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("open history database %s: upgrading from schema version %d to %d: schema version %d: %w", s.path, version, len(migrations), v+1, err)
			}
		}
		if m.run != nil {
			if err := m.run(ctx, conn); err != nil {
				return fmt.Errorf("open history database %s: upgrading from schema version %d to %d: schema version %d: %w", s.path, version, len(migrations), v+1, err)
			}
		}
	}
	if s.pg {
		if err := pgSetVersion(ctx, conn, len(migrations)); err != nil {
			return s.openErr(err)
		}
		return nil
	}
	// PRAGMA takes no parameters; both values are integers.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return s.openErr(err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", appID)); err != nil {
		return s.openErr(err)
	}
	return nil
}
