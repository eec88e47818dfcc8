// Package ogcquery turns the query parameters of an OGC API - Features
// items request (Part 1 Core, Part 3 Filtering) into a typed Query, and
// that query into one CQL2 expression both backends evaluate alike
// (cql.ToSQL for PostGIS, cql.Compile for the in-memory index).
//
// Coordinates are WGS84 longitude/latitude (CRS84) unless bbox-crs or crs
// name another CRS, which is kept as given for the caller to transform.
package ogcquery

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// CRS84 is WGS84 longitude/latitude, the default CRS of OGC API - Features.
const CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

// Defaults for Options.
const (
	DefaultLimit     = 100
	DefaultMaxLimit  = 10_000
	DefaultMaxFilter = 16 << 10 // characters
	// MaxOffset is the largest offset accepted: far past any collection,
	// and small enough that offset+limit never overflows.
	MaxOffset = 1<<31 - 1
)

// Options tunes Parse.
type Options struct {
	DefaultLimit int      // 0: DefaultLimit
	MaxLimit     int      // 0: DefaultMaxLimit
	CRS          []string // CRS URIs accepted for crs and bbox-crs besides CRS84
	// DatetimeProperty is the time property the datetime parameter
	// filters (for components, "updated_at"); "" rejects datetime.
	DatetimeProperty string
	// Allow lists further parameters the caller handles itself; Parse
	// ignores them. "f" is always allowed.
	Allow     []string
	MaxFilter int // longest filter in characters; 0: DefaultMaxFilter
}

// Interval is a datetime parameter: an instant (Start == End) or an
// interval whose nil ends are open.
type Interval struct {
	Start, End *time.Time
	// DateOnly ends cover the whole UTC day they name.
	StartDate, EndDate bool
}

// Equality is a property=value parameter.
type Equality struct {
	Property string
	Value    string
}

// Query is a parsed items request.
type Query struct {
	BBox *orb.Bound // nil when absent; in BBoxCRS (CRS84 when "")
	// BBoxWrap is set for a CRS84 bbox across the antimeridian (its
	// minimum longitude above its maximum): BBox is then the part east of
	// the west edge, to 180, and BBoxWrap the part from -180 to the east
	// edge.
	BBoxWrap   *orb.Bound
	BBoxCRS    string // as given; "" when absent; IsCRS84 tells the CRS84 forms
	CRS        string // response CRS as given; "" when absent
	Limit      int
	Offset     int
	Datetime   *Interval     // nil when absent
	Properties []string      // nil: all properties; empty: none
	SortBy     []cql.SortKey // in order of precedence
	Filter     cql.Expr      // the filter parameter; nil when absent
	FilterCRS  string        // as given
	Equals     []Equality    // property=value parameters, by property name
	where      cql.Expr      // Filter AND Equals AND Datetime
}

// Where is the whole selection as one expression: the filter, the
// property=value parameters and the datetime interval, joined with AND;
// nil when the request has none of them. (bbox is separate: see BBox.)
func (q *Query) Where() cql.Expr { return q.where }

// SQL translates Where to a boolean SQL fragment with $n placeholders from
// firstParam, "TRUE" when there is nothing to filter.
func (q *Query) SQL(s cql.Schema, firstParam int) (string, []any, error) {
	if q.where == nil {
		return "TRUE", nil, nil
	}
	return cql.ToSQL(q.where, s, firstParam)
}

// Predicate compiles Where for the in-memory index; it accepts every
// record when there is nothing to filter.
func (q *Query) Predicate(s cql.Schema) (cql.Predicate, error) {
	if q.where == nil {
		return func(cql.Getter) bool { return true }, nil
	}
	return cql.Compile(q.where, s)
}

// standard lists the parameters of Part 1 and Part 3 that Parse reads.
func standard(name string) bool {
	switch name {
	case "f", "bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "properties", "sortby",
		"filter", "filter-lang", "filter-crs":
		return true
	}
	return false
}

func invalid(param, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &zone.Error{Code: zone.CodeInvalid, Message: param + ": " + msg,
		Details: []zone.Detail{{Index: -1, Pointer: param, Reason: msg}}}
}

