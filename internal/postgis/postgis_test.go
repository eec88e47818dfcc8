package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
	"github.com/zoneplan/zoneplan/migrations"
)

// TestStore runs the focused tests of this package, each on a fresh clone
// of one migrated database.
func TestStore(t *testing.T) {
	template := pgtest.New(t)
	if err := Migrate(t.Context(), template, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	open := func(t *testing.T) (*Store, string) {
		dsn := pgtest.Clone(t, template)
		return openOn(t, dsn), dsn
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, func(*testing.T) (*Store, string))
	}{
		{"MigrateIsIdempotent", testMigrateIsIdempotent},
		{"OptionsSettingsApplyToEveryConnection", testOptionsSettingsApplyToEveryConnection},
		{"TwoInstancesFollowEachOther", testTwoInstancesFollowEachOther},
		{"SubscribeReconnects", testSubscribeReconnects},
		{"CloseEndsSubscriptions", testCloseEndsSubscriptions},
		{"ChangeLogPruning", testChangeLogPruning},
		{"CancelWhileWaitingForAConnection", testCancelWhileWaitingForAConnection},
		{"AppraisalsWithOneTimestamp", testAppraisalsWithOneTimestamp},
		{"TruncateIsAReload", testTruncateIsAReload},
		{"ZoneEditedInGISIsAChange", testZoneEditedInGISIsAChange},
		{"CheckRecordsImmutable", testCheckRecordsImmutable},
		{"GeometryAlwaysWGS84", testGeometryAlwaysWGS84},
		{"DatabaseChecksAreTheSecondLine", testDatabaseChecksAreTheSecondLine},
		{"LayerViews", testLayerViews},
		{"ImportZonesAndUpsert", testImportZonesAndUpsert},
		{"ProvisionalZoneWithBadDate", testProvisionalZoneWithBadDate},
		{"CheckResultKeptByteExact", testCheckResultKeptByteExact},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

// exec runs raw SQL as a GIS user or an operator would, bypassing the store.
func exec(tb testing.TB, s *Store, sql string, args ...any) error {
	tb.Helper()
	_, err := s.pool.Exec(context.Background(), sql, args...)
	return err
}

func testMigrateIsIdempotent(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, dsn := open(t)
	ctx := t.Context()
	var before int64
	if err := s.pool.QueryRow(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	storetest.Create(t, s, storetest.NewComponent(zone.LayerCommuneHQs, "Trụ sở", orb.Point{106.7, 21.8}))
	if err := Migrate(ctx, dsn, nil); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var after, rows int64
	if err := s.pool.QueryRow(ctx, `SELECT max(version_id), count(*) FROM goose_db_version`).Scan(&after, &rows); err != nil {
		t.Fatal(err)
	}
	entries, err := migrationFiles()
	if err != nil {
		t.Fatal(err)
	}
	// Numbers are handed out to branches ahead of their merge, so the
	// files may skip some: the schema is at the last file's number.
	last, err := strconv.ParseInt(strings.SplitN(entries[len(entries)-1], "_", 2)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if before != after || after != last {
		t.Errorf("schema version %d then %d, want %d (the last migration file's)", before, after, last)
	}
	if rows != int64(len(entries))+1 { // goose's own row for version 0
		t.Errorf("goose_db_version has %d rows after migrating twice, want %d: a migration ran twice", rows, len(entries)+1)
	}
	if n, err := s.CountComponents(ctx, zone.Query{}); err != nil || n != 1 {
		t.Errorf("data after the second Migrate: %d, %v; want the 1 component kept", n, err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.New(t)
	const instances = 3
	var wg sync.WaitGroup
	errs := make([]error, instances)
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Migrate(t.Context(), dsn, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: Migrate: %v", i, err)
		}
	}
	s := openOn(t, dsn)
	var applied int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	entries, _ := migrationFiles()
	if applied != len(entries) {
		t.Errorf("%d migrations recorded after %d concurrent runs, want %d", applied, instances, len(entries))
	}
}

func TestOpenUnmigratedOrUnreachable(t *testing.T) {
	dsn := pgtest.New(t)
	_, err := Open(t.Context(), dsn, Options{})
	storetest.RequireCode(t, err, zone.CodeUnavailable, "Open on a database never migrated")
	if !strings.Contains(zone.ErrorMessage(err), "zoneplan migrate") {
		t.Errorf("message %q does not say to migrate", zone.ErrorMessage(err))
	}
	// A pool parameter in the URL is understood, not sent to the server.
	withPool, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := withPool.Query()
	q.Set("pool_max_conns", "2")
	withPool.RawQuery = q.Encode()
	if err := Migrate(t.Context(), withPool.String(), nil); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	latest, _ := latestMigration()
	if _, err := admin.Exec(t.Context(), `DELETE FROM goose_db_version WHERE version_id = $1`, latest); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), dsn, Options{})
	storetest.RequireCode(t, err, zone.CodeUnavailable, "Open on a database one migration behind")
	if !strings.Contains(zone.ErrorMessage(err), fmt.Sprintf("needs %d", latest)) {
		t.Errorf("message %q does not say which version is needed", zone.ErrorMessage(err))
	}
	noDB, _ := url.Parse(dsn)
	noDB.Path = "/zoneplan_no_such_database"
	_, err = Open(t.Context(), noDB.String(), Options{})
	storetest.RequireCode(t, err, zone.CodeUnavailable, "Open on a database that does not exist")
	// Port 1 on localhost: nothing listens there.
	_, err = Open(t.Context(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", Options{})
	storetest.RequireCode(t, err, zone.CodeUnavailable, "Open on an unreachable server")
	_, err = Open(t.Context(), "postgres://user:pa ss@[bad", Options{})
	storetest.RequireCode(t, err, zone.CodeInvalid, "Open with an unparseable URL")
	if strings.Contains(zone.ErrorMessage(err), "pa ss") {
		t.Errorf("message %q leaks the password", zone.ErrorMessage(err))
	}
}

func testOptionsSettingsApplyToEveryConnection(t *testing.T, open func(*testing.T) (*Store, string)) {
	_, dsn := open(t)
	s, err := Open(t.Context(), dsn, Options{MaxConns: 3, Settings: map[string]string{"max_parallel_workers_per_gather": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Hold every connection at once, so each one is checked.
	var conns []string
	for range 3 {
		c, err := s.pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		var v string
		if err := c.QueryRow(t.Context(), `SHOW max_parallel_workers_per_gather`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, v)
	}
	if fmt.Sprint(conns) != "[0 0 0]" {
		t.Errorf("max_parallel_workers_per_gather on the pool's connections = %v, want 0 on each", conns)
	}
}

// testTwoInstancesFollowEachOther is two server instances on one database:
// a write through one wakes the other's subscription, and the other's
// ChangesSince returns it.
func testTwoInstancesFollowEachOther(t *testing.T, open func(*testing.T) (*Store, string)) {
	a, dsn := open(t)
	b := openOn(t, dsn)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	since, err := b.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c := storetest.Create(t, a, storetest.NewComponent(zone.LayerCombatBases, "Căn cứ A", storetest.Square(106.6, 21.8, 0.01)))
	select {
	case <-ch:
		t.Logf("instance B woken %v after instance A's write began", time.Since(start))
	case <-time.After(10 * time.Second):
		t.Fatal("instance B was not notified of instance A's write")
	}
	var got []zone.Change
	reached, err := b.ChangesSince(ctx, since, func(ch zone.Change) error {
		got = append(got, ch)
		return nil
	})
	if err != nil {
		t.Fatalf("ChangesSince: %v", err)
	}
	if len(got) != 1 || got[0].ID != c.ID || got[0].Component == nil {
		t.Fatalf("instance B saw %+v, want the component A created", got)
	}
	storetest.SameComponent(t, c, got[0].Component)
	if v, _ := a.DataVersion(ctx); v != reached {
		t.Errorf("B reached %d, A's data version is %d", reached, v)
	}
	stop := errors.New("follower busy")
	at, err := b.ChangesSince(ctx, since, func(zone.Change) error { return stop })
	if !errors.Is(err, stop) || at != since {
		t.Errorf("ChangesSince with a failing callback: %d, %v; want %d and the callback's error", at, err, since)
	}
}

// testSubscribeReconnects kills the listening connection from the server
// side: the subscription reconnects, signals once so the follower catches
// up, and keeps delivering.
func testSubscribeReconnects(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	if err := s.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'LISTEN%'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listening connections, want 1", killed)
	}
	wait := func(what string) {
		t.Helper()
		select {
		case _, ok := <-ch:
			if !ok {
				t.Fatalf("%s: the channel closed", what)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("%s: no signal", what)
		}
	}
	wait("after the listener's connection was killed")
	storetest.Create(t, s, storetest.NewComponent(zone.LayerCommuneHQs, "Trụ sở sau kết nối lại", orb.Point{106.7, 21.8}))
	wait("a write after reconnecting")
	cancel()
	for range ch { // drains until closed; the test times out if it never is
	}
}

func testCloseEndsSubscriptions(t *testing.T, open func(*testing.T) (*Store, string)) {
	_, dsn := open(t)
	s, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, ok := <-ch; ok {
		// One pending signal at most; then the channel must close.
		if _, ok := <-ch; ok {
			t.Fatal("the subscription outlived its store")
		}
	}
	_, err = s.Subscribe(context.Background())
	storetest.RequireCode(t, err, zone.CodeUnavailable, "Subscribe on a closed store")
}

// testCancelWhileWaitingForAConnection: with the pool saturated, a caller
// whose context ends while it waits gets unavailable, and the store keeps
// working once the connection is free again.
func testCancelWhileWaitingForAConnection(t *testing.T, open func(*testing.T) (*Store, string)) {
	_, dsn := open(t)
	s, err := Open(t.Context(), dsn, Options{MaxConns: 1, ChangeRetention: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Create(t, s, storetest.NewComponent(zone.LayerBorderMarkers, "Mốc", orb.Point{106.7, 21.8}))
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		// The only connection stays busy while the callback waits.
		done <- s.ListComponents(context.Background(), zone.Query{}, func(*zone.Component) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	for range 5 {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		_, err := s.CountComponents(ctx, zone.Query{})
		cancel()
		storetest.RequireCode(t, err, zone.CodeUnavailable, "a count waiting for the busy pool past its deadline")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the listing holding the connection: %v", err)
	}
	if n, err := s.CountComponents(t.Context(), zone.Query{}); err != nil || n != 1 {
		t.Errorf("after the pool freed up: count %d, %v", n, err)
	}
}

func testChangeLogPruning(t *testing.T, open func(*testing.T) (*Store, string)) {
	first, dsn := open(t)
	// The store's own pruning loop would race the explicit prune below
	// (it prunes once at start): use a store that never prunes by itself.
	first.Close()
	s, err := Open(t.Context(), dsn, Options{ChangeRetention: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	for i := range 3 {
		storetest.Create(t, s, storetest.NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d", i), orb.Point{106.7 + float64(i)/100, 21.8}))
	}
	old, _ := s.DataVersion(ctx)
	// The first three changes happened eight days ago.
	if err := exec(t, s, `UPDATE change_log SET at = now() - interval '8 days'`); err != nil {
		t.Fatal(err)
	}
	recent := storetest.Create(t, s, storetest.NewComponent(zone.LayerBorderMarkers, "Mốc mới", orb.Point{106.8, 21.8}))
	v, _ := s.DataVersion(ctx)
	removed, err := s.PruneChanges(ctx, DefaultChangeRetention)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 3 {
		t.Errorf("pruned %d entries, want the 3 older than 7 days", removed)
	}
	if after, _ := s.DataVersion(ctx); after != v {
		t.Errorf("pruning moved the data version %d -> %d", v, after)
	}
	_, err = s.ChangesSince(ctx, 0, func(zone.Change) error { return nil })
	if !errors.Is(err, zone.ErrChangesPruned) {
		t.Errorf("ChangesSince(0) after pruning: %v, want ErrChangesPruned", err)
	}
	var got []uuid.UUID
	if _, err := s.ChangesSince(ctx, old, func(c zone.Change) error { got = append(got, c.ID); return nil }); err != nil {
		t.Fatalf("ChangesSince(pruning horizon): %v", err)
	}
	if len(got) != 1 || got[0] != recent.ID {
		t.Errorf("changes since the horizon %v, want only the recent component", got)
	}
	// Everything pruned: the data version stays where it was.
	if err := exec(t, s, `UPDATE change_log SET at = now() - interval '8 days'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneChanges(ctx, DefaultChangeRetention); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.DataVersion(ctx); after != v {
		t.Errorf("an empty log reports data version %d, want %d", after, v)
	}
}

// testZoneEditedInGISIsAChange: a zone polygon changed directly in the
// database (as in QGIS) is a change of its component: its version moves,
// followers see it, and an editor holding the old version gets a conflict.
func testZoneEditedInGISIsAChange(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	ctx := t.Context()
	c := storetest.NewComponent(zone.LayerDefenceWorks, "Kho K9", storetest.Square(106.6, 21.8, 0.01))
	c.Kind = zone.KindDepot
	c.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, Geometry: storetest.Square(106.599, 21.799, 0.012), Decision: "9/QĐ"}}
	c = storetest.Create(t, s, c)
	v, _ := s.DataVersion(ctx)
	if err := exec(t, s, `UPDATE protection_zones SET geom = ST_Multi(ST_Buffer(geom, 0.001, 'join=mitre'))
		WHERE component_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	var got []zone.Change
	if _, err := s.ChangesSince(ctx, v, func(ch zone.Change) error { got = append(got, ch); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != c.ID || got[0].Component == nil || len(got[0].Component.Zones) != 1 {
		t.Fatalf("after a zone edit in SQL: %+v, want one change of the component with its zone", got)
	}
	after := got[0].Component
	var dbUser string
	if err := s.pool.QueryRow(ctx, `SELECT session_user`).Scan(&dbUser); err != nil {
		t.Fatal(err)
	}
	if before, now := c.Zones[0].Geometry.Bound(), after.Zones[0].Geometry.Bound(); !(now.Min[0] < before.Min[0]) {
		t.Errorf("the change carries the old zone: bound %v, was %v", now, before)
	}
	if after.Version != c.Version+1 || after.UpdatedBy != dbUser || !after.UpdatedAt.After(c.UpdatedAt) {
		t.Errorf("after the zone edit: version %d by %q at %v; want %d by the database user, later than %v",
			after.Version, after.UpdatedBy, after.UpdatedAt, c.Version+1, c.UpdatedAt)
	}
	stale := c.Clone()
	stale.Name = "ghi đè"
	_, err := s.UpdateComponent(ctx, stale, c.Version, zone.Secret, "editor")
	storetest.RequireCode(t, err, zone.CodeConflict, "updating with the version read before the zone edit")

	// The component itself edited in SQL: one increment.
	if err := exec(t, s, `UPDATE components SET name = 'Kho K9 (QGIS)' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	read, err := s.GetComponent(ctx, c.ID, zone.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if read.Name != "Kho K9 (QGIS)" || read.Version != after.Version+1 {
		t.Errorf("after a component edit in SQL: %q version %d, want version %d", read.Name, read.Version, after.Version+1)
	}
	// zoneplan's own update with zones increments once.
	upd := read.Clone()
	upd.Zones = append(upd.Zones, zone.ProtectionZone{Kind: zone.SafetyBelt, WidthM: 300})
	upd, err = s.UpdateComponent(ctx, upd, read.Version, zone.Secret, "editor")
	if err != nil || upd.Version != read.Version+1 {
		t.Fatalf("update with zones: %v, %v; want version %d", upd, err, read.Version+1)
	}
	if again, _ := s.GetComponent(ctx, c.ID, zone.Secret); again == nil || again.Version != upd.Version {
		t.Errorf("stored version %v, returned %d: the zone rewrite bumped it again", again, upd.Version)
	}
}

func testCheckRecordsImmutable(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	a, site, rec := storetest.NewAppraisalInput("Nhà máy", "appraiser", "review", storetest.Square(106.5, 21.7, 0.005))
	got, err := s.CreateAppraisal(t.Context(), a, site, rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE check_records SET verdict = 'clear'`,
		`UPDATE check_records SET result = '{}'::json`,
		`UPDATE check_records SET view_public = '{}'::json`,
		`DELETE FROM check_records`,
		`TRUNCATE check_records CASCADE`,
	} {
		if err := exec(t, s, sql); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: error %v, want the immutability trigger to refuse", sql, err)
		}
	}
	full, err := s.GetAppraisal(t.Context(), got.ID, zone.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Checks) != 1 || full.Checks[0].Verdict != "review" || string(full.Checks[0].Result) != string(rec.Views[zone.Secret].Result) {
		t.Errorf("check records after refused changes: %+v", full.Checks)
	}
}

// testGeometryAlwaysWGS84 checks every stored geometry carries SRID 4326
// and that the schema refuses one without (SRID 0), whatever the path.
func testGeometryAlwaysWGS84(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	ctx := t.Context()
	c := storetest.NewComponent(zone.LayerCombatBases, "Căn cứ", storetest.Square(106.6, 21.8, 0.01))
	c.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, Geometry: storetest.Square(106.59, 21.79, 0.03)}}
	storetest.Create(t, s, c)
	if _, err := s.ImportComponents(ctx, zone.LayerBorderMarkers, []*zone.Component{
		storetest.NewComponent(zone.LayerBorderMarkers, "Mốc", orb.Point{106.7, 21.9}),
	}, zone.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var bad int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM components WHERE ST_SRID(geom) <> 4326)
		+ (SELECT count(*) FROM protection_zones WHERE geom IS NOT NULL AND ST_SRID(geom) <> 4326)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d stored geometries are not SRID 4326", bad)
	}
	// Written past the store, a geometry without an SRID (0) takes the
	// column's 4326 (PostGIS's typmod coercion); one in another CRS is refused.
	insert := `INSERT INTO components (id, layer, kind, name, geom) VALUES (gen_random_uuid(), 'border_markers', 'border_marker', 'x', %s)`
	for _, geom := range []string{
		`ST_GeomFromText('POINT(106.7 21.8)')`,
		`ST_SetSRID(ST_MakePoint(106.7, 21.8), 0)`,
		`decode('0101000000CDCCCCCCCCAC5A40CDCCCCCCCCCC3540', 'hex')::geometry`, // WKB, no SRID
	} {
		if err := exec(t, s, fmt.Sprintf(insert, geom)); err != nil {
			t.Errorf("inserting %s: %v", geom, err)
		}
	}
	if err := exec(t, s, fmt.Sprintf(insert, `ST_SetSRID(ST_MakePoint(600000, 2400000), 3405)`)); err == nil { // VN-2000 UTM 48N
		t.Error("the schema stored a VN-2000 UTM geometry")
	}
	var srid0, total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE ST_SRID(geom) <> 4326), count(*) FROM components`).Scan(&srid0, &total); err != nil {
		t.Fatal(err)
	}
	if srid0 != 0 || total != 5 {
		t.Errorf("%d of %d stored geometries are not SRID 4326", srid0, total)
	}
}

// testDatabaseChecksAreTheSecondLine writes bad rows past the Go
// validation and checks the constraint errors map to invalid, without SQL.
func testDatabaseChecksAreTheSecondLine(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	insert := `INSERT INTO components (id, layer, kind, name, classification, geom)
		VALUES (gen_random_uuid(), 'combat_bases', 'combat_base', $1, $2, ST_GeomFromText($3, 4326))`
	cases := []struct {
		name, wkt string
		class     int
		says      string
	}{
		{"ok", "POINT(106.7 21.8)", 9, "constraint components_classification_check"},
		{"bow-tie", "POLYGON((106 21, 106.1 21.1, 106.1 21, 106 21.1, 106 21))", 0, "ST_IsValid"},
		{"  ", "POINT(106.7 21.8)", 0, "name is required"},
		{"collection", "GEOMETRYCOLLECTION(POINT(106.7 21.8))", 0, "geometry type"},
	}
	for _, tc := range cases {
		err := dbError(exec(t, s, insert, tc.name, tc.class, tc.wkt), "store the component")
		storetest.RequireCode(t, err, zone.CodeInvalid, tc.wkt)
		msg := zone.ErrorMessage(err)
		if !strings.Contains(msg, tc.says) || strings.Contains(msg, "INSERT") {
			t.Errorf("%s: message %q; want it to say %q and carry no SQL", tc.wkt, msg, tc.says)
		}
	}
}

// testLayerViews checks every registered layer has a view per geometry
// class with one geometry type, as QGIS needs, and that the views and the
// approved-zone view show the stored rows.
func testLayerViews(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	ctx := t.Context()
	multi := map[zone.GeometryClass]string{zone.GeomPoint: "MULTIPOINT", zone.GeomLine: "MULTILINESTRING", zone.GeomPolygon: "MULTIPOLYGON"}
	suffix := map[zone.GeometryClass]string{zone.GeomPoint: "_points", zone.GeomLine: "_lines", zone.GeomPolygon: "_polygons"}
	sample := map[zone.GeometryClass]orb.Geometry{
		zone.GeomPoint:   orb.Point{106.7, 21.8},
		zone.GeomLine:    orb.LineString{{106.7, 21.8}, {106.8, 21.9}},
		zone.GeomPolygon: storetest.Square(106.7, 21.8, 0.01),
	}
	for _, l := range zone.Layers() {
		for _, class := range l.Geometries {
			c := storetest.NewComponent(l.ID, "Mẫu "+string(class), sample[class])
			c.Kind = l.DefaultKind()
			storetest.Create(t, s, c)
		}
	}
	for _, l := range zone.Layers() {
		for _, class := range l.Geometries {
			view := "layer_" + l.ID
			if len(l.Geometries) > 1 {
				view += suffix[class]
			}
			var typ string
			var srid int
			err := s.pool.QueryRow(ctx, `SELECT type, srid FROM geometry_columns WHERE f_table_name = $1 AND f_geometry_column = 'geom'`, view).Scan(&typ, &srid)
			if errors.Is(err, pgx.ErrNoRows) {
				t.Errorf("layer %s: no view %s (add it to a migration)", l.ID, view)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if typ != multi[class] || srid != 4326 {
				t.Errorf("view %s has geometry %s/%d, want %s/4326", view, typ, srid, multi[class])
			}
			var n int
			if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{view}.Sanitize()).Scan(&n); err != nil {
				t.Fatalf("view %s: %v", view, err)
			}
			if n != 1 {
				t.Errorf("view %s shows %d rows, want the 1 %s stored", view, n, class)
			}
		}
	}
	c := storetest.NewComponent(zone.LayerDefenceWorks, "Kho", storetest.Square(106.6, 21.7, 0.01))
	c.Kind = zone.KindDepot
	c.Zones = []zone.ProtectionZone{
		{Kind: zone.RestrictedArea, Geometry: storetest.Square(106.599, 21.699, 0.012), Decision: "1/QĐ", DecisionDate: "2024-01-02"},
		{Kind: zone.SafetyBelt, WidthM: 500},
	}
	c = storetest.Create(t, s, c)
	var kind, decision, date string
	if err := s.pool.QueryRow(ctx, `SELECT kind, decision, decision_date::text FROM approved_protection_zones WHERE component_id = $1`, c.ID).
		Scan(&kind, &decision, &date); err != nil {
		t.Fatalf("approved_protection_zones: %v", err)
	}
	if kind != string(zone.RestrictedArea) || decision != "1/QĐ" || date != "2024-01-02" {
		t.Errorf("approved zone %s %s %s", kind, decision, date)
	}
}

// testImportZonesAndUpsert imports components with approved and provisional
// zones, in a batch large enough for intermediate progress, then upserts
// them with other zones.
func testImportZonesAndUpsert(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	ctx := t.Context()
	const n = 2500
	cs := make([]*zone.Component, n)
	for i := range cs {
		lon, lat := 106+float64(i%50)/50, 21+float64(i/50)/50
		c := storetest.NewComponent(zone.LayerDefenceWorks, fmt.Sprintf("Công trình %04d", i), storetest.Square(lon, lat, 0.005))
		c.Kind = zone.KindDepot
		c.Code = fmt.Sprintf("CT-%04d", i)
		c.Classification = zone.Classification(i % 4)
		c.Properties = map[string]any{"index": float64(i)}
		c.Zones = []zone.ProtectionZone{
			{Kind: zone.SafetyBelt, WidthM: 300},
			{Kind: zone.RestrictedArea, Geometry: storetest.Square(lon-0.001, lat-0.001, 0.007), Decision: "QĐ", DecisionDate: "2023-03-04"},
		}
		cs[i] = c
	}
	var calls []int
	res, err := s.ImportComponents(ctx, zone.LayerDefenceWorks, cs, zone.ImportOptions{By: "importer", Progress: func(done int) { calls = append(calls, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != n || res.Updated != 0 {
		t.Errorf("import result %+v, want %d created", res, n)
	}
	if len(calls) < 3 || calls[len(calls)-1] != n {
		t.Errorf("progress calls %v, want several ending at %d", calls, n)
	}
	byCode := map[string]*zone.Component{}
	if err := s.ListComponents(ctx, zone.Query{Clearance: zone.Secret}, func(c *zone.Component) error {
		byCode[c.Code] = c
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, in := range cs {
		got := byCode[in.Code]
		if got == nil {
			t.Fatalf("%s not stored", in.Code)
		}
		want := in.Clone()
		want.ID, want.Version, want.CreatedAt, want.UpdatedAt, want.CreatedBy, want.UpdatedBy = got.ID, 1, got.CreatedAt, got.UpdatedAt, "importer", "importer"
		storetest.SameComponent(t, want, got)
	}
	// Upsert the first ten by code: zones replaced, versions bumped.
	up := make([]*zone.Component, 10)
	for i := range up {
		up[i] = cs[i].Clone()
		up[i].Zones = []zone.ProtectionZone{{Kind: zone.ProtectedArea, WidthM: 120}}
	}
	res, err = s.ImportComponents(ctx, zone.LayerDefenceWorks, up, zone.ImportOptions{Upsert: true, By: "b"})
	if err != nil || res.Updated != 10 || res.Created != 0 {
		t.Fatalf("upsert: %+v, %v; want 10 updated", res, err)
	}
	got, err := s.GetComponent(ctx, byCode[up[3].Code].ID, zone.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || len(got.Zones) != 1 || got.Zones[0].Kind != zone.ProtectedArea || got.Zones[0].WidthM != 120 {
		t.Errorf("after upsert: version %d zones %+v", got.Version, got.Zones)
	}
	var zones int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM protection_zones`).Scan(&zones); err != nil {
		t.Fatal(err)
	}
	if zones != 2*n-10 {
		t.Errorf("%d zone rows, want %d", zones, 2*n-10)
	}
}

// testProvisionalZoneWithBadDate: the store refuses a decision date it
// could not keep as a date, naming the zone.
func testProvisionalZoneWithBadDate(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	c := storetest.NewComponent(zone.LayerCombatBases, "Căn cứ", orb.Point{106.7, 21.8})
	c.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 200, DecisionDate: "17/05/2024"}}
	_, err := s.CreateComponent(t.Context(), c, "x")
	storetest.RequireCode(t, err, zone.CodeInvalid, "a provisional zone with a date not YYYY-MM-DD")
	if !strings.Contains(storetest.ErrorText(err), "zones[0].decision_date") {
		t.Errorf("error %q does not point at the date", storetest.ErrorText(err))
	}
}

// testCheckResultKeptByteExact: a result with unusual spacing and key order
// comes back exactly (json, not jsonb).
func testCheckResultKeptByteExact(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	a, site, rec := storetest.NewAppraisalInput("Cảng", "a", "clear", orb.Point{106.7, 21.8})
	rec.Views[zone.Secret].Result = json.RawMessage(`{ "z": 1,  "a": [2, 1], "z": 3 }`)
	rec.Views[zone.Public].Result = json.RawMessage(`{"p":  0 ,"p":1}`)
	got, err := s.CreateAppraisal(t.Context(), a, site, rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Checks[0].Result) != string(rec.Views[zone.Secret].Result) {
		t.Errorf("result %s, want %s byte for byte", got.Checks[0].Result, rec.Views[zone.Secret].Result)
	}
	pub, err := s.GetAppraisal(t.Context(), got.ID, zone.Public)
	if err != nil {
		t.Fatal(err)
	}
	if string(pub.Checks[0].Result) != string(rec.Views[zone.Public].Result) {
		t.Errorf("public view %s, want %s byte for byte", pub.Checks[0].Result, rec.Views[zone.Public].Result)
	}
}

// migrationFiles lists the embedded migration files.
func migrationFiles() ([]string, error) {
	return fs.Glob(migrations.FS, "*.sql")
}

// testAppraisalsWithOneTimestamp: appraisals created at the same instant
// still list newest (last inserted) first.
func testAppraisalsWithOneTimestamp(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	for i := range 3 {
		if err := exec(t, s, `INSERT INTO appraisals (id, site_id, name, name_folded, created_at)
			VALUES (gen_random_uuid(), gen_random_uuid(), $1, $1, '2025-01-01T00:00:00Z')`, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	list, total, err := s.ListAppraisals(t.Context(), zone.AppraisalQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range list {
		names = append(names, a.Name)
	}
	if total != 3 || fmt.Sprint(names) != "[2 1 0]" {
		t.Errorf("listed %v of %d, want [2 1 0] of 3", names, total)
	}
}

// testTruncateIsAReload: TRUNCATE bypasses row triggers; followers are told
// to reload (ErrChangesPruned), woken, and the data version still grows.
func testTruncateIsAReload(t *testing.T, open func(*testing.T) (*Store, string)) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	storetest.Create(t, s, storetest.NewComponent(zone.LayerBorderMarkers, "Mốc", orb.Point{106.7, 21.8}))
	before, _ := s.DataVersion(ctx)
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := exec(t, s, `TRUNCATE components CASCADE`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification after TRUNCATE")
	}
	after, _ := s.DataVersion(ctx)
	if after <= before {
		t.Errorf("data version %d -> %d after TRUNCATE, want it to grow", before, after)
	}
	_, err = s.ChangesSince(ctx, before, func(zone.Change) error { return nil })
	if !errors.Is(err, zone.ErrChangesPruned) {
		t.Errorf("ChangesSince(before TRUNCATE): %v, want ErrChangesPruned", err)
	}
	c := storetest.Create(t, s, storetest.NewComponent(zone.LayerBorderMarkers, "Mốc mới", orb.Point{106.8, 21.8}))
	var got []uuid.UUID
	if _, err := s.ChangesSince(ctx, after, func(ch zone.Change) error { got = append(got, ch.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != c.ID {
		t.Errorf("changes after the reload point: %v, want the new component", got)
	}
}
