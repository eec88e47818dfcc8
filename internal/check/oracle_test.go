package check

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The PostGIS oracle: the same components and the same rule set in tables,
// and one SQL query that computes a check's findings with PostGIS
// geography functions on the ellipsoid (ST_Intersects, ST_Distance,
// ST_DWithin, ST_Area of ST_Intersection). Buffers of provisional widths and
// rule distances are built in the footprint's local transverse Mercator
// (passed as a PROJ string), the plane the engine uses, near the true
// circle (oracleQuadSegs).
//
// The border belt is PostGIS's own: the footprint's part in Vietnam's land
// (the base map's polygon, its edges split along great circles every
// 100 m by ST_Segmentize(geography)), within the belt's width of the
// border line, whose edges are split the same way before it is buffered
// in the plane; no part in Vietnam, no belt finding.

const oracleSchema = `
CREATE TABLE oracle_stage (id text, layer text, kind text, function_type text, grp text, province text, wkb bytea);
CREATE TABLE oracle_zone_stage (component_id text, kind text, wkb bytea, width_m float8);
CREATE TABLE oracle_rules (id text PRIMARY KEY, layers text[], kinds text[], function_types text[], groups text[],
  zone text, distance_m float8, tolerance_m float8, verdict text);
CREATE TABLE oracle_rule_provinces (rule_id text, province text, distance_m float8);
CREATE TABLE oracle_escalations (rule_id text, height_above_m float8, activities text[], to_verdict text);
CREATE TABLE oracle_land_stage (wkb bytea);
`

// oracleBuild turns the staged rows into the query tables: each component
// with its geometry, its geography, and the geography of everything it
// reaches without widths (geometry and approved zones), indexed.
const oracleBuild = `
CREATE TABLE oracle_zones AS
  SELECT z.component_id, z.kind, CASE WHEN z.wkb IS NULL THEN NULL ELSE ST_GeomFromWKB(z.wkb, 4326) END AS geom, z.width_m
  FROM oracle_zone_stage z;
CREATE INDEX ON oracle_zones (component_id, kind);
CREATE TABLE oracle_components AS
  SELECT s.id, s.layer, s.kind, s.function_type, s.grp, s.province, g.geom, g.geom::geography AS gg,
         (CASE WHEN a.zones IS NULL THEN g.geom ELSE ST_Collect(g.geom, a.zones) END)::geography AS reach,
         CASE WHEN ST_Dimension(g.geom) = 1 THEN ST_Segmentize(g.geom::geography, 100)::geometry END AS gseg
  FROM oracle_stage s
  CROSS JOIN LATERAL (SELECT ST_GeomFromWKB(s.wkb, 4326) AS geom) g
  LEFT JOIN (SELECT component_id, ST_Collect(geom) AS zones FROM oracle_zones WHERE geom IS NOT NULL GROUP BY component_id) a
    ON a.component_id = s.id;
CREATE INDEX ON oracle_components USING gist (reach);
CREATE TABLE oracle_land AS
  SELECT ST_Subdivide(ST_Segmentize(ST_MakeValid(ST_GeomFromWKB(wkb, 4326))::geography, 100)::geometry, 256) AS geom
  FROM oracle_land_stage;
CREATE INDEX ON oracle_land USING gist (geom);
ANALYZE oracle_components; ANALYZE oracle_zones; ANALYZE oracle_land;
`

