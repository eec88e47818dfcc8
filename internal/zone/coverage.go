package zone

import (
	"context"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
)

// Coverage statuses: how far the data of a layer in an area has got.
const (
	CoverageLoaded   = "loaded"   // every component known in the area is loaded
	CoverageReviewed = "reviewed" // loaded, and checked against the source decisions
)

// MinCoverageAreaM2 is the smallest area a coverage may have, m² on the
// ellipsoid (one square kilometre). Coverage says where a layer is
// complete; drawn smaller it would come close to outlining a work.
const MinCoverageAreaM2 = 1e6

// Coverage is one area where a layer's data is complete: an admin's
// statement, never derived from the components themselves, so it says
// where data is complete and nothing of what the data is (no count, no
// extent, no identity). It has a classification of its own: a caller
// below it neither sees it nor has it count in their checks.
type Coverage struct {
	ID             uuid.UUID        `json:"id"`
	Layer          string           `json:"layer"`
	Area           string           `json:"area"`   // the area's name, e.g. "Lạng Sơn"
	Status         string           `json:"status"` // loaded or reviewed
	AsOf           time.Time        `json:"as_of"`  // the date the statement holds at (UTC midnight)
	Classification Classification   `json:"classification"`
	Note           string           `json:"note,omitempty"`
	Geometry       orb.MultiPolygon `json:"-"` // WGS84; edges straight in longitude and latitude
	Version        int64            `json:"version"`
	UpdatedBy      string           `json:"updated_by"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

// AsMultiPolygon returns g as a MultiPolygon when it is a Polygon or a
// MultiPolygon.
func AsMultiPolygon(g orb.Geometry) (orb.MultiPolygon, bool) {
	switch v := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{v}, true
	case orb.MultiPolygon:
		return v, true
	}
	return nil, false
}

// Validate checks a coverage before it is stored: a known layer, a status,
// a date, a valid polygon geometry of at least MinCoverageAreaM2, short
// texts. It returns every problem.
func (c *Coverage) Validate() []Detail {
	var probs []Detail
	bad := func(ptr, reason string) { probs = append(probs, Detail{Index: -1, Pointer: ptr, Reason: reason}) }
	if _, ok := LookupLayer(c.Layer); !ok {
		bad("layer", "unknown layer "+quote(c.Layer))
	}
	if c.Status != CoverageLoaded && c.Status != CoverageReviewed {
		bad("status", "status "+quote(c.Status)+" is not loaded or reviewed")
	}
	if c.AsOf.IsZero() {
		bad("as_of", "the date the coverage holds at is missing")
	}
	if !c.Classification.Valid() {
		bad("classification", "unknown classification")
	}
	if strings.TrimSpace(c.Area) == "" {
		bad("area", "the area's name is missing")
	}
	for ptr, s := range map[string]string{"area": c.Area, "note": c.Note} {
		if utf8.RuneCountInString(s) > 500 || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			bad(ptr, "text is not UTF-8 of at most 500 characters")
		}
	}
	if len(c.Geometry) == 0 {
		bad("geometry", "a coverage needs a Polygon or MultiPolygon geometry")
		return probs
	}
	if ds := ValidateGeometry(c.Geometry); len(ds) > 0 {
		for _, d := range ds {
			bad("geometry."+d.Pointer, d.Reason)
		}
		return probs
	}
	if a := geo.Area(c.Geometry); a < MinCoverageAreaM2 {
		bad("geometry", "a coverage area must span at least 1 km²")
	}
	return probs
}

// PrepareCoverage is what a store writes of c: a copy with its date
// alone (UTC midnight) and an id when it had none, once validated (every
// problem, CodeInvalid).
func PrepareCoverage(c *Coverage) (Coverage, error) {
	in := *c
	in.AsOf = time.Date(in.AsOf.Year(), in.AsOf.Month(), in.AsOf.Day(), 0, 0, 0, 0, time.UTC)
	if ds := in.Validate(); len(ds) > 0 {
		return in, &Error{Code: CodeInvalid, Message: "the coverage is not valid", Details: ds}
	}
	if in.ID == uuid.Nil {
		in.ID = uuid.New()
	}
	return in, nil
}

func quote(s string) string { return "\"" + s + "\"" }

// CoverageStore keeps the coverage of every layer. Reads take the reader's
// clearance: a coverage above it does not exist for the reader.
type CoverageStore interface {
	// PutCoverage validates c and stores it: a new coverage when c.ID is
	// zero or unknown (version 1), else it replaces the stored one (its
	// version plus one; with ifVersion not 0 and different from the
	// stored version, CodeConflict). A stored coverage above clearance is
	// not found. It returns the stored copy.
	PutCoverage(ctx context.Context, c *Coverage, ifVersion int64, clearance Classification, by string) (*Coverage, error)
	// GetCoverage returns one coverage, not found when missing or above clearance.
	GetCoverage(ctx context.Context, id uuid.UUID, clearance Classification) (*Coverage, error)
	// ListCoverage returns every coverage up to clearance, by layer, area, id.
	ListCoverage(ctx context.Context, clearance Classification) ([]Coverage, error)
	// DeleteCoverage removes one, with PutCoverage's version and clearance rules.
	DeleteCoverage(ctx context.Context, id uuid.UUID, ifVersion int64, clearance Classification, by string) error
	// CoverageVersion grows with every change to any coverage, by this
	// process or another (PostGIS: a direct edit of the table too). A
	// change also signals the ChangeFeed's subscribers.
	CoverageVersion(ctx context.Context) (int64, error)
}

// SortCoverage orders cs by layer (registry order), area, id: how stores list them.
func SortCoverage(cs []Coverage) {
	order := map[string]int{}
	for i, id := range LayerIDs() {
		order[id] = i
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := &cs[i], &cs[j]
		if order[a.Layer] != order[b.Layer] {
			return order[a.Layer] < order[b.Layer]
		}
		if a.Area != b.Area {
			return a.Area < b.Area
		}
		return a.ID.String() < b.ID.String()
	})
}

// Feature is the coverage as a GeoJSON Feature: its id, the geometry and
// the properties layer, area, status, as_of (YYYY-MM-DD), classification,
// note, version, updated_by and updated_at.
func (c *Coverage) Feature() *geojson.Feature {
	f := geojson.NewFeature(c.Geometry)
	f.ID = c.ID.String()
	f.Properties = geojson.Properties{
		"layer": c.Layer, "area": c.Area, "status": c.Status, "as_of": c.AsOf.Format(time.DateOnly),
		"classification": c.Classification.String(), "note": c.Note, "version": c.Version,
		"updated_by": c.UpdatedBy, "updated_at": c.UpdatedAt.Format(time.RFC3339),
	}
	if len(c.Geometry) == 1 {
		f.Geometry = c.Geometry[0]
	}
	return f
}

// CoverageFromFeature reads a coverage from a GeoJSON Feature (Polygon or
// MultiPolygon; properties layer, area, status, as_of, and optionally
// classification, default public, and note; an id when it names a stored
// coverage). It returns every problem; the store validates the rest.
func CoverageFromFeature(f *geojson.Feature) (*Coverage, []Detail) {
	var probs []Detail
	bad := func(ptr, reason string) { probs = append(probs, Detail{Index: -1, Pointer: ptr, Reason: reason}) }
	c := &Coverage{}
	switch id := f.ID.(type) {
	case nil:
	case string:
		u, err := uuid.Parse(id)
		if err != nil {
			bad("id", "not a UUID: "+quote(id))
		}
		c.ID = u
	default:
		bad("id", "not a UUID")
	}
	if f.Geometry != nil {
		mp, ok := AsMultiPolygon(f.Geometry)
		if !ok {
			bad("geometry", "a coverage is a Polygon or MultiPolygon, not a "+f.Geometry.GeoJSONType())
		}
		c.Geometry = mp
	}
	str := func(name string) string {
		v, ok := f.Properties[name]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			bad("properties."+name, "not a string")
		}
		return s
	}
	c.Layer, c.Area, c.Status, c.Note = str("layer"), str("area"), str("status"), str("note")
	if s := str("as_of"); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			bad("properties.as_of", "not a date (YYYY-MM-DD): "+quote(s))
		}
		c.AsOf = t
	}
	if s := str("classification"); s != "" {
		cl, err := ParseClassification(s)
		if err != nil {
			bad("properties.classification", "unknown classification "+quote(s))
		}
		c.Classification = cl
	}
	return c, probs
}
