package formats

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// update regenerates the fixtures in testdata: go test ./internal/formats -run TestFixtures -update
var update = flag.Bool("update", false, "regenerate testdata fixtures")

// siteTM3 is the one synthetic project footprint every good fixture holds: a
// six-point parcel in Lang Son city, as a survey gives it in VN-2000 TM-3
// 107°15' (EPSG:9215): point number, X northing, Y easting (metres). It is a
// civil project site, not a defence location.
var siteTM3 = []struct {
	num  string
	x, y float64
}{
	{"1", 2417150.000, 448120.000},
	{"2", 2417180.500, 448295.250},
	{"3", 2417085.750, 448340.000},
	{"4", 2416990.000, 448280.500},
	{"5", 2416975.250, 448150.750},
	{"6", 2417060.000, 448095.000},
}

const siteName = "Khu đất dự án thử nghiệm (tổng hợp)" // "trial project parcel (synthetic)"

// siteRingTM3 is the footprint as a closed ring of easting, northing.
func siteRingTM3() orb.Ring {
	var r orb.Ring
	for _, p := range siteTM3 {
		r = append(r, orb.Point{p.y, p.x})
	}
	return append(r, r[0])
}

// siteRingWGS84 is the footprint in WGS84 by package crs.
func siteRingWGS84(t testing.TB) orb.Ring {
	t.Helper()
	g, err := crs.TransformToWGS84(siteRingTM3(), crs.Must("EPSG:9215"))
	if err != nil {
		t.Fatal(err)
	}
	return g.(orb.Ring)
}

// esriPRJ9215 is the .prj ArcGIS and GDAL write for EPSG:9215 (PROJ
// projinfo -o WKT1_ESRI).
const esriPRJ9215 = `PROJCS["VN-2000_TM-3_107-15",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.25],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`

// TestFixtures writes the fixtures with -update; without it, it checks they
// are there.
func TestFixtures(t *testing.T) {
	files := map[string][]byte{}
	wgs := siteRingWGS84(t)

	fc := geojson.NewFeatureCollection()
	f := geojson.NewFeature(orb.Polygon{wgs})
	f.Properties["name"] = siteName
	fc.Append(f)
	b, err := EncodeGeoJSON(fc, crs.CRS84())
	if err != nil {
		t.Fatal(err)
	}
	files["site.geojson"] = indentJSON(t, b)
	// The same site as the surveyor's coordinates in EPSG:9215, named by a
	// GeoJSON 2008 "crs" member as GDAL and QGIS write it (written from the
	// survey, not through EncodeGeoJSON, so the coordinates are exact).
	tm := geojson.NewFeatureCollection()
	tf := geojson.NewFeature(orb.Polygon{siteRingTM3()})
	tf.Properties["name"] = siteName
	tm.Append(tf)
	tm.ExtraMembers = geojson.Properties{"crs": map[string]any{"type": "name", "properties": map[string]any{"name": "urn:ogc:def:crs:EPSG::9215"}}}
	b, err = json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	files["site_9215.geojson"] = indentJSON(t, b)

	var coords []string
	for _, p := range wgs {
		coords = append(coords, fmt.Sprintf("%.9f,%.9f,0", p[0], p[1]))
	}
	kml := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
  <Document>
    <name>Dự án</name>
    <Folder>
      <name>Ranh giới</name>
      <Placemark>
        <name>%s</name>
        <ExtendedData><Data name="investor"><value>Công ty TNHH Thử nghiệm</value></Data></ExtendedData>
        <MultiGeometry>
          <Polygon>
            <outerBoundaryIs><LinearRing><coordinates>
              %s
            </coordinates></LinearRing></outerBoundaryIs>
          </Polygon>
        </MultiGeometry>
      </Placemark>
    </Folder>
  </Document>
</kml>
`, siteName, strings.Join(coords, "\n              "))
	files["site.kml"] = []byte(kml)
	files["site.kmz"] = zipFiles(t, map[string][]byte{"doc.kml": []byte(kml)})

	shp := shapefileZip(t, "site", siteRingTM3(), esriPRJ9215, "UTF-8")
	files["site_shp.zip"] = shp

	var csv strings.Builder
	csv.WriteString("Số hiệu điểm,X (m),Y (m)\n")
	for _, p := range siteTM3 {
		fmt.Fprintf(&csv, "%s,%.3f,%.3f\n", p.num, p.x, p.y)
	}
	fmt.Fprintf(&csv, "%s,%.3f,%.3f\n", siteTM3[0].num, siteTM3[0].x, siteTM3[0].y) // surveys repeat point 1
	files["site.csv"] = []byte(csv.String())
	var txt strings.Builder
	txt.WriteString("Điểm  X  Y\n")
	for _, p := range siteTM3 {
		fmt.Fprintf(&txt, "%s   %s   %s\n", p.num, strings.Replace(fmt.Sprintf("%.3f", p.x), ".", ",", 1), strings.Replace(fmt.Sprintf("%.3f", p.y), ".", ",", 1))
	}
	files["site_pasted.txt"] = []byte(txt.String())

	// Bad files, one per case the issue names.
	files["bad_truncated.zip"] = shp[:len(shp)*6/10]
	files["bad_no_shp.zip"] = zipFiles(t, map[string][]byte{"site.dbf": dbf(t, 1), "site.prj": []byte(esriPRJ9215)})
	files["bad_unknown_prj.zip"] = shapefileZip(t, "site", siteRingTM3(),
		`PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]`, "UTF-8")
	files["bad_no_geometry.kml"] = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark><name>Mốc 1</name><description>no geometry here</description></Placemark>
</Document></kml>
`)
	files["bad_non_numeric.csv"] = []byte("STT,X,Y\n1,2417150.000,448120.000\n2,2417180.500,448295.250\n3,2417O85.750,448340.000\n4,2416990.000,448280.500\n")
	files["bad_two_points.csv"] = []byte("STT,X,Y\n1,2417150.000,448120.000\n2,2417180.500,448295.250\n")
	var swapped strings.Builder
	swapped.WriteString("STT,X,Y\n")
	for _, p := range siteTM3 {
		fmt.Fprintf(&swapped, "%s,%.3f,%.3f\n", p.num, p.y, p.x) // easting in the X column: the pitfall
	}
	files["bad_swapped_xy.csv"] = []byte(swapped.String())

	if *update {
		for name, b := range files {
			if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		gdalShapefile(t)
		return
	}
	for name := range files {
		if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
			t.Errorf("fixture %s missing: run go test ./internal/formats -run TestFixtures -update", name)
		}
	}
}