// oracleQuery: $1 footprint GeoJSON, $2 search reach in metres, $3 SRID
// of the footprint's plane (registered in spatial_ref_sys from its PROJ
// string, so PostGIS caches the transformation), $4 project height, $5
// activities.
//
// Distances: PostGIS's own ST_Distance(geography) picks the closest pair
// of points on a sphere and then measures that pair on the spheroid; where
// two parts of a component are at nearly the same distance in different
// directions it picks the wrong pair, up to 0.15% long in this test (1.5 m
// at 1.1 km, confirmed against a brute-force geodesic search). So the
// oracle finds the closest pair with GEOS (ST_ShortestLine) in the local
// plane and measures it with ST_Distance on the spheroid; the plain
// geography distance is returned too (pg_d0) and its deviation reported.
var oracleQuery = `
WITH fp AS (
  SELECT g, g::geography AS gg, ST_Transform(g, $3::int) AS gp
  FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) AS g) s
), cand AS (
  SELECT c.*, ST_ShortestLine(fp.gp, ST_Transform(c.geom, $3::int)) AS sl, ST_Distance(c.gg, fp.gg) AS pg_d0
  FROM fp JOIN oracle_components c ON ST_DWithin(c.reach, fp.gg, $2)
), measured AS (
  SELECT c.*, ST_Distance(ST_Transform(ST_StartPoint(c.sl), 4326)::geography, ST_Transform(ST_EndPoint(c.sl), 4326)::geography) AS d0
  FROM cand c
), pairs AS (
  SELECT c.id, c.geom, c.gg, c.gseg, c.d0, c.pg_d0, r.id AS rule_id, r.zone, r.verdict, r.tolerance_m,
         COALESCE(rp.distance_m, r.distance_m) AS dist_m, z.geom AS zgeom, z.width_m AS zwidth
  FROM measured c
  JOIN oracle_rules r ON c.layer = ANY (r.layers)
   AND (cardinality(r.kinds) = 0 OR c.kind = ANY (r.kinds))
   AND (cardinality(r.function_types) = 0 OR c.function_type = ANY (r.function_types))
   AND (cardinality(r.groups) = 0 OR c.grp = ANY (r.groups))
  LEFT JOIN oracle_rule_provinces rp ON rp.rule_id = r.id AND rp.province = c.province
  LEFT JOIN oracle_zones z ON z.component_id = c.id AND z.kind = r.zone
), zoned AS (
  SELECT p.*,
    CASE WHEN p.zone = 'component' THEN 'geometry'
         WHEN p.zgeom IS NOT NULL THEN 'approved'
         WHEN p.zone = 'border_belt' THEN 'belt'
         WHEN p.zwidth IS NOT NULL OR p.dist_m > 0 THEN 'width' END AS how,
    COALESCE(p.zwidth, p.dist_m) AS w
  FROM pairs p
), belted AS (
  SELECT z.*, b.fpin, b.near_line,
    (SELECT ST_Distance(ST_Transform(ST_StartPoint(l), 4326)::geography, ST_Transform(ST_EndPoint(l), 4326)::geography)
       FROM ST_ShortestLine(b.fpin, b.near_line) AS l) AS din
  FROM zoned z, fp
  CROSS JOIN LATERAL (
    SELECT CASE WHEN z.how = 'belt' THEN
             (SELECT ST_Intersection(fp.gp, ST_Transform(ST_Union(t.geom), $3::int)) FROM oracle_land t WHERE t.geom && ST_Expand(fp.g, 0.01))
           END AS fpin,
           CASE WHEN z.how = 'belt' THEN ST_Transform(ST_ClipByBox2D(z.gseg, ST_Expand(fp.g, 0.05)), $3::int) END AS near_line) b
), tested AS (
  SELECT z.*,
    CASE z.how WHEN 'geometry' THEN ST_Intersects(z.gg, fp.gg)
               WHEN 'approved' THEN ST_Intersects(z.zgeom::geography, fp.gg)
               WHEN 'belt' THEN NOT COALESCE(ST_IsEmpty(z.fpin), true) AND z.din <= z.w
               ELSE z.d0 <= z.w END AS inside,
    CASE z.how WHEN 'belt' THEN NOT COALESCE(ST_IsEmpty(z.fpin), true) AND z.din <= z.w + z.tolerance_m
               WHEN 'geometry' THEN z.d0 <= z.tolerance_m
               WHEN 'approved' THEN z.tolerance_m > 0 AND ST_DWithin(z.zgeom::geography, fp.gg, z.tolerance_m + 1) AND
                 (SELECT ST_Distance(ST_Transform(ST_StartPoint(l), 4326)::geography, ST_Transform(ST_EndPoint(l), 4326)::geography)
                    FROM ST_ShortestLine(fp.gp, ST_Transform(z.zgeom, $3::int)) AS l) <= z.tolerance_m
               ELSE z.d0 <= z.w + z.tolerance_m END AS near,
    z.how = 'width' AND z.zone IN ('restricted_area', 'protected_area', 'safety_belt') AS provisional
  FROM belted z, fp WHERE z.how IS NOT NULL
), ranked AS (
  SELECT t.*,
    array_position(ARRAY['clear','notice','review','conflict'], t.verdict) AS base_rank,
    (SELECT max(array_position(ARRAY['clear','notice','review','conflict'], e.to_verdict))
       FROM oracle_escalations e
      WHERE e.rule_id = t.rule_id AND ((e.height_above_m > 0 AND $4::float8 > e.height_above_m) OR e.activities && $5::text[])) AS esc_rank
  FROM tested t WHERE t.inside OR t.near
)
SELECT r.id, r.rule_id,
  (ARRAY['clear','notice','review','conflict'])[CASE WHEN NOT r.inside THEN 2
     ELSE LEAST(GREATEST(r.base_rank, COALESCE(r.esc_rank, 0)), CASE WHEN r.provisional THEN 3 ELSE 4 END) END] AS verdict,
  NOT r.inside AS tolerance, r.provisional, r.d0, r.pg_d0, CASE WHEN r.how IN ('width', 'belt') THEN r.w ELSE 0 END AS w,
  CASE WHEN NOT r.inside THEN 0
       WHEN r.how = 'belt' THEN COALESCE(ST_Area(ST_Transform(ST_Intersection(r.fpin,
              ST_Buffer(r.near_line, r.w, ` + oracleQuadSegs + `)), 4326)::geography), 0)
       WHEN r.how = 'geometry' THEN COALESCE(ST_Area(ST_Intersection(r.gg, fp.gg)), 0)
       WHEN r.how = 'approved' THEN COALESCE(ST_Area(ST_Intersection(r.zgeom::geography, fp.gg)), 0)
       ELSE COALESCE(ST_Area(ST_Transform(ST_Intersection(fp.gp,
              ST_Buffer(ST_Transform(r.geom, $3::int), r.w, ` + oracleQuadSegs + `)), 4326)::geography), 0)
  END AS area
FROM ranked r, fp
`

