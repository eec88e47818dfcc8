package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleFootprint is a project near Đồng Đăng, Lạng Sơn (TM-3 107°15′).
var sampleFootprint = orb.Polygon{{{106.69, 21.79}, {106.71, 21.79}, {106.71, 21.81}, {106.69, 21.81}, {106.69, 21.79}}}

// sample is one appraisal of every kind of finding: a visible conflict
// with an overlap, a notice, and a referral standing for hidden works.
func sample(t *testing.T, lang Lang) Data {
	t.Helper()
	var res check.Result
	if err := json.Unmarshal([]byte(`{"verdict":"conflict","ruleset_version":"2025.11-1","data_view":"v","footprint":{"area_m2":4582046.4,"length_m":8561.9},
		"findings":[
		 {"verdict":"conflict","rule":"restricted-area","zone":"restricted_area","basis":"Law 25/2023/QH15 art. 17(1), art. 18","basis_vi":"Luật số 25/2023/QH15, khoản 1 Điều 17, Điều 18",
		  "message":"The project lies in the restricted area of a defence work.","message_vi":"Dự án nằm trong khu vực cấm của công trình quốc phòng.",
		  "component":{"id":"7b0c4a2e-0000-4000-8000-000000000001","layer":"defence_works","kind":"depot","name":"Kho K3 – Đồng Đăng","classification":"restricted"},
		  "distance_m":0,"overlap_area_m2":1234.56,"overlap":{"type":"Polygon","coordinates":[[[106.70,21.80],[106.703,21.80],[106.703,21.803],[106.70,21.803],[106.70,21.80]]]},
		  "band":"within the restricted area","band_vi":"trong khu vực cấm","provisional":true},
		 {"verdict":"notice","rule":"border-area","zone":"distance","basis":"Decree 34/2014/ND-CP art. 2","basis_vi":"Nghị định số 34/2014/NĐ-CP, Điều 2",
		  "message":"near the border","message_vi":"Dự án gần biên giới.","component":{"name":"Biên giới Việt Nam – Trung Quốc","layer":"border_lines","kind":"land_border"},
		  "distance_m":1432.1,"overlap_area_m2":0,"overlap":null,"band":"within 2000 m of the component","band_vi":"trong phạm vi 2.000 m tính từ công trình"},
		 {"verdict":"review","rule":"defence-consultation","zone":"consultation_area","basis":"Law 25/2023/QH15 art. 18","basis_vi":"Luật số 25/2023/QH15, Điều 18",
		  "message":"The project lies in a defence consultation area.","message_vi":"Dự án nằm trong vùng tham vấn quốc phòng.",
		  "component":{"redacted":true},"distance_m":null,"overlap_area_m2":null,"overlap":null,
		  "contact":{"vi":"Liên hệ Bộ Chỉ huy quân sự tỉnh để được hướng dẫn.","en":"Consult the provincial military command."}}]}`), &res); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	id := uuid.MustParse("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b")
	site := &zone.Component{Layer: zone.LayerProjectSites, Name: "Khu công nghiệp Đồng Đăng", Geometry: sampleFootprint,
		Properties: map[string]any{"investor": "Công ty Cổ phần Ánh Dương", "sector": "industry", "height_m": 35.0, "activities": []any{"blasting"}}}
	people := map[string]Person{
		"appr (11111111-1111-4111-8111-111111111111)": {Name: "Nguyễn Thị Hồng Nhung", Title: "Trợ lý Tác chiến"},
		"rev (22222222-2222-4222-8222-222222222222)":  {Name: "Trần Quốc Việt", Title: "Phó Chỉ huy trưởng"},
	}
	raw, err := fs.ReadFile(data.FS(), data.BasemapFile)
	if err != nil {
		t.Fatal(err)
	}
	basemap, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		t.Fatal(err)
	}
	return Data{
		Appraisal: zone.Appraisal{ID: id, Name: "Khu công nghiệp Đồng Đăng", Status: "rejected", Verdict: "conflict",
			CreatedBy: "appr (11111111-1111-4111-8111-111111111111)",
			Decision:  &zone.Decision{Outcome: "rejected", Note: "Điều chỉnh ranh giới ra ngoài khu vực cấm.", By: "rev (22222222-2222-4222-8222-222222222222)", At: at},
			Checks: []zone.CheckRecord{{CreatedAt: at.Add(-time.Hour), CreatedBy: "appr (11111111-1111-4111-8111-111111111111)",
				Verdict: "conflict", RulesetVersion: "2025.11-1"}}},
		Site:        site,
		Latest:      zone.CheckRecord{Verdict: "conflict", RulesetVersion: "2025.11-1"},
		Result:      res,
		Reader:      "rev (22222222-2222-4222-8222-222222222222)",
		GeneratedAt: at,
		Lang:        lang,
		Issuer:      Issuer{Parent: "Quân khu 1", Body: "Bộ Chỉ huy quân sự tỉnh Lạng Sơn", Place: "Lạng Sơn", PlaceEN: "Lang Son"},
		People:      func(by string) Person { return people[by] },
		Map: []MapFeature{
			{Geometry: orb.Point{106.702, 21.801}, Layer: zone.LayerDefenceWorks},
			{Geometry: orb.Polygon{{{106.699, 21.799}, {106.705, 21.799}, {106.705, 21.805}, {106.699, 21.805}, {106.699, 21.799}}}, Layer: zone.LayerDefenceWorks, Zone: zone.ZoneKind("restricted_area")},
			{Geometry: orb.LineString{{106.66, 21.83}, {106.68, 21.825}, {106.72, 21.835}}, Layer: zone.LayerBorderLines},
		},
		Basemap: []*geojson.FeatureCollection{basemap},
		Rules:   rules.Default(),
	}
}