// Parse reads an items request's query parameters. Every error is a
// zone.Error with CodeInvalid whose message starts with the parameter's
// name. Parameters that name a queryable property of s are equality
// filters (?kind=depot); other unknown parameters are errors, so that a
// misspelt parameter is not silently ignored.
func Parse(values url.Values, s cql.Schema, opt Options) (*Query, error) {
	if opt.DefaultLimit <= 0 {
		opt.DefaultLimit = DefaultLimit
	}
	if opt.MaxLimit <= 0 {
		opt.MaxLimit = DefaultMaxLimit
	}
	if opt.DefaultLimit > opt.MaxLimit {
		opt.DefaultLimit = opt.MaxLimit
	}
	if opt.MaxFilter <= 0 {
		opt.MaxFilter = DefaultMaxFilter
	}
	q := &Query{Limit: opt.DefaultLimit}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	get := func(name string) string { return strings.TrimSpace(values.Get(name)) }
	for _, name := range names {
		if n := len(values[name]); n > 1 {
			return nil, invalid(name, "given %d times; give it once", n)
		}
		if name == "" {
			return nil, invalid("query", "a parameter has no name (%q)", "="+values.Get(name))
		}
		if standard(name) || slices.Contains(opt.Allow, name) {
			continue
		}
		p, ok := s.Lookup(name)
		if !ok {
			return nil, invalid(name, "unknown parameter (parameters: bbox, bbox-crs, crs, datetime, filter, filter-crs, filter-lang, limit, offset, properties, sortby, f; queryable properties: %s)",
				strings.Join(s.Names(), ", "))
		}
		eq, err := equality(p, values.Get(name))
		if err != nil {
			return nil, err
		}
		q.Equals = append(q.Equals, Equality{Property: name, Value: values.Get(name)})
		q.where = and(q.where, eq)
	}
	var err error
	if v := get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 {
			return nil, invalid("limit", "must be a whole number from 1 to %d, got %q", opt.MaxLimit, v)
		}
		// Above the maximum, the maximum (OGC API - Features
		// /rec/core/fc-limit-response: not an error); the next link says
		// what was served.
		q.Limit = min(q.Limit, opt.MaxLimit)
	}
	if v := get("offset"); v != "" {
		if q.Offset, err = strconv.Atoi(v); err != nil || q.Offset < 0 || q.Offset > MaxOffset {
			return nil, invalid("offset", "must be a whole number from 0 to %d, got %q", MaxOffset, v)
		}
	}
	if q.CRS, err = crsParam("crs", get("crs"), opt); err != nil {
		return nil, err
	}
	if q.BBoxCRS, err = crsParam("bbox-crs", get("bbox-crs"), opt); err != nil {
		return nil, err
	}
	if v := get("bbox"); v != "" {
		if q.BBox, q.BBoxWrap, err = parseBBox(v, q.BBoxCRS == "" || IsCRS84(q.BBoxCRS)); err != nil {
			return nil, err
		}
	} else if q.BBoxCRS != "" {
		return nil, invalid("bbox-crs", "given without bbox")
	}
	if _, ok := values["properties"]; ok {
		if q.Properties, err = parseProperties(get("properties"), s); err != nil {
			return nil, err
		}
	}
	if v := get("sortby"); v != "" {
		if q.SortBy, err = parseSortBy(v, s); err != nil {
			return nil, err
		}
	}
	if v := get("datetime"); v != "" {
		if q.Datetime, err = parseDatetime(v); err != nil {
			return nil, err
		}
		e, err := datetimeExpr(q.Datetime, s, opt.DatetimeProperty)
		if err != nil {
			return nil, err
		}
		q.where = and(q.where, e)
	}
	legacy := false
	switch lang := get("filter-lang"); strings.ToLower(lang) {
	case "", "cql2-text":
	case "cql-text":
		legacy = true // GDAL up to 3.6: its literal forms are read (legacyForms)
	case "cql2-json":
		return nil, invalid("filter-lang", "cql2-json is not supported; use cql2-text")
	default:
		return nil, invalid("filter-lang", "%q is not supported; use cql2-text", lang)
	}
	if q.FilterCRS = get("filter-crs"); q.FilterCRS != "" && !IsCRS84(q.FilterCRS) {
		return nil, invalid("filter-crs", "%q is not supported; filters are in %s (longitude, latitude)", q.FilterCRS, CRS84)
	}
	if v := get("filter"); v != "" {
		if n := utf8.RuneCountInString(v); n > opt.MaxFilter {
			return nil, invalid("filter", "is %d characters long, more than the %d allowed", n, opt.MaxFilter)
		}
		e, err := cql.Parse(v)
		if err != nil {
			return nil, invalid("filter", "%s", zone.ErrorMessage(err))
		}
		if legacy {
			legacyForms(e, s)
		}
		if err := cql.Check(e, s); err != nil {
			return nil, invalid("filter", "%s", zone.ErrorMessage(err))
		}
		q.Filter = e
		q.where = and(e, q.where)
	}
	if q.where != nil {
		if err := cql.Check(q.where, s); err != nil {
			return nil, invalid("filter", "%s", zone.ErrorMessage(err))
		}
	}
	return q, nil
}

