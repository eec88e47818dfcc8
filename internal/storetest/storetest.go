// Package storetest is the one contract suite every zone.Store
// implementation must pass, plus helpers other packages' tests may use to
// build valid components and compare stored ones.
//
// Geometries here are WGS84 lon/lat around the Lạng Sơn border (about
// 106.7 E, 21.85 N); bounding-box queries count touching as intersecting.
package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Run runs the whole contract against the store open returns. open must
// return a fresh, empty store on every call and arrange for it to be closed
// (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) zone.Store) {
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("Components", func(t *testing.T) { runComponents(t, open) })
	t.Run("ListAll", func(t *testing.T) { runListAll(t, open) })
	t.Run("Validation", func(t *testing.T) { runValidation(t, open) })
	t.Run("Versions", func(t *testing.T) { runVersions(t, open) })
	t.Run("Clearance", func(t *testing.T) { runClearance(t, open) })
	t.Run("Concurrency", func(t *testing.T) { runConcurrency(t, open) })
	t.Run("Import", func(t *testing.T) { runImport(t, open) })
	t.Run("ChangeFeed", func(t *testing.T) { runChangeFeed(t, open) })
	t.Run("Tokens", func(t *testing.T) { runTokens(t, open) })
	t.Run("WatchRevocations", func(t *testing.T) { runWatchRevocations(t, open) })
	t.Run("Appraisals", func(t *testing.T) { runAppraisals(t, open) })
	t.Run("Impact", func(t *testing.T) { runImpact(t, open) })
	t.Run("Plans", func(t *testing.T) { runPlans(t, open) })
	t.Run("RuleSets", func(t *testing.T) { runRuleSets(t, open) })
	t.Run("Audit", func(t *testing.T) { runAudit(t, open) })
	t.Run("Coverage", func(t *testing.T) { runCoverage(t, open) })
}

// NewComponent returns a valid, public, synthetic component of the layer,
// with the layer's default kind and no code. geom is WGS84 lon/lat.
func NewComponent(layer, name string, geom orb.Geometry) *zone.Component {
	kind := ""
	if l, ok := zone.LookupLayer(layer); ok {
		kind = l.DefaultKind()
	}
	return &zone.Component{
		Layer:      layer,
		Kind:       kind,
		Name:       name,
		Geometry:   geom,
		Synthetic:  true,
		Properties: map[string]any{},
	}
}

// Square returns the closed, counter-clockwise square polygon with its
// south-west corner at (lon, lat) and sides of size degrees.
func Square(lon, lat, size float64) orb.Polygon {
	return Rect(lon, lat, lon+size, lat+size)
}

// Rect returns the closed, counter-clockwise rectangle polygon between two
// WGS84 corners.
func Rect(minLon, minLat, maxLon, maxLat float64) orb.Polygon {
	return orb.Polygon{{{minLon, minLat}, {maxLon, minLat}, {maxLon, maxLat}, {minLon, maxLat}, {minLon, minLat}}}
}

// Create stores c and fails tb when the store refuses it.
func Create(tb testing.TB, s zone.Store, c *zone.Component) *zone.Component {
	tb.Helper()
	got, err := s.CreateComponent(context.Background(), c, "storetest")
	if err != nil {
		tb.Fatalf("CreateComponent(%s %q): %v", c.Layer, c.Name, err)
	}
	return got
}

// RequireCode fails tb unless err is a zone error with the given code.
func RequireCode(tb testing.TB, err error, code zone.Code, what string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("%s: got no error, want %s", what, code)
	}
	if got := zone.ErrorCode(err); got != code {
		tb.Fatalf("%s: got error code %s (%v), want %s", what, got, err, code)
	}
}

// ErrorText returns an error's caller-safe message and every detail's
// pointer and reason, for checking that an error names its problem.
func ErrorText(err error) string {
	var b strings.Builder
	b.WriteString(zone.ErrorMessage(err))
	for _, d := range zone.ErrorDetails(err) {
		b.WriteString(" | ")
		b.WriteString(d.Pointer)
		b.WriteString(": ")
		b.WriteString(d.Reason)
	}
	return b.String()
}

