package embedded

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	sfgeom "github.com/peterstace/simplefeatures/geom"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestDataSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "z.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Created() {
		t.Error("Created() is false for a new file")
	}
	ctx := context.Background()
	c := storetest.NewComponent(zone.LayerCombatBases, "Căn cứ Mẫu Sơn (giả lập)", storetest.Square(106.95, 21.85, 0.0123456789))
	c.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, Geometry: storetest.Square(106.949, 21.849, 0.0153456789), Decision: "12/QĐ"}}
	c = storetest.Create(t, s, c)
	if err := s.SaveRuleSet(ctx, "2025.1", []byte("rules: []\n"), "admin"); err != nil {
		t.Fatal(err)
	}
	v, _ := s.DataVersion(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Errorf("Ping after Close: %v, want unavailable", err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Created() {
		t.Error("Created() is true for an existing file")
	}
	got, err := s.GetComponent(ctx, c.ID, zone.Secret)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SameComponent(t, c, got)
	if v2, _ := s.DataVersion(ctx); v2 != v {
		t.Errorf("data version %d after reopen, was %d", v2, v)
	}
	if ver, _, err := s.ActiveRuleSet(ctx); err != nil || ver != "2025.1" {
		t.Errorf("rule set after reopen: %q %v", ver, err)
	}
}

func TestChangeLogPruned(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "z.db"), Options{KeepChanges: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 10; i++ {
		storetest.Create(t, s, storetest.NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d", i), orb.Point{106, 21 + float64(i)/100}))
	}
	ctx := context.Background()
	_, err = s.ChangesSince(ctx, 0, func(zone.Change) error { return nil })
	if !errors.Is(err, zone.ErrChangesPruned) {
		t.Fatalf("ChangesSince(0) with 5 of 10 changes kept: %v, want ErrChangesPruned", err)
	}
	n := 0
	reached, err := s.ChangesSince(ctx, 6, func(zone.Change) error { n++; return nil })
	if err != nil || n != 4 || reached != 10 {
		t.Errorf("ChangesSince(6): %d changes reached %d (%v); want 4 reaching 10", n, reached, err)
	}
}

func TestSubscriptionsClosedWithTheStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "z.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("got a notification, want the channel closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription not closed with the store")
	}
	if _, err := s.Subscribe(context.Background()); zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Errorf("Subscribe after Close: %v, want unavailable", err)
	}
}