// The HTML report matches its golden file, in each language (go test
// -update rewrites them after a deliberate change; look at the diff).
func TestHTMLGolden(t *testing.T) {
	for _, lang := range []Lang{VI, EN} {
		var b bytes.Buffer
		if err := Render(context.Background(), &b, sample(t, lang)); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "report_"+string(lang)+".html")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s; rerun with -update if the change is meant, and look at the diff", lang, golden)
		}
		page := b.String()
		if i := strings.Index(page, "%!"); i >= 0 {
			t.Errorf("Go formatting debris in the report: %q", page[i:min(len(page), i+60)])
		}
	}
}

// englishWords are words a Vietnamese report must not hold: the English
// of every verdict, status, band, legal basis and heading zoneplan writes.
var englishWords = regexp.MustCompile(`\b(the|of|and|within|overlapping|component|Law|Decree|art\.|conflict|review|clear|notice|rejected|approved|pending|provisional|restricted|protected|safety|belt|border|consultation|area|project|findings?|legal|basis|decision|report|page|appraiser|classified|investor|sector|height|activities|depot|industry|blasting|printed|rule set|checked|zoneplan)\b`)

// pdfText extracts the text of a PDF with pdftotext (Debian poppler-utils),
// page by page, laid out as on the page; CI must have it.
func pdfText(t *testing.T, pdf []byte) []string { return pdftotext(t, pdf, "-layout") }

// pdfRaw is the PDF's text in the order it was written: a table cell's
// lines follow each other, so a name wrapped in a cell reads whole once
// the white space is folded.
func pdfRaw(t *testing.T, pdf []byte) string {
	return strings.Join(strings.Fields(strings.Join(pdftotext(t, pdf, "-raw"), " ")), " ")
}

