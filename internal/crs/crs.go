package crs

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Kind tells how a CRS's coordinates are measured.
type Kind string

const (
	Geographic Kind = "geographic" // longitude, latitude in degrees
	Projected  Kind = "projected"  // easting, northing in metres
)

type method int

const (
	methodGeographic method = iota
	methodTransverseMercator
	methodWebMercator
)

// CRS is one coordinate reference system zoneplan reads and writes. Values
// are immutable once built by Lookup or Supported; share them freely.
type CRS struct {
	Code   string    // canonical code: "EPSG:9215", "OGC:CRS84", or "VN2000:TM3:106.25" for a custom zone
	EPSG   int       // EPSG code; 0 for CRS84 and custom zones
	Name   string    // e.g. "VN-2000 / TM-3 107-15"
	Kind   Kind      // Geographic or Projected
	Area   string    // area of use, in words
	Bounds orb.Bound // area of use, WGS84 longitude/latitude degrees

	vn2000 bool // datum VN-2000 (else WGS84)
	method method
	tm     *TransverseMercator // methodTransverseMercator only
}

// TM-3 zone parameters common to every VN-2000 provincial zone (Circular
// 973/2001): scale factor 0.9999, false easting 500 000 m, false northing 0.
const (
	TM3ScaleFactor  = 0.9999
	TM3FalseEasting = 500000.0
)

// PlausibilityMargin is how far (degrees of longitude or latitude) outside a
// CRS's area of use a coordinate may fall before it is refused as plainly not
// in that CRS: about 100 km, enough for a project on a province's edge or a
// neighbouring province surveyed in the same zone.
const PlausibilityMargin = 1.0

// vietnamBounds is VN-2000's area of use (EPSG:4756, Vietnam onshore).
func vietnamBounds() orb.Bound { return bound(102.14, 8.33, 109.53, 23.4) }

// tm3Zone is one EPSG VN-2000 TM-3 zone: code, central meridian, and the
// bounding box of its EPSG area of use.
type tm3Zone struct {
	epsg   int
	lon0   float64
	name   string
	area   string
	bounds orb.Bound
}

func bound(west, south, east, north float64) orb.Bound {
	return orb.Bound{Min: orb.Point{west, south}, Max: orb.Point{east, north}}
}

