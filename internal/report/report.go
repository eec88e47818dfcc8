// Package report renders an appraisal as a printable HTML page (A4): the
// project, a map of its footprint and overlaps as inline SVG, the findings
// with their legal basis, the decision, and the versions the check used.
// The page is self-contained: no script, no image or font from elsewhere.
package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/zone"
)

//go:embed report.html.tmpl
var pageTemplate string

// Data is what one report shows. Result must already be redacted for the
// reader (check.Redact).
type Data struct {
	Appraisal   zone.Appraisal
	Site        *zone.Component // the project site: name, investor, sector, height, activities, footprint
	Latest      zone.CheckRecord
	Result      check.Result // of Latest, redacted for the reader
	Reader      string
	GeneratedAt time.Time
}

// Render writes the report.
func Render(w io.Writer, d Data) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"prop":    func(key string) any { return d.Site.Properties[key] },
		"verdict": verdictText,
		"metres":  metres,
		"whole":   whole,
		"date":    func(t time.Time) string { return t.Local().Format("02/01/2006 15:04") },
		"zone":    func(z any) string { return strings.ReplaceAll(fmt.Sprint(z), "_", " ") },
		"list":    list,
	}).Parse(pageTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, struct {
		Data
		Map template.HTML
	}{d, mapSVG(d.Site.Geometry, d.Result)})
}

func verdictText(v any) string {
	switch fmt.Sprint(v) {
	case "conflict":
		return "XUNG ĐỘT / CONFLICT"
	case "review":
		return "CẦN XEM XÉT / REVIEW"
	case "notice":
		return "LƯU Ý / NOTICE"
	case "clear":
		return "KHÔNG VƯỚNG / CLEAR"
	}
	return fmt.Sprint(v)
}

func metres(p *float64) string {
	if p == nil {
		return "—"
	}
	if *p >= 1000 {
		return fmt.Sprintf("%.2f km", *p/1000)
	}
	return fmt.Sprintf("%.1f m", *p)
}

// whole writes a measure (a float64 or a *float64; nil is "—") rounded to
// a whole number, its thousands set apart by narrow no-break spaces, which
// read the same in Vietnamese and English ("66 046"). html/template's
// printf would print a pointer's address.
func whole(v any) string {
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case *float64:
		if v == nil {
			return "—"
		}
		f = *v
	default:
		return fmt.Sprint(v)
	}
	digits := fmt.Sprintf("%.0f", math.Abs(f))
	var b strings.Builder
	if math.Round(f) < 0 {
		b.WriteString("−")
	}
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	return b.String()
}

func list(v any) string {
	switch v := v.(type) {
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(v, ", ")
	case nil:
		return "—"
	}
	return fmt.Sprint(v)
}

// mapSVG draws the footprint and the overlaps the reader may see, in a local
// equirectangular projection (x scaled by cos(latitude)) fitted to the box,
// with a scale bar in metres.
func mapSVG(fp orb.Geometry, res check.Result) template.HTML {
	const w, h, pad = 640.0, 360.0, 24.0
	b := fp.Bound()
	var overlaps []orb.Geometry
	for _, f := range res.Findings {
		if f.Overlap != nil && f.Overlap.Geometry() != nil {
			g := f.Overlap.Geometry()
			overlaps = append(overlaps, g)
			b = b.Union(g.Bound())
		}
	}
	lat0 := b.Center()[1]
	kx := math.Cos(lat0 * math.Pi / 180)
	dx, dy := (b.Max[0]-b.Min[0])*kx, b.Max[1]-b.Min[1]
	if dx == 0 && dy == 0 {
		dx, dy = 0.005, 0.005 // a point: show about 500 m around it
		b = orb.Bound{Min: orb.Point{b.Min[0] - dx/2/kx, b.Min[1] - dy/2}, Max: orb.Point{b.Max[0] + dx/2/kx, b.Max[1] + dy/2}}
	}
	scale := math.Min((w-2*pad)/math.Max(dx, 1e-12), (h-2*pad)/math.Max(dy, 1e-12))
	xy := func(p orb.Point) (float64, float64) {
		return pad + (p[0]-b.Min[0])*kx*scale, h - pad - (p[1]-b.Min[1])*scale
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="Footprint map">`, w, h)
	fmt.Fprintf(&sb, `<rect width="%g" height="%g" fill="#f8f8f4" stroke="#999"/>`, w, h)
	draw := func(g orb.Geometry, fill, stroke string, width float64) {
		var path strings.Builder
		ring := func(ps []orb.Point, closed bool) {
			for i, p := range ps {
				x, y := xy(p)
				if i == 0 {
					fmt.Fprintf(&path, "M%.1f %.1f", x, y)
				} else {
					fmt.Fprintf(&path, "L%.1f %.1f", x, y)
				}
			}
			if closed {
				path.WriteString("Z")
			}
		}
		var walk func(g orb.Geometry)
		walk = func(g orb.Geometry) {
			switch g := g.(type) {
			case orb.Point:
				x, y := xy(g)
				fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="6" fill="%s" stroke="%s" stroke-width="%g"/>`, x, y, fill, stroke, width)
			case orb.MultiPoint:
				for _, p := range g {
					walk(p)
				}
			case orb.LineString:
				ring(g, false)
			case orb.MultiLineString:
				for _, l := range g {
					ring(l, false)
				}
			case orb.Polygon:
				for _, r := range g {
					ring(r, true)
				}
			case orb.MultiPolygon:
				for _, p := range g {
					walk(p)
				}
			case orb.Collection:
				for _, x := range g {
					walk(x)
				}
			}
		}
		walk(g)
		if path.Len() > 0 {
			if zone.ClassOf(g) == zone.GeomLine {
				fill = "none"
			}
			fmt.Fprintf(&sb, `<path d="%s" fill="%s" fill-rule="evenodd" stroke="%s" stroke-width="%g"/>`, path.String(), fill, stroke, width)
		}
	}
	draw(fp, "#fff59d", "#f57f17", 2)
	for _, g := range overlaps {
		draw(g, "#e53935", "#b71c1c", 1)
	}
	// Scale bar: a round number of metres near a quarter of the width.
	metresPerPx := 111320.0 / scale
	bar := niceMetres(metresPerPx * (w / 4))
	px := bar / metresPerPx
	fmt.Fprintf(&sb, `<g font-family="sans-serif" font-size="12"><line x1="%g" y1="%g" x2="%.1f" y2="%g" stroke="#000" stroke-width="3"/>`, pad, h-8, pad+px, h-8)
	fmt.Fprintf(&sb, `<text x="%.1f" y="%g">%s</text></g>`, pad+px+6, h-4, metres(&bar))
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func niceMetres(m float64) float64 {
	if m <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{5, 2, 1} {
		if f*p <= m {
			return f * p
		}
	}
	return p
}
