package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// fixturePath is one of package formats' fixtures: the same synthetic Lang
// Son parcel in every format.
func fixturePath(name string) string {
	return filepath.Join("..", "..", "internal", "formats", "testdata", name)
}

// cliEnv is a getenv with the embedded store in dir.
func cliEnv(dir string) func(string) string {
	return func(k string) string {
		if k == "ZONEPLAN_DB" {
			return filepath.Join(dir, "z.db")
		}
		return ""
	}
}

// TestCheckEveryFormat: `zoneplan check` of the parcel in every format
// (tables with --crs) gives the same verdict and findings as the WGS84
// GeoJSON; the swapped-axis table fails saying so.
func TestCheckEveryFormat(t *testing.T) {
	dir := t.TempDir()
	env := cliEnv(dir)
	// A depot ~400 m east of the parcel whose 500 m safety belt covers part of it.
	depot := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106.756,21.8494]},
	"properties":{"kind":"depot","name":"Kho K15 (tổng hợp)","synthetic":true,"zones":[{"kind":"safety_belt","width_m":500}]}}]}`
	p := filepath.Join(dir, "depot.geojson")
	os.WriteFile(p, []byte(depot), 0o644)
	if err := run(context.Background(), []string{"import", "--no-demo", "defence_works", p}, env, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(describe(err))
	}
	checkFile := func(args ...string) (int, string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"check", "--json"}, args...), env, nil, &out, &bytes.Buffer{})
		var res struct {
			Verdict  string `json:"verdict"`
			Findings []struct {
				Rule      string `json:"rule"`
				Component struct {
					Name string `json:"name"`
				} `json:"component"`
			} `json:"findings"`
		}
		if exitCode(err) == 1 {
			return 1, "", err
		}
		if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil {
			t.Fatalf("%v: %v\n%s", args, jerr, out.String())
		}
		var fs []string
		for _, f := range res.Findings {
			fs = append(fs, f.Rule+"@"+f.Component.Name)
		}
		sort.Strings(fs)
		return exitCode(err), res.Verdict + " " + strings.Join(fs, ","), nil
	}
	code, want, err := checkFile(fixturePath("site.geojson"))
	if code != exitReview || !strings.Contains(want, "depot-safety-belt@Kho K15") {
		t.Fatalf("reference: exit %d, %s (%v)", code, want, err)
	}
	for _, args := range [][]string{
		{fixturePath("site_9215.geojson")},
		{fixturePath("site.kml")},
		{fixturePath("site.kmz")},
		{fixturePath("site_shp.zip")},
		{fixturePath("site_gdal.zip")},
		{"--crs", "EPSG:9215", fixturePath("site.csv")},
		{"--crs", "VN2000:TM3:107-15", "--format", "table", fixturePath("site_pasted.txt")},
	} {
		code, got, err := checkFile(args...)
		if code != exitReview || got != want {
			t.Errorf("%v: exit %d, %s; want %d, %s (%v)", args, code, got, exitReview, want, err)
		}
	}
	code, _, err = checkFile("--crs", "EPSG:9215", fixturePath("bad_swapped_xy.csv"))
	if code != 1 || !strings.Contains(describe(err), "X and Y look swapped") || !strings.Contains(describe(err), "bad_swapped_xy.csv: row 2") {
		t.Errorf("swapped table: exit %d, %s", code, describe(err))
	}
	code, _, err = checkFile(fixturePath("site.csv"))
	if code != 1 || !strings.Contains(describe(err), "needs its CRS") {
		t.Errorf("table without --crs: exit %d, %s", code, describe(err))
	}
	// The old WGS84 path still points into the file.
	bad := filepath.Join(dir, "bad.geojson")
	os.WriteFile(bad, []byte(`{"type":"Polygon","coordinates":[[[106,21],[106.1,21]]]}`), 0o644)
	if code, _, err := checkFile(bad); code != 1 || !strings.Contains(describe(err), "coordinates[0]") {
		t.Errorf("bad WGS84 footprint: exit %d, %s", code, describe(err))
	}
}

// TestImportExportCRS: a shapefile in EPSG:9215 imports; export --crs
// EPSG:9215 gives back the surveyed metres to the millimetre with a crs
// member GDAL reads; that file, and a defence work with an approved zone
// exported in EPSG:5899, import again into a new store unchanged.
func TestImportExportCRS(t *testing.T) {
	dir := t.TempDir()
	env := cliEnv(dir)
	ctx := context.Background()
	runOK := func(env func(string) string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, args, env, nil, &out, &errb); err != nil {
			t.Fatalf("%v: %s\n%s", args, describe(err), errb.String())
		}
		return out.String()
	}
	runOK(env, "import", "--no-demo", "project_sites", fixturePath("site_gdal.zip"))

	// The Esri shapefile names its parcel in TEN, not name: the error says
	// which file and feature.
	err := run(ctx, []string{"import", "project_sites", fixturePath("site_shp.zip")}, env, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if msg := describe(err); err == nil || !strings.Contains(msg, "site_shp.zip") || !strings.Contains(msg, "feature #0") || !strings.Contains(msg, "name is required") {
		t.Errorf("shapefile without name: %s", msg)
	}

	exported := runOK(env, "export", "--crs", "EPSG:9215", "project_sites")
	fc, err := geojson.UnmarshalFeatureCollection([]byte(exported))
	if err != nil || len(fc.Features) != 1 {
		t.Fatalf("export: %v\n%.300s", err, exported)
	}
	if !strings.Contains(exported, `"crs":{"properties":{"name":"urn:ogc:def:crs:EPSG::9215"},"type":"name"}`) {
		t.Errorf("export lacks the crs member: %.200s", exported)
	}
	// Survey point 1: X (northing) 2417150, Y (easting) 448120.
	first := fc.Features[0].Geometry.(orb.Polygon)[0][0]
	if math.Abs(first[0]-448120) > 0.001 || math.Abs(first[1]-2417150) > 0.001 {
		t.Errorf("first vertex %v, want [448120, 2417150] (easting, northing)", first)
	}
	file9215 := filepath.Join(dir, "sites_9215.geojson")
	os.WriteFile(file9215, []byte(exported), 0o644)
	if _, err := exec.LookPath("ogrinfo"); err == nil {
		out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", file9215).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "TM-3 107-15") {
			t.Errorf("GDAL does not read the export as VN-2000 / TM-3 107-15: %v\n%s", err, out)
		}
	}

	// A defence work with an approved restricted area, out in EPSG:5899
	// (Quang Ninh's meridian, 107°45') and back into a new store.
	work := filepath.Join(dir, "work.geojson")
	os.WriteFile(work, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[107.5,21.2]},
	"properties":{"kind":"depot","name":"Kho K17 (tổng hợp)","synthetic":true,"zones":[
	{"kind":"restricted_area","geometry":{"type":"Polygon","coordinates":[[[107.499,21.199],[107.501,21.199],[107.501,21.201],[107.499,21.201],[107.499,21.199]]]},"decision":"1/QĐ"},
	{"kind":"safety_belt","width_m":300}]}}]}`), 0o644)
	runOK(env, "import", "defence_works", work)
	file5899 := filepath.Join(dir, "works_5899.geojson")
	os.WriteFile(file5899, []byte(runOK(env, "export", "--crs", "http://www.opengis.net/def/crs/EPSG/0/5899", "defence_works")), 0o644)

	dir2 := t.TempDir()
	env2 := cliEnv(dir2)
	runOK(env2, "import", "--no-demo", "project_sites", file9215)
	runOK(env2, "import", "defence_works", file5899)
	for _, layer := range []string{"project_sites", "defence_works"} {
		a, _ := geojson.UnmarshalFeatureCollection([]byte(runOK(env, "export", layer)))
		b, _ := geojson.UnmarshalFeatureCollection([]byte(runOK(env2, "export", layer)))
		if a == nil || b == nil || len(a.Features) != 1 || len(b.Features) != 1 {
			t.Fatalf("%s: round trip lost features", layer)
		}
		if d := maxDeviation(a.Features[0].Geometry, b.Features[0].Geometry); d > 1e-8 {
			t.Errorf("%s: geometry moved %.2g degrees in the round trip", layer, d)
		}
		za, _ := json.Marshal(a.Features[0].Properties["zones"])
		zb, _ := json.Marshal(b.Features[0].Properties["zones"])
		if layer == "defence_works" {
			var ga, gb []struct {
				Geometry *geojson.Geometry `json:"geometry"`
			}
			json.Unmarshal(za, &ga)
			json.Unmarshal(zb, &gb)
			if len(ga) != 2 || len(gb) != 2 || ga[0].Geometry == nil || gb[0].Geometry == nil {
				t.Fatalf("zones lost: %s / %s", za, zb)
			}
			if d := maxDeviation(ga[0].Geometry.Geometry(), gb[0].Geometry.Geometry()); d > 1e-8 {
				t.Errorf("approved zone moved %.2g degrees in the round trip", d)
			}
		}
	}
	// And the 5899 file really is in metres of that zone.
	fc5899, _ := geojson.UnmarshalFeatureCollection(mustRead(t, file5899))
	p := fc5899.Features[0].Geometry.(orb.Point)
	want, _ := crs.Must("EPSG:5899").FromWGS84(orb.Point{107.5, 21.2})
	if math.Abs(p[0]-want[0]) > 0.001 || math.Abs(p[1]-want[1]) > 0.001 || p[0] < 400000 {
		t.Errorf("EPSG:5899 point %v, want %v", p, want)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// maxDeviation is the largest coordinate difference between two geometries
// of the same shape (degrees), +Inf when their shapes differ.
func maxDeviation(a, b orb.Geometry) float64 {
	var pa, pb []orb.Point
	collect := func(g orb.Geometry, out *[]orb.Point) {
		switch g := g.(type) {
		case orb.Point:
			*out = append(*out, g)
		case orb.Polygon:
			for _, r := range g {
				*out = append(*out, r...)
			}
		}
	}
	collect(a, &pa)
	collect(b, &pb)
	if len(pa) != len(pb) || len(pa) == 0 {
		return math.Inf(1)
	}
	d := 0.0
	for i := range pa {
		d = math.Max(d, math.Max(math.Abs(pa[i][0]-pb[i][0]), math.Abs(pa[i][1]-pb[i][1])))
	}
	return d
}
