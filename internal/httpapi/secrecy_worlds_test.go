package httpapi_test

// Worlds for the secrecy tests: the same data three times over, differing
// only in hidden (secret) works, each served by a real server on a real
// store (embedded or PostGIS).
//
// A base store holds everything the worlds share (visible components of
// every clearance, a fixed secret work, tokens, a published appraisal); it
// is built once and copied (a file copy, or CREATE DATABASE ... TEMPLATE),
// so the worlds share ids, versions and timestamps byte for byte. Each
// world then adds its own hidden works:
//
//	a: a secret depot (a polygon with an approved restricted area and a
//	   provisional safety belt), a secret command post (a point) and a
//	   secret patrol route (a line);
//	b: the same three works moved elsewhere, each keeping its
//	   consultation cells;
//	c: none of them, but three other secret works (other ids, names,
//	   codes, kinds, shapes, two of them in other layers) with the same
//	   cells.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// metre offsets at the test area's latitude (21.5°N), for building
// geometries; the checks measure on the ellipsoid themselves.
const (
	mPerDegLat = 110_760.0
	mPerDegLon = 103_650.0
)

// at returns p moved dx metres east and dy metres north.
func at(p orb.Point, dx, dy float64) orb.Point {
	return orb.Point{p[0] + dx/mPerDegLon, p[1] + dy/mPerDegLat}
}

// square is the axis-aligned square of half side h metres around p.
func square(p orb.Point, h float64) orb.Polygon {
	a, b := at(p, -h, -h), at(p, h, h)
	return orb.Polygon{{a, {b[0], a[1]}, b, {a[0], b[1]}, a}}
}

// shifted returns a copy of c moved dx metres east and dy north, zones
// included.
func shifted(c *zone.Component, dx, dy float64) *zone.Component {
	d := c.Clone()
	move := func(p orb.Point) orb.Point { return at(p, dx, dy) }
	d.Geometry = project.Geometry(orb.Clone(c.Geometry), move)
	for i, z := range d.Zones {
		if z.Geometry != nil {
			d.Zones[i].Geometry = project.Geometry(orb.Clone(z.Geometry), move)
		}
	}
	return d
}

// cellsOf is c's consultation area under engine e, as sorted keys.
func cellsOf(e *check.Engine, c *zone.Component) string {
	reach, ok := e.Reach(c)
	if !ok {
		return ""
	}
	geoms := []orb.Geometry{c.Geometry}
	for _, z := range c.Zones {
		if z.Geometry != nil {
			geoms = append(geoms, z.Geometry)
		}
	}
	keys := e.Grid().Covering(reach, geoms...).Keys()
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		c := consult.CellOf(k)
		fmt.Fprintf(&b, "%d:%d ", c.Row, c.Col)
	}
	return b.String()
}

// farthestMove finds the longest move of c (on a 50 m lattice, up to
// limit metres each way) that keeps its consultation cells.
func farthestMove(t *testing.T, e *check.Engine, c *zone.Component, limit float64) (*zone.Component, float64) {
	t.Helper()
	want := cellsOf(e, c)
	var best *zone.Component
	bestD := 0.0
	for dx := -limit; dx <= limit; dx += 50 {
		for dy := -limit; dy <= limit; dy += 50 {
			d := math.Hypot(dx, dy)
			if d <= bestD {
				continue
			}
			m := shifted(c, dx, dy)
			if cellsOf(e, m) == want {
				best, bestD = m, d
			}
		}
	}
	if best == nil {
		t.Fatalf("no move of %s keeps its cells", c.Name)
	}
	return best, bestD
}

// sameCellsAs searches, among the components make gives for a sequence of
// trials, the first whose consultation cells are those of c.
func sameCellsAs(t *testing.T, e *check.Engine, c *zone.Component, make func(trial int) *zone.Component) *zone.Component {
	t.Helper()
	want := cellsOf(e, c)
	for trial := range 20_000 {
		if o := make(trial); cellsOf(e, o) == want {
			return o
		}
	}
	t.Fatalf("no stand-in for %s with the same cells", c.Name)
	return nil
}

