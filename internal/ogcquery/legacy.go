package ogcquery

import (
	"strings"
	"time"

	"github.com/zoneplan/zoneplan/internal/cql"
)

// legacyForms rewrites, in place, the literals of a filter sent as
// filter-lang=cql-text (the pre-standard name GDAL up to 3.6 sends) into
// what CQL2 text means by them: GDAL writes a boolean as 1 or 0
// ("synthetic = 1") and a time as a plain string ("updated_at >
// '2020-01-01T'", "'2024-05-01T08:00:00'"). Only a literal compared with
// a property of that type changes; cql2-text stays strict.
func legacyForms(e cql.Expr, s cql.Schema) {
	fix := func(prop, lit cql.Scalar) cql.Scalar {
		p, ok := prop.(*cql.PropertyRef)
		if !ok {
			return lit
		}
		q, ok := s.Lookup(p.Name)
		if !ok {
			return lit
		}
		switch l := lit.(type) {
		case *cql.NumberLit:
			if q.Type == cql.TypeBool && (l.Value == 0 || l.Value == 1) {
				return &cql.BoolLit{At: l.At, Value: l.Value == 1}
			}
		case *cql.StringLit:
			if q.Type == cql.TypeTime {
				if t, date, ok := legacyTime(l.Value); ok {
					return &cql.TimeLit{At: l.At, Value: t, Date: date}
				}
			}
		}
		return lit
	}
	var walk func(e cql.Expr)
	walk = func(e cql.Expr) {
		switch e := e.(type) {
		case *cql.Logical:
			walk(e.Left)
			walk(e.Right)
		case *cql.Not:
			walk(e.X)
		case *cql.Comparison:
			e.Right = fix(e.Left, e.Right)
			e.Left = fix(e.Right, e.Left)
		case *cql.Between:
			e.Low, e.High = fix(e.X, e.Low), fix(e.X, e.High)
		case *cql.In:
			for i := range e.List {
				e.List[i] = fix(e.X, e.List[i])
			}
		}
	}
	walk(e)
}

// legacyTime reads the time strings GDAL writes: RFC 3339, a date, a date
// followed by a bare "T", or a date and time without a zone (UTC).
func legacyTime(v string) (time.Time, bool, bool) {
	v = strings.TrimSpace(v)
	if t, date, ok := parseTime(strings.TrimSuffix(v, "T")); ok {
		return t, date, true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006/01/02 15:04:05", "2006/01/02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), layout == "2006/01/02", true
		}
	}
	return time.Time{}, false, false
}
