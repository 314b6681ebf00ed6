// Package pgtest starts a throwaway PostgreSQL cluster (with PostGIS) for
// the tests of one package: initdb in a temporary folder owned by an
// unprivileged user (PostgreSQL refuses to run as root), a Unix socket in
// that folder and no TCP port, `-A trust`, stopped and removed when the
// package's tests end. Each test gets a database of its own (a schema).
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and in a test that needs PostgreSQL, pgtest.Database(t). A test that
// needs it fails (never skips) when the cluster could not start.
package pgtest

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Cluster is a running PostgreSQL server.
type Cluster struct {
	Dir    string // the temporary folder: data/ and the socket
	bin    string
	runAs  []string // command prefix running as the cluster's owner
	admin  *sql.DB
	nextDB atomic.Int64
}

var (
	shared   *Cluster
	startErr error
	once     sync.Once
	mainRun  bool
)

// Main runs the tests of a package, starting the cluster on first use
// (Database) and stopping it when they end. It returns the exit code.
func Main(m *testing.M) int {
	mainRun = true
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Shared returns the package's cluster, started on first use.
func Shared() (*Cluster, error) {
	once.Do(func() {
		if !mainRun {
			startErr = fmt.Errorf("pgtest: the package's TestMain must call pgtest.Main")
			return
		}
		shared, startErr = Start()
	})
	return shared, startErr
}

// Database creates an empty database with PostGIS for t and returns its
// URL (postgres://...?host=<socket dir>). The test fails when PostgreSQL
// cannot be started.
func Database(t testing.TB) string {
	t.Helper()
	c, err := Shared()
	if err != nil {
		t.Fatalf("PostgreSQL is needed (scripts/setup.sh installs postgresql and postgresql-15-postgis-3): %v", err)
	}
	u, err := c.CreateDatabase()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// binDir finds the server's programs (Debian keeps them out of PATH).
func binDir() (string, error) {
	if d := os.Getenv("SUBSETD_PG_BIN"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(ms) == 0 {
		return "", fmt.Errorf("no pg_ctl on PATH nor under /usr/lib/postgresql/*/bin")
	}
	return filepath.Dir(ms[len(ms)-1]), nil
}

// Start initialises and starts a cluster in a new temporary folder.
func Start() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// A short path: a Unix socket's path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("/tmp", "subsetd-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.runAs = []string{"runuser", "-u", u.Username, "--"}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		c.Stop()
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	// No TCP: the socket in the folder is the only way in. fsync off: a
	// throwaway cluster.
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB", dir)
	if out, err := c.run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		c.Stop()
		return nil, fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	c.admin, err = sql.Open("pgx", c.URL("postgres"))
	if err == nil {
		err = c.admin.Ping()
	}
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("connect to the test cluster: %w", err)
	}
	// One database with PostGIS; each test gets a schema of its own in it
	// (first on its search_path, PostGIS's public after it): creating a
	// database takes a second or more, a schema a few milliseconds.
	if _, err := c.admin.Exec(`CREATE DATABASE ` + testDB); err != nil {
		c.Stop()
		return nil, fmt.Errorf("create the test database: %w", err)
	}
	tmpl, err := sql.Open("pgx", c.URL(testDB))
	if err == nil {
		_, err = tmpl.Exec(`CREATE EXTENSION postgis`)
		tmpl.Close()
	}
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("create extension postgis (postgresql-15-postgis-3): %w", err)
	}
	return c, nil
}

func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, c.runAs...), filepath.Join(c.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

const testDB = "subsetd_test"

// URL is the address of database name on the cluster.
func (c *Cluster) URL(name string) string {
	return c.url(name, "")
}

func (c *Cluster) url(name, searchPath string) string {
	q := url.Values{"host": {c.Dir}, "sslmode": {"disable"}}
	if searchPath != "" {
		q.Set("search_path", searchPath)
	}
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + name, RawQuery: q.Encode()}).String()
}

// CreateDatabase makes an empty database for one test and returns its URL:
// a new schema of the test database, first on the URL's search_path, with
// PostGIS (in public) after it. Everything a program creates through the
// URL lands in that schema.
func (c *Cluster) CreateDatabase() (string, error) {
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, c.nextDB.Add(1))
	db, err := sql.Open("pgx", c.URL(testDB))
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + name); err != nil {
		return "", fmt.Errorf("create schema: %w", err)
	}
	return c.url(testDB, name+",public"), nil
}

// Stop stops the server and removes its folder.
func (c *Cluster) Stop() {
	if c.admin != nil {
		c.admin.Close()
	}
	data := filepath.Join(c.Dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		if out, err := c.run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: pg_ctl stop: %v: %s\n", err, strings.TrimSpace(string(out)))
		}
	}
	os.RemoveAll(c.Dir)
}
