package ogcquery

import (
	"slices"
	"strings"
	"time"

	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// GeometryProperty is the name filters use for a component's geometry.
const GeometryProperty = "geometry"

// ComponentSchema returns the queryable properties of a layer's components
// for the PostGIS table components AS c (migrations/00002_components.sql):
// the fields every component has, then the layer's typed string and number
// properties (stored in c.properties). l may be nil for the common fields
// only. ComponentGetter reads the same properties from a zone.Component
// with the same NULL rules.
//
// Empty code, function_type, group, created_by and updated_by are NULL
// (GeoJSON features omit them), so `"group" IS NULL` finds works without a
// group. A layer property whose JSON value has another type is NULL.
// Classification compares by level: classification >= 'restricted'.
// List-valued properties (activities) are not queryable.
func ComponentSchema(l *zone.Layer) cql.Properties {
	levels := make([]string, 0, 4)
	for _, c := range zone.Classifications() {
		levels = append(levels, c.String())
	}
	ps := cql.Properties{
		{Name: "id", Type: cql.TypeString, SQL: "c.id::text", Description: "component id (UUID)"},
		{Name: zone.FieldLayer, Type: cql.TypeString, SQL: "c.layer", Description: "layer id"},
		{Name: zone.FieldKind, Type: cql.TypeString, SQL: "c.kind", Description: "kind of component"},
		{Name: zone.FieldName, Type: cql.TypeString, SQL: "c.name", Description: "name"},
		{Name: zone.FieldCode, Type: cql.TypeString, SQL: "c.code", Description: "code, unique within the layer"},
		{Name: zone.FieldFunctionType, Type: cql.TypeString, SQL: "NULLIF(c.function_type, '')",
			Description: "type by function (Law 25/2023/QH15 art. 5)", Enum: []string{"A", "B", "C", "D"}},
		{Name: zone.FieldGroup, Type: cql.TypeString, SQL: `NULLIF(c."group", '')`,
			Description: "group by importance", Enum: []string{"special", "I", "II", "III"}},
		{Name: zone.FieldClassification, Type: cql.TypeString, SQL: "c.classification", Levels: levels,
			Description: "classification, compared by level", Enum: levels},
		{Name: zone.FieldSynthetic, Type: cql.TypeBool, SQL: "c.synthetic", Description: "generated demo or test data"},
		{Name: zone.FieldVersion, Type: cql.TypeNumber, SQL: "c.version", Description: "version, +1 on every change"},
		{Name: zone.FieldCreatedAt, Type: cql.TypeTime, SQL: "c.created_at", Description: "creation time"},
		{Name: zone.FieldUpdatedAt, Type: cql.TypeTime, SQL: "c.updated_at", Description: "time of the last change"},
		{Name: zone.FieldCreatedBy, Type: cql.TypeString, SQL: "NULLIF(c.created_by, '')", Description: "who created it"},
		{Name: zone.FieldUpdatedBy, Type: cql.TypeString, SQL: "NULLIF(c.updated_by, '')", Description: "who changed it last"},
		{Name: GeometryProperty, Type: cql.TypeGeometry, SQL: "c.geom", Description: "geometry, WGS84 longitude/latitude"},
	}
	// A component's protection zones, as features list them: whether it
	// has any (IS [NOT] NULL) is all a filter can ask.
	ps = append(ps, cql.Property{Name: zone.FieldZones, Type: cql.TypeArray, Description: "protection zones (kind, width, approved polygon)",
		SQL: "(SELECT 1 FROM protection_zones pz WHERE pz.component_id = c.id LIMIT 1)"})
	// Properties every layer's features may carry beside the registry's
	// own (imports and the demo write them): queryable as strings, so a
	// client's filter on what it sees in a feature works (GDAL's "note IS
	// NULL").
	for _, common := range []struct{ name, desc string }{
		{"note", "a free note"},
		{"province", "province"},
		{"name_en", "name in English"},
		{"neighbour", "the neighbouring country (border works)"},
		{"source", "where the data came from"},
		{"demo_expected", "the verdict the demo data expects (demo only)"},
		{"demo_reason", "why the demo data expects it (demo only)"},
	} {
		if l != nil && slices.ContainsFunc(l.Properties, func(p zone.PropertySpec) bool { return p.Name == common.name }) {
			continue // the layer's own spec says it
		}
		key := "'" + common.name + "'"
		ps = append(ps, cql.Property{Name: common.name, Type: cql.TypeString, Description: common.desc,
			SQL: "CASE WHEN jsonb_typeof(c.properties->" + key + ") = 'string' THEN c.properties->>" + key + " END"})
	}
	if l == nil {
		return ps
	}
	for _, spec := range l.Properties {
		if zone.IsReservedField(spec.Name) || spec.Name == "id" || spec.Name == GeometryProperty {
			continue
		}
		// The name comes from the fixed layer registry, never from a
		// request; quotes are doubled all the same.
		key := "'" + strings.ReplaceAll(spec.Name, "'", "''") + "'"
		p := cql.Property{Name: spec.Name, Description: spec.TitleEN, Enum: spec.Enum}
		switch spec.Type {
		case zone.PropString:
			p.Type = cql.TypeString
			p.SQL = "CASE WHEN jsonb_typeof(c.properties->" + key + ") = 'string' THEN c.properties->>" + key + " END"
		case zone.PropNumber:
			p.Type = cql.TypeNumber
			p.SQL = "CASE WHEN jsonb_typeof(c.properties->" + key + ") = 'number' THEN (c.properties->>" + key + ")::float8 END"
		case zone.PropStrings:
			p.Type = cql.TypeArray // a list: IS [NOT] NULL, empty counting as NULL
			p.SQL = "CASE WHEN jsonb_typeof(c.properties->" + key + ") = 'array' AND jsonb_array_length(c.properties->" + key + ") > 0 THEN 1 END"
		default:
			continue
		}
		ps = append(ps, p)
	}
	return ps
}

// ComponentGetter reads the properties of ComponentSchema from c, for
// cql.Compile predicates and cql.Comparator over the in-memory index.
// Times are rounded to microseconds, the precision PostgreSQL keeps.
func ComponentGetter(c *zone.Component) cql.Getter {
	str := func(s string) (any, bool) {
		if s == "" {
			return nil, false
		}
		return s, true
	}
	tm := func(t time.Time) (any, bool) {
		if t.IsZero() {
			return nil, false
		}
		return t.Round(time.Microsecond), true
	}
	return func(name string) (any, bool) {
		switch name {
		case "id":
			return c.ID.String(), true
		case zone.FieldLayer:
			return c.Layer, true
		case zone.FieldKind:
			return c.Kind, true
		case zone.FieldName:
			return c.Name, true
		case zone.FieldCode:
			return str(c.Code)
		case zone.FieldFunctionType:
			return str(string(c.FunctionType))
		case zone.FieldGroup:
			return str(string(c.Group))
		case zone.FieldClassification:
			return int(c.Classification), true
		case zone.FieldSynthetic:
			return c.Synthetic, true
		case zone.FieldVersion:
			return c.Version, true
		case zone.FieldCreatedAt:
			return tm(c.CreatedAt)
		case zone.FieldUpdatedAt:
			return tm(c.UpdatedAt)
		case zone.FieldCreatedBy:
			return str(c.CreatedBy)
		case zone.FieldUpdatedBy:
			return str(c.UpdatedBy)
		case zone.FieldZones:
			if len(c.Zones) == 0 {
				return nil, false
			}
			return c.Zones, true
		case GeometryProperty:
			if c.Geometry == nil {
				return nil, false
			}
			return c.Geometry, true
		}
		v, ok := c.Properties[name]
		return v, ok
	}
}
