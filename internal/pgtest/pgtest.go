// Package pgtest gives tests a real, throwaway PostGIS database.
//
// The server comes from ZONEPLAN_TEST_PG (a PostgreSQL URL to a database of a
// superuser; `make test` sets it), defaulting to
// postgres://postgres@127.0.0.1:5432/postgres. Each call creates a fresh
// database with the postgis extension and drops it when the test ends.
// Without a reachable server with PostGIS the test is skipped with the
// reason, except under CI=true, where it fails: CI never skips silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultServer is the PostgreSQL used when ZONEPLAN_TEST_PG is unset.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the admin URL of the test server.
func ServerURL() string {
	if u := os.Getenv("ZONEPLAN_TEST_PG"); u != "" {
		return u
	}
	return DefaultServer
}

// Unavailable skips the test, or fails it under CI=true, for a missing
// dependency.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true and a required dependency is missing: "+format, args...)
	}
	tb.Skipf("skipping: "+format+" (run `make test` to install it)", args...)
}

// New creates an empty database with PostGIS and returns its URL. The
// database is dropped when the test and its subtests finish.
func New(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		Unavailable(tb, "PostgreSQL at %s is not reachable: %v", redact(ServerURL()), err)
	}
	defer admin.Close(context.Background())
	var avail bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')`).Scan(&avail); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	if !avail {
		Unavailable(tb, "PostGIS is not installed on %s", redact(ServerURL()))
	}
	name := newName()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	u.Path = "/" + name
	dbURL := u.String()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", name, err)
	}
	_, err = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis")
	conn.Close(context.Background())
	if err != nil {
		tb.Fatalf("pgtest: create extension postgis: %v", err)
	}
	dropOnCleanup(tb, name)
	return dbURL
}

// Clone copies the database at templateURL (a database of the test server
// to which no connection may be open) and returns the copy's URL; the copy
// is dropped when the test ends.
func Clone(tb testing.TB, templateURL string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tmpl, err := url.Parse(templateURL)
	if err != nil {
		tb.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		Unavailable(tb, "PostgreSQL at %s is not reachable: %v", redact(ServerURL()), err)
	}
	defer admin.Close(context.Background())
	name := newName()
	source := strings.TrimPrefix(tmpl.Path, "/")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{source}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: clone %s: %v", source, err)
	}
	dropOnCleanup(tb, name)
	clone := *tmpl
	clone.Path = "/" + name
	return clone.String()
}

// newName is a fresh database name.
func newName() string {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	return "zoneplan_test_" + hex.EncodeToString(suffix[:])
}

// dropOnCleanup drops database name when the test ends.
func dropOnCleanup(tb testing.TB, name string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			tb.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop %s: %v", name, err)
		}
	})
}

// BackendPIDs holds every connection of pool at once and returns the
// process ids of their PostgreSQL backends (a benchmark counts their CPU).
func BackendPIDs(tb testing.TB, pool *pgxpool.Pool) []int {
	tb.Helper()
	var pids []int
	var conns []*pgxpool.Conn
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			tb.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
