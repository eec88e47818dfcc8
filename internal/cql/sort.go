package cql

import (
	"strings"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// SortKey orders results by one property.
type SortKey struct {
	Property string
	Desc     bool
}

// Sortable reports whether a property can order results: every type but
// geometry.
func Sortable(p Property) bool { return p.Type != TypeGeometry }

func sortProperty(s Schema, k SortKey) (operand, error) {
	p, ok := s.Lookup(k.Property)
	if !ok {
		return operand{}, zone.Errorf(zone.CodeInvalid, "unknown property %q (known: %s)", k.Property, strings.Join(s.Names(), ", "))
	}
	if !Sortable(p) {
		return operand{}, zone.Errorf(zone.CodeInvalid, "cannot sort by %s: it is a %s", p.Name, p.Type)
	}
	o, err := resolveScalar(s, &PropertyRef{Name: k.Property})
	return o, err
}

// OrderBySQL renders keys as the list of an SQL ORDER BY clause (without
// the keywords), using the schema's expressions. Strings sort by code
// point (COLLATE "C"), levels by their index; NULLs come last ascending and
// first descending, PostgreSQL's default, as Comparator does. Callers add
// a unique tiebreaker (the id) for stable paging.
func OrderBySQL(s Schema, keys []SortKey) (string, error) {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		o, err := sortProperty(s, k)
		if err != nil {
			return "", err
		}
		w := &sqlWriter{}
		if err := w.operand(o); err != nil {
			return "", err
		}
		part := w.b.String()
		if o.kind == kString {
			part += ` COLLATE "C"`
		}
		if k.Desc {
			part += " DESC"
		} else {
			part += " ASC"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", "), nil
}

// Comparator returns a function ordering two records as OrderBySQL does:
// negative when a sorts before b, 0 when the keys tie.
func Comparator(s Schema, keys []SortKey) (func(a, b Getter) int, error) {
	type key struct {
		v    valueFn
		k    kind
		desc bool
	}
	ks := make([]key, 0, len(keys))
	for _, k := range keys {
		o, err := sortProperty(s, k)
		if err != nil {
			return nil, err
		}
		ks = append(ks, key{v: value(o), k: o.kind, desc: k.Desc})
	}
	return func(a, b Getter) int {
		for _, k := range ks {
			x, xok := k.v(a)
			y, yok := k.v(b)
			var c int
			switch {
			case !xok && !yok:
				c = 0
			case !xok: // NULL is larger than any value
				c = 1
			case !yok:
				c = -1
			default:
				c = compareValues(k.k, x, y)
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}, nil
}
