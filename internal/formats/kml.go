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
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// A placemark as read: the fields encoding/xml would fill from these
// direct children (Name from <name>, Data from ExtendedData>Data, ...),
// with each <coordinates> parsed as it streams in. The element names match
// whatever the namespace (KML 2.2, 2.1, Google's): only local names count.
type kmlGeometry struct {
	Points      []kmlCoordinates // Point
	LineStrings []kmlCoordinates // LineString
	LinearRings []kmlCoordinates // LinearRing
	Polygons    []kmlPolygon     // Polygon
	Multi       []kmlGeometry    // MultiGeometry
}

// kmlCoordinates is the last <coordinates> of an element, parsed: its
// points, or the first problem in it.
type kmlCoordinates struct {
	pts []orb.Point
	err error
}

type kmlPolygon struct {
	Outer kmlCoordinates   // outerBoundaryIs>LinearRing>coordinates
	Inner []kmlCoordinates // innerBoundaryIs>LinearRing>coordinates
}

type kmlData struct{ Name, Value string }

type kmlPlacemark struct {
	Name        string
	Description string
	kmlGeometry
	Data       []kmlData // ExtendedData>Data: name attribute, <value>
	SimpleData []kmlData // ExtendedData>SchemaData>SimpleData: name attribute, text
}