// oracleQuadSegs: the oracle buffers with 128 chords a quarter circle,
// near the true circle (its chords lie within 2 cm of it at 1 km, and
// lack 2e-5 of a circle's area), so that the engine's arcs are held to
// the law's zone rather than to another approximation of it.
const oracleQuadSegs = `'quad_segs=128'`

type oracleFinding struct {
	comp, rule  string
	verdict     string
	tolerance   bool
	provisional bool
	distanceM   float64
	pgDistanceM float64 // PostGIS's plain ST_Distance(geography)
	widthM      float64 // the width of a zone drawn as a buffer, 0 for a polygon zone
	areaM2      float64
}

type oracle struct {
	dsn   string
	conn  *pgx.Conn
	reach float64
	srids map[string]int // PROJ string -> SRID registered for it
}

// newOracle loads cs and rs into a fresh PostGIS database.
func newOracle(tb testing.TB, cs []*zone.Component, rs *rules.RuleSet, maxZoneWidth float64) *oracle {
	tb.Helper()
	dsn := pgtest.New(tb)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, oracleSchema); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	var crow, zrow [][]any
	for _, c := range cs {
		b, err := wkb.Marshal(c.Geometry)
		if err != nil {
			tb.Fatal(err)
		}
		prov, _ := c.Properties["province"].(string)
		crow = append(crow, []any{c.ID.String(), c.Layer, c.Kind, string(c.FunctionType), string(c.Group), prov, b})
		for _, z := range c.Zones {
			var zb []byte
			var w any
			if z.Geometry != nil {
				zb, _ = wkb.Marshal(z.Geometry)
			} else {
				w = z.WidthM
			}
			zrow = append(zrow, []any{c.ID.String(), string(z.Kind), zb, w})
		}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"oracle_stage"}, []string{"id", "layer", "kind", "function_type", "grp", "province", "wkb"}, pgx.CopyFromRows(crow)); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"oracle_zone_stage"}, []string{"component_id", "kind", "wkb", "width_m"}, pgx.CopyFromRows(zrow)); err != nil {
		tb.Fatal(err)
	}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		tol := rs.Tolerance(r)
		if r.Verdict == rules.Notice {
			tol = 0
		}
		ft := make([]string, len(r.AppliesTo.FunctionTypes))
		for j, f := range r.AppliesTo.FunctionTypes {
			ft[j] = string(f)
		}
		gs := make([]string, len(r.AppliesTo.Groups))
		for j, g := range r.AppliesTo.Groups {
			gs[j] = string(g)
		}
		kinds := r.AppliesTo.Kinds
		if kinds == nil {
			kinds = []string{}
		}
		if _, err := conn.Exec(ctx, `INSERT INTO oracle_rules VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.ID, r.AppliesTo.Layers, kinds, ft, gs, string(r.Zone), r.DistanceM, tol, string(r.Verdict)); err != nil {
			tb.Fatal(err)
		}
		for p, d := range r.DistanceByProvince {
			if _, err := conn.Exec(ctx, `INSERT INTO oracle_rule_provinces VALUES ($1, $2, $3)`, r.ID, p, d); err != nil {
				tb.Fatal(err)
			}
		}
		for _, e := range r.Escalate {
			acts := e.Activities
			if acts == nil {
				acts = []string{}
			}
			if _, err := conn.Exec(ctx, `INSERT INTO oracle_escalations VALUES ($1, $2, $3, $4)`, r.ID, e.HeightAboveM, acts, string(e.To)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	land, err := data.VietnamLand()
	if err != nil {
		tb.Fatal(err)
	}
	landWKB, err := wkb.Marshal(land)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO oracle_land_stage VALUES ($1)`, landWKB); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, oracleBuild); err != nil {
		tb.Fatal(err)
	}
	// Vacuum now, not later: autovacuum would otherwise visit the freshly
	// loaded tables in the background, on a core the timed runs need.
	for _, sql := range []string{`DROP TABLE oracle_stage, oracle_zone_stage, oracle_land_stage`, `VACUUM (ANALYZE) oracle_components`, `VACUUM (ANALYZE) oracle_zones`} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			tb.Fatal(err)
		}
	}
	// One query per check, no parallel workers: the comparison is per-check latency.
	if _, err := conn.Exec(ctx, `SET max_parallel_workers_per_gather = 0`); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("PostGIS oracle loaded %d components, %d zones in %v", len(crow), len(zrow), time.Since(start).Round(time.Millisecond))
	return &oracle{dsn: dsn, conn: conn, reach: rs.MaxDistanceM() + maxZoneWidth + rs.EdgeToleranceM, srids: map[string]int{}}
}