func pdftotext(t *testing.T, pdf []byte, mode string) []string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is missing; CI must have it (.ci/deps)")
		}
		t.Skip("pdftotext (poppler-utils) not installed; skipping the PDF text test")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, mode, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	pages := strings.Split(string(out), "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

// The PDF holds the national heading, the names with their diacritics,
// the vertices in VN-2000 and WGS84, numbered pages, and in Vietnamese no
// English word.
func TestPDF(t *testing.T) {
	for _, lang := range []Lang{VI, EN} {
		var b bytes.Buffer
		if err := RenderPDF(context.Background(), &b, sample(t, lang)); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
			t.Fatalf("%s: not a PDF", lang)
		}
		if os.Getenv("REPORT_KEEP") != "" {
			_ = os.WriteFile(filepath.Join(os.Getenv("REPORT_KEEP"), "report_"+string(lang)+".pdf"), b.Bytes(), 0o644)
		}
		pages := pdfText(t, b.Bytes())
		all := strings.Join(pages, "\n")
		flat := pdfRaw(t, b.Bytes())
		want := []string{"Kho K3 – Đồng Đăng", "Công ty Cổ phần Ánh Dương", "Khu công nghiệp Đồng Đăng",
			"Nguyễn Thị Hồng Nhung", "Trần Quốc Việt", "BỘ CHỈ HUY QUÂN SỰ TỈNH LẠNG SƠN"}
		if lang == VI {
			want = append(want, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Lạng Sơn, ngày 07 tháng 12 năm 2026",
				"BÁO CÁO", "Số: 3F2A9C1E/BC-TĐQP", "Luật số 25/2023/QH15, khoản 1 Điều 17, Điều 18", "Kết luận: Không chấp thuận", "4.582.046 m²")
		} else {
			want = append(want, "SOCIALIST REPUBLIC OF VIET NAM", "Independence - Freedom - Happiness", "Lang Son, 7 December 2026",
				"REPORT", "Law 25/2023/QH15 art. 17(1), art. 18", "4,582,046 m²")
		}
		for _, s := range want {
			if !strings.Contains(flat, s) {
				t.Errorf("%s: the PDF text lacks %q", lang, s)
			}
		}
		// The coordinate table: every vertex in the Lạng Sơn zone
		// (EPSG:9215) to the millimetre, X northing first, and in WGS84.
		tm3, _ := crs.Lookup("EPSG:9215")
		for _, p := range sampleFootprint[0][:4] {
			q, err := tm3.FromWGS84(p)
			if err != nil {
				t.Fatal(err)
			}
			l := Lang(lang)
			row := regexp.QuoteMeta(l.plain(q[1], 3)) + `\s+` + regexp.QuoteMeta(l.plain(q[0], 3)) + `\s+` +
				regexp.QuoteMeta(l.plain(p[1], 7)) + `\s+` + regexp.QuoteMeta(l.plain(p[0], 7))
			if !regexp.MustCompile(row).MatchString(all) {
				t.Errorf("%s: no coordinate row %s in the PDF text", lang, row)
			}
		}
		if len(pages) < 2 {
			t.Fatalf("%s: %d page(s); the report takes at least two", lang, len(pages))
		}
		checkPageNumbers(t, string(lang), pages)
		if lang == VI {
			if m := englishWords.FindAllString(all, -1); len(m) > 0 {
				t.Errorf("English in the Vietnamese report: %q", m)
			}
		}
	}
}

// word is one word of a PDF page as pdftotext -bbox places it, points
// from the page's top left.
type word struct {
	page           int
	x0, y0, x1, y1 float64
	text           string
}

