package report

import (
	"context"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Scene is the map extract: every geometry projected to the footprint's
// VN-2000 TM-3 zone (x easting, y northing, metres) and clipped to the
// frame, so grid ticks fall on round coordinates and the scale bar is in
// metres (the zone's scale error, under 0.02%, is far below a bar's
// width). It is drawn by the same code into SVG (HTML) and PDF.
type Scene struct {
	Frame   orb.Bound // projected metres
	tm3     *crs.CRS
	land    []shape // the base map
	labels  []label
	items   []shape // the reader's features, drawn in order
	fp      []shape // the footprint and its overlaps
	north   float64 // true north, radians clockwise from grid north
	legend  []legendEntry
	gridM   float64
	lang    Lang
	noWorks bool
}

type shape struct {
	g     orb.Geometry
	st    style
	point bool
}

type style struct {
	stroke, fill string
	width        float64 // mm
	dash         []float64
	opacity      float64 // of the fill; 0: opaque
}

type label struct {
	at   orb.Point
	text string
}

type legendEntry struct {
	st   style
	text string
	line bool
}

// The map's size in millimetres: the text width of an A4 page with the
// margins of Decree 30/2020 (30 mm left, 15 mm right) and a legend strip.
const (
	mapWmm, mapHmm = 165.0, 112.0
	legendHmm      = 11.0
)

var (
	styleFootprint = style{stroke: "#e65100", fill: "#ffd54f", width: 0.6, opacity: 0.55}
	styleOverlap   = style{stroke: "#b71c1c", fill: "#e53935", width: 0.35, opacity: 0.7}
	styleZone      = style{stroke: "#6a1b9a", width: 0.35, dash: []float64{1.5, 0.8}}
	styleVietnam   = style{stroke: "#bdb79f", fill: "#f6f1dc", width: 0.2}
	styleNeighbour = style{stroke: "#bdbdbd", fill: "#e4e4e4", width: 0.2}
	styleBaseLine  = style{stroke: "#90a4ae", width: 0.25}
	waterColour    = "#dcebf5"
)

// newScene frames the footprint and its overlaps with room around them
// and gathers what the map draws.
func newScene(ctx context.Context, d Data, tm3 *crs.CRS) *Scene {
	s := &Scene{tm3: tm3, lang: d.Lang}
	proj := func(g orb.Geometry) orb.Geometry {
		out, err := crs.TransformFromWGS84(g, tm3)
		if err != nil {
			return nil
		}
		return out
	}
	fp := proj(d.Site.Geometry)
	if fp == nil {
		fp = orb.Point{}
	}
	s.Frame, s.gridM = frame(d, tm3)
	c := s.Frame.Center()
	var overlaps []orb.Geometry
	for _, f := range d.Result.Findings {
		if f.Overlap != nil && f.Overlap.Geometry() != nil {
			if g := proj(f.Overlap.Geometry()); g != nil {
				overlaps = append(overlaps, g)
			}
		}
	}

	// True north: the direction of a point a little north of the centre.
	if cw, err := tm3.ToWGS84(c); err == nil {
		if n, err := tm3.FromWGS84(orb.Point{cw[0], cw[1] + 0.01}); err == nil {
			s.north = math.Atan2(n[0]-c[0], n[1]-c[1])
		}
	}

	// The WGS84 box of the frame (with a margin), to cut large base-map
	// shapes before projecting them.
	wb, err := crs.TransformBoundToWGS84(s.Frame, tm3)
	if err == nil {
		wb = wb.Pad(0.01)
	}
	// What is drawn is thinned to the map's resolution: a vertex closer
	// than resTol to the one before it cannot be seen.
	resTol := (s.Frame.Max[0] - s.Frame.Min[0]) / mapWmm * resolutionMM
	cut := func(g orb.Geometry) orb.Geometry {
		// A report stopped (its reader gone) draws no more.
		if err != nil || g == nil || ctx.Err() != nil || !g.Bound().Intersects(wb) {
			return nil
		}
		// orb's clip works in place: clip a copy, never the caller's
		// geometry (the index's components, the shared base map).
		g = clip.Geometry(wb, orb.Clone(g))
		if g == nil {
			return nil
		}
		g = proj(g)
		if g == nil {
			return nil
		}
		return thin(clip.Geometry(s.Frame, g), resTol)
	}
	for _, fc := range d.Basemap {
		for _, f := range fc.Features {
			g := cut(f.Geometry)
			if g == nil || isEmpty(g) {
				continue
			}
			name := f.Properties.MustString(string(d.Lang.pick("name", "name_en")), f.Properties.MustString("name", ""))
			switch zone.ClassOf(g) {
			case zone.GeomPolygon:
				st := styleNeighbour
				if f.Properties.MustString("role", "") == "vietnam" || f.Properties.MustString("iso_a2", "") == "VN" {
					st = styleVietnam
				}
				s.land = append(s.land, shape{g: g, st: st})
			case zone.GeomLine:
				s.land = append(s.land, shape{g: g, st: styleBaseLine})
			case zone.GeomPoint:
				if name != "" {
					s.labels = append(s.labels, label{at: firstPoint(g), text: name})
				}
			}
		}
	}

	// The reader's features: zones under the works.
	var zones bool
	var layers []string                          // of the works drawn, in the registry's order
	feats := append([]MapFeature(nil), d.Map...) // sorted here, not in the caller's slice
	sort.SliceStable(feats, func(i, j int) bool { return rank(feats[i]) < rank(feats[j]) })
	for _, f := range feats {
		g := cut(f.Geometry)
		if g == nil || isEmpty(g) {
			continue
		}
		switch {
		case f.Zone != "":
			s.items = append(s.items, shape{g: g, st: styleZone})
			zones = true
		default:
			st := layerStyle(f.Layer)
			s.items = append(s.items, shape{g: g, st: st, point: zone.ClassOf(g) == zone.GeomPoint})
			if !contains(layers, f.Layer) {
				layers = append(layers, f.Layer)
			}
		}
	}
	s.fp = append(s.fp, shape{g: thin(clip.Geometry(s.Frame, fp), resTol), st: styleFootprint, point: zone.ClassOf(fp) == zone.GeomPoint})
	if zone.ClassOf(fp) == zone.GeomLine {
		s.fp[0].st.width = 1.2
	}
	for _, g := range overlaps {
		if g = thin(clip.Geometry(s.Frame, g), resTol); g != nil {
			s.fp = append(s.fp, shape{g: g, st: styleOverlap})
		}
	}

	w2 := vocabulary[d.Lang]
	s.legend = append(s.legend, legendEntry{st: styleFootprint, text: w2.LegendFootprint})
	if len(overlaps) > 0 {
		s.legend = append(s.legend, legendEntry{st: styleOverlap, text: w2.LegendOverlap})
	}
	for _, l := range zone.Layers() {
		if !contains(layers, l.ID) {
			continue
		}
		line := len(l.Geometries) == 1 && l.Geometries[0] == zone.GeomLine
		s.legend = append(s.legend, legendEntry{st: layerStyle(l.ID), text: d.Lang.pick(l.TitleVI, l.TitleEN), line: line})
	}
	if zones {
		s.legend = append(s.legend, legendEntry{st: styleZone, text: w2.LegendZones})
	}
	return s
}

// frame is the map's frame in the TM-3 zone (metres) and its grid step:
// the footprint and its overlaps with a third of their size around them,
// at least 400 m and at most maxMapPadM, in the map's proportions. The
// margin is capped so that a vast footprint does not pull a province's
// worth of works into the map: beyond a few kilometres a report's
// surroundings tell its reader nothing about the project.
const maxMapPadM = 5000

func frame(d Data, tm3 *crs.CRS) (orb.Bound, float64) {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	add := func(g orb.Geometry) {
		if g == nil {
			return
		}
		if p, err := crs.TransformFromWGS84(g, tm3); err == nil {
			b = b.Union(p.Bound())
		}
	}
	add(d.Site.Geometry)
	for _, f := range d.Result.Findings {
		if f.Overlap != nil {
			add(f.Overlap.Geometry())
		}
	}
	if math.IsInf(b.Min[0], 0) {
		b = orb.Bound{}
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	pad := math.Min(maxMapPadM, math.Max(400, math.Max(w, h)/3))
	w, h = w+2*pad, h+2*pad
	if ratio := mapWmm / (mapHmm - legendHmm); w/h < ratio {
		w = h * ratio
	} else {
		h = w / ratio
	}
	c := b.Center()
	return orb.Bound{Min: orb.Point{c[0] - w/2, c[1] - h/2}, Max: orb.Point{c[0] + w/2, c[1] + h/2}}, niceStep(w / 5)
}

// MapExtent is the WGS84 box the map extract of d shows: what to search
// for the features it may draw (Data.Map).
func MapExtent(d Data) (orb.Bound, error) {
	if d.Site == nil || d.Site.Geometry == nil {
		return orb.Bound{}, zone.Errorf(zone.CodeInternal, "report: the appraisal's site has no footprint")
	}
	_, tm3 := crs.NearestProvince(centroid(d.Site.Geometry))
	f, _ := frame(d, tm3)
	return crs.TransformBoundToWGS84(f, tm3)
}

// rank orders the features: zones, polygons, lines, then the rest.
func rank(f MapFeature) int {
	switch {
	case f.Zone != "":
		return 1
	case zone.ClassOf(f.Geometry) == zone.GeomPolygon:
		return 2
	case zone.ClassOf(f.Geometry) == zone.GeomLine:
		return 3
	}
	return 4
}

// layerStyle is a layer's symbology (zone.Layer.Style) in millimetres.
func layerStyle(layer string) style {
	l, ok := zone.LookupLayer(layer)
	if !ok {
		return style{stroke: "#455a64", fill: "#b0bec5", width: 0.3}
	}
	st := style{stroke: l.Style.Color, fill: l.Style.FillColor, width: math.Max(0.25, l.Style.Weight*0.2), opacity: 0.6}
	for _, part := range strings.Fields(l.Style.Dash) {
		var v float64
		if _, err := fmt.Sscan(part, &v); err == nil {
			st.dash = append(st.dash, v*0.35)
		}
	}
	return st
}

// canvas is what a scene draws on: millimetres from the map's top left,
// y down.
type canvas interface {
	rect(x, y, w, h float64, st style)
	path(rings [][][2]float64, closed bool, st style)
	circle(x, y, r float64, st style)
	text(x, y float64, s string, sizePt float64, anchor int, bold bool, colour string)
}

// Anchors of canvas text.
const (
	anchorLeft = iota
	anchorCentre
	anchorRight
)

// draw draws the scene on c: the map, then the legend strip below it. It
// stops with ctx's error, part drawn, when ctx ends.
func (s *Scene) draw(ctx context.Context, c canvas) error {
	w := vocabulary[s.lang]
	mapH := mapHmm - legendHmm
	k := mapWmm / (s.Frame.Max[0] - s.Frame.Min[0]) // mm per metre
	xy := func(p orb.Point) [2]float64 {
		return [2]float64{(p[0] - s.Frame.Min[0]) * k, (s.Frame.Max[1] - p[1]) * k}
	}
	c.rect(0, 0, mapWmm, mapH, style{fill: waterColour})
	// Shapes in the order drawn: the base map, the reader's features, the
	// footprint, point symbols over it.
	var shapes []shape
	shapes = append(shapes, s.land...)
	for _, sh := range s.items {
		if !sh.point {
			shapes = append(shapes, sh)
		}
	}
	shapes = append(shapes, s.fp...)
	for _, sh := range s.items {
		if sh.point {
			shapes = append(shapes, sh)
		}
	}
	for _, sh := range shapes {
		if err := ctx.Err(); err != nil {
			return err
		}
		drawShape(c, sh, xy)
	}
	for _, lb := range s.labels {
		p := xy(lb.at)
		c.circle(p[0], p[1], 0.6, style{fill: "#37474f"})
		c.text(p[0]+1.2, p[1]-0.8, lb.text, 7, anchorLeft, false, "#37474f")
	}

	// Grid: ticks on the frame and crosses inside at round coordinates.
	grey := style{stroke: "#263238", width: 0.2}
	for e := math.Ceil(s.Frame.Min[0]/s.gridM) * s.gridM; e <= s.Frame.Max[0]; e += s.gridM {
		x := (e - s.Frame.Min[0]) * k
		c.path([][][2]float64{{{x, 0}, {x, 2}}, {{x, mapH - 2}, {x, mapH}}}, false, grey)
		c.text(x+0.8, mapH-2.6, s.lang.plain(e, 0), 6, anchorLeft, false, "#263238")
	}
	for n := math.Ceil(s.Frame.Min[1]/s.gridM) * s.gridM; n <= s.Frame.Max[1]; n += s.gridM {
		y := (s.Frame.Max[1] - n) * k
		c.path([][][2]float64{{{0, y}, {2, y}}, {{mapWmm - 2, y}, {mapWmm, y}}}, false, grey)
		c.text(3, y-0.8, s.lang.plain(n, 0), 6, anchorLeft, false, "#263238")
		for e := math.Ceil(s.Frame.Min[0]/s.gridM) * s.gridM; e <= s.Frame.Max[0]; e += s.gridM {
			x := (e - s.Frame.Min[0]) * k
			c.path([][][2]float64{{{x - 1.2, y}, {x + 1.2, y}}, {{x, y - 1.2}, {x, y + 1.2}}}, false, grey)
		}
	}
	c.rect(2.5, 1.8, 30, 4, style{fill: "#ffffff", opacity: 0.85})
	c.text(3.5, 4.8, w.Grid+" (X, Y)", 6.5, anchorLeft, false, "#263238")

	// North arrow, top right: true north, with its letter.
	ax, ay, r := mapWmm-9.0, 11.0, 6.0
	sin, cos := math.Sin(s.north), math.Cos(s.north)
	rot := func(dx, dy float64) [2]float64 { // dy up
		return [2]float64{ax + dx*cos + dy*sin, ay - (dy*cos - dx*sin)}
	}
	c.circle(ax, ay, r+1.5, style{fill: "#ffffff", stroke: "#263238", width: 0.2, opacity: 0.85})
	c.path([][][2]float64{{rot(0, r), rot(-2.2, -r*0.6), rot(0, -r*0.2)}}, true, style{fill: "#263238", stroke: "#263238", width: 0.2})
	c.path([][][2]float64{{rot(0, r), rot(2.2, -r*0.6), rot(0, -r*0.2)}}, true, style{fill: "#ffffff", stroke: "#263238", width: 0.2})
	lp := rot(0, r+3.6)
	c.text(lp[0], lp[1]+1.2, w.North, 8, anchorCentre, true, "#263238")

	// Scale bar, bottom left: four segments of a round length.
	total := niceStep((s.Frame.Max[0] - s.Frame.Min[0]) / 4)
	seg := total / 4 * k
	x0, y0 := 5.0, mapH-9.0
	c.rect(x0-2, y0-5, 4*seg+14, 9, style{fill: "#ffffff", opacity: 0.85})
	for i := 0; i < 4; i++ {
		fill := "#263238"
		if i%2 == 1 {
			fill = "#ffffff"
		}
		c.rect(x0+float64(i)*seg, y0, seg, 1.4, style{fill: fill, stroke: "#263238", width: 0.15})
	}
	c.text(x0, y0-1, "0", 6.5, anchorCentre, false, "#263238")
	c.text(x0+4*seg, y0-1, s.lang.number(total, 0)+" m", 6.5, anchorCentre, false, "#263238")
	c.rect(0, 0, mapWmm, mapH, style{stroke: "#263238", width: 0.35})

	// Legend strip.
	x, y := 0.0, mapH+4.0
	for _, e := range s.legend {
		if width := 7.5 + float64(len([]rune(e.text)))*1.45; x > 0 && x+width > mapWmm {
			x, y = 0, y+5
		}
		if e.line {
			c.path([][][2]float64{{{x, y}, {x + 6, y}}}, false, e.st)
		} else {
			c.rect(x, y-1.6, 6, 3.2, e.st)
		}
		c.text(x+7.5, y+1, e.text, 7.5, anchorLeft, false, "#111111")
		x += 7.5 + float64(len([]rune(e.text)))*1.45 + 6
	}
	return nil
}

func drawShape(c canvas, sh shape, xy func(orb.Point) [2]float64) {
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			p := xy(g)
			r := 1.6
			if sh.point {
				c.circle(p[0], p[1], r, style{stroke: sh.st.stroke, fill: or(sh.st.fill, "#ffffff"), width: sh.st.width})
			}
		case orb.MultiPoint:
			for _, p := range g {
				walk(p)
			}
		case orb.LineString:
			c.path([][][2]float64{points(g, xy)}, false, sh.st)
		case orb.MultiLineString:
			for _, l := range g {
				walk(l)
			}
		case orb.Polygon:
			rings := make([][][2]float64, 0, len(g))
			for _, r := range g {
				rings = append(rings, points(r, xy))
			}
			c.path(rings, true, sh.st)
		case orb.MultiPolygon:
			for _, p := range g {
				walk(p)
			}
		case orb.Collection:
			for _, x := range g {
				walk(x)
			}
		case orb.Bound:
			walk(g.ToPolygon())
		case orb.Ring:
			walk(orb.Polygon{g})
		}
	}
	if sh.g != nil {
		walk(sh.g)
	}
}

