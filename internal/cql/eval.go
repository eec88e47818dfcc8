package cql

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	sfgeom "github.com/peterstace/simplefeatures/geom"
)

// Getter returns a record's value of a property: ok false (or a nil value)
// means NULL. Values may be string (or a named string type), any Go number,
// bool, time.Time, orb.Geometry, and for a property with Levels either the
// level name or its integer index (zone.Classification works as is). A
// value of another type than the property's is treated as NULL, as the SQL
// expressions of ComponentSchema yield NULL for a JSON value of the wrong
// type.
type Getter func(name string) (any, bool)

// Predicate reports whether a record matches. It is safe for concurrent use.
type Predicate func(get Getter) bool

// truth is a value of SQL's three-valued logic.
type truth int8

const (
	tFalse truth = iota
	tTrue
	tUnknown
)

func truthOf(b bool) truth {
	if b {
		return tTrue
	}
	return tFalse
}

func (t truth) not() truth {
	switch t {
	case tTrue:
		return tFalse
	case tFalse:
		return tTrue
	}
	return tUnknown
}

// Compile turns e into a Go predicate with the same semantics as ToSQL:
// three-valued logic, where a record matches only when the filter is true
// (a comparison with NULL is unknown; NOT unknown is unknown); strings
// compare by code point; LIKE is case-sensitive unless CASEI; S_INTERSECTS
// counts touching as intersecting (exact test by simplefeatures, after a
// bounding-box test).
func Compile(e Expr, s Schema) (Predicate, error) {
	t, err := resolve(e, s)
	if err != nil {
		return nil, err
	}
	f, err := compile(t)
	if err != nil {
		return nil, err
	}
	return func(get Getter) bool { return f(get) == tTrue }, nil
}

// Eval compiles e and applies it to one record; use Compile for many.
func Eval(e Expr, s Schema, get Getter) (bool, error) {
	p, err := Compile(e, s)
	if err != nil {
		return false, err
	}
	return p(get), nil
}

type evalFn func(Getter) truth

// valueFn returns an operand's normalised value, or ok false for NULL.
type valueFn func(Getter) (any, bool)

func compile(t tExpr) (evalFn, error) {
	switch t := t.(type) {
	case tConst:
		v := truthOf(t.v)
		return func(Getter) truth { return v }, nil
	case tLogical:
		l, err := compile(t.l)
		if err != nil {
			return nil, err
		}
		r, err := compile(t.r)
		if err != nil {
			return nil, err
		}
		if t.and {
			return func(g Getter) truth {
				a := l(g)
				if a == tFalse {
					return tFalse
				}
				b := r(g)
				if b == tFalse {
					return tFalse
				}
				if a == tTrue && b == tTrue {
					return tTrue
				}
				return tUnknown
			}, nil
		}
		return func(g Getter) truth {
			a := l(g)
			if a == tTrue {
				return tTrue
			}
			b := r(g)
			if b == tTrue {
				return tTrue
			}
			if a == tFalse && b == tFalse {
				return tFalse
			}
			return tUnknown
		}, nil
	case tNot:
		x, err := compile(t.x)
		if err != nil {
			return nil, err
		}
		return func(g Getter) truth { return x(g).not() }, nil
	case tCompare:
		return compareFn(t.l, t.op, t.r), nil
	case tLike:
		x := value(t.x)
		pat := t.pat.lit.(string)
		if t.pat.fold {
			pat = foldAccents(pat)
		}
		if t.pat.lower {
			pat = strings.ToLower(pat)
		}
		m := compileLike(pat)
		neg := t.negated
		return func(g Getter) truth {
			v, ok := x(g)
			if !ok {
				return tUnknown
			}
			r := truthOf(m.match(v.(string)))
			if neg {
				return r.not()
			}
			return r
		}, nil
	case tIn:
		x := value(t.x)
		list := make([]valueFn, len(t.list))
		for i, o := range t.list {
			list[i] = value(o)
		}
		k, neg := t.x.kind, t.negated
		return func(g Getter) truth {
			v, ok := x(g)
			if !ok {
				return tUnknown
			}
			r := tFalse
			for _, item := range list {
				w, ok := item(g)
				if !ok {
					r = tUnknown
					continue
				}
				if compareValues(k, v, w) == 0 {
					r = tTrue
					break
				}
			}
			if neg {
				return r.not()
			}
			return r
		}, nil
	case tBetween:
		ge := compareFn(t.x, OpGe, t.lo)
		le := compareFn(t.x, OpLe, t.hi)
		neg := t.negated
		return func(g Getter) truth {
			a, b := ge(g), le(g)
			var r truth
			switch {
			case a == tFalse || b == tFalse:
				r = tFalse
			case a == tTrue && b == tTrue:
				r = tTrue
			default:
				r = tUnknown
			}
			if neg {
				return r.not()
			}
			return r
		}, nil
	case tIsNull:
		x := value(t.x)
		neg := t.negated
		return func(g Getter) truth {
			_, ok := x(g)
			return truthOf(ok == neg)
		}, nil
	case tSpatial:
		return spatialFn(t)
	}
	return nil, fmt.Errorf("cql: cannot evaluate %T", t)
}

