// Package check is zoneplan's conflict checker: it tests a civil project's
// footprint against the defence components near it, rule by rule, and says
// what it finds (conflict, review, notice) with distances and overlap areas
// in metres on the WGS84 ellipsoid, redacting what the caller may not see.
//
// How a check runs: candidates come from the in-memory R-tree (the Source),
// searched with the footprint's box widened by the farthest any rule
// reaches, and are shared out among the cores; each candidate is then
// tested exactly in a transverse Mercator plane centred on the footprint
// (see localTM), and every distance reported is the geodesic (Karney)
// distance between the closest points found there. Touching counts as
// inside. A zone drawn from a width (a provisional width, a rule's
// distance) is the outline of the component's buffer (buffer.go); the
// footprint's part inside a zone (overlap area and geometry) comes from an
// arrangement of the two boundaries (arrangement.go), or from
// simplefeatures' general overlay when they are not in general position.
//
// Secrecy: a check for a caller below a component's classification never
// touches that component. It searches only the trees the caller's scope
// sees (so its work, its time and its answer do not depend on hidden
// works), and asks the index for the consultation cells of the works above
// the caller (package consult): a footprint touching one gets a single
// referral finding (consultation.go). A stored appraisal check is made once
// at full clearance and kept as every clearance would see it (Record).
package check