var bboxWord = regexp.MustCompile(`<page |<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)

// pdfWords lists the words of a PDF with their boxes.
func pdfWords(t *testing.T, pdf []byte) []word {
	t.Helper()
	pdfText(t, pdf) // pdftotext is there (or the test fails in CI, skips elsewhere)
	path := filepath.Join(t.TempDir(), "w.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	var ws []word
	page := 0
	for _, m := range bboxWord.FindAllStringSubmatch(string(out), -1) {
		if m[1] == "" {
			page++
			continue
		}
		f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		ws = append(ws, word{page, f(m[1]), f(m[2]), f(m[3]), f(m[4]), m[5]})
	}
	return ws
}

var romanHeading = regexp.MustCompile(`^(I|II|III|IV|V|VI|VII)\.$`)

// checkPages fails when a word runs into the bottom margin, or a section
// heading (a roman numeral at the left margin) has nothing below it on its
// page.
func checkPages(t *testing.T, what string, ws []word) {
	t.Helper()
	const pt = 72 / 25.4
	bottom := (pageH - marginB + 1) * pt
	for _, w := range ws {
		if w.y1 > bottom {
			t.Errorf("%s: page %d: %q runs into the bottom margin (%.1f mm from the top)", what, w.page, w.text, w.y1/pt)
		}
		if !romanHeading.MatchString(w.text) || w.x0 > (marginL+2)*pt {
			continue
		}
		below := false
		for _, v := range ws {
			below = below || (v.page == w.page && v.y0 > w.y1)
		}
		if !below {
			t.Errorf("%s: page %d ends with the heading %q", what, w.page, w.text)
		}
	}
}

// No heading is left at the foot of a page and nothing runs into the
// bottom margin: with 0 to 15 more findings the sections fall at every
// height of the pages.
func TestNoHeadingAtTheFootOfAPage(t *testing.T) {
	for extra := 0; extra <= 15; extra++ {
		d := sample(t, VI)
		for i := 0; i < extra; i++ {
			d.Result.Findings = append(d.Result.Findings, d.Result.Findings[1])
		}
		var b bytes.Buffer
		if err := RenderPDF(context.Background(), &b, d); err != nil {
			t.Fatal(err)
		}
		checkPages(t, fmt.Sprintf("%d more findings", extra), pdfWords(t, b.Bytes()))
	}
}

func TestNumbers(t *testing.T) {
	for _, c := range []struct {
		l    Lang
		v    float64
		dec  int
		want string
	}{
		{VI, 66046.4, 0, "66.046"}, {EN, 66046.4, 0, "66,046"}, {VI, 1234567.891, 3, "1.234.567,891"},
		{EN, 999.5, 0, "1,000"}, {VI, 12.25, 1, "12,2"}, {VI, -4321, 0, "−4.321"}, {EN, 0, 0, "0"},
	} {
		if got := c.l.number(c.v, c.dec); got != c.want {
			t.Errorf("%s number(%v, %d) = %q, want %q", c.l, c.v, c.dec, got, c.want)
		}
	}
	if got := VI.plain(2412345.6789, 3); got != "2412345,679" {
		t.Errorf("plain = %q", got)
	}
}

// BenchmarkRender measures one report of the sample appraisal as HTML and
// as PDF (fonts subset and embedded each time).
func BenchmarkRender(b *testing.B) {
	t := &testing.T{}
	d := sample(t, VI)
	b.Run("html", func(b *testing.B) {
		for b.Loop() {
			if err := Render(context.Background(), io.Discard, d); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The baseline: decoding the base map for each report, as before the
	// server kept it decoded.
	raw, _ := fs.ReadFile(data.FS(), data.BasemapFile)
	b.Run("html-decoding-basemap", func(b *testing.B) {
		for b.Loop() {
			fc, err := geojson.UnmarshalFeatureCollection(raw)
			if err != nil {
				b.Fatal(err)
			}
			d := d
			d.Basemap = []*geojson.FeatureCollection{fc}
			if err := Render(context.Background(), io.Discard, d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pdf", func(b *testing.B) {
		var n int
		for b.Loop() {
			var buf bytes.Buffer
			if err := RenderPDF(context.Background(), &buf, d); err != nil {
				b.Fatal(err)
			}
			n = buf.Len()
		}
		b.ReportMetric(float64(n), "bytes/pdf")
	})
}

// The HTML report prints to A4 in Chromium (Debian chromium, headless) as
// cleanly as the PDF: A4 pages, the names and the coordinate table whole,
// and no section heading left at the foot of a page.
func TestHTMLPrintsToA4(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is missing; CI must have it (.ci/deps)")
		}
		t.Skip("chromium not installed; skipping the print test")
	}
	d := sample(t, VI)
	for i := 0; i < 13; i++ { // long enough to break across pages
		d.Result.Findings = append(d.Result.Findings, d.Result.Findings[1])
	}
	dir := t.TempDir()
	html, pdf := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.pdf")
	var b bytes.Buffer
	if err := Render(context.Background(), &b, d); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(html, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-pdf-header-footer", "--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+pdf, "file://"+html)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --print-to-pdf: %v\n%s", err, out)
	}
	printed, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := exec.Command("pdfinfo", pdf).Output(); err == nil && !strings.Contains(string(info), "(A4)") {
		t.Errorf("not printed on A4:\n%s", info)
	}
	flat := pdfRaw(t, printed)
	for _, want := range []string{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Kho K3 – Đồng Đăng", "Nguyễn Thị Hồng Nhung", "Trần Quốc Việt", "VII. QUYẾT ĐỊNH"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the printed HTML lacks %q", want)
		}
	}
	pages := pdfText(t, printed)
	if len(pages) < 2 {
		t.Fatalf("printed on %d page(s)", len(pages))
	}
	checkPageNumbers(t, "printed HTML", pages)
	checkPages(t, "printed HTML", pdfWords(t, printed))
}

// A record checked before findings carried Vietnamese legal bases and
// bands prints the rule set's Vietnamese basis when the rule still reads
// the same in English, and no English band in a Vietnamese report.
func TestOldRecordInVietnamese(t *testing.T) {
	d := sample(t, VI)
	rs := rules.Default()
	var rule rules.Rule
	for _, r := range rs.Rules {
		if r.ID == "restricted-area" {
			rule = r
		}
	}
	f := &d.Result.Findings[0]
	f.Rule, f.Basis, f.BasisVI, f.BandVI = rule.ID, rule.Basis.EN, "", ""
	doc, err := Build(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Findings[0].Basis; got != rule.Basis.VI {
		t.Errorf("old record's basis = %q, want the rule set's Vietnamese %q", got, rule.Basis.VI)
	}
	if got := doc.Findings[0].Band; got != "" {
		t.Errorf("old record's band in a Vietnamese report = %q, want none (its zone says it)", got)
	}
	d.Lang = EN
	if doc, _ = Build(context.Background(), d); doc.Findings[0].Basis != rule.Basis.EN || doc.Findings[0].Band != "within the restricted area" {
		t.Errorf("in English: basis %q, band %q", doc.Findings[0].Basis, doc.Findings[0].Band)
	}
}

// checkPageNumbers fails unless every page from the second starts with
// "i/n" (Decree 30/2020: at the top, the first page unnumbered).
func checkPageNumbers(t *testing.T, what string, pages []string) {
	t.Helper()
	for i, p := range pages[1:] {
		first := strings.Fields(p)
		if want := strconv.Itoa(i+2) + "/" + strconv.Itoa(len(pages)); len(first) == 0 || first[0] != want {
			t.Errorf("%s: page %d does not start with its number %s: %.40q", what, i+2, want, strings.TrimSpace(p))
		}
	}
	if first := strings.Fields(pages[0]); len(first) > 0 && regexp.MustCompile(`^1/\d+$`).MatchString(first[0]) {
		t.Errorf("%s: the first page is numbered", what)
	}
}

// Rendering leaves the caller's geometries as they were: the map's
// features are the index's components and the base map is shared by every
// report, and orb's clipping works in place.
func TestRenderLeavesGeometriesAlone(t *testing.T) {
	d := sample(t, VI)
	// A work and a base-map shape reaching far outside the map's frame,
	// which clipping cuts.
	big := orb.Polygon{{{106.5, 21.6}, {106.9, 21.6}, {106.9, 22.0}, {106.5, 22.0}, {106.5, 21.6}}}
	d.Map = append(d.Map, MapFeature{Geometry: big, Layer: zone.LayerDefenceWorks})
	before := func() string {
		b, _ := json.Marshal(struct {
			M []orb.Geometry
			B []*geojson.FeatureCollection
		}{[]orb.Geometry{d.Map[0].Geometry, d.Map[1].Geometry, d.Map[2].Geometry, big}, d.Basemap})
		return string(b)
	}
	want := before()
	// Reports render at once over one base map (go test -race watches).
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = RenderPDF(context.Background(), io.Discard, d)
		}()
	}
	wg.Wait()
	for _, render := range []func(context.Context, io.Writer, Data) error{Render, RenderPDF} {
		if err := render(context.Background(), io.Discard, d); err != nil {
			t.Fatal(err)
		}
		if before() != want {
			t.Fatal("rendering a report changed the geometries it was given")
		}
	}
}

// A long value (an investor of 120 lines, a decision note of 80) runs
// onto the next pages line by line: pdftotext finds every line, and none
// runs into the bottom margin (where the PDF's page would cut it off).
func TestLongTextRunsOntoNextPages(t *testing.T) {
	d := sample(t, EN)
	var investor, note []string
	for i := 1; i <= 120; i++ {
		investor = append(investor, fmt.Sprintf("INV%03d", i))
	}
	for i := 1; i <= 80; i++ {
		note = append(note, fmt.Sprintf("NOTE%03d", i))
	}
	site := d.Site.Clone()
	site.Properties[zone.PropInvestor] = strings.Join(investor, "\n")
	d.Site = site
	dec := *d.Appraisal.Decision
	dec.Note = strings.Join(note, "\n")
	d.Appraisal.Decision = &dec
	var b bytes.Buffer
	if err := RenderPDF(context.Background(), &b, d); err != nil {
		t.Fatal(err)
	}
	ws := pdfWords(t, b.Bytes())
	checkPages(t, "long texts", ws)
	seen := map[string]bool{}
	for _, w := range ws {
		seen[w.text] = true
	}
	for _, want := range append(investor, note...) {
		if !seen[want] {
			t.Errorf("the PDF lacks the line %q", want)
		}
	}
}

// stopAfter is a context that ends at its k-th look (Err): where in the
// rendering it ends depends on k, not on the clock.
type stopAfter struct {
	context.Context
	looks, k int
}

func (c *stopAfter) Err() error {
	if c.looks++; c.looks >= c.k {
		return context.Canceled
	}
	return nil
}

// A report whose request ends stops there, wherever it is (building the
// document, projecting the map's features, drawing them, laying out the
// pages), with the context's error, and writes nothing.
func TestRenderStopsWhenCancelled(t *testing.T) {
	d := sample(t, EN)
	for i := range 3000 { // a map dense enough that late looks fall in its loops
		d.Map = append(d.Map, MapFeature{Geometry: orb.Point{106.69 + float64(i%60)*0.0005, 21.79 + float64(i/60)*0.0005}, Layer: zone.LayerDefenceWorks})
	}
	looks := map[string]int{}
	for name, render := range map[string]func(context.Context, io.Writer, Data) error{"HTML": Render, "PDF": RenderPDF} {
		all := &stopAfter{Context: context.Background(), k: math.MaxInt}
		var b bytes.Buffer
		if err := render(all, &b, d); err != nil || b.Len() == 0 {
			t.Fatalf("%s: %v, %d bytes", name, err, b.Len())
		}
		looks[name] = all.looks
		for _, k := range []int{1, 2, 3, all.looks / 10, all.looks / 2, all.looks - 1} {
			var b bytes.Buffer
			if err := render(&stopAfter{Context: context.Background(), k: k}, &b, d); !errors.Is(err, context.Canceled) || b.Len() > 0 {
				t.Errorf("%s ended at look %d of %d: %v, %d bytes written; want context.Canceled and nothing", name, k, all.looks, err, b.Len())
			}
		}
	}
	// It looks once per feature at least, so a dense map stops promptly.
	for name, n := range looks {
		if n < len(d.Map) {
			t.Errorf("%s looked at its context %d times for %d features", name, n, len(d.Map))
		}
	}
}

// A dense footprint (a circle of 99,990 vertices, a wavy line of 99,990)
// is drawn at the map's resolution: each vertex drawn at least a tenth of
// a millimetre from the one before, so no more vertices than the drawn
// path's length in tenths of a millimetre, far fewer than it has.
func TestDenseFootprintIsThinned(t *testing.T) {
	const n = 99_990
	ring := make(orb.Ring, 0, n+1)
	line := make(orb.LineString, 0, n)
	for i := range n {
		a := 2 * math.Pi * float64(i) / n
		ring = append(ring, orb.Point{106.7 + 0.01*math.Cos(a), 21.8 + 0.01*math.Sin(a)})
		line = append(line, orb.Point{106.7 + 0.02*float64(i)/n, 21.8 + 0.001*math.Sin(40*a)})
	}
	ring = append(ring, ring[0])
	number := regexp.MustCompile(`[ML]([0-9.-]+) ([0-9.-]+)`)
	for name, g := range map[string]orb.Geometry{"circle": orb.Polygon{ring}, "line": line} {
		d := sample(t, EN)
		site := d.Site.Clone()
		site.Geometry = g
		d.Site = site
		d.Result.Findings = nil
		var b bytes.Buffer
		if err := Render(context.Background(), &b, d); err != nil {
			t.Fatal(err)
		}
		// The footprint is the path in its colour.
		path := regexp.MustCompile(`<path [^>]*d="([^"]*)"[^>]*stroke="#e65100"`).FindStringSubmatch(b.String())
		if path == nil {
			t.Fatalf("%s: no footprint path in the SVG", name)
		}
		var pts []orb.Point
		for _, m := range number.FindAllStringSubmatch(path[1], -1) {
			x, _ := strconv.ParseFloat(m[1], 64)
			y, _ := strconv.ParseFloat(m[2], 64)
			pts = append(pts, orb.Point{x, y})
		}
		length := 0.0
		for i := 1; i < len(pts); i++ {
			length += math.Hypot(pts[i][0]-pts[i-1][0], pts[i][1]-pts[i-1][1])
		}
		// 0.09: the SVG rounds to a hundredth of a millimetre.
		if limit := int(length/0.09) + 2; len(pts) > limit || len(pts) > n/10 {
			t.Errorf("%s: %d of its %d vertices drawn along %.0f mm; want at most %d", name, len(pts), n, length, min(limit, n/10))
		} else {
			t.Logf("%s: %d of %d vertices drawn along %.0f mm", name, len(pts), n, length)
		}
	}
}

