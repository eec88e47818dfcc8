package formats

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// ShapeField is one attribute column of a written shapefile: a dBASE
// character field (C) of Width bytes, or a numeric one (N) when Numeric.
// Names are cut to dBASE's 10 bytes.
type ShapeField struct {
	Name    string
	Width   int // 1-254 bytes
	Numeric bool
}

// ShapeRecord is one polygon feature to write: a Polygon or
// MultiPolygon in WGS84 lon/lat and its values, one per field
// (strings for character fields, numbers as float64 or int).
type ShapeRecord struct {
	Geometry orb.Geometry
	Values   []any
}

// wgs84PRJ is the .prj of WGS84 longitude/latitude as ESRI writes it.
const wgs84PRJ = `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`

// WriteShapefileZip writes polygon records as a zipped shapefile named
// base (base.shp, .shx, .dbf, .prj in WGS84, and .cpg saying UTF-8) to
// w. Rings are written as the format wants them: outer rings clockwise,
// holes counter-clockwise. Text longer than its field is cut at a
// character boundary.
func WriteShapefileZip(w io.Writer, base string, fields []ShapeField, recs []ShapeRecord) error {
	var shp, shx, dbf bytes.Buffer
	if err := writeSHP(&shp, &shx, recs); err != nil {
		return err
	}
	if err := writeDBF(&dbf, fields, recs); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, m := range []struct {
		ext  string
		data []byte
	}{{".shp", shp.Bytes()}, {".shx", shx.Bytes()}, {".dbf", dbf.Bytes()}, {".prj", []byte(wgs84PRJ)}, {".cpg", []byte("UTF-8")}} {
		f, err := zw.Create(base + m.ext)
		if err != nil {
			return err
		}
		if _, err := f.Write(m.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func shapeRings(g orb.Geometry) ([]orb.Ring, error) {
	var polys []orb.Polygon
	switch t := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{t}
	case orb.MultiPolygon:
		polys = t
	default:
		return nil, fmt.Errorf("a polygon shapefile cannot hold a %s", g.GeoJSONType())
	}
	var rings []orb.Ring
	for _, p := range polys {
		for i, r := range p {
			r = append(orb.Ring(nil), r...)
			if len(r) > 0 && r[0] != r[len(r)-1] {
				r = append(r, r[0])
			}
			cw := r.Orientation() == orb.CW
			if (i == 0) != cw { // outer clockwise, holes counter-clockwise
				r.Reverse()
			}
			rings = append(rings, r)
		}
	}
	return rings, nil
}

func writeSHP(shp, shx *bytes.Buffer, recs []ShapeRecord) error {
	const polygonType = 5
	var content bytes.Buffer
	var index bytes.Buffer
	box := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	offset := 50 // words: the 100-byte header
	for i, rec := range recs {
		rings, err := shapeRings(rec.Geometry)
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		b := rec.Geometry.Bound()
		box = box.Union(b)
		points := 0
		for _, r := range rings {
			points += len(r)
		}
		contentBytes := 4 + 32 + 4 + 4 + 4*len(rings) + 16*points
		var rh [8]byte
		binary.BigEndian.PutUint32(rh[0:], uint32(i+1))
		binary.BigEndian.PutUint32(rh[4:], uint32(contentBytes/2))
		content.Write(rh[:])
		le := func(v any) { _ = binary.Write(&content, binary.LittleEndian, v) }
		le(int32(polygonType))
		le([4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]})
		le(int32(len(rings)))
		le(int32(points))
		start := 0
		for _, r := range rings {
			le(int32(start))
			start += len(r)
		}
		for _, r := range rings {
			for _, p := range r {
				le([2]float64{p[0], p[1]})
			}
		}
		var ix [8]byte
		binary.BigEndian.PutUint32(ix[0:], uint32(offset))
		binary.BigEndian.PutUint32(ix[4:], uint32(contentBytes/2))
		index.Write(ix[:])
		offset += 4 + contentBytes/2
	}
	if len(recs) == 0 {
		box = orb.Bound{}
	}
	header := func(out *bytes.Buffer, lengthBytes int) {
		var h [100]byte
		binary.BigEndian.PutUint32(h[0:], 9994)
		binary.BigEndian.PutUint32(h[24:], uint32(lengthBytes/2))
		binary.LittleEndian.PutUint32(h[28:], 1000)
		binary.LittleEndian.PutUint32(h[32:], polygonType)
		for i, v := range []float64{box.Min[0], box.Min[1], box.Max[0], box.Max[1]} {
			binary.LittleEndian.PutUint64(h[36+8*i:], math.Float64bits(v))
		}
		out.Write(h[:])
	}
	header(shp, 100+content.Len())
	shp.Write(content.Bytes())
	header(shx, 100+index.Len())
	shx.Write(index.Bytes())
	return nil
}

func writeDBF(out *bytes.Buffer, fields []ShapeField, recs []ShapeRecord) error {
	recLen := 1
	for _, f := range fields {
		if f.Width < 1 || f.Width > 254 {
			return fmt.Errorf("field %s: width %d is not 1 to 254", f.Name, f.Width)
		}
		recLen += f.Width
	}
	headerLen := 32 + 32*len(fields) + 1
	var h [32]byte
	h[0] = 3
	h[1], h[2], h[3] = 126, 12, 7 // last update (YY since 1900, MM, DD): fixed, so equal data gives equal files
	binary.LittleEndian.PutUint32(h[4:], uint32(len(recs)))
	binary.LittleEndian.PutUint16(h[8:], uint16(headerLen))
	binary.LittleEndian.PutUint16(h[10:], uint16(recLen))
	out.Write(h[:])
	for _, f := range fields {
		var d [32]byte
		name := f.Name
		if len(name) > 10 {
			name = name[:10]
		}
		copy(d[:], name)
		d[11] = 'C'
		if f.Numeric {
			d[11] = 'N'
		}
		d[16] = byte(f.Width)
		out.Write(d[:])
	}
	out.WriteByte(0x0d)
	for i, rec := range recs {
		if len(rec.Values) != len(fields) {
			return fmt.Errorf("record %d has %d values for %d fields", i, len(rec.Values), len(fields))
		}
		out.WriteByte(' ')
		for j, f := range fields {
			var s string
			switch v := rec.Values[j].(type) {
			case nil:
			case string:
				s = v
			case int:
				s = strconv.Itoa(v)
			case float64:
				s = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				s = fmt.Sprint(v)
			}
			s = cutUTF8(s, f.Width)
			pad := bytes.Repeat([]byte{' '}, f.Width-len(s))
			if f.Numeric {
				out.Write(pad)
				out.WriteString(s)
			} else {
				out.WriteString(s)
				out.Write(pad)
			}
		}
	}
	out.WriteByte(0x1a)
	return nil
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
