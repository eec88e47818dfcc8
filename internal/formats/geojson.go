package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
// each can be decoded, and blamed, on its own. It is what json.Unmarshal
// reads when the streaming walk finds a document it does not follow, so the
// errors stay json.Unmarshal's.
type geojsonDoc struct {
	Type     string            `json:"type"`
	Features []json.RawMessage `json:"features"`
	CRS      *crsMember        `json:"crs"`
}

// crsMember is an alias of an unnamed struct, so json.Unmarshal names it in
// its errors as before.
type crsMember = struct {
	Type       string `json:"type"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

// geojsonTop is the same as read by the streaming walk: the features are
// decoded (in the file's CRS, untransformed) and counted as they come.
type geojsonTop struct {
	Type     string
	CRS      *crsMember
	Features []pendingFeature
}

// pendingFeature is a collection member as decoded, or why it could not be.
type pendingFeature struct {
	f   *geojson.Feature
	err error
}

// decodeGeoJSON reads a FeatureCollection, a Feature or a bare geometry. Its
// CRS is the "crs" member when present (GeoJSON 2008, as GDAL and QGIS
// write for non-WGS84 data), else opt.CRS, else WGS84. Coordinates are east
// first whatever the CRS, as GDAL reads such files. A collection is read
// feature by feature, each counted against bud before it is decoded.
func decodeGeoJSON(name string, data []byte, opt Options, bud *budget) (*Result, error) {
	r := &gjReader{file: name, bud: bud, decode: true}
	top, ok, err := r.stream(data)
	if err != nil {
		return nil, err
	}
	if !ok {
		var doc geojsonDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fileError(name, "not valid JSON: %v", jsonErr(data, err))
		}
		// Read what json.Unmarshal accepted (a top-level null) as before,
		// counted afresh.
		*bud = *newBudget(bud.lim)
		top = geojsonTop{Type: doc.Type, CRS: doc.CRS}
		for i, raw := range doc.Features {
			if err := bud.feature(name, "features"); err != nil {
				return nil, err
			}
			pf, err := r.feature(i, raw)
			if err != nil {
				return nil, err
			}
			top.Features = append(top.Features, pf)
		}
	}
	c := orDefault(opt.CRS)
	if top.CRS != nil {
		ref := top.CRS.Properties.Name
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
	switch top.Type {
	case "FeatureCollection":
		for i, pf := range top.Features {
			where := fmt.Sprintf("feature %d", i+1)
			if pf.err != nil {
				p.add(i, where, "not a valid GeoJSON feature: %v", pf.err)
				continue
			}
			add(i, where, pf.f)
		}
	case "Feature":
		if err := r.single(data, true); err != nil {
			return nil, err
		}
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, fileError(name, "not a valid GeoJSON feature: %v", err)
		}
		add(0, "feature 1", f)
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection":
		if err := r.single(data, false); err != nil {
			return nil, err
		}
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, fileError(name, "not a valid GeoJSON geometry: %v", err)
		}
		add(0, "geometry", geojson.NewFeature(g.Geometry()))
	case "":
		return nil, fileError(name, "not GeoJSON: no \"type\" member")
	default:
		return nil, fileError(name, "GeoJSON type %q is not a FeatureCollection, Feature or geometry", top.Type)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if len(fc.Features) == 0 {
		return nil, fileError(name, "no features with a geometry")
	}
	return &Result{CRS: c, Features: fc}, nil
}

// CheckGeoJSON reports the first limit a GeoJSON document crosses: its
// size (CodeTooLarge), then its features, vertices and attribute values
// (CodeLimit), counted feature by feature as Decode counts them, without
// decoding any geometry. It returns nil for a document within the limits,
// and for one that is not well-formed GeoJSON: the reader that decodes it
// then says what is wrong. name appears in the errors.
func CheckGeoJSON(name string, data []byte, lim Limits) error {
	lim = lim.WithDefaults()
	if int64(len(data)) > lim.MaxFileBytes {
		return &zone.Error{Code: zone.CodeTooLarge, Message: fmt.Sprintf("%s: %d bytes, more than the %s allowed", name, len(data), BytesText(lim.MaxFileBytes))}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := &gjReader{file: name, bud: newBudget(lim)}
	top, ok, err := r.stream(data)
	if err != nil || !ok {
		return err
	}
	switch top.Type {
	case "Feature":
		return r.single(data, true)
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection":
		return r.single(data, false)
	}
	return nil
}

// gjReader reads one GeoJSON document against a budget.
type gjReader struct {
	file   string
	bud    *budget
	decode bool // decode the features, not only count them
}

// stream walks the top-level object with a json.Decoder, keeping "type"
// and "crs" and reading "features" one member at a time. ok is false when
// the document is not one json.Unmarshal reads into geojsonDoc without
// error (a syntax error, a top level that is not an object, a member of the
// wrong type, trailing data); err is a limit crossed on the way.
func (r *gjReader) stream(data []byte) (top geojsonTop, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return top, false, nil
	}
	ok = true
	// decode reads one member value into v: false when the stream cannot
	// go on; a value of the wrong type is read past but spoils ok.
	decode := func(v any) bool {
		err := dec.Decode(v)
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			ok = false
			return true
		}
		return err == nil
	}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			return top, false, nil
		}
		// The members json.Unmarshal would match, whatever the case.
		switch {
		case strings.EqualFold(key, "type"):
			if !decode(&top.Type) {
				return top, false, nil
			}
		case strings.EqualFold(key, "crs"):
			if !decode(&top.CRS) {
				return top, false, nil
			}
		case strings.EqualFold(key, "features"):
			tok, err := dec.Token()
			if err != nil {
				return top, false, nil
			}
			if tok == nil { // null
				top.Features = nil
				continue
			}
			if tok != json.Delim('[') {
				return top, false, nil
			}
			top.Features = top.Features[:0] // a repeated member replaces the first, as in json.Unmarshal
			for i := 0; dec.More(); i++ {
				if err := r.bud.feature(r.file, "features"); err != nil {
					return top, false, err
				}
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return top, false, nil
				}
				pf, err := r.feature(i, raw)
				if err != nil {
					return top, false, err
				}
				if r.decode {
					top.Features = append(top.Features, pf)
				}
			}
			if _, err := dec.Token(); err != nil {
				return top, false, nil
			}
		default:
			var skip struct{}
			if err := dec.Decode(&skip); err != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					return top, false, nil
				}
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return top, false, nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) { // nothing after it
		return top, false, nil
	}
	return top, ok, nil
}

// feature counts collection member i and decodes it.
func (r *gjReader) feature(i int, raw []byte) (pendingFeature, error) {
	positions, values := countJSON(raw, true)
	if err := r.bud.featureVertices(r.file, i, fmt.Sprintf("feature %d", i+1), positions); err != nil {
		return pendingFeature{}, err
	}
	if err := r.bud.attributes(r.file, values); err != nil {
		return pendingFeature{}, err
	}
	if !r.decode {
		return pendingFeature{}, nil
	}
	f, err := geojson.UnmarshalFeature(raw)
	return pendingFeature{f: f, err: err}, nil
}

// single counts a document that is one Feature (feature) or one geometry.
func (r *gjReader) single(data []byte, feature bool) error {
	if err := r.bud.feature(r.file, "features"); err != nil {
		return err
	}
	positions, values := countJSON(data, feature)
	where := "geometry"
	if feature {
		where = "feature 1"
	}
	if err := r.bud.featureVertices(r.file, 0, where, positions); err != nil {
		return err
	}
	return r.bud.attributes(r.file, values)
}

// countJSON counts, in one JSON value, the coordinate positions (arrays
// that begin with a number, inside a "coordinates" member of the geometry)
// and the attribute values (every value in a feature's members other than
// "geometry", "type", "id" and "bbox", nested ones too). For a feature the
// geometry is its "geometry" member, otherwise the value itself. It reads
// the bytes once and allocates nothing, so the limits are checked before
// the feature is decoded. Member names match as package geojson matches
// them: a feature's exactly, a geometry's whatever the case.
func countJSON(b []byte, feature bool) (positions, values int) {
	c := jsonCounter{b: b, feature: feature}
	ctx := inGeometry
	if feature {
		ctx = 0
	}
	c.value(ctx, 0)
	return c.positions, c.values
}

type jsonCtx uint8

const (
	inGeometry    jsonCtx = 1 << iota // its "coordinates" hold positions
	inCoordinates                     // arrays beginning with a number are positions
	inAttributes                      // every value counts
)

type jsonCounter struct {
	b                 []byte
	i                 int
	feature           bool
	positions, values int
}

func (c *jsonCounter) ws() {
	for c.i < len(c.b) && (c.b[c.i] == ' ' || c.b[c.i] == '\t' || c.b[c.i] == '\n' || c.b[c.i] == '\r') {
		c.i++
	}
}

// value reads one value at c.i. Malformed input ends the count early; it
// never loops or reads out of bounds.
func (c *jsonCounter) value(ctx jsonCtx, depth int) {
	c.ws()
	if c.i >= len(c.b) {
		return
	}
	if depth > 10_000 { // encoding/json's own nesting limit
		c.i = len(c.b)
		return
	}
	if ctx&inAttributes != 0 {
		c.values++
	}
	switch c.b[c.i] {
	case '{':
		c.i++
		for {
			c.ws()
			if c.i >= len(c.b) {
				return
			}
			switch c.b[c.i] {
			case '}':
				c.i++
				return
			case ',':
				c.i++
				continue
			case '"':
			default:
				c.i = len(c.b)
				return
			}
			key := c.str()
			c.ws()
			if c.i < len(c.b) && c.b[c.i] == ':' {
				c.i++
			}
			c.value(c.member(ctx, key, depth), depth+1)
		}
	case '[':
		c.i++
		if ctx&inCoordinates != 0 {
			c.ws()
			if c.i < len(c.b) && (c.b[c.i] == '-' || c.b[c.i] >= '0' && c.b[c.i] <= '9') {
				c.positions++
			}
		}
		for {
			c.ws()
			if c.i >= len(c.b) {
				return
			}
			switch c.b[c.i] {
			case ']':
				c.i++
				return
			case ',':
				c.i++
				continue
			}
			c.value(ctx, depth+1)
		}
	case '"':
		c.str()
	default: // number, true, false, null
		c.i++
		for c.i < len(c.b) && !jsonDelim(c.b[c.i]) {
			c.i++
		}
	}
}

func jsonDelim(b byte) bool {
	switch b {
	case ',', ']', '}', ' ', '\t', '\r', '\n', ':', '{', '[', '"':
		return true
	}
	return false
}

// str reads a string at c.i and returns its content, unescaped when it
// has escapes.
func (c *jsonCounter) str() []byte {
	start := c.i
	c.i++
	escaped := false
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case '\\':
			escaped = true
			c.i += 2
			continue
		case '"':
			c.i++
			if !escaped {
				return c.b[start+1 : c.i-1]
			}
			var s string
			if json.Unmarshal(c.b[start:c.i], &s) != nil {
				return nil
			}
			return []byte(s)
		}
		c.i++
	}
	return nil
}

// member is the context of the value of member key of an object at depth.
func (c *jsonCounter) member(ctx jsonCtx, key []byte, depth int) jsonCtx {
	switch {
	case ctx&inGeometry != 0:
		if strings.EqualFold(string(key), "coordinates") {
			return ctx | inCoordinates
		}
		return ctx
	case depth == 0 && c.feature:
		switch string(key) {
		case "geometry":
			return inGeometry
		case "type", "id", "bbox":
			return 0
		}
		return inAttributes
	}
	return ctx
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
