package ogcquery

import "github.com/zoneplan/zoneplan/internal/cql"

// Queryables returns the JSON Schema document of OGC API - Features Part 3
// for /collections/{id}/queryables: one entry per property of s, typed.
// id is the document's URL, title the collection's title.
func Queryables(s cql.Schema, id, title string) map[string]any {
	props := map[string]any{}
	for _, name := range s.Names() {
		p, _ := s.Lookup(name)
		entry := map[string]any{}
		switch p.Type {
		case cql.TypeString:
			entry["type"] = "string"
		case cql.TypeNumber:
			entry["type"] = "number"
		case cql.TypeBool:
			entry["type"] = "boolean"
		case cql.TypeTime:
			entry["type"] = "string"
			entry["format"] = "date-time"
		case cql.TypeGeometry:
			entry["format"] = "geometry-any"
		case cql.TypeArray:
			entry["type"] = "array"
			entry["items"] = map[string]any{"type": "object"}
		}
		if p.Description != "" {
			entry["description"] = p.Description
		}
		if len(p.Enum) > 0 {
			entry["enum"] = p.Enum
		}
		props[name] = entry
	}
	return map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  id,
		"type":                 "object",
		"title":                title,
		"properties":           props,
		"additionalProperties": false,
	}
}
