package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// MaxFeatures is the most features one check request may hold.
const MaxFeatures = 10_000

// Footprint is one project footprint to check, with the project attributes
// the rules escalate on.
type Footprint struct {
	// Index is the feature's position in a FeatureCollection request, -1
	// for a bare geometry or a single Feature.
	Index      int
	Geometry   orb.Geometry // WGS84 lon/lat, validated
	HeightM    float64      // height_m; 0 when not given
	Activities []string     // activities: blasting, mining, residential, crowd
	Sector     string       // sector, free text
	Properties map[string]any
}

// Collection reports whether fps came from a FeatureCollection (and so
// gets one result per feature).
func Collection(fps []Footprint) bool { return len(fps) != 1 || fps[0].Index >= 0 }

type rawGeoJSON struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometry    json.RawMessage   `json:"geometry"`
	Properties  json.RawMessage   `json:"properties"`
	Features    []json.RawMessage `json:"features"`
}

// ParseFootprints reads a check request body: a bare GeoJSON geometry
// (Point, LineString, Polygon or their Multi forms), a Feature, or a
// FeatureCollection. Every problem is reported as a zone.Error with code
// CodeInvalid and one Detail each: Index is the feature's index (-1 outside
// a collection), Pointer where in it ("geometry.coordinates[0][5]" is ring
// 0, vertex 5), Reason what is wrong: self-intersection, an unclosed ring,
// too few points, out-of-range coordinates, too many vertices, an unknown
// geometry type, an empty geometry, bad project attributes.
func ParseFootprints(body []byte) ([]Footprint, error) {
	var probs []zone.Detail
	bad := func(index int, ptr, format string, args ...any) {
		probs = append(probs, zone.Detail{Index: index, Pointer: ptr, Reason: fmt.Sprintf(format, args...)})
	}
	fail := func() error {
		return &zone.Error{Code: zone.CodeInvalid, Message: "the footprint is not valid GeoJSON for a check", Details: probs}
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		bad(-1, "", "the request body is empty; send a GeoJSON geometry, Feature or FeatureCollection")
		return nil, fail()
	}
	var top rawGeoJSON
	if err := json.Unmarshal(body, &top); err != nil {
		bad(-1, "", "not a GeoJSON object: %v", err)
		return nil, fail()
	}
	var out []Footprint
	switch top.Type {
	case "FeatureCollection":
		if len(top.Features) == 0 {
			bad(-1, "features", "the FeatureCollection has no features")
		}
		if len(top.Features) > MaxFeatures {
			bad(-1, "features", "%d features, more than the %d allowed in one check", len(top.Features), MaxFeatures)
			return nil, fail()
		}
		for i, raw := range top.Features {
			var f rawGeoJSON
			if err := json.Unmarshal(raw, &f); err != nil {
				bad(i, "", "not a GeoJSON object: %v", err)
				continue
			}
			if f.Type != "Feature" {
				bad(i, "type", "a FeatureCollection member must be a Feature, got %q", f.Type)
				continue
			}
			fp, ds := parseFeature(i, &f)
			probs = append(probs, ds...)
			out = append(out, fp)
		}
	case "Feature":
		fp, ds := parseFeature(-1, &top)
		probs = append(probs, ds...)
		out = append(out, fp)
	default:
		g, ds := parseGeometry(-1, "", body, top.Type)
		probs = append(probs, ds...)
		out = append(out, Footprint{Index: -1, Geometry: g})
	}
	if len(probs) > 0 {
		return nil, fail()
	}
	total := 0
	for _, fp := range out {
		total += zone.VertexCount(fp.Geometry)
	}
	if total > zone.MaxVertices {
		bad(-1, "", "the request has %d vertices in all, more than the %d allowed", total, zone.MaxVertices)
		return nil, fail()
	}
	return out, nil
}