func points(ps []orb.Point, xy func(orb.Point) [2]float64) [][2]float64 {
	out := make([][2]float64, len(ps))
	for i, p := range ps {
		out[i] = xy(p)
	}
	return out
}

func firstPoint(g orb.Geometry) orb.Point {
	switch g := g.(type) {
	case orb.Point:
		return g
	case orb.MultiPoint:
		if len(g) > 0 {
			return g[0]
		}
	}
	return g.Bound().Center()
}

func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.MultiPolygon:
		return len(g) == 0
	case orb.Polygon:
		return len(g) == 0
	case orb.MultiLineString:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiPoint:
		return len(g) == 0
	case orb.Collection:
		return len(g) == 0
	}
	return false
}

// niceStep rounds m down to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(m float64) float64 {
	if m <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{5, 2.5, 2, 1} {
		if f*p <= m {
			return f * p
		}
	}
	return p
}

// SVG writes the scene as an inline SVG element, millimetres as units, or
// nothing when ctx ends first.
func (s *Scene) SVG(ctx context.Context, w io.Writer, doc *Document) error {
	c := &svgCanvas{}
	if err := s.draw(ctx, c); err != nil {
		return err
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%gmm" height="%gmm" role="img" aria-label="%s">`,
		mapWmm, mapHmm, mapWmm, mapHmm, escape(doc.W.Map))
	fmt.Fprintf(w, `<defs><clipPath id="frame"><rect width="%g" height="%g"/></clipPath></defs>`, mapWmm, mapHmm-legendHmm)
	io.WriteString(w, c.b.String())
	io.WriteString(w, `</svg>`)
	return nil
}

