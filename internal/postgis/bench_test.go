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

// BenchmarkImport100k imports 100,000 synthetic defence works (small
// squares, half with an approved restricted area and a provisional safety
// belt) in one ImportComponents call per iteration, into an emptied table.
func BenchmarkImport100k(b *testing.B) {
	_, dsn := openTest(b)
	s, err := Open(b.Context(), dsn, Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 100_000
	cs := make([]*zone.Component, n)
	for i := range cs {
		// A 400 x 250 grid over northern Vietnam, WGS84 degrees.
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
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := exec(b, s, `TRUNCATE components CASCADE`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := s.ImportComponents(b.Context(), zone.LayerDefenceWorks, cs, zone.ImportOptions{By: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Created != n {
			b.Fatalf("created %d, want %d", res.Created, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "features/s")
}
