package demo

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// CoverageMargin is how far beyond a province's sampling disc the demo
// declares its data complete, as a fraction of the disc's radius: the
// demo places project sites near the works they test, some well past the
// disc's edge (TestDemoCoverage holds every site inside).
const CoverageMargin = 2.0

// CoverageAsOf is the date the demo's coverage holds at: the demo set's
// seed date.
var CoverageAsOf = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)

// coverageNamespace makes the demo coverage's ids from their layer and
// province, so seeding twice replaces rather than duplicates.
var coverageNamespace = uuid.MustParse("6f1c1d0e-8d4f-5a39-9a53-2f6b8e6f0c17")

// Coverage is the demo's own coverage: for every province it fills and
// every defence layer (all but project sites), the province's sampling
// disc widened by CoverageMargin, a 64-sided polygon (WGS84), public,
// loaded as of CoverageAsOf. Outside it the demo holds no data, and a
// check there gets incomplete.
func Coverage() []zone.Coverage {
	var out []zone.Coverage
	for _, id := range zone.LayerIDs() {
		if id == zone.LayerProjectSites {
			continue
		}
		for _, p := range provinces() {
			ring := make(orb.Ring, 0, 65)
			for i := range 64 {
				q := destination(p.centre, float64(i)*360/64, p.radiusM*CoverageMargin)
				ring = append(ring, orb.Point{math.Round(q[0]*roundFactor) / roundFactor, math.Round(q[1]*roundFactor) / roundFactor})
			}
			// Counter-clockwise, as GeoJSON asks: the azimuths went clockwise.
			for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
				ring[i], ring[j] = ring[j], ring[i]
			}
			ring = append(ring, ring[0])
			out = append(out, zone.Coverage{
				ID:    uuid.NewSHA1(coverageNamespace, []byte(id+"/"+p.name)),
				Layer: id, Area: p.name, Status: zone.CoverageLoaded, AsOf: CoverageAsOf,
				Note:     "demo: " + Note,
				Geometry: orb.MultiPolygon{{ring}},
			})
		}
	}
	return out
}

// WriteCoverage writes cs as the FeatureCollection committed in data/
// (one feature a line): id, geometry, and the properties a coverage is
// declared with (layer, area, status, as_of, classification, note).
func WriteCoverage(w io.Writer, cs []zone.Coverage) error {
	if _, err := io.WriteString(w, `{"type":"FeatureCollection","features":[`+"\n"); err != nil {
		return err
	}
	for i := range cs {
		f := cs[i].Feature()
		for _, k := range []string{"version", "updated_by", "updated_at"} {
			delete(f.Properties, k)
		}
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		sep := ",\n"
		if i == len(cs)-1 {
			sep = "\n"
		}
		if _, err := w.Write(append(b, sep...)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}\n")
	return err
}
