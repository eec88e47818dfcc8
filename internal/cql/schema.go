package cql

import "strings"

// Type is the value type of a queryable property.
type Type string

const (
	TypeString   Type = "string"
	TypeNumber   Type = "number"
	TypeBool     Type = "boolean"
	TypeTime     Type = "timestamp"
	TypeGeometry Type = "geometry"
	// TypeArray is a list (of objects: a component's protection zones). A
	// filter can only ask whether it is there: IS [NOT] NULL, an empty
	// list counting as NULL.
	TypeArray Type = "array"
)

// Property describes one queryable property: its type, and the SQL
// expression that yields its value. The SQL comes from the caller's fixed
// registry (a column or a JSON extraction), never from the request.
type Property struct {
	Name string
	Type Type
	// SQL evaluates to the value in a row, e.g. `c.name`, `c."group"`, or
	// `(c.properties->>'height_m')::float8`. It must yield NULL for a
	// missing value.
	SQL string
	// Levels, when set, makes a string property an ordered enumeration
	// stored as the 0-based index of its level (zone.Classification: the
	// column holds 0..3). Literals are matched to levels ignoring case,
	// and <, >, BETWEEN compare by level, not alphabetically.
	Levels []string
	// Description and Enum (allowed values) are shown in the queryables
	// document; Enum is not enforced.
	Description string
	Enum        []string
}

// Schema resolves the property names a filter uses. Names lists them all,
// for error messages and the queryables document.
type Schema interface {
	Lookup(name string) (Property, bool)
	Names() []string
}

// Properties is a Schema over a fixed list of properties, in display order.
type Properties []Property

// Lookup finds a property by exact (case-sensitive) name.
func (ps Properties) Lookup(name string) (Property, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

// Names lists the property names in order.
func (ps Properties) Names() []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// levelIndex finds s among levels, ignoring case and surrounding space.
func levelIndex(levels []string, s string) (int, bool) {
	s = strings.TrimSpace(s)
	for i, l := range levels {
		if strings.EqualFold(l, s) {
			return i, true
		}
	}
	return 0, false
}