import (
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	sf "github.com/peterstace/simplefeatures/geom"
	"github.com/tidwall/geodesic"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Source is the set of components a check reads: one consistent snapshot of
// the in-memory index (index.Snapshot).
type Source interface {
	// SearchScope calls fn for every component of every layer in scope sc
	// whose Bound (geometry and approved zone polygons) meets b, until fn
	// returns false; components outside sc are not walked.
	SearchScope(b orb.Bound, sc zone.Scope, fn func(*zone.Component) bool)
	// Candidates is SearchScope that also gives each component's box from
	// the index, which contains c.Bound() (and may be a little larger): a
	// polygon's own Bound walks every vertex of it and of its zones.
	Candidates(b orb.Bound, sc zone.Scope, fn func(c *zone.Component, box orb.Bound) bool)
	// MaxZoneWidthIn is the largest provisional zone width of the
	// components in sc, metres.
	MaxZoneWidthIn(sc zone.Scope) float64
	// Consulted calls fn for the consultation cells meeting b of the works
	// a caller of clearance cl cannot see, until fn returns false.
	Consulted(b orb.Bound, cl zone.Classification, fn func(consult.Cell) bool)
	// Consultation is the grid of those cells and the key of the rule set
	// they were made with (Engine.ConsultationKey); "" when none.
	Consultation() (consult.Grid, string)
	// Version is the store's data version; View identifies what scope sc
	// sees (index.Snapshot.View).
	Version() int64
	View(sc zone.Scope) string
	// Coverage is where each layer's data is complete; nil: not known, and
	// then a check does not assess it (never says incomplete).
	Coverage() *coverage.Set
}

// touchSlackM absorbs floating-point error in "distance <= width" tests so
// that a footprint placed exactly on a zone's edge counts as inside, metres.
const touchSlackM = 1e-3

// Engine checks footprints against one rule set. Its only mutable state is
// the cache of zone outlines it may be given (WithOutlines); it is safe for
// concurrent use.
type Engine struct {
	rs       *rules.RuleSet
	byLayer  map[string]*layerRules
	grid     consult.Grid
	key      string
	outlines *Outlines
	land     *territory // where border belts lie; nil: Vietnam's (territory.go)
	layers   []string   // the layers some rule tests: those whose coverage a check needs
	// areasOnly: findings carry overlap areas but no overlap geometry
	// (WithoutOverlapGeometry)
	areasOnly bool
}

// New returns an engine for rule set rs (validated by rules.Parse), which
// keeps no outlines (see WithOutlines).
func New(rs *rules.RuleSet) *Engine {
	e := &Engine{rs: rs, byLayer: map[string]*layerRules{}, grid: consult.NewGrid(rs.Consultation.CellM), layers: rs.Layers()}
	e.key = rs.Version + "/" + strconv.FormatFloat(e.grid.CellM, 'g', -1, 64)
	for i := range rs.Rules {
		r := &rs.Rules[i]
		for _, l := range r.AppliesTo.Layers {
			lr := e.byLayer[l]
			if lr == nil {
				lr = &layerRules{}
				e.byLayer[l] = lr
			}
			lr.rules = append(lr.rules, r)
			lr.reach = max(lr.reach, r.MaxDistanceM()+rs.Tolerance(r))
		}
	}
	return e
}

// WithOutlines returns a copy of the engine that keeps zone outlines in o
// (nil: builds them for every check).
func (e *Engine) WithOutlines(o *Outlines) *Engine {
	c := *e
	c.outlines = o
	return &c
}

// WithoutOverlapGeometry returns a copy of the engine whose findings carry
// their overlap areas but no overlap geometry (Finding.Overlap nil): the
// answer to a caller who asked for none (?geometry=none), spared the
// rings' way back to lon/lat and their bytes. Verdicts, distances and
// areas are those of the engine with geometry.
func (e *Engine) WithoutOverlapGeometry() *Engine {
	c := *e
	c.areasOnly = true
	return &c
}

// Outlines returns the engine's cache of zone outlines (nil if none).
func (e *Engine) Outlines() *Outlines { return e.outlines }

// RuleSet returns the rule set the engine applies.
func (e *Engine) RuleSet() *rules.RuleSet { return e.rs }

// Check tests one footprint for a caller. Components the caller may see
// are reported in full; those above the caller's clearance are not looked
// at: the consultation cells standing for them give one referral finding
// when the footprint touches one (see consultation.go).
func (e *Engine) Check(src Source, fp Footprint, caller zone.Principal) Result {
	start := time.Now()
	cl := caller.Clearance
	fs, stats := e.findings(src, &fp, zone.ScopeOf(cl))
	res := e.header(src, cl)
	res.Footprint = stats
	cells := e.referred(src, fp.Geometry, cl)
	res.Verdict, res.Findings = e.render(fs, cl, len(cells) > 0, e.uncovered(src, fp.Geometry, cl))
	res.Consulted = consulted(&fp, cells)
	res.TookMS = ms(time.Since(start))
	return res
}

// header is a result's versions as a caller of clearance cl may know
// them: the store's data version only for a caller who sees everything.
func (e *Engine) header(src Source, cl zone.Classification) Result {
	res := Result{RulesetVersion: e.rs.Version, DataView: src.View(zone.ScopeOf(cl))}
	if cl >= zone.Secret {
		res.DataVersion = src.Version()
	}
	return res
}

// CheckAll tests every footprint of a request. For a FeatureCollection
// (see Collection) the result has one entry per feature in Features, and
// the top-level verdict and findings are those of the whole: every
// component-rule pair once, with the worst verdict and shortest distance
// any feature gave it, and one referral when any feature has one. A single
// footprint gives the same as Check.
func (e *Engine) CheckAll(src Source, fps []Footprint, caller zone.Principal) Result {
	if !Collection(fps) {
		return e.Check(src, fps[0], caller)
	}
	start := time.Now()
	cl := caller.Clearance
	res := e.header(src, cl)
	res.Features = make([]FeatureResult, 0, len(fps))
	var all []*finding
	anyReferred := false
	var missing []string // layers not covering some feature
	for i := range fps {
		fp := &fps[i]
		fs, stats := e.findings(src, fp, zone.ScopeOf(cl))
		all = append(all, fs...)
		cells := e.referred(src, fp.Geometry, cl)
		anyReferred = anyReferred || len(cells) > 0
		res.Consulted = append(res.Consulted, consulted(fp, cells)...)
		fr := FeatureResult{Index: fp.Index, Footprint: stats}
		miss := e.uncovered(src, fp.Geometry, cl)
		missing = append(missing, miss...)
		fr.Verdict, fr.Findings = e.render(fs, cl, len(cells) > 0, miss)
		res.Footprint.AreaM2 += fr.Footprint.AreaM2
		res.Footprint.LengthM += fr.Footprint.LengthM
		res.Features = append(res.Features, fr)
	}
	res.Verdict, res.Findings = e.render(mergeFindings(all), cl, anyReferred, e.inOrder(missing))
	res.TookMS = ms(time.Since(start))
	return res
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// finding is one rule matched by one component, before rendering.
type finding struct {
	comp        *zone.Component
	rule        *rules.Rule
	verdict     rules.Verdict
	escalated   rules.Verdict // the rule's verdict when escalation raised it
	tolerance   bool          // outside the zone, within the edge tolerance
	provisional bool          // the zone tested is a provisional width
	distanceM   float64       // to the component's own geometry, geodesic
	overlapM2   float64       // footprint area inside the zone
	overlap     orb.Geometry  // footprint part inside the zone, WGS84; nil if none
}

// footprintRun is one footprint prepared in its own plane.
type footprintRun struct {
	e     *Engine
	cl    zone.Classification // the caller's: the outline cache's part
	fp    *Footprint
	proj  localTM
	ll    orb.Bound // lon/lat bound
	shape *shape
	xy    orb.Geometry // projected
	sfg   *sf.Geometry // projected, simplefeatures; built on first overlap

	planarShape *shape             // projected, polygons included; built on first overlap
	prepared    *preparedFootprint // projected, for zoneOverlap; built on first overlap
	work        *workspace         // from workspaces, while the run works

	imaged  *zone.Component // the component whose image imageXY is
	imageXY orb.Geometry

	landDone bool       // landXY computed
	landXY   *landPatch // the territory near the footprint (territory.go)
}

// workspace holds the buffers a check's geometry works in: reused from one
// component to the next and, through workspaces, from one check to the
// next, so that a check allocates little more than its result. (Garbage
// costs twice on a server holding 100,000 components: each collection
// scans them all, and checks running meanwhile slow down.)
type workspace struct {
	outlines offsetCurves      // buffer outlines
	zoneXY   planeBuffer       // a kept outline in the footprint's plane
	rules    []*rules.Rule     // the rules that apply to a candidate
	prepared preparedFootprint // the footprint's side of the overlays
	near     shape             // a component's shape, for distances
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// footprintShapes keeps footprint shapes (a 200-vertex footprint's is
// 10 KB) from one check to the next.
var footprintShapes = sync.Pool{New: func() any { return new(shape) }}

// findings tests one footprint against every component of scope sc within
// reach, and measures it. The candidates are shared out among up to GOMAXPROCS
// workers, each with its own workspace, so that a check near many
// components (thirty findings, each an overlay) takes a fraction of its
// time on an otherwise idle server; under load the other cores are busy
// with other checks and the helpers find little left to take. Findings
// come out in the candidates' order whoever computed them.
func (e *Engine) findings(src Source, fp *Footprint, sc zone.Scope) ([]*finding, FootprintStats) {
	ll := fp.Geometry.Bound()
	proj := newLocalTM(ll.Center())
	fpShape := footprintShapes.Get().(*shape)
	defer footprintShapes.Put(fpShape)
	xy := proj.project(fp.Geometry)
	run := &footprintRun{e: e, cl: sc.Clearance, fp: fp, proj: proj, ll: ll, shape: fpShape.resetImaged(fp.Geometry, xy), xy: xy}
	run.shape.runs() // built now: the workers share the shape
	reach := e.rs.MaxDistanceM() + src.MaxZoneWidthIn(sc) + e.rs.EdgeToleranceM
	var cands []*zone.Component
	var bounds []orb.Bound
	src.Candidates(widen(ll, reach), sc, func(c *zone.Component, box orb.Bound) bool {
		cands = append(cands, c)
		bounds = append(bounds, box)
		return true
	})
	// Those near the footprint first: they make the findings and the
	// overlays, the rest mostly a distance each, so the workers end
	// together instead of one finishing a heavy component alone.
	order := make([]int32, len(cands))
	near := widen(ll, nearFirstM)
	head, tail := 0, len(cands)
	for i := range cands { // near ones from the front, the rest from the back
		if bounds[i].Intersects(near) {
			order[head], head = int32(i), head+1
		} else {
			tail--
			order[tail] = int32(i)
		}
	}
	per := make([][]*finding, len(cands))
	var next atomic.Int64
	work := func(r *footprintRun) {
		r.work = workspaces.Get().(*workspace)
		defer workspaces.Put(r.work)
		for k := int(next.Add(1) - 1); k < len(order); k = int(next.Add(1) - 1) {
			i := order[k]
			per[i] = r.component(cands[i], bounds[i])
		}
	}
	var helpers sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cands)/candidatesPerWorker+1) - 1 {
		helper := &footprintRun{e: e, cl: sc.Clearance, fp: fp, proj: proj, ll: ll, shape: run.shape, xy: run.xy}
		helpers.Go(func() { work(helper) })
	}
	work(run)
	helpers.Wait()
	var out []*finding
	for _, fs := range per {
		out = append(out, fs...)
	}
	return out, proj.measure(run.xy)
}

// candidatesPerWorker is how many candidates make another worker worth
// starting (a worker costs a goroutine and, on its first overlay, its own
// prepared footprint: tens of microseconds).
const candidatesPerWorker = 8

// nearFirstM: candidates within this many metres of the footprint's box
// are worked on first (the widest common rule distance).
const nearFirstM = 500

// widen grows a lon/lat box by m metres on every side, conservatively:
// a degree of latitude is at least 110,574 m, a degree of longitude at
// least 111,320·cos(lat) m at the box's highest latitude.
func widen(b orb.Bound, m float64) orb.Bound {
	m = m*1.001 + 1
	dLat := m / 110574
	lat := math.Min(89.9, math.Max(math.Abs(b.Min[1]-dLat), math.Abs(b.Max[1]+dLat)))
	dLon := m / (111320 * math.Cos(lat*math.Pi/180))
	return orb.Bound{
		Min: orb.Point{math.Max(-180, b.Min[0]-dLon), math.Max(-90, b.Min[1]-dLat)},
		Max: orb.Point{math.Min(180, b.Max[0]+dLon), math.Min(90, b.Max[1]+dLat)},
	}
}

// geodesicM is the ellipsoidal distance between two points of the plane.
func (r *footprintRun) geodesicM(a, b orb.Point) float64 {
	if a == b {
		return 0
	}
	p, q := r.proj.Inverse(a), r.proj.Inverse(b)
	var s float64
	geodesic.WGS84.Inverse(p[1], p[0], q[1], q[0], &s, nil, nil)
	return s
}

// distanceWithin is the geodesic distance from the footprint to g when it
// is at most radius metres; a larger result only means "farther".
func (r *footprintRun) distanceWithin(g orb.Geometry, radius float64) float64 {
	box := widen(r.ll, radius)
	d, a, b := shapeDistance(r.shape, r.work.near.reset(r.proj, g, &box))
	if d == 0 || math.IsInf(d, 1) {
		return d
	}
	return r.geodesicM(a, b)
}

// distance is the exact geodesic distance from the footprint to g, using
// only g's parts within radius when that is enough.
func (r *footprintRun) distance(g orb.Geometry, radius float64) float64 {
	if d := r.distanceWithin(g, radius); d <= radius {
		return d
	}
	d, a, b := shapeDistance(r.shape, r.work.near.reset(r.proj, g, nil))
	if d == 0 {
		return 0
	}
	return r.geodesicM(a, b)
}

// image is c's geometry in the plane: for points and polygons the whole of
// it, projected once for all of c's rules; for lines only their parts
// within clipM metres of the footprint (a border line runs for hundreds of
// kilometres), along their geodesics (lineImage).
func (r *footprintRun) image(c *zone.Component, clipM float64) orb.Geometry {
	switch c.Geometry.(type) {
	case orb.LineString, orb.MultiLineString:
		return r.lineImage(c.Geometry, clipM)
	}
	if r.imaged != c {
		r.imaged, r.imageXY = c, r.e.outlines.image(r.cl, c, r.proj)
	}
	return r.imageXY
}

// componentDistance is the exact geodesic distance from the footprint to
// c's geometry; for lines, their parts within radius when that is enough.
func (r *footprintRun) componentDistance(c *zone.Component, radius float64) float64 {
	switch c.Geometry.(type) {
	case orb.LineString, orb.MultiLineString:
		return r.distance(c.Geometry, radius)
	}
	d, a, b := shapeDistance(r.shape, r.work.near.resetImaged(c.Geometry, r.image(c, 0)))
	if d == 0 || math.IsInf(d, 1) {
		return d
	}
	return r.geodesicM(a, b)
}

// layerRules are the rules of one layer and the farthest any of them
// reaches beyond a component's geometry and zones (distance and tolerance),
// metres.
type layerRules struct {
	rules []*rules.Rule
	reach float64
}

// applicable lists, into buf, the rules that apply to c and how far the
// farthest of them reaches beyond c's geometry and approved zones, metres
// (its distance or provisional width, plus its edge tolerance).
func (e *Engine) applicable(c *zone.Component, buf []*rules.Rule) ([]*rules.Rule, float64) {
	return e.applicableOf(e.byLayer[c.Layer], c, buf)
}

// applicableOf is applicable with c's layer's rules lr already looked up.
func (e *Engine) applicableOf(lr *layerRules, c *zone.Component, buf []*rules.Rule) ([]*rules.Rule, float64) {
	out := buf[:0]
	reach := 0.0
	if lr == nil {
		return out, 0
	}
	for _, rule := range lr.rules {
		if !rule.AppliesTo.Matches(c) {
			continue
		}
		out = append(out, rule)
		reach = max(reach, rule.Distance(c)+e.rs.Tolerance(rule))
	}
	if len(out) == 0 {
		return out, 0
	}
	return out, reach + c.MaxWidthM()
}

// component evaluates every rule that applies to c, whose Bound is cb.
func (r *footprintRun) component(c *zone.Component, cb orb.Bound) []*finding {
	// a candidate beyond the farthest of its layer's rules is dropped
	// before they are matched one by one
	lr := r.e.byLayer[c.Layer]
	if lr == nil || !cb.Intersects(widen(r.ll, lr.reach+c.MaxWidthM())) {
		return nil
	}
	applicable, reach := r.e.applicableOf(lr, c, r.work.rules)
	r.work.rules = applicable
	if len(applicable) == 0 {
		return nil
	}
	if !cb.Intersects(widen(r.ll, reach)) {
		return nil
	}
	// d0: the distance to the component's own geometry, reported with every
	// finding whatever zone the rule tests.
	d0 := math.NaN()
	dist0 := func() float64 {
		if math.IsNaN(d0) {
			d0 = r.componentDistance(c, reach)
		}
		return d0
	}
	var out []*finding
	for _, rule := range applicable {
		if f := r.apply(c, rule, dist0); f != nil {
			out = append(out, f)
		}
	}
	return out
}

// apply tests one rule on one component; nil when it does not match.
func (r *footprintRun) apply(c *zone.Component, rule *rules.Rule, dist0 func() float64) *finding {
	tol := r.e.rs.Tolerance(rule)
	if rule.Verdict == rules.Notice {
		tol = 0 // a tolerance notice for a notice says nothing new
	}
	f := &finding{comp: c, rule: rule}
	var inside bool
	var overlap func() (float64, orb.Geometry) // the footprint inside the tested zone
	switch rule.Zone {
	case rules.TestComponent:
		d := dist0()
		inside, f.tolerance = d <= touchSlackM, d > touchSlackM && d <= tol+touchSlackM
		overlap = func() (float64, orb.Geometry) {
			if pts := r.pointsTouching(c.Geometry); pts != nil {
				return 0, pts
			}
			own := r.image(c, 1)
			return r.overlapParts(polygonsOf(own), func() (sf.Geometry, error) { return toSF(own), nil })
		}
	case rules.TestRestrictedArea, rules.TestProtectedArea, rules.TestSafetyBelt:
		z, ok := c.Zone(zone.ZoneKind(rule.Zone))
		if ok && z.Approved() {
			d := r.distanceWithin(z.Geometry, tol+1)
			inside, f.tolerance = d <= touchSlackM, d > touchSlackM && d <= tol+touchSlackM
			overlap = func() (float64, orb.Geometry) {
				zxy := r.proj.project(z.Geometry)
				return r.overlapParts(polygonsOf(zxy), func() (sf.Geometry, error) { return toSF(zxy), nil })
			}
			break
		}
		w := rule.DistanceM
		if ok {
			w = z.WidthM
		}
		if w <= 0 {
			return nil
		}
		f.provisional = true
		inside, f.tolerance, overlap = r.within(c, w, tol, dist0)
	case rules.TestBorderBelt:
		// DOMAIN: the belt lies inward from the border line, in Vietnam's
		// territory (territory.go); a footprint with no part there is not
		// in it, whatever its distance to the line.
		var inVietnam bool
		inside, f.tolerance, inVietnam, overlap = r.belt(c, rule.Distance(c), tol, dist0)
		if !inVietnam {
			return nil
		}
	case rules.TestDistance:
		inside, f.tolerance, overlap = r.within(c, rule.Distance(c), tol, dist0)
	}
	if !inside && !f.tolerance {
		return nil
	}
	f.distanceM = dist0()
	if f.tolerance {
		f.verdict = rules.Notice
		return f
	}
	f.verdict = rule.Verdict
	for i := range rule.Escalate {
		if rule.Escalate[i].Applies(r.fp.HeightM, r.fp.Activities) {
			f.verdict = f.verdict.Worse(rule.Escalate[i].To)
		}
	}
	if f.verdict != rule.Verdict {
		f.escalated = rule.Verdict
	}
	if f.provisional {
		// DOMAIN: a conflict found only through a provisional width is at
		// most review; the approved decision may draw the zone smaller.
		f.verdict = f.verdict.AtMost(rules.Review)
		if f.verdict == rule.Verdict {
			f.escalated = ""
		}
	}
	f.overlapM2, f.overlap = overlap()
	if r.e.areasOnly {
		f.overlap = nil
	}
	return f
}

// pointsTouching is the overlap of the footprint with a point geometry g
// (WGS84): the points of g on or in the footprint, as given; nil when g is
// not a point or none touches. Overlaying a point with a 200-vertex polygon
// in simplefeatures costs a third of a millisecond; this, a distance test.
func (r *footprintRun) pointsTouching(g orb.Geometry) orb.Geometry {
	touches := func(q orb.Point) bool {
		return r.distanceWithin(q, touchSlackM) <= touchSlackM
	}
	switch g := g.(type) {
	case orb.Point:
		if touches(g) {
			return g
		}
	case orb.MultiPoint:
		var in orb.MultiPoint
		for _, q := range g {
			if touches(q) {
				in = append(in, q)
			}
		}
		switch len(in) {
		case 0:
		case 1:
			return in[0]
		default:
			return in
		}
	}
	return nil
}

// within tests "within w metres of c's geometry": inside, within the
// tolerance beyond it, and the zone polygon (c buffered by w in the plane).
func (r *footprintRun) within(c *zone.Component, w, tol float64, dist0 func() float64) (bool, bool, func() (float64, orb.Geometry)) {
	d := dist0()
	inside := d <= w+touchSlackM
	nearEdge := !inside && d <= w+tol+touchSlackM
	return inside, nearEdge, func() (float64, orb.Geometry) {
		return r.bufferOverlap(c, w)
	}
}

// bufferOverlap is the area and geometry of the footprint's part within w
// metres of c's geometry: the footprint overlaid with the buffer's outline,
// kept for c and w (outlines.go), or for a line built in the plane from
// its parts that can reach the footprint.
func (r *footprintRun) bufferOverlap(c *zone.Component, w float64) (float64, orb.Geometry) {
	if _, ok := r.fp.Geometry.(orb.Point); ok {
		// inside (the caller knows): a point has no area and is the overlap
		return 0, r.fp.Geometry
	}
	if cacheable(c) {
		zxy := r.e.outlines.outline(r.cl, c, w, &r.work.outlines).in(r.proj, &r.work.zoneXY)
		if len(zxy) == 0 {
			return 0, nil
		}
		return r.overlapParts(zxy, func() (sf.Geometry, error) { return toSF(orb.MultiPolygon(zxy)), nil })
	}
	return r.lineBufferOverlap(c.Geometry, w)
}

// lineBufferOverlap is bufferOverlap for a line g (WGS84), buffered in the
// plane from its parts that can reach the footprint.
func (r *footprintRun) lineBufferOverlap(g orb.Geometry, w float64) (float64, orb.Geometry) {
	outline, z, err := r.bufferZone(r.lineImage(g, w+1), w)
	switch {
	case err != nil:
		return 0, nil
	case outline != nil:
		return r.overlapParts(polygonsOf(outline), func() (sf.Geometry, error) { return toSF(outline), nil })
	}
	return r.overlap(z)
}

// bufferZone is the zone within w metres of near (in the plane): its
// outline (buffer.go), or when that meets input not in general position
// (outline nil) JTS's buffer, with no input simplification (its default
// drops vertices within 1% of w of their neighbours' chord, which moves
// the rim by metres).
func (r *footprintRun) bufferZone(near orb.Geometry, w float64) (outline orb.MultiPolygon, jts sf.Geometry, err error) {
	if outline, ok := r.work.outlines.outline(near, w); ok {
		return outline, sf.Geometry{}, nil
	}
	jts, err = sf.Buffer(toSF(near), w, sf.BufferQuadSegments(quadSegments(w)), sf.BufferSimplifyFactor(0))
	return nil, jts, err
}

// lineImage is the line g (WGS84) in the plane, its parts within clipM
// metres of the footprint only, every long edge split along its geodesic
// (geodesic.go).
func (r *footprintRun) lineImage(g orb.Geometry, clipM float64) orb.Geometry {
	return r.proj.project(geodesicNear(g, widen(r.ll, clipM)))
}

// overlapParts is the area (m²) and the WGS84 geometry (nil if none) of the footprint's
// part inside the union of planar polygons zone: by the arrangement of
// their boundaries when it applies (zoneOverlap), else by simplefeatures'
// overlay with the zone built by general().
func (r *footprintRun) overlapParts(zone []orb.Polygon, general func() (sf.Geometry, error)) (float64, orb.Geometry) {
	if r.prepared == nil {
		r.prepared = r.work.prepared.prepare(r.xy, r.fp.Geometry, r.proj.Inverse)
	}
	if len(zone) > 0 && r.prepared != nil {
		r.prepared.a.areaOnly = r.e.areasOnly
		if area, g, ok := r.prepared.overlap(zone); ok {
			return area, g
		}
	}
	z, err := general()
	if err != nil {
		return 0, nil
	}
	return r.overlap(z)
}

// polygonsOf lists the polygons of a polygonal geometry, nil for other
// geometries.
func polygonsOf(g orb.Geometry) []orb.Polygon {
	switch g := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// planar returns the footprint's shape in the plane (polygons included).
func (r *footprintRun) planar() *shape {
	if r.planarShape == nil {
		r.planarShape = newPlanarShape(r.xy)
	}
	return r.planarShape
}

// sf returns the footprint in the plane as a simplefeatures geometry.
func (r *footprintRun) sf() sf.Geometry {
	if r.sfg == nil {
		g := toSF(r.xy)
		r.sfg = &g
	}
	return *r.sfg
}

// overlap is the area (m²) and the WGS84 geometry of the footprint's part
// inside the zone given in the plane.
func (r *footprintRun) overlap(zoneXY sf.Geometry) (float64, orb.Geometry) {
	if zoneXY.IsEmpty() {
		return 0, nil
	}
	// Most overlaps are trivial (the footprint inside the zone, or the zone
	// inside the footprint); the exact overlay is only for the rest.
	if zg, err := fromSF(zoneXY); err == nil && zg != nil {
		switch relate(r.planar(), newPlanarShape(zg)) {
		case disjoint:
			return 0, nil
		case footprintInside:
			return r.sf().Area(), r.fp.Geometry
		case zoneInside:
			if zoneXY.Dimension() < r.sf().Dimension() {
				break // a line zone inside a polygon: the overlay gives the line
			}
			return zoneXY.Area(), r.proj.unproject(zg)
		}
	}
	return r.planeOverlay(r.sf(), zoneXY)
}

// planeOverlay is the area (m²) and the WGS84 geometry (nil if none) of
// the intersection of a and b, both in the plane.
func (r *footprintRun) planeOverlay(a, b sf.Geometry) (float64, orb.Geometry) {
	in, err := sf.Intersection(a, b)
	if err != nil || in.IsEmpty() {
		return 0, nil
	}
	og, err := fromSF(in)
	if err != nil || og == nil {
		return 0, nil
	}
	return in.Area(), r.proj.unproject(og)
}

// FootprintStats are the footprint's own measures on the ellipsoid.
type FootprintStats struct {
	AreaM2  float64 `json:"area_m2"`  // polygons: geodesic area, holes excluded
	LengthM float64 `json:"length_m"` // lines: length; polygons: perimeter of every ring
}

// measure is the footprint's own measures (g in WGS84).
func measure(g orb.Geometry) FootprintStats {
	p := newLocalTM(g.Bound().Center())
	return p.measure(p.project(g))
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// OverlapDecimals is the number of decimals of a degree an overlap's
// coordinates are given to: 1e-7 degree is at most 1.1 cm, under the
// checker's own agreement with PostGIS on areas; a full float64 (17
// digits) makes an answer half as large again and slower to write.
const OverlapDecimals = 7

// geometryJSON is an overlap as GeoJSON. g is kept as it is (it may be
// the footprint itself): the Overlap rounds as it writes.
func geometryJSON(g orb.Geometry) *Overlap {
	if g == nil {
		return nil
	}
	return &Overlap{g: g}
}