// decodeKML reads every Placemark, at any depth of Documents and Folders,
// with a Point, LineString, Polygon (outer and inner boundaries) or a
// MultiGeometry of them. KML is WGS84 longitude, latitude[, altitude] by
// definition; altitudes are dropped. A MultiGeometry mixing kinds becomes one
// feature per kind. Unclosed rings are closed. Name, description and
// ExtendedData become properties.
//
// The file is read token by token (xml.Decoder.Token) as it streams from
// r, counting placemarks, coordinates and attributes against bud; an
// xmlGuard under the decoder refuses any one token over maxXMLToken before
// encoding/xml buffers it.
func decodeKML(name string, r io.Reader, bud *budget) (*Result, error) {
	dec := xml.NewDecoder(&xmlGuard{r: r, file: name, max: maxXMLToken, line: 1, start: 1})
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
	k := &kmlReader{dec: dec, file: name, bud: bud}
	p := &problems{file: name}
	fc := geojson.NewFeatureCollection()
	n := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ze := zoneErr(err); ze != nil {
				return nil, ze
			}
			line, _ := dec.InputPos()
			return nil, fileError(name, "not valid XML at line %d: %v", line, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Placemark" {
			continue
		}
		if err := bud.feature(name, "placemarks"); err != nil {
			return nil, err
		}
		line, _ := dec.InputPos()
		i := n
		n++
		k.index, k.where = i, fmt.Sprintf("placemark %d (line %d)", n, line)
		var pm kmlPlacemark
		if err := k.placemark(&pm); err != nil {
			if ze := zoneErr(err); ze != nil {
				return nil, ze
			}
			return nil, fileError(name, "placemark %d (line %d): not valid KML: %v", n, line, err)
		}
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
		// A MultiGeometry mixing kinds gives more features than placemarks.
		if len(fc.Features) > bud.lim.MaxFeatures {
			return nil, limitError(name, -1, "", "more than %d features (the limit per upload)", bud.lim.MaxFeatures)
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

// kmlReader reads one placemark's elements from the token stream, as
// xml.Decoder.DecodeElement would into the struct the reader had before
// (direct children only, later single elements replacing earlier ones,
// anything else skipped), but parsing coordinates as they stream and
// counting against bud.
type kmlReader struct {
	dec   *xml.Decoder
	file  string
	bud   *budget
	index int    // the placemark's record index
	where string // "placemark 3 (line 7)", for limit errors
	depth int    // MultiGeometry nesting
}

// errDepth is encoding/xml's refusal of elements nested too deep for its
// Unmarshal, kept for MultiGeometry: each level is a Go call.
var errDepth = errors.New("exceeded max depth")

// children calls f for each child element of the element just opened, up
// to its end; f consumes the children it handles, the others are skipped.
func (k *kmlReader) children(f func(xml.StartElement) (bool, error)) error {
	for {
		tok, err := k.dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			handled, err := f(t)
			if err != nil {
				return err
			}
			if !handled {
				if err := k.dec.Skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			return nil
		}
	}
}

// text returns the character data directly inside the element just opened
// (the text of child elements left out), consuming it; it counts as one
// attribute value.
func (k *kmlReader) text() (string, error) {
	if err := k.bud.attributes(k.file, 1); err != nil {
		return "", err
	}
	var buf []byte
	for {
		tok, err := k.dec.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			buf = append(buf, t...)
		case xml.StartElement:
			if err := k.dec.Skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			return string(buf), nil
		}
	}
}

func (k *kmlReader) placemark(pm *kmlPlacemark) error {
	return k.children(func(se xml.StartElement) (bool, error) {
		var err error
		switch se.Name.Local {
		case "name":
			pm.Name, err = k.text()
		case "description":
			pm.Description, err = k.text()
		case "ExtendedData":
			err = k.extendedData(pm)
		default:
			return k.geometry(&pm.kmlGeometry, se)
		}
		return true, err
	})
}

func (k *kmlReader) extendedData(pm *kmlPlacemark) error {
	return k.children(func(se xml.StartElement) (bool, error) {
		switch se.Name.Local {
		case "Data":
			d := kmlData{Name: attr(se, "name")}
			err := k.children(func(c xml.StartElement) (bool, error) {
				if c.Name.Local != "value" {
					return false, nil
				}
				var err error
				d.Value, err = k.text()
				return true, err
			})
			pm.Data = append(pm.Data, d)
			return true, err
		case "SchemaData":
			return true, k.children(func(c xml.StartElement) (bool, error) {
				if c.Name.Local != "SimpleData" {
					return false, nil
				}
				v, err := k.text()
				pm.SimpleData = append(pm.SimpleData, kmlData{Name: attr(c, "name"), Value: v})
				return true, err
			})
		}
		return false, nil
	})
}

// attr is the value of the (last) attribute named name, any namespace.
func attr(se xml.StartElement, name string) string {
	v := ""
	for _, a := range se.Attr {
		if a.Name.Local == name {
			v = a.Value
		}
	}
	return v
}

// geometry reads se into g when it is a geometry element.
func (k *kmlReader) geometry(g *kmlGeometry, se xml.StartElement) (bool, error) {
	var err error
	switch se.Name.Local {
	case "Point", "LineString", "LinearRing":
		var c kmlCoordinates
		err = k.children(func(ce xml.StartElement) (bool, error) {
			if ce.Name.Local != "coordinates" {
				return false, nil
			}
			var err error
			c, err = k.coordinates()
			return true, err
		})
		switch se.Name.Local {
		case "Point":
			g.Points = append(g.Points, c)
		case "LineString":
			g.LineStrings = append(g.LineStrings, c)
		default:
			g.LinearRings = append(g.LinearRings, c)
		}
	case "Polygon":
		var pg kmlPolygon
		err = k.children(func(be xml.StartElement) (bool, error) {
			outer := be.Name.Local == "outerBoundaryIs"
			if !outer && be.Name.Local != "innerBoundaryIs" {
				return false, nil
			}
			return true, k.children(func(re xml.StartElement) (bool, error) {
				if re.Name.Local != "LinearRing" {
					return false, nil
				}
				return true, k.children(func(ce xml.StartElement) (bool, error) {
					if ce.Name.Local != "coordinates" {
						return false, nil
					}
					c, err := k.coordinates()
					if outer {
						pg.Outer = c
					} else {
						pg.Inner = append(pg.Inner, c)
					}
					return true, err
				})
			})
		})
		g.Polygons = append(g.Polygons, pg)
	case "MultiGeometry":
		if k.depth++; k.depth > 10_000 {
			return true, errDepth
		}
		var m kmlGeometry
		err = k.children(func(ce xml.StartElement) (bool, error) { return k.geometry(&m, ce) })
		k.depth--
		g.Multi = append(g.Multi, m)
	default:
		return false, nil
	}
	return true, err
}

// coordinates parses the <coordinates> element just opened as its text
// streams in, stopping at the limits on vertices.
func (k *kmlReader) coordinates() (kmlCoordinates, error) {
	cp := coordParser{limit: func(n int) error {
		if n > k.bud.lim.MaxFeatureVertices {
			return limitError(k.file, k.index, k.where, "more than %d coordinates in one <coordinates> (the limit per feature)", k.bud.lim.MaxFeatureVertices)
		}
		return k.bud.addVertices(k.file, 1)
	}}
	for {
		tok, err := k.dec.Token()
		if err != nil {
			return kmlCoordinates{}, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if err := cp.write(t); err != nil {
				return kmlCoordinates{}, err
			}
		case xml.StartElement:
			if err := k.dec.Skip(); err != nil {
				return kmlCoordinates{}, err
			}
		case xml.EndElement:
			if err := cp.close(); err != nil {
				return kmlCoordinates{}, err
			}
			if cp.err != nil {
				return kmlCoordinates{err: cp.err}, nil
			}
			return kmlCoordinates{pts: cp.pts}, nil
		}
	}
}

// orb converts the geometry of a placemark: one orb geometry per kind
// (points, lines, polygons), each a single or Multi form.
func (g *kmlGeometry) orb() ([]orb.Geometry, error) {
	var points []orb.Point
	var lines []orb.LineString
	var polys []orb.Polygon
	// The MultiGeometry path is spelled out only for an error: built at
	// every level it would cost the square of the nesting.
	var path []int
	prefix := func() string {
		var b strings.Builder
		for _, i := range path {
			fmt.Fprintf(&b, "MultiGeometry %d: ", i)
		}
		return b.String()
	}
	var walk func(g *kmlGeometry) error
	walk = func(g *kmlGeometry) error {
		for i, c := range g.Points {
			ps, err := c.pts, c.err
			if err != nil {
				return fmt.Errorf("%sPoint %d: %v", prefix(), i+1, err)
			}
			if len(ps) != 1 {
				return fmt.Errorf("%sPoint %d: has %d coordinates, want 1", prefix(), i+1, len(ps))
			}
			points = append(points, ps[0])
		}
		for i, c := range g.LineStrings {
			ps, err := c.pts, c.err
			if err != nil {
				return fmt.Errorf("%sLineString %d: %v", prefix(), i+1, err)
			}
			lines = append(lines, ps)
		}
		for i, c := range g.LinearRings {
			ps, err := c.pts, c.err
			if err != nil {
				return fmt.Errorf("%sLinearRing %d: %v", prefix(), i+1, err)
			}
			polys = append(polys, orb.Polygon{closeRing(ps)})
		}
		for i, pg := range g.Polygons {
			outer, err := pg.Outer.pts, pg.Outer.err
			if err != nil {
				return fmt.Errorf("%sPolygon %d outer boundary: %v", prefix(), i+1, err)
			}
			if len(outer) == 0 {
				return fmt.Errorf("%sPolygon %d has no outerBoundaryIs/LinearRing/coordinates", prefix(), i+1)
			}
			poly := orb.Polygon{closeRing(outer)}
			for j, in := range pg.Inner {
				ring, err := in.pts, in.err
				if err != nil {
					return fmt.Errorf("%sPolygon %d inner boundary %d: %v", prefix(), i+1, j+1, err)
				}
				poly = append(poly, closeRing(ring))
			}
			polys = append(polys, poly)
		}
		for i := range g.Multi {
			path = append(path, i+1)
			if err := walk(&g.Multi[i]); err != nil {
				return err
			}
			path = path[:len(path)-1]
		}
		return nil
	}
	if err := walk(g); err != nil {
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

// coordParser reads a KML coordinates text as it streams in, chunk by
// chunk, giving what the whole text gave before: tuples "lon,lat[,alt]"
// separated by white space (unicode.IsSpace), after dropping each space
// that follows a comma and then each space that precedes one (some writers
// put a space after the commas inside a tuple). Only the tuple being read
// is buffered, so a long text costs its points, not its bytes.
type coordParser struct {
	pts   []orb.Point
	err   error  // the first bad tuple; the rest of the text is ignored
	n     int    // tuples so far
	prev  byte   // the byte before, in the text as given
	held  bool   // a space kept back until we know no comma follows it
	part  []byte // a character cut by the end of the last chunk
	tuple []byte
	limit func(n int) error // called with each tuple's number; an error stops the parse
}

func (p *coordParser) write(b []byte) error {
	if len(p.part) > 0 {
		b = append(p.part, b...)
		p.part = nil
	}
	for i := 0; i < len(b) && p.err == nil; {
		c := b[i]
		if c >= utf8.RuneSelf {
			if !utf8.FullRune(b[i:]) {
				p.part = append([]byte(nil), b[i:]...)
				return nil
			}
			r, size := utf8.DecodeRune(b[i:])
			if err := p.char(b[i:i+size], unicode.IsSpace(r)); err != nil {
				return err
			}
			p.prev = b[i+size-1]
			i += size
			continue
		}
		i++
		dropped := c == ' ' && p.prev == ','
		p.prev = c
		if dropped {
			continue
		}
		if c == ' ' {
			if p.held {
				if err := p.char(nil, true); err != nil {
					return err
				}
			}
			p.held = true
			continue
		}
		if c == ',' {
			p.held = false
		}
		if err := p.char(b[i-1:i], asciiSpace(c)); err != nil {
			return err
		}
	}
	return nil
}

// char takes one character after the space dropping: a separator ends the
// tuple, anything else extends it. A held space goes first.
func (p *coordParser) char(c []byte, space bool) error {
	if p.held {
		p.held = false
		if err := p.endTuple(); err != nil {
			return err
		}
	}
	if space {
		return p.endTuple()
	}
	p.tuple = append(p.tuple, c...)
	return nil
}

func (p *coordParser) close() error {
	if p.err != nil {
		return nil
	}
	if len(p.part) > 0 { // not UTF-8: part of the tuple, as strings.Fields takes it
		part := p.part
		p.part = nil
		if err := p.char(part, false); err != nil {
			return err
		}
	}
	p.held = false
	return p.endTuple()
}

func (p *coordParser) endTuple() error {
	if len(p.tuple) == 0 || p.err != nil {
		return nil
	}
	t := p.tuple
	p.tuple = p.tuple[:0]
	p.n++
	if err := p.limit(p.n); err != nil {
		return err
	}
	parts := bytes.Count(t, []byte(",")) + 1
	if parts < 2 || parts > 3 {
		p.err = fmt.Errorf("coordinate %d %q is not lon,lat[,alt]", p.n, shorten(t))
		return nil
	}
	lonText, rest, _ := bytes.Cut(t, []byte(","))
	latText, _, _ := bytes.Cut(rest, []byte(","))
	lon, err1 := strconv.ParseFloat(string(lonText), 64)
	lat, err2 := strconv.ParseFloat(string(latText), 64)
	if err1 != nil || err2 != nil {
		p.err = fmt.Errorf("coordinate %d %q is not a number pair lon,lat", p.n, shorten(t))
		return nil
	}
	p.pts = append(p.pts, orb.Point{lon, lat})
	return nil
}

// asciiSpace is strings.Fields' ASCII white space.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// shorten keeps a quoted tuple in an error message readable.
func shorten(b []byte) string {
	if len(b) > 64 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// xmlGuard sits under encoding/xml and refuses a token (text run, CDATA
// section, comment, tag) longer than max as its bytes go by. It follows
// XML's token boundaries only roughly (no entity or DTD parsing): a slip
// can only end a token early, or, on broken XML, late.
type xmlGuard struct {
	r     io.Reader
	file  string
	max   int
	err   error
	st    guardState
	n     int     // bytes of the current token
	line  int     // 1-based, as xml.Decoder counts
	start int     // line the current token began on
	last  [2]byte // the bytes before, to spot "-->", "]]>" and "?>"
	quote byte    // inside a quoted attribute value
	depth int     // '<' nesting inside <!DOCTYPE ...>
	elem  []byte  // the last start tag's name, for the message
	named bool    // still reading elem
}

type guardState uint8

const (
	gText    guardState = iota
	gOpen               // after '<'
	gBang               // after "<!"
	gTag                // start or end tag
	gComment            // <!-- -->
	gCDATA              // <![CDATA[ ]]>
	gPI                 // <? ?>
	gDecl               // <!DOCTYPE ...>
)

func (g *xmlGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if e := g.scan(p[:n]); e != nil {
		g.err = e
		return 0, e
	}
	return n, err
}

func (g *xmlGuard) scan(b []byte) error {
	for i := 0; i < len(b); {
		if g.st == gText {
			j := bytes.IndexByte(b[i:], '<')
			run := b[i:]
			if j >= 0 {
				run = b[i : i+j]
			}
			g.line += bytes.Count(run, []byte("\n"))
			g.n += len(run)
			if g.n > g.max {
				return g.overflow()
			}
			if j < 0 {
				return nil
			}
			i += j + 1
			g.st, g.n, g.start, g.last = gOpen, 1, g.line, [2]byte{0, '<'}
			continue
		}
		c := b[i]
		i++
		g.n++
		if c == '\n' {
			g.line++
		}
		if g.n > g.max {
			return g.overflow()
		}
		end := false
		switch g.st {
		case gOpen:
			switch c {
			case '!':
				g.st = gBang
			case '?':
				g.st = gPI
			case '>':
				end = true
			default:
				g.st, g.quote = gTag, 0
				g.elem, g.named = g.elem[:0], c != '/'
				if g.named {
					g.elem = append(g.elem, c)
				}
			}
		case gBang:
			switch c {
			case '-':
				g.st = gComment
			case '[':
				g.st = gCDATA
			case '>':
				end = true
			default:
				g.st, g.depth, g.quote = gDecl, 0, 0
			}
		case gTag:
			switch {
			case g.quote != 0:
				if c == g.quote {
					g.quote = 0
				}
			case c == '"' || c == '\'':
				g.quote, g.named = c, false
			case c == '>':
				end = true
			case g.named && len(g.elem) < 64 && c != '/' && !asciiSpace(c):
				g.elem = append(g.elem, c)
			default:
				g.named = false
			}
		case gComment:
			end = c == '>' && g.last == [2]byte{'-', '-'}
		case gCDATA:
			end = c == '>' && g.last == [2]byte{']', ']'}
		case gPI:
			end = c == '>' && g.last[1] == '?'
		case gDecl:
			switch {
			case g.quote != 0:
				if c == g.quote {
					g.quote = 0
				}
			case c == '"' || c == '\'':
				g.quote = c
			case c == '<':
				g.depth++
			case c == '>':
				if g.depth == 0 {
					end = true
				}
				g.depth--
			}
		}
		g.last = [2]byte{g.last[1], c}
		if end {
			g.st, g.n, g.start = gText, 0, g.line
		}
	}
	return nil
}

func (g *xmlGuard) overflow() error {
	what := "one XML token"
	switch g.st {
	case gText, gCDATA:
		what = "one text"
		if len(g.elem) > 0 {
			what = fmt.Sprintf("the text of one <%s>", g.elem)
		}
	case gComment:
		what = "one comment"
	case gTag, gOpen:
		what = "one tag"
	}
	return limitError(g.file, -1, fmt.Sprintf("line %d", g.start), "more than %s in %s (the limit per XML token)", BytesText(int64(g.max)), what)
}

// decodeKMZ reads the KML inside a KMZ: doc.kml, or the first .kml,
// inflating it as it is parsed.
func decodeKMZ(name string, data []byte, bud *budget) (*Result, error) {
	a, err := openZip(name, data, bud.lim)
	if err != nil {
		return nil, err
	}
	var pick *zip.File
	for _, f := range zipMembers(a.zr) {
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
	m, err := a.open(pick)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return decodeKML(name+": "+pick.Name, m, bud)
}
