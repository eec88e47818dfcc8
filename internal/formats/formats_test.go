package formats

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// sameFootprintTolerance is how close (metres) every format's decoded
// footprint must be to the reference.
const sameFootprintTolerance = 0.01

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (run go test ./internal/formats -run TestFixtures -update)", err)
	}
	return b
}

// metresApart is the distance between two WGS84 points, by a local
// equirectangular approximation (1e-6 relative at these distances).
func metresApart(a, b orb.Point) float64 {
	const r, rad = 6378137.0, math.Pi / 180
	dy := (a[1] - b[1]) * rad * r
	dx := (a[0] - b[0]) * rad * r * math.Cos(a[1]*rad)
	return math.Hypot(dx, dy)
}

// TestEveryFormatGivesTheSameFootprint: the one Lang Son site, as GeoJSON
// (WGS84 and EPSG:9215), KML, KMZ, a zipped shapefile in EPSG:9215 (ours and
// GDAL's), and a boundary table in TM-3 107°15' (CSV and pasted text),
// decodes to the same WGS84 polygon within 1 cm.
func TestEveryFormatGivesTheSameFootprint(t *testing.T) {
	want := siteRingWGS84(t)
	tm3, err := crs.Lookup("VN2000:TM3:107-15")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file    string
		opt     Options
		format  Format
		crsCode string
		name    string // expected name attribute, "" to skip
	}{
		{"site.geojson", Options{}, GeoJSON, "OGC:CRS84", "name"},
		{"site_9215.geojson", Options{}, GeoJSON, "EPSG:9215", "name"},
		{"site.kml", Options{}, KML, "OGC:CRS84", "name"},
		{"site.kmz", Options{}, KMZ, "OGC:CRS84", "name"},
		{"site_shp.zip", Options{}, Shapefile, "EPSG:9215", "TEN"},
		{"site_gdal.zip", Options{}, Shapefile, "EPSG:9215", "name"},
		{"site.csv", Options{CRS: tm3}, Table, "EPSG:9215", ""},
		{"site_pasted.txt", Options{CRS: tm3}, Table, "EPSG:9215", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res, err := Decode(c.file, readFixture(t, c.file), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Format != c.format || res.CRS.Code != c.crsCode {
				t.Errorf("format %s in %s, want %s in %s", res.Format, res.CRS.Code, c.format, c.crsCode)
			}
			if len(res.Features.Features) != 1 {
				t.Fatalf("%d features, want 1", len(res.Features.Features))
			}
			f := res.Features.Features[0]
			poly, ok := f.Geometry.(orb.Polygon)
			if !ok || len(poly) != 1 || len(poly[0]) != len(want) {
				t.Fatalf("geometry %#v, want a polygon of %d points", f.Geometry, len(want))
			}
			var worst float64
			for i := range want {
				worst = math.Max(worst, metresApart(poly[0][i], want[i]))
			}
			t.Logf("%s: farthest vertex %.2e m from the reference", c.file, worst)
			if worst > sameFootprintTolerance {
				t.Errorf("footprint differs by %.4f m", worst)
			}
			if c.name != "" && f.Properties[c.name] != siteName {
				t.Errorf("attribute %s = %q, want %q", c.name, f.Properties[c.name], siteName)
			}
			if probs := zone.ValidateGeometry(f.Geometry); len(probs) > 0 {
				t.Errorf("decoded geometry invalid: %+v", probs)
			}
		})
	}
}

// TestBadFiles: each bad upload gets a CodeInvalid error naming the file,
// the record, and what is wrong.
func TestBadFiles(t *testing.T) {
	tm3 := crs.Must("EPSG:9215")
	cases := []struct {
		file  string
		opt   Options
		want  []string // substrings of the message
		index int      // Details[0].Index
	}{
		{"bad_truncated.zip", Options{}, []string{"bad_truncated.zip", "not a readable zip", "truncated"}, -1},
		{"bad_no_shp.zip", Options{}, []string{"bad_no_shp.zip", "no .shp file", "site.dbf", "site.prj"}, -1},
		{"bad_unknown_prj.zip", Options{}, []string{"bad_unknown_prj.zip: site.prj", "unknown CRS", "RGF_1993"}, -1},
		{"bad_no_geometry.kml", Options{}, []string{"bad_no_geometry.kml: placemark 1 \"Mốc 1\" (line 3)", "no geometry"}, 0},
		{"bad_non_numeric.csv", Options{CRS: tm3}, []string{"bad_non_numeric.csv: row 4", `X "2417O85.750" is not a number`}, 3},
		{"bad_two_points.csv", Options{CRS: tm3}, []string{"bad_two_points.csv", "at least 3 points", "has 2"}, -1},
		{"bad_swapped_xy.csv", Options{CRS: tm3}, []string{"bad_swapped_xy.csv: row 2", "point 1", "X and Y look swapped", "X is the northing"}, 1},
		{"site.csv", Options{}, []string{"site.csv", "needs its CRS"}, -1},
		{"site.geojson", Options{CRS: tm3}, []string{"site.geojson: feature 1", "coordinates[0][0]", "looks like longitude, latitude degrees, not EPSG:9215 metres"}, 0},
		{"site.csv", Options{CRS: crs.WGS84()}, []string{"site.csv", "EPSG:4326 is geographic"}, -1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res, err := Decode(c.file, readFixture(t, c.file), c.opt)
			if err == nil {
				t.Fatalf("decoded %d features, want an error", len(res.Features.Features))
			}
			if zone.ErrorCode(err) != zone.CodeInvalid {
				t.Errorf("code %s, want invalid: %v", zone.ErrorCode(err), err)
			}
			msg := zone.ErrorMessage(err)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			d := zone.ErrorDetails(err)
			if len(d) == 0 || d[0].Index != c.index || !strings.HasPrefix(d[0].Pointer, c.file) {
				t.Errorf("details %+v: want index %d and a pointer naming %s", d, c.index, c.file)
			}
			t.Logf("%s: %s", c.file, msg)
		})
	}
}