// gdalShapefile writes testdata/site_gdal.zip with GDAL's ogr2ogr from the
// EPSG:9215 GeoJSON (coordinates assigned, not transformed: they are ours),
// so the reader is also held against a shapefile another program wrote.
// Skipped where GDAL is not installed.
func gdalShapefile(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Log("ogr2ogr not found: testdata/site_gdal.zip not regenerated")
		return
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "site.shp")
	cmd := exec.Command("ogr2ogr", "-f", "ESRI Shapefile", "-a_srs", "EPSG:9215", "-lco", "ENCODING=UTF-8", out, filepath.Join("testdata", "site_9215.geojson"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v: %s", err, b)
	}
	members := map[string][]byte{}
	for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
		b, err := os.ReadFile(filepath.Join(dir, "site"+ext))
		if err != nil {
			t.Fatal(err)
		}
		members["site"+ext] = b
	}
	if err := os.WriteFile(filepath.Join("testdata", "site_gdal.zip"), zipFiles(t, members), 0o644); err != nil {
		t.Fatal(err)
	}
}

func indentJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// zipFiles zips members in name order.
func zipFiles(t testing.TB, members map[string][]byte) []byte {
	t.Helper()
	var names []string
	for n := range members {
		names = append(names, n)
	}
	sortStrings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(members[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// shapefileZip writes a one-polygon shapefile (.shp, .shx, .dbf, .prj,
// .cpg) of ring (clockwise, as the format wants outer rings) and zips it.
// A test-only writer: zoneplan reads shapefiles, it does not write them.
func shapefileZip(t testing.TB, base string, ring orb.Ring, prj, cpg string) []byte {
	t.Helper()
	b := ring.Bound()
	// Record content: type, bbox, numParts, numPoints, parts, points.
	var content bytes.Buffer
	le := binary.LittleEndian
	put := func(v any) { _ = binary.Write(&content, le, v) }
	put(int32(shpPolygon))
	put([4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]})
	put(int32(1))
	put(int32(len(ring)))
	put(int32(0))
	for _, p := range ring {
		put([2]float64{p[0], p[1]})
	}
	header := func(fileLen int) []byte {
		h := make([]byte, 100)
		binary.BigEndian.PutUint32(h[0:], 9994)
		binary.BigEndian.PutUint32(h[24:], uint32(fileLen/2))
		le.PutUint32(h[28:], 1000)
		le.PutUint32(h[32:], shpPolygon)
		for i, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
			le.PutUint64(h[36+8*i:], math.Float64bits(v))
		}
		return h
	}
	var shp bytes.Buffer
	shp.Write(header(100 + 8 + content.Len()))
	rh := make([]byte, 8)
	binary.BigEndian.PutUint32(rh[0:], 1)
	binary.BigEndian.PutUint32(rh[4:], uint32(content.Len()/2))
	shp.Write(rh)
	shp.Write(content.Bytes())
	var shx bytes.Buffer
	shx.Write(header(100 + 8))
	ix := make([]byte, 8)
	binary.BigEndian.PutUint32(ix[0:], 50)
	binary.BigEndian.PutUint32(ix[4:], uint32(content.Len()/2))
	shx.Write(ix)
	return zipFiles(t, map[string][]byte{
		base + ".shp": shp.Bytes(), base + ".shx": shx.Bytes(), base + ".dbf": dbf(t, 1),
		base + ".prj": []byte(prj), base + ".cpg": []byte(cpg),
	})
}

// dbf writes a dBASE III table of n records with a text field TEN (the
// site's name, UTF-8) and a numeric field SO_DIEM (vertex count).
func dbf(t testing.TB, n int) []byte {
	t.Helper()
	type field struct {
		name string
		typ  byte
		len  int
	}
	fields := []field{{"TEN", 'C', 80}, {"SO_DIEM", 'N', 10}}
	rlen := 1
	for _, f := range fields {
		rlen += f.len
	}
	hlen := 32 + 32*len(fields) + 1
	var buf bytes.Buffer
	h := make([]byte, 32)
	h[0] = 3
	h[1], h[2], h[3] = 126, 1, 1
	binary.LittleEndian.PutUint32(h[4:], uint32(n))
	binary.LittleEndian.PutUint16(h[8:], uint16(hlen))
	binary.LittleEndian.PutUint16(h[10:], uint16(rlen))
	buf.Write(h)
	for _, f := range fields {
		d := make([]byte, 32)
		copy(d, f.name)
		d[11] = f.typ
		d[16] = byte(f.len)
		buf.Write(d)
	}
	buf.WriteByte(0x0d)
	for i := 0; i < n; i++ {
		buf.WriteByte(' ')
		name := []byte(siteName)
		buf.Write(append(name, bytes.Repeat([]byte(" "), 80-len(name))...))
		buf.WriteString(fmt.Sprintf("%10d", len(siteTM3)))
	}
	buf.WriteByte(0x1a)
	return buf.Bytes()
}
