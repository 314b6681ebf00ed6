package index

import (
	"context"
	"testing"

	"github.com/subsetd/subsetd/internal/pgsql"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
)

// onPostgres makes openTemp give PostgreSQL indexes: set while the suite
// runs on PostgreSQL (the tests of this package do not run in parallel).
var onPostgres bool

func openPostgres(t testing.TB) *Store {
	t.Helper()
	db, err := pgsql.Open(context.Background(), pgtest.Database(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenPostgres(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// indexSuite is the index's conformance suite: each test runs on SQLite
// (the R*Tree) as itself and on PostgreSQL (PostGIS) here.
var indexSuite = map[string]func(*testing.T){
	"SearchOracle":                   TestSearchOracle,
	"SearchFootprintNoFalseNegative": TestSearchFootprintNoFalseNegative,
	"SearchPagesAndErrors":           TestSearchPagesAndErrors,
	"DatasetKind":                    TestDatasetKind,
	"SearchExactEdges":               TestSearchExactEdges,
	"ScanIncremental":                TestScanIncremental,
	"ScanCrashAndTimeout":            TestScanCrashAndTimeout,
	"ScanLinksAndNames":              TestScanLinksAndNames,
}

func TestIndexSuiteOnPostgres(t *testing.T) {
	onPostgres = true
	defer func() { onPostgres = false }()
	for name, fn := range indexSuite {
		t.Run(name, fn)
	}
}

func TestIndexMigrationsForEveryDialect(t *testing.T) {
	if err := CheckMigrations(); err != nil {
		t.Fatal(err)
	}
}
