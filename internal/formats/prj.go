package formats

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// wktNode is one node of a WKT1 CRS definition: KEYWORD["text", 1.5, CHILD[...]].
type wktNode struct {
	key      string
	texts    []string
	numbers  []float64
	children []*wktNode
}

// child returns the first child with the keyword (case-insensitive).
func (n *wktNode) child(key string) *wktNode {
	for _, c := range n.children {
		if strings.EqualFold(c.key, key) {
			return c
		}
	}
	return nil
}

// find returns the first node with the keyword at any depth.
func (n *wktNode) find(key string) *wktNode {
	if strings.EqualFold(n.key, key) {
		return n
	}
	for _, c := range n.children {
		if f := c.find(key); f != nil {
			return f
		}
	}
	return nil
}

func (n *wktNode) text() string {
	if len(n.texts) > 0 {
		return n.texts[0]
	}
	return ""
}

// parseWKT parses WKT1 (the ESRI and the OGC/GDAL dialects of .prj files).
func parseWKT(s string) (*wktNode, error) {
	p := &wktParser{s: strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))}
	n, err := p.node()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the definition", p.s[p.i:min(p.i+20, len(p.s))])
	}
	return n, nil
}

type wktParser struct {
	s string
	i int
}

func (p *wktParser) space() {
	for p.i < len(p.s) && unicode.IsSpace(rune(p.s[p.i])) {
		p.i++
	}
}

func (p *wktParser) node() (*wktNode, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == '_' || unicode.IsLetter(rune(p.s[p.i])) || unicode.IsDigit(rune(p.s[p.i]))) {
		p.i++
	}
	n := &wktNode{key: p.s[start:p.i]}
	if n.key == "" {
		return nil, fmt.Errorf("expected a keyword at offset %d", p.i)
	}
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '[' && p.s[p.i] != '(') {
		return n, nil // a bare keyword, e.g. an axis direction
	}
	closer := byte(']')
	if p.s[p.i] == '(' {
		closer = ')'
	}
	p.i++
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("unterminated %s[", n.key)
		}
		switch ch := p.s[p.i]; {
		case ch == closer:
			p.i++
			return n, nil
		case ch == ',':
			p.i++
		case ch == '"':
			end := strings.IndexByte(p.s[p.i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated string in %s", n.key)
			}
			n.texts = append(n.texts, p.s[p.i+1:p.i+1+end])
			p.i += end + 2
		case ch == '-' || ch == '+' || ch == '.' || (ch >= '0' && ch <= '9'):
			start := p.i
			for p.i < len(p.s) && strings.IndexByte("+-.eE0123456789", p.s[p.i]) >= 0 {
				p.i++
			}
			v, err := strconv.ParseFloat(p.s[start:p.i], 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q in %s", p.s[start:p.i], n.key)
			}
			n.numbers = append(n.numbers, v)
		default:
			c, err := p.node()
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		}
	}
}

// squash lowercases and keeps only letters and digits: "VN_2000", "VN-2000"
// and "vn 2000" all become "vn2000".
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// epsg6960 is the shift from VN-2000 to WGS 84 of Decision
// 05/2007/QĐ-BTNMT (EPSG:6960) as a WKT TOWGS84 and PROJ's +towgs84 give
// it: dX, dY, dZ (m), rX, rY, rZ (arc-seconds, position vector) and the
// scale (ppm).
var epsg6960 = [7]float64{-191.90441429, -39.30318279, -111.45032835, 0.00928836, -0.01975479, 0.00427372, 0.252906278}

var shiftParams = [7]string{"dX", "dY", "dZ", "rX", "rY", "rZ", "scale"}
var shiftUnits = [7]string{" m", " m", " m", "″", "″", "″", " ppm"}

// sameShift reports whether a datum's shift to WGS 84 (3 or 7 parameters)
// is EPSG:6960's, and if not, which parameters differ. The rotations may
// come with either sign convention: EPSG publishes 6960 in the coordinate
// frame convention (rX −0.00928836″), WKT and PROJ take the position vector
// (+0.00928836″), and files of both kinds are about. A shift of three
// parameters is EPSG:6960's translation without its rotations and scale
// (about 0.7 m off): taken as VN-2000, and shifted by EPSG:6960 as
// everywhere in zoneplan.
func sameShift(got []float64) (bool, string) {
	near := func(i int, v float64) bool { return math.Abs(v-epsg6960[i]) <= 1e-6*max(1, math.Abs(epsg6960[i])) }
	var diffs []string
	for i, v := range got[:min(len(got), 7)] {
		if near(i, v) || (i >= 3 && i < 6 && len(got) >= 6 && near(3, -got[3]) && near(4, -got[4]) && near(5, -got[5])) {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s is %s%s where EPSG:6960 has %s%s", shiftParams[i],
			strconv.FormatFloat(v, 'f', -1, 64), shiftUnits[i], strconv.FormatFloat(epsg6960[i], 'f', -1, 64), shiftUnits[i]))
	}
	if len(got) != 3 && len(got) != 7 {
		diffs = append(diffs, fmt.Sprintf("it has %d parameters, not 7", len(got)))
	}
	return len(diffs) == 0, strings.Join(diffs, ", ")
}

