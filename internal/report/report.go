// Package report renders an appraisal as the document an appraising body
// files: an A4 report laid out after Vietnamese administrative documents
// (Decree 30/2020/NĐ-CP) with the national heading, the issuing body, a
// number, place and date; the project, the verdict, the findings with
// their legal basis, a map extract over the offline base map with a scale
// bar, a north arrow and VN-2000 grid ticks, the footprint's vertices in
// VN-2000 (the province's TM-3 zone) and WGS84, the decision and a
// signature block naming the appraiser and the reviewer. Every text is in
// one language, Vietnamese or English.
//
// It comes as HTML (Render: self-contained, no script, no image or font
// from elsewhere; the browser prints it to A4) and as PDF (RenderPDF), with
// the same content from one Document. The PDF is written by
// github.com/signintech/gopdf: pure Go (the binary stays static), it embeds
// subsets of TrueType fonts with full Unicode text, which Vietnamese needs,
// and it is maintained (releases through 2026). The other candidates were
// github.com/go-pdf/fpdf, archived read-only in March 2025, and
// github.com/johnfercher/maroto/v2, a layout layer over an unmaintained
// gofpdf fork that brings pdfcpu and more along. The font is Noto Serif
// (SIL Open Font License 1.1, fonts/OFL.txt), taken from the npm package
// @expo-google-fonts/noto-serif 0.4.2: it covers every Vietnamese letter
// and tone mark.
//
// The report shows what the reader may see and nothing more: Data.Result
// is the reader's view of the check (redacted), and Data.Map holds only
// the features the caller chose for the reader's clearance. Works above
// the reader's clearance are never drawn, nor their consultation cells:
// the findings' referral row is all the report says of them.
package report

import (
	"bytes"
	"context"
	_ "embed"
	"html/template"
	"io"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

//go:embed report.html.tmpl
var pageTemplate string

// Issuer is the body that issues the report (cơ quan ban hành), as the
// heading prints it: its parent body above, then its own name, in capitals
// per Decree 30/2020/NĐ-CP. Place is where it issues from ("Lạng Sơn");
// empty: the province the footprint lies in. The *EN fields are the
// English report's; empty ones take the Vietnamese.
type Issuer struct {
	Parent, Body, Place       string
	ParentEN, BodyEN, PlaceEN string
	// Code is the document symbol after the number ("BC-BCHQS"); empty:
	// "BC-TĐQP" (báo cáo thẩm định quốc phòng).
	Code string
}

// Person is someone a report names: their full name and title.
type Person struct {
	Name  string
	Title string
}

// MapFeature is one thing the map extract draws, in WGS84.
type MapFeature struct {
	Geometry orb.Geometry
	// Layer is the component's layer (its symbology); Zone, when set, says
	// the geometry is one of the component's approved protection zones.
	Layer string
	Zone  zone.ZoneKind
}

// Data is what one report shows. Result must already be redacted for the
// reader (check.Redact), and Map hold only what the reader may see.
type Data struct {
	Appraisal   zone.Appraisal
	Site        *zone.Component // the project site: name, investor, sector, height, activities, footprint
	Latest      zone.CheckRecord
	Result      check.Result // of Latest, redacted for the reader
	Reader      string
	GeneratedAt time.Time
	Lang        Lang // "" is Vietnamese
	Issuer      Issuer
	// People names the authors the records hold ("name (token id)", as
	// appraisals record them) as persons; nil or a miss: the name part.
	People func(recorded string) Person
	// Map holds the features around the footprint the reader may see;
	// Basemap is the offline base map (its properties: name, name_en,
	// role "vietnam" or "neighbour").
	Map     []MapFeature
	Basemap []*geojson.FeatureCollection
	// Rules is the rule set in force, for records checked before findings
	// carried Vietnamese bases and bands (nil: none).
	Rules *rules.RuleSet
}

// Render writes the report as an HTML page. It stops with ctx's error
// when ctx ends (between sections and while drawing the map), having
// written nothing.
func Render(ctx context.Context, w io.Writer, d Data) error {
	doc, err := Build(ctx, d)
	if err != nil {
		return err
	}
	return doc.HTML(ctx, w)
}

// HTML writes the document as an HTML page (nothing when ctx ends first).
func (doc *Document) HTML(ctx context.Context, w io.Writer) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"lines": func(s string) []string { return splitLines(s) },
	}).Parse(pageTemplate)
	if err != nil {
		return err
	}
	var svg bytes.Buffer
	if err := doc.Map.SVG(ctx, &svg, doc); err != nil {
		return err
	}
	var page bytes.Buffer
	if err := t.Execute(&page, struct {
		*Document
		MapSVG template.HTML
	}{doc, template.HTML(svg.String())}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = io.WriteString(w, stripBidi(page.String()))
	return err
}

// RenderPDF writes the report as a PDF document. It stops with ctx's
// error when ctx ends (between sections and while drawing the map),
// having written nothing.
func RenderPDF(ctx context.Context, w io.Writer, d Data) error {
	doc, err := Build(ctx, d)
	if err != nil {
		return err
	}
	return doc.PDF(ctx, w)
}
