package history

import (
	"context"
	"database/sql"
)

// What differs between the two databases a Store can use, SQLite (the
// embedded default) and PostgreSQL (pg.go), where store.go and schema.go
// ask.

// kind names what holds the history, for messages.
func (s *Store) kind() string {
	if s.pg {
		return "PostgreSQL schema"
	}
	return "SQLite database"
}

// header reads the mark, the schema version and the number of schema
// objects (readHeader).
func (s *Store) header(ctx context.Context, conn *sql.Conn) (id, version, objects int64, err error) {
	if s.pg {
		return pgReadHeader(ctx, conn)
	}
	return readHeader(ctx, conn)
}

// migrationList returns the schema steps of the store's database: as
// many as migrations, with the same version numbers.
func (s *Store) migrationList() []migration {
	if s.pg {
		return pgMigrations
	}
	return migrations
}