// tm3Zones lists the VN-2000 TM-3 zones in the EPSG dataset (PROJ 9.1), with
// their areas of use as EPSG words them (first usage). Zones 5896-5898 are the national 3-degree zones; the
// rest are provincial (Circular 973/2001), named after the central meridian.
func tm3Zones() []tm3Zone {
	return []tm3Zone{
		{5896, 102, "VN-2000 / TM-3 zone 481", "onshore west of 103°30'E", bound(102.14, 9.2, 103.51, 22.82)},
		{5897, 105, "VN-2000 / TM-3 zone 482", "between 103°30'E and 106°30'E, onshore", bound(103.5, 8.33, 106.51, 23.4)},
		{5898, 108, "VN-2000 / TM-3 zone 491", "onshore east of 106°30'E", bound(106.5, 8.57, 109.53, 22.95)},
		{5899, 107.75, "VN-2000 / TM-3 107-45", "Quang Ninh province; Da Nang municipality and Quang Nam province; Ba Ria-Vung Tau, Dong Nai and Lam Dong provinces", bound(106.43, 8.57, 108.76, 21.67)},
		{9205, 103, "VN-2000 / TM-3 103-00", "Dien Bien and Lai Chau provinces", bound(102.14, 20.89, 103.99, 22.82)},
		{9206, 104, "VN-2000 / TM-3 104-00", "Son La province", bound(103.21, 20.57, 105.03, 22.04)},
		{9207, 104.5, "VN-2000 / TM-3 104-30", "Ca Mau and Kien Giang provinces", bound(103.4, 8.33, 105.54, 10.55)},
		{9208, 104.75, "VN-2000 / TM-3 104-45", "An Giang, Lao Cai, Nghe An, Phu Tho and Yen Bai provinces", bound(103.53, 10.18, 105.86, 22.85)},
		{9209, 105.5, "VN-2000 / TM-3 105-30", "Bac Ninh, Ha Giang, Ha Tinh, Hai Duong, Hung Yen, Nam Dinh, Soc Trang, Tay Ninh, Thai Binh, Tra Vinh and Vinh Long provinces", bound(104.33, 9.19, 106.69, 23.4)},
		{9210, 105.75, "VN-2000 / TM-3 105-45", "Hai Phong and Ho Chi Minh cities; Ben Tre, Binh Duong, Cao Bang, Long An and Tien Giang provinces", bound(105.26, 9.75, 107.8, 23.12)},
		{9211, 106, "VN-2000 / TM-3 106-00", "Hoa Binh, Quang Binh and Tuyen Quang provinces", bound(104.83, 16.92, 107.03, 22.7)},
		{9212, 106.25, "VN-2000 / TM-3 106-15", "Binh Phuoc and Quang Tri provinces", bound(106.41, 11.3, 107.43, 17.22)},
		{9213, 106.5, "VN-2000 / TM-3 106-30", "Bac Kan and Thai Nguyen provinces", bound(105.43, 21.32, 106.25, 22.75)},
		{9214, 107, "VN-2000 / TM-3 107-00", "Bac Giang and Thua Thien-Hue provinces", bound(105.88, 15.99, 108.24, 21.63)},
		{9215, 107.25, "VN-2000 / TM-3 107-15", "Lang Son province", bound(106.09, 21.32, 107.37, 22.47)},
		{9216, 107.5, "VN-2000 / TM-3 107-30", "Kon Tum province", bound(107.33, 13.92, 108.55, 15.42)},
		{9217, 108.25, "VN-2000 / TM-3 108-15", "Binh Dinh, Khanh Hoa and Ninh Thuan provinces", bound(108.55, 11.25, 109.53, 14.71)},
		{9218, 108.5, "VN-2000 / TM-3 108-30", "Binh Thuan, Dak Lak, Dak Nong, Gia Lai and Phu Yen provinces", bound(107.2, 10.43, 109.52, 14.61)},
	}
}

func newTM3(z tm3Zone) *CRS {
	return &CRS{
		Code: fmt.Sprintf("EPSG:%d", z.epsg), EPSG: z.epsg, Name: z.name, Kind: Projected,
		Area: "Vietnam - " + z.area, Bounds: z.bounds, vn2000: true, method: methodTransverseMercator,
		tm: tmerc(z.lon0, TM3ScaleFactor, TM3FalseEasting, 0),
	}
}

// byEPSG builds the supported CRS with the given EPSG code, or nil.
func byEPSG(code int) *CRS {
	world := bound(-180, -90, 180, 90)
	switch code {
	case 4326:
		return &CRS{Code: "EPSG:4326", EPSG: 4326, Name: "WGS 84", Kind: Geographic, Area: "World", Bounds: world}
	case 3857:
		return &CRS{Code: "EPSG:3857", EPSG: 3857, Name: "WGS 84 / Pseudo-Mercator", Kind: Projected,
			Area: "World between 85.06°S and 85.06°N", Bounds: bound(-180, -85.06, 180, 85.06), method: methodWebMercator}
	case 4756:
		return &CRS{Code: "EPSG:4756", EPSG: 4756, Name: "VN-2000", Kind: Geographic,
			Area: "Vietnam - onshore", Bounds: vietnamBounds(), vn2000: true}
	case 3405:
		return &CRS{Code: "EPSG:3405", EPSG: 3405, Name: "VN-2000 / UTM zone 48N", Kind: Projected,
			Area: "Vietnam - onshore west of 108°E", Bounds: bound(102.14, 8.33, 108, 23.4), vn2000: true,
			method: methodTransverseMercator, tm: tmerc(105, 0.9996, 500000, 0)}
	case 3406:
		return &CRS{Code: "EPSG:3406", EPSG: 3406, Name: "VN-2000 / UTM zone 49N", Kind: Projected,
			Area: "Vietnam - onshore east of 108°E", Bounds: bound(108, 10.43, 109.53, 21.56), vn2000: true,
			method: methodTransverseMercator, tm: tmerc(111, 0.9996, 500000, 0)}
	}
	for _, z := range tm3Zones() {
		if z.epsg == code {
			return newTM3(z)
		}
	}
	return nil
}