// lattice is a deterministic low-discrepancy sequence in [0,1)² (the
// R2 sequence), so the searches are repeatable without a seed.
func lattice(i int) (float64, float64) {
	const g = 1.32471795724474602596
	x, y := 0.5+float64(i)/g, 0.5+float64(i)/(g*g)
	return x - math.Floor(x), y - math.Floor(y)
}

// hiddenWorks is what differs between the worlds: three secret works.
type hiddenWorks [3]*zone.Component

// secretStrings lists what an uncleared caller must never read: the ids,
// names and codes of the hidden works of every world.
func secretStrings(ws ...hiddenWorks) []string {
	var out []string
	for _, w := range ws {
		for _, c := range w {
			out = append(out, c.ID.String(), c.Name, c.Code)
		}
	}
	return out
}

// area is the centre of the test area (Lạng Sơn, synthetic).
var area = orb.Point{106.30, 21.50}

// worldsOf builds the hidden works of the three worlds.
func worldsOf(t *testing.T, e *check.Engine) [3]hiddenWorks {
	t.Helper()
	depotAt := at(area, -900, 300)
	depot := &zone.Component{ID: uuid.MustParse("5ec0e700-0000-4000-8000-00000000d001"), Layer: zone.LayerDefenceWorks,
		Kind: zone.KindDepot, Name: "Kho đạn bí mật K9", Code: "KHO-K9X", Classification: zone.Secret,
		FunctionType: zone.FunctionC, Group: zone.GroupI, Synthetic: true,
		Geometry: square(depotAt, 80),
		Zones: []zone.ProtectionZone{
			{Kind: zone.RestrictedArea, Geometry: square(depotAt, 135), Decision: "12/QĐ-BQP", DecisionDate: "2024-03-01"},
			{Kind: zone.SafetyBelt, WidthM: 500},
		}}
	postAt := at(area, 3800, -2600)
	post := &zone.Component{ID: uuid.MustParse("5ec0e700-0000-4000-8000-00000000d002"), Layer: zone.LayerDefenceWorks,
		Kind: zone.KindCommandPost, Name: "Sở chỉ huy bí mật S1", Code: "SCH-S1X", Classification: zone.Secret,
		FunctionType: zone.FunctionA, Synthetic: true, Geometry: postAt,
		Zones: []zone.ProtectionZone{{Kind: zone.ProtectedArea, WidthM: 300}}}
	r0 := at(area, -5200, 4300)
	route := &zone.Component{ID: uuid.MustParse("5ec0e700-0000-4000-8000-00000000d003"), Layer: zone.LayerPatrolRoutes,
		Kind: "patrol_route", Name: "Đường tuần tra bí mật TT-B1", Code: "TT-B1X", Classification: zone.Secret, Synthetic: true,
		Geometry: orb.LineString{r0, at(r0, 1700, 900), at(r0, 3100, 1150), at(r0, 4200, 700)}}
	a := hiddenWorks{depot, post, route}

	var b hiddenWorks
	for i, c := range a {
		m, d := farthestMove(t, e, c, 2500)
		b[i] = m
		t.Logf("world b: %s moved %.0f m within its cells", c.Name, d)
	}

	var c hiddenWorks
	c[0] = sameCellsAs(t, e, depot, func(i int) *zone.Component {
		u, v := lattice(i)
		p := at(depotAt, (u-0.5)*1600, (v-0.5)*1600)
		h := 40 + 90*u
		return &zone.Component{ID: uuid.MustParse("5ec0e700-0000-4000-8000-00000000c001"), Layer: zone.LayerCombatBases,
			Kind: "combat_base", Name: "Căn cứ chiến đấu bí mật C7", Code: "CC-C7X", Classification: zone.Secret,
			FunctionType: zone.FunctionA, Group: zone.GroupII, Synthetic: true,
			Geometry: orb.Polygon{{at(p, -h, -h), at(p, h, -h/2), at(p, h/3, h), at(p, -h, -h)}},
			Zones: []zone.ProtectionZone{
				{Kind: zone.RestrictedArea, Geometry: square(p, h+55), Decision: "7/QĐ-QK1", DecisionDate: "2023-11-20"},
				{Kind: zone.SafetyBelt, WidthM: 300 + 400*v},
			}}
	})
	home := e.Grid().Bound(e.Grid().CellAt(postAt))
	c[1] = sameCellsAs(t, e, post, func(i int) *zone.Component {
		u, v := lattice(i)
		w := 100 + 500*math.Mod(float64(i)*0.618034, 1)
		return &zone.Component{ID: uuid.MustParse("5ec0e700-0000-4000-8000-00000000c002"), Layer: zone.LayerCombatBases,
			Kind: "combat_base", Name: "Căn cứ bí mật C8", Code: "CC-C8X", Classification: zone.Secret, Synthetic: true,
			Geometry: orb.Point{home.Min[0] + u*(home.Max[0]-home.Min[0]), home.Min[1] + v*(home.Max[1]-home.Min[1])},
			Zones:    []zone.ProtectionZone{{Kind: zone.ProtectedArea, WidthM: w}}}
	})
	c[2] = sameCellsAs(t, e, route, func(i int) *zone.Component {
		u, v := lattice(i)
		s := at(r0, (u-0.5)*1200, (v-0.5)*1200)
		return &zone.Component{ID: uuid.MustParse("5ec0e700-0000-4000-8000-00000000c003"), Layer: zone.LayerPatrolRoutes,
			Kind: "patrol_route", Name: "Đường tuần tra bí mật TT-B2", Code: "TT-B2X", Classification: zone.Secret, Synthetic: true,
			Geometry: orb.LineString{s, at(s, 2000, 400+300*u), at(s, 4100, 500+400*v)}}
	})
	return [3]hiddenWorks{a, b, c}
}

