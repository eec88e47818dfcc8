package zone

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Reserved GeoJSON property names: the fields every component has. Features
// carry them flat beside the free properties, so a GIS client sees plain
// columns.
const (
	FieldLayer          = "layer"
	FieldKind           = "kind"
	FieldName           = "name"
	FieldCode           = "code"
	FieldFunctionType   = "function_type"
	FieldGroup          = "group"
	FieldClassification = "classification"
	FieldZones          = "zones"
	FieldSynthetic      = "synthetic"
	FieldVersion        = "version"
	FieldCreatedAt      = "created_at"
	FieldUpdatedAt      = "updated_at"
	FieldCreatedBy      = "created_by"
	FieldUpdatedBy      = "updated_by"
)

var reservedFields = map[string]bool{
	FieldLayer: true, FieldKind: true, FieldName: true, FieldCode: true, FieldFunctionType: true,
	FieldGroup: true, FieldClassification: true, FieldZones: true, FieldSynthetic: true, FieldVersion: true,
	FieldCreatedAt: true, FieldUpdatedAt: true, FieldCreatedBy: true, FieldUpdatedBy: true,
}

// IsReservedField reports whether name is one of the fields every component has.
func IsReservedField(name string) bool { return reservedFields[name] }

// MaxVertices is the most vertices one geometry may have.
const MaxVertices = 100_000

// Feature returns the component as a GeoJSON feature: id, geometry, and the
// reserved fields flat beside the free properties.
func (c *Component) Feature() *geojson.Feature {
	f := geojson.NewFeature(c.Geometry)
	f.ID = c.ID.String()
	p := make(geojson.Properties, len(c.Properties)+14)
	for k, v := range c.Properties {
		if k != PropVerdicts { // by-clearance verdicts never leave (ForClearance)
			p[k] = v
		}
	}
	p[FieldLayer] = c.Layer
	p[FieldKind] = c.Kind
	p[FieldName] = c.Name
	if c.Code != "" {
		p[FieldCode] = c.Code
	}
	if c.FunctionType != "" {
		p[FieldFunctionType] = string(c.FunctionType)
	}
	if c.Group != "" {
		p[FieldGroup] = string(c.Group)
	}
	p[FieldClassification] = c.Classification.String()
	if len(c.Zones) > 0 {
		p[FieldZones] = c.Zones
	}
	p[FieldSynthetic] = c.Synthetic
	p[FieldVersion] = c.Version
	if !c.CreatedAt.IsZero() {
		p[FieldCreatedAt] = c.CreatedAt.UTC().Format(time.RFC3339Nano)
		p[FieldCreatedBy] = c.CreatedBy
	}
	if !c.UpdatedAt.IsZero() {
		p[FieldUpdatedAt] = c.UpdatedAt.UTC().Format(time.RFC3339Nano)
		p[FieldUpdatedBy] = c.UpdatedBy
	}
	f.Properties = p
	return f
}

// FromFeature builds a component of the given layer from a GeoJSON feature
// and validates it. A feature that names a different layer is rejected; one
// that names none gets layer. The id is kept when the feature has a UUID id,
// otherwise left zero for the store to assign. Version and timestamps in the
// feature are ignored: the store owns them.
//
// Every problem found is returned as a Detail (Index -1; the caller sets the
// feature's index), not only the first.
func FromFeature(layer string, f *geojson.Feature) (*Component, []Detail) {
	var probs []Detail
	bad := func(ptr, format string, args ...any) {
		probs = append(probs, Detail{Index: -1, Pointer: ptr, Reason: fmt.Sprintf(format, args...)})
	}
	c := &Component{Layer: layer, Properties: map[string]any{}}
	if f == nil {
		bad("", "feature is null")
		return nil, probs
	}
	switch id := f.ID.(type) {
	case nil:
	case string:
		if id != "" {
			u, err := uuid.Parse(id)
			if err != nil {
				bad("id", "id %q is not a UUID", id)
			}
			c.ID = u
		}
	default:
		bad("id", "id must be a UUID string, got %v", id)
	}
	props := f.Properties
	str := func(key string) string {
		v, ok := props[key]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			bad("properties."+key, "%s must be a string, got %v", key, v)
		}
		return s
	}
	if l := str(FieldLayer); l != "" && l != layer {
		bad("properties.layer", "feature belongs to layer %q, not %q", l, layer)
	}
	c.Kind = str(FieldKind)
	c.Name = str(FieldName)
	c.Code = str(FieldCode)
	c.FunctionType = FunctionType(str(FieldFunctionType))
	c.Group = Group(str(FieldGroup))
	if s := str(FieldClassification); s != "" {
		cl, err := ParseClassification(s)
		if err != nil {
			bad("properties.classification", "%s", ErrorMessage(err))
		}
		c.Classification = cl
	}
	if v, ok := props[FieldSynthetic]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			bad("properties.synthetic", "synthetic must be true or false, got %v", v)
		}
		c.Synthetic = b
	}
	if v, ok := props[FieldZones]; ok && v != nil {
		raw, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(raw, &c.Zones)
		}
		if err != nil {
			bad("properties.zones", "zones must be a list of {kind, geometry|width_m, decision, decision_date}: %v", err)
		}
	}
	for k, v := range props {
		// By-clearance verdicts come from the checker, never from a client.
		if !reservedFields[k] && k != PropVerdicts {
			c.Properties[k] = v
		}
	}
	if f.Geometry == nil {
		bad("geometry", "geometry is missing")
	} else {
		c.Geometry = f.Geometry
	}
	if len(probs) > 0 {
		return c, probs
	}
	return c, c.Validate()
}

