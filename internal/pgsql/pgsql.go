// Package pgsql opens PostgreSQL databases for subsetd: a database/sql
// handle through pgx whose queries may use SQLite's `?` placeholders (the
// stores' SQL is written once for both databases), and the settings of the
// pgx pool given to River.
package pgsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsURL reports whether a database setting names PostgreSQL.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open returns a database/sql handle of at most maxConns connections on
// the database at url (opts may change the connections' settings: a
// tracer...). Queries written with `?` placeholders are sent with
// PostgreSQL's $1, $2...; queries that already use $n are sent as they are.
func Open(ctx context.Context, url string, maxConns int, opts ...func(*pgx.ConnConfig)) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	for _, o := range opts {
		o(cfg)
	}
	db := sql.OpenDB(connector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(url), err)
	}
	return db, nil
}

// Pool returns a pgx pool of at most maxConns connections on url: River's
// own (River's documentation: a pool shared with the application caused
// leader re-election errors).
func Pool(ctx context.Context, url string, maxConns int, opts ...func(*pgx.ConnConfig)) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	for _, o := range opts {
		o(cfg.ConnConfig)
	}
	cfg.MaxConns = int32(maxConns)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", Redact(url), err)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(url), err)
	}
	return p, nil
}

// Redact returns url without its password, for messages and logs.
func Redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "(unparsable URL)"
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "socket " + host
	}
	return fmt.Sprintf("postgres %s@%s:%d/%s", cfg.User, host, cfg.Port, cfg.Database)
}

// Rebind rewrites the `?` placeholders of q as $1, $2... outside quoted
// strings, identifiers and comments. A query that already has a $ is
// returned as it is (River's own queries, dollar-quoted bodies).
func Rebind(q string) string {
	if !strings.Contains(q, "?") || strings.Contains(q, "$") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// connector gives database/sql connections of pgx's stdlib that rebind
// placeholders.
type connector struct{ base driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{cn.(*stdlib.Conn)}, nil
}

func (c connector) Driver() driver.Driver { return c.base.Driver() }

// conn is a pgx stdlib connection whose queries are rebound; every other
// capability is pgx's.
type conn struct{ *stdlib.Conn }

func (c *conn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, Rebind(q))
}

func (c *conn) Prepare(q string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(context.Background(), Rebind(q))
}

func (c *conn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, Rebind(q), args)
}

func (c *conn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, Rebind(q), args)
}
