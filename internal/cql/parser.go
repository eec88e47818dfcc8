package cql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// SyntaxError is a filter that is not CQL2 text this package understands.
// Pos is the 1-based character position where the problem was found.
// errors.As(err, &*zone.Error) also succeeds, with CodeInvalid, so the HTTP
// layer answers 400.
type SyntaxError struct {
	Pos int
	Msg string // e.g. "expected ')' but found 'AND'"
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("cql2: at position %d: %s", e.Pos, e.Msg) }

// As lets errors.As see a syntax error as a zone.Error with CodeInvalid.
func (e *SyntaxError) As(target any) bool {
	if t, ok := target.(**zone.Error); ok {
		*t = &zone.Error{Code: zone.CodeInvalid, Message: e.Error()}
		return true
	}
	return false
}

// MaxDepth bounds the nesting of parentheses, NOT and CASEI so that a
// hostile filter cannot exhaust the stack.
const MaxDepth = 100

// Parse parses CQL2 text (OGC 21-065, the text encoding) into an
// expression tree. Keywords are case-insensitive; property names are not.
func Parse(src string) (Expr, error) {
	p := &parser{lx: newLexer(src)}
	p.advance()
	e, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.expected("AND, OR or end of input")
	}
	return e, nil
}

type parser struct {
	lx    *lexer
	tok   token // current token
	ahead *token
	depth int
}

func (p *parser) advance() {
	if p.ahead != nil {
		p.tok, p.ahead = *p.ahead, nil
		return
	}
	p.tok = p.lx.next()
}

func (p *parser) peek() token {
	if p.ahead == nil {
		t := p.lx.next()
		p.ahead = &t
	}
	return *p.ahead
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// expected reports the current token as not what the grammar wants; a
// lexical error is reported as itself.
func (p *parser) expected(what string) error {
	if p.tok.kind == tokIllegal {
		return p.errAt(p.tok.pos, "%s", p.tok.text)
	}
	return p.errAt(p.tok.pos, "expected %s but found %s", what, describe(p.tok))
}

// keyword reports whether the current token is the identifier kw, ignoring case.
func (p *parser) keyword(kw string) bool {
	return p.tok.kind == tokIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) expect(kind tokenKind, what string) (token, error) {
	if p.tok.kind != kind {
		return token{}, p.expected(what)
	}
	t := p.tok
	p.advance()
	return t, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(p.tok.pos, "expression nested more than %d levels deep", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) orExpr() (Expr, error) {
	left, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		at := p.tok.pos
		p.advance()
		right, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		left = &Logical{At: at, Op: OpOr, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) andExpr() (Expr, error) {
	left, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		at := p.tok.pos
		p.advance()
		right, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		left = &Logical{At: at, Op: OpAnd, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) notExpr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.keyword("NOT") {
		at := p.tok.pos
		p.advance()
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return &Not{At: at, X: x}, nil
	}
	return p.primary()
}

func spatialOp(name string) (SpatialOp, bool) {
	up := strings.ToUpper(name)
	switch SpatialOp(up) {
	case SIntersects, SDisjoint, SWithin, SContains, STouches, SCrosses, SOverlaps, SEquals:
		return SpatialOp(up), true
	}
	// The pre-2022 drafts' names without S_, still sent by some clients.
	switch up {
	case "INTERSECTS", "DISJOINT", "WITHIN", "CONTAINS", "TOUCHES", "CROSSES", "OVERLAPS", "EQUALS":
		return SpatialOp("S_" + up), true
	}
	return "", false
}

func (p *parser) primary() (Expr, error) {
	switch {
	case p.tok.kind == tokLParen:
		p.advance()
		e, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return e, nil
	case p.tok.kind == tokIdent && p.peek().kind == tokLParen:
		if op, ok := spatialOp(p.tok.text); ok {
			return p.spatial(op)
		}
		if strings.HasPrefix(strings.ToUpper(p.tok.text), "S_") || strings.HasPrefix(strings.ToUpper(p.tok.text), "T_") || strings.HasPrefix(strings.ToUpper(p.tok.text), "A_") {
			return nil, p.errAt(p.tok.pos, "%s is not supported (supported spatial predicates: S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS, S_TOUCHES, S_CROSSES, S_OVERLAPS, S_EQUALS)", strings.ToUpper(p.tok.text))
		}
	}
	return p.predicate()
}

func (p *parser) spatial(op SpatialOp) (Expr, error) {
	at := p.tok.pos
	p.advance() // name
	p.advance() // (
	left, err := p.scalar()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokComma, "','"); err != nil {
		return nil, err
	}
	right, err := p.scalar()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen, "')'"); err != nil {
		return nil, err
	}
	return &Spatial{At: at, Op: op, Left: left, Right: right}, nil
}

func (p *parser) predicate() (Expr, error) {
	x, err := p.scalar()
	if err != nil {
		return nil, err
	}
	at := p.tok.pos
	if p.tok.kind == tokOp {
		op := CompareOp(p.tok.text)
		p.advance()
		y, err := p.scalar()
		if err != nil {
			return nil, err
		}
		return &Comparison{At: at, Op: op, Left: x, Right: y}, nil
	}
	negated := false
	if p.keyword("NOT") {
		negated = true
		p.advance()
		if !p.keyword("LIKE") && !p.keyword("IN") && !p.keyword("BETWEEN") {
			return nil, p.expected("LIKE, IN or BETWEEN after NOT")
		}
	}
	switch {
	case p.keyword("LIKE"):
		p.advance()
		pat, err := p.scalar()
		if err != nil {
			return nil, err
		}
		return &Like{At: at, Negated: negated, X: x, Pattern: pat}, nil
	case p.keyword("IN"):
		p.advance()
		if _, err := p.expect(tokLParen, "'(' after IN"); err != nil {
			return nil, err
		}
		var list []Scalar
		for {
			s, err := p.scalar()
			if err != nil {
				return nil, err
			}
			list = append(list, s)
			if p.tok.kind == tokComma {
				p.advance()
				continue
			}
			if _, err := p.expect(tokRParen, "',' or ')'"); err != nil {
				return nil, err
			}
			return &In{At: at, Negated: negated, X: x, List: list}, nil
		}
	case p.keyword("BETWEEN"):
		p.advance()
		lo, err := p.scalar()
		if err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			return nil, p.expected("AND in BETWEEN ... AND ...")
		}
		p.advance()
		hi, err := p.scalar()
		if err != nil {
			return nil, err
		}
		return &Between{At: at, Negated: negated, X: x, Low: lo, High: hi}, nil
	case p.keyword("IS"):
		p.advance()
		if p.keyword("NOT") {
			negated = true
			p.advance()
		}
		if !p.keyword("NULL") {
			return nil, p.expected("NULL")
		}
		p.advance()
		return &IsNull{At: at, Negated: negated, X: x}, nil
	}
	if b, ok := x.(*BoolLit); ok {
		return &BoolConst{At: b.At, Value: b.Value}, nil
	}
	return nil, p.expected("a comparison operator, LIKE, IN, BETWEEN or IS")
}