// Bidirectional controls in user text (a project name with a
// right-to-left override, an investor with an isolate, a note with an
// embedding) are not printed: the HTML and the PDF hold none, and the text
// reads in the order it was typed.
func TestBidiControlsAreNotPrinted(t *testing.T) {
	d := sample(t, EN)
	d.Appraisal.Name = "Resort \u202Egnp.exe\u202C"
	site := d.Site.Clone()
	site.Properties[zone.PropInvestor] = "Acme \u2067Ltd\u2069 \u200Fco"
	d.Site = site
	dec := *d.Appraisal.Decision
	dec.Note = "Approved \u202Bnot\u202C."
	d.Appraisal.Decision = &dec
	var h, p bytes.Buffer
	if err := Render(context.Background(), &h, d); err != nil {
		t.Fatal(err)
	}
	if err := RenderPDF(context.Background(), &p, d); err != nil {
		t.Fatal(err)
	}
	text := pdfRaw(t, p.Bytes())
	for what, s := range map[string]string{"HTML": h.String(), "PDF": text} {
		if i := strings.IndexFunc(s, isBidiControl); i >= 0 {
			t.Errorf("%s prints the control %U at %d", what, []rune(s[i:])[0], i)
		}
		for _, want := range []string{"Resort gnp.exe", "Acme Ltd co", "Approved not."} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %q", what, want)
			}
		}
	}
}