func parseFeature(index int, f *rawGeoJSON) (Footprint, []zone.Detail) {
	fp := Footprint{Index: index, Properties: map[string]any{}}
	var probs []zone.Detail
	bad := func(ptr, format string, args ...any) {
		probs = append(probs, zone.Detail{Index: index, Pointer: ptr, Reason: fmt.Sprintf(format, args...)})
	}
	if len(f.Geometry) == 0 || string(f.Geometry) == "null" {
		bad("geometry", "the feature has no geometry")
	} else {
		var gt rawGeoJSON
		if err := json.Unmarshal(f.Geometry, &gt); err != nil {
			bad("geometry", "not a GeoJSON geometry: %v", err)
		} else {
			g, ds := parseGeometry(index, "geometry", f.Geometry, gt.Type)
			probs = append(probs, ds...)
			fp.Geometry = g
		}
	}
	if len(f.Properties) > 0 && string(f.Properties) != "null" {
		if err := json.Unmarshal(f.Properties, &fp.Properties); err != nil {
			bad("properties", "properties must be an object: %v", err)
			return fp, probs
		}
	}
	if v, ok := fp.Properties[zone.PropHeightM]; ok && v != nil {
		h, isNum := v.(float64)
		switch {
		case !isNum:
			bad("properties.height_m", "height_m must be a number of metres, got %v", v)
		case h < 0 || h > 10_000 || math.IsNaN(h):
			bad("properties.height_m", "height_m must be between 0 and 10000 metres, got %v", h)
		default:
			fp.HeightM = h
		}
	}
	if v, ok := fp.Properties[zone.PropActivities]; ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			bad("properties.activities", "activities must be a list such as [\"blasting\"], got %v", v)
		}
		known := []string{zone.ActivityBlasting, zone.ActivityMining, zone.ActivityResidential, zone.ActivityCrowd}
		for i, a := range list {
			s, isStr := a.(string)
			if !isStr || !slices.Contains(known, s) {
				bad(fmt.Sprintf("properties.activities[%d]", i), "%v is not one of %s", a, strings.Join(known, ", "))
				continue
			}
			fp.Activities = append(fp.Activities, s)
		}
	}
	if v, ok := fp.Properties[zone.PropSector]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr {
			bad("properties.sector", "sector must be a string, got %v", v)
		}
		fp.Sector = s
	}
	return fp, probs
}

var supportedTypes = []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}

// parseGeometry decodes and validates one geometry; prefix is the pointer
// of the geometry inside the item ("geometry" in a Feature).
func parseGeometry(index int, prefix string, raw []byte, typ string) (orb.Geometry, []zone.Detail) {
	ptr := func(p string) string {
		switch {
		case prefix == "":
			return p
		case p == "":
			return prefix
		}
		return prefix + "." + p
	}
	one := func(p, format string, args ...any) []zone.Detail {
		return []zone.Detail{{Index: index, Pointer: ptr(p), Reason: fmt.Sprintf(format, args...)}}
	}
	if !slices.Contains(supportedTypes, typ) {
		if typ == "" {
			return nil, one("type", "the geometry has no type")
		}
		return nil, one("type", "geometry type %q is not supported (use %s)", typ, strings.Join(supportedTypes, ", "))
	}
	var probe rawGeoJSON
	_ = json.Unmarshal(raw, &probe)
	if c := bytes.TrimSpace(probe.Coordinates); len(c) == 0 || string(c) == "null" || string(c) == "[]" {
		return nil, one("coordinates", "the geometry is empty")
	}
	gg, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, one("coordinates", "coordinates do not fit a %s: %v", typ, err)
	}
	g := gg.Geometry()
	var probs []zone.Detail
	for _, d := range zone.ValidateGeometry(g) {
		d.Index = index
		d.Pointer = ptr(d.Pointer)
		probs = append(probs, d)
	}
	return g, probs
}

// SiteFootprint is the footprint of a stored geometry (an appraisal's
// project site, a plan's parcel) with the project attributes its
// properties hold (zone.PropHeightM, zone.PropActivities, zone.PropSector).
func SiteFootprint(g orb.Geometry, props map[string]any) Footprint {
	fp := Footprint{Index: -1, Geometry: g, Properties: props}
	if h, ok := props[zone.PropHeightM].(float64); ok {
		fp.HeightM = h
	}
	switch as := props[zone.PropActivities].(type) {
	case []any:
		for _, a := range as {
			if s, ok := a.(string); ok {
				fp.Activities = append(fp.Activities, s)
			}
		}
	case []string:
		fp.Activities = append(fp.Activities, as...)
	}
	fp.Sector, _ = props[zone.PropSector].(string)
	return fp
}
