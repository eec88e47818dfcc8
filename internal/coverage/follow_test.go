package coverage_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Other instances see coverage edits: an index following one PostGIS
// store through coverage.Follow takes up a coverage written through
// another instance's store, and an edit made directly in the table (psql,
// QGIS), within the change feed's signal, not its poll.
func TestFollowSeesOtherInstancesEdits(t *testing.T) {
	dsn := pgtest.New(t)
	ctx := context.Background()
	if err := postgis.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	open := func() *postgis.Store {
		st, err := postgis.Open(ctx, dsn, postgis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	here, there := open(), open()
	ix := index.New()
	set, err := coverage.Load(ctx, here)
	if err != nil {
		t.Fatal(err)
	}
	ix.SetCoverage(set)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	signals, err := here.Subscribe(fctx)
	if err != nil {
		t.Fatal(err)
	}
	// A poll interval far longer than the test: only the signal can do it.
	go coverage.Follow(fctx, here, signals, time.Hour, func() int64 { return ix.Snapshot().Coverage().Version() }, ix.SetCoverage, nil)

	p := orb.Point{106.7, 21.85}
	covered := func() bool { return ix.Snapshot().Coverage().Covers(zone.LayerCombatBases, zone.Public, p) }
	waitFor := func(what string, want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for covered() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen within 5 s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if covered() {
		t.Fatal("covered before any coverage was declared")
	}
	c, err := there.PutCoverage(ctx, storetest.NewCoverage(zone.LayerCombatBases, "Lạng Sơn", 106.5, 21.7, 106.9, 22.0), 0, zone.Public, "other instance")
	if err != nil {
		t.Fatal(err)
	}
	waitFor("a coverage declared through another instance", true)

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE coverage SET geom = ST_Multi(ST_MakeEnvelope(106.0, 21.0, 106.3, 21.3, 4326)) WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	waitFor("a coverage moved directly in the table", false)
	if !ix.Snapshot().Coverage().Covers(zone.LayerCombatBases, zone.Public, orb.Point{106.1, 21.1}) {
		t.Error("the moved coverage does not cover its new place")
	}
	if _, err := conn.Exec(ctx, `DELETE FROM coverage`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ix.Snapshot().Coverage().Covers(zone.LayerCombatBases, zone.Public, orb.Point{106.1, 21.1}) {
		if time.Now().After(deadline) {
			t.Fatal("a coverage deleted in the table is still counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
