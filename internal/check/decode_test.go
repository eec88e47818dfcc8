package check

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestDecodeFootprintsPlainAndTransformed(t *testing.T) {
	wgs := `{"type":"Polygon","coordinates":[[[106.75,21.84],[106.76,21.84],[106.76,21.85],[106.75,21.84]]]}`
	plain := Input{Name: "body", Data: []byte(wgs), Format: formats.GeoJSON}
	if !plain.Plain() {
		t.Fatal("WGS84 GeoJSON without crs is not plain")
	}
	d, err := DecodeFootprints(plain)
	if err != nil || len(d.Footprints) != 1 || d.Footprints[0].Index != -1 {
		t.Fatalf("plain: %+v %v", d, err)
	}
	// The same place given in VN-2000 TM-3 (Lạng Sơn, EPSG:9215) metres.
	c := crs.Must("EPSG:9215")
	ring := d.Footprints[0].Geometry
	projected, err := crs.TransformFromWGS84(ring, c)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(geomJSONForTest(t, projected), "{", `{"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::9215"}},`, 1)
	in := Input{Name: "body", Data: []byte(body), Format: formats.GeoJSON}
	if in.Plain() {
		t.Fatal("GeoJSON with a crs member counted as plain")
	}
	d2, err := DecodeFootprints(in)
	if err != nil || len(d2.Footprints) != 1 || d2.Footprints[0].Index != -1 || d2.CRS.Code != c.Code {
		t.Fatalf("transformed: %+v %v", d2, err)
	}
	if a, b := measure(d.Footprints[0].Geometry).AreaM2, measure(d2.Footprints[0].Geometry).AreaM2; a-b > 0.01 || b-a > 0.01 {
		t.Fatalf("areas differ: %f vs %f", a, b)
	}
	// Degrees stated as VN-2000 metres are refused, naming the vertex.
	_, err = DecodeFootprints(Input{Name: "body", Data: []byte(wgs), CRS: c})
	if zone.ErrorCode(err) != zone.CodeInvalid || !strings.Contains(err.Error(), "degrees") {
		t.Fatalf("degrees as metres: %v", err)
	}
}

func geomJSONForTest(t *testing.T, g orb.Geometry) string {
	t.Helper()
	b, err := json.Marshal(geojson.NewGeometry(g))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// kmzBomb zips a KML of n point placemarks (92 bytes each) as doc.kml,
// streaming: 674,000 make 62 MB of KML in a 2 MB upload.
func kmzBomb(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "doc.kml", Method: zip.Deflate})
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<kml xmlns="http://www.opengis.net/kml/2.2"><Document>` + "\n")
	for i := range n {
		fmt.Fprintf(bw, "<Placemark><name>%d</name><Point><coordinates>106.7%d,21.85</coordinates></Point></Placemark>\n", i%10, i%7)
	}
	bw.WriteString("</Document></kml>\n")
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// pointCollection is a FeatureCollection of n points in Lang Son.
func pointCollection(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106.75,21.85]}}`)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeFootprintsLimits: bombs are refused while read, by the plain
// path (a JSON body) and the upload path alike, with CodeLimit, cheaply;
// a caller's smaller limit holds, and a larger one never takes the check
// past what it accepts.
func TestDecodeFootprintsLimits(t *testing.T) {
	const mb = 1 << 20
	body := pointCollection(700_000) // 63 MB
	cases := []struct {
		name  string
		in    Input
		want  string
		bound uint64
	}{
		// Counted, not decoded, before ParseFootprints.
		{"plain body of 700k features", Input{Name: "request body", Data: body, Format: formats.GeoJSON},
			"request body: more than 10000 features (the limit per upload)", 8 * mb},
		{"the same uploaded", Input{Name: "site.geojson", Data: body, Upload: true},
			"site.geojson: more than 10000 features (the limit per upload)", 32 * mb},
		{"KMZ of 674k placemarks", Input{Name: "site.kmz", Data: kmzBomb(t, 674_000), Upload: true},
			"site.kmz: doc.kml: more than 10000 placemarks (the limit per upload)", 64 * mb},
		{"a larger limit is held to the check's", Input{Name: "request body", Data: body, Limits: formats.Limits{MaxFeatures: 1 << 30}},
			"request body: more than 10000 features (the limit per upload)", 8 * mb},
		{"a smaller limit holds", Input{Name: "request body", Data: pointCollection(51), Limits: formats.Limits{MaxFeatures: 50}},
			"request body: more than 50 features (the limit per upload)", 1 * mb},
		{"a smaller limit holds on uploads", Input{Name: "site.kmz", Data: kmzBomb(t, 51), Upload: true, Limits: formats.Limits{MaxFeatures: 50}},
			"site.kmz: doc.kml: more than 50 placemarks (the limit per upload)", 1 * mb},
		// 2 x 60,000 vertices: each geometry is within zone.MaxVertices,
		// together they are over what one check accepts.
		{"vertices in all", Input{Name: "request body", Data: twoLines(60_000)},
			"request body: more than 100000 vertices (the limit per upload)", 16 * mb},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			got := allocated(func() { _, err = DecodeFootprints(c.in) })
			t.Logf("%d bytes; refused having allocated %.1f MB: %v", len(c.in.Data), float64(got)/mb, err)
			if zone.ErrorCode(err) != zone.CodeLimit || zone.ErrorMessage(err) != c.want {
				t.Fatalf("got %v, want limit %q", err, c.want)
			}
			if d := zone.ErrorDetails(err); len(d) != 1 || (c.in.Plain() && d[0].Pointer != "") {
				t.Errorf("details %+v: want one, pointing into the body for a plain one", d)
			}
			if got > c.bound {
				t.Errorf("allocated %.1f MB, more than the %.0f MB bound", float64(got)/mb, float64(c.bound)/mb)
			}
		})
	}
	// Within the limits the plain path reads as before.
	if d, err := DecodeFootprints(Input{Name: "request body", Data: pointCollection(50), Limits: formats.Limits{MaxFeatures: 50}}); err != nil || len(d.Footprints) != 50 {
		t.Errorf("50 features at a limit of 50: %d footprints, %v", len(d.Footprints), err)
	}
}

// twoLines is a FeatureCollection of two LineStrings of n vertices each.
func twoLines(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for f := range 2 {
		if f > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[106.%06d,21.%06d]", i, f)
		}
		b.WriteString("]}}")
	}
	b.WriteString("]}")
	return b.Bytes()
}

// BenchmarkDecodeFootprintsKMZBomb: a 62 MB KML in a 2 MB KMZ through the
// whole upload path to its refusal at the 10,001st placemark. Before issue
// 12 the same bomb took 6.8 s and 2.66 GB a decode (all 674,000 placemarks
// parsed, marshalled and parsed again before the count refused them).
func BenchmarkDecodeFootprintsKMZBomb(b *testing.B) {
	in := Input{Name: "site.kmz", Data: kmzBomb(b, 674_000), Upload: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeFootprints(in); zone.ErrorCode(err) != zone.CodeLimit {
			b.Fatal(err)
		}
	}
}