// scalar parses an operand.
func (p *parser) scalar() (Scalar, error) {
	t := p.tok
	switch t.kind {
	case tokString:
		p.advance()
		return &StringLit{At: t.pos, Value: t.text}, nil
	case tokNumber:
		p.advance()
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, p.errAt(t.pos, "number %s is out of range", quoteRaw(t.raw))
		}
		return &NumberLit{At: t.pos, Value: f}, nil
	case tokQuotedIdent:
		p.advance()
		if t.text == "" {
			return nil, p.errAt(t.pos, "empty property name")
		}
		return &PropertyRef{At: t.pos, Name: t.text}, nil
	case tokIdent:
		up := strings.ToUpper(t.text)
		if p.peek().kind == tokLParen {
			return p.call(up)
		}
		switch up {
		case "TRUE", "FALSE":
			p.advance()
			return &BoolLit{At: t.pos, Value: up == "TRUE"}, nil
		case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
			if next := p.peek(); next.kind == tokIdent && (strings.EqualFold(next.text, "Z") || strings.EqualFold(next.text, "EMPTY")) {
				return p.geometryLiteral() // POINT Z (...), POINT EMPTY
			}
		}
		if isReserved(up) {
			return nil, p.expected("a property name or a literal")
		}
		p.advance()
		return &PropertyRef{At: t.pos, Name: t.text}, nil
	}
	return nil, p.expected("a property name or a literal")
}

