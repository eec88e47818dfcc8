package cql

import (
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Expr is a boolean CQL2 expression: a predicate or a logical combination.
// String renders it back as CQL2 text that parses to the same tree
// (positions aside).
type Expr interface {
	Pos() int // 1-based character position in the source
	String() string
	isExpr()
}

// Scalar is an operand of a predicate: a property reference, a literal or
// a CASEI(...) call.
type Scalar interface {
	Pos() int
	String() string
	isScalar()
}

// LogicalOp is AND or OR.
type LogicalOp string

const (
	OpAnd LogicalOp = "AND"
	OpOr  LogicalOp = "OR"
)

// CompareOp is a binary comparison operator.
type CompareOp string

const (
	OpEq CompareOp = "="
	OpNe CompareOp = "<>"
	OpLt CompareOp = "<"
	OpLe CompareOp = "<="
	OpGt CompareOp = ">"
	OpGe CompareOp = ">="
)

// SpatialOp is a spatial predicate.
type SpatialOp string

const (
	// SIntersects is true when the geometries share at least one point:
	// touching counts.
	SIntersects SpatialOp = "S_INTERSECTS"
	// SDisjoint is the negation of SIntersects.
	SDisjoint SpatialOp = "S_DISJOINT"
	// The DE-9IM predicates of OGC Simple Features, as PostGIS and JTS
	// define them (a point on a polygon's boundary is not within it, but
	// touches it).
	SWithin   SpatialOp = "S_WITHIN"
	SContains SpatialOp = "S_CONTAINS"
	STouches  SpatialOp = "S_TOUCHES"
	SCrosses  SpatialOp = "S_CROSSES"
	SOverlaps SpatialOp = "S_OVERLAPS"
	SEquals   SpatialOp = "S_EQUALS"
)

// Logical is Left AND Right or Left OR Right.
type Logical struct {
	At          int
	Op          LogicalOp
	Left, Right Expr
}

// Not negates X.
type Not struct {
	At int
	X  Expr
}

// Comparison is Left Op Right.
type Comparison struct {
	At          int
	Op          CompareOp
	Left, Right Scalar
}

// Like is X [NOT] LIKE Pattern: % matches any run of characters, _ one
// character, and a backslash escapes the next character.
type Like struct {
	At      int
	Negated bool
	X       Scalar
	Pattern Scalar
}

// In is X [NOT] IN (List...).
type In struct {
	At      int
	Negated bool
	X       Scalar
	List    []Scalar
}

// Between is X [NOT] BETWEEN Low AND High (both ends included).
type Between struct {
	At        int
	Negated   bool
	X         Scalar
	Low, High Scalar
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	At      int
	Negated bool
	X       Scalar
}

// Spatial is Op(Left, Right) over two geometry operands.
type Spatial struct {
	At          int
	Op          SpatialOp
	Left, Right Scalar
}

// BoolConst is TRUE or FALSE used as a whole predicate.
type BoolConst struct {
	At    int
	Value bool
}

// PropertyRef names a queryable property.
type PropertyRef struct {
	At   int
	Name string
}

// StringLit is a character string literal.
type StringLit struct {
	At    int
	Value string
}

// NumberLit is a numeric literal.
type NumberLit struct {
	At    int
	Value float64
}

// BoolLit is TRUE or FALSE as an operand.
type BoolLit struct {
	At    int
	Value bool
}

// TimeLit is TIMESTAMP('...') or DATE('...'). A DATE is midnight UTC of that
// day. Times are rounded to microseconds, the precision PostgreSQL keeps.
type TimeLit struct {
	At    int
	Value time.Time
	Date  bool
}

// CaseI is CASEI(X): X compared without regard to letter case.
type CaseI struct {
	At int
	X  Scalar
}

// AccentI is ACCENTI(X): X compared without regard to diacritics
// (Vietnamese letters and đ fold to their base letters).
type AccentI struct {
	At int
	X  Scalar
}

// GeometryLit is a WKT or BBOX literal in WGS84 longitude/latitude (CRS84).
// BBox records that it was written as BBOX(...) (it is then the polygon of
// that box).
type GeometryLit struct {
	At    int
	Geom  orb.Geometry
	BBox  bool
	Bound orb.Bound // of a BBOX literal
}

func (e *Logical) Pos() int     { return e.At }
func (e *Not) Pos() int         { return e.At }
func (e *Comparison) Pos() int  { return e.At }
func (e *Like) Pos() int        { return e.At }
func (e *In) Pos() int          { return e.At }
func (e *Between) Pos() int     { return e.At }
func (e *IsNull) Pos() int      { return e.At }
func (e *Spatial) Pos() int     { return e.At }
func (e *BoolConst) Pos() int   { return e.At }
func (e *PropertyRef) Pos() int { return e.At }
func (e *StringLit) Pos() int   { return e.At }
func (e *NumberLit) Pos() int   { return e.At }
func (e *BoolLit) Pos() int     { return e.At }
func (e *TimeLit) Pos() int     { return e.At }
func (e *CaseI) Pos() int       { return e.At }
func (e *AccentI) Pos() int     { return e.At }
func (e *GeometryLit) Pos() int { return e.At }

func (*Logical) isExpr()    {}
func (*Not) isExpr()        {}
func (*Comparison) isExpr() {}
func (*Like) isExpr()       {}
func (*In) isExpr()         {}
func (*Between) isExpr()    {}
func (*IsNull) isExpr()     {}
func (*Spatial) isExpr()    {}
func (*BoolConst) isExpr()  {}

func (*PropertyRef) isScalar() {}
func (*StringLit) isScalar()   {}
func (*NumberLit) isScalar()   {}
func (*BoolLit) isScalar()     {}
func (*TimeLit) isScalar()     {}
func (*CaseI) isScalar()       {}
func (*AccentI) isScalar()     {}
func (*GeometryLit) isScalar() {}

func (e *Logical) String() string {
	return "(" + e.Left.String() + " " + string(e.Op) + " " + e.Right.String() + ")"
}

func (e *Not) String() string { return "NOT (" + e.X.String() + ")" }

func (e *Comparison) String() string {
	return e.Left.String() + " " + string(e.Op) + " " + e.Right.String()
}

func not(negated bool) string {
	if negated {
		return "NOT "
	}
	return ""
}

func (e *Like) String() string {
	return e.X.String() + " " + not(e.Negated) + "LIKE " + e.Pattern.String()
}

func (e *In) String() string {
	items := make([]string, len(e.List))
	for i, s := range e.List {
		items[i] = s.String()
	}
	return e.X.String() + " " + not(e.Negated) + "IN (" + strings.Join(items, ", ") + ")"
}

func (e *Between) String() string {
	return e.X.String() + " " + not(e.Negated) + "BETWEEN " + e.Low.String() + " AND " + e.High.String()
}

func (e *IsNull) String() string { return e.X.String() + " IS " + not(e.Negated) + "NULL" }

func (e *Spatial) String() string {
	return string(e.Op) + "(" + e.Left.String() + ", " + e.Right.String() + ")"
}

func (e *BoolConst) String() string { return boolText(e.Value) }

func boolText(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// String writes the name bare when it lexes back as the same identifier,
// otherwise double-quoted.
func (e *PropertyRef) String() string {
	if bareIdentifier(e.Name) {
		return e.Name
	}
	return `"` + strings.ReplaceAll(e.Name, `"`, `""`) + `"`
}

func bareIdentifier(s string) bool {
	if s == "" || isReserved(strings.ToUpper(s)) {
		return false
	}
	for i, r := range s {
		if i == 0 && !isIdentStart(r) || i > 0 && !isIdentPart(r) {
			return false
		}
	}
	return true
}

func (e *StringLit) String() string { return quoteString(e.Value) }

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (e *NumberLit) String() string { return formatNumber(e.Value) }

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (e *BoolLit) String() string { return boolText(e.Value) }

func (e *TimeLit) String() string {
	if e.Date {
		return "DATE('" + e.Value.UTC().Format(time.DateOnly) + "')"
	}
	return "TIMESTAMP('" + e.Value.UTC().Format(time.RFC3339Nano) + "')"
}

func (e *CaseI) String() string { return "CASEI(" + e.X.String() + ")" }

func (e *AccentI) String() string { return "ACCENTI(" + e.X.String() + ")" }

func (e *GeometryLit) String() string {
	if e.BBox {
		b := e.Bound
		return "BBOX(" + formatNumber(b.Min[0]) + ", " + formatNumber(b.Min[1]) + ", " +
			formatNumber(b.Max[0]) + ", " + formatNumber(b.Max[1]) + ")"
	}
	return WKT(e.Geom)
}

// WKT renders g as well-known text with every coordinate at full precision
// (orb's encoding/wkt rounds to 6 significant digits, which would move a
// point by up to a kilometre).
func WKT(g orb.Geometry) string {
	var b strings.Builder
	writeWKT(&b, g)
	return b.String()
}

func writeWKT(b *strings.Builder, g orb.Geometry) {
	point := func(p orb.Point) {
		b.WriteString(formatNumber(p[0]))
		b.WriteByte(' ')
		b.WriteString(formatNumber(p[1]))
	}
	points := func(ps []orb.Point) {
		b.WriteByte('(')
		for i, p := range ps {
			if i > 0 {
				b.WriteString(", ")
			}
			point(p)
		}
		b.WriteByte(')')
	}
	polygon := func(p orb.Polygon) {
		b.WriteByte('(')
		for i, r := range p {
			if i > 0 {
				b.WriteString(", ")
			}
			points(r)
		}
		b.WriteByte(')')
	}
	switch g := g.(type) {
	case orb.Point:
		b.WriteString("POINT(")
		point(g)
		b.WriteByte(')')
	case orb.MultiPoint:
		b.WriteString("MULTIPOINT(")
		for i, p := range g {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			point(p)
			b.WriteByte(')')
		}
		b.WriteByte(')')
	case orb.LineString:
		b.WriteString("LINESTRING")
		points(g)
	case orb.MultiLineString:
		b.WriteString("MULTILINESTRING(")
		for i, l := range g {
			if i > 0 {
				b.WriteString(", ")
			}
			points(l)
		}
		b.WriteByte(')')
	case orb.Polygon:
		b.WriteString("POLYGON")
		polygon(g)
	case orb.MultiPolygon:
		b.WriteString("MULTIPOLYGON(")
		for i, p := range g {
			if i > 0 {
				b.WriteString(", ")
			}
			polygon(p)
		}
		b.WriteByte(')')
	case orb.Collection:
		b.WriteString("GEOMETRYCOLLECTION(")
		for i, m := range g {
			if i > 0 {
				b.WriteString(", ")
			}
			writeWKT(b, m)
		}
		b.WriteByte(')')
	case orb.Bound:
		writeWKT(b, g.ToPolygon())
	case orb.Ring:
		writeWKT(b, orb.Polygon{g})
	}
}

// isReserved reports whether an identifier is an operator word, which
// cannot be a bare property name (write it double-quoted: "not").
func isReserved(upper string) bool {
	switch upper {
	case "AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE":
		return true
	}
	return false
}
