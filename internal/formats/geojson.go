package formats

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/project"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// geojsonDoc is the part of any GeoJSON object Decode needs first: its type,
// the old (2008) "crs" member, and the features of a collection kept raw so
// each can be decoded, and blamed, on its own.
type geojsonDoc struct {
	Type     string            `json:"type"`
	Features []json.RawMessage `json:"features"`
	CRS      *struct {
		Type       string `json:"type"`
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	} `json:"crs"`
}

// decodeGeoJSON reads a FeatureCollection, a Feature or a bare geometry. Its
// CRS is the "crs" member when present (GeoJSON 2008, as GDAL and QGIS
// write for non-WGS84 data), else opt.CRS, else WGS84. Coordinates are east
// first whatever the CRS, as GDAL reads such files.
func decodeGeoJSON(name string, data []byte, opt Options) (*Result, error) {
	var doc geojsonDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fileError(name, "not valid JSON: %v", jsonErr(data, err))
	}
	c := orDefault(opt.CRS)
	if doc.CRS != nil {
		ref := doc.CRS.Properties.Name
		got, err := crs.Lookup(ref)
		if err != nil {
			return nil, fileError(name, "crs member %q: %s", ref, zone.ErrorMessage(err))
		}
		c = got
	}
	p := &problems{file: name}
	fc := geojson.NewFeatureCollection()
	add := func(i int, where string, f *geojson.Feature) {
		if finish(p, i, where, f, c) {
			fc.Append(f)
		}
	}
	switch doc.Type {
	case "FeatureCollection":
		for i, raw := range doc.Features {
			where := fmt.Sprintf("feature %d", i+1)
			f, err := geojson.UnmarshalFeature(raw)
			if err != nil {
				p.add(i, where, "not a valid GeoJSON feature: %v", err)
				continue
			}
			add(i, where, f)
		}
	case "Feature":
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, fileError(name, "not a valid GeoJSON feature: %v", err)
		}
		add(0, "feature 1", f)
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection":
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, fileError(name, "not a valid GeoJSON geometry: %v", err)
		}
		add(0, "geometry", geojson.NewFeature(g.Geometry()))
	case "":
		return nil, fileError(name, "not GeoJSON: no \"type\" member")
	default:
		return nil, fileError(name, "GeoJSON type %q is not a FeatureCollection, Feature or geometry", doc.Type)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if len(fc.Features) == 0 {
		return nil, fileError(name, "no features with a geometry")
	}
	return &Result{CRS: c, Features: fc}, nil
}

// jsonErr adds the line of a syntax error to the message.
func jsonErr(data []byte, err error) string {
	var se *json.SyntaxError
	if e, ok := err.(*json.SyntaxError); ok {
		se = e
		line := 1 + strings.Count(string(data[:min(int(se.Offset), len(data))]), "\n")
		return fmt.Sprintf("line %d: %v", line, err)
	}
	return err.Error()
}

// EncodeGeoJSON writes fc (WGS84) as a GeoJSON FeatureCollection with
// coordinates in c, east first (for EPSG:4326 too, as GDAL reads GeoJSON):
// metres rounded to the millimetre, degrees to 1e-9 (0.1 mm). When c is not
// CRS84 the output names it in a "crs" member (GeoJSON 2008, the form GDAL
// and QGIS recognise); RFC 7946 files have none and are CRS84. fc is not
// modified.
func EncodeGeoJSON(fc *geojson.FeatureCollection, c *crs.CRS) ([]byte, error) {
	c = orDefault(c)
	out := geojson.NewFeatureCollection()
	digits := 9.0
	if c.Kind == crs.Projected {
		digits = 3
	}
	scale := math.Pow(10, digits)
	for i, f := range fc.Features {
		g := f.Geometry
		if g != nil && !c.IsWGS84() {
			var err error
			g, err = crs.TransformFromWGS84(g, c)
			if err != nil {
				return nil, zone.Errorf(zone.CodeInvalid, "feature %d: %s", i+1, zone.ErrorMessage(err))
			}
		}
		if g != nil {
			g = roundGeometry(g, scale)
		}
		nf := *f
		nf.Geometry = g
		nf.BBox = nil
		out.Append(&nf)
	}
	if c.Code != crs.CRS84().Code {
		ref := c.Code
		if c.EPSG != 0 {
			ref = fmt.Sprintf("urn:ogc:def:crs:EPSG::%d", c.EPSG)
		}
		out.ExtraMembers = geojson.Properties{"crs": map[string]any{"type": "name", "properties": map[string]any{"name": ref}}}
	}
	return json.Marshal(out)
}

// roundGeometry rounds every coordinate to 1/scale (a copy).
func roundGeometry(g orb.Geometry, scale float64) orb.Geometry {
	return project.Geometry(orb.Clone(g), func(p orb.Point) orb.Point {
		return orb.Point{math.Round(p[0]*scale) / scale, math.Round(p[1]*scale) / scale}
	})
}