func and(a, b cql.Expr) cql.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &cql.Logical{Op: cql.OpAnd, Left: a, Right: b}
}

// IsCRS84 reports whether ref names CRS84 in any of the forms clients
// send: the OGC URI (http or https, any version), OGC:CRS84, the safe CURIE
// [OGC:CRS84], or the URN.
func IsCRS84(ref string) bool {
	ref = strings.TrimSpace(ref)
	if strings.HasPrefix(ref, "[") && strings.HasSuffix(ref, "]") {
		ref = ref[1 : len(ref)-1]
	}
	c, err := crs.Lookup(ref)
	return err == nil && c.Code == crs.CRS84().Code
}

// crsParam accepts CRS84 in any form (returned as given) and the URIs of
// Options.CRS exactly.
func crsParam(name, v string, opt Options) (string, error) {
	if v == "" || IsCRS84(v) || slices.Contains(opt.CRS, v) {
		return v, nil
	}
	return "", invalid(name, "unsupported CRS %q (supported: %s)", v, strings.Join(append([]string{CRS84}, opt.CRS...), ", "))
}

// parseBBox reads minx,miny,maxx,maxy or minx,miny,minz,maxx,maxy,maxz.
// In CRS84 the box must lie within longitude -180..180, latitude -90..90,
// and one whose minimum longitude is above its maximum crosses the
// antimeridian: it comes back as two boxes, b and wrap.
func parseBBox(v string, wgs84 bool) (b *orb.Bound, wrap *orb.Bound, err error) {
	parts := strings.Split(v, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return nil, nil, invalid("bbox", "needs 4 numbers (minx,miny,maxx,maxy) or 6 (with z), got %d", len(parts))
	}
	nums := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil, invalid("bbox", "value %d, %q, is not a number", i+1, strings.TrimSpace(p))
		}
		nums[i] = f
	}
	bb := orb.Bound{Min: orb.Point{nums[0], nums[1]}, Max: orb.Point{nums[2], nums[3]}}
	if len(nums) == 6 {
		bb = orb.Bound{Min: orb.Point{nums[0], nums[1]}, Max: orb.Point{nums[3], nums[4]}}
		if nums[2] > nums[5] {
			return nil, nil, invalid("bbox", "minimum z %g is greater than maximum z %g", nums[2], nums[5])
		}
	}
	if bb.Min[1] > bb.Max[1] {
		return nil, nil, invalid("bbox", "minimum y %g is greater than maximum y %g", bb.Min[1], bb.Max[1])
	}
	if wgs84 && (bb.Min[0] < -180 || bb.Max[0] > 180 || bb.Min[1] < -90 || bb.Max[1] > 90) {
		return nil, nil, invalid("bbox", "%q is outside longitude -180..180, latitude -90..90 (for another CRS give bbox-crs)", v)
	}
	if bb.Min[0] > bb.Max[0] {
		if !wgs84 {
			return nil, nil, invalid("bbox", "minimum x %g is greater than maximum x %g (only a box in CRS84 may cross the antimeridian)", bb.Min[0], bb.Max[0])
		}
		// Across the antimeridian (OGC API - Features /req/core/fc-bbox-
		// response): the part east of the west edge, to 180, and the
		// part from -180 to the east edge.
		east := orb.Bound{Min: bb.Min, Max: orb.Point{180, bb.Max[1]}}
		west := orb.Bound{Min: orb.Point{-180, bb.Min[1]}, Max: bb.Max}
		return &east, &west, nil
	}
	return &bb, nil, nil
}