// CRS84 returns OGC CRS84: WGS84 longitude, latitude, the CRS of GeoJSON.
func CRS84() *CRS {
	return &CRS{Code: "OGC:CRS84", Name: "WGS 84 (CRS84)", Kind: Geographic, Area: "World", Bounds: bound(-180, -90, 180, 90)}
}

// WGS84 returns EPSG:4326. Coordinates are still longitude first in orb
// points; see LatLonAxisOrder.
func WGS84() *CRS { return byEPSG(4326) }

// Supported lists every CRS Lookup knows by code, CRS84 first, in a fixed
// order (WGS84, Web Mercator, VN-2000 geographic, UTM, TM-3 zones). Custom
// TM-3 zones are not listed.
func Supported() []*CRS {
	out := []*CRS{CRS84()}
	for _, code := range []int{4326, 3857, 4756, 3405, 3406} {
		out = append(out, byEPSG(code))
	}
	for _, z := range tm3Zones() {
		out = append(out, newTM3(z))
	}
	return out
}

// CustomTM3 returns the VN-2000 TM-3 zone with the given central meridian
// (degrees east, 100-112): k 0.9999, false easting 500 000 m. When an EPSG
// zone has that meridian the EPSG CRS is returned, so equal zones have one
// code; otherwise the code is "VN2000:TM3:<meridian in decimal degrees>" and
// the area of use is Vietnam within 1°30' of the meridian.
func CustomTM3(lon0 float64) (*CRS, error) {
	if math.IsNaN(lon0) || lon0 < 100 || lon0 > 112 {
		return nil, zone.Errorf(zone.CodeInvalid, "a VN-2000 TM-3 central meridian must be between 100 and 112 degrees east, got %v", lon0)
	}
	for _, z := range tm3Zones() {
		// The national zones 5896-5898 share meridians 102, 105, 108 with no
		// provincial zone, so they are the EPSG equivalents there.
		if math.Abs(z.lon0-lon0) < 1e-9 {
			return newTM3(z), nil
		}
	}
	vb := vietnamBounds()
	code := "VN2000:TM3:" + strconv.FormatFloat(lon0, 'f', -1, 64)
	b := bound(math.Max(lon0-1.5, vb.Min[0]), vb.Min[1], math.Min(lon0+1.5, vb.Max[0]), vb.Max[1])
	if b.Min[0] > b.Max[0] {
		b = bound(lon0-1.5, vb.Min[1], lon0+1.5, vb.Max[1])
	}
	return &CRS{
		Code: code, Name: "VN-2000 / TM-3 " + degMin(lon0), Kind: Projected,
		Area: "Vietnam within 1°30' of " + degMin(lon0) + "E", Bounds: b, vn2000: true,
		method: methodTransverseMercator, tm: tmerc(lon0, TM3ScaleFactor, TM3FalseEasting, 0),
	}, nil
}

// degMin writes 106.25 as "106-15", the way TM-3 zones are named.
func degMin(d float64) string {
	deg := math.Floor(d)
	min := (d - deg) * 60
	if math.Abs(min-math.Round(min)) < 1e-6 {
		return fmt.Sprintf("%d-%02d", int(deg), int(math.Round(min)))
	}
	return strconv.FormatFloat(d, 'f', -1, 64)
}

var (
	reEPSGCode   = regexp.MustCompile(`^(?i:epsg:)?(\d{4,5})$`)
	reEPSGURI    = regexp.MustCompile(`^(?i:https?://www\.opengis\.net/def/crs/EPSG/[^/]+/)(\d{4,5})$`)
	reEPSGURN    = regexp.MustCompile(`^(?i:urn:ogc:def:crs:EPSG:[^:]*:)(\d{4,5})$`)
	reCRS84      = regexp.MustCompile(`^(?i:(ogc:)?crs:?84|https?://www\.opengis\.net/def/crs/OGC/[^/]+/CRS84|urn:ogc:def:crs:OGC:(1\.3)?:CRS84)$`)
	reCustomTM3  = regexp.MustCompile(`^(?i:vn-?2000:tm-?3:)(.+)$`)
	reDegMinutes = regexp.MustCompile(`^(\d{3})(?:-|°|d)\s*(\d{1,2}(?:\.\d+)?)'?$`)
)

