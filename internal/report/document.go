package report

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Document is a report with every text in its one language, ready to lay
// out as HTML or PDF.
type Document struct {
	Lang                 Lang
	W                    words
	IssuerParent, Issuer string
	Number, DateLine     string
	Title, Subject       string
	Project              []Field
	Verdict, VerdictCode string
	VerdictNote          string
	Findings             []Row
	Map                  *Scene
	MapNote              string
	Vertices             []Vertex
	VerticesNote         string
	Decision             []Field // nil: not decided
	History              []HistoryRow
	Appraiser, Reviewer  Person
	Recipients           []string
	Printed, Scope       string
}

// Field is one labelled value.
type Field struct{ Label, Value string }

// Row is one finding as the reader may see it.
type Row struct {
	VerdictCode, Verdict string
	Rule, Flags          string // the rule's message; provisional, escalation, tolerance
	Zone, Band           string
	Component, Kind      string // empty for a referral
	Distance, Overlap    string
	Basis                string
	Redacted             bool
	Classified           string // a referral: what it says instead of the work
}

// Vertex is one vertex of the footprint in VN-2000 (X northing, Y
// easting) and WGS84, as printed.
type Vertex struct {
	N              int
	X, Y, Lat, Lon string
	Part           int // 1-based part of a multi-part footprint; 0 when single
}

// HistoryRow is one check of the appraisal.
type HistoryRow struct{ Date, VerdictCode, Verdict, RuleSet, By string }

// maxVertices bounds the coordinate table; a footprint with more vertices
// lists its first maxVertices and says how many were left out.
const maxVertices = 400

// ict is the time of the documents: Indochina Time, UTC+7, no DST.
var ict = time.FixedZone("ICT", 7*3600)

// Build makes the document of d, or stops with ctx's error when ctx ends.
func Build(ctx context.Context, d Data) (*Document, error) {
	if d.Lang == "" {
		d.Lang = VI
	}
	if d.Site == nil || d.Site.Geometry == nil {
		return nil, zone.Errorf(zone.CodeInternal, "report: the appraisal's site has no footprint")
	}
	l := d.Lang
	w := vocabulary[l]
	doc := &Document{Lang: l, W: w, Title: w.Title}
	centre := centroid(d.Site.Geometry)
	province, tm3 := crs.NearestProvince(centre)

	is := d.Issuer
	doc.IssuerParent = strings.ToUpper(l.pick(is.Parent, or(is.ParentEN, is.Parent)))
	doc.Issuer = strings.ToUpper(or(l.pick(is.Body, or(is.BodyEN, is.Body)), l.pick("CƠ QUAN THẨM ĐỊNH", "APPRAISING AUTHORITY")))
	code := or(is.Code, "BC-TĐQP")
	doc.Number = fmt.Sprintf("%s: %s/%s", w.Number, strings.ToUpper(d.Appraisal.ID.String()[:8]), code)
	place := or(l.pick(is.Place, or(is.PlaceEN, is.Place)), province.Name)
	at := d.GeneratedAt.In(ict)
	if l == VI {
		// Decree 30/2020: days below 10 and months 1 and 2 take a leading zero.
		month := fmt.Sprint(int(at.Month()))
		if at.Month() <= 2 {
			month = fmt.Sprintf("%02d", int(at.Month()))
		}
		doc.DateLine = fmt.Sprintf("%s, ngày %02d tháng %s năm %d", place, at.Day(), month, at.Year())
	} else {
		doc.DateLine = fmt.Sprintf("%s, %d %s %d", place, at.Day(), at.Month(), at.Year())
	}
	doc.Subject = fmt.Sprintf("%s %s", w.Subject, d.Appraisal.Name)

	// I. The project.
	prop := func(k string) any { return d.Site.Properties[k] }
	text := func(v any) string {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			return s
		}
		return "—"
	}
	doc.Project = []Field{{w.Name, d.Appraisal.Name}, {w.Investor, text(prop(zone.PropInvestor))}}
	if s, ok := prop(zone.PropSector).(string); ok && s != "" {
		doc.Project = append(doc.Project, Field{w.Sector, l.term(s)})
	} else {
		doc.Project = append(doc.Project, Field{w.Sector, "—"})
	}
	if h, ok := prop(zone.PropHeightM).(float64); ok {
		doc.Project = append(doc.Project, Field{w.Height, l.number(h, decimalsOf(h)) + " m"})
	} else {
		doc.Project = append(doc.Project, Field{w.Height, "—"})
	}
	doc.Project = append(doc.Project, Field{w.Activities, activities(l, prop(zone.PropActivities))})
	fp := d.Result.Footprint
	switch zone.ClassOf(d.Site.Geometry) {
	case zone.GeomLine:
		doc.Project = append(doc.Project, Field{w.Length, l.number(math.Round(fp.LengthM), 0) + " m"})
	case zone.GeomPolygon:
		doc.Project = append(doc.Project, Field{w.Area, l.area(fp.AreaM2)})
	}
	doc.Project = append(doc.Project,
		Field{w.Status, l.term(d.Appraisal.Status)},
		Field{w.Record, d.Appraisal.ID.String()})

	// II. The verdict.
	doc.VerdictCode = string(d.Latest.Verdict)
	if doc.VerdictCode == "" {
		doc.VerdictCode = string(d.Result.Verdict)
	}
	doc.Verdict = l.term(doc.VerdictCode)
	doc.VerdictNote = verdictNote(l, doc.VerdictCode, len(d.Result.Findings))

	// III. Findings.
	for _, f := range d.Result.Findings {
		doc.Findings = append(doc.Findings, findingRow(l, w, f, d))
	}

	// IV. The map.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc.Map = newScene(ctx, d, tm3)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc.MapNote = fmt.Sprintf("%s (%s %s, %s).", w.MapNote, w.Province, province.Name, tm3.Name)

	// V. Coordinates.
	var n int
	doc.Vertices, n = vertices(l, d.Site.Geometry, tm3)
	lon0, _, _ := tm3.CentralMeridian()
	doc.VerticesNote = fmt.Sprintf(w.CoordinatesNote, degMin(lon0), tm3.Name)
	if n > maxVertices {
		doc.VerticesNote += " " + l.pick(fmt.Sprintf("Bảng liệt kê %d trong %d đỉnh.", maxVertices, n),
			fmt.Sprintf("The table lists %d of %d vertices.", maxVertices, n))
	}

	// VI. Decision and signatures.
	person := func(by string) Person {
		if d.People != nil {
			if p := d.People(by); p.Name != "" {
				return p
			}
		}
		name, _, _ := strings.Cut(by, " (")
		return Person{Name: name}
	}
	doc.Appraiser = person(d.Appraisal.CreatedBy)
	if dec := d.Appraisal.Decision; dec != nil {
		doc.Reviewer = person(dec.By)
		by := doc.Reviewer.Name
		if doc.Reviewer.Title != "" {
			by += ", " + doc.Reviewer.Title
		}
		doc.Decision = []Field{
			{w.Outcome, l.term(dec.Outcome)},
			{w.Note, or(strings.TrimSpace(dec.Note), "—")},
			{w.DecidedBy, by},
			{w.DecidedAt, dateTime(l, dec.At)},
		}
	}
	for _, c := range d.Appraisal.Checks {
		doc.History = append(doc.History, HistoryRow{Date: dateTime(l, c.CreatedAt), VerdictCode: c.Verdict,
			Verdict: l.term(c.Verdict), RuleSet: c.RulesetVersion, By: person(c.CreatedBy).Name})
	}
	doc.Recipients = splitLines(w.RecipientsList)
	doc.Printed = fmt.Sprintf(w.Printed, person(d.Reader).Name, dateTime(l, d.GeneratedAt), or(d.Latest.RulesetVersion, d.Result.RulesetVersion))
	doc.Scope = w.Scope
	return doc, nil
}

