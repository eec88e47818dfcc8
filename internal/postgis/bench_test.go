package postgis

import (
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// syntheticWorks returns n synthetic defence works on a grid over northern
// Vietnam (WGS84 degrees): two in three are small squares, one in three a
// point; every other one has an approved restricted area and a provisional
// 500 m safety belt.
func syntheticWorks(n int) []*zone.Component {
	cs := make([]*zone.Component, n)
	for i := range cs {
		lon, lat := 103+float64(i%400)*0.01, 20.5+float64(i/400)*0.01
		var g orb.Geometry = storetest.Square(lon, lat, 0.004)
		if i%3 == 0 {
			g = orb.Point{lon + 0.002, lat + 0.002}
		}
		c := storetest.NewComponent(zone.LayerDefenceWorks, fmt.Sprintf("Công trình giả lập %06d", i), g)
		c.Kind = zone.KindDepot
		c.Code = fmt.Sprintf("BM-%06d", i)
		c.Properties = map[string]any{"seq": float64(i), "note": "synthetic"}
		if i%2 == 0 {
			c.Zones = []zone.ProtectionZone{
				{Kind: zone.RestrictedArea, Geometry: storetest.Square(lon-0.001, lat-0.001, 0.006), Decision: "BM/QĐ", DecisionDate: "2024-01-01"},
				{Kind: zone.SafetyBelt, WidthM: 500},
			}
		}
		cs[i] = c
	}
	return cs
}

// syntheticMarkers returns n synthetic border markers: points, no zones.
func syntheticMarkers(n int) []*zone.Component {
	cs := make([]*zone.Component, n)
	for i := range cs {
		c := storetest.NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc giả lập %06d", i),
			orb.Point{103 + float64(i%400)*0.01, 20.5 + float64(i/400)*0.01})
		c.Code = fmt.Sprintf("M-%06d", i)
		cs[i] = c
	}
	return cs
}

// BenchmarkImport100k imports 100,000 components in one ImportComponents
// call per iteration, into an emptied table: border markers (points, no
// zones), and defence works (see syntheticWorks: 100,000 zones besides).
// Set ZONEPLAN_BENCH_LOG=1 to log the time of each phase.
func BenchmarkImport100k(b *testing.B) {
	_, dsn := openTest(b)
	opt := Options{}
	if os.Getenv("ZONEPLAN_BENCH_LOG") != "" {
		opt.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := Open(b.Context(), dsn, opt)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 100_000
	for _, bc := range []struct {
		name  string
		layer string
		cs    []*zone.Component
	}{
		{"markers", zone.LayerBorderMarkers, syntheticMarkers(n)},
		{"works_with_zones", zone.LayerDefenceWorks, syntheticWorks(n)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				if err := exec(b, s, `TRUNCATE components CASCADE`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := s.ImportComponents(b.Context(), bc.layer, bc.cs, zone.ImportOptions{By: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				if res.Created != n {
					b.Fatalf("created %d, want %d", res.Created, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "features/s")
		})
	}
}

// BenchmarkList100k streams 100,000 stored defence works (with their zones)
// through ListComponents, as a server does to build its index at start.
func BenchmarkList100k(b *testing.B) {
	s, _ := openTest(b)
	const n = 100_000
	if _, err := s.ImportComponents(b.Context(), zone.LayerDefenceWorks, syntheticWorks(n), zone.ImportOptions{By: "bench"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		got := 0
		if err := s.ListComponents(b.Context(), zone.Query{Clearance: zone.Secret}, func(*zone.Component) error {
			got++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("listed %d, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "features/s")
}