// call parses NAME(...) in operand position: a typed literal, CASEI, or a
// geometry.
func (p *parser) call(up string) (Scalar, error) {
	t := p.tok
	switch up {
	case "TIMESTAMP", "DATE":
		p.advance()
		p.advance()
		example := "'2024-05-01'"
		if up == "TIMESTAMP" {
			example = "'2024-05-01T08:00:00Z'"
		}
		s, err := p.expect(tokString, "a quoted "+strings.ToLower(up)+" such as "+example)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		if up == "DATE" {
			d, err := time.Parse(time.DateOnly, s.text)
			if err != nil {
				return nil, p.errAt(s.pos, "DATE needs YYYY-MM-DD, got %s", quoteRaw(s.text))
			}
			return &TimeLit{At: t.pos, Value: d, Date: true}, nil
		}
		ts, err := time.Parse(time.RFC3339Nano, s.text)
		if err != nil {
			return nil, p.errAt(s.pos, "TIMESTAMP needs an RFC 3339 time such as '2024-05-01T08:00:00Z', got %s", quoteRaw(s.text))
		}
		return &TimeLit{At: t.pos, Value: ts.UTC().Round(time.Microsecond)}, nil
	case "CASEI", "ACCENTI":
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.advance()
		p.advance()
		x, err := p.scalar()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		if up == "ACCENTI" {
			return &AccentI{At: t.pos, X: x}, nil
		}
		return &CaseI{At: t.pos, X: x}, nil
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "BBOX", "ENVELOPE":
		return p.geometryLiteral()
	}
	return nil, p.errAt(t.pos, "unknown function %s (supported: TIMESTAMP, DATE, CASEI, ACCENTI, BBOX and WKT geometries)", quoteRaw(t.raw))
}

// geometryLiteral parses a WKT geometry, BBOX(minx, miny, maxx, maxy) or
// ENVELOPE(west, east, north, south) in CRS84 longitude/latitude degrees
// and checks it as zone.ValidateGeometry does. A Z coordinate is accepted
// and dropped: every test is two-dimensional.
func (p *parser) geometryLiteral() (Scalar, error) {
	t := p.tok
	g, bbox, err := p.geometry(0)
	if err != nil {
		return nil, err
	}
	lit := &GeometryLit{At: t.pos, Geom: g}
	if bbox != nil {
		lit.BBox, lit.Bound = true, *bbox
	}
	if probs := validateLiteral(g); len(probs) > 0 {
		d := probs[0]
		where := ""
		if d.Pointer != "" {
			where = " at " + d.Pointer
		}
		return nil, p.errAt(t.pos, "invalid geometry%s: %s", where, d.Reason)
	}
	return lit, nil
}

func validateLiteral(g orb.Geometry) []zone.Detail {
	if c, ok := g.(orb.Collection); ok {
		for _, m := range c {
			if probs := validateLiteral(m); len(probs) > 0 {
				return probs
			}
		}
		return nil
	}
	return zone.ValidateGeometry(g)
}

// geometry parses one tagged geometry; vertices counts those read so far
// (for GEOMETRYCOLLECTION members). For BBOX and ENVELOPE it also returns
// the box.
func (p *parser) geometry(depth int) (orb.Geometry, *orb.Bound, error) {
	if depth > 8 {
		return nil, nil, p.errAt(p.tok.pos, "geometry collections nested too deep")
	}
	if p.tok.kind != tokIdent {
		return nil, nil, p.expected("a geometry (POINT, LINESTRING, POLYGON, MULTI..., GEOMETRYCOLLECTION or BBOX)")
	}
	tag := strings.ToUpper(p.tok.text)
	p.advance()
	switch tag {
	case "BBOX", "ENVELOPE":
		return p.box(tag)
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
	default:
		return nil, nil, p.errAt(p.tok.pos, "unknown geometry type %s", quoteRaw(tag))
	}
	if p.tok.kind == tokIdent {
		switch strings.ToUpper(p.tok.text) {
		case "Z":
			p.advance()
		case "EMPTY":
			return nil, nil, p.errAt(p.tok.pos, "an EMPTY geometry matches nothing; give coordinates")
		default:
			return nil, nil, p.expected("'(' or Z")
		}
	}
	var err error
	var g orb.Geometry
	switch tag {
	case "POINT":
		var pt orb.Point
		err = p.parens(func() error { pt, err = p.coord(); return err })
		g = pt
	case "LINESTRING":
		var ls []orb.Point
		ls, err = p.coords()
		g = orb.LineString(ls)
	case "POLYGON":
		g, err = p.polygon()
	case "MULTIPOINT":
		var mp orb.MultiPoint
		err = p.list(func() error {
			var pt orb.Point
			var err error
			if p.tok.kind == tokLParen {
				err = p.parens(func() error { pt, err = p.coord(); return err })
			} else {
				pt, err = p.coord()
			}
			mp = append(mp, pt)
			return err
		})
		g = mp
	case "MULTILINESTRING":
		var ml orb.MultiLineString
		err = p.list(func() error {
			ls, err := p.coords()
			ml = append(ml, ls)
			return err
		})
		g = ml
	case "MULTIPOLYGON":
		var mp orb.MultiPolygon
		err = p.list(func() error {
			pg, err := p.polygon()
			mp = append(mp, pg)
			return err
		})
		g = mp
	case "GEOMETRYCOLLECTION":
		var c orb.Collection
		err = p.list(func() error {
			m, _, err := p.geometry(depth + 1)
			c = append(c, m)
			return err
		})
		g = c
	}
	if err != nil {
		return nil, nil, err
	}
	return g, nil, nil
}

