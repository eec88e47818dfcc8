package report

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/signintech/gopdf"
)

// The fonts, Noto Serif (SIL OFL 1.1, fonts/OFL.txt): gopdf embeds the
// subset of glyphs a document uses.
var (
	//go:embed fonts/NotoSerif-Regular.ttf
	fontRegular []byte
	//go:embed fonts/NotoSerif-Bold.ttf
	fontBold []byte
	//go:embed fonts/NotoSerif-Italic.ttf
	fontItalic []byte
)

// Page geometry in millimetres: A4 with the margins of Decree 30/2020/NĐ-CP
// (top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm).
const (
	pageW, pageH = 210.0, 297.0
	marginL      = 30.0
	marginR      = 15.0
	marginT      = 20.0
	marginB      = 20.0
	textW        = pageW - marginL - marginR
)

// Font sizes, points: body text 13 as the decree asks (13-14), tables
// smaller so that seven columns fit the text width.
const (
	sizeBody    = 13.0
	sizeTable   = 9.5
	sizeSmall   = 10.0
	lineSpacing = 1.3
)

type pdfWriter struct {
	pdf *gopdf.GoPdf
	y   float64
	err error
	doc *Document
	ctx context.Context // the request's: section checks it, and the map's drawing
}

// lineH is the height of a line of text of the given size, mm.
func lineH(sizePt float64) float64 { return sizePt * 0.3528 * lineSpacing }

// PDF writes the document as a PDF (nothing when ctx ends first).
func (doc *Document) PDF(ctx context.Context, out io.Writer) error {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: pageW, H: pageH}, Unit: gopdf.UnitMM})
	for _, f := range []struct {
		style int
		data  []byte
	}{{gopdf.Regular, fontRegular}, {gopdf.Bold, fontBold}, {gopdf.Italic, fontItalic}} {
		if err := pdf.AddTTFFontDataWithOption("serif", f.data, gopdf.TtfOption{Style: f.style}); err != nil {
			return fmt.Errorf("report: load font: %w", err)
		}
	}
	pdf.SetInfo(gopdf.PdfInfo{Title: stripBidi(doc.Title + " " + doc.Subject), Author: stripBidi(doc.Issuer), Subject: stripBidi(doc.Subject), Creator: "zoneplan"})
	w := &pdfWriter{pdf: pdf, doc: doc, ctx: ctx}
	w.newPage()
	w.heading()
	w.body()
	w.pageNumbers()
	w.check(ctx.Err())
	if w.err != nil {
		return w.err
	}
	var b bytes.Buffer
	if _, err := pdf.WriteTo(&b); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := out.Write(b.Bytes())
	return err
}