func (o *oracle) check(tb testing.TB, fp Footprint) []oracleFinding {
	tb.Helper()
	fs, err := o.query(o.conn, o.srid(tb, newLocalTM(fp.Geometry.Bound().Center()).Proj4()), fp)
	if err != nil {
		tb.Fatalf("oracle query: %v", err)
	}
	return fs
}

// checkAll runs the oracle for every footprint on `workers` connections at
// once (the query is CPU-bound in PostgreSQL; each connection is a process).
func (o *oracle) checkAll(tb testing.TB, fps []Footprint, workers int) [][]oracleFinding {
	tb.Helper()
	srids := make([]int, len(fps))
	for i, fp := range fps {
		srids[i] = o.srid(tb, newLocalTM(fp.Geometry.Bound().Center()).Proj4())
	}
	out := make([][]oracleFinding, len(fps))
	errs := make(chan error, workers)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		go func() {
			conn, err := pgx.Connect(context.Background(), o.dsn)
			if err != nil {
				errs <- err
				for range next {
				}
				return
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), `SET max_parallel_workers_per_gather = 0`); err != nil {
				errs <- err
				for range next {
				}
				return
			}
			var firstErr error
			for i := range next {
				if firstErr != nil {
					continue
				}
				out[i], firstErr = o.query(conn, srids[i], fps[i])
			}
			errs <- firstErr
		}()
	}
	for i := range fps {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			tb.Fatalf("oracle query: %v", err)
		}
	}
	return out
}