// baseComponents is what every world holds: visible components of each
// clearance around the hidden works, a border line, and a secret work
// that stays put.
func baseComponents() []*zone.Component {
	pt := func(dx, dy float64) orb.Point { return at(area, dx, dy) }
	return []*zone.Component{
		{Layer: zone.LayerBorderLines, Kind: "land_border", Name: "Biên giới thử nghiệm", Code: "BL-1", Classification: zone.Public,
			Geometry: orb.LineString{pt(-9000, 9000), pt(0, 9600), pt(9000, 9200)}, Properties: map[string]any{"province": "Lạng Sơn"}},
		{Layer: zone.LayerBorderMarkers, Kind: "border_marker", Name: "Mốc 1001", Code: "M1001", Classification: zone.Public, Geometry: pt(-2000, 8900)},
		{Layer: zone.LayerCommuneHQs, Name: "Trụ sở Ban CHQS xã Tân Thanh", Classification: zone.Public, Geometry: pt(400, -300)},
		{Layer: zone.LayerCombatBases, Kind: "combat_base", Name: "Căn cứ công khai A1", Code: "A1", Classification: zone.Public,
			Geometry: square(pt(2500, 1800), 120)},
		{Layer: zone.LayerDefenceWorks, Kind: zone.KindObservationPost, Name: "Đài quan sát nội bộ Q2", Code: "Q2", Classification: zone.Internal,
			Geometry: pt(-300, -1500), Zones: []zone.ProtectionZone{{Kind: zone.RestrictedArea, WidthM: 55}}},
		{Layer: zone.LayerDefenceWorks, Kind: zone.KindCommandPost, Name: "Sở chỉ huy hạn chế R3", Code: "R3", Classification: zone.Restricted,
			Geometry: pt(1200, 2600), Zones: []zone.ProtectionZone{{Kind: zone.ProtectedArea, WidthM: 250}}},
		{Layer: zone.LayerPatrolRoutes, Kind: "patrol_route", Name: "Đường tuần tra nội bộ TT-N1", Code: "TT-N1", Classification: zone.Internal,
			Geometry: orb.LineString{pt(-6000, 7000), pt(-2000, 7600), pt(3000, 7300)}},
		{Layer: zone.LayerDefenceWorks, Kind: zone.KindAntennaField, Name: "Trận địa ăng-ten mật A9", Code: "AF9", Classification: zone.Secret,
			Geometry: pt(-7000, -6000)},
	}
}