func findingRow(l Lang, w words, f check.Finding, d Data) Row {
	r := Row{VerdictCode: string(f.Verdict), Verdict: l.term(string(f.Verdict)), Zone: l.term(string(f.Zone))}
	r.Rule = l.pick(f.MessageVI, f.Message)
	r.Basis = l.pick(f.BasisVI, f.Basis)
	if r.Basis == "" && d.Rules != nil {
		// A record checked before findings carried a Vietnamese basis:
		// the rule set's, when it still reads the same in English.
		for _, rule := range d.Rules.Rules {
			if rule.ID == f.Rule && rule.Basis.EN == f.Basis {
				r.Basis = rule.Basis.VI
			}
		}
		if f.Referral() && d.Rules.Consultation.Basis.EN == f.Basis {
			r.Basis = d.Rules.Consultation.Basis.VI
		}
	}
	if r.Basis == "" {
		r.Basis = f.Basis
	}
	r.Band = l.pick(f.BandVI, f.Band)
	if l == VI && f.BandVI == "" {
		r.Band = "" // an older record's band is in English only; the zone says it
	}
	var flags []string
	if f.Provisional {
		flags = append(flags, w.Provisional)
	}
	if f.EscalatedFrom != "" {
		flags = append(flags, w.Escalated+" "+strings.ToLower(l.term(string(f.EscalatedFrom))))
	}
	if f.EdgeTolerance {
		flags = append(flags, w.EdgeTolerance)
	}
	r.Flags = strings.Join(flags, "; ")
	if f.Incomplete() {
		// Only the layer whose data is not complete there, and whom to ask.
		r.Redacted = true
		r.Classified = l.pick("Chưa có dữ liệu đầy đủ của lớp ", "No complete data of the layer ") + l.term(f.Component.Layer) + "."
		if f.Contact != nil {
			r.Classified += " " + f.Contact.In(string(l))
		}
		r.Distance, r.Overlap = "—", "—"
		return r
	}
	if f.Component.Redacted {
		r.Redacted = true
		r.Classified = w.Classified + "."
		if f.Contact != nil {
			r.Classified += " " + f.Contact.In(string(l))
		}
		r.Distance, r.Overlap = "—", "—"
		return r
	}
	r.Component = f.Component.Name
	r.Kind = l.term(or(f.Component.Kind, f.Component.Layer))
	r.Distance = l.metres(f.DistanceM)
	r.Overlap = "—"
	if f.OverlapAreaM2 != nil && *f.OverlapAreaM2 > 0 {
		r.Overlap = l.area(*f.OverlapAreaM2)
	}
	return r
}

