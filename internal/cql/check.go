package cql

import (
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// kind is the resolved type of an operand: the schema's types plus the
// ordinal kind of a property with Levels (and of a literal compared to one).
type kind int

const (
	kString kind = iota + 1
	kNumber
	kBool
	kTime
	kGeom
	kOrdinal
	kArray
)

func (k kind) String() string {
	switch k {
	case kString:
		return "string"
	case kNumber:
		return "number"
	case kBool:
		return "boolean"
	case kTime:
		return "timestamp"
	case kGeom:
		return "geometry"
	case kOrdinal:
		return "level"
	case kArray:
		return "array"
	}
	return "unknown"
}

func (k kind) ordered() bool { return k == kString || k == kNumber || k == kTime || k == kOrdinal }

// operand is a resolved Scalar: either a property (prop set) or a literal
// (lit holding string, float64, bool, time.Time, orb.Geometry, or int for
// a level).
type operand struct {
	pos    int
	text   string
	kind   kind
	prop   *Property
	lit    any
	lower  bool // CASEI
	fold   bool // ACCENTI
	levels []string
}

// Typed tree: what ToSQL and Compile both translate, so that they agree on
// every type rule.
type (
	tLogical struct {
		and  bool
		l, r tExpr
	}
	tNot     struct{ x tExpr }
	tCompare struct {
		op   CompareOp
		l, r operand
	}
	tLike struct {
		negated bool
		x, pat  operand
	}
	tIn struct {
		negated bool
		x       operand
		list    []operand
	}
	tBetween struct {
		negated   bool
		x, lo, hi operand
	}
	tIsNull struct {
		negated bool
		x       operand
	}
	tSpatial struct {
		op   SpatialOp
		l, r operand
	}
	tConst struct{ v bool }
)

type tExpr any

// Check resolves every property of e against s and checks the types,
// returning the first problem as a zone.Error with CodeInvalid whose
// message names the position, e.g.
// `cql2: at position 1: unknown property "nme" (known: name, kind)`.
func Check(e Expr, s Schema) error {
	_, err := resolve(e, s)
	return err
}

func semErr(pos int, format string, args ...any) error {
	return zone.Errorf(zone.CodeInvalid, "cql2: at position %d: %s", pos, fmt.Sprintf(format, args...))
}

func resolve(e Expr, s Schema) (tExpr, error) {
	switch e := e.(type) {
	case *Logical:
		l, err := resolve(e.Left, s)
		if err != nil {
			return nil, err
		}
		r, err := resolve(e.Right, s)
		if err != nil {
			return nil, err
		}
		return tLogical{and: e.Op == OpAnd, l: l, r: r}, nil
	case *Not:
		x, err := resolve(e.X, s)
		if err != nil {
			return nil, err
		}
		return tNot{x}, nil
	case *BoolConst:
		return tConst{e.Value}, nil
	case *Comparison:
		l, r, err := operands(s, e.Left, e.Right)
		if err != nil {
			return nil, err
		}
		if err := unify(e.At, &l, &r); err != nil {
			return nil, err
		}
		switch {
		case l.kind == kGeom:
			return nil, semErr(e.At, "geometries cannot be compared with %s; use S_INTERSECTS", e.Op)
		case l.kind == kBool && e.Op != OpEq && e.Op != OpNe:
			return nil, semErr(e.At, "booleans are compared only with = and <>, not %s", e.Op)
		}
		return tCompare{op: e.Op, l: l, r: r}, nil
	case *Like:
		x, pat, err := operands(s, e.X, e.Pattern)
		if err != nil {
			return nil, err
		}
		if x.kind != kString {
			return nil, semErr(e.At, "LIKE needs a string property, but %s is a %s", x.text, x.kind)
		}
		if pat.prop != nil || pat.kind != kString {
			return nil, semErr(pat.pos, "the LIKE pattern must be a string literal such as 'Kho%%', got %s", pat.text)
		}
		if err := checkLikePattern(pat.lit.(string)); err != nil {
			return nil, semErr(pat.pos, "%v", err)
		}
		return tLike{negated: e.Negated, x: x, pat: pat}, nil
	case *In:
		x, err := resolveScalar(s, e.X)
		if err != nil {
			return nil, err
		}
		list := make([]operand, len(e.List))
		for i, item := range e.List {
			o, err := resolveScalar(s, item)
			if err != nil {
				return nil, err
			}
			if err := unify(item.Pos(), &x, &o); err != nil {
				return nil, err
			}
			if o.kind == kGeom {
				return nil, semErr(e.At, "IN does not take geometries; use S_INTERSECTS")
			}
			list[i] = o
		}
		return tIn{negated: e.Negated, x: x, list: list}, nil
	case *Between:
		x, err := resolveScalar(s, e.X)
		if err != nil {
			return nil, err
		}
		lo, hi, err := operands(s, e.Low, e.High)
		if err != nil {
			return nil, err
		}
		if err := unify(e.Low.Pos(), &x, &lo); err != nil {
			return nil, err
		}
		if err := unify(e.High.Pos(), &x, &hi); err != nil {
			return nil, err
		}
		if !x.kind.ordered() {
			return nil, semErr(e.At, "BETWEEN needs an ordered value (string, number, timestamp), but %s is a %s", x.text, x.kind)
		}
		return tBetween{negated: e.Negated, x: x, lo: lo, hi: hi}, nil
	case *IsNull:
		x, err := resolveScalar(s, e.X)
		if err != nil {
			return nil, err
		}
		return tIsNull{negated: e.Negated, x: x}, nil
	case *Spatial:
		l, r, err := operands(s, e.Left, e.Right)
		if err != nil {
			return nil, err
		}
		for _, o := range []operand{l, r} {
			if o.kind != kGeom {
				return nil, semErr(o.pos, "%s needs geometries, but %s is a %s", e.Op, o.text, o.kind)
			}
		}
		if e.Op != SIntersects && e.Op != SDisjoint {
			for _, o := range []operand{l, r} {
				if _, isCollection := literalGeometry(o).(orb.Collection); isCollection {
					return nil, semErr(o.pos, "%s does not take a GEOMETRYCOLLECTION (only S_INTERSECTS and S_DISJOINT do)", e.Op)
				}
			}
		}
		return tSpatial{op: e.Op, l: l, r: r}, nil
	}
	return nil, semErr(e.Pos(), "unsupported expression %T", e)
}

func operands(s Schema, a, b Scalar) (operand, operand, error) {
	x, err := resolveScalar(s, a)
	if err != nil {
		return operand{}, operand{}, err
	}
	y, err := resolveScalar(s, b)
	return x, y, err
}

func resolveScalar(s Schema, sc Scalar) (operand, error) {
	o := operand{pos: sc.Pos(), text: shorten(sc.String())}
	switch sc := sc.(type) {
	case *PropertyRef:
		p, ok := s.Lookup(sc.Name)
		if !ok {
			return o, semErr(sc.At, "unknown property %q (known: %s)", sc.Name, strings.Join(s.Names(), ", "))
		}
		o.prop = &p
		o.text = sc.Name
		switch {
		case len(p.Levels) > 0:
			o.kind, o.levels = kOrdinal, p.Levels
		case p.Type == TypeString:
			o.kind = kString
		case p.Type == TypeNumber:
			o.kind = kNumber
		case p.Type == TypeBool:
			o.kind = kBool
		case p.Type == TypeTime:
			o.kind = kTime
		case p.Type == TypeGeometry:
			o.kind = kGeom
		case p.Type == TypeArray:
			o.kind = kArray
		default:
			return o, semErr(sc.At, "property %q has unknown type %q", sc.Name, p.Type)
		}
	case *StringLit:
		o.kind, o.lit = kString, sc.Value
	case *NumberLit:
		o.kind, o.lit = kNumber, sc.Value
	case *BoolLit:
		o.kind, o.lit = kBool, sc.Value
	case *TimeLit:
		o.kind, o.lit = kTime, sc.Value.UTC().Round(time.Microsecond)
	case *GeometryLit:
		o.kind, o.lit = kGeom, sc.Geom
	case *CaseI:
		x, err := resolveScalar(s, sc.X)
		if err != nil {
			return o, err
		}
		if x.kind == kOrdinal {
			return x, nil // levels are matched by name ignoring case already (GDAL writes CASEI on them)
		}
		if x.kind != kString {
			return o, semErr(sc.At, "CASEI needs a string, but %s is a %s", x.text, x.kind)
		}
		x.lower, x.pos, x.text = true, sc.At, o.text
		return x, nil
	case *AccentI:
		x, err := resolveScalar(s, sc.X)
		if err != nil {
			return o, err
		}
		if x.kind == kOrdinal {
			return x, nil // levels are matched by name ignoring case already (GDAL writes ACCENTI on them)
		}
		if x.kind != kString {
			return o, semErr(sc.At, "ACCENTI needs a string, but %s is a %s", x.text, x.kind)
		}
		x.fold, x.pos, x.text = true, sc.At, o.text
		return x, nil
	default:
		return o, semErr(sc.Pos(), "unsupported operand %T", sc)
	}
	return o, nil
}

// unify makes two operands comparable: a string literal beside a level
// property becomes that level's index; otherwise the kinds must match.
func unify(pos int, a, b *operand) error {
	for _, o := range []*operand{a, b} {
		if o.kind == kArray {
			return semErr(pos, "%s is a list: a filter can only ask whether it IS NULL or IS NOT NULL", o.text)
		}
	}
	if a.kind == kOrdinal && b.kind == kString && b.prop == nil {
		return toLevel(a, b)
	}
	if b.kind == kOrdinal && a.kind == kString && a.prop == nil {
		return toLevel(b, a)
	}
	if a.kind == kOrdinal && b.kind == kOrdinal && a.prop != nil && b.prop != nil && strings.Join(a.levels, ",") != strings.Join(b.levels, ",") {
		return semErr(pos, "cannot compare %s with %s: different levels", a.text, b.text)
	}
	if a.kind != b.kind {
		hint := ""
		if a.kind == kTime && b.kind == kString || a.kind == kString && b.kind == kTime {
			hint = " (write times as TIMESTAMP('2024-05-01T08:00:00Z') or DATE('2024-05-01'))"
		}
		if a.kind == kOrdinal || b.kind == kOrdinal {
			lv := a.levels
			if lv == nil {
				lv = b.levels
			}
			hint = " (levels: " + strings.Join(lv, ", ") + ")"
		}
		return semErr(pos, "cannot compare %s (%s) with %s (%s)%s", a.text, a.kind, b.text, b.kind, hint)
	}
	return nil
}

func toLevel(prop, lit *operand) error {
	// A level's name matches ignoring case, so CASEI or ACCENTI on the
	// literal changes nothing.
	i, ok := levelIndex(prop.levels, lit.lit.(string))
	if !ok {
		return semErr(lit.pos, "%s is not a level of %s (levels: %s)", lit.text, prop.text, strings.Join(prop.levels, ", "))
	}
	lit.kind, lit.lit, lit.levels, lit.lower, lit.fold = kOrdinal, i, prop.levels, false, false
	return nil
}

// checkLikePattern rejects a pattern ending in a lone escape character,
// which PostgreSQL refuses at run time.
func checkLikePattern(pat string) error {
	escaped := false
	for _, r := range pat {
		escaped = !escaped && r == '\\'
	}
	if escaped {
		return fmt.Errorf("LIKE pattern %s ends with the escape character \\", quoteRaw(pat))
	}
	return nil
}

// literalGeometry returns a literal operand's geometry.
func literalGeometry(o operand) orb.Geometry { g, _ := o.lit.(orb.Geometry); return g }