// Lookup parses a CRS reference as clients write it and returns the CRS:
//
//	EPSG:9215, epsg:9215, 9215
//	http://www.opengis.net/def/crs/EPSG/0/9215 (OGC API - Features Part 2)
//	urn:ogc:def:crs:EPSG::9215 (old GeoJSON "crs" members, GML)
//	CRS84, OGC:CRS84, http://www.opengis.net/def/crs/OGC/1.3/CRS84, urn:ogc:def:crs:OGC:1.3:CRS84
//	VN2000:TM3:106.25 or VN2000:TM3:106-15 (a VN-2000 TM-3 zone given by its
//	central meridian in decimal degrees or degrees-minutes; see CustomTM3)
//
// An unknown or unsupported reference is a zone.Error with CodeInvalid that
// lists what is supported.
func Lookup(s string) (*CRS, error) {
	s = strings.TrimSpace(s)
	if reCRS84.MatchString(s) {
		return CRS84(), nil
	}
	for _, re := range []*regexp.Regexp{reEPSGCode, reEPSGURI, reEPSGURN} {
		if m := re.FindStringSubmatch(s); m != nil {
			code, _ := strconv.Atoi(m[1])
			if c := byEPSG(code); c != nil {
				return c, nil
			}
			return nil, zone.Errorf(zone.CodeInvalid, "CRS EPSG:%d is not supported; supported: %s, or VN2000:TM3:<central meridian> for another VN-2000 TM-3 zone", code, supportedList())
		}
	}
	if m := reCustomTM3.FindStringSubmatch(s); m != nil {
		lon0, err := parseMeridian(m[1])
		if err != nil {
			return nil, err
		}
		return CustomTM3(lon0)
	}
	return nil, zone.Errorf(zone.CodeInvalid, "unknown CRS %q: give EPSG:<code>, an OGC CRS URI, CRS84, or VN2000:TM3:<central meridian> (e.g. VN2000:TM3:107-15 or VN2000:TM3:107.25); supported codes: %s", s, supportedList())
}

// parseMeridian reads "106.25", "106-15" or "106°15'".
func parseMeridian(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if m := reDegMinutes.FindStringSubmatch(s); m != nil {
		deg, _ := strconv.ParseFloat(m[1], 64)
		min, _ := strconv.ParseFloat(m[2], 64)
		if min >= 60 {
			return 0, zone.Errorf(zone.CodeInvalid, "central meridian %q: minutes must be below 60", s)
		}
		return deg + min/60, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, zone.Errorf(zone.CodeInvalid, "central meridian %q is not a number of degrees (106.25) or degrees-minutes (106-15)", s)
	}
	return v, nil
}

func supportedList() string {
	var codes []string
	for _, c := range Supported() {
		codes = append(codes, c.Code)
	}
	return strings.Join(codes, ", ")
}

// URI is the OGC URI of the CRS, as OGC API - Features Part 2 lists it
// ("http://www.opengis.net/def/crs/EPSG/0/9215"); "" for a custom TM-3 zone,
// which has no official identifier.
func (c *CRS) URI() string {
	switch {
	case c.Code == "OGC:CRS84":
		return "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	case c.EPSG != 0:
		return fmt.Sprintf("http://www.opengis.net/def/crs/EPSG/0/%d", c.EPSG)
	}
	return ""
}

// String returns the canonical code.
func (c *CRS) String() string { return c.Code }

// LatLonAxisOrder reports whether the CRS's authority axis order is latitude
// first (EPSG:4326 and EPSG:4756). OGC API - Features Part 2 writes
// coordinates in that order when such a CRS is requested by its EPSG URI;
// CRS84 and every projected CRS here are east first. This package always
// takes and returns east first: the HTTP layer swaps when it must.
func (c *CRS) LatLonAxisOrder() bool { return c.EPSG == 4326 || c.EPSG == 4756 }