func parseProperties(v string, s cql.Schema) ([]string, error) {
	out := []string{}
	if v == "" {
		return out, nil
	}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, invalid("properties", "empty name in %q", v)
		}
		if _, ok := s.Lookup(name); !ok {
			return nil, invalid("properties", "unknown property %q (known: %s)", name, strings.Join(s.Names(), ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// parseSortBy reads "+name,-updated_at". A '+' that reached us as a space
// (form decoding turns '+' into ' ') is read as ascending too.
func parseSortBy(v string, s cql.Schema) ([]cql.SortKey, error) {
	var keys []cql.SortKey
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		k := cql.SortKey{}
		switch {
		case strings.HasPrefix(item, "-"):
			k.Desc, item = true, item[1:]
		case strings.HasPrefix(item, "+"):
			item = item[1:]
		}
		k.Property = strings.TrimSpace(item)
		if k.Property == "" {
			return nil, invalid("sortby", "empty property name in %q", v)
		}
		p, ok := s.Lookup(k.Property)
		if !ok {
			return nil, invalid("sortby", "unknown property %q (known: %s)", k.Property, strings.Join(s.Names(), ", "))
		}
		if !cql.Sortable(p) {
			return nil, invalid("sortby", "cannot sort by %s: it is a %s", p.Name, p.Type)
		}
		for _, prev := range keys {
			if prev.Property == k.Property {
				return nil, invalid("sortby", "%s given twice", k.Property)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// parseTime reads an RFC 3339 date-time, or a full date (a whole UTC day).
func parseTime(v string) (t time.Time, dateOnly bool, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), false, true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true, true
	}
	return time.Time{}, false, false
}

// parseDatetime reads an instant, or an interval "start/end" whose open
// ends are ".." or empty, and either of whose ends may be an ISO 8601
// duration counted from the other (RFC 3339 intervals: "2026-12-03/P2D",
// "PT6H/2026-12-03T12:00:00Z").
func parseDatetime(v string) (*Interval, error) {
	bad := func(what string) error {
		return invalid("datetime", "%q is not %s (use an RFC 3339 time such as 2024-05-01T08:00:00Z, a date, or an interval start/end with .. for an open end and P2D-style durations)", v, what)
	}
	start, end, isInterval := strings.Cut(v, "/")
	if !isInterval {
		t, date, ok := parseTime(v)
		if !ok {
			return nil, bad("a time")
		}
		return &Interval{Start: &t, End: &t, StartDate: date, EndDate: date}, nil
	}
	if strings.Contains(end, "/") {
		return nil, bad("an interval")
	}
	start, end = strings.TrimSpace(start), strings.TrimSpace(end)
	iv := &Interval{}
	var startDur, endDur *duration
	if isDuration(start) {
		d, ok := parseDuration(start)
		if !ok {
			return nil, bad("an interval with a valid duration")
		}
		startDur = &d
	} else if start != "" && start != ".." {
		t, date, ok := parseTime(start)
		if !ok {
			return nil, bad("an interval with a valid start")
		}
		iv.Start, iv.StartDate = &t, date
	}
	if isDuration(end) {
		d, ok := parseDuration(end)
		if !ok {
			return nil, bad("an interval with a valid duration")
		}
		endDur = &d
	} else if end != "" && end != ".." {
		t, date, ok := parseTime(end)
		if !ok {
			return nil, bad("an interval with a valid end")
		}
		iv.End, iv.EndDate = &t, date
	}
	switch {
	case startDur != nil && endDur != nil, startDur != nil && iv.End == nil, endDur != nil && iv.Start == nil:
		return nil, bad("an interval (a duration needs a time at the other end)")
	case startDur != nil:
		t := startDur.before(*iv.End)
		iv.Start = &t
	case endDur != nil:
		t := endDur.after(*iv.Start)
		iv.End = &t
	}
	if iv.Start != nil && iv.End != nil && iv.Start.After(*iv.End) {
		return nil, invalid("datetime", "interval %q ends before it starts", v)
	}
	return iv, nil
}

// duration is an ISO 8601 duration: calendar years, months and days, and
// a clock part.
type duration struct {
	years, months, days int
	clock               time.Duration
}

func (d duration) after(t time.Time) time.Time {
	return t.AddDate(d.years, d.months, d.days).Add(d.clock)
}

func (d duration) before(t time.Time) time.Time {
	return t.Add(-d.clock).AddDate(-d.years, -d.months, -d.days)
}

func isDuration(s string) bool { return strings.HasPrefix(s, "P") || strings.HasPrefix(s, "p") }

// parseDuration reads PnYnMnWnDTnHnMnS (each part optional, at least one;
// seconds may have a fraction), as RFC 3339's appendix A gives it.
func parseDuration(s string) (duration, bool) {
	var d duration
	s = strings.ToUpper(s)[1:]
	date, clock, hasClock := strings.Cut(s, "T")
	if s == "" || (hasClock && clock == "") {
		return d, false
	}
	// number reads the leading digits of x and the unit after them.
	number := func(x string) (n float64, unit byte, rest string, ok bool) {
		i := 0
		for i < len(x) && (x[i] >= '0' && x[i] <= '9' || x[i] == '.') {
			i++
		}
		if i == 0 || i == len(x) || i > 9 {
			return 0, 0, "", false
		}
		n, err := strconv.ParseFloat(x[:i], 64)
		return n, x[i], x[i+1:], err == nil
	}
	const dateUnits, clockUnits = "YMWD", "HMS"
	next := 0 // units come in order, each at most once
	for date != "" {
		n, unit, rest, ok := number(date)
		k := strings.IndexByte(dateUnits, unit)
		if !ok || k < next || n != math.Trunc(n) {
			return d, false
		}
		next, date = k+1, rest
		switch unit {
		case 'Y':
			d.years = int(n)
		case 'M':
			d.months = int(n)
		case 'W':
			d.days += 7 * int(n)
		case 'D':
			d.days += int(n)
		}
	}
	next = 0
	for clock != "" {
		n, unit, rest, ok := number(clock)
		k := strings.IndexByte(clockUnits, unit)
		if !ok || k < next || (unit != 'S' && n != math.Trunc(n)) {
			return d, false
		}
		ns := n * float64([]time.Duration{time.Hour, time.Minute, time.Second}[k])
		if ns > 1<<61 {
			return d, false
		}
		next, clock = k+1, rest
		d.clock += time.Duration(ns)
	}
	return d, true
}

// datetimeExpr selects records whose time property lies in the interval,
// ends included; a date end covers its whole day.
func datetimeExpr(iv *Interval, s cql.Schema, prop string) (cql.Expr, error) {
	if prop == "" {
		return nil, invalid("datetime", "this collection has no time to filter by")
	}
	p, ok := s.Lookup(prop)
	if !ok || p.Type != cql.TypeTime {
		return nil, invalid("datetime", "this collection has no time to filter by")
	}
	ref := &cql.PropertyRef{Name: prop}
	var e cql.Expr
	if iv.Start != nil && iv.End != nil && iv.Start.Equal(*iv.End) && !iv.StartDate {
		return &cql.Comparison{Op: cql.OpEq, Left: ref, Right: &cql.TimeLit{Value: *iv.Start}}, nil
	}
	if iv.Start != nil {
		e = and(e, &cql.Comparison{Op: cql.OpGe, Left: ref, Right: &cql.TimeLit{Value: *iv.Start, Date: iv.StartDate}})
	}
	if iv.End != nil {
		if iv.EndDate {
			next := iv.End.AddDate(0, 0, 1)
			e = and(e, &cql.Comparison{Op: cql.OpLt, Left: ref, Right: &cql.TimeLit{Value: next, Date: true}})
		} else {
			e = and(e, &cql.Comparison{Op: cql.OpLe, Left: ref, Right: &cql.TimeLit{Value: *iv.End}})
		}
	}
	if e == nil {
		e = &cql.BoolConst{Value: true}
	}
	return e, nil
}

// equality turns ?name=value into name = value, typed by the property.
func equality(p cql.Property, raw string) (cql.Expr, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return nil, invalid(p.Name, "give a value")
	}
	var lit cql.Scalar
	switch {
	case len(p.Levels) > 0:
		found := false
		for _, l := range p.Levels {
			found = found || strings.EqualFold(l, v)
		}
		if !found {
			return nil, invalid(p.Name, "%q is not one of %s", v, strings.Join(p.Levels, ", "))
		}
		lit = &cql.StringLit{Value: v}
	case p.Type == cql.TypeString:
		lit = &cql.StringLit{Value: raw}
	case p.Type == cql.TypeNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, invalid(p.Name, "%q is not a number", v)
		}
		lit = &cql.NumberLit{Value: f}
	case p.Type == cql.TypeBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalid(p.Name, "%q is not true or false", v)
		}
		lit = &cql.BoolLit{Value: b}
	case p.Type == cql.TypeTime:
		t, date, ok := parseTime(v)
		if !ok {
			return nil, invalid(p.Name, "%q is not an RFC 3339 time", v)
		}
		if date {
			ref := &cql.PropertyRef{Name: p.Name}
			return and(&cql.Comparison{Op: cql.OpGe, Left: ref, Right: &cql.TimeLit{Value: t, Date: true}},
				&cql.Comparison{Op: cql.OpLt, Left: ref, Right: &cql.TimeLit{Value: t.AddDate(0, 0, 1), Date: true}}), nil
		}
		lit = &cql.TimeLit{Value: t.Round(time.Microsecond)}
	default:
		return nil, invalid(p.Name, "a %s cannot be matched by value; use bbox or filter=S_INTERSECTS(...)", p.Type)
	}
	return &cql.Comparison{Op: cql.OpEq, Left: &cql.PropertyRef{Name: p.Name}, Right: lit}, nil
}

// WithOffset returns a copy of values with offset set, for next and prev
// links; an offset of 0 is dropped.
func WithOffset(values url.Values, offset int) url.Values {
	out := make(url.Values, len(values)+1)
	for k, v := range values {
		out[k] = append([]string(nil), v...)
	}
	if offset <= 0 {
		out.Del("offset")
	} else {
		out.Set("offset", strconv.Itoa(offset))
	}
	return out
}
