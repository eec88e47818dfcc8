package demo

import (
	"errors"
	"testing"

	"github.com/paulmach/orb/planar"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestScale(t *testing.T) {
	land, err := data.VietnamLand()
	if err != nil {
		t.Fatal(err)
	}
	const components, projects = 4_000, 500
	perLayer := map[string]int{}
	kinds := map[string]bool{}
	classes := map[zone.Classification]int{}
	codes := map[string]bool{}
	var first []*zone.Component
	onLand, n := 0, 0
	minV, maxV := 1<<30, 0
	err = Scale(1, components, projects, func(c *zone.Component) error {
		n++
		perLayer[c.Layer]++
		kinds[c.Layer+"/"+c.Kind] = true
		classes[c.Classification]++
		if codes[c.Layer+"/"+c.Code] {
			t.Errorf("code %s repeated in %s", c.Code, c.Layer)
		}
		codes[c.Layer+"/"+c.Code] = true
		if !c.Synthetic || c.Properties[PropNote] != Note {
			t.Errorf("%s is not marked synthetic", c.Code)
		}
		if planar.MultiPolygonContains(land, c.Geometry.Bound().Center()) {
			onLand++
		}
		if zone.ClassOf(c.Geometry) == zone.GeomPolygon && c.Layer != zone.LayerProjectSites {
			_, _, v := parts(c.Geometry)
			minV, maxV = min(minV, len(v)-1), max(maxV, len(v)-1)
		}
		// Full validation (simplefeatures) is slow: check a sample.
		if n%10 == 0 {
			if probs := c.Validate(); len(probs) > 0 {
				t.Errorf("%s %s invalid: %v", c.Layer, c.Code, probs)
			}
		}
		if len(first) < 50 {
			first = append(first, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != components+projects || perLayer[zone.LayerProjectSites] != projects {
		t.Errorf("got %d components, %d project sites; want %d and %d", n, perLayer[zone.LayerProjectSites], components+projects, projects)
	}
	for _, l := range zone.Layers() {
		if l.ID == zone.LayerBorderLines {
			continue // real data only
		}
		for _, k := range l.Kinds {
			if !kinds[l.ID+"/"+k] {
				t.Errorf("no %s of kind %s", l.ID, k)
			}
		}
	}
	for _, cl := range zone.Classifications() {
		if classes[cl] == 0 {
			t.Errorf("no component classified %s", cl)
		}
	}
	if minV < 8 || maxV > 64 || maxV < 48 {
		t.Errorf("polygon vertex counts %d-%d, want within 8-64 and spread", minV, maxV)
	}
	if share := float64(onLand) / float64(n); share < 0.98 {
		t.Errorf("%.1f%% of components on land in Vietnam, want at least 98%%", share*100)
	}
	// The same seed gives the same stream.
	i := 0
	err = Scale(1, 50, 0, func(c *zone.Component) error {
		if c.ID != first[i].ID || !geomEqual(c, first[i]) {
			t.Errorf("component %d differs on a second run with the same seed", i)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func geomEqual(a, b *zone.Component) bool {
	_, _, va := parts(a.Geometry)
	_, _, vb := parts(b.Geometry)
	if len(va) != len(vb) {
		return false
	}
	for i := range va {
		if va[i] != vb[i] {
			return false
		}
	}
	return true
}

func TestScaleStopsAtCallbackError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Scale(1, 1_000, 0, func(*zone.Component) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 10 {
		t.Errorf("got %v after %d calls, want the callback's error after 10", err, calls)
	}
	if err := Scale(1, -1, 0, func(*zone.Component) error { return nil }); zone.ErrorCode(err) != zone.CodeInvalid {
		t.Errorf("negative count: got %v, want an invalid error", err)
	}
}

// BenchmarkScale reports the cost of one streamed component (ns/op); a
// million take about a million times that.
func BenchmarkScale(b *testing.B) {
	b.ReportAllocs()
	vertices := 0
	err := Scale(1, b.N, 0, func(c *zone.Component) error {
		_, _, v := parts(c.Geometry)
		vertices += len(v)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(vertices)/float64(b.N), "vertices/op")
}

// BenchmarkDemo reports the cost of generating the whole demo set.
func BenchmarkDemo(b *testing.B) {
	land, borders := inputs(b)
	for b.Loop() {
		if _, err := Demo(DefaultSeed, land, borders); err != nil {
			b.Fatal(err)
		}
	}
}
