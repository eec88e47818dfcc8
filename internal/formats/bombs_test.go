package formats

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The bombs of issue 12, built here (nothing large is committed): each is
// refused with the right code and message, and cheaply — the bytes Decode
// allocates (runtime.MemStats.TotalAlloc, which no other test disturbs: the
// package's tests do not run in parallel) stay under a bound the streaming
// design guarantees, far below what reading the bomb whole would cost (a
// few times more under the race detector: allocSlack).

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bombZip zips members written by the functions, streaming, in order.
func bombZip(tb testing.TB, members ...any) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(members); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: members[i].(string), Method: zip.Deflate})
		if err != nil {
			tb.Fatal(err)
		}
		bw := bufio.NewWriterSize(w, 1<<16)
		members[i+1].(func(w *bufio.Writer))(bw)
		if err := bw.Flush(); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// kmzBomb zips a KML of n point placemarks (92 bytes each: 674,000 make 62
// MB, about 2 MB zipped) as doc.kml.
func kmzBomb(tb testing.TB, n int) []byte {
	tb.Helper()
	return bombZip(tb, "doc.kml", func(w *bufio.Writer) {
		w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<kml xmlns="http://www.opengis.net/kml/2.2"><Document>` + "\n")
		for i := range n {
			fmt.Fprintf(w, "<Placemark><name>%d</name><Point><coordinates>106.7%d,21.85</coordinates></Point></Placemark>\n", i%10, i%7)
		}
		w.WriteString("</Document></kml>\n")
	})
}

// shpHeader is a .shp file header for a file of fileLen bytes.
func shpHeader(fileLen int64, shapeType int) []byte {
	h := make([]byte, 100)
	binary.BigEndian.PutUint32(h[0:], 9994)
	binary.BigEndian.PutUint32(h[24:], uint32(fileLen/2))
	binary.LittleEndian.PutUint32(h[28:], 1000)
	binary.LittleEndian.PutUint32(h[32:], uint32(shapeType))
	return h
}

// pointRecords writes n point records (28 bytes each) at (x, y).
func pointRecords(w *bufio.Writer, n int, x, y float64) {
	rec := make([]byte, 28)
	binary.BigEndian.PutUint32(rec[4:], 10) // content: 20 bytes
	binary.LittleEndian.PutUint32(rec[8:], shpPoint)
	binary.LittleEndian.PutUint64(rec[12:], math.Float64bits(x))
	binary.LittleEndian.PutUint64(rec[20:], math.Float64bits(y))
	for i := range n {
		binary.BigEndian.PutUint32(rec[0:], uint32(i+1))
		w.Write(rec)
	}
}

// limitRefusal checks err is CodeLimit with a message holding each want.
func limitRefusal(t *testing.T, err error, want ...string) {
	t.Helper()
	if zone.ErrorCode(err) != zone.CodeLimit {
		t.Fatalf("code %s, want limit: %v", zone.ErrorCode(err), err)
	}
	for _, w := range want {
		if !strings.Contains(zone.ErrorMessage(err), w) {
			t.Errorf("message %q lacks %q", zone.ErrorMessage(err), w)
		}
	}
	if d := zone.ErrorDetails(err); len(d) != 1 || d[0].Reason == "" {
		t.Errorf("details %+v: want the one limit", d)
	}
}

func TestBombs(t *testing.T) {
	const mb = 1 << 20
	tm3 := crs.Must("EPSG:9215")
	prj := func(w *bufio.Writer) { w.WriteString(esriPRJ9215) }
	cases := []struct {
		name  string
		file  string
		data  func(t *testing.T) []byte
		opt   Options
		code  zone.Code
		want  []string
		bound uint64 // bytes Decode may allocate
	}{{
		// 674,000 placemarks in 62 MB of KML: refused at the 10,001st,
		// after inflating some 1 MB; the old code parsed all of them.
		name: "KMZ of 674k placemarks", file: "site.kmz",
		data: func(t *testing.T) []byte { return kmzBomb(t, 674_000) },
		code: zone.CodeLimit, want: []string{"site.kmz: doc.kml: more than 10000 placemarks (the limit per upload)"},
		bound: 64 * mb,
	}, {
		// A .shp whose zip header declares 200 MB: refused from the header.
		name: "shapefile declaring 200 MB", file: "site.zip",
		data: func(t *testing.T) []byte { return declaredSHP(t, 200*mb) },
		code: zone.CodeLimit, want: []string{"site.zip: site.shp: expands to more than 64 MiB (the limit per zip member)"},
		bound: 1 * mb,
	}, {
		// One polygon record claiming 3.9 million points in 60 MB: refused
		// from its 44-byte head, before its points are read.
		name: "shapefile polygon of 3.9M points", file: "site.zip",
		data: func(t *testing.T) []byte {
			const np = 3_900_000
			content := int64(44 + 4 + 16*np)
			return bombZip(t, "site.prj", prj, "site.shp", func(w *bufio.Writer) {
				w.Write(shpHeader(100+8+content, shpPolygon))
				rh := make([]byte, 8+44+4)
				binary.BigEndian.PutUint32(rh[0:], 1)
				binary.BigEndian.PutUint32(rh[4:], uint32(content/2))
				binary.LittleEndian.PutUint32(rh[8:], shpPolygon)
				binary.LittleEndian.PutUint32(rh[8+36:], 1)
				binary.LittleEndian.PutUint32(rh[8+40:], np)
				w.Write(rh)
				w.Write(make([]byte, 16*np))
			})
		},
		code: zone.CodeLimit, want: []string{"site.zip: site.shp: record 1: more than 100000 vertices (the limit per feature)"},
		bound: 1 * mb,
	}, {
		// 2.3 million point records in 64 MB: refused at the 10,001st.
		name: "shapefile of 2.3M points", file: "site.zip",
		data: func(t *testing.T) []byte {
			const n = 2_300_000
			return bombZip(t, "site.prj", prj, "site.shp", func(w *bufio.Writer) {
				w.Write(shpHeader(100+28*n, shpPoint))
				pointRecords(w, n, 448120, 2417150)
			})
		},
		code: zone.CodeLimit, want: []string{"site.zip: site.shp: more than 10000 shapes (the limit per upload)"},
		bound: 16 * mb,
	}, {
		// A .dbf of 32,000 records of 2,000 one-byte fields (64 MB of
		// blanks): 64 million attribute values; refused at the 500,001st.
		name: "dBASE of 64M one-byte fields", file: "site.zip",
		data: func(t *testing.T) []byte {
			const fields, records = 2000, 32_000
			return bombZip(t, "site.dbf", func(w *bufio.Writer) {
				hlen := 32 + 32*fields + 1
				h := make([]byte, 32)
				h[0] = 3
				binary.LittleEndian.PutUint32(h[4:], records)
				binary.LittleEndian.PutUint16(h[8:], uint16(hlen))
				binary.LittleEndian.PutUint16(h[10:], 1+fields)
				w.Write(h)
				for i := range fields {
					d := make([]byte, 32)
					copy(d, fmt.Sprintf("F%d", i))
					d[11], d[16] = 'C', 1
					w.Write(d)
				}
				w.WriteByte(0x0d)
				w.Write(bytes.Repeat([]byte(" "), records*(1+fields)))
			}, "site.prj", prj, "site.shp", func(w *bufio.Writer) {
				w.Write(shpHeader(100+28*records, shpPoint))
				pointRecords(w, records, 448120, 2417150)
			})
		},
		code: zone.CodeLimit, want: []string{"site.zip: site.dbf: more than 500000 attribute values (the limit per upload)"},
		bound: 128 * mb,
	}, {
		// doc.kml inflates to 62 MB but its headers say 1,000 bytes:
		// archive/zip stops at the 1,001st byte and the archive is damaged.
		name: "KMZ member lying about its size", file: "site.kmz",
		data: func(t *testing.T) []byte { return lyingZip(t, kmzBomb(t, 674_000), 1000) },
		code: zone.CodeInvalid, want: []string{"site.kmz: doc.kml", "cannot read from the archive"},
		bound: 1 * mb,
	}, {
		// 1,000,000 features in 67 MB: refused at the 10,001st.
		name: "GeoJSON of 1M features", file: "site.geojson",
		data: func(t *testing.T) []byte { return geojsonBomb(1_000_000) },
		code: zone.CodeLimit, want: []string{"site.geojson: more than 10000 features (the limit per upload)"},
		bound: 32 * mb,
	}, {
		// 2,000,000 rows of one boundary in 50 MB: refused at the 100,002nd.
		name: "table of 2M rows", file: "site.csv",
		data: func(t *testing.T) []byte {
			var b bytes.Buffer
			for i := range 2_000_000 {
				fmt.Fprintf(&b, "%d,%.3f,448120.000\n", i+1, 2417150+float64(i%1000)/1000)
			}
			return b.Bytes()
		},
		opt:  Options{CRS: tm3},
		code: zone.CodeLimit, want: []string{"site.csv: more than 100000 rows: a boundary may have at most 100000 vertices (the limit per feature)"},
		bound: 64 * mb,
	}, {
		// One placemark of 5,000,000 coordinates in 20 MB: encoding/xml is
		// given the first 16 MiB of the text (the token limit), of which
		// the coordinates parser reads 100,001 tuples.
		name: "KML placemark of 5M coordinates", file: "site.kml",
		data: func(t *testing.T) []byte { return kmlLine(5_000_000) },
		code: zone.CodeLimit, want: []string{"site.kml: placemark 1 (line 1): more than 100000 coordinates in one <coordinates> (the limit per feature)"},
		bound: 64 * mb,
	}, {
		// A 20 MB description: refused at 16 MiB.
		name: "KML description of 20 MB", file: "site.kml",
		data: func(t *testing.T) []byte {
			return []byte("<kml><Placemark><description>" + strings.Repeat("x", 20<<20) + "</description></Placemark></kml>")
		},
		code: zone.CodeLimit, want: []string{"site.kml: line 1: more than 16 MiB in the text of one <description> (the limit per XML token)"},
		bound: 80 * mb, // encoding/xml's buffer grown to 16 MiB, and the text gathered

	}, {
		// 150,000 coordinates in 600 KB: under the token limit, refused at
		// the 100,001st by the coordinates parser.
		name: "KML placemark of 150k coordinates", file: "site.kml",
		data: func(t *testing.T) []byte { return kmlLine(150_000) },
		code: zone.CodeLimit, want: []string{"site.kml: placemark 1 (line 1): more than 100000 coordinates in one <coordinates> (the limit per feature)"},
		bound: 16 * mb,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.data(t)
			var err error
			got := allocated(func() { _, err = Decode(c.file, data, c.opt) })
			t.Logf("%d bytes uploaded; refused having allocated %.1f MB: %v", len(data), float64(got)/mb, err)
			if c.code == zone.CodeLimit {
				limitRefusal(t, err, c.want...)
			} else if zone.ErrorCode(err) != c.code || !strings.Contains(zone.ErrorMessage(err), c.want[0]) {
				t.Fatalf("got %v, want %s with %q", err, c.code, c.want)
			}
			if got > c.bound*allocSlack {
				t.Errorf("allocated %.1f MB, more than the %.0f MB bound", float64(got)/mb, float64(c.bound*allocSlack)/mb)
			}
		})
	}
}

// declaredSHP is a zip whose site.shp is a valid 100-byte header but whose
// zip headers declare size bytes.
func declaredSHP(tb testing.TB, size uint64) []byte {
	tb.Helper()
	return lyingZip(tb, bombZip(tb, "site.prj", func(w *bufio.Writer) { w.WriteString(esriPRJ9215) }, "site.shp", func(w *bufio.Writer) {
		w.Write(shpHeader(100, shpPoint))
	}), size)
}

// lyingZip rewrites a zip with its last member's headers declaring size
// bytes uncompressed, copying the compressed data as it is.
func lyingZip(tb testing.TB, data []byte, size uint64) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, f := range zr.File {
		h := f.FileHeader
		if i == len(zr.File)-1 {
			h.UncompressedSize64 = size
		}
		w, err := zw.CreateRaw(&h)
		if err != nil {
			tb.Fatal(err)
		}
		r, err := f.OpenRaw()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// geojsonBomb is a FeatureCollection of n point features, 67 bytes each.
func geojsonBomb(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// kmlLine is a KML of one placemark whose LineString has n coordinates.
func kmlLine(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<kml><Placemark><LineString><coordinates>`)
	for range n {
		b.WriteString("0,0 ")
	}
	b.WriteString(`</coordinates></LineString></Placemark></kml>`)
	return b.Bytes()
}

// TestMaxFeaturesStopsEarly: a caller allowed 50 features gets a 10,000
// feature upload refused at the 51st, having decoded no more than that: a
// fraction of what decoding the upload costs.
func TestMaxFeaturesStopsEarly(t *testing.T) {
	data := geojsonBomb(10_000)
	var err error
	whole := allocated(func() { _, err = Decode("site.geojson", data, Options{}) })
	if err != nil {
		t.Fatalf("10,000 features under the default limits: %v", err)
	}
	var res *Result
	got := allocated(func() { res, err = Decode("site.geojson", data, Options{Limits: Limits{MaxFeatures: 50}}) })
	limitRefusal(t, err, "site.geojson: more than 50 features (the limit per upload)")
	if res != nil {
		t.Errorf("a result beside the error")
	}
	t.Logf("all 10,000 features: %d bytes allocated; refused at the 51st: %d", whole, got)
	// 51 of 10,000 features is 0.5%; the decoder's fixed costs leave it
	// well under 5%.
	if got > whole/20 {
		t.Errorf("refusing at the 51st feature allocated %d bytes, more than 5%% of decoding all (%d)", got, whole)
	}

	// The same limit in every format.
	kmz := kmzBomb(t, 10_000)
	_, err = Decode("site.kmz", kmz, Options{Limits: Limits{MaxFeatures: 50}})
	limitRefusal(t, err, "site.kmz: doc.kml: more than 50 placemarks (the limit per upload)")
	shp := bombZip(t, "site.prj", func(w *bufio.Writer) { w.WriteString(esriPRJ9215) }, "site.shp", func(w *bufio.Writer) {
		w.Write(shpHeader(100+28*100, shpPoint))
		pointRecords(w, 100, 448120, 2417150)
	})
	if _, err := Decode("site.zip", shp, Options{}); err != nil {
		t.Fatalf("100 points under the default limits: %v", err)
	}
	_, err = Decode("site.zip", shp, Options{Limits: Limits{MaxFeatures: 50}})
	limitRefusal(t, err, "site.zip: site.shp: more than 50 shapes (the limit per upload)")
}

// TestLimitsEachCounted: every limit refuses the first thing past it, with
// its own message, and zero fields mean the defaults.
func TestLimitsEachCounted(t *testing.T) {
	if got := (Limits{}).WithDefaults(); got != DefaultLimits() {
		t.Errorf("zero limits: %+v, want the defaults %+v", got, DefaultLimits())
	}
	if got := (Limits{MaxFeatureVertices: 1 << 30}).WithDefaults().MaxFeatureVertices; got != zone.MaxVertices {
		t.Errorf("MaxFeatureVertices above zone.MaxVertices kept as %d", got)
	}
	site := readFixture(t, "site.geojson")
	// site.geojson: one polygon of 7 positions, one attribute ("name").
	tm3 := Options{CRS: crs.Must("EPSG:9215")}
	cases := []struct {
		name string
		lim  Limits
		file string
		opt  Options
		code zone.Code
		want string
	}{
		{"file bytes", Limits{MaxFileBytes: 100}, "site.geojson", Options{}, zone.CodeTooLarge, "site.geojson: " + fmt.Sprint(len(site)) + " bytes, more than the 100 bytes allowed"},
		{"vertices", Limits{MaxVertices: 6}, "site.geojson", Options{}, zone.CodeLimit, "site.geojson: more than 6 vertices (the limit per upload)"},
		{"feature vertices", Limits{MaxFeatureVertices: 6}, "site.geojson", Options{}, zone.CodeLimit, "site.geojson: feature 1: more than 6 vertices (the limit per feature)"},
		{"attributes", Limits{MaxAttributes: 1}, "site.geojson", Options{}, zone.CodeLimit, "site.geojson: more than 1 attribute values (the limit per upload)"},
		{"zip entries", Limits{MaxEntries: 4}, "site_shp.zip", Options{}, zone.CodeLimit, "site_shp.zip: more than 4 files in the archive (the limit per archive)"},
		{"member bytes", Limits{MaxExpandedBytes: 100}, "site_shp.zip", Options{}, zone.CodeLimit, "site_shp.zip: site.shp: expands to more than 100 bytes (the limit per zip member)"},
		{"archive bytes", Limits{MaxExpandedTotal: 300}, "site_shp.zip", Options{}, zone.CodeLimit, "site_shp.zip: expands to more than 300 bytes (the limit per archive)"},
		{"KML vertices", Limits{MaxVertices: 6}, "site.kml", Options{}, zone.CodeLimit, "site.kml: more than 6 vertices (the limit per upload)"},
		{"KML attributes", Limits{MaxAttributes: 1}, "site.kml", Options{}, zone.CodeLimit, "site.kml: more than 1 attribute values (the limit per upload)"},
		{"shapefile vertices", Limits{MaxFeatureVertices: 6}, "site_shp.zip", Options{}, zone.CodeLimit, "site_shp.zip: site.shp: record 1: more than 6 vertices (the limit per feature)"},
		{"dBASE attributes", Limits{MaxAttributes: 1}, "site_shp.zip", Options{}, zone.CodeLimit, "site_shp.zip: site.dbf: more than 1 attribute values (the limit per upload)"},
		{"table rows", Limits{MaxVertices: 5}, "site.csv", tm3, zone.CodeLimit, "site.csv: more than 5 rows: a boundary may have at most 5 vertices (the limit per feature)"},
	}
	for _, c := range cases {
		opt := c.opt
		opt.Limits = c.lim
		_, err := Decode(c.file, readFixture(t, c.file), opt)
		if zone.ErrorCode(err) != c.code || zone.ErrorMessage(err) != c.want {
			t.Errorf("%s: got %v, want %s %q", c.name, err, c.code, c.want)
		}
	}
	// One under each limit decodes.
	if _, err := Decode("site.geojson", site, Options{Limits: Limits{MaxVertices: 7, MaxFeatureVertices: 7, MaxAttributes: 2, MaxFeatures: 1}}); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}

// TestDeepMultiGeometry: MultiGeometry nested 20,000 deep (each level a Go
// call, and once a path string as long as the nesting) is refused as
// encoding/xml refused it, cheaply.
func TestDeepMultiGeometry(t *testing.T) {
	const n = 20_000
	kml := "<kml><Placemark>" + strings.Repeat("<MultiGeometry>", n) + "<Point><coordinates>106.75,21.85</coordinates></Point>" + strings.Repeat("</MultiGeometry>", n) + "</Placemark></kml>"
	var err error
	got := allocated(func() { _, err = Decode("deep.kml", []byte(kml), Options{}) })
	if zone.ErrorCode(err) != zone.CodeInvalid || zone.ErrorMessage(err) != "deep.kml: placemark 1 (line 1): not valid KML: exceeded max depth" {
		t.Fatalf("got %v", err)
	}
	if got > 16<<20*allocSlack {
		t.Errorf("allocated %d bytes", got)
	}
}

// TestBytesText: limits are named in MiB or KiB when they are whole ones,
// else in bytes.
func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 1 << 20: "1 MiB", 256 << 10: "256 KiB", 1536 << 10: "1536 KiB",
		1536: "1536 bytes", 100: "100 bytes", 0: "0 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := BytesText(n); got != want {
			t.Errorf("BytesText(%d) = %q, want %q", n, got, want)
		}
	}
}