func verdictNote(l Lang, verdict string, findings int) string {
	switch verdict {
	case "conflict":
		return l.pick("Dự án chồng lấn khu vực mà pháp luật cấm; không đủ điều kiện chấp thuận về quốc phòng nếu không điều chỉnh.",
			"The project overlaps what the law forbids; it cannot be approved on defence grounds unless it is changed.")
	case "review":
		return l.pick("Dự án cần có ý kiến của cơ quan quân sự trước khi phê duyệt.",
			"The military authority must give its opinion before the project is approved.")
	case "incomplete":
		return l.pick("Không phát hiện vướng mắc trên dữ liệu hiện có, nhưng dữ liệu quốc phòng tại vị trí dự án chưa được xác nhận đầy đủ: chưa thể kết luận không vướng; cần hỏi ý kiến Bộ Chỉ huy quân sự tỉnh.",
			"No conflict was found on the data that exists, but the defence data where the project lies is not confirmed complete: it cannot be found clear; ask the provincial military command.")
	}
	if findings > 0 {
		return l.pick("Không phát hiện vướng mắc về quốc phòng; có lưu ý kèm theo.", "No defence conflict was found; notices follow.")
	}
	return l.pick("Không phát hiện vướng mắc về quốc phòng.", "No defence conflict was found.")
}

func activities(l Lang, v any) string {
	var out []string
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			out = append(out, l.term(fmt.Sprint(x)))
		}
	case []string:
		for _, x := range v {
			out = append(out, l.term(x))
		}
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, ", ")
}

func dateTime(l Lang, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(ict)
	return t.Format("02/01/2006 15:04")
}

// vertices lists the footprint's first maxVertices vertices, closing ones
// left out, in the TM-3 zone (X northing, Y easting, to the millimetre) and
// in WGS84, and counts them all.
func vertices(l Lang, g orb.Geometry, tm3 *crs.CRS) (listed []Vertex, total int) {
	var out []Vertex
	add := func(part int, ps []orb.Point) {
		total += len(ps)
		for _, p := range ps {
			if len(out) >= maxVertices {
				return
			}
			q, err := tm3.FromWGS84(p)
			if err != nil {
				continue
			}
			out = append(out, Vertex{N: len(out) + 1, Part: part, X: l.plain(q[1], 3), Y: l.plain(q[0], 3),
				Lat: l.plain(p[1], 7), Lon: l.plain(p[0], 7)})
		}
	}
	ring := func(r orb.Ring) []orb.Point {
		if len(r) > 1 && r[0] == r[len(r)-1] {
			return r[:len(r)-1]
		}
		return r
	}
	var walk func(part int, g orb.Geometry)
	walk = func(part int, g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			add(part, []orb.Point{g})
		case orb.MultiPoint:
			add(part, g)
		case orb.LineString:
			add(part, g)
		case orb.MultiLineString:
			for i, ls := range g {
				add(i+1, ls)
			}
		case orb.Polygon:
			for _, r := range g {
				add(part, ring(r))
			}
		case orb.MultiPolygon:
			for i, p := range g {
				walk(i+1, p)
			}
		case orb.Collection:
			for i, x := range g {
				walk(i+1, x)
			}
		}
	}
	walk(0, g)
	return out, total
}

// centroid is the centre of g's box: enough to choose a province.
func centroid(g orb.Geometry) orb.Point { return g.Bound().Center() }

// degMin writes 107.25 as 107°15′.
func degMin(d float64) string {
	deg := math.Floor(d)
	return fmt.Sprintf("%d°%02d′", int(deg), int(math.Round((d-deg)*60)))
}

func decimalsOf(v float64) int {
	if v == math.Trunc(v) {
		return 0
	}
	return 1
}

func or(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

// stripBidi is s without the bidirectional embedding, override and
// isolate controls (U+202A-U+202E, U+2066-U+2069) and marks (U+200E,
// U+200F, U+061C). The report prints user text (names, notes) that could
// otherwise reorder what follows it: a note reading one way on screen and
// another on paper, or a name that seems to end where it does not.
func stripBidi(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}