// box parses the arguments of BBOX(minx, miny, maxx, maxy) (or the six
// numbers of a 3D box) and ENVELOPE(west, east, north, south).
func (p *parser) box(tag string) (orb.Geometry, *orb.Bound, error) {
	at := p.tok.pos
	var nums []float64
	err := p.list(func() error {
		n, err := p.number()
		nums = append(nums, n)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var b orb.Bound
	switch {
	case tag == "BBOX" && len(nums) == 4:
		b = orb.Bound{Min: orb.Point{nums[0], nums[1]}, Max: orb.Point{nums[2], nums[3]}}
	case tag == "BBOX" && len(nums) == 6:
		b = orb.Bound{Min: orb.Point{nums[0], nums[1]}, Max: orb.Point{nums[3], nums[4]}}
	case tag == "ENVELOPE" && len(nums) == 4:
		b = orb.Bound{Min: orb.Point{nums[0], nums[3]}, Max: orb.Point{nums[1], nums[2]}}
	case tag == "BBOX":
		return nil, nil, p.errAt(at, "BBOX needs 4 numbers (minx, miny, maxx, maxy) or 6, got %d", len(nums))
	default:
		return nil, nil, p.errAt(at, "ENVELOPE needs 4 numbers (west, east, north, south), got %d", len(nums))
	}
	if b.Min[0] > b.Max[0] {
		return nil, nil, p.errAt(at, "%s: minimum longitude %g is greater than maximum %g (boxes across the antimeridian are not supported; check the argument order)", tag, b.Min[0], b.Max[0])
	}
	if b.Min[1] > b.Max[1] {
		return nil, nil, p.errAt(at, "%s: minimum latitude %g is greater than maximum %g (check the argument order)", tag, b.Min[1], b.Max[1])
	}
	return boxGeometry(b), &b, nil
}

// boxGeometry is the polygon of b, or the line or point it shrinks to when
// it has no width or height (a degenerate polygon would be invalid).
func boxGeometry(b orb.Bound) orb.Geometry {
	switch {
	case b.Min == b.Max:
		return b.Min
	case b.Min[0] == b.Max[0] || b.Min[1] == b.Max[1]:
		return orb.LineString{b.Min, b.Max}
	}
	return b.ToPolygon()
}

func (p *parser) parens(body func() error) error {
	if _, err := p.expect(tokLParen, "'('"); err != nil {
		return err
	}
	if err := body(); err != nil {
		return err
	}
	_, err := p.expect(tokRParen, "')'")
	return err
}

// list parses "(" item {"," item} ")".
func (p *parser) list(item func() error) error {
	return p.parens(func() error {
		for {
			if err := item(); err != nil {
				return err
			}
			if p.tok.kind != tokComma {
				return nil
			}
			p.advance()
		}
	})
}

func (p *parser) number() (float64, error) {
	t, err := p.expect(tokNumber, "a number")
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, p.errAt(t.pos, "number %s is out of range", quoteRaw(t.raw))
	}
	return f, nil
}

// coord parses "x y" or "x y z" (z dropped).
func (p *parser) coord() (orb.Point, error) {
	x, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	y, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	if p.tok.kind == tokNumber {
		if _, err := p.number(); err != nil {
			return orb.Point{}, err
		}
	}
	return orb.Point{x, y}, nil
}

// coords parses "(x y, x y, ...)".
func (p *parser) coords() ([]orb.Point, error) {
	var ps []orb.Point
	err := p.list(func() error {
		if len(ps) >= zone.MaxVertices {
			return p.errAt(p.tok.pos, "geometry has more than %d vertices", zone.MaxVertices)
		}
		pt, err := p.coord()
		ps = append(ps, pt)
		return err
	})
	return ps, err
}

func (p *parser) polygon() (orb.Polygon, error) {
	var pg orb.Polygon
	err := p.list(func() error {
		r, err := p.coords()
		pg = append(pg, orb.Ring(r))
		return err
	})
	return pg, err
}
