package postgis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// openTest migrates a fresh database and opens a store on it, closed when
// the test ends.
func openTest(tb testing.TB) (*Store, string) {
	tb.Helper()
	dsn := pgtest.New(tb)
	if err := Migrate(context.Background(), dsn, nil); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return openOn(tb, dsn), dsn
}

// openOn opens another store on an already migrated database.
func openOn(tb testing.TB, dsn string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	// Every subtest gets a fresh database cloned from one migrated template:
	// a clone is a file copy, much faster than creating PostGIS each time.
	template := pgtest.New(t)
	if err := Migrate(t.Context(), template, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.Run(t, func(t *testing.T) zone.Store {
		return openOn(t, cloneDatabase(t, template))
	})
}

// cloneDatabase creates a copy of the database at templateURL (which must
// have no open connections) and returns its URL; the copy is dropped when
// the test ends.
func cloneDatabase(tb testing.TB, templateURL string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tmpl, err := url.Parse(templateURL)
	if err != nil {
		tb.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer admin.Close(context.Background())
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "zoneplan_test_" + hex.EncodeToString(suffix[:])
	source := strings.TrimPrefix(tmpl.Path, "/")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{source}.Sanitize()); err != nil {
		tb.Fatalf("clone %s: %v", source, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, pgtest.ServerURL())
		if err != nil {
			tb.Logf("drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Logf("drop %s: %v", name, err)
		}
	})
	clone := *tmpl
	clone.Path = "/" + name
	return clone.String()
}
