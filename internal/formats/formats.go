// Package formats reads the files appraisers have — GeoJSON, KML/KMZ, a
// zipped ESRI shapefile, and a VN-2000 boundary-point table (CSV or pasted
// text) — into WGS84 GeoJSON features ready for the checker, and writes
// GeoJSON in a chosen CRS.
//
// Coordinates come out as WGS84 longitude, latitude (package crs converts
// them); every geometry is checked with zone.ValidateGeometry. A bad file
// gets a zone.Error with CodeInvalid whose message and Details name the file
// ("site.zip: site.shp"), the record (feature, placemark, shape, or row as
// people count them, from 1) and what is wrong; Detail.Index is the 0-based
// record index (for a table, the 0-based line, so "row 5" has Index 4), -1
// for a problem with the whole file. Up to 50 problems are listed per file.
// Decoding has no side effects: nothing is stored.
//
// # Limits
//
// Options.Limits bounds every upload (DefaultLimits: a 64 MiB file, zip
// members inflating to 64 MiB each and 256 MiB in all, 1000 zip entries,
// 10,000 features, 1,000,000 vertices and 100,000 per feature, 500,000
// attribute values, and 16 MiB for any one XML token). Each decoder counts
// while it reads — zip members as they inflate, KML token by token, a
// GeoJSON FeatureCollection feature by feature, a shapefile and its .dbf
// record by record, a table line by line — and stops at the first limit
// crossed without reading the rest. That is a zone.Error with CodeLimit
// whose message names the file and the limit ("site.kmz: doc.kml: more
// than 10000 placemarks (the limit per upload)"), with one Detail (Index
// -1, or the record's for a per-feature limit); a file over MaxFileBytes is
// CodeTooLarge. A malformed file stays CodeInvalid, unless a limit is
// crossed before the fault is reached.
//
// # Memory
//
// Besides the upload itself, one Decode holds at most: the features decoded
// so far — MaxVertices points at 16 bytes, held as read and again once
// transformed, with slice slack: some 70 MB at the defaults (measured for
// 1,000,000 vertices in 10 polygons) — and MaxAttributes attribute values
// at up to about 160 bytes each decoded (80 MB at the default); and, one at
// a time, the record being read: one GeoJSON feature's text (within the
// upload's size), one XML token (16 MiB, which encoding/xml buffers growing
// by doubling: about 40 MB at worst), one shapefile record (the points of
// one feature), one dBASE record (64 KiB at most), the validation of one
// geometry, and a 32 KiB inflate window per zip member being read. Nothing
// is allocated for a count or size a file declares before the limits have
// checked it (archive/zip's directory, bounded by the upload's size, aside)
// and no inflated member is held whole, so what a small upload inflates to
// does not matter: at the defaults a decode stays under about 200 MB beyond
// the upload, and less with smaller limits. The KMZ bomb of
// issue 12 (62 MB of KML, 674,000 placemarks, in 2 MB) is refused at the
// 10,001st placemark, having allocated 21 MB in all, in 50 ms (before: 1.7
// GB and 4 s, parsing every placemark).
package formats

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Format names an input format.
type Format string

const (
	GeoJSON   Format = "geojson"
	KML       Format = "kml"
	KMZ       Format = "kmz"
	Shapefile Format = "shapefile" // a .zip holding .shp, .shx, .dbf, .prj (and .cpg)
	Table     Format = "table"     // boundary-point table: point number, X (northing), Y (easting)
)

// Options says how to read a file.
type Options struct {
	// CRS of the coordinates when the file does not say. Required for a
	// boundary table (a projected VN-2000 zone, e.g. EPSG:9215). For GeoJSON
	// it applies when there is no "crs" member; for a shapefile only when
	// the .prj is missing (a .prj always wins). KML is always WGS84. Nil
	// means WGS84 longitude, latitude.
	CRS *crs.CRS
	// Format forces the format instead of sniffing it from the name and
	// content ("" to sniff).
	Format Format
	// Limits bound the decoding; zero fields take DefaultLimits.
	Limits Limits
}

// Result is a decoded file.
type Result struct {
	Format   Format
	CRS      *crs.CRS // the CRS the coordinates were read in
	Features *geojson.FeatureCollection
}

