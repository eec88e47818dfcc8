package formats

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// KML geometry as encoding/xml reads it. Element names match whatever the
// namespace (KML 2.2, 2.1, Google's), as encoding/xml matches local names
// when a tag gives none.
type kmlGeometry struct {
	Points      []kmlCoordinates `xml:"Point"`
	LineStrings []kmlCoordinates `xml:"LineString"`
	LinearRings []kmlCoordinates `xml:"LinearRing"`
	Polygons    []kmlPolygon     `xml:"Polygon"`
	Multi       []kmlGeometry    `xml:"MultiGeometry"`
}

type kmlCoordinates struct {
	Coordinates string `xml:"coordinates"`
}

type kmlPolygon struct {
	Outer string   `xml:"outerBoundaryIs>LinearRing>coordinates"`
	Inner []string `xml:"innerBoundaryIs>LinearRing>coordinates"`
}

type kmlPlacemark struct {
	Name        string `xml:"name"`
	Description string `xml:"description"`
	kmlGeometry
	Data []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value"`
	} `xml:"ExtendedData>Data"`
	SimpleData []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"ExtendedData>SchemaData>SimpleData"`
}

// decodeKML reads every Placemark, at any depth of Documents and Folders,
// with a Point, LineString, Polygon (outer and inner boundaries) or a
// MultiGeometry of them. KML is WGS84 longitude, latitude[, altitude] by
// definition; altitudes are dropped. A MultiGeometry mixing kinds becomes one
// feature per kind. Unclosed rings are closed. Name, description and
// ExtendedData become properties.
func decodeKML(name string, data []byte) (*Result, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	// KML is UTF-8 by specification, but files declaring another encoding
	// (windows-1258, iso-8859-1) exist; read those through x/text.
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		e, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("encoding %q is not supported", label)
		}
		return e.NewDecoder().Reader(in), nil
	}
	p := &problems{file: name}
	fc := geojson.NewFeatureCollection()
	n := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, fileError(name, "not valid XML at line %d: %v", line, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Placemark" {
			continue
		}
		var pm kmlPlacemark
		line, _ := dec.InputPos()
		if err := dec.DecodeElement(&pm, &se); err != nil {
			return nil, fileError(name, "placemark %d (line %d): not valid KML: %v", n+1, line, err)
		}
		i := n
		n++
		where := fmt.Sprintf("placemark %d", n)
		if pm.Name != "" {
			where += fmt.Sprintf(" %q", pm.Name)
		}
		where += fmt.Sprintf(" (line %d)", line)
		geoms, err := pm.kmlGeometry.orb()
		if err != nil {
			p.add(i, where, "%v", err)
			continue
		}
		if len(geoms) == 0 {
			p.add(i, where, "no geometry (expected Point, LineString, Polygon or MultiGeometry)")
			continue
		}
		props := geojson.Properties{}
		if pm.Name != "" {
			props["name"] = strings.TrimSpace(pm.Name)
		}
		if d := strings.TrimSpace(pm.Description); d != "" {
			props["description"] = d
		}
		for _, d := range pm.Data {
			props[d.Name] = strings.TrimSpace(d.Value)
		}
		for _, d := range pm.SimpleData {
			props[d.Name] = strings.TrimSpace(d.Value)
		}
		for _, g := range geoms {
			f := geojson.NewFeature(g)
			for k, v := range props {
				f.Properties[k] = v
			}
			if finish(p, i, where, f, crs.CRS84()) {
				fc.Append(f)
			}
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fileError(name, "no Placemark found: is it KML?")
	}
	if len(fc.Features) == 0 {
		return nil, fileError(name, "no placemark has a geometry")
	}
	return &Result{CRS: crs.CRS84(), Features: fc}, nil
}

// orb converts the geometry of a placemark: one orb geometry per kind
// (points, lines, polygons), each a single or Multi form.
func (g *kmlGeometry) orb() ([]orb.Geometry, error) {
	var points []orb.Point
	var lines []orb.LineString
	var polys []orb.Polygon
	var walk func(g *kmlGeometry, ptr string) error
	walk = func(g *kmlGeometry, ptr string) error {
		for i, c := range g.Points {
			ps, err := kmlCoords(c.Coordinates)
			if err != nil {
				return fmt.Errorf("%sPoint %d: %v", ptr, i+1, err)
			}
			if len(ps) != 1 {
				return fmt.Errorf("%sPoint %d: has %d coordinates, want 1", ptr, i+1, len(ps))
			}
			points = append(points, ps[0])
		}
		for i, c := range g.LineStrings {
			ps, err := kmlCoords(c.Coordinates)
			if err != nil {
				return fmt.Errorf("%sLineString %d: %v", ptr, i+1, err)
			}
			lines = append(lines, ps)
		}
		for i, c := range g.LinearRings {
			ps, err := kmlCoords(c.Coordinates)
			if err != nil {
				return fmt.Errorf("%sLinearRing %d: %v", ptr, i+1, err)
			}
			polys = append(polys, orb.Polygon{closeRing(ps)})
		}
		for i, pg := range g.Polygons {
			outer, err := kmlCoords(pg.Outer)
			if err != nil {
				return fmt.Errorf("%sPolygon %d outer boundary: %v", ptr, i+1, err)
			}
			if len(outer) == 0 {
				return fmt.Errorf("%sPolygon %d has no outerBoundaryIs/LinearRing/coordinates", ptr, i+1)
			}
			poly := orb.Polygon{closeRing(outer)}
			for j, in := range pg.Inner {
				ring, err := kmlCoords(in)
				if err != nil {
					return fmt.Errorf("%sPolygon %d inner boundary %d: %v", ptr, i+1, j+1, err)
				}
				poly = append(poly, closeRing(ring))
			}
			polys = append(polys, poly)
		}
		for i := range g.Multi {
			if err := walk(&g.Multi[i], fmt.Sprintf("%sMultiGeometry %d: ", ptr, i+1)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(g, ""); err != nil {
		return nil, err
	}
	var out []orb.Geometry
	switch len(polys) {
	case 0:
	case 1:
		out = append(out, polys[0])
	default:
		out = append(out, orb.MultiPolygon(polys))
	}
	switch len(lines) {
	case 0:
	case 1:
		out = append(out, lines[0])
	default:
		out = append(out, orb.MultiLineString(lines))
	}
	switch len(points) {
	case 0:
	case 1:
		out = append(out, points[0])
	default:
		out = append(out, orb.MultiPoint(points))
	}
	return out, nil
}

// kmlCoords parses a KML coordinates string: tuples "lon,lat[,alt]"
// separated by white space.
func kmlCoords(s string) ([]orb.Point, error) {
	// Some writers put a space after the commas inside a tuple.
	s = strings.Join(strings.Fields(strings.ReplaceAll(strings.ReplaceAll(s, ", ", ","), " ,", ",")), " ")
	var ps []orb.Point
	for i, tuple := range strings.Fields(s) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("coordinate %d %q is not lon,lat[,alt]", i+1, tuple)
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("coordinate %d %q is not a number pair lon,lat", i+1, tuple)
		}
		ps = append(ps, orb.Point{lon, lat})
	}
	return ps, nil
}

// readZip opens a zip archive within the size limits.
func readZip(name string, data []byte) (*zip.Reader, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fileError(name, "not a readable zip archive (truncated or damaged?): %v", err)
	}
	if len(zr.File) > MaxZipEntries {
		return nil, fileError(name, "%d files in the archive, more than %d", len(zr.File), MaxZipEntries)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > MaxZipTotalBytes {
		return nil, fileError(name, "archive unpacks to %d bytes, more than %d", total, MaxZipTotalBytes)
	}
	return zr, nil
}

// readMember reads one zip member, refusing more than MaxFileBytes.
func readMember(archive string, f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fileError(archive+": "+f.Name, "cannot open in the archive: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxFileBytes+1))
	if err != nil {
		return nil, fileError(archive+": "+f.Name, "cannot read from the archive (truncated or damaged?): %v", err)
	}
	if len(b) > MaxFileBytes {
		return nil, fileError(archive+": "+f.Name, "more than %d bytes", MaxFileBytes)
	}
	return b, nil
}

// zipMembers lists the archive's real files: no directories, no macOS
// resource forks.
func zipMembers(zr *zip.Reader) []*zip.File {
	var out []*zip.File
	for _, f := range zr.File {
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(base, "._") {
			continue
		}
		out = append(out, f)
	}
	return out
}

func zipHasKML(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zipMembers(zr) {
		if strings.EqualFold(path.Ext(f.Name), ".kml") {
			return true
		}
	}
	return false
}

// decodeKMZ reads the KML inside a KMZ: doc.kml, or the first .kml.
func decodeKMZ(name string, data []byte) (*Result, error) {
	zr, err := readZip(name, data)
	if err != nil {
		return nil, err
	}
	var pick *zip.File
	for _, f := range zipMembers(zr) {
		if !strings.EqualFold(path.Ext(f.Name), ".kml") {
			continue
		}
		if pick == nil || strings.EqualFold(path.Base(f.Name), "doc.kml") {
			pick = f
		}
	}
	if pick == nil {
		return nil, fileError(name, "no .kml file in the KMZ archive")
	}
	b, err := readMember(name, pick)
	if err != nil {
		return nil, err
	}
	res, err := decodeKML(name+": "+pick.Name, b)
	if err != nil {
		return nil, err
	}
	return res, nil
}
