package check

import (
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Overlap is a finding's overlap geometry as a GeoJSON geometry, its
// coordinates rounded to OverlapDecimals. It holds the geometry as the
// checker made it (a copy rounded up front was a tenth of a dense check's
// allocations) and rounds as it writes itself: orb's geojson.Geometry
// marshals its coordinates through encoding/json by reflection and
// encoding/json then reads the result again, which was a fifth of a dense
// check's time on the server.
type Overlap struct{ g orb.Geometry }

// Geometry returns the overlap (WGS84) as written, rounded to
// OverlapDecimals; nil for a nil Overlap. It is a copy.
func (o *Overlap) Geometry() orb.Geometry {
	if o == nil || o.g == nil {
		return nil
	}
	return orb.Round(orb.Clone(o.g), 1e7)
}

// MarshalJSON writes {"type":...,"coordinates":...}.
func (o *Overlap) MarshalJSON() ([]byte, error) {
	n := 4
	if o != nil && o.g != nil {
		n = 64 + 24*zone.VertexCount(o.g)
	}
	return o.appendJSON(make([]byte, 0, n)), nil
}

// appendJSON appends what MarshalJSON writes.
func (o *Overlap) appendJSON(b []byte) []byte {
	if o == nil || o.g == nil {
		return append(b, "null"...)
	}
	if _, ok := o.g.(orb.Collection); ok {
		gj, err := geojson.NewGeometry(o.Geometry()).MarshalJSON()
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, gj...)
	}
	b = append(b, `{"type":"`...)
	b = append(b, o.g.GeoJSONType()...)
	b = append(b, `","coordinates":`...)
	b = appendCoordinates(b, o.g)
	return append(b, '}')
}

// UnmarshalJSON reads a GeoJSON geometry (a stored result).
func (o *Overlap) UnmarshalJSON(b []byte) error {
	g, err := geojson.UnmarshalGeometry(b)
	if err != nil {
		return err
	}
	o.g = g.Geometry()
	return nil
}

func appendCoordinates(b []byte, g orb.Geometry) []byte {
	switch g := g.(type) {
	case orb.Point:
		return appendPoint(b, g)
	case orb.MultiPoint:
		return appendList(b, g, appendPoint)
	case orb.LineString:
		return appendList(b, g, appendPoint)
	case orb.MultiLineString:
		return appendList(b, g, appendLine)
	case orb.Ring:
		return appendList(b, []orb.Ring{g}, appendRing)
	case orb.Polygon:
		return appendList(b, g, appendRing)
	case orb.MultiPolygon:
		return appendList(b, g, func(b []byte, p orb.Polygon) []byte { return appendList(b, p, appendRing) })
	}
	return append(b, "[]"...)
}

func appendPoint(b []byte, p orb.Point) []byte {
	b = append(b, '[')
	b = appendRounded(b, p[0])
	b = append(b, ',')
	b = appendRounded(b, p[1])
	return append(b, ']')
}

// appendRounded writes v rounded to OverlapDecimals as orb.Round does
// (math.Round(v*1e7)/1e7), in strconv's shortest decimal. Below 1000 in
// magnitude that decimal is the integer count of 1e-7 degrees with its
// point put in, written several times faster than the general
// shortest-decimal search: it reads back as the rounded value, and no
// decimal of fewer digits lies within that value's rounding interval (any
// other of at most 7 decimals is 1e-7 away, a million times the spacing of
// float64s there). Other values take the general way.
func appendRounded(b []byte, v float64) []byte {
	n := math.Round(v * 1e7)
	if n == 0 || !(math.Abs(n) < 1e10) { // zero keeps its sign; NaN, infinities
		return strconv.AppendFloat(b, n/1e7, 'f', -1, 64)
	}
	i := int64(n)
	if i < 0 {
		b = append(b, '-')
		i = -i
	}
	b = strconv.AppendInt(b, i/1e7, 10)
	frac := i % 1e7
	if frac == 0 {
		return b
	}
	var d [8]byte
	d[0] = '.'
	for k := 7; k >= 1; k-- {
		d[k] = byte('0' + frac%10)
		frac /= 10
	}
	end := 8
	for d[end-1] == '0' {
		end--
	}
	return append(b, d[:end]...)
}

func appendLine(b []byte, l orb.LineString) []byte { return appendList(b, l, appendPoint) }
func appendRing(b []byte, r orb.Ring) []byte       { return appendList(b, r, appendPoint) }

// appendList writes items as a JSON array, each by one.
func appendList[T any](b []byte, items []T, one func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = one(b, it)
	}
	return append(b, ']')
}
