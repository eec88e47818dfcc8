package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/tidwall/geodesic"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The bound an uncleared caller is held to, from the construction of the
// consultation areas (package consult): its answers depend on a hidden
// work only through the work's consultation cells, and those depend on
// the work's position only through the cell holding the centre of its
// box (its anchor cell, at least CellM × CellM). So whatever it asks, and
// however often, every position of the work whose box centre lies in the
// same cell is consistent with every answer: the region it can narrow the
// work down to contains a whole cell, at least CellM (2 km) across in each
// direction, and no estimate is sure to be within CellM/√2 (1.41 km) of
// the work.

// depotAt is a secret ammunition depot (a point with a provisional
// 500 m safety belt: a reach of about 1,040 m) at p.
func depotAt(p orb.Point) *zone.Component {
	return &zone.Component{ID: uuid.MustParse("5ec0e700-0000-4000-8000-0000000a0001"), Layer: zone.LayerDefenceWorks,
		Kind: zone.KindDepot, Name: "Kho vũ khí K1 (tổng hợp)", Code: "K1-ATK", Classification: zone.Secret,
		FunctionType: zone.FunctionC, Group: zone.GroupI, Synthetic: true, Geometry: p,
		Zones: []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 500}}}
}

// consistentExtent walks from c's position east and west, then north and
// south, in steps of step metres up to limit, while the consultation
// cells stay c's: the extent, in metres, of the positions an attacker who
// knows c's cells (and everything else about c) cannot tell from c's own,
// along each axis through it.
func consistentExtent(e *check.Engine, c *zone.Component, step, limit float64) (ew, ns float64) {
	want := cellsOf(e, c)
	walk := func(dx, dy float64) float64 {
		d := 0.0
		for d+step <= limit && cellsOf(e, shifted(c, dx*(d+step), dy*(d+step))) == want {
			d += step
		}
		return d
	}
	return walk(1, 0) + walk(-1, 0), walk(0, 1) + walk(0, -1)
}

// worstPlacement places the depot at a lattice of points over one cell and
// returns the placement whose consistent region is narrowest, with its
// extents.
func worstPlacement(t *testing.T, e *check.Engine) (p orb.Point, ew, ns float64) {
	t.Helper()
	g := e.Grid()
	var cell consult.Cell
	g.Cover(orb.Bound{Min: area, Max: area}, func(c consult.Cell) { cell = c })
	b := g.Bound(cell)
	worst := math.Inf(1)
	const n = 9
	for i := range n {
		for j := range n {
			q := orb.Point{b.Min[0] + (float64(i)+0.5)/n*(b.Max[0]-b.Min[0]), b.Min[1] + (float64(j)+0.5)/n*(b.Max[1]-b.Min[1])}
			x, y := consistentExtent(e, depotAt(q), 10, 3*g.CellM)
			if math.Min(x, y) < worst {
				worst, p, ew, ns = math.Min(x, y), q, x, y
			}
		}
	}
	return p, ew, ns
}

// TestConsultationBound checks the bound from the construction alone: for
// a depot placed anywhere in a cell (a 9 × 9 lattice of placements), the
// positions with the same consultation cells span at least a cell in
// each direction.
func TestConsultationBound(t *testing.T) {
	e := defaultEngine()
	cellM := e.Grid().CellM
	_, ew, ns := worstPlacement(t, e)
	t.Logf("narrowest consistent region over the placements: %.0f m east-west, %.0f m north-south (cell %.0f m)", ew, ns, cellM)
	if ew < cellM-20 || ns < cellM-20 {
		t.Fatalf("a depot's consultation cells pin it to %.0f m × %.0f m, finer than the %.0f m cell", ew, ns, cellM)
	}
}

// attacker is an uncleared appraiser asking checks over HTTP and noting
// every question and answer.
type attacker struct {
	t       *testing.T
	url     string
	token   string
	asked   []string
	answers []string
}