// Validate checks a component against its layer and returns every problem,
// each with a pointer into the GeoJSON feature it came from.
func (c *Component) Validate() []Detail {
	var probs []Detail
	bad := func(ptr, format string, args ...any) {
		probs = append(probs, Detail{Index: -1, Pointer: ptr, Reason: fmt.Sprintf(format, args...)})
	}
	l, ok := LookupLayer(c.Layer)
	if !ok {
		bad("properties.layer", "unknown layer %q", c.Layer)
		return probs
	}
	if c.Kind == "" {
		c.Kind = l.DefaultKind()
	}
	if !l.AllowsKind(c.Kind) {
		bad("properties.kind", "kind %q is not allowed in layer %s (allowed: %s)", c.Kind, l.ID, strings.Join(l.Kinds, ", "))
	}
	if strings.TrimSpace(c.Name) == "" {
		bad("properties.name", "name is required")
	}
	if !c.FunctionType.Valid() {
		bad("properties.function_type", "function_type %q is not A, B, C or D", c.FunctionType)
	}
	if !c.Group.Valid() {
		bad("properties.group", "group %q is not special, I, II or III", c.Group)
	}
	if !c.Classification.Valid() {
		bad("properties.classification", "invalid classification")
	} else if c.Classification > l.Ceiling {
		bad("properties.classification", "layer %s holds components up to %s, not %s", l.ID, l.Ceiling, c.Classification)
	}
	for _, d := range ValidateGeometry(c.Geometry) {
		d.Pointer = joinPointer("geometry", d.Pointer)
		probs = append(probs, d)
	}
	if c.Geometry != nil && ClassOf(c.Geometry) != "" && !l.AllowsGeometry(c.Geometry) {
		bad("geometry.type", "layer %s holds %v, not %s", l.ID, l.Geometries, c.Geometry.GeoJSONType())
	}
	seen := map[ZoneKind]bool{}
	for i, z := range c.Zones {
		ptr := fmt.Sprintf("properties.zones[%d]", i)
		if !z.Kind.Valid() {
			bad(ptr+".kind", "zone kind %q is not restricted_area, protected_area or safety_belt", z.Kind)
		}
		if seen[z.Kind] {
			bad(ptr+".kind", "zone %s given twice", z.Kind)
		}
		seen[z.Kind] = true
		switch {
		case z.Geometry != nil && z.WidthM != 0:
			bad(ptr, "a zone is either an approved geometry or a provisional width_m, not both")
		case z.Geometry == nil && (z.WidthM <= 0 || math.IsNaN(z.WidthM) || z.WidthM > 100_000):
			bad(ptr+".width_m", "a provisional zone needs a width_m between 0 and 100000 metres, got %v", z.WidthM)
		case z.Geometry != nil:
			if ClassOf(z.Geometry) != GeomPolygon {
				bad(ptr+".geometry", "an approved zone must be a Polygon or MultiPolygon, got %s", z.Geometry.GeoJSONType())
			}
			for _, d := range ValidateGeometry(z.Geometry) {
				d.Pointer = joinPointer(ptr+".geometry", d.Pointer)
				probs = append(probs, d)
			}
		}
		if z.DecisionDate != "" {
			if _, err := time.Parse("2006-01-02", z.DecisionDate); err != nil {
				bad(ptr+".decision_date", "decision_date %q is not YYYY-MM-DD", z.DecisionDate)
			}
		}
	}
	for _, spec := range l.Properties {
		v, ok := c.Properties[spec.Name]
		if !ok || v == nil {
			continue
		}
		if reason := checkProperty(spec, v); reason != "" {
			bad("properties."+spec.Name, "%s", reason)
		}
	}
	return probs
}

func checkProperty(spec PropertySpec, v any) string {
	switch spec.Type {
	case PropString:
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%s must be a string, got %v", spec.Name, v)
		}
		if len(spec.Enum) > 0 && !contains(spec.Enum, s) {
			return fmt.Sprintf("%s %q is not one of %s", spec.Name, s, strings.Join(spec.Enum, ", "))
		}
	case PropNumber:
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("%s must be a number, got %v", spec.Name, v)
		}
		if f < 0 {
			return fmt.Sprintf("%s must not be negative, got %v", spec.Name, f)
		}
	case PropBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%s must be true or false, got %v", spec.Name, v)
		}
	case PropStrings:
		list, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("%s must be a list of strings, got %v", spec.Name, v)
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok || (len(spec.Enum) > 0 && !contains(spec.Enum, s)) {
				return fmt.Sprintf("%s: %v is not one of %s", spec.Name, e, strings.Join(spec.Enum, ", "))
			}
		}
	}
	return ""
}

func joinPointer(a, b string) string {
	if b == "" {
		return a
	}
	if strings.HasPrefix(b, "[") {
		return a + b
	}
	return a + "." + b
}

// Envelope of the coordinates zoneplan accepts: WGS84 longitude and latitude.
var wgs84Bound = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
