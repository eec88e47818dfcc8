package httpapi

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/ogcquery"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// OGC API - Features Part 2 (Coordinate Reference Systems by Reference):
// which CRSs the collections offer, bbox-crs in, crs and Content-Crs out.
// The OGC handlers call these; the CRSs themselves are package crs's.
//
// Axis order: a CRS requested by its EPSG URI is written in that CRS's
// authority axis order, as Part 2 requires: latitude first for EPSG:4326
// and EPSG:4756, east first for CRS84 and every projected CRS here. A
// bbox in such a CRS is read latitude first too.

// ogcPart2Conformance is the conformance class of Part 2.
const ogcPart2Conformance = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"

// ogcCRSURIs lists the CRS URIs every collection can be served in, CRS84
// (the storage CRS) first.
func ogcCRSURIs() []string { return crs.SupportedURIs() }

// ogcOutput is the CRS an OGC features response is written in.
type ogcOutput struct {
	crs *crs.CRS // nil: CRS84, the features as stored
	uri string
}

// ogcOutputCRS resolves a crs parameter: "" or any form of CRS84 is CRS84;
// otherwise it must be one of ogcCRSURIs (items requests have had it
// checked by ogcquery.Parse already; single items have not).
func ogcOutputCRS(ref string) (ogcOutput, error) {
	if ref == "" || ogcquery.IsCRS84(ref) {
		return ogcOutput{uri: ogcquery.CRS84}, nil
	}
	if !slices.Contains(ogcCRSURIs(), ref) {
		return ogcOutput{}, fieldError("crs", "unsupported CRS %q (supported: the collection's crs list, e.g. %s)", ref, "http://www.opengis.net/def/crs/EPSG/0/9215")
	}
	c, err := crs.Lookup(ref)
	if err != nil {
		return ogcOutput{}, fieldError("crs", "%s", zone.ErrorMessage(err))
	}
	return ogcOutput{crs: c, uri: ref}, nil
}

// stored reports whether features go out as stored (CRS84): the handlers
// may then use their cached encodings.
func (o ogcOutput) stored() bool { return o.crs == nil }

// contentCRS is the Content-Crs header value.
func (o ogcOutput) contentCRS() string { return "<" + o.uri + ">" }

// feature returns c as a GeoJSON feature in the output CRS: its geometry
// and approved zone polygons transformed, metres rounded to the
// millimetre and degrees to 1e-9 (as package formats writes them), axes in
// the CRS's authority order; in CRS84, as stored but rounded to
// crs84Decimals (crs84Feature). A geometry that cannot be projected (more
// than 30 degrees of longitude from a TM zone's meridian; nothing in
// Vietnam is) goes out as null rather than wrong.
func (o ogcOutput) feature(c *zone.Component) *geojson.Feature {
	if o.stored() {
		return crs84Feature(c)
	}
	return transformedFeature(c, o.geometry)
}

// transformedFeature is c's feature with its geometry and approved zone
// polygons passed through tr (which returns new geometries: the
// component's are the index's and never change).
func transformedFeature(c *zone.Component, tr func(orb.Geometry) orb.Geometry) *geojson.Feature {
	f := c.Feature()
	f.Geometry = tr(c.Geometry)
	if len(c.Zones) > 0 {
		zs := make([]zone.ProtectionZone, len(c.Zones))
		for i, z := range c.Zones {
			if z.Geometry != nil {
				z.Geometry = tr(z.Geometry)
			}
			zs[i] = z
		}
		f.Properties[zone.FieldZones] = zs
	}
	return f
}

// crs84Decimals is the decimals of the degrees OGC pages and items write in
// CRS84: 1e-7 degrees is at most 1.1 cm on the ground, well inside the
// 25 cm the checker promises for zone outlines (README), and the
// precision PostGIS tile and feature servers write. Stored coordinates
// with more digits (converted from VN-2000, or drawn) would otherwise go
// out with up to 17 significant digits, nearly doubling a page's bytes.
const crs84Decimals = 7

// crs84Feature is c's feature in CRS84, coordinates rounded to
// crs84Decimals.
func crs84Feature(c *zone.Component) *geojson.Feature {
	return transformedFeature(c, func(g orb.Geometry) orb.Geometry {
		return orb.Round(orb.Clone(g), int(math.Pow10(crs84Decimals)))
	})
}

func (o ogcOutput) geometry(g orb.Geometry) orb.Geometry {
	out, err := crs.TransformFromWGS84(g, o.crs)
	if err != nil {
		return nil
	}
	factor := 1_000_000_000
	if o.crs.Kind == crs.Projected {
		factor = 1000
	}
	out = orb.Round(out, factor)
	if o.crs.LatLonAxisOrder() {
		out = crs.SwapXY(out)
	}
	return out
}

// ogcBBoxToCRS84 turns a bbox given in another CRS (bbox-crs) into the
// CRS84 box that covers it (its edges transformed), in place, so the
// handlers select on CRS84 as always. Coordinates plainly not in the
// stated CRS are an error naming bbox.
func ogcBBoxToCRS84(q *ogcquery.Query) error {
	if q.BBox == nil || q.BBoxCRS == "" || ogcquery.IsCRS84(q.BBoxCRS) {
		return nil
	}
	c, err := crs.Lookup(q.BBoxCRS)
	if err != nil {
		return fieldError("bbox-crs", "%s", zone.ErrorMessage(err))
	}
	b := *q.BBox
	if c.LatLonAxisOrder() {
		b = orb.Bound{Min: orb.Point{b.Min[1], b.Min[0]}, Max: orb.Point{b.Max[1], b.Max[0]}}
	}
	w, err := crs.TransformBoundToWGS84(b, c)
	if err != nil {
		return fieldError("bbox", "bbox in %s: %s", c.Code, zone.ErrorMessage(err))
	}
	q.BBox, q.BBoxCRS = &w, ""
	return nil
}
