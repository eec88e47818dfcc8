package formats

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestPRJRecognition(t *testing.T) {
	cases := []struct {
		name, wkt, want string // want: CRS code, or "error: <substring>"
	}{
		{"ESRI TM-3 107-15", esriPRJ9215, "EPSG:9215"},
		{"GDAL WKT1 with authority", `PROJCS["VN-2000 / TM-3 107-45",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6756"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4756"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",107.75],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","5899"]]`, "EPSG:5899"},
		{"wild TM-3 with towgs84 and odd names", `PROJCS["VN_2000_Tinh_Ha_Noi_KT105_d",GEOGCS["GCS_WGS_1984_VN",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563],TOWGS84[-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, "EPSG:5897"},
		{"VN-2000 name on a WGS 84 datum", `PROJCS["VN-2000 / TM-3 zone 107-45",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",107.75],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["Meter",1]]`, "EPSG:5899"},
		{"custom meridian", strings.Replace(esriPRJ9215, "107.25", "106.75", 1), "VN2000:TM3:106.75"},
		{"UTM 48N", `PROJCS["VN_2000_UTM_Zone_48N",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, "EPSG:3405"},
		{"VN-2000 geographic", `GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, "EPSG:4756"},
		{"WGS 84", `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, "OGC:CRS84"},
		{"Web Mercator", `PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]`, "EPSG:3857"},
		{"WGS 84 UTM", `PROJCS["WGS_1984_UTM_Zone_48N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, "error: WGS 84 transverse Mercator"},
		{"Hanoi-72", `PROJCS["Hanoi_1972_GK_106_NE",GEOGCS["GCS_Hanoi_1972",DATUM["D_Hanoi_1972",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",106.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, "error: neither VN-2000 nor WGS 84"},
		{"feet", strings.Replace(esriPRJ9215, `UNIT["Meter",1.0]`, `UNIT["Foot_US",0.3048006096012192]`, 1), "error: not the metre"},
		{"garbage", `PROJCS["x",GEOGCS[`, "error: cannot read the WKT"},
		// by the parameters, whatever the names
		{"GDAL's ESRI .prj from +towgs84", gdalTowgs84PRJ, "EPSG:5899"},
		{"GDAL's ESRI .prj, one rotation's sign flipped", strings.Replace(gdalTowgs84PRJ, "_-0_01975479_", "_0_01975479_", 1), "error: rY is 0.01975479″ where EPSG:6960 has -0.01975479″"},
		{"GDAL's ESRI .prj, another dX", strings.Replace(gdalTowgs84PRJ, "towgs84_-191_90441429_", "towgs84_-192_873_", 1), "error: dX is -192.873 m where EPSG:6960 has -191.90441429 m"},
		{"PROJ's datum name, unmorphed", `GEOGCS["unknown",DATUM["Unknown based on WGS84 ellipsoid using towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, "EPSG:4756"},
		{"OGC WKT, an unnamed datum with 6960's TOWGS84", `PROJCS["unnamed",GEOGCS["unnamed",DATUM["unknown",SPHEROID["WGS84",6378137,298.257223563],TOWGS84[-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",105.75],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["Meter",1]]`, "EPSG:9210"},
		{"a shift of zeros is WGS 84", `GEOGCS["unknown",DATUM["unknown",SPHEROID["WGS84",6378137,298.257223563],TOWGS84[0,0,0,0,0,0,0]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, "OGC:CRS84"},
		{"VN-2000 by name with another shift", `GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563],TOWGS84[-192.873,-39.382,-111.202,-0.00205,0.0005,-0.00335,0.0188]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, "error: dX is -192.873 m where EPSG:6960 has -191.90441429 m, dY is -39.382 m"},
		{"another ellipsoid", strings.Replace(gdalTowgs84PRJ, "298.257223563", "298.3", 1), "error: inverse flattening 298.3"},
		{"another scale factor", strings.Replace(gdalTowgs84PRJ, `"Scale_Factor",0.9999`, `"Scale_Factor",0.9998`, 1), "error: has scale factor 0.9998 where a TM-3 zone has 0.9999"},
		{"another false northing", strings.Replace(gdalTowgs84PRJ, `"False_Northing",0.0`, `"False_Northing",100.0`, 1), "error: false northing is 100 where a VN-2000 zone has 0"},
	}
	for _, c := range cases {
		got, err := prjCRS(c.wkt)
		if want, isErr := strings.CutPrefix(c.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, %v; want an error with %q", c.name, got, err, want)
			}
			continue
		}
		if err != nil || got.Code != c.want {
			t.Errorf("%s: got %v, %v; want %s", c.name, got, err, c.want)
		}
	}
}

// gdalTowgs84PRJ is the .prj GDAL 3.6 (ogr2ogr) writes for a shapefile
// in '+proj=tmerc +lon_0=107.75 +k=0.9999 +x_0=500000 +ellps=WGS84
// +towgs84=<EPSG:6960>': ESRI WKT has no TOWGS84, so the shift is in the
// datum's name.
const gdalTowgs84PRJ = `PROJCS["unknown",GEOGCS["GCS_unknown",DATUM["D_Unknown_based_on_WGS84_ellipsoid_using_towgs84_-191_90441429_-39_30318279_-111_45032835_0_00928836_-0_01975479_0_00427372_0_252906278",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`

// rezip rebuilds a zip with some members changed (nil removes one).
func rezip(t *testing.T, data []byte, change map[string][]byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		members[f.Name] = b
	}
	for name, b := range change {
		if b == nil {
			delete(members, name)
		} else {
			members[name] = b
		}
	}
	return zipFiles(t, members)
}

func member(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	for _, f := range zr.File {
		if f.Name == name {
			rc, _ := f.Open()
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return b
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

func TestShapefileDamage(t *testing.T) {
	good := readFixture(t, "site_shp.zip")
	shp := member(t, good, "site.shp")
	cases := []struct {
		name   string
		change map[string][]byte
		opt    Options
		want   string
	}{
		{"truncated .shp", map[string][]byte{"site.shp": shp[:140]}, Options{}, "x.zip: site.shp: truncated: the header says"},
		{"truncated record", map[string][]byte{"site.shp": fixLength(shp[:140])}, Options{}, "x.zip: site.shp: record 1: truncated"},
		{"no .prj", map[string][]byte{"site.prj": nil}, Options{}, "x.zip: site.prj: missing"},
		{"not UTF-8, no .cpg", map[string][]byte{"site.cpg": nil, "site.dbf": bytes.Replace(dbf(t, 1), []byte(siteName), append([]byte("Khu \xf0\xe2t"), bytes.Repeat([]byte(" "), len(siteName)-8)...), 1)}, Options{}, "x.zip: site.dbf: record 1: field TEN is not UTF-8"},
		{"TCVN3", map[string][]byte{"site.cpg": []byte("TCVN3")}, Options{}, "x.zip: site.cpg: code page \"TCVN3\""},
		{"dbf short", map[string][]byte{"site.dbf": dbf(t, 1)[:150]}, Options{}, "x.zip: site.dbf: record 1: truncated"},
	}
	for _, c := range cases {
		_, err := Decode("x.zip", rezip(t, good, c.change), c.opt)
		if zone.ErrorCode(err) != zone.CodeInvalid || !strings.Contains(zone.ErrorMessage(err), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	// No .prj but a CRS chosen: read in it.
	res, err := Decode("x.zip", rezip(t, good, map[string][]byte{"site.prj": nil}), Options{CRS: crs.Must("EPSG:9215")})
	if err != nil || res.CRS.Code != "EPSG:9215" {
		t.Errorf("no .prj with a chosen CRS: %v", err)
	}
	// Windows-1258 attributes with a .cpg saying so.
	cp1258 := []byte("Khu \xf0\xe2\xect") // "Khu đất" in CP1258: đ, â, combining acute (0xEC), t
	d := bytes.Replace(dbf(t, 1), []byte(siteName), append(cp1258, bytes.Repeat([]byte(" "), len(siteName)-len(cp1258))...), 1)
	res, err = Decode("x.zip", rezip(t, good, map[string][]byte{"site.cpg": []byte("1258"), "site.dbf": d}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Features.Features[0].Properties["TEN"]; got != "Khu đất" {
		t.Errorf("CP1258 name decoded as %q", got)
	}
	if got := res.Features.Features[0].Properties["SO_DIEM"]; got != float64(len(siteTM3)) {
		t.Errorf("SO_DIEM = %v", got)
	}
}

// fixLength makes the header's file length agree with a cut file, so the
// damage is found in the record.
func fixLength(b []byte) []byte {
	b = append([]byte(nil), b...)
	n := uint32(len(b) / 2)
	b[24], b[25], b[26], b[27] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return b
}

func TestAssemblePolygons(t *testing.T) {
	sq := func(x0, y0, s float64, cw bool) []orb.Point {
		r := []orb.Point{{x0, y0}, {x0, y0 + s}, {x0 + s, y0 + s}, {x0 + s, y0}, {x0, y0}}
		if !cw {
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
		}
		return r
	}
	// Outer with a hole, plus a separate island, holes listed first and
	// windings wrong: nesting decides.
	g := assemblePolygons([][]orb.Point{sq(2, 2, 2, true), sq(0, 0, 10, false), sq(20, 20, 5, false)})
	mp, ok := g.(orb.MultiPolygon)
	if !ok || len(mp) != 2 || len(mp[0]) != 2 || len(mp[1]) != 1 {
		t.Fatalf("got %#v", g)
	}
	if mp[0][0][1] != (orb.Point{10, 0}) && mp[0][0][1] != (orb.Point{0, 10}) {
		t.Errorf("outer ring of polygon 1 is %v", mp[0][0])
	}
}

func TestKMLGeometries(t *testing.T) {
	kml := `<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder>
<Placemark><name>pt</name><Point><coordinates>106.75,21.85,0</coordinates></Point></Placemark>
<Placemark><name>road</name><LineString><coordinates>106.75,21.85 106.76,21.86</coordinates></LineString></Placemark>
<Placemark><name>holed</name><Polygon>
  <outerBoundaryIs><LinearRing><coordinates>106.70,21.80 106.80,21.80 106.80,21.90 106.70,21.90</coordinates></LinearRing></outerBoundaryIs>
  <innerBoundaryIs><LinearRing><coordinates>106.74,21.84 106.76,21.84 106.76,21.86 106.74,21.84</coordinates></LinearRing></innerBoundaryIs>
</Polygon></Placemark>
<Placemark><name>mixed</name><MultiGeometry>
  <Point><coordinates>106.75,21.85</coordinates></Point>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>106.70,21.80 106.80,21.80 106.80,21.90 106.70,21.80</coordinates></LinearRing></outerBoundaryIs></Polygon>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>107.70,21.80 107.80,21.80 107.80,21.90 107.70,21.80</coordinates></LinearRing></outerBoundaryIs></Polygon>
</MultiGeometry></Placemark>
</Folder></Document></kml>`
	res, err := Decode("a.kml", []byte(kml), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, f := range res.Features.Features {
		types = append(types, f.Properties["name"].(string)+":"+f.Geometry.GeoJSONType())
	}
	want := "pt:Point road:LineString holed:Polygon mixed:MultiPolygon mixed:Point"
	if strings.Join(types, " ") != want {
		t.Errorf("got %v, want %s", types, want)
	}
	if p := res.Features.Features[2].Geometry.(orb.Polygon); len(p) != 2 || p[0][0] != p[0][len(p[0])-1] {
		t.Errorf("holed polygon: %v", p)
	}
	_, err = Decode("b.kml", []byte(`<kml><Placemark><name>x</name><Point><coordinates>106.75;21.85</coordinates></Point></Placemark></kml>`), Options{})
	if !strings.Contains(zone.ErrorMessage(err), `b.kml: placemark 1 "x"`) || !strings.Contains(zone.ErrorMessage(err), "not lon,lat") {
		t.Errorf("bad coordinates: %v", err)
	}
	_, err = Decode("c.kml", []byte(`<kml><Document><Placemark><Point><coordinates>2417150,448120</coordinates></Point></Placemark></Document></kml>`), Options{})
	if !strings.Contains(zone.ErrorMessage(err), "projected metres") {
		t.Errorf("metres in KML: %v", err)
	}
	_, err = Decode("d.kml", []byte(`<kml><Document><Placemark>`), Options{})
	if !strings.Contains(zone.ErrorMessage(err), "d.kml") {
		t.Errorf("broken XML: %v", err)
	}
}

func TestGeoJSONProblems(t *testing.T) {
	fc := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106.75,21.85]}},
{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[21.85,106.75]}},
{"type":"Feature","properties":{},"geometry":null}]}`
	_, err := Decode("p.geojson", []byte(fc), Options{})
	d := zone.ErrorDetails(err)
	if len(d) != 2 || d[0].Index != 1 || d[0].Pointer != "p.geojson: feature 2" || !strings.Contains(d[0].Reason, "swapped") ||
		d[1].Index != 2 || !strings.Contains(d[1].Reason, "no geometry") {
		t.Errorf("got %v %+v", err, d)
	}
	// Coordinates in a TM-3 zone through Options, and through a crs member
	// that wins over the option.
	tm := `{"type":"Polygon","coordinates":[[[448120,2417150],[448295.25,2417180.5],[448340,2417085.75],[448120,2417150]]]}`
	if _, err := Decode("q.geojson", []byte(tm), Options{}); !strings.Contains(zone.ErrorMessage(err), "projected metres") {
		t.Errorf("metres as WGS84: %v", err)
	}
	res, err := Decode("q.geojson", []byte(tm), Options{CRS: crs.Must("EPSG:9215")})
	if err != nil || res.CRS.Code != "EPSG:9215" {
		t.Errorf("with a CRS option: %v", err)
	}
	withMember := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:5899"}},"features":[{"type":"Feature","properties":{},"geometry":` + tm + `}]}`
	res, err = Decode("r.geojson", []byte(withMember), Options{CRS: crs.Must("EPSG:9215")})
	if err != nil || res.CRS.Code != "EPSG:5899" {
		t.Errorf("crs member: %v %v", res, err)
	}
	if _, err := Decode("s.geojson", []byte(`{"type":"FeatureCollection","features":[`), Options{}); !strings.Contains(zone.ErrorMessage(err), "s.geojson: not valid JSON") {
		t.Errorf("truncated JSON: %v", err)
	}
	if _, err := Decode("t.geojson", []byte(`{"type":"FeatureCollection","features":[]}`), Options{}); !strings.Contains(zone.ErrorMessage(err), "no features") {
		t.Errorf("empty: %v", err)
	}
}

func TestBOMAndCharsets(t *testing.T) {
	bom := []byte("\xef\xbb\xbf")
	for file, opt := range map[string]Options{"site.geojson": {}, "site.kml": {}, "site.csv": {CRS: crs.Must("EPSG:9215")}} {
		b := append(append([]byte(nil), bom...), readFixture(t, file)...)
		if _, err := Decode(file, b, opt); err != nil {
			t.Errorf("%s with a BOM: %v", file, err)
		}
		if _, err := Decode("upload", b, opt); err != nil {
			t.Errorf("%s with a BOM, sniffed: %v", file, err)
		}
	}
	// windows-1258 KML: "Mốc" is M, o-circumflex (0xF4), combining acute (0xEC), c.
	kml := []byte("<?xml version=\"1.0\" encoding=\"windows-1258\"?>\n<kml><Placemark><name>M\xf4\xecc</name><Point><coordinates>106.75,21.85</coordinates></Point></Placemark></kml>")
	res, err := Decode("w.kml", kml, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Features.Features[0].Properties["name"]; got != "M\u00f4\u0301c" && got != "Mốc" {
		t.Errorf("name %q", got)
	}
}