func (o *oracle) query(conn *pgx.Conn, srid int, fp Footprint) ([]oracleFinding, error) {
	gj, err := json.Marshal(geojson.NewGeometry(fp.Geometry))
	if err != nil {
		return nil, err
	}
	acts := fp.Activities
	if acts == nil {
		acts = []string{}
	}
	rows, err := conn.Query(context.Background(), oracleQuery, string(gj), o.reach, srid, fp.HeightM, acts)
	if err != nil {
		return nil, err
	}
	var out []oracleFinding
	for rows.Next() {
		var f oracleFinding
		if err := rows.Scan(&f.comp, &f.rule, &f.verdict, &f.tolerance, &f.provisional, &f.distanceM, &f.pgDistanceM, &f.widthM, &f.areaM2); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// srid registers proj in spatial_ref_sys (once) and returns its SRID.
func (o *oracle) srid(tb testing.TB, proj string) int {
	tb.Helper()
	if id, ok := o.srids[proj]; ok {
		return id
	}
	id := 910_000 + len(o.srids) // above the SRIDs PostGIS ships (900913 is the highest)
	if _, err := o.conn.Exec(context.Background(),
		`INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text) VALUES ($1, 'zoneplan-test', $1, $2)`, id, proj); err != nil {
		tb.Fatal(err)
	}
	o.srids[proj] = id
	return id
}

// accuracy is the promised agreement with PostGIS: 0.5 m or 0.1% of the
// distance, whichever is larger.
func withinDistance(a, b float64) bool { return math.Abs(a-b) <= math.Max(0.5, 0.001*math.Max(a, b)) }

// Areas: 0.1% of the area, or 1 m² for slivers. A zone drawn as a buffer
// of width w is a polygon inscribed in the true rim on both sides (GEOS's
// offset curve, the engine's union of segment buffers), each within the
// chord's sagitta s = w(1-cos(π/4q)) of it; their areas inside a footprint
// may then also differ by s times the rim's length there, which the
// footprint's perimeter bounds.
func withinArea(a, b, widthM, perimeterM float64) bool {
	tol := math.Max(1, 0.001*math.Max(a, b))
	if widthM > 0 {
		tol = math.Max(tol, widthM*(1-math.Cos(0.75*filletQuantum(widthM)))*perimeterM)
	}
	return math.Abs(a-b) <= tol
}

func TestOracleAgreesWithPostGIS(t *testing.T) {
	rs := rules.Default()
	box := worldBox(40)
	cs := genWorld(7, 3000, box)
	for i, c := range cs {
		if probs := c.Validate(); len(probs) > 0 {
			t.Fatalf("synthetic component %d invalid: %+v", i, probs)
		}
	}
	src := newTreeSource(cs...)
	o := newOracle(t, cs, rs, src.MaxZoneWidthM())
	e := New(rs)
	fps := genFootprints(11, 1000, box)
	start := time.Now()
	wants := o.checkAll(t, fps, 2)
	t.Logf("PostGIS checked %d footprints in %v", len(fps), time.Since(start).Round(time.Millisecond))
	st := compareWithOracle(t, e, src, cs, fps, wants, 0)
	nFindings, verdicts := st.findings, st.verdicts
	t.Logf("buffered zones' areas over 100 m²: %d, of which %d differ by more than 0.1%% and %d by more than 0.05%%", st.buffered, st.bufOver1e3, st.bufOver5e4)
	t.Logf("%d footprints, %d matching findings; verdicts %v; max distance difference %.3f m; max relative area difference (polygon zones, areas > 100 m²) %.2e, (buffered zones) %.2e; "+
		"plain ST_Distance(geography) differs by up to %.3f m (%.3f%%)",
		len(fps), nFindings, verdicts, st.maxDistErr, st.maxAreaRel, st.maxBufRel, st.maxPGDistErr, 100*st.maxPGDistRel)
	if nFindings < 1000 || verdicts[rules.Conflict] < 20 || verdicts[rules.Review] < 50 {
		t.Fatalf("the synthetic world exercises too little: %d findings, verdicts %v", nFindings, verdicts)
	}
}

// oracleStats sums up a comparison with the oracle.
type oracleStats struct {
	findings                               int
	verdicts                               map[rules.Verdict]int
	maxDistErr, maxPGDistErr, maxPGDistRel float64
	maxAreaRel, maxBufRel                  float64
	maxBeltRel                             float64 // border belts, areas > 100 m²
	buffered, bufOver1e3, bufOver5e4       int     // buffered zones' areas > 100 m², those off by more than 0.1%, 0.05%
}

// compareWithOracle checks every footprint with the engine and requires
// the oracle's findings (wants, in the same order): the same components
// and rules, verdicts, distances and areas within the promised accuracy.
// beltAccuracy > 0 also holds border belt areas to that fraction (or 1 m²).
func compareWithOracle(t *testing.T, e *Engine, src Source, cs []*zone.Component, fps []Footprint, wants [][]oracleFinding, beltAccuracy float64) oracleStats {
	t.Helper()
	st := oracleStats{verdicts: map[rules.Verdict]int{}}
	byID := map[string]*zone.Component{}
	for _, c := range cs {
		byID[c.ID.String()] = c
	}
	for i, fp := range fps {
		res := e.Check(src, fp, cleared)
		st.verdicts[res.Verdict]++
		want := wants[i]
		type key struct{ comp, rule string }
		got := map[key]Finding{}
		for _, f := range res.Findings {
			got[key{f.Component.ID, f.Rule}] = f
		}
		wantVerdict := rules.Clear
		seen := map[key]bool{}
		for _, w := range want {
			k := key{w.comp, w.rule}
			seen[k] = true
			if w.verdict != "notice" {
				wantVerdict = wantVerdict.Worse(rules.Verdict(w.verdict))
			}
			g, ok := got[k]
			if !ok {
				t.Fatalf("footprint %d (%s): PostGIS finds %+v, the engine does not\nfootprint: %s", i, fp.Geometry.GeoJSONType(), w, mustJSON(fp.Geometry))
			}
			st.findings++
			if string(g.Verdict) != w.verdict || g.EdgeTolerance != w.tolerance || g.Provisional != w.provisional {
				t.Fatalf("footprint %d, %s/%s: engine %s tol %v prov %v, PostGIS %s tol %v prov %v", i, byID[w.comp].Layer, w.rule,
					g.Verdict, g.EdgeTolerance, g.Provisional, w.verdict, w.tolerance, w.provisional)
			}
			if !withinDistance(*g.DistanceM, w.distanceM) {
				t.Fatalf("footprint %d, %s: distance engine %f, PostGIS %f", i, w.rule, *g.DistanceM, w.distanceM)
			}
			if !withinArea(*g.OverlapAreaM2, w.areaM2, w.widthM, res.Footprint.LengthM) {
				t.Fatalf("footprint %d, %s/%s: overlap area engine %f, PostGIS %f m²\nfootprint: %s", i, byID[w.comp].Layer, w.rule, *g.OverlapAreaM2, w.areaM2, mustJSON(fp.Geometry))
			}
			st.maxDistErr = math.Max(st.maxDistErr, math.Abs(*g.DistanceM-w.distanceM))
			st.maxPGDistErr = math.Max(st.maxPGDistErr, math.Abs(*g.DistanceM-w.pgDistanceM))
			if w.pgDistanceM > 0 {
				st.maxPGDistRel = math.Max(st.maxPGDistRel, math.Abs(*g.DistanceM-w.pgDistanceM)/w.pgDistanceM)
			}
			if w.areaM2 > 100 && w.widthM == 0 {
				st.maxAreaRel = math.Max(st.maxAreaRel, math.Abs(*g.OverlapAreaM2-w.areaM2)/w.areaM2)
			}
			if w.areaM2 > 100 && w.widthM > 0 {
				rel := math.Abs(*g.OverlapAreaM2-w.areaM2) / w.areaM2
				st.maxBufRel = math.Max(st.maxBufRel, rel)
				st.buffered++
				if rel > 1e-3 {
					st.bufOver1e3++
				}
				if rel > 5e-4 {
					st.bufOver5e4++
				}
			}
			if g.Zone == rules.TestBorderBelt {
				if d := math.Abs(*g.OverlapAreaM2 - w.areaM2); beltAccuracy > 0 && d > math.Max(1, beltAccuracy*w.areaM2) {
					t.Fatalf("footprint %d, border belt: overlap area engine %.2f, PostGIS %.2f m²\nfootprint: %s", i, *g.OverlapAreaM2, w.areaM2, mustJSON(fp.Geometry))
				}
				if w.areaM2 > 100 {
					st.maxBeltRel = math.Max(st.maxBeltRel, math.Abs(*g.OverlapAreaM2-w.areaM2)/w.areaM2)
				}
			}
		}
		for k, g := range got {
			if !seen[k] {
				t.Fatalf("footprint %d: the engine finds %s/%s (%s, %.2f m), PostGIS does not", i, byID[k.comp].Layer, k.rule, g.Verdict, *g.DistanceM)
			}
		}
		if res.Verdict != wantVerdict {
			t.Fatalf("footprint %d: engine verdict %s, PostGIS %s", i, res.Verdict, wantVerdict)
		}
	}
	return st
}

// beltAreaAccuracy: a border belt's overlap area agrees with PostGIS's on
// geodesic edges to this fraction (0.05%).
const beltAreaAccuracy = 5e-4

// The border belt along the real border's long edges (18-29 km, whose
// geodesics bow up to 3 m from the lon/lat chord): footprints on both
// sides of the rim, across it, along it, across the border line and
// wholly in the neighbour's territory, against PostGIS on geodesic edges
// with the belt inside Vietnam only.
func TestOracleBorderBeltAlongLongEdges(t *testing.T) {
	rs := rules.Default()
	cs, err := data.BorderLines()
	if err != nil {
		t.Fatal(err)
	}
	src := newTreeSource(cs...)
	o := newOracle(t, cs, rs, src.MaxZoneWidthM())
	e := New(rs)
	edges := longBorderEdges(t, 18_000)
	var fps []Footprint
	add := func(g orb.Geometry, acts ...string) {
		fps = append(fps, Footprint{Index: -1, Geometry: g, Activities: acts})
	}
	for _, edge := range edges {
		add(edge.rectangle(850, 1150, 150))                                                  // a 300 m square across the rim
		add(edge.rectangle(850, 1150, 1000), "blasting")                                     // 2,000 x 300 m across the rim
		add(edge.rectangle(998.6, 999.6, 1000))                                              // a strip just inside the rim
		add(edge.rectangle(1000.4, 1001.4, 1000))                                            // a strip just outside: a notice
		add(edge.rectangle(200, 600, 300))                                                   // wholly in the belt
		add(edge.rectangle(-150, 150, 150))                                                  // across the border line
		add(edge.rectangle(-600, -200, 300))                                                 // wholly in the neighbour's territory
		add(edge.rectangle(-1100, -900, 150))                                                // beyond the rim on the far side
		add(move(edge.mid, edge.in, 999.5))                                                  // a point just inside the rim
		add(move(edge.mid, edge.in+180, 300))                                                // a point across the border
		add(orb.LineString{move(edge.mid, edge.in+180, 400), move(edge.mid, edge.in, 1300)}) // a road across border and rim
	}
	start := time.Now()
	wants := o.checkAll(t, fps, 2)
	t.Logf("PostGIS checked %d footprints in %v", len(fps), time.Since(start).Round(time.Millisecond))
	// along the middle of a long edge the rim is straight: the arcs'
	// chords (PostGIS's inscribed, the engine's area-keeping) do not
	// excuse a difference there
	st := compareWithOracle(t, e, src, cs, fps, wants, beltAreaAccuracy)
	t.Logf("%d edges of 18 km or more, %d footprints, %d matching findings; verdicts %v; max distance difference %.3f m; border belt areas within %.2e of PostGIS's",
		len(edges), len(fps), st.findings, st.verdicts, st.maxDistErr, st.maxBeltRel)
	if len(edges) < 5 || st.findings < 5*len(edges) {
		t.Fatalf("too little exercised: %d edges, %d findings", len(edges), st.findings)
	}
}

func mustJSON(g orb.Geometry) string {
	b, _ := json.Marshal(geojson.NewGeometry(g))
	return string(b)
}
