package cql

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/paulmach/orb/encoding/wkb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// ToSQL translates e into a boolean SQL fragment for PostgreSQL/PostGIS.
// The fragment contains only the schema's fixed SQL expressions, operators,
// and $n placeholders numbered from firstParam; every literal (including
// LIKE patterns and geometries, as WKB in SRID 4326) is returned in args.
//
// Semantics match Compile: SQL three-valued logic (a comparison with NULL
// is unknown, and NOT unknown is unknown, so the row is not selected);
// strings are ordered by code point (COLLATE "C"); LIKE is case-sensitive
// unless CASEI is used; S_INTERSECTS is ST_Intersects, so touching counts.
func ToSQL(e Expr, s Schema, firstParam int) (sql string, args []any, err error) {
	t, err := resolve(e, s)
	if err != nil {
		return "", nil, err
	}
	w := &sqlWriter{next: firstParam}
	if err := w.expr(t); err != nil {
		return "", nil, err
	}
	return w.b.String(), w.args, nil
}

type sqlWriter struct {
	b    strings.Builder
	args []any
	next int
}

func (w *sqlWriter) param(v any, cast string) {
	w.args = append(w.args, v)
	w.b.WriteString("$" + strconv.Itoa(w.next) + cast)
	w.next++
}

func postgisFunction(op SpatialOp) string {
	switch op {
	case SWithin:
		return "ST_Within"
	case SContains:
		return "ST_Contains"
	case STouches:
		return "ST_Touches"
	case SCrosses:
		return "ST_Crosses"
	case SOverlaps:
		return "ST_Overlaps"
	case SEquals:
		return "ST_Equals"
	}
	return "ST_Intersects" // S_INTERSECTS, and S_DISJOINT under NOT
}

var simpleSQL = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.("[^"]+"|[A-Za-z_][A-Za-z0-9_]*))?$`)

func (w *sqlWriter) operand(o operand) error {
	// ACCENTI folds first, then CASEI lowers, in both backends.
	if o.lower {
		w.b.WriteString("lower(")
		defer w.b.WriteString(")")
	}
	if o.fold {
		w.b.WriteString("translate(")
		defer func() {
			w.b.WriteString(", ")
			w.param(accentFrom, "::text")
			w.b.WriteString(", ")
			w.param(accentTo, "::text")
			w.b.WriteString(")")
		}()
	}
	if o.prop != nil {
		if simpleSQL.MatchString(o.prop.SQL) {
			w.b.WriteString(o.prop.SQL)
		} else {
			w.b.WriteString("(" + o.prop.SQL + ")")
		}
		return nil
	}
	switch o.kind {
	case kString:
		w.param(o.lit, "::text")
	case kNumber:
		w.param(o.lit, "::float8")
	case kBool:
		w.param(o.lit, "::boolean")
	case kTime:
		w.param(o.lit, "::timestamptz")
	case kOrdinal:
		w.param(o.lit, "::int")
	case kGeom:
		b, err := wkb.Marshal(literalGeometry(o))
		if err != nil {
			return zone.Errorf(zone.CodeInvalid, "cql2: at position %d: geometry cannot be encoded: %v", o.pos, err)
		}
		w.b.WriteString("ST_GeomFromWKB(")
		w.param(b, "")
		w.b.WriteString(", 4326)")
	}
	return nil
}

// compare writes l op r; strings compare by code point, as Go does.
func (w *sqlWriter) compare(l operand, op CompareOp, r operand) error {
	w.b.WriteString("(")
	if err := w.operand(l); err != nil {
		return err
	}
	w.b.WriteString(" " + string(op) + " ")
	if err := w.operand(r); err != nil {
		return err
	}
	if l.kind == kString && op != OpEq && op != OpNe {
		w.b.WriteString(` COLLATE "C"`)
	}
	w.b.WriteString(")")
	return nil
}

func (w *sqlWriter) expr(t tExpr) error {
	switch t := t.(type) {
	case tConst:
		w.b.WriteString(strings.ToUpper(strconv.FormatBool(t.v)))
	case tLogical:
		op := " OR "
		if t.and {
			op = " AND "
		}
		w.b.WriteString("(")
		if err := w.expr(t.l); err != nil {
			return err
		}
		w.b.WriteString(op)
		if err := w.expr(t.r); err != nil {
			return err
		}
		w.b.WriteString(")")
	case tNot:
		w.b.WriteString("(NOT ")
		if err := w.expr(t.x); err != nil {
			return err
		}
		w.b.WriteString(")")
	case tCompare:
		return w.compare(t.l, t.op, t.r)
	case tLike:
		w.b.WriteString("(")
		if err := w.operand(t.x); err != nil {
			return err
		}
		if t.negated {
			w.b.WriteString(" NOT")
		}
		// Backslash is PostgreSQL's default LIKE escape, as in CQL2.
		w.b.WriteString(" LIKE ")
		if err := w.operand(t.pat); err != nil {
			return err
		}
		w.b.WriteString(")")
	case tIn:
		w.b.WriteString("(")
		if err := w.operand(t.x); err != nil {
			return err
		}
		if t.negated {
			w.b.WriteString(" NOT")
		}
		w.b.WriteString(" IN (")
		for i, o := range t.list {
			if i > 0 {
				w.b.WriteString(", ")
			}
			if err := w.operand(o); err != nil {
				return err
			}
		}
		w.b.WriteString("))")
	case tBetween:
		if t.negated {
			w.b.WriteString("(NOT ")
		}
		w.b.WriteString("(")
		if err := w.compare(t.x, OpGe, t.lo); err != nil {
			return err
		}
		w.b.WriteString(" AND ")
		if err := w.compare(t.x, OpLe, t.hi); err != nil {
			return err
		}
		w.b.WriteString(")")
		if t.negated {
			w.b.WriteString(")")
		}
	case tIsNull:
		w.b.WriteString("(")
		if err := w.operand(t.x); err != nil {
			return err
		}
		if t.negated {
			w.b.WriteString(" IS NOT NULL)")
		} else {
			w.b.WriteString(" IS NULL)")
		}
	case tSpatial:
		// NOT ST_Intersects rather than ST_Disjoint, which no index serves.
		if t.op == SDisjoint {
			w.b.WriteString("(NOT ")
		}
		w.b.WriteString(postgisFunction(t.op) + "(")
		if err := w.operand(t.l); err != nil {
			return err
		}
		w.b.WriteString(", ")
		if err := w.operand(t.r); err != nil {
			return err
		}
		w.b.WriteString(")")
		if t.op == SDisjoint {
			w.b.WriteString(")")
		}
	}
	return nil
}