func compareFn(l operand, op CompareOp, r operand) evalFn {
	a, b := value(l), value(r)
	k := l.kind
	return func(g Getter) truth {
		x, ok := a(g)
		if !ok {
			return tUnknown
		}
		y, ok := b(g)
		if !ok {
			return tUnknown
		}
		c := compareValues(k, x, y)
		switch op {
		case OpEq:
			return truthOf(c == 0)
		case OpNe:
			return truthOf(c != 0)
		case OpLt:
			return truthOf(c < 0)
		case OpLe:
			return truthOf(c <= 0)
		case OpGt:
			return truthOf(c > 0)
		case OpGe:
			return truthOf(c >= 0)
		}
		return tUnknown
	}
}

// compareValues orders two normalised values of kind k.
func compareValues(k kind, x, y any) int {
	switch k {
	case kString:
		return strings.Compare(x.(string), y.(string))
	case kNumber:
		a, b := x.(float64), y.(float64)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	case kBool:
		a, b := x.(bool), y.(bool)
		switch {
		case a == b:
			return 0
		case !a:
			return -1
		}
		return 1
	case kTime:
		return x.(time.Time).Compare(y.(time.Time))
	case kOrdinal:
		return x.(int) - y.(int)
	}
	return 0
}

// value returns a function yielding the operand's normalised value.
func value(o operand) valueFn {
	var fold func(string) string
	if o.fold {
		fold = foldAccents
	}
	if o.prop == nil {
		v := o.lit
		if fold != nil {
			v = fold(v.(string))
		}
		if o.lower {
			v = strings.ToLower(v.(string))
		}
		return func(Getter) (any, bool) { return v, true }
	}
	name, k, levels, lower := o.prop.Name, o.kind, o.levels, o.lower
	return func(g Getter) (any, bool) {
		raw, ok := g(name)
		if !ok || raw == nil {
			return nil, false
		}
		v, ok := normalize(k, levels, raw)
		if ok && fold != nil {
			v = fold(v.(string))
		}
		if ok && lower {
			v = strings.ToLower(v.(string))
		}
		return v, ok
	}
}

// normalize converts a record's value to the representation of kind k:
// string, float64, bool, time.Time (microseconds), int level, orb.Geometry.
func normalize(k kind, levels []string, raw any) (any, bool) {
	switch k {
	case kString:
		switch v := raw.(type) {
		case string:
			return v, true
		case fmt.Stringer: // uuid.UUID
			return v.String(), true
		}
		if rv := reflect.ValueOf(raw); rv.Kind() == reflect.String {
			return rv.String(), true
		}
	case kNumber:
		switch v := raw.(type) {
		case float64:
			return v, true
		case int64:
			return float64(v), true
		case int:
			return float64(v), true
		}
		rv := reflect.ValueOf(raw)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return float64(rv.Int()), true
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return float64(rv.Uint()), true
		case reflect.Float32, reflect.Float64:
			return rv.Float(), true
		}
	case kBool:
		if v, ok := raw.(bool); ok {
			return v, true
		}
	case kTime:
		switch v := raw.(type) {
		case time.Time:
			return v.Round(time.Microsecond), true
		case *time.Time:
			if v != nil {
				return v.Round(time.Microsecond), true
			}
		}
	case kArray:
		// present when the list has something in it
		if rv := reflect.ValueOf(raw); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && rv.Len() > 0 {
			return raw, true
		}
		return nil, false
	case kOrdinal:
		if s, ok := raw.(string); ok {
			i, ok := levelIndex(levels, s)
			return i, ok
		}
		rv := reflect.ValueOf(raw)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			i := rv.Int()
			if i >= 0 && i < int64(len(levels)) {
				return int(i), true
			}
		case reflect.String:
			i, ok := levelIndex(levels, rv.String())
			return i, ok
		}
	case kGeom:
		if g, ok := raw.(orb.Geometry); ok && g != nil {
			return g, true
		}
	}
	return nil, false
}

