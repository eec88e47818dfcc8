package check

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// vn2000Towgs84 is a TM-3 zone of VN-2000 on meridian lon0 as a PROJ
// string with EPSG:6960 spelled out, as a GIS user defines a custom CRS in
// QGIS or gives it to ogr2ogr; GDAL then writes a .prj whose datum is
// named after the parameters
// ("D_Unknown_based_on_WGS84_ellipsoid_using_towgs84_...").
func vn2000Towgs84(lon0 float64) string {
	return "+proj=tmerc +lat_0=0 +lon_0=" + strconv.FormatFloat(lon0, 'f', -1, 64) + " +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 " +
		"+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +units=m +no_defs"
}

// TestGDALShapefileInVN2000GivesTheSameFindings: the demo's project sites
// (polygons) and footprints along the border's long edges, written by
// ogr2ogr into a shapefile in a VN-2000 zone defined by its parameters,
// zipped and uploaded, give the same verdict and findings as the same
// footprints in WGS84 GeoJSON: the same components, rules and verdicts,
// distances within 1 cm, overlap areas within vertexShiftM times the
// footprint's perimeter.
func TestGDALShapefileInVN2000GivesTheSameFindings(t *testing.T) {
	// A 2D transformation drops heights: GDAL writes a WGS84 point of
	// height 0 as the VN-2000 point below or above it (the datums' heights
	// differ by tens of metres there), which zoneplan reads back at height
	// 0; the ellipsoid's normals at the two places, 200 m apart, part by
	// 3e-5 rad, so the round trip moves a point by about a millimetre.
	const vertexShiftM = 0.002
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		pgtest.Unavailable(t, "GDAL's ogr2ogr is not installed (Debian gdal-bin)")
	}
	layers, err := data.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var cs []*zone.Component
	var footprints []orb.Polygon
	for layer, lcs := range layers {
		if layer != zone.LayerProjectSites {
			cs = append(cs, lcs...)
			continue
		}
		for _, c := range lcs {
			if p, ok := c.Geometry.(orb.Polygon); ok {
				footprints = append(footprints, p)
			}
		}
	}
	for _, edge := range longBorderEdges(t, 18_000) {
		footprints = append(footprints, edge.rectangle(850, 1150, 150), edge.rectangle(-150, 150, 150), edge.rectangle(-600, -200, 300))
	}
	// One shapefile per zone, each footprint in the zone whose meridian
	// is nearest (meridians of no EPSG zone: zoneplan takes any).
	meridians := []float64{102.9, 104.4, 105.9, 107.4, 108.9}
	byZone := make([]*geojson.FeatureCollection, len(meridians))
	for _, p := range footprints {
		c := p.Bound().Center()
		k := 0
		for i, m := range meridians {
			if math.Abs(c[0]-m) < math.Abs(c[0]-meridians[k]) {
				k = i
			}
		}
		if byZone[k] == nil {
			byZone[k] = geojson.NewFeatureCollection()
		}
		byZone[k].Append(geojson.NewFeature(p))
	}
	e, src := New(rules.Default()), newTreeSource(cs...)
	checked, findings, maxD, maxA := 0, 0, 0.0, 0.0
	for z, fc := range byZone {
		if fc == nil {
			continue
		}
		body, err := json.Marshal(fc)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		in := filepath.Join(dir, "sites.geojson")
		if err := os.WriteFile(in, body, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ogr2ogr", "-f", "ESRI Shapefile", "-s_srs", "EPSG:4326", "-t_srs", vn2000Towgs84(meridians[z]),
			filepath.Join(dir, "sites.shp"), in)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr: %v\n%s", err, out)
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, ext := range []string{"shp", "shx", "dbf", "prj"} {
			b, err := os.ReadFile(filepath.Join(dir, "sites."+ext))
			if err != nil {
				t.Fatal(err)
			}
			w, err := zw.Create("sites." + ext)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		shp, err := DecodeFootprints(Input{Name: "sites.zip", Data: buf.Bytes(), Upload: true})
		if err != nil {
			prj, _ := os.ReadFile(filepath.Join(dir, "sites.prj"))
			t.Fatalf("the GDAL shapefile is refused: %v\n.prj: %s", err, prj)
		}
		if !shp.CRS.VN2000() {
			t.Fatalf("read as %s, not VN-2000", shp.CRS.Code)
		}
		wgs, err := DecodeFootprints(Input{Name: "sites.geojson", Data: body, Upload: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(shp.Footprints) != len(wgs.Footprints) {
			t.Fatalf("%d footprints from the shapefile, %d from the GeoJSON", len(shp.Footprints), len(wgs.Footprints))
		}
		for i := range wgs.Footprints {
			want, got := e.Check(src, wgs.Footprints[i], cleared), e.Check(src, shp.Footprints[i], cleared)
			if got.Verdict != want.Verdict || len(got.Findings) != len(want.Findings) {
				t.Fatalf("%s, footprint %d: shapefile %s with %d findings, GeoJSON %s with %d", shp.CRS.Code, i, got.Verdict, len(got.Findings), want.Verdict, len(want.Findings))
			}
			for k, w := range want.Findings {
				g := got.Findings[k]
				if g.Component.ID != w.Component.ID || g.Rule != w.Rule || g.Verdict != w.Verdict || g.EdgeTolerance != w.EdgeTolerance {
					t.Fatalf("%s, footprint %d, finding %d: shapefile %s/%s %s, GeoJSON %s/%s %s", shp.CRS.Code, i, k, g.Component.Layer, g.Rule, g.Verdict, w.Component.Layer, w.Rule, w.Verdict)
				}
				d, a := math.Abs(*g.DistanceM-*w.DistanceM), math.Abs(*g.OverlapAreaM2-*w.OverlapAreaM2)
				if d > 0.011 || a > 0.01+vertexShiftM*want.Footprint.LengthM { // distances are given to the centimetre
					t.Fatalf("%s, footprint %d, %s: distance %.3f vs %.3f m, overlap %.2f vs %.2f m²", shp.CRS.Code, i, w.Rule, *g.DistanceM, *w.DistanceM, *g.OverlapAreaM2, *w.OverlapAreaM2)
				}
				maxD, maxA = math.Max(maxD, d), math.Max(maxA, a)
				findings++
			}
		}
		checked += len(wgs.Footprints)
	}
	if findings < 20 {
		t.Fatalf("only %d findings: the footprints exercise too little", findings)
	}
	t.Logf("%d footprints through ogr2ogr in VN-2000 zones given by their parameters: %d findings identical, distances within %.4f m, areas within %.3f m²", checked, findings, maxD, maxA)
}