// worldServer is one world: its store and a real server on it.
type worldServer struct {
	url   string
	store zone.Store
	index *index.Index
	stop  func()
}

// serve starts a server on st with an index following it (anonymous
// reads allowed). stop ends it and waits for the index's follower.
func serve(t *testing.T, st zone.Store, cfg httpapi.Config) *worldServer {
	t.Helper()
	return serveDeps(t, st, cfg, nil)
}

// serveDeps is serve with the tile service tileService makes (nil: the
// server's default).
func serveDeps(t *testing.T, st zone.Store, cfg httpapi.Config, tileService func(*index.Index) *tiles.Service) *worldServer {
	t.Helper()
	ix := index.New()
	ctx, cancel := context.WithCancel(context.Background())
	if err := ix.Load(ctx, st); err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = ix.Follow(ctx, st, nil) })
	active, err := check.NewActive(ctx, st)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cfg.PublicRead, cfg.Version = true, "test"
	// Tokens are trusted for a few seconds once looked up, as zoneplan
	// serve does.
	deps := httpapi.Deps{Store: st, Index: ix, Rules: active, Config: cfg,
		Auth: &auth.Authenticator{Tokens: st, PublicRead: true, CacheTTL: 5 * time.Second}}
	if tileService != nil {
		deps.Tiles = tileService(ix)
	}
	srv := httptest.NewServer(httpapi.NewServer(deps))
	var once sync.Once
	w := &worldServer{url: srv.URL, store: st, index: ix}
	w.stop = func() {
		once.Do(func() {
			srv.Close()
			cancel()
			wg.Wait()
		})
	}
	t.Cleanup(w.stop)
	return w
}

// storeKind opens stores of one kind: a fresh base, and copies of it.
type storeKind struct {
	name string
	// fresh returns an empty store and a handle naming it for copy.
	fresh func(t *testing.T) (zone.Store, string)
	// copyOf returns a new store holding a copy of the closed store named by handle.
	copyOf func(t *testing.T, handle string) zone.Store
}

