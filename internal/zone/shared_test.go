package zone

import (
	"fmt"
	"testing"

	"github.com/paulmach/orb"
)

func TestSharer(t *testing.T) {
	sh := NewSharer()
	a, err := sh.Properties([]byte(`{"note":"x","n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sh.Properties([]byte(`{"note":"x","n":1}`))
	c, _ := sh.Properties([]byte(`{"note":"y"}`))
	if fmt.Sprintf("%p", a) != fmt.Sprintf("%p", b) {
		t.Error("equal properties were given two maps")
	}
	if fmt.Sprintf("%p", a) == fmt.Sprintf("%p", c) || c["note"] != "y" || a["n"] != 1.0 {
		t.Errorf("different properties: %v and %v", a, c)
	}
	for _, empty := range []string{"", "null", "{}"} {
		m, err := sh.Properties([]byte(empty))
		if err != nil || m == nil || len(m) != 0 {
			t.Errorf("properties %q: %v, %v; want an empty map", empty, m, err)
		}
	}
	if _, err := sh.Properties([]byte(`{"note":`)); err == nil {
		t.Error("broken JSON was accepted")
	}

	provisional := func() *Component {
		return &Component{Layer: LayerCommuneHQs, CreatedBy: "gen", Zones: []ProtectionZone{{Kind: RestrictedArea, WidthM: 15}, {Kind: ProtectedArea, WidthM: 100}}}
	}
	x, y := provisional(), provisional()
	sh.Share(x)
	sh.Share(y)
	if &x.Zones[0] != &y.Zones[0] || cap(x.Zones) != len(x.Zones) {
		t.Error("equal provisional zones were not shared, or shared with room to append into")
	}
	z := provisional()
	z.Zones[1].WidthM = 101
	sh.Share(z)
	if &z.Zones[0] == &x.Zones[0] {
		t.Error("different widths were given the same zones")
	}
	approved := func() *Component {
		return &Component{Zones: []ProtectionZone{{Kind: RestrictedArea, Geometry: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}}}
	}
	p, q := approved(), approved()
	sh.Share(p)
	sh.Share(q)
	if &p.Zones[0] == &q.Zones[0] {
		t.Error("zones with approved polygons were shared")
	}
}