// spatialGeom is a geometry with, for a literal, its simplefeatures form
// made once.
type spatialGeom struct {
	geom orb.Geometry
	sf   *sfgeom.Geometry
	box  bool // an axis-aligned rectangle (a BBOX literal)
}

// isRectangle reports whether g is a polygon whose only ring runs around
// the corners of its bound.
func isRectangle(g orb.Geometry) bool {
	p, ok := g.(orb.Polygon)
	if !ok || len(p) != 1 || len(p[0]) != 5 || p[0][0] != p[0][4] {
		return false
	}
	b := p.Bound()
	if b.Min[0] == b.Max[0] || b.Min[1] == b.Max[1] {
		return false
	}
	r := p[0]
	for i := 0; i < 4; i++ {
		for _, q := range []orb.Point{r[i], r[i+1]} {
			if (q[0] != b.Min[0] && q[0] != b.Max[0]) || (q[1] != b.Min[1] && q[1] != b.Max[1]) {
				return false
			}
		}
		if (r[i][0] == r[i+1][0]) == (r[i][1] == r[i+1][1]) {
			return false // not moving along exactly one axis
		}
	}
	return true
}

// boundWithin reports whether a lies inside the closed box b.
func boundWithin(a, b orb.Bound) bool {
	return a.Min[0] >= b.Min[0] && a.Min[1] >= b.Min[1] && a.Max[0] <= b.Max[0] && a.Max[1] <= b.Max[1]
}

func toSF(g orb.Geometry) (sfgeom.Geometry, bool) {
	b, err := wkb.Marshal(g)
	if err != nil {
		return sfgeom.Geometry{}, false
	}
	sf, err := sfgeom.UnmarshalWKB(b, sfgeom.NoValidate{})
	return sf, err == nil
}

func spatialFn(t tSpatial) (evalFn, error) {
	side := func(o operand) (func(Getter) (spatialGeom, bool), error) {
		if o.prop == nil {
			g := literalGeometry(o)
			sf, ok := toSF(g)
			if !ok {
				return nil, semErr(o.pos, "geometry %s cannot be converted", o.text)
			}
			sg := spatialGeom{geom: g, sf: &sf, box: isRectangle(g)}
			return func(Getter) (spatialGeom, bool) { return sg, true }, nil
		}
		v := value(o)
		return func(g Getter) (spatialGeom, bool) {
			raw, ok := v(g)
			if !ok {
				return spatialGeom{}, false
			}
			return spatialGeom{geom: raw.(orb.Geometry)}, true
		}, nil
	}
	l, err := side(t.l)
	if err != nil {
		return nil, err
	}
	r, err := side(t.r)
	if err != nil {
		return nil, err
	}
	op := t.op
	return func(g Getter) truth {
		a, ok := l(g)
		if !ok {
			return tUnknown
		}
		b, ok := r(g)
		if !ok {
			return tUnknown
		}
		if op == SDisjoint {
			return truthOf(!relate(SIntersects, a, b))
		}
		return truthOf(relate(op, a, b))
	}, nil
}

// relate is the exact test of op (every op here implies that the
// geometries intersect), after a bounding-box test that rejects most
// records cheaply. A geometry that cannot be converted, or a relate that
// fails, counts as false.
func relate(op SpatialOp, a, b spatialGeom) bool {
	ab, bb := a.geom.Bound(), b.geom.Bound()
	if !ab.Intersects(bb) {
		return false
	}
	// Every point of a geometry whose bound lies in a closed rectangle is
	// in the rectangle: no exact test needed.
	if op == SIntersects && (a.box && boundWithin(bb, ab) || b.box && boundWithin(ab, bb)) {
		return true
	}
	sa, sb := a.sf, b.sf
	if sa == nil {
		g, ok := toSF(a.geom)
		if !ok {
			return false
		}
		sa = &g
	}
	if sb == nil {
		g, ok := toSF(b.geom)
		if !ok {
			return false
		}
		sb = &g
	}
	var ok bool
	var err error
	switch op {
	case SIntersects:
		return sfgeom.Intersects(*sa, *sb)
	case SWithin:
		ok, err = sfgeom.Within(*sa, *sb)
	case SContains:
		ok, err = sfgeom.Contains(*sa, *sb)
	case STouches:
		ok, err = sfgeom.Touches(*sa, *sb)
	case SCrosses:
		ok, err = sfgeom.Crosses(*sa, *sb)
	case SOverlaps:
		ok, err = sfgeom.Overlaps(*sa, *sb)
	case SEquals:
		ok, err = sfgeom.Equals(*sa, *sb)
	}
	return ok && err == nil
}