// IsWGS84 reports whether coordinates in c are already WGS84 longitude,
// latitude (CRS84 or EPSG:4326), so no transformation is needed.
func (c *CRS) IsWGS84() bool { return c.Kind == Geographic && !c.vn2000 }

// VN2000 reports whether the CRS is on the VN-2000 datum.
func (c *CRS) VN2000() bool { return c.vn2000 }

// CentralMeridian returns the central meridian (degrees) and scale factor of
// a transverse Mercator CRS; ok is false for other CRSs.
func (c *CRS) CentralMeridian() (lon0, k0 float64, ok bool) {
	if c.tm == nil {
		return 0, 0, false
	}
	lon0, k0 = c.tm.CentralMeridian()
	return lon0, k0, true
}

// towgs84 is the proj4 +towgs84 of EPSG:6960 (position-vector signs).
const towgs84 = "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"

// Proj4 returns a PROJ string for the CRS with the VN-2000 datum shift
// pinned to EPSG:6960 through +towgs84, so PROJ (PostGIS ST_Transform(geom,
// from_proj, to_proj), cs2cs) computes exactly what this package does,
// anywhere in Vietnam.
func (c *CRS) Proj4() string {
	datum := "+datum=WGS84"
	if c.vn2000 {
		datum = "+ellps=WGS84 " + towgs84
	}
	switch c.method {
	case methodWebMercator:
		return "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"
	case methodTransverseMercator:
		lon0, k0 := c.tm.CentralMeridian()
		lat0, fe, fn := c.tm.Origin()
		return fmt.Sprintf("+proj=tmerc +lat_0=%s +lon_0=%s +k=%s +x_0=%s +y_0=%s %s +units=m +no_defs",
			ftoa(lat0), ftoa(lon0), ftoa(k0), ftoa(fe), ftoa(fn), datum)
	}
	return "+proj=longlat " + datum + " +no_defs"
}

// tmerc is a transverse Mercator of origin latitude 0.
func tmerc(lon0, k0, fe, fn float64) *TransverseMercator {
	t := NewTransverseMercator(lon0, 0, k0, fe, fn)
	return &t
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Must is Lookup for codes known at compile time; it panics on an unknown
// code.
func Must(s string) *CRS {
	c, err := Lookup(s)
	if err != nil {
		panic(err)
	}
	return c
}

// crsJSON is how a CRS is listed to clients (the web page's CRS picker, an
// API's list of CRSs).
type crsJSON struct {
	Code string     `json:"code"`
	URI  string     `json:"uri,omitempty"`
	Name string     `json:"name"`
	Kind Kind       `json:"kind"`
	Area string     `json:"area"`
	BBox [4]float64 `json:"bbox"` // west, south, east, north, WGS84 degrees
	// Proj4 is the CRS as a PROJ string (VN-2000 pinned to EPSG:6960): the
	// web page's pointer readout converts with it, as this package does.
	Proj4 string `json:"proj4"`
}

// MarshalJSON lists the CRS as {code, uri, name, kind, area, bbox, proj4}.
func (c *CRS) MarshalJSON() ([]byte, error) {
	return json.Marshal(crsJSON{Code: c.Code, URI: c.URI(), Name: c.Name, Kind: c.Kind, Area: c.Area,
		BBox: [4]float64{c.Bounds.Min[0], c.Bounds.Min[1], c.Bounds.Max[0], c.Bounds.Max[1]}, Proj4: c.Proj4()})
}

// SupportedURIs lists the OGC URIs of Supported(), CRS84 first: the "crs"
// list of an OGC API - Features Part 2 collection.
func SupportedURIs() []string {
	var out []string
	for _, c := range Supported() {
		out = append(out, c.URI())
	}
	return out
}

// SwapXY returns a copy of g with x and y exchanged in every point: for
// writing a CRS whose authority axis order is latitude first
// (LatLonAxisOrder) where a protocol demands that order, or for reading such
// coordinates.
func SwapXY(g orb.Geometry) orb.Geometry {
	out, _ := transform(g, func(p orb.Point) (orb.Point, error) { return orb.Point{p[1], p[0]}, nil }, CRS84(), "swapping axes")
	return out
}