type svgCanvas struct{ b strings.Builder }

func (c *svgCanvas) paint(st style) string {
	var b strings.Builder
	if st.fill != "" {
		fmt.Fprintf(&b, ` fill="%s"`, st.fill)
		if st.opacity > 0 {
			fmt.Fprintf(&b, ` fill-opacity="%g"`, st.opacity)
		}
	} else {
		b.WriteString(` fill="none"`)
	}
	if st.stroke != "" {
		fmt.Fprintf(&b, ` stroke="%s" stroke-width="%g"`, st.stroke, st.width)
		if len(st.dash) > 0 {
			parts := make([]string, len(st.dash))
			for i, d := range st.dash {
				parts[i] = fmt.Sprintf("%g", d)
			}
			fmt.Fprintf(&b, ` stroke-dasharray="%s"`, strings.Join(parts, " "))
		}
	}
	return b.String()
}

func (c *svgCanvas) rect(x, y, w, h float64, st style) {
	fmt.Fprintf(&c.b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f"%s/>`, x, y, w, h, c.paint(st))
}

func (c *svgCanvas) path(rings [][][2]float64, closed bool, st style) {
	var d strings.Builder
	for _, r := range rings {
		for i, p := range r {
			if i == 0 {
				fmt.Fprintf(&d, "M%.2f %.2f", p[0], p[1])
			} else {
				fmt.Fprintf(&d, "L%.2f %.2f", p[0], p[1])
			}
		}
		if closed {
			d.WriteString("Z")
		}
	}
	if !closed {
		st.fill = ""
	}
	fmt.Fprintf(&c.b, `<path clip-path="url(#frame)" fill-rule="evenodd" d="%s"%s/>`, d.String(), c.paint(st))
}

func (c *svgCanvas) circle(x, y, r float64, st style) {
	fmt.Fprintf(&c.b, `<circle cx="%.2f" cy="%.2f" r="%.2f"%s/>`, x, y, r, c.paint(st))
}

func (c *svgCanvas) text(x, y float64, s string, sizePt float64, anchor int, bold bool, colour string) {
	a := [...]string{"start", "middle", "end"}[anchor]
	weight := ""
	if bold {
		weight = ` font-weight="bold"`
	}
	fmt.Fprintf(&c.b, `<text x="%.2f" y="%.2f" font-size="%.2f" text-anchor="%s" fill="%s"%s>%s</text>`,
		x, y, sizePt*0.3528, a, colour, weight, escape(s))
}

// escape escapes text for SVG.
func escape(s string) string { return html.EscapeString(s) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolutionMM is the finest detail the map draws: a tenth of a
// millimetre, under what print or a screen at page size shows.
const resolutionMM = 0.1

// thin is g (projected metres) without the vertices closer than tol to
// the vertex kept before them, and, of a MultiPoint, without the points
// in a square five times tol across holding one already (a point symbol
// is 3.2 mm across): what the map can show of a dense footprint, at a cost bounded
// by the map's size rather than by the footprint's vertices. A ring kept
// to fewer than four vertices (smaller than the resolution) is drawn as
// its box.
func thin(g orb.Geometry, tol float64) orb.Geometry {
	if tol <= 0 {
		return g
	}
	line := func(ps []orb.Point) []orb.Point {
		if len(ps) <= 2 {
			return ps
		}
		out := []orb.Point{ps[0]}
		for _, p := range ps[1 : len(ps)-1] {
			last := out[len(out)-1]
			if math.Abs(p[0]-last[0]) >= tol || math.Abs(p[1]-last[1]) >= tol {
				out = append(out, p)
			}
		}
		return append(out, ps[len(ps)-1])
	}
	ring := func(r orb.Ring) orb.Ring {
		out := orb.Ring(line(r))
		if len(out) < 4 {
			return r.Bound().ToRing()
		}
		return out
	}
	poly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = ring(r)
		}
		return out
	}
	switch g := g.(type) {
	case orb.LineString:
		return orb.LineString(line(g))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(g))
		for i, l := range g {
			out[i] = orb.LineString(line(l))
		}
		return out
	case orb.Ring:
		return ring(g)
	case orb.Polygon:
		return poly(g)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = poly(p)
		}
		return out
	case orb.MultiPoint:
		seen := make(map[[2]int64]bool)
		var out orb.MultiPoint
		for _, p := range g {
			k := [2]int64{int64(math.Floor(p[0] / (5 * tol))), int64(math.Floor(p[1] / (5 * tol)))}
			if !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
		return out
	case orb.Collection:
		out := make(orb.Collection, len(g))
		for i, x := range g {
			out[i] = thin(x, tol)
		}
		return out
	}
	return g
}
