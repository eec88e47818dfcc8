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
// geometry and lists.
func Sortable(p Property) bool { return p.Type != TypeGeometry && p.Type != TypeArray }

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

// Sorter orders records as OrderBySQL does. Keys extracts a record's
// normalised sort keys once, so that sorting n records reads each record
// n times, not n log n times; Compare orders two key lists.
type Sorter struct {
	keys []sorterKey
}

type sorterKey struct {
	v    valueFn
	k    kind
	desc bool
}

// NewSorter checks keys against s (known, sortable properties).
func NewSorter(s Schema, keys []SortKey) (*Sorter, error) {
	so := &Sorter{keys: make([]sorterKey, 0, len(keys))}
	for _, k := range keys {
		o, err := sortProperty(s, k)
		if err != nil {
			return nil, err
		}
		so.keys = append(so.keys, sorterKey{v: value(o), k: o.kind, desc: k.Desc})
	}
	return so, nil
}

// Keys returns the record's sort keys, nil for a NULL.
func (so *Sorter) Keys(get Getter) []any {
	out := make([]any, len(so.keys))
	for i, k := range so.keys {
		if v, ok := k.v(get); ok {
			out[i] = v
		}
	}
	return out
}

// Compare orders two key lists from Keys: negative when a sorts first, 0
// when they tie. NULLs come last ascending and first descending.
func (so *Sorter) Compare(a, b []any) int {
	for i, k := range so.keys {
		if c := compareKey(k, a[i], a[i] != nil, b[i], b[i] != nil); c != 0 {
			return c
		}
	}
	return 0
}

// compareKey orders two values of one key; a NULL (ok false) is larger
// than any value, as in PostgreSQL.
func compareKey(k sorterKey, x any, xok bool, y any, yok bool) int {
	var c int
	switch {
	case !xok && !yok:
		c = 0
	case !xok:
		c = 1
	case !yok:
		c = -1
	default:
		c = compareValues(k.k, x, y)
	}
	if k.desc {
		c = -c
	}
	return c
}

// Comparator returns a function ordering two records as OrderBySQL does:
// negative when a sorts before b, 0 when the keys tie. It reads both
// records on every call; for large sorts use a Sorter's Keys once per
// record.
func Comparator(s Schema, keys []SortKey) (func(a, b Getter) int, error) {
	so, err := NewSorter(s, keys)
	if err != nil {
		return nil, err
	}
	return func(a, b Getter) int {
		for _, k := range so.keys {
			x, xok := k.v(a)
			y, yok := k.v(b)
			if c := compareKey(k, x, xok, y, yok); c != 0 {
				return c
			}
		}
		return 0
	}, nil
}
