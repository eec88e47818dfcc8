package zone

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// FunctionType is a defence work's type by function (Law 25/2023/QH15 art. 5):
// A combat and command, B training, C storage/repair/production, D daily
// living and work. Empty when not applicable.
type FunctionType string

const (
	FunctionA FunctionType = "A"
	FunctionB FunctionType = "B"
	FunctionC FunctionType = "C"
	FunctionD FunctionType = "D"
)

// Valid reports whether f is empty or one of A-D.
func (f FunctionType) Valid() bool {
	switch f {
	case "", FunctionA, FunctionB, FunctionC, FunctionD:
		return true
	}
	return false
}

// Group is a defence work's group by importance. Empty when not applicable.
type Group string

const (
	GroupSpecial Group = "special"
	GroupI       Group = "I"
	GroupII      Group = "II"
	GroupIII     Group = "III"
)

// Valid reports whether g is empty or one of the four groups.
func (g Group) Valid() bool {
	switch g {
	case "", GroupSpecial, GroupI, GroupII, GroupIII:
		return true
	}
	return false
}

// ZoneKind names a protection zone around a defence work, inside out.
type ZoneKind string

const (
	RestrictedArea ZoneKind = "restricted_area" // khu vực cấm
	ProtectedArea  ZoneKind = "protected_area"  // khu vực bảo vệ
	SafetyBelt     ZoneKind = "safety_belt"     // vành đai an toàn
)

// ZoneKinds lists the protection zones from the inside out.
func ZoneKinds() []ZoneKind { return []ZoneKind{RestrictedArea, ProtectedArea, SafetyBelt} }

// Valid reports whether k is a known protection zone.
func (k ZoneKind) Valid() bool { return k == RestrictedArea || k == ProtectedArea || k == SafetyBelt }

// ProtectionZone is one zone around a component: either an approved polygon
// (with the decision that set it) or a provisional width.
//
// A provisional width is measured in metres on the ellipsoid from the
// component's own geometry (not from the inner zone): a safety belt of
// 500 m covers everything within 500 m of the work.
type ProtectionZone struct {
	Kind         ZoneKind     `json:"kind"`
	Geometry     orb.Geometry `json:"-"` // approved polygon or multipolygon, WGS84; nil when provisional
	Decision     string       `json:"decision,omitempty"`
	DecisionDate string       `json:"decision_date,omitempty"` // YYYY-MM-DD
	WidthM       float64      `json:"width_m,omitempty"`       // provisional width; 0 when approved
}

// Approved reports whether the zone is an approved polygon rather than a
// provisional width.
func (z ProtectionZone) Approved() bool { return z.Geometry != nil }

type protectionZoneJSON struct {
	Kind         ZoneKind          `json:"kind"`
	Geometry     *geojson.Geometry `json:"geometry,omitempty"`
	Decision     string            `json:"decision,omitempty"`
	DecisionDate string            `json:"decision_date,omitempty"`
	WidthM       float64           `json:"width_m,omitempty"`
}

func (z ProtectionZone) MarshalJSON() ([]byte, error) {
	j := protectionZoneJSON{Kind: z.Kind, Decision: z.Decision, DecisionDate: z.DecisionDate, WidthM: z.WidthM}
	if z.Geometry != nil {
		j.Geometry = geojson.NewGeometry(z.Geometry)
	}
	return json.Marshal(j)
}

func (z *ProtectionZone) UnmarshalJSON(b []byte) error {
	var j protectionZoneJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*z = ProtectionZone{Kind: j.Kind, Decision: j.Decision, DecisionDate: j.DecisionDate, WidthM: j.WidthM}
	if j.Geometry != nil {
		z.Geometry = j.Geometry.Geometry()
	}
	return nil
}

// Component is one defence component or project site.
type Component struct {
	ID             uuid.UUID
	Layer          string
	Kind           string
	Name           string
	Code           string // optional; unique within the layer when set
	FunctionType   FunctionType
	Group          Group
	Classification Classification
	Zones          []ProtectionZone // at most one per kind
	Properties     map[string]any   // free properties (layer-specific ones are typed by the layer's PropertySpecs)
	Geometry       orb.Geometry     // WGS84, lon/lat
	Synthetic      bool             // generated demo or test data, never a real location
	Version        int64            // 1 on create, +1 on every change
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CreatedBy      string
	UpdatedBy      string
}

// Zone returns the component's zone of the given kind.
func (c *Component) Zone(k ZoneKind) (ProtectionZone, bool) {
	for _, z := range c.Zones {
		if z.Kind == k {
			return z, true
		}
	}
	return ProtectionZone{}, false
}

// Bound is the bounding box of the component's geometry and approved zone
// polygons (not of provisional widths, which are in metres).
func (c *Component) Bound() orb.Bound {
	b := c.Geometry.Bound()
	for _, z := range c.Zones {
		if z.Geometry != nil {
			b = b.Union(z.Geometry.Bound())
		}
	}
	return b
}

// Published reports whether the component is visible to every caller its
// classification admits. Only a project site an appraisal created can be
// unpublished (property published: false, until an admin publishes it);
// such a site exists only for those who may read its appraisal.
func (c *Component) Published() bool {
	if c.Layer != LayerProjectSites {
		return true
	}
	p, ok := c.Properties[PropPublished].(bool)
	return !ok || p
}

// ForClearance returns the component as a reader of clearance cl sees it:
// a project site's verdict is the one that reader would get from the same
// check (property verdicts, by clearance; the stored verdict property is the
// public one). A site stored before verdicts were kept by clearance holds
// the full verdict: below secret its conflict shows as review, the most a
// referral says (the conflict may come from a work the reader cannot see).
// The by-clearance verdicts never leave: Feature leaves them out.
//
// Only a site whose verdict differs for cl is copied; every other
// component, and a site whose reader's verdict is the stored one (a
// public reader of a site with verdicts by clearance, most secret
// readers), is returned as it is: the same pointer, so that what is kept
// per stored component (an encoding) serves it.
func (c *Component) ForClearance(cl Classification) *Component {
	if c.Layer != LayerProjectSites {
		return c
	}
	stored, _ := c.Properties[PropVerdict].(string)
	seen := stored
	if vs, ok := c.Properties[PropVerdicts].(map[string]any); ok {
		if v, ok := vs[cl.String()].(string); ok && v != "" {
			seen = v
		}
	} else if stored == "conflict" && cl < Secret {
		seen = "review"
	}
	if seen == stored {
		return c
	}
	d := c.Clone()
	d.Properties[PropVerdict] = seen
	return d
}

// MaxWidthM is the largest provisional zone width, in metres.
func (c *Component) MaxWidthM() float64 {
	var m float64
	for _, z := range c.Zones {
		if z.WidthM > m {
			m = z.WidthM
		}
	}
	return m
}

// Clone returns a deep enough copy that changing the copy's slices and maps
// does not change c (geometries are treated as immutable and shared).
func (c *Component) Clone() *Component {
	d := *c
	d.Zones = append([]ProtectionZone(nil), c.Zones...)
	if c.Properties != nil {
		d.Properties = make(map[string]any, len(c.Properties))
		for k, v := range c.Properties {
			d.Properties[k] = v
		}
	}
	return &d
}