// datumShift returns the datum's shift to WGS 84 as the file gives it, nil
// when it gives none: a TOWGS84 node (OGC WKT, QGIS), or the parameters
// GDAL writes into the datum's name when it turns a +towgs84 definition
// into an ESRI .prj, which has no TOWGS84
// ("D_Unknown_based_on_WGS84_ellipsoid_using_towgs84_-191_90441429_-39_..."
// from "towgs84=-191.90441429,-39.30318279,...").
func datumShift(datum *wktNode) []float64 {
	if t := datum.child("TOWGS84"); t != nil && len(t.numbers) > 0 {
		return t.numbers
	}
	name := datum.text()
	i := strings.Index(strings.ToLower(name), "towgs84")
	if i < 0 {
		return nil
	}
	rest := strings.TrimLeft(name[i+len("towgs84"):], "_= ")
	if strings.Contains(rest, ",") { // the name as PROJ wrote it, not yet ESRI's
		var out []float64
		for _, f := range strings.Split(rest, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil
			}
			out = append(out, v)
		}
		return out
	}
	return splitUnderscored(strings.Split(rest, "_"))
}

// splitUnderscored reads numbers whose decimal points and separating
// commas both became "_": every number is one token (a whole number) or
// two (whole and fraction). Of the readings into 7 numbers (or 3), the one
// nearest EPSG:6960's is taken, so a file with 6960's parameters is always
// read as such and any other says which of its numbers differ.
func splitUnderscored(tokens []string) []float64 {
	whole := func(s string) bool {
		s = strings.TrimPrefix(s, "-")
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	var best []float64
	bestMiss := math.MaxInt
	var walk func(k int, vals []float64)
	walk = func(k int, vals []float64) {
		if len(vals) > 7 {
			return
		}
		if k == len(tokens) {
			if len(vals) != 7 && len(vals) != 3 {
				return
			}
			miss := 0
			for i, v := range vals {
				if math.Abs(math.Abs(v)-math.Abs(epsg6960[i])) > 1e-6*max(1, math.Abs(epsg6960[i])) {
					miss++
				}
			}
			if miss < bestMiss {
				best, bestMiss = slices.Clone(vals), miss
			}
			return
		}
		if !whole(tokens[k]) {
			return
		}
		if v, err := strconv.ParseFloat(tokens[k], 64); err == nil {
			walk(k+1, append(vals, v))
		}
		if k+1 < len(tokens) && digits(tokens[k+1]) {
			if v, err := strconv.ParseFloat(tokens[k]+"."+tokens[k+1], 64); err == nil {
				walk(k+2, append(vals, v))
			}
		}
	}
	walk(0, nil)
	return best
}

// prjCRS recognises a .prj as one of the supported CRSs by its parameters,
// however the tool that wrote it (GDAL, QGIS, ArcGIS) names them: an EPSG
// AUTHORITY on the root, else the datum's shift to WGS 84 where the file
// gives one (EPSG:6960's: VN-2000; none: WGS 84; any other: refused,
// naming the parameters that differ), else the datum's name (VN-2000 —
// "VN_2000", "Vietnam_2000", "VN-2000" — or WGS 84); the ellipsoid's
// axis and flattening (WGS 84's, which VN-2000 uses); the projection
// (transverse Mercator: central meridian, scale factor, false
// easting/northing, latitude of origin; or Web Mercator) and metres.
// VN-2000 transverse Mercator with k 0.9999 and false easting 500 000 is a
// TM-3 zone of any central meridian (crs.CustomTM3); k 0.9996 on 105° or
// 111° is UTM 48N or 49N. VN-2000 is shifted by EPSG:6960, as everywhere
// in zoneplan.
func prjCRS(wkt string) (*crs.CRS, error) {
	root, err := parseWKT(wkt)
	if err != nil {
		return nil, fmt.Errorf("cannot read the WKT: %v", err)
	}
	if a := root.child("AUTHORITY"); a != nil && len(a.texts) == 2 && strings.EqualFold(a.texts[0], "EPSG") {
		if c, err := crs.Lookup("EPSG:" + a.texts[1]); err == nil {
			return c, nil
		}
	}
	datum := root.find("DATUM")
	geog := root.find("GEOGCS")
	if datum == nil || geog == nil {
		return nil, fmt.Errorf("no GEOGCS/DATUM in %s[%q]", root.key, root.text())
	}
	dn := squash(datum.text() + " " + geog.text())
	vn := strings.Contains(dn, "vn2000") || strings.Contains(dn, "vietnam2000")
	// A projected CRS named VN-2000 whose datum is labelled plain WGS 84
	// (older tools export TM-3 zones that way) holds VN-2000 coordinates:
	// the name is the surveyor's intent, and zoneplan applies EPSG:6960.
	if pn := squash(root.text()); strings.EqualFold(root.key, "PROJCS") && (strings.Contains(pn, "vn2000") || strings.Contains(pn, "vietnam2000")) {
		vn = true
	}
	wgs := !vn && (strings.Contains(dn, "wgs84") || strings.Contains(dn, "wgs1984"))
	if shift := datumShift(datum); shift != nil {
		zero := true
		for _, v := range shift {
			zero = zero && v == 0
		}
		same, diff := sameShift(shift)
		switch {
		case same:
			vn, wgs = true, false
		case zero && !vn:
			wgs = true
		default:
			return nil, fmt.Errorf("datum %q: its shift to WGS 84 is not VN-2000's (EPSG:6960): %s", datum.text(), diff)
		}
	}
	if !vn && !wgs {
		return nil, fmt.Errorf("datum %q is neither VN-2000 nor WGS 84", datum.text())
	}
	if sp := geog.find("SPHEROID"); sp != nil && len(sp.numbers) >= 2 {
		switch {
		case math.Abs(sp.numbers[0]-6378137) > 0.01:
			return nil, fmt.Errorf("ellipsoid %q: semi-major axis %v m, not WGS 84's 6378137 m (VN-2000 uses WGS 84's ellipsoid)", sp.text(), sp.numbers[0])
		case math.Abs(sp.numbers[1]-298.257223563) > 1e-6:
			return nil, fmt.Errorf("ellipsoid %q: inverse flattening %v, not WGS 84's 298.257223563 (VN-2000 uses WGS 84's ellipsoid)", sp.text(), sp.numbers[1])
		}
	}
	switch strings.ToUpper(root.key) {
	case "GEOGCS":
		if vn {
			return crs.Lookup("EPSG:4756")
		}
		return crs.CRS84(), nil
	case "PROJCS":
	default:
		return nil, fmt.Errorf("%s is neither GEOGCS nor PROJCS", root.key)
	}
	if u := root.child("UNIT"); u != nil && len(u.numbers) > 0 && math.Abs(u.numbers[0]-1) > 1e-9 {
		return nil, fmt.Errorf("unit %q is not the metre", u.text())
	}
	proj := root.child("PROJECTION")
	if proj == nil {
		return nil, fmt.Errorf("PROJCS %q has no PROJECTION", root.text())
	}
	params := map[string]float64{}
	for _, c := range root.children {
		if strings.EqualFold(c.key, "PARAMETER") && len(c.numbers) > 0 {
			params[squash(c.text())] = c.numbers[0]
		}
	}
	method := squash(proj.text())
	if wgs && (strings.Contains(method, "mercatorauxiliarysphere") || strings.Contains(method, "pseudomercator") || strings.Contains(squash(root.text()), "webmercator")) {
		return crs.Lookup("EPSG:3857")
	}
	if method != "transversemercator" {
		return nil, fmt.Errorf("projection %q is not transverse Mercator", proj.text())
	}
	if !vn {
		return nil, fmt.Errorf("WGS 84 transverse Mercator (%q) is not supported: zoneplan reads VN-2000 zones, WGS 84 longitude/latitude and Web Mercator (if the data is really VN-2000, remove the .prj and choose the zone)", root.text())
	}
	lon0, k0 := params["centralmeridian"], params["scalefactor"]
	var diffs []string
	for _, p := range []struct {
		key, name string
		want      float64
	}{{"falseeasting", "false easting", 500000}, {"falsenorthing", "false northing", 0}, {"latitudeoforigin", "latitude of origin", 0}} {
		if v := params[p.key]; v != p.want {
			diffs = append(diffs, fmt.Sprintf("%s is %v where a VN-2000 zone has %v", p.name, v, p.want))
		}
	}
	if len(diffs) > 0 {
		return nil, fmt.Errorf("VN-2000 transverse Mercator %q is not a VN-2000 zone: %s", root.text(), strings.Join(diffs, ", "))
	}
	switch {
	case math.Abs(k0-0.9996) < 1e-9 && lon0 == 105:
		return crs.Lookup("EPSG:3405")
	case math.Abs(k0-0.9996) < 1e-9 && lon0 == 111:
		return crs.Lookup("EPSG:3406")
	case math.Abs(k0-0.9996) < 1e-9:
		return nil, fmt.Errorf("VN-2000 transverse Mercator with scale factor 0.9996 (UTM) has central meridian %v°E where UTM 48N has 105°E and 49N 111°E", lon0)
	case math.Abs(k0-crs.TM3ScaleFactor) < 1e-9:
		return crs.CustomTM3(lon0)
	}
	return nil, fmt.Errorf("VN-2000 transverse Mercator on %v°E has scale factor %v where a TM-3 zone has 0.9999 and UTM 0.9996", lon0, k0)
}