// Decode reads one uploaded file. name is the file name as uploaded (its
// extension guides the sniffing; it appears in errors). The features come
// out in WGS84; each keeps the attributes the file gave it. opt.Limits
// bound the reading (see the package doc).
func Decode(name string, data []byte, opt Options) (*Result, error) {
	if name == "" {
		name = "upload"
	}
	lim := opt.Limits.WithDefaults()
	if int64(len(data)) > lim.MaxFileBytes {
		return nil, &zone.Error{Code: zone.CodeTooLarge, Message: fmt.Sprintf("%s: %d bytes, more than the %s allowed", name, len(data), BytesText(lim.MaxFileBytes))}
	}
	bud := newBudget(lim)
	// A byte-order mark (Windows Notepad, Excel's "CSV UTF-8") is not part
	// of any of these formats' content.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f := opt.Format
	if f == "" {
		var err error
		if f, err = Sniff(name, data); err != nil {
			return nil, err
		}
	}
	var (
		res *Result
		err error
	)
	switch f {
	case GeoJSON:
		res, err = decodeGeoJSON(name, data, opt, bud)
	case KML:
		res, err = decodeKML(name, bytes.NewReader(data), bud)
	case KMZ:
		res, err = decodeKMZ(name, data, bud)
	case Shapefile:
		res, err = decodeShapefileZip(name, data, opt, bud)
	case Table:
		res, err = decodeTable(name, data, opt, bud)
	default:
		return nil, zone.Errorf(zone.CodeInvalid, "%s: unknown format %q (geojson, kml, kmz, shapefile, table)", name, f)
	}
	if err != nil {
		return nil, err
	}
	res.Format = f
	return res, nil
}

// Sniff tells the format of a file from its extension, or from its first
// bytes when the extension says nothing.
func Sniff(name string, data []byte) (Format, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".geojson", ".json":
		return GeoJSON, nil
	case ".kml":
		return KML, nil
	case ".kmz":
		return KMZ, nil
	case ".zip":
		if zipHasKML(data) {
			return KMZ, nil
		}
		return Shapefile, nil
	case ".csv", ".txt", ".tsv":
		return Table, nil
	case ".shp", ".shx", ".dbf", ".prj":
		return "", zone.Errorf(zone.CodeInvalid, "%s: upload a shapefile as one .zip holding its .shp, .shx, .dbf and .prj", name)
	}
	head := bytes.TrimLeft(data[:min(len(data), 512)], " \t\r\n\ufeff")
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		if zipHasKML(data) {
			return KMZ, nil
		}
		return Shapefile, nil
	case bytes.HasPrefix(head, []byte("{")):
		return GeoJSON, nil
	case bytes.HasPrefix(head, []byte("<")):
		return KML, nil
	case len(head) > 0 && bytes.IndexFunc(head, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0:
		return Table, nil
	}
	return "", zone.Errorf(zone.CodeInvalid, "%s: cannot tell the format: expected GeoJSON, KML, KMZ, a zipped shapefile, or a boundary-point table (CSV or text)", name)
}

// problems collects per-record problems of one file and turns them into one
// zone.Error.
type problems struct {
	file    string // "site.zip: site.shp"
	details []zone.Detail
	more    int
}

// add records a problem with record index i (0-based; -1 for the whole
// file); where is the human-readable location ("row 5", "placemark 2").
func (p *problems) add(i int, where, format string, args ...any) {
	if len(p.details) >= maxDetails {
		p.more++
		return
	}
	ptr := p.file
	if where != "" {
		ptr += ": " + where
	}
	p.details = append(p.details, zone.Detail{Index: i, Pointer: ptr, Reason: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.details) == 0 {
		return nil
	}
	d := p.details[0]
	msg := d.Pointer + ": " + d.Reason
	if n := len(p.details) + p.more - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more problems)", n)
	}
	return &zone.Error{Code: zone.CodeInvalid, Message: msg, Details: p.details}
}

// fileError is a problem with a whole file.
func fileError(file, format string, args ...any) error {
	p := &problems{file: file}
	p.add(-1, "", format, args...)
	return p.err()
}

// finish transforms a feature's geometry from c to WGS84 and validates it,
// adding problems under where; it returns false if the feature is bad.
func finish(p *problems, i int, where string, f *geojson.Feature, c *crs.CRS) bool {
	if f.Geometry == nil {
		p.add(i, where, "no geometry")
		return false
	}
	g, err := crs.TransformToWGS84(f.Geometry, c)
	if err != nil {
		for _, d := range zone.ErrorDetails(err) {
			p.add(i, where, "%s: %s", d.Pointer, d.Reason)
		}
		if len(zone.ErrorDetails(err)) == 0 {
			p.add(i, where, "%s", zone.ErrorMessage(err))
		}
		return false
	}
	f.Geometry = g
	probs := zone.ValidateGeometry(g)
	for _, d := range probs {
		p.add(i, where, "%s: %s", d.Pointer, d.Reason)
	}
	return len(probs) == 0
}

// orDefault returns c, or CRS84 when c is nil.
func orDefault(c *crs.CRS) *crs.CRS {
	if c == nil {
		return crs.CRS84()
	}
	return c
}

// closeRing returns r closed (last point equal to the first).
func closeRing(r orb.Ring) orb.Ring {
	if len(r) > 0 && r[0] != r[len(r)-1] {
		r = append(r, r[0])
	}
	return r
}
