package jobs

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/subsetd/subsetd/internal/pgsql"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// onPostgres makes newStore give PostgreSQL stores: set while the suite
// runs on PostgreSQL (the tests of this package do not run in parallel).
var onPostgres bool

func newPostgresStore(t *testing.T) *Store {
	t.Helper()
	db, err := pgsql.Open(context.Background(), pgtest.Database(t), 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := NewPostgresStore(db)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// storeSuite is the store's conformance suite: each test runs on SQLite as
// itself and on PostgreSQL in TestStoreSuiteOnPostgres.
var storeSuite = map[string]func(*testing.T){
	"LifecycleSuccessful":          TestLifecycleSuccessful,
	"JobFailsWhenNoRegionHasFiles": TestJobFailsWhenNoRegionHasFiles,
	"DismissRacesCompletion":       TestDismissRacesCompletion,
	"RequeueAndOrphans":            TestRequeueAndOrphans,
	"ListPagingAndRetention":       TestListPagingAndRetention,
	"IdempotencyKeyUnique":         TestIdempotencyKeyUnique,
	"TaskInputsAndDecidedRegions":  TestTaskInputsAndDecidedRegions,
	"Keys":                         TestKeys,
	"QuotasUsageAndEvents":         TestQuotasUsageAndEvents,
	"SpecStoredByTheRelease":       TestSpecStoredByTheRelease,
	"Notifications":                TestNotifications,
}

func TestStoreSuiteOnPostgres(t *testing.T) {
	onPostgres = true
	defer func() { onPostgres = false }()
	for name, fn := range storeSuite {
		t.Run(name, fn)
	}
}

// Every migration exists for both dialects, under the same name.
func TestMigrationsForEveryDialect(t *testing.T) {
	if err := CheckMigrations(); err != nil {
		t.Fatal(err)
	}
}

// Nodes starting at once migrate one database: each migration is applied
// once, every node ends at the newest version.
func TestPostgresMigrateConcurrently(t *testing.T) {
	url := pgtest.Database(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := pgsql.Open(context.Background(), url, 2)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = NewPostgresStore(db).Migrate(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := pgsql.Open(context.Background(), url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM subsetd_job_migration`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if want := newestMigration(t); n != want || v != want {
		t.Fatalf("%d rows up to version %d, want %d", n, v, want)
	}
}
