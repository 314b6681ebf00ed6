// Package sqlmigrate brings a store's schema up to date with numbered SQL
// migrations, as River's rivermigrate does for River's tables.
//
// A store embeds its migrations as files named NNNN_name.sql, numbered from
// 1 without gaps, in one folder per SQL dialect (sqlite/0001_init.sql), and
// calls Migrate at start-up. Its version table records each applied
// migration; each migration runs in its own transaction with the row that
// records it, so a failure leaves the database at the last migration that
// succeeded. Running Migrate again is a no-op; a database whose version is
// newer than the newest file is refused (ErrNewer).
//
// A database written before the store had a version table (SQLite only)
// is adopted: it is compared with the schema of the store's baseline
// migration, given what it lacks (tables, columns, indexes) and recorded at
// the baseline; the migrations after it then run as usual.
//
// The package is pure Go over database/sql: it imports no driver and
// nothing of the module. A dialect is the folder of its files plus a few
// statements of its own (the version table, the lock); adding PostgreSQL is
// adding one to the dialects table and a postgres folder beside each
// store's sqlite one.
package sqlmigrate