// SameComponent fails tb when got differs from want in anything a store
// keeps: identity, fields, properties (compared as JSON values), zones, the
// geometry (exactly, float64 bits), version, authorship, and timestamps
// (to the millisecond, as databases keep microseconds).
func SameComponent(tb testing.TB, want, got *zone.Component) {
	tb.Helper()
	if diff := componentDiff(want, got); diff != "" {
		tb.Fatalf("component %s (%q) differs: %s", want.ID, want.Name, diff)
	}
}

func componentDiff(want, got *zone.Component) string {
	if got == nil {
		return "got nil"
	}
	var diffs []string
	field := func(name string, w, g any) {
		if !reflect.DeepEqual(w, g) {
			diffs = append(diffs, name+": want "+jsonString(w)+", got "+jsonString(g))
		}
	}
	field("ID", want.ID, got.ID)
	field("Layer", want.Layer, got.Layer)
	field("Kind", want.Kind, got.Kind)
	field("Name", want.Name, got.Name)
	field("Code", want.Code, got.Code)
	field("FunctionType", want.FunctionType, got.FunctionType)
	field("Group", want.Group, got.Group)
	field("Classification", want.Classification, got.Classification)
	field("Synthetic", want.Synthetic, got.Synthetic)
	field("Version", want.Version, got.Version)
	field("CreatedBy", want.CreatedBy, got.CreatedBy)
	field("UpdatedBy", want.UpdatedBy, got.UpdatedBy)
	field("Properties", jsonValue(want.Properties), jsonValue(got.Properties))
	if !geomEqual(want.Geometry, got.Geometry) {
		diffs = append(diffs, "Geometry: want "+jsonString(want.Geometry)+", got "+jsonString(got.Geometry))
	}
	if len(want.Zones) != len(got.Zones) {
		diffs = append(diffs, "Zones: want "+jsonString(want.Zones)+", got "+jsonString(got.Zones))
	} else {
		for i := range want.Zones {
			w, g := want.Zones[i], got.Zones[i]
			if w.Kind != g.Kind || w.Decision != g.Decision || w.DecisionDate != g.DecisionDate || w.WidthM != g.WidthM || !geomEqual(w.Geometry, g.Geometry) {
				diffs = append(diffs, "Zones["+string(w.Kind)+"]: want "+jsonString(w)+", got "+jsonString(g))
			}
		}
	}
	if !sameTime(want.CreatedAt, got.CreatedAt) {
		diffs = append(diffs, "CreatedAt: want "+want.CreatedAt.String()+", got "+got.CreatedAt.String())
	}
	if !sameTime(want.UpdatedAt, got.UpdatedAt) {
		diffs = append(diffs, "UpdatedAt: want "+want.UpdatedAt.String()+", got "+got.UpdatedAt.String())
	}
	return strings.Join(diffs, "; ")
}

func geomEqual(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return orb.Equal(a, b)
}

// sameTime compares timestamps to the millisecond: PostgreSQL keeps
// microseconds, Go nanoseconds.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Millisecond && d > -time.Millisecond
}

// jsonValue returns v as decoded JSON, so an int and a float64 of the same
// value, or a nil and an empty map, compare equal the way a store keeps them.
func jsonValue(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "unmarshalable: " + err.Error()
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return "undecodable: " + err.Error()
	}
	return out
}

func jsonString(v any) string {
	if g, ok := v.(orb.Geometry); ok && g != nil {
		v = map[string]any{"type": g.GeoJSONType(), "value": g}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// listAll returns every component the query selects, in store order.
func listAll(tb testing.TB, s zone.Store, q zone.Query) []*zone.Component {
	tb.Helper()
	var out []*zone.Component
	if err := s.ListComponents(context.Background(), q, func(c *zone.Component) error {
		out = append(out, c)
		return nil
	}); err != nil {
		tb.Fatalf("ListComponents(%+v): %v", q, err)
	}
	return out
}

func count(tb testing.TB, s zone.Store, q zone.Query) int {
	tb.Helper()
	n, err := s.CountComponents(context.Background(), q)
	if err != nil {
		tb.Fatalf("CountComponents(%+v): %v", q, err)
	}
	return n
}

func dataVersion(tb testing.TB, s zone.Store) int64 {
	tb.Helper()
	v, err := s.DataVersion(context.Background())
	if err != nil {
		tb.Fatalf("DataVersion: %v", err)
	}
	return v
}

func names(cs []*zone.Component) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