func storeKinds() []storeKind {
	return []storeKind{
		{name: "embedded",
			fresh: func(t *testing.T) (zone.Store, string) {
				path := filepath.Join(t.TempDir(), "base.db")
				return openEmbedded(t, path), path
			},
			copyOf: func(t *testing.T, path string) zone.Store {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				cp := filepath.Join(t.TempDir(), "world.db")
				if err := os.WriteFile(cp, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return openEmbedded(t, cp)
			}},
		{name: "postgis",
			fresh: func(t *testing.T) (zone.Store, string) {
				dsn := pgtest.New(t)
				if err := postgis.Migrate(context.Background(), dsn, nil); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				return openPostGIS(t, dsn), dsn
			},
			copyOf: func(t *testing.T, dsn string) zone.Store { return openPostGIS(t, pgtest.Clone(t, dsn)) }},
	}
}

func openEmbedded(t *testing.T, path string) zone.Store {
	t.Helper()
	st, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostGIS(t *testing.T, dsn string) zone.Store {
	t.Helper()
	st, err := postgis.Open(context.Background(), dsn, postgis.Options{})
	if err != nil {
		t.Fatalf("postgis.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// caller is one token of the base store.
type caller struct {
	name      string
	role      zone.Role
	clearance zone.Classification
	token     string // "" for an anonymous caller
}

// base is what the worlds share.
type base struct {
	callers    []caller
	admin      string            // an admin token (secret clearance)
	components []*zone.Component // as stored
	tokenIDs   []string
	built      time.Time // after the base was written, before any world's hidden works
}

// buildBase writes the shared data into st: tokens, components, and an
// appraisal that an admin publishes (its project site visible to all).
func buildBase(t *testing.T, st zone.Store, callers []caller) *base {
	t.Helper()
	ctx := context.Background()
	b := &base{}
	for _, c := range callers {
		if c.role == "" {
			b.callers = append(b.callers, c)
			continue
		}
		secret, tok, err := auth.Issue(ctx, st, c.name, c.role, c.clearance, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c.token = secret
		b.callers = append(b.callers, c)
		b.tokenIDs = append(b.tokenIDs, tok.ID.String())
	}
	secret, tok, err := auth.Issue(ctx, st, "admin", zone.RoleAdmin, zone.Secret, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.admin = secret
	b.tokenIDs = append(b.tokenIDs, tok.ID.String())
	for _, c := range baseComponents() {
		c.Synthetic = true
		if _, err := st.CreateComponent(ctx, c, "base"); err != nil {
			t.Fatalf("base component %s: %v", c.Name, err)
		}
	}
	// A published project site and an unpublished one, made as the API
	// makes them (appraisals by the admin).
	srv := serve(t, st, httpapi.Config{})
	for i, name := range []string{"Nhà máy xi măng công bố", "Khu dân cư chưa công bố"} {
		fp := geomJSON(square(at(area, -1500+3000*float64(i), -700), 150))
		status, _, body := send(t, http.MethodPost, srv.url+"/api/appraisals", secret,
			[]byte(`{"name":"`+name+`","investor":"Công ty thử nghiệm","kind":"factory","footprint":`+fp+`}`))
		if status != http.StatusCreated {
			t.Fatalf("base appraisal: %d %s", status, body)
		}
		if i == 0 {
			id := jsonField(t, body, "id")
			if status, _, body := send(t, http.MethodPost, srv.url+"/api/appraisals/"+id+"/publish", secret, nil); status != http.StatusOK {
				t.Fatalf("publish: %d %s", status, body)
			}
		}
	}
	srv.stop()
	if err := st.ListComponents(ctx, zone.Query{Clearance: zone.Secret}, func(c *zone.Component) error {
		b.components = append(b.components, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b.built = time.Now()
	return b
}

// world is one world's server.
type world struct {
	*worldServer
	name string
}

// openWorlds builds the base once on a store of kind k, copies it once per
// world and adds each world's hidden works. Its servers draw tiles with
// topt when given (else the default tile service).
func openWorlds(t *testing.T, k storeKind, callers []caller, hidden [][]*zone.Component, cfg httpapi.Config, topt *tiles.Options) (*base, []*world) {
	t.Helper()
	st, handle := k.fresh(t)
	b := buildBase(t, st, callers)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var ws []*world
	for i, h := range hidden {
		wst := k.copyOf(t, handle)
		addHidden(t, wst, h)
		var tileService func(*index.Index) *tiles.Service
		if topt != nil {
			tileService = func(ix *index.Index) *tiles.Service { return tiles.New(ix, *topt) }
		}
		ws = append(ws, &world{worldServer: serveDeps(t, wst, cfg, tileService), name: string(rune('a' + i))})
	}
	return b, ws
}

// addHidden writes cs into st, a layer at a time, in the order of their
// layers' first appearance.
func addHidden(t *testing.T, st zone.Store, cs []*zone.Component) {
	t.Helper()
	var layers []string
	byLayer := map[string][]*zone.Component{}
	for _, c := range cs {
		if _, ok := byLayer[c.Layer]; !ok {
			layers = append(layers, c.Layer)
		}
		byLayer[c.Layer] = append(byLayer[c.Layer], c.Clone())
	}
	for _, l := range layers {
		if _, err := st.ImportComponents(context.Background(), l, byLayer[l], zone.ImportOptions{By: "hidden"}); err != nil {
			t.Fatalf("hidden works of %s: %v", l, err)
		}
	}
}

// defaultEngine is the engine of the default rule set, the one the
// worlds' servers run.
func defaultEngine() *check.Engine { return check.New(rules.Default()) }

func jsonField(t *testing.T, body []byte, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	s, _ := m[field].(string)
	return s
}
