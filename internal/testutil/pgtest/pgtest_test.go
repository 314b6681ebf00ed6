package pgtest

import (
	"database/sql"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestDatabaseHasPostGIS(t *testing.T) {
	u1, u2 := Database(t), Database(t)
	if u1 == u2 {
		t.Fatalf("two tests share database %s", u1)
	}
	db, err := sql.Open("pgx", u1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT postgis_version()`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "3.") {
		t.Fatalf("postgis_version() = %q", v)
	}
	// Antimeridian-safe distance on geography: 1 degree of longitude across
	// 180 at the equator is about 111 km, not 40,000.
	var m float64
	if err := db.QueryRow(`SELECT ST_Distance('SRID=4326;POINT(179.5 0)'::geography, 'SRID=4326;POINT(-179.5 0)'::geography)`).Scan(&m); err != nil {
		t.Fatal(err)
	}
	if m < 110e3 || m > 112e3 {
		t.Fatalf("distance across the antimeridian = %.0f m, want about 111 km", m)
	}
	// Each its own: a table made through one URL is not seen through the
	// other.
	if _, err := db.Exec(`CREATE TABLE mine (x int)`); err != nil {
		t.Fatal(err)
	}
	db2, err := sql.Open("pgx", u2)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.Exec(`SELECT * FROM mine`); err == nil {
		t.Fatal("a table of one test's database is seen from another's")
	}
	if !strings.Contains(u1, "host=%2Ftmp%2Fsubsetd-pg-") {
		t.Fatalf("URL %s: the socket is not in the cluster's folder", u1)
	}
}
