package formats

import (
	"fmt"
	"math"
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

// prjCRS recognises a .prj as one of the supported CRSs: an EPSG AUTHORITY
// on the root, else by its parts: the datum (VN-2000 by name — "VN_2000",
// "Vietnam_2000", "VN-2000" — or by the 6960 TOWGS84 translation; WGS 84
// by name without a shift), the projection (transverse Mercator: central
// meridian, scale factor, false easting/northing, latitude of origin; or
// Web Mercator), and metres. VN-2000 transverse Mercator with k 0.9999 and
// false easting 500 000 is a TM-3 zone of any central meridian
// (crs.CustomTM3); k 0.9996 on 105° or 111° is UTM 48N or 49N. Whatever the
// file's TOWGS84 says, VN-2000 is shifted by EPSG:6960, as everywhere in
// zoneplan.
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
	if t := datum.child("TOWGS84"); t != nil && len(t.numbers) >= 3 {
		if math.Abs(t.numbers[0]+191.904) < 0.01 && math.Abs(t.numbers[1]+39.303) < 0.01 && math.Abs(t.numbers[2]+111.450) < 0.01 {
			vn = true
		} else if vn {
			return nil, fmt.Errorf("datum %q has TOWGS84 %v, not VN-2000's EPSG:6960 shift", datum.text(), t.numbers)
		}
	}
	wgs := !vn && (strings.Contains(dn, "wgs84") || strings.Contains(dn, "wgs1984"))
	if !vn && !wgs {
		return nil, fmt.Errorf("datum %q is neither VN-2000 nor WGS 84", datum.text())
	}
	if sp := geog.child("SPHEROID"); sp != nil && len(sp.numbers) >= 2 {
		if math.Abs(sp.numbers[0]-6378137) > 0.01 || math.Abs(sp.numbers[1]-298.257223563) > 1e-6 {
			return nil, fmt.Errorf("ellipsoid %q (%v) is not WGS 84, which VN-2000 uses", sp.text(), sp.numbers)
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
	fe, fn, lat0 := params["falseeasting"], params["falsenorthing"], params["latitudeoforigin"]
	if fn != 0 || lat0 != 0 || fe != 500000 {
		return nil, fmt.Errorf("transverse Mercator with false easting %v, false northing %v, latitude of origin %v is not a VN-2000 zone (500000, 0, 0)", fe, fn, lat0)
	}
	switch {
	case math.Abs(k0-0.9996) < 1e-9 && lon0 == 105:
		return crs.Lookup("EPSG:3405")
	case math.Abs(k0-0.9996) < 1e-9 && lon0 == 111:
		return crs.Lookup("EPSG:3406")
	case math.Abs(k0-crs.TM3ScaleFactor) < 1e-9:
		return crs.CustomTM3(lon0)
	}
	return nil, fmt.Errorf("VN-2000 transverse Mercator with scale factor %v on %v°E is neither a TM-3 zone (0.9999) nor UTM 48N/49N", k0, lon0)
}
