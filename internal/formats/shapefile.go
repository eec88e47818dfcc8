package formats

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// A small reader of ESRI shapefiles (ESRI Shapefile Technical Description,
// 1998) from a zip in memory. Libraries considered: jonas-p/go-shp (last
// release 2017, opens zips by path on disk only) and twpayne/go-shapefile
// (reads zips and guards against malformed files, but yields go-geom
// geometries, a second geometry model beside orb, and v0.0.x). The part of
// the format needed here — points, lines, polygons and their Z/M forms,
// dBASE III attributes — is a few hundred lines, so zoneplan reads it
// itself, to name the file and record in every error; FuzzDecode holds it
// against damaged input.

// decodeShapefileZip reads every .shp in the zip with its .dbf, .prj and
// .cpg siblings (same base name, any case). .shx is not needed: records are
// read in sequence. The .dbf and .shp are read record by record as they
// inflate, each record counted against bud.
func decodeShapefileZip(name string, data []byte, opt Options, bud *budget) (*Result, error) {
	a, err := openZip(name, data, bud.lim)
	if err != nil {
		return nil, err
	}
	members := map[string]*zip.File{} // lower-case path -> file
	var shps, all []string
	for _, f := range zipMembers(a.zr) {
		members[strings.ToLower(f.Name)] = f
		all = append(all, f.Name)
		if strings.EqualFold(path.Ext(f.Name), ".shp") {
			shps = append(shps, f.Name)
		}
	}
	if len(shps) == 0 {
		return nil, fileError(name, "no .shp file in the archive (found: %s)", listOrNone(all))
	}
	sort.Strings(shps)
	res := &Result{Features: geojson.NewFeatureCollection()}
	for _, shp := range shps {
		if err := readShapefile(a, shp, members, opt, res, bud); err != nil {
			return nil, err
		}
	}
	if len(res.Features.Features) == 0 {
		return nil, fileError(name, "the shapefile has no shapes")
	}
	return res, nil
}

