package formats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/pgtest"
)

// TestGDALAgrees: GDAL (ogr2ogr, PROJ underneath, choosing its own
// operation: EPSG:6960 in the north) reads what EncodeGeoJSON writes in a
// VN-2000 zone and gets the WGS84 points back, and what GDAL writes in the
// zone Decode reads back to the same points; 1,000 points per CRS within
// its area of use, within 1 cm both ways.
func TestGDALAgrees(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		pgtest.Unavailable(t, "GDAL's ogr2ogr is not installed (Debian gdal-bin)")
	}
	dir := t.TempDir()
	for _, code := range []string{"EPSG:9215", "EPSG:5899", "EPSG:9210", "EPSG:9205", "EPSG:3405", "EPSG:4756"} {
		c := crs.Must(code)
		rng := rand.New(rand.NewPCG(uint64(c.EPSG), 9))
		b := c.Bounds
		// Northern Vietnam part of the area of use.
		b.Min[1] = math.Max(b.Min[1], 20.5)
		fc := geojson.NewFeatureCollection()
		var pts []orb.Point
		for i := 0; i < 1000; i++ {
			p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
			pts = append(pts, p)
			fc.Append(geojson.NewFeature(p))
		}
		wgs, err := EncodeGeoJSON(fc, crs.CRS84())
		if err != nil {
			t.Fatal(err)
		}
		ours, err := EncodeGeoJSON(fc, c)
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(dir, "in.geojson")
		inZone := filepath.Join(dir, "in_zone.geojson")
		gdalZone := filepath.Join(dir, "gdal_zone.geojson")
		gdalWGS := filepath.Join(dir, "gdal_wgs.geojson")
		write(t, in, wgs)
		write(t, inZone, ours)
		ogr2ogr(t, gdalZone, in, code)           // GDAL: WGS84 -> zone
		ogr2ogr(t, gdalWGS, inZone, "OGC:CRS84") // GDAL reads our zone file -> WGS84

		// Forward: our zone coordinates against GDAL's.
		gz := readPoints(t, gdalZone)
		oz := readPoints(t, inZone)
		var fwd float64
		for i := range pts {
			d := math.Hypot(gz[i][0]-oz[i][0], gz[i][1]-oz[i][1])
			if c.Kind == crs.Geographic {
				d = metresApart(gz[i], oz[i])
			}
			fwd = math.Max(fwd, d)
		}
		// GDAL reading our file.
		gw := readPoints(t, gdalWGS)
		var readByGDAL float64
		for i, p := range pts {
			readByGDAL = math.Max(readByGDAL, metresApart(gw[i], p))
		}
		// Decode reading GDAL's file.
		data, err := os.ReadFile(gdalZone)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Decode("gdal_zone.geojson", data, Options{})
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if res.CRS.Code != code {
			t.Errorf("GDAL's file read as %s, want %s", res.CRS.Code, code)
		}
		var readByUs float64
		for i, p := range pts {
			readByUs = math.Max(readByUs, metresApart(res.Features.Features[i].Geometry.(orb.Point), p))
		}
		t.Logf("%s: 1000 points; max difference ours vs GDAL %.1e m, GDAL reading ours %.1e m, us reading GDAL's %.1e m (files rounded to 1 mm / 1e-9 deg)", code, fwd, readByGDAL, readByUs)
		if fwd > 0.01 || readByGDAL > 0.01 || readByUs > 0.01 {
			t.Errorf("%s: GDAL disagrees beyond 1 cm", code)
		}
	}
}

func write(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func ogr2ogr(t *testing.T, out, in, srs string) {
	t.Helper()
	_ = os.Remove(out)
	cmd := exec.Command("ogr2ogr", "-f", "GeoJSON", "-t_srs", srs, "-lco", "COORDINATE_PRECISION=9", out, in)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr -t_srs %s: %v: %s", srs, err, b)
	}
}

// readPoints reads the point coordinates of a GeoJSON file as written, in
// feature order, without any CRS handling.
func readPoints(t *testing.T, name string) []orb.Point {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Features []struct {
			Geometry struct {
				Coordinates [2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := make([]orb.Point, len(doc.Features))
	for i, f := range doc.Features {
		out[i] = f.Geometry.Coordinates
	}
	return out
}