// A list callback may write to the store, even writes that grow the file:
// the list holds no read transaction while the callback runs.
func TestListCallbackMayWrite(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		storetest.Create(t, s, storetest.NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d", i), orb.Point{106, 21 + float64(i)/100}))
	}
	done := make(chan error, 1)
	go func() {
		calls := 0
		done <- s.ListComponents(ctx, zone.Query{Layers: []string{zone.LayerBorderMarkers}}, func(c *zone.Component) error {
			calls++
			if calls > 1 {
				return nil
			}
			_, err := s.ImportComponents(ctx, zone.LayerCombatBases, squares(20_000), zone.ImportOptions{})
			return err
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a write from inside a list callback deadlocked")
	}
	if n, _ := s.CountComponents(ctx, zone.Query{}); n != 20_003 {
		t.Errorf("count %d, want 20003", n)
	}
}

// squares returns n valid combat bases, small squares spread over northern
// Vietnam.
func squares(n int) []*zone.Component {
	cs := make([]*zone.Component, n)
	for i := range cs {
		lon, lat := 103+float64(i%1000)*0.005, 21+float64(i/1000)*0.005
		cs[i] = storetest.NewComponent(zone.LayerCombatBases, fmt.Sprintf("Căn cứ %d", i), storetest.Square(lon, lat, 0.002))
		cs[i].Code = fmt.Sprintf("CB-%06d", i)
	}
	return cs
}

// TestIntersectsBoundMatchesSimplefeatures compares the box test with the
// JTS port on integer coordinates, where touching cases are frequent and
// exact.
func TestIntersectsBoundMatchesSimplefeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pt := func() orb.Point { return orb.Point{float64(rng.IntN(11)), float64(rng.IntN(11))} }
	toSF := func(g orb.Geometry) sfgeom.Geometry {
		b, err := wkb.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := sfgeom.UnmarshalWKB(b)
		if err != nil {
			t.Fatalf("%v: %v", g, err)
		}
		return sg
	}
	checked := map[bool]int{}
	for i := 0; i < 20000; i++ {
		a, b := pt(), pt()
		box := orb.Bound{Min: orb.Point{min(a[0], b[0]), min(a[1], b[1])}, Max: orb.Point{max(a[0], b[0]), max(a[1], b[1])}}
		var g orb.Geometry
		switch i % 4 {
		case 0:
			g = pt()
		case 1:
			ls := orb.LineString{pt(), pt(), pt()}
			if ls[0] == ls[1] || ls[1] == ls[2] {
				continue
			}
			g = ls
		case 2:
			p, q, r := pt(), pt(), pt()
			if (q[0]-p[0])*(r[1]-p[1])-(q[1]-p[1])*(r[0]-p[0]) == 0 {
				continue // collinear: not a polygon
			}
			g = orb.Polygon{{p, q, r, p}}
		case 3:
			// A square with a square hole, the box possibly in the hole.
			x, y := float64(rng.IntN(3)), float64(rng.IntN(3))
			g = orb.Polygon{
				{{x, y}, {x + 8, y}, {x + 8, y + 8}, {x, y + 8}, {x, y}},
				{{x + 2, y + 2}, {x + 2, y + 6}, {x + 6, y + 6}, {x + 6, y + 2}, {x + 2, y + 2}},
			}
		}
		env := sfgeom.NewEnvelope(sfgeom.XY{X: box.Min[0], Y: box.Min[1]}, sfgeom.XY{X: box.Max[0], Y: box.Max[1]})
		want := sfgeom.Intersects(toSF(g), env.AsGeometry())
		if got := intersectsBound(g, box); got != want {
			t.Fatalf("intersectsBound(%v, %v) = %v, simplefeatures says %v", g, box, got, want)
		}
		checked[want]++
	}
	if checked[true] < 1000 || checked[false] < 1000 {
		t.Errorf("too few cases of one answer: %v", checked)
	}
}

func BenchmarkImport100k(b *testing.B) {
	cs := squares(100_000)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), "z.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		before := cpuTime()
		res, err := s.ImportComponents(context.Background(), zone.LayerCombatBases, cs, zone.ImportOptions{By: "bench"})
		if err != nil || res.Created != len(cs) {
			b.Fatalf("import: %+v %v", res, err)
		}
		cpu += cpuTime() - before
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(cs)*b.N)/b.Elapsed().Seconds(), "features/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkListBound100k lists a 1/16 window of 100k components: the scan
// with the envelope pre-filter and exact test.
func BenchmarkListBound100k(b *testing.B) {
	s := openTemp(b)
	if _, err := s.ImportComponents(context.Background(), zone.LayerCombatBases, squares(100_000), zone.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	box := orb.Bound{Min: orb.Point{104, 21.1}, Max: orb.Point{105.25, 21.35}}
	n := 0
	for b.Loop() {
		n = 0
		if err := s.ListComponents(context.Background(), zone.Query{Bound: &box}, func(*zone.Component) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "features/op")
}

// BenchmarkCount100k counts every component: the index-only path.
func BenchmarkCount100k(b *testing.B) {
	s := openTemp(b)
	if _, err := s.ImportComponents(context.Background(), zone.LayerCombatBases, squares(100_000), zone.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if n, err := s.CountComponents(context.Background(), zone.Query{}); err != nil || n != 100_000 {
			b.Fatal(n, err)
		}
	}
}

// Lists read in batches of scanBatch; paging must not lose or repeat a
// component at batch or layer boundaries.
func TestListPagesAcrossBatches(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for _, layer := range []string{zone.LayerCommuneHQs, zone.LayerBorderMarkers} {
		cs := make([]*zone.Component, 2*scanBatch+17)
		for i := range cs {
			cs[i] = storetest.NewComponent(layer, fmt.Sprintf("%s %d", layer, i), orb.Point{106 + float64(i)/1000, 21})
		}
		if _, err := s.ImportComponents(ctx, layer, cs, zone.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(q zone.Query) []string {
		var ids []string
		if err := s.ListComponents(ctx, q, func(c *zone.Component) error {
			ids = append(ids, c.Layer+"/"+c.ID.String())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	all := list(zone.Query{})
	total := 2 * (2*scanBatch + 17)
	if len(all) != total {
		t.Fatalf("listed %d, want %d", len(all), total)
	}
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("not ordered at %d: %s after %s", i, all[i], all[i-1])
		}
	}
	for _, p := range []struct{ offset, limit int }{{0, scanBatch}, {scanBatch - 1, 2}, {250, 300}, {500, 100}, {total - 5, 100}, {3, 0}} {
		got := list(zone.Query{Offset: p.offset, Limit: p.limit})
		want := page(all, p.offset, p.limit)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("offset %d limit %d: got %d ids, want %d (or different ones)", p.offset, p.limit, len(got), len(want))
		}
	}
	both := list(zone.Query{Layers: []string{zone.LayerCommuneHQs, zone.LayerBorderMarkers}, Offset: 2*scanBatch + 10, Limit: 20})
	if fmt.Sprint(both) != fmt.Sprint(all[2*scanBatch+10:2*scanBatch+30]) {
		t.Errorf("paging across two layers differs from the full list")
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("không phải cơ sở dữ liệu\n", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(text, Options{})
	storetest.RequireCode(t, err, zone.CodeUnavailable, "Open of a text file")
	if !strings.Contains(zone.ErrorMessage(err), text) {
		t.Errorf("message %q does not name the file", zone.ErrorMessage(err))
	}

	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(metaFormat, []byte("someone-else/7"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(other, Options{})
	storetest.RequireCode(t, err, zone.CodeUnavailable, "Open of another program's bbolt file")
	if !strings.Contains(zone.ErrorMessage(err), "someone-else/7") {
		t.Errorf("message %q does not name the format found", zone.ErrorMessage(err))
	}
}

// BenchmarkCreate is one acknowledged (fsynced) create.
func BenchmarkCreate(b *testing.B) {
	s := openTemp(b)
	i := 0
	for b.Loop() {
		i++
		c := storetest.NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d", i), orb.Point{106 + float64(i%1000)/1000, 21})
		if _, err := s.CreateComponent(context.Background(), c, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