// ask checks body and returns the answer's referral flags: the whole
// request's, then each feature's (for a FeatureCollection).
func (a *attacker) ask(body string) (bool, []bool) {
	a.t.Helper()
	status, _, resp := send(a.t, http.MethodPost, a.url+"/api/check", a.token, []byte(body))
	if status != http.StatusOK {
		a.t.Fatalf("check: %d %s", status, resp)
	}
	a.asked = append(a.asked, body)
	a.answers = append(a.answers, withoutTook(string(resp)))
	var r struct {
		Findings []check.Finding `json:"findings"`
		Features []struct {
			Findings []check.Finding `json:"findings"`
		} `json:"features"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		a.t.Fatal(err)
	}
	referred := func(fs []check.Finding) bool {
		for _, f := range fs {
			if f.Referral() {
				return true
			}
			a.t.Fatalf("a finding other than the referral: %+v", f)
		}
		return false
	}
	var each []bool
	for _, f := range r.Features {
		each = append(each, referred(f.Findings))
	}
	return referred(r.Findings), each
}

func boxPolygon(b orb.Bound) orb.Polygon {
	return orb.Polygon{{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}
}

func pointsCollection(ps []orb.Point) string {
	fs := make([]string, len(ps))
	for i, p := range ps {
		fs[i] = `{"type":"Feature","properties":{},"geometry":` + geomJSON(p) + `}`
	}
	return featureCollection(fs)
}

func geodesicM(a, b orb.Point) float64 {
	var s float64
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s, nil, nil)
	return s
}

// TestBisectionAttack runs the attack of issue 11 with a public-clearance
// appraiser token over HTTP against a secret depot placed where the
// construction pins it down most narrowly: halving a box and keeping the
// half that still draws a referral; then a FeatureCollection grid of 1,600
// points around what that found (the picture attack); then one point in
// every cell around it, which gives the attacker the exact set of cells.
// Knowing the construction, the rule set and the depot's kind and zones
// (all but its position), the attacker then lists the positions consistent
// with everything it saw. The test fails if that region is narrower than
// a cell in either direction, and if the same questions get any other
// answer in a world where the depot is moved to the consistent position
// farthest from where it is.
func TestBisectionAttack(t *testing.T) {
	e := defaultEngine()
	g := e.Grid()
	truth, _, _ := worstPlacement(t, e)
	depot := depotAt(truth)

	world := func(c *zone.Component) *worldServer {
		st := openEmbedded(t, t.TempDir()+"/attack.db")
		if _, err := st.CreateComponent(t.Context(), c.Clone(), "hidden"); err != nil {
			t.Fatal(err)
		}
		return serve(t, st, httpapi.Config{})
	}
	w := world(depot)
	tok := tokenOn(t, w, zone.RoleAppraiser, zone.Public)
	atk := &attacker{t: t, url: w.url, token: tok}

	// 1. Bisection, from a 40 km box.
	b := square(area, 20_000).Bound()
	if ok, _ := atk.ask(geomJSON(boxPolygon(b))); !ok {
		t.Fatal("the first box draws no referral: the depot is not in the world")
	}
	for {
		wM := (b.Max[0] - b.Min[0]) * mPerDegLon
		hM := (b.Max[1] - b.Min[1]) * mPerDegLat
		if math.Max(wM, hM) < 1 {
			break
		}
		lo, hi := b, b
		if wM >= hM {
			mid := (b.Min[0] + b.Max[0]) / 2
			lo.Max[0], hi.Min[0] = mid, mid
		} else {
			mid := (b.Min[1] + b.Max[1]) / 2
			lo.Max[1], hi.Min[1] = mid, mid
		}
		okLo, _ := atk.ask(geomJSON(boxPolygon(lo)))
		okHi, _ := atk.ask(geomJSON(boxPolygon(hi)))
		switch {
		case okLo:
			b = lo
		case okHi:
			b = hi
		default:
			t.Fatal("neither half of a referred box is referred")
		}
	}
	estimate := b.Center()
	t.Logf("bisection: %d checks end %.0f m from the depot", len(atk.asked), geodesicM(estimate, truth))

	// 2. The picture: 40 × 40 points, 100 m apart, around the estimate.
	var grid []orb.Point
	for i := range 40 {
		for j := range 40 {
			grid = append(grid, at(estimate, -1950+100*float64(i), -1950+100*float64(j)))
		}
	}
	_, picture := atk.ask(pointsCollection(grid))
	// The picture is of cells, nothing finer: a point is referred exactly
	// when it touches one of the depot's cells.
	area := consult.Area{}
	reach, _ := e.Reach(depot)
	for k := range g.Covering(reach, depot.Geometry) {
		area[k] = struct{}{}
	}
	inCells := func(p orb.Point) bool {
		in := false
		g.Cover(orb.Bound{Min: p, Max: p}, func(c consult.Cell) {
			if _, ok := area[c.Key()]; ok {
				in = true
			}
		})
		return in
	}
	for i, p := range grid {
		if picture[i] != inCells(p) {
			t.Fatalf("grid point %v: referred %v, but it is in the depot's cells: %v", p, picture[i], inCells(p))
		}
	}

	// 3. One point inside each cell of the 15 × 15 around the estimate:
	// the exact set of cells.
	var home consult.Cell
	g.Cover(orb.Bound{Min: estimate, Max: estimate}, func(c consult.Cell) { home = c })
	var centres []orb.Point
	var cells []consult.Cell
	for dr := int32(-7); dr <= 7; dr++ {
		row := home.Row + dr
		hb := g.Bound(consult.Cell{Row: row, Col: 0})
		col0 := int32(math.Floor(estimate[0] / (hb.Max[0] - hb.Min[0])))
		for dc := int32(-7); dc <= 7; dc++ {
			c := consult.Cell{Row: row, Col: col0 + dc}
			cells = append(cells, c)
			centres = append(centres, g.Bound(c).Center())
		}
	}
	_, seen := atk.ask(pointsCollection(centres))
	var observed []string
	for i, c := range cells {
		if seen[i] {
			observed = append(observed, fmt.Sprintf("%d:%d", c.Row, c.Col))
		}
	}
	if got, want := strings.Join(observed, " ")+" ", cellsOf(e, depot); got != want {
		t.Fatalf("the attacker's map of cells %q is not the depot's %q", got, want)
	}

	// 4. The positions consistent with what it saw: every lattice point
	// (25 m) within 5 km of the estimate where the depot would have the
	// cells it saw.
	var region []orb.Point
	rb := orb.Bound{Min: truth, Max: truth}
	want := cellsOf(e, depot)
	for dx := -5000.0; dx <= 5000; dx += 25 {
		for dy := -5000.0; dy <= 5000; dy += 25 {
			p := at(estimate, dx, dy)
			if cellsOf(e, depotAt(p)) == want {
				region = append(region, p)
				rb = rb.Extend(p)
			}
		}
	}
	// Measured on the ellipsoid along the region's southern and western
	// edges; the lattice may fall short of the region by a step each side.
	ewM := geodesicM(rb.Min, orb.Point{rb.Max[0], rb.Min[1]})
	nsM := geodesicM(rb.Min, orb.Point{rb.Min[0], rb.Max[1]})
	far := truth
	for _, p := range region {
		if geodesicM(p, truth) > geodesicM(far, truth) {
			far = p
		}
	}
	t.Logf("%d checks (%d feature points); the consistent region spans %.0f m × %.0f m; the farthest consistent position is %.0f m from the depot",
		len(atk.asked), len(grid)+len(centres)+len(atk.asked)-2, ewM, nsM, geodesicM(far, truth))
	if ewM < g.CellM-50 || nsM < g.CellM-50 {
		t.Errorf("LEAK: the attacker narrows the depot down to %.0f m × %.0f m, finer than the %.0f m cell", ewM, nsM, g.CellM)
	}
	if d := geodesicM(far, truth); d < g.CellM/math.Sqrt2-50 {
		t.Errorf("LEAK: every position consistent with the answers is within %.0f m of the depot (a cell allows %.0f m)", d, g.CellM/math.Sqrt2)
	}

	// 5. The same questions, in a world where the depot is at the farthest
	// consistent position, get the same answers.
	moved := world(depotAt(far))
	replay := &attacker{t: t, url: moved.url, token: tokenOn(t, moved, zone.RoleAppraiser, zone.Public)}
	for i, q := range atk.asked {
		replay.ask(q)
		if replay.answers[i] != atk.answers[i] {
			t.Fatalf("question %d is answered differently with the depot %.0f m away:\n%s\n%s", i, geodesicM(far, truth), atk.answers[i], replay.answers[i])
		}
	}
}

// tokenOn issues a token on a world's store.
func tokenOn(t *testing.T, w *worldServer, role zone.Role, c zone.Classification) string {
	t.Helper()
	ts := &testServer{URL: w.url, Store: w.store, Index: w.index}
	return ts.token(t, role, c)
}
