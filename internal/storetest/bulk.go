package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// bulkLister is the index's fast full listing (index.BulkSource), which
// every store offers.
type bulkLister interface {
	ListAllComponents(ctx context.Context, fn func(*zone.Component) error) error
}

// runListAll checks that the full listing for the index gives exactly
// what ListComponents gives at secret clearance: every component of every
// layer and classification, with its zones in their order (approved
// polygons given as polygons or multipolygons, provisional widths),
// properties, times and authors; and that a callback error stops it.
func runListAll(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	bulk, ok := s.(bulkLister)
	if !ok {
		t.Fatalf("%T has no ListAllComponents: the index would load it through the slow ordered listing", s)
	}
	layers := []string{zone.LayerDefenceWorks, zone.LayerCombatBases, zone.LayerCommuneHQs, zone.LayerBorderMarkers, zone.LayerPatrolRoutes}
	for i := range 40 {
		lon, lat := 106.5+float64(i%8)*0.02, 21.8+float64(i/8)*0.02
		var geom orb.Geometry = Square(lon, lat, 0.005)
		switch layers[i%len(layers)] {
		case zone.LayerBorderMarkers, zone.LayerCommuneHQs:
			geom = orb.Point{lon, lat}
		case zone.LayerPatrolRoutes:
			geom = orb.LineString{{lon, lat}, {lon + 0.01, lat + 0.004}, {lon + 0.02, lat}}
		}
		c := NewComponent(layers[i%len(layers)], fmt.Sprintf("Thành phần %d", i), geom)
		c.Classification = zone.Classification(i % 4)
		c.Code = fmt.Sprintf("LA-%03d", i)
		if i%3 == 0 {
			c.Properties = map[string]any{"note": "giống nhau"} // the same for many
		} else {
			c.Properties = map[string]any{"note": "khác", "n": float64(i), "tags": []any{"a", fmt.Sprint(i)}}
		}
		if _, isPolygon := geom.(orb.Polygon); isPolygon {
			var approved orb.Geometry = Square(lon-0.001, lat-0.001, 0.007)
			if i%2 == 0 {
				approved = orb.MultiPolygon{Square(lon-0.001, lat-0.001, 0.007), Square(lon+0.01, lat, 0.001)}
			}
			c.Zones = []zone.ProtectionZone{
				{Kind: zone.SafetyBelt, WidthM: float64(300 + i)},
				{Kind: zone.RestrictedArea, Geometry: approved, Decision: fmt.Sprintf("%d/QĐ-BQP", 100+i), DecisionDate: "2024-05-17"},
			}
		} else if i%2 == 1 {
			c.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, WidthM: 15}, {Kind: zone.ProtectedArea, WidthM: 100}}
		}
		Create(t, s, c)
	}
	want := listAll(t, s, zone.Query{Clearance: zone.Secret})
	var got []*zone.Component
	if err := bulk.ListAllComponents(t.Context(), func(c *zone.Component) error {
		got = append(got, c)
		return nil
	}); err != nil {
		t.Fatalf("ListAllComponents: %v", err)
	}
	if len(got) != len(want) || len(want) != 40 {
		t.Fatalf("ListAllComponents gave %d components, ListComponents %d, created 40", len(got), len(want))
	}
	byID := func(a, b *zone.Component) int { return slices.Compare(a.ID[:], b.ID[:]) }
	slices.SortFunc(want, byID)
	slices.SortFunc(got, byID)
	for i := range want {
		SameComponent(t, want[i], got[i])
		// SameComponent compares zones by value; a polygon must also stay
		// a polygon, and times come from the same store exactly.
		for j := range want[i].Zones {
			if w, g := want[i].Zones[j].Geometry, got[i].Zones[j].Geometry; fmt.Sprintf("%T", w) != fmt.Sprintf("%T", g) {
				t.Fatalf("component %s zone %d: geometry %T, want %T", want[i].Name, j, g, w)
			}
		}
		if !got[i].CreatedAt.Equal(want[i].CreatedAt) || !got[i].UpdatedAt.Equal(want[i].UpdatedAt) || got[i].UpdatedAt.Location() != want[i].UpdatedAt.Location() {
			t.Fatalf("component %s: times %v %v, want %v %v", want[i].Name, got[i].CreatedAt, got[i].UpdatedAt, want[i].CreatedAt, want[i].UpdatedAt)
		}
	}

	stop := errors.New("enough")
	calls := 0
	err := bulk.ListAllComponents(t.Context(), func(*zone.Component) error {
		if calls++; calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("callback error: ListAllComponents returned %v after %d calls, want the callback's error after 3", err, calls)
	}
}