// TestSwappedAxesEveryRow: the swapped table reports every row, so the
// appraiser sees it is the whole table, not one typo.
func TestSwappedAxesEveryRow(t *testing.T) {
	_, err := Decode("bad_swapped_xy.csv", readFixture(t, "bad_swapped_xy.csv"), Options{CRS: crs.Must("EPSG:9215")})
	if d := zone.ErrorDetails(err); len(d) != len(siteTM3) {
		t.Fatalf("%d details, want one per row (%d): %v", len(d), len(siteTM3), err)
	}
}

func TestTableVariants(t *testing.T) {
	tm3 := crs.Must("EPSG:9215")
	want := siteRingWGS84(t)
	variants := map[string]string{
		"semicolon, decimal comma": "STT;X;Y\n1;2417150,000;448120,000\n2;2417180,500;448295,250\n3;2417085,750;448340,000\n4;2416990,000;448280,500\n5;2416975,250;448150,750\n6;2417060,000;448095,000\n",
		"tab, Excel":               "Điểm\tX (m)\tY (m)\tCạnh (m)\r\n1\t2417150.000\t448120.000\t177.88\r\n2\t2417180.500\t448295.250\t105.0\r\n3\t2417085.750\t448340.000\t112.7\r\n4\t2416990.000\t448280.500\t130.6\r\n5\t2416975.250\t448150.750\t101.1\r\n6\t2417060.000\t448095.000\t95.6\r\n",
		"no header, two columns":   "2417150 448120\n2417180.5 448295.25\n2417085.75 448340\n2416990 448280.5\n2416975.25 448150.75\n2417060 448095\n",
		"named columns reordered":  "Y,X,Point\n448120.000,2417150.000,M1\n448295.250,2417180.500,M2\n448340.000,2417085.750,M3\n448280.500,2416990.000,M4\n448150.750,2416975.250,M5\n448095.000,2417060.000,M6\n",
		"thousands separators":     "1;2.417.150,000;448.120,000\n2;2.417.180,500;448.295,250\n3;2.417.085,750;448.340,000\n4;2.416.990,000;448.280,500\n5;2.416.975,250;448.150,750\n6;2.417.060,000;448.095,000\n",
	}
	for name, text := range variants {
		res, err := Decode("pasted", []byte(text), Options{CRS: tm3, Format: Table})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ring := res.Features.Features[0].Geometry.(orb.Polygon)[0]
		for i := range want {
			if d := metresApart(ring[i], want[i]); d > sameFootprintTolerance {
				t.Errorf("%s: vertex %d off by %.3f m", name, i, d)
			}
		}
	}
	// Degrees typed into a TM-3 table.
	_, err := Decode("t.csv", []byte("1,21.85,106.75\n2,21.86,106.76\n3,21.85,106.77\n"), Options{CRS: tm3})
	if !strings.Contains(zone.ErrorMessage(err), "looks like longitude, latitude degrees") {
		t.Errorf("degrees in a TM-3 table: %v", err)
	}
	// A first row with a bad coordinate is reported, not taken for a header.
	_, err = Decode("t.csv", []byte("1,abc,def\n2,2417180.5,448295.25\n3,2417085.75,448340\n4,2416990,448280.5\n"), Options{CRS: tm3})
	if !strings.Contains(zone.ErrorMessage(err), "t.csv: row 1") {
		t.Errorf("bad first row: %v", err)
	}
	// Points in an order that crosses itself.
	_, err = Decode("t.csv", []byte("1,2417150,448120\n2,2416990,448280.5\n3,2417180.5,448295.25\n4,2416975.25,448150.75\n"), Options{CRS: tm3})
	if !strings.Contains(zone.ErrorMessage(err), "intersect") {
		t.Errorf("self-crossing boundary: %v", err)
	}
}

func TestSniff(t *testing.T) {
	cases := map[string]Format{"a.geojson": GeoJSON, "a.JSON": GeoJSON, "a.kml": KML, "a.kmz": KMZ, "a.csv": Table, "a.txt": Table}
	for name, want := range cases {
		if got, err := Sniff(name, nil); err != nil || got != want {
			t.Errorf("Sniff(%s) = %s, %v", name, got, err)
		}
	}
	for file, want := range map[string]Format{"site.geojson": GeoJSON, "site.kml": KML, "site.kmz": KMZ, "site_shp.zip": Shapefile, "site.csv": Table} {
		if got, err := Sniff("upload", readFixture(t, file)); err != nil || got != want {
			t.Errorf("Sniff(content of %s) = %s, %v", file, got, err)
		}
	}
	if _, err := Sniff("site.shp", nil); !strings.Contains(zone.ErrorMessage(err), "one .zip") {
		t.Errorf("bare .shp: %v", err)
	}
}

func TestEncodeGeoJSONInTM3(t *testing.T) {
	res, err := Decode("site.geojson", readFixture(t, "site.geojson"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeGeoJSON(res.Features, crs.Must("EPSG:9215"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"urn:ogc:def:crs:EPSG::9215"`) {
		t.Errorf("no crs member: %s", b)
	}
	back, err := Decode("out.geojson", b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := back.Features.Features[0].Geometry.(orb.Polygon)[0]
	want := res.Features.Features[0].Geometry.(orb.Polygon)[0]
	for i := range want {
		if d := metresApart(got[i], want[i]); d > sameFootprintTolerance {
			t.Errorf("vertex %d off by %.4f m after EPSG:9215 and back", i, d)
		}
	}
}
