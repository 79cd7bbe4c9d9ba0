// Package history stores finished scans in an SQLite database, so that a
// later scan can be compared with the last good one and a saved scan can
// be reported again. It only stores and reads back: it never judges and
// never prints. It uses the pure-Go driver modernc.org/sqlite (no cgo).
// Open given a postgres:// URL keeps the same history in PostgreSQL
// instead, shared by scanners on several machines (pg.go, through the
// pure-Go driver pgx), with the same schema versions and guarantees.
//
// Every byte a server sent is kept exactly, and the database format is
// the package's own, written field by field (schema.go, codec.go,
// hostdata.go): no Go struct is stored by reflection, so renaming a Go
// field cannot change it. The schema is versioned and migrated on Open;
// a database written by a newer ftpaudit is refused.
//
// The database runs in WAL mode: readers never block the writer, and
// writers (several ftpaudit processes saving at once) queue on the write
// lock, each saving in one transaction begun with BEGIN IMMEDIATE, for up
// to busyTimeout. A save killed at any point leaves no trace: nothing is
// committed before its end.
//
// A host saved before (same target and start directory) is stored as
// the changes from the previous save of it, one entries row per entry
// added or changed, in chains bounded by periodic full snapshots
// (chain.go); reading merges a chain back, streaming, into exactly the
// entries saved. A full snapshot is stored in chunks of consecutive
// entries, a few hundred to a row (chunks.go), so that saving a million
// entries is a few thousand inserts rather than a million. Every entry
// carries a keyed fingerprint of what it stores (fingerprint.go), in its
// row or its chunk, so that a save finds its changes, and a comparison
// with a walk its differences, by reading keys and fingerprints in path
// order rather than decoding whole entries.
//
// Files: store.go opens the database; schema.go and migrate_gob.go hold
// the schema and its migrations; codec.go and hostdata.go the encodings
// of values; save.go (with rawconn.go), entries.go, chunks.go, chain.go
// and fingerprint.go write a scan; query.go, entries.go, chunks.go and
// chain.go read it back, compare.go for a comparison with a walk;
// prune.go deletes old scans. dialect.go says where SQLite and PostgreSQL
// differ; pg.go and pg_sql.go run the package's SQL on PostgreSQL,
// pg_schema.go holds its schema.
package history
