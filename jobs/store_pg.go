package jobs

import (
	"database/sql"
	"io/fs"
	"time"

	"github.com/subsetd/subsetd/internal/sqlmigrate"
)

// NewPostgresStore returns a store on a PostgreSQL database opened with
// internal/pgsql (the store's `?` placeholders are rebound there). The SQL
// is the same as on SQLite; the schema is migrations/postgres, numbered
// alongside migrations/sqlite. Call Migrate before use: on PostgreSQL it
// runs under an advisory lock, so the first of several nodes starting at
// once applies each migration and the others wait for it.
func NewPostgresStore(db *sql.DB) *Store {
	return &Store{db: db, rdb: db, dialect: sqlmigrate.Postgres, Now: time.Now}
}

// Postgres reports whether the store is on PostgreSQL: several servers may
// share it, so nothing may assume that one server owns every running task.
func (s *Store) Postgres() bool { return s.dialect == sqlmigrate.Postgres }

// CheckMigrations reports a migration that exists for one dialect and not
// for the other.
func CheckMigrations() error {
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return sqlmigrate.Check(files)
}
