package postgis

import (
	"context"
	"testing"

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
		return openOn(t, pgtest.Clone(t, template))
	})
}