// readShapefile reads one .shp of the archive with its siblings, appending
// its features to res.
func readShapefile(a *archive, shp string, members map[string]*zip.File, opt Options, res *Result, bud *budget) error {
	name := a.name
	base := strings.ToLower(strings.TrimSuffix(shp, path.Ext(shp)))
	// Members are opened in the order they always were (.shp, .prj,
	// .dbf, .cpg), so a damaged archive is reported the same way; the
	// .shp and .dbf are then read as they are parsed.
	shpMember, err := a.open(members[strings.ToLower(shp)])
	if err != nil {
		return err
	}
	defer shpMember.Close()
	sibling := func(ext string) ([]byte, string, error) {
		f := members[base+ext]
		if f == nil {
			return nil, "", nil
		}
		b, err := a.readAll(f)
		return b, f.Name, err
	}
	prjData, _, err := sibling(".prj")
	if err != nil {
		return err
	}
	var dbfMember *memberReader
	if f := members[base+".dbf"]; f != nil {
		if dbfMember, err = a.open(f); err != nil {
			return err
		}
		defer dbfMember.Close()
	}
	cpgData, cpgName, err := sibling(".cpg")
	if err != nil {
		return err
	}
	var c *crs.CRS
	prjName := strings.TrimSuffix(shp, path.Ext(shp)) + ".prj"
	switch {
	case prjData != nil:
		if c, err = prjCRS(string(prjData)); err != nil {
			return fileError(name+": "+prjName, "unknown CRS: %v; zoneplan reads VN-2000 (geographic, UTM 48N/49N, TM-3 zones), WGS 84 and Web Mercator", err)
		}
	case opt.CRS != nil:
		c = opt.CRS
	default:
		return fileError(name+": "+prjName, "missing: the shapefile does not say its CRS; add the .prj or choose the CRS")
	}
	enc, err := dbfEncoding(cpgData)
	if err != nil {
		return fileError(name+": "+cpgName, "%v", err)
	}
	var attrs []geojson.Properties
	if dbfMember != nil {
		if attrs, err = readDBF(dbfMember.file, dbfMember, enc, bud); err != nil {
			return err
		}
	}
	if err := readSHP(name+": "+shp, shpMember, attrs, c, res.Features, bud); err != nil {
		return err
	}
	if res.CRS == nil {
		res.CRS = c
	}
	return nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

// Shape types (and their Z and M forms: +10, +20).
const (
	shpNull       = 0
	shpPoint      = 1
	shpPolyLine   = 3
	shpPolygon    = 5
	shpMultiPoint = 8
)

// readFull reads len(b) bytes of m; n is how many it got before the member
// ended. err is a *zone.Error (a limit, a damaged member) or nil.
func readFull(m *memberReader, b []byte) (n int, err error) {
	n, err = io.ReadFull(m, b)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return n, err
}

// readExactly reads len(b) bytes that the member's declared size says are
// there; archive/zip fails a member shorter than declared, so a short read
// is a damaged archive.
func readExactly(m *memberReader, b []byte) error {
	n, err := readFull(m, b)
	if err == nil && n < len(b) {
		err = fileError(m.file, "cannot read from the archive (truncated or damaged?): %v", io.ErrUnexpectedEOF)
	}
	return err
}

// readSHP appends one feature per non-null shape to fc, with the dbf
// attributes of the same record, after converting to WGS84 from c. It reads
// one record at a time: each counts as a feature, and a shape's points are
// counted from its header before they are read. The file's length is the
// member's declared size, which archive/zip holds the member to.
func readSHP(file string, m *memberReader, attrs []geojson.Properties, c *crs.CRS, fc *geojson.FeatureCollection, bud *budget) error {
	p := &problems{file: file}
	size := m.size
	var head [100]byte
	n, err := readFull(m, head[:])
	if err != nil {
		return err
	}
	if n < 100 {
		return fileError(file, "truncated: %d bytes, a shapefile header alone is 100", n)
	}
	b := head[:]
	if code := binary.BigEndian.Uint32(b[0:4]); code != 9994 {
		return fileError(file, "not a shapefile (file code %d, want 9994)", code)
	}
	if declared := int64(binary.BigEndian.Uint32(b[24:28])) * 2; declared > size {
		p.add(-1, "", "truncated: the header says %d bytes, the file has %d", declared, size)
		return p.err()
	}
	var buf []byte // one record's content, reused
	off, rec := int64(100), 0
	for off < size {
		rec++
		where := fmt.Sprintf("record %d", rec)
		if off+8 > size {
			p.add(rec-1, where, "truncated record header at byte %d", off)
			break
		}
		var rh [8]byte
		if err := readExactly(m, rh[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(rh[4:8])) * 2
		if n < 4 || off+8+int64(n) > size {
			p.add(rec-1, where, "truncated: needs %d bytes at byte %d, the file has %d", n, off+8, size)
			break
		}
		if err := bud.feature(file, "shapes"); err != nil {
			return err
		}
		// The content's head says how much of it shape needs; points past
		// the limits are refused before they are read.
		var h [44]byte
		hn := min(n, 44)
		if err := readExactly(m, h[:hn]); err != nil {
			return err
		}
		need, points, err := shapeLayout(h[:hn], n)
		if err == nil && points > 0 {
			if lerr := bud.featureVertices(file, rec-1, where, points); lerr != nil {
				return lerr
			}
			if need > n {
				err = fmt.Errorf("shape of type %d truncated: %d bytes, needs %d", binary.LittleEndian.Uint32(h[0:4]), n, need)
			}
		}
		used := hn
		var g orb.Geometry
		if err == nil && need > 0 {
			if hn >= need {
				buf = append(buf[:0], h[:need]...)
			} else {
				buf = append(buf[:0], h[:hn]...)
				buf = slices.Grow(buf, need-hn)[:need]
				if err := readExactly(m, buf[hn:]); err != nil {
					return err
				}
				used = need
			}
			g, err = shape(buf)
		}
		// What shape does not read (Z and M arrays) is passed over.
		if _, derr := io.CopyN(io.Discard, m, int64(n-used)); derr != nil && zoneErr(derr) != nil {
			return derr
		}
		off += 8 + int64(n)
		if err != nil {
			p.add(rec-1, where, "%v", err)
			continue
		}
		if g == nil {
			continue // a null shape: a record without geometry, kept out
		}
		f := geojson.NewFeature(g)
		if rec-1 < len(attrs) {
			f.Properties = attrs[rec-1]
		}
		if finish(p, rec-1, where, f, c) {
			fc.Append(f)
		}
	}
	if attrs != nil && len(attrs) != rec {
		p.add(-1, "", "has %d records but the .dbf has %d", rec, len(attrs))
	}
	if err := m.drain(); err != nil {
		return err
	}
	return p.err()
}

// shapeLayout reads a record's head (its first min(n, 44) bytes, n being
// the content length) and returns how many bytes shape needs and how many
// points the record says it has, or the error shape gives for a bad head.
// A null shape needs nothing.
func shapeLayout(h []byte, n int) (need, points int, err error) {
	le := binary.LittleEndian
	st := int(le.Uint32(h[0:4]))
	base := st
	if st > 10 && st < 30 {
		base = st % 10
	}
	short := func(k int) error {
		if n < k {
			return fmt.Errorf("shape of type %d truncated: %d bytes, needs %d", st, n, k)
		}
		return nil
	}
	switch base {
	case shpNull:
		return 0, 0, nil
	case shpPoint:
		if err := short(20); err != nil {
			return 0, 0, err
		}
		return 20, 1, nil
	case shpMultiPoint:
		if err := short(40); err != nil {
			return 0, 0, err
		}
		np := int(le.Uint32(h[36:40]))
		return 40 + 16*np, np, nil
	case shpPolyLine, shpPolygon:
		if err := short(44); err != nil {
			return 0, 0, err
		}
		nparts, np := int(le.Uint32(h[36:40])), int(le.Uint32(h[40:44]))
		if nparts <= 0 || np <= 0 || nparts > np {
			return 0, 0, fmt.Errorf("%d parts and %d points: not a valid shape", nparts, np)
		}
		return 44 + 4*nparts + 16*np, np, nil
	}
	return 0, 0, fmt.Errorf("shape type %d is not supported (points, lines and polygons are)", st)
}

// shape decodes one record's content into an orb geometry (nil for a null
// shape). Only x, y are read: Z and M arrays follow the points.
func shape(b []byte) (orb.Geometry, error) {
	le := binary.LittleEndian
	st := int(le.Uint32(b[0:4]))
	base := st
	if st > 10 && st < 30 {
		base = st % 10
	}
	need := func(n int) error {
		if len(b) < n {
			return fmt.Errorf("shape of type %d truncated: %d bytes, needs %d", st, len(b), n)
		}
		return nil
	}
	pt := func(at int) orb.Point {
		return orb.Point{math.Float64frombits(le.Uint64(b[at:])), math.Float64frombits(le.Uint64(b[at+8:]))}
	}
	switch base {
	case shpNull:
		return nil, nil
	case shpPoint:
		if err := need(20); err != nil {
			return nil, err
		}
		return pt(4), nil
	case shpMultiPoint:
		if err := need(40); err != nil {
			return nil, err
		}
		np := int(le.Uint32(b[36:40]))
		if err := need(40 + 16*np); err != nil {
			return nil, err
		}
		mp := make(orb.MultiPoint, np)
		for i := range mp {
			mp[i] = pt(40 + 16*i)
		}
		return mp, nil
	case shpPolyLine, shpPolygon:
		if err := need(44); err != nil {
			return nil, err
		}
		nparts, np := int(le.Uint32(b[36:40])), int(le.Uint32(b[40:44]))
		if nparts <= 0 || np <= 0 || nparts > np {
			return nil, fmt.Errorf("%d parts and %d points: not a valid shape", nparts, np)
		}
		if np > zone.MaxVertices {
			return nil, fmt.Errorf("%d points, more than the %d a geometry may have", np, zone.MaxVertices)
		}
		if err := need(44 + 4*nparts + 16*np); err != nil {
			return nil, err
		}
		parts := make([][]orb.Point, nparts)
		pointsAt := 44 + 4*nparts
		for i := 0; i < nparts; i++ {
			start := int(le.Uint32(b[44+4*i:]))
			end := np
			if i+1 < nparts {
				end = int(le.Uint32(b[44+4*(i+1):]))
			}
			if start < 0 || end > np || start >= end {
				return nil, fmt.Errorf("part %d spans points %d..%d of %d", i+1, start, end, np)
			}
			ps := make([]orb.Point, end-start)
			for j := range ps {
				ps[j] = pt(pointsAt + 16*(start+j))
			}
			parts[i] = ps
		}
		if base == shpPolyLine {
			if nparts == 1 {
				return orb.LineString(parts[0]), nil
			}
			ml := make(orb.MultiLineString, nparts)
			for i, p := range parts {
				ml[i] = p
			}
			return ml, nil
		}
		return assemblePolygons(parts), nil
	}
	return nil, fmt.Errorf("shape type %d is not supported (points, lines and polygons are)", st)
}

// assemblePolygons groups shapefile rings into polygons by nesting: a ring
// inside an even number of other rings is an outer ring, inside an odd
// number a hole of the smallest outer ring around it. The spec's winding
// (outer clockwise) is not trusted: writers get it wrong. Nesting is tested
// with each ring's first vertex, in the file's own (planar) coordinates.
func assemblePolygons(parts [][]orb.Point) orb.Geometry {
	rings := make([]orb.Ring, len(parts))
	areas := make([]float64, len(parts))
	bounds := make([]orb.Bound, len(parts))
	for i, p := range parts {
		rings[i] = closeRing(orb.Ring(p))
		areas[i] = math.Abs(planar.Area(rings[i]))
		bounds[i] = rings[i].Bound()
	}
	// inside reports whether ring i lies in the larger ring j.
	inside := func(i, j int) bool {
		return i != j && areas[j] > areas[i] && bounds[j].Contains(rings[i][0]) && planar.RingContains(rings[j], rings[i][0])
	}
	depth := make([]int, len(rings))
	for i := range rings {
		for j := range rings {
			if inside(i, j) {
				depth[i]++
			}
		}
	}
	var polys orb.MultiPolygon
	index := map[int]int{} // ring -> polygon
	for i := range rings {
		if depth[i]%2 == 0 {
			index[i] = len(polys)
			polys = append(polys, orb.Polygon{rings[i]})
		}
	}
	for i := range rings {
		if depth[i]%2 == 0 {
			continue
		}
		best := -1
		for j := range rings {
			if depth[j]%2 == 0 && depth[j] == depth[i]-1 && inside(i, j) &&
				(best < 0 || areas[j] < areas[best]) {
				best = j
			}
		}
		if best < 0 { // cannot happen with consistent depths; keep the ring rather than lose it
			polys = append(polys, orb.Polygon{rings[i]})
			continue
		}
		polys[index[best]] = append(polys[index[best]], rings[i])
	}
	if len(polys) == 1 {
		return polys[0]
	}
	return polys
}

// dbfEncoding reads a .cpg: UTF-8 (also when there is no .cpg: the bytes are
// then checked to be UTF-8), or the Windows and ISO code pages
// golang.org/x/text knows (1252, 1258 for Vietnamese, 8859-1). TCVN3 (ABC)
// and VNI are font encodings, not code pages: they are refused.
func dbfEncoding(cpg []byte) (encoding.Encoding, error) {
	s := squash(string(cpg))
	switch s {
	case "", "utf8", "65001":
		return nil, nil
	case "1252", "cp1252", "windows1252", "ansi1252":
		return charmap.Windows1252, nil
	case "1258", "cp1258", "windows1258", "ansi1258":
		return charmap.Windows1258, nil
	case "88591", "iso88591", "latin1":
		return charmap.ISO8859_1, nil
	}
	return nil, fmt.Errorf("code page %q is not one zoneplan can read (UTF-8, 1258, 1252, ISO-8859-1); save the shapefile with UTF-8 attributes", strings.TrimSpace(string(cpg)))
}

// readDBF reads a dBASE III table: one property map per record, keyed by
// field name. C fields are text (trimmed), N and F numbers (nil when
// blank), L booleans, D dates as YYYY-MM-DD text. Text is decoded with enc
// (nil: UTF-8, checked) and normalised to NFC. Records are read one at a
// time, each counted as a feature and its fields as attribute values.
func readDBF(file string, m *memberReader, enc encoding.Encoding, bud *budget) ([]geojson.Properties, error) {
	var h [32]byte
	got, err := readFull(m, h[:])
	if err != nil {
		return nil, err
	}
	if got < 32 {
		return nil, fileError(file, "truncated: %d bytes, a .dbf header alone is 32", got)
	}
	le := binary.LittleEndian
	nrec := int(le.Uint32(h[4:8]))
	hlen, rlen := int(le.Uint16(h[8:10])), int(le.Uint16(h[10:12]))
	if hlen < 33 || rlen < 1 {
		return nil, fileError(file, "not a dBASE file (header %d bytes, records %d bytes)", hlen, rlen)
	}
	b := make([]byte, hlen) // at most 64 KiB
	copy(b, h[:])
	if got, err = readFull(m, b[32:]); err != nil {
		return nil, err
	}
	if got < hlen-32 {
		return nil, fileError(file, "not a dBASE file (header %d bytes, records %d bytes)", hlen, rlen)
	}
	type field struct {
		name     string
		typ      byte
		off, len int
	}
	var fields []field
	off := 1 // the deletion flag
	for at := 32; at+32 <= hlen && b[at] != 0x0d; at += 32 {
		raw := b[at : at+11]
		if i := bytes.IndexByte(raw, 0); i >= 0 {
			raw = raw[:i]
		}
		f := field{name: strings.TrimSpace(string(raw)), typ: b[at+11], off: off, len: int(b[at+16])}
		off += f.len
		fields = append(fields, f)
	}
	if off > rlen {
		return nil, fileError(file, "fields take %d bytes, records have %d", off, rlen)
	}
	p := &problems{file: file}
	// The header's count is not trusted for the allocation: a damaged or
	// hostile file may claim billions of records.
	out := make([]geojson.Properties, 0, min(nrec, bud.lim.MaxFeatures+1, int(m.size)/rlen+1))
	rec := make([]byte, rlen)
	for r := 0; r < nrec; r++ {
		if got, err := readFull(m, rec); err != nil {
			return nil, err
		} else if got < rlen {
			p.add(r, fmt.Sprintf("record %d", r+1), "truncated: the header says %d records, the file ends in record %d", nrec, r+1)
			break
		}
		if r >= bud.lim.MaxFeatures {
			return nil, limitError(file, -1, "", "more than %d records (the limit per upload)", bud.lim.MaxFeatures)
		}
		if err := bud.attributes(file, len(fields)); err != nil {
			return nil, err
		}
		props := geojson.Properties{}
		for _, f := range fields {
			raw := rec[f.off : f.off+f.len]
			var text string
			if enc != nil {
				d, err := enc.NewDecoder().Bytes(raw)
				if err != nil {
					p.add(r, fmt.Sprintf("record %d", r+1), "field %s: %v", f.name, err)
					continue
				}
				text = string(d)
			} else {
				if !utf8.Valid(raw) && !utf8.Valid(bytes.TrimRight(raw, " \x00")) {
					p.add(r, fmt.Sprintf("record %d", r+1), "field %s is not UTF-8 text: add a .cpg naming its code page (e.g. 1258), or save as UTF-8", f.name)
					continue
				}
				text = string(raw)
			}
			text = strings.TrimSpace(strings.Trim(norm.NFC.String(text), "\x00"))
			switch f.typ {
			case 'N', 'F':
				if text == "" || strings.Trim(text, "*") == "" {
					props[f.name] = nil
				} else if v, err := strconv.ParseFloat(text, 64); err == nil {
					props[f.name] = v
				} else {
					p.add(r, fmt.Sprintf("record %d", r+1), "field %s: %q is not a number", f.name, text)
				}
			case 'L':
				switch strings.ToUpper(text) {
				case "T", "Y":
					props[f.name] = true
				case "F", "N":
					props[f.name] = false
				default:
					props[f.name] = nil
				}
			case 'D':
				if len(text) == 8 {
					text = text[:4] + "-" + text[4:6] + "-" + text[6:]
				}
				props[f.name] = text
			default:
				props[f.name] = text
			}
		}
		out = append(out, props)
	}
	if err := m.drain(); err != nil {
		return nil, err
	}
	return out, p.err()
}