func (w *pdfWriter) check(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

func (w *pdfWriter) newPage() {
	w.pdf.AddPage()
	w.y = marginT
}

// room starts a new page unless h millimetres fit above the bottom margin.
func (w *pdfWriter) room(h float64) {
	if w.y+h > pageH-marginB {
		w.newPage()
	}
}

func (w *pdfWriter) font(style string, size float64) {
	w.check(w.pdf.SetFont("serif", style, size))
}

// colour sets the text colour from "#rrggbb".
func (w *pdfWriter) colour(hex string) {
	r, g, b := rgb(hex)
	w.pdf.SetTextColor(r, g, b)
}

// wrap splits text into lines no wider than width at the current font,
// keeping the text's own line breaks.
func (w *pdfWriter) wrap(text string, width float64) []string {
	var out []string
	for _, para := range strings.Split(stripBidi(text), "\n") {
		if strings.TrimSpace(para) == "" {
			out = append(out, "")
			continue
		}
		lines, err := w.pdf.SplitTextWithWordWrap(para, width)
		if err != nil {
			w.check(err)
			return out
		}
		out = append(out, lines...)
	}
	return out
}

// textAt writes one line with its top at y, aligned in [x, x+width].
func (w *pdfWriter) textAt(x, y, width float64, s string, align int) {
	s = stripBidi(s)
	tw, err := w.pdf.MeasureTextWidth(s)
	w.check(err)
	switch align {
	case anchorCentre:
		x += (width - tw) / 2
	case anchorRight:
		x += width - tw
	}
	w.pdf.SetXY(x, y)
	w.check(w.pdf.Text(s))
}

// para writes a wrapped paragraph in the text width and moves down.
func (w *pdfWriter) para(text, style string, size float64, align int, indent float64) {
	w.font(style, size)
	lh := lineH(size)
	for _, line := range w.wrap(text, textW-indent) {
		w.room(lh)
		w.textAt(marginL+indent, w.y+size*0.3528, textW-indent, line, align)
		w.y += lh
	}
}

// heading writes the national heading, the issuer, number, place and
// date, the title and the subject (Decree 30/2020/NĐ-CP, appendix I).
func (w *pdfWriter) heading() {
	d := w.doc
	leftW, rightX := 72.0, marginL+70.0
	rightW := pageW - marginR - rightX
	y := w.y
	// Left: the parent body, the issuing body in bold, a rule under it,
	// the number.
	ly := y
	if d.IssuerParent != "" {
		w.font("", 12)
		for _, l := range w.wrap(d.IssuerParent, leftW) {
			w.textAt(marginL, ly+12*0.3528, leftW, l, anchorCentre)
			ly += lineH(12)
		}
	}
	w.font("B", 12)
	var widest float64
	for _, l := range w.wrap(d.Issuer, leftW) {
		w.textAt(marginL, ly+12*0.3528, leftW, l, anchorCentre)
		ly += lineH(12)
		tw, _ := w.pdf.MeasureTextWidth(l)
		widest = math.Max(widest, tw)
	}
	rule := math.Min(widest, leftW) / 3
	w.pdf.SetLineWidth(0.3)
	w.pdf.Line(marginL+leftW/2-rule/2, ly+0.8, marginL+leftW/2+rule/2, ly+0.8)
	ly += 3
	w.font("", 12)
	w.textAt(marginL, ly+12*0.3528, leftW, d.Number, anchorCentre)
	ly += lineH(12)

	// Right: the nation in bold capitals, the motto in bold, underlined
	// as wide as itself, then place and date in italics.
	ry := y
	size := 12.0
	w.font("B", size)
	for tw, _ := w.pdf.MeasureTextWidth(d.W.Nation); tw > rightW && size > 9; tw, _ = w.pdf.MeasureTextWidth(d.W.Nation) {
		size -= 0.5
		w.font("B", size)
	}
	w.textAt(rightX, ry+size*0.3528, rightW, d.W.Nation, anchorCentre)
	ry += lineH(size)
	w.font("B", 13)
	w.textAt(rightX, ry+13*0.3528, rightW, d.W.Motto, anchorCentre)
	mw, _ := w.pdf.MeasureTextWidth(d.W.Motto)
	ry += lineH(13)
	w.pdf.Line(rightX+rightW/2-mw/2, ry+0.3, rightX+rightW/2+mw/2, ry+0.3)
	ry += 4
	w.font("I", 13)
	for _, l := range w.wrap(d.DateLine, rightW) {
		w.textAt(rightX, ry+13*0.3528, rightW, l, anchorCentre)
		ry += lineH(13)
	}
	w.y = math.Max(ly, ry) + 8

	w.para(d.Title, "B", 14, anchorCentre, 0)
	w.y += 1
	w.para(d.Subject, "B", 13, anchorCentre, 0)
	w.pdf.Line(pageW/2-20, w.y+1, pageW/2+20, w.y+1)
	w.y += 6
}

// section writes a section heading, starting a new page unless the
// heading and need millimetres of what follows it fit: no heading is left
// at the foot of a page.
func (w *pdfWriter) section(title string, need float64) {
	w.check(w.ctx.Err())
	w.room(lineH(sizeBody) + 3 + need)
	w.y += 2
	w.para(title, "B", sizeBody, anchorLeft, 0)
	w.y += 1
}

// fields writes labelled values in two columns. A value runs onto the
// next page line by line, as a paragraph does: a long one is never cut
// off at the foot of a page.
func (w *pdfWriter) fields(fs []Field) {
	const labelW = 56.0
	lh := lineH(sizeBody)
	for _, f := range fs {
		w.font("", sizeBody)
		lines := w.wrap(f.Value, textW-labelW)
		w.room(lh)
		w.font("B", sizeBody)
		w.textAt(marginL, w.y+sizeBody*0.3528, labelW, f.Label+":", anchorLeft)
		w.font("", sizeBody)
		for i, l := range lines {
			if i > 0 {
				w.room(lh)
			}
			w.textAt(marginL+labelW, w.y+sizeBody*0.3528, textW-labelW, l, anchorLeft)
			w.y += lh
		}
	}
}

// cell is one table cell: its text runs with their styles.
type cell struct {
	runs []run
	span int // columns it covers; 0 is 1
}

type run struct {
	text, style string
	colour      string
}

func plainCell(s string) cell { return cell{runs: []run{{text: s}}} }

// table writes a table with a header row repeated on each page; a row is
// never split across pages.
func (w *pdfWriter) table(widths []float64, header []string, rows [][]cell, size float64) {
	const pad = 1.2
	lh := lineH(size)
	layout := func(row []cell, bold bool) ([][][]run, float64) {
		var out [][][]run // per cell, per line, runs
		h := 0.0
		col := 0
		for _, c := range row {
			span := max(c.span, 1)
			width := 0.0
			for i := 0; i < span; i++ {
				width += widths[col+i]
			}
			col += span
			var lines [][]run
			for _, r := range c.runs {
				style := r.style
				if bold {
					style = "B"
				}
				w.font(style, size)
				for _, l := range w.wrap(r.text, width-2*pad) {
					lines = append(lines, []run{{text: l, style: style, colour: r.colour}})
				}
			}
			out = append(out, lines)
			h = math.Max(h, float64(len(lines))*lh+2*pad)
		}
		return out, h
	}
	draw := func(row []cell, cells [][][]run, h float64, fill string) {
		x, col := marginL, 0
		for i, c := range row {
			span := max(c.span, 1)
			width := 0.0
			for j := 0; j < span; j++ {
				width += widths[col+j]
			}
			col += span
			if fill != "" {
				r, g, b := rgb(fill)
				w.pdf.SetFillColor(r, g, b)
				w.check(w.pdf.Rectangle(x, w.y, x+width, w.y+h, "F", 0, 0))
			}
			w.pdf.SetStrokeColor(120, 120, 120)
			w.pdf.SetLineWidth(0.2)
			w.pdf.RectFromUpperLeftWithStyle(x, w.y, width, h, "D")
			for k, line := range cells[i] {
				for _, r := range line {
					w.font(r.style, size)
					w.colour(or(r.colour, "#111111"))
					w.textAt(x+pad, w.y+pad+size*0.3528+float64(k)*lh, width-2*pad, r.text, anchorLeft)
				}
			}
			w.colour("#111111")
			x += width
		}
		w.y += h
	}
	hc := make([]cell, len(header))
	for i, s := range header {
		hc[i] = plainCell(s)
	}
	hcells, hh := layout(hc, true)
	w.room(hh + lh + 3)
	draw(hc, hcells, hh, "#e8e8e8")
	for _, row := range rows {
		cells, h := layout(row, false)
		if w.y+h > pageH-marginB {
			w.newPage()
			draw(hc, hcells, hh, "#e8e8e8")
		}
		draw(row, cells, h, "")
	}
	w.pdf.SetStrokeColor(0, 0, 0)
}

func verdictColour(code string) string {
	switch code {
	case "conflict":
		return "#b71c1c"
	case "review":
		return "#e65100"
	case "incomplete":
		return "#37474f"
	case "clear":
		return "#1b5e20"
	case "notice":
		return "#0d47a1"
	}
	return "#111111"
}

func (w *pdfWriter) body() {
	d, t := w.doc, w.doc.W
	w.section(t.Project, 3*lineH(sizeBody))
	w.fields(d.Project)

	w.section(t.Verdict, 16)
	w.room(10)
	w.font("B", 14)
	vw, _ := w.pdf.MeasureTextWidth(d.Verdict)
	r, g, b := rgb(verdictColour(d.VerdictCode))
	w.pdf.SetStrokeColor(r, g, b)
	w.pdf.SetLineWidth(0.6)
	w.pdf.RectFromUpperLeftWithStyle(marginL, w.y, vw+8, 8.5, "D")
	w.pdf.SetStrokeColor(0, 0, 0)
	w.colour(verdictColour(d.VerdictCode))
	w.textAt(marginL+4, w.y+6, vw, d.Verdict, anchorLeft)
	w.colour("#111111")
	w.y += 11
	w.para(d.VerdictNote, "", sizeBody, anchorLeft, 0)

	w.section(t.Findings, 2*lineH(sizeTable)+12)
	if len(d.Findings) == 0 {
		w.para(t.NoFindings, "", sizeBody, anchorLeft, 0)
	} else {
		widths := []float64{21, 32, 23, 24, 18, 17, 30}
		var rows [][]cell
		for _, f := range d.Findings {
			verdict := cell{runs: []run{{text: f.Verdict, style: "B", colour: verdictColour(f.VerdictCode)}}}
			rule := cell{runs: []run{{text: f.Rule}}}
			if f.Flags != "" {
				rule.runs = append(rule.runs, run{text: "(" + f.Flags + ")", style: "I"})
			}
			zoneCell := cell{runs: []run{{text: f.Zone}}}
			if f.Band != "" {
				zoneCell.runs = append(zoneCell.runs, run{text: f.Band, style: "I"})
			}
			row := []cell{verdict, rule, zoneCell}
			if f.Redacted {
				row = append(row, cell{runs: []run{{text: f.Classified, style: "I"}}, span: 3})
			} else {
				row = append(row, cell{runs: []run{{text: f.Component}, {text: f.Kind, style: "I"}}}, plainCell(f.Distance), plainCell(f.Overlap))
			}
			row = append(row, plainCell(f.Basis))
			rows = append(rows, row)
		}
		w.table(widths, []string{t.HistVerdict, t.Rule, t.Zone, t.Component, t.Distance, t.Overlap, t.Basis}, rows, sizeTable)
	}

	w.section(t.Map, mapHmm+lineH(sizeSmall)*2)
	w.drawMap(marginL, w.y)
	w.y += mapHmm + 1
	w.para(d.MapNote, "I", sizeSmall, anchorLeft, 0)

	w.section(t.Coordinates, 3*lineH(sizeSmall)+2*lineH(sizeTable)+8)
	w.para(d.VerticesNote, "I", sizeSmall, anchorLeft, 0)
	w.y += 1.5
	var vrows [][]cell
	for _, v := range d.Vertices {
		n := strconv.Itoa(v.N)
		if v.Part > 0 {
			n += " (" + strconv.Itoa(v.Part) + ")"
		}
		vrows = append(vrows, []cell{plainCell(n), plainCell(v.X), plainCell(v.Y), plainCell(v.Lat), plainCell(v.Lon)})
	}
	w.table([]float64{18, 36, 33, 39, 39}, []string{t.Point, t.Northing, t.Easting, t.Latitude, t.Longitude}, vrows, 10)

	w.section(t.History, 2*lineH(sizeTable)+8)
	var hrows [][]cell
	for _, h := range d.History {
		hrows = append(hrows, []cell{plainCell(h.Date), {runs: []run{{text: h.Verdict, style: "B", colour: verdictColour(h.VerdictCode)}}},
			plainCell(h.RuleSet), plainCell(h.By)})
	}
	w.table([]float64{36, 34, 35, 60}, []string{t.HistDate, t.HistVerdict, t.HistRule, t.HistBy}, hrows, sizeTable)

	// The decision stays on the page of the signatures that close it.
	w.room(lineH(sizeBody)*float64(3+len(d.Decision)) + signatureH)
	w.section(t.Decision, 2*lineH(sizeBody))
	if d.Decision == nil {
		w.para(t.NotDecided, "", sizeBody, anchorLeft, 0)
	} else {
		w.fields(d.Decision)
	}

	w.signatures()
	w.y += 4
	w.para(d.Printed+" "+d.Scope, "I", 9, anchorLeft, 0)
}

// signatureH is the height of the signature block and its recipients, mm.
const signatureH = 64.0

// signatures writes the signature block: the appraiser on the left, the
// reviewer on the right, each with their title in capitals, room to sign
// and the name in bold; then the recipients.
func (w *pdfWriter) signatures() {
	d, t := w.doc, w.doc.W
	w.room(signatureH)
	w.y += 6
	colW := textW / 2
	block := func(x float64, role string, p Person, signed bool) {
		y := w.y
		w.font("B", 12.5)
		w.textAt(x, y+12.5*0.3528, colW, role, anchorCentre)
		y += lineH(12.5)
		if p.Title != "" {
			w.font("B", 12)
			for _, l := range w.wrap(strings.ToUpper(p.Title), colW-4) {
				w.textAt(x, y+12*0.3528, colW, l, anchorCentre)
				y += lineH(12)
			}
		}
		if !signed {
			w.font("I", 11)
			w.textAt(x, y+11*0.3528+2, colW, t.Unsigned, anchorCentre)
		}
		y += 24
		w.font("B", 13)
		w.textAt(x, y+13*0.3528, colW, or(p.Name, " "), anchorCentre)
	}
	block(marginL, t.Appraiser, d.Appraiser, true)
	block(marginL+colW, t.Reviewer, d.Reviewer, d.Decision != nil)
	w.y += 46
	w.room(lineH(11) * float64(1+len(d.Recipients)))
	w.font("B", 11)
	w.textAt(marginL, w.y+11*0.3528, colW, t.Recipients, anchorLeft)
	w.y += lineH(11)
	w.font("", 10.5)
	for _, l := range d.Recipients {
		w.textAt(marginL, w.y+10.5*0.3528, colW, l, anchorLeft)
		w.y += lineH(10.5)
	}
}

// pageNumbers numbers the pages from the second on, in the middle of the
// top margin (Decree 30/2020/NĐ-CP: the first page carries no number), as
// "2/3" so that a missing page shows.
func (w *pdfWriter) pageNumbers() {
	n := w.pdf.GetNumberOfPages()
	for i := 2; i <= n; i++ {
		w.check(w.pdf.SetPage(i))
		w.font("", 11)
		w.colour("#111111")
		w.textAt(marginL, 12, textW, fmt.Sprintf("%d/%d", i, n), anchorCentre)
	}
}

// drawMap draws the scene with its top left at (x, y), clipped to its frame.
func (w *pdfWriter) drawMap(x, y float64) {
	c := &pdfCanvas{w: w, x: x, y: y}
	w.pdf.SaveGraphicsState()
	w.pdf.ClipPolygon([]gopdf.Point{{X: x, Y: y}, {X: x + mapWmm, Y: y}, {X: x + mapWmm, Y: y + mapHmm}, {X: x, Y: y + mapHmm}})
	w.check(w.doc.Map.draw(w.ctx, c))
	w.pdf.RestoreGraphicsState()
	w.pdf.SetLineType("solid")
	w.pdf.SetStrokeColor(0, 0, 0)
	w.pdf.SetLineWidth(0.3)
	w.colour("#111111")
}

type pdfCanvas struct {
	w    *pdfWriter
	x, y float64
}

func (c *pdfCanvas) apply(st style) (fill, stroke bool) {
	p := c.w.pdf
	if st.fill != "" {
		r, g, b := rgb(st.fill)
		p.SetFillColor(r, g, b)
		fill = true
	}
	if st.stroke != "" {
		r, g, b := rgb(st.stroke)
		p.SetStrokeColor(r, g, b)
		p.SetLineWidth(st.width)
		if len(st.dash) > 0 {
			p.SetCustomLineType(append([]float64(nil), st.dash...), 0)
		} else {
			p.SetLineType("solid")
		}
		stroke = true
	}
	return fill, stroke
}

func (c *pdfCanvas) polygon(pts []gopdf.Point, st style) {
	fill, stroke := c.apply(st)
	p := c.w.pdf
	if fill {
		if st.opacity > 0 {
			c.w.check(p.SetTransparency(gopdf.Transparency{Alpha: st.opacity, BlendModeType: gopdf.NormalBlendMode}))
		}
		p.Polygon(pts, "F")
		if st.opacity > 0 {
			p.ClearTransparency()
		}
	}
	if stroke {
		p.Polygon(pts, "D")
	}
}

func (c *pdfCanvas) rect(x, y, w, h float64, st style) {
	x, y = x+c.x, y+c.y
	c.polygon([]gopdf.Point{{X: x, Y: y}, {X: x + w, Y: y}, {X: x + w, Y: y + h}, {X: x, Y: y + h}}, st)
}

func (c *pdfCanvas) path(rings [][][2]float64, closed bool, st style) {
	for _, r := range rings {
		if len(r) == 0 {
			continue
		}
		pts := make([]gopdf.Point, len(r))
		for i, q := range r {
			pts[i] = gopdf.Point{X: q[0] + c.x, Y: q[1] + c.y}
		}
		if closed {
			c.polygon(pts, st)
			continue
		}
		if _, stroke := c.apply(style{stroke: st.stroke, width: st.width, dash: st.dash}); stroke {
			for i := 1; i < len(pts); i++ {
				c.w.pdf.Line(pts[i-1].X, pts[i-1].Y, pts[i].X, pts[i].Y)
			}
		}
	}
}

func (c *pdfCanvas) circle(x, y, r float64, st style) {
	const n = 24
	pts := make([]gopdf.Point, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / n
		pts[i] = gopdf.Point{X: c.x + x + r*math.Cos(a), Y: c.y + y + r*math.Sin(a)}
	}
	c.polygon(pts, st)
}

func (c *pdfCanvas) text(x, y float64, s string, sizePt float64, anchor int, bold bool, colour string) {
	style := ""
	if bold {
		style = "B"
	}
	c.w.font(style, sizePt)
	c.w.colour(colour)
	s = stripBidi(s)
	tw, _ := c.w.pdf.MeasureTextWidth(s)
	switch anchor {
	case anchorCentre:
		x -= tw / 2
	case anchorRight:
		x -= tw
	}
	c.w.pdf.SetXY(c.x+x, c.y+y) // y is the baseline, as in SVG
	c.w.check(c.w.pdf.Text(s))
}

// rgb reads "#rrggbb".
func rgb(hex string) (uint8, uint8, uint8) {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil || len(hex) != 7 {
		return 0, 0, 0
	}
	return uint8(v >> 16), uint8(v >> 8), uint8(v)
}
