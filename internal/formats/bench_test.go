package formats

import (
	"math"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// BenchmarkDecodeShapefile10k: a zipped shapefile of one 10,000-vertex
// polygon in EPSG:9215 (unzip, parse, transform every vertex to WGS84,
// validate).
func BenchmarkDecodeShapefile10k(b *testing.B) {
	const n = 10000
	ring := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		a := -2 * math.Pi * float64(i) / n // clockwise, as shapefiles want
		ring = append(ring, orb.Point{448200 + 500*math.Cos(a), 2417100 + 300*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	data := shapefileZip(b, "big", ring, esriPRJ9215, "UTF-8")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode("big.zip", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeKMZBomb: 62 MB of KML (674,000 placemarks) in a 2 MB KMZ,
// refused at the 10,001st placemark. Before issue 12 Decode inflated the
// whole member and parsed every placemark: 3.8 s and 1.7 GB a decode.
func BenchmarkDecodeKMZBomb(b *testing.B) {
	data := kmzBomb(b, 674_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode("site.kmz", data, Options{}); zone.ErrorCode(err) != zone.CodeLimit {
			b.Fatal(err)
		}
	}
}
