package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/report"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// pdfTextMark starts the text a PDF response is recorded as.
const pdfTextMark = "%PDF-TEXT\n"

// pdfText is the text of a PDF as pdftotext (Debian poppler-utils) lays it
// out, page by page; CI must have pdftotext, elsewhere the test skips.
func pdfText(t *testing.T, pdf []byte, mode string) []string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is missing; CI must have it (.ci/deps)")
		}
		t.Skip("pdftotext (poppler-utils) not installed; skipping the PDF report test")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, mode, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Split(string(out), "\f")
}

// pdfTextForDiff is a PDF response as the secrecy differential compares
// it: its text, marked, and a digest of its map as drawn (rendered by
// pdftoppm, cut to the map's frame, below the heading of section IV: the
// frame holds no date or id, so it must be the same pixel for pixel).
func pdfTextForDiff(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil && os.Getenv("CI") != "true" {
		return pdfTextMark + "(pdftotext is not installed: not compared)"
	}
	text := strings.Join(pdfText(t, pdf, "-layout"), "\f")
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return pdfTextMark + text
	}
	return pdfTextMark + text + "\nMAP " + mapDigest(t, pdf)
}

var wordBox = regexp.MustCompile(`<page |<word xMin="[0-9.]+" yMin="[0-9.]+" xMax="[0-9.]+" yMax="([0-9.]+)">IV\.</word>`)

// mapDigest is the SHA-256 of the map's frame of a report PDF rendered
// in grey at 40 dpi.
func mapDigest(t *testing.T, pdf []byte) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	page, top := 0, -1.0
	for _, m := range wordBox.FindAllSubmatch(out, -1) {
		if m[1] == nil {
			page++
			continue
		}
		top, _ = strconv.ParseFloat(string(m[1]), 64)
		break
	}
	if top < 0 {
		t.Fatalf("no map heading (IV.) in the report PDF")
	}
	const dpi, mm = 40.0, 72 / 25.4
	px := func(pt float64) string { return strconv.Itoa(int(pt * dpi / 72)) }
	// The frame: 31-194 mm across, from 2 mm below the heading for 95 mm.
	img, err := exec.Command("pdftoppm", "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), "-r", "40", "-gray",
		"-x", px(31*mm), "-y", px(top+2*mm), "-W", px(163*mm), "-H", px(95*mm), path).Output()
	if err != nil {
		t.Fatalf("pdftoppm: %v", err)
	}
	sum := sha256.Sum256(img)
	return hex.EncodeToString(sum[:])
}

// flat is the PDF's text in the order it was written, white space folded:
// a name wrapped in a table cell reads whole.
func flat(t *testing.T, pdf []byte) string {
	t.Helper()
	return strings.Join(strings.Fields(strings.Join(pdfText(t, pdf, "-raw"), " ")), " ")
}

// The PDF report over HTTP: the heading, the issuer from the server's
// configuration, the people by their tokens' names and titles, the
// language asked for, the reader's clearance as in the JSON (the cleared
// reviewer reads the secret depot, the appraiser below it the referral
// only), and a clear error for a language it does not write.
func TestAppraisalReportPDF(t *testing.T) {
	ts := newTestServerWith(t, httpapi.Config{Version: "test", ReportIssuer: report.Issuer{
		Parent: "Quân khu 1", Body: "Bộ Chỉ huy quân sự tỉnh Lạng Sơn", Place: "Lạng Sơn", BodyEN: "Lang Son Provincial Military Command"}})
	sc := newScene(t, ts)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	issue := func(name, person, title, role, clearance string) string {
		status, _, b := send(t, http.MethodPost, ts.URL+"/api/tokens", admin, []byte(`{"name":"`+name+`","person":"`+person+`","title":"`+title+`","role":"`+role+`","clearance":"`+clearance+`"}`))
		var tok struct {
			Token  string `json:"token"`
			Person string `json:"person"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(b, &tok); status != http.StatusCreated || err != nil || tok.Person != person || tok.Title != title {
			t.Fatalf("token for %s: %d %s", person, status, b)
		}
		return tok.Token
	}
	appraiser := issue("appr-nhung", "Nguyễn Thị Hồng Nhung", "Trợ lý Tác chiến", "appraiser", "public")
	reviewer := issue("rev-viet", "Trần Quốc Việt", "Phó Chỉ huy trưởng", "reviewer", "secret")

	status, h, b := send(t, http.MethodPost, ts.URL+"/api/appraisals", appraiser,
		[]byte(`{"name":"Khu nghỉ dưỡng Đồng Đăng","investor":"Công ty CP Du lịch Xứ Lạng","sector":"tourism","height_m":60,"footprint":`+sc.conflict+`}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	loc := ts.URL + h.Get("Location")
	if status, _, b := send(t, http.MethodPost, loc+"/decision", reviewer, []byte(`{"outcome":"rejected","note":"Dự án chồng lấn khu vực cấm."}`)); status != http.StatusOK {
		t.Fatalf("decide: %d %s", status, b)
	}

	// The record names the people too (for pages that show them).
	_, _, rec := get(t, loc, reviewer)
	var people struct {
		Created struct{ Name, Title string } `json:"created_by_person"`
		Decided struct{ Name, Title string } `json:"decided_by_person"`
	}
	if err := json.Unmarshal(rec, &people); err != nil || people.Created.Name != "Nguyễn Thị Hồng Nhung" || people.Created.Title != "Trợ lý Tác chiến" ||
		people.Decided.Name != "Trần Quốc Việt" || people.Decided.Title != "Phó Chỉ huy trưởng" {
		t.Errorf("the record's people: %+v (%v)", people, err)
	}

	status, hh, pdf := get(t, loc+"/report.pdf", reviewer)
	if status != http.StatusOK || hh.Get("Content-Type") != "application/pdf" || hh.Get("Content-Language") != "vi" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("report.pdf: %d %v %.80q", status, hh, pdf)
	}
	text := flat(t, pdf)
	for _, want := range []string{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "QUÂN KHU 1", "BỘ CHỈ HUY QUÂN SỰ TỈNH LẠNG SƠN",
		"Lạng Sơn, ngày", "BÁO CÁO", "Khu nghỉ dưỡng Đồng Đăng", "Công ty CP Du lịch Xứ Lạng",
		sc.depotName, "XUNG ĐỘT", "Khu vực cấm", "Không chấp thuận", "Dự án chồng lấn khu vực cấm.",
		"NGƯỜI THẨM ĐỊNH", "TRỢ LÝ TÁC CHIẾN", "Nguyễn Thị Hồng Nhung", "PHÓ CHỈ HUY TRƯỞNG", "Trần Quốc Việt",
		"VN-2000 / TM-3", "X (m)", "Y (m)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the cleared reviewer's PDF lacks %q", want)
		}
	}
	for _, tokenID := range []string{"appr-nhung", "rev-viet"} {
		if strings.Contains(text, tokenID) {
			t.Errorf("the PDF names a person by the token %q", tokenID)
		}
	}

	// The appraiser, below the depot's classification, reads the referral:
	// the report says what the JSON says, and nothing of the depot.
	_, _, lowJSON := get(t, loc, appraiser)
	status, _, lowPDF := get(t, loc+"/report.pdf", appraiser)
	if status != http.StatusOK {
		t.Fatalf("appraiser's report.pdf: %d", status)
	}
	if dir := os.Getenv("REPORT_KEEP"); dir != "" { // to look at them
		_ = os.WriteFile(filepath.Join(dir, "http_high.pdf"), pdf, 0o644)
		_ = os.WriteFile(filepath.Join(dir, "http_low.pdf"), lowPDF, 0o644)
	}
	low := flat(t, lowPDF)
	for _, want := range []string{"Vùng tham vấn quốc phòng", "CẦN XEM XÉT", "Thông tin được bảo mật", "Liên hệ Bộ Chỉ huy quân sự tỉnh"} {
		if !strings.Contains(low, want) {
			t.Errorf("the appraiser's PDF lacks %q", want)
		}
	}
	for _, leak := range []string{sc.depotName, "K9", sc.depot.ID.String(), "XUNG ĐỘT", "Khu vực cấm", "12/QĐ-BQP"} {
		if strings.Contains(low, leak) {
			t.Errorf("the appraiser's PDF leaks %q", leak)
		}
		if strings.Contains(string(lowJSON), leak) && leak != "K9" {
			t.Errorf("the appraiser's JSON holds %q: the test's premise is wrong", leak)
		}
	}

	// English, one language: the English heading, no Vietnamese fixed text.
	status, hh, en := get(t, loc+"/report.pdf?lang=en", reviewer)
	if status != http.StatusOK || hh.Get("Content-Language") != "en" {
		t.Fatalf("report.pdf?lang=en: %d %v", status, hh)
	}
	entext := flat(t, en)
	for _, want := range []string{"SOCIALIST REPUBLIC OF VIET NAM", "LANG SON PROVINCIAL MILITARY COMMAND", "REPORT", "CONFLICT", "Restricted area", "Rejected", "APPRAISER"} {
		if !strings.Contains(entext, want) {
			t.Errorf("the English PDF lacks %q", want)
		}
	}
	for _, vi := range []string{"CỘNG HÒA", "BÁO CÁO", "XUNG ĐỘT", "Khu vực cấm", "Không chấp thuận", "Luật số"} {
		if strings.Contains(entext, vi) {
			t.Errorf("the English PDF holds the Vietnamese %q", vi)
		}
	}

	status, hh, b = get(t, loc+"/report.pdf?lang=fr", reviewer)
	mustProblem(t, status, hh, b, http.StatusBadRequest)
	if !strings.Contains(string(b), "lang") {
		t.Errorf("the error does not name lang: %s", b)
	}
}

// The map digest sees the map: a report whose map shows a work differs
// from one that does not, and two renderings of one report agree.
func TestMapDigestSeesTheMap(t *testing.T) {
	ts := newTestServer(t, false)
	sc := newScene(t, ts)
	high, low := ts.token(t, zone.RoleReviewer, zone.Secret), ts.token(t, zone.RoleAppraiser, zone.Public)
	status, h, b := send(t, http.MethodPost, ts.URL+"/api/appraisals", low, []byte(`{"name":"Dự án","footprint":`+sc.conflict+`}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	loc := ts.URL + h.Get("Location") + "/report.pdf"
	_, _, a1 := get(t, loc, high)
	_, _, a2 := get(t, loc, high)
	_, _, l := get(t, loc, low)
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		pdfText(t, a1, "-raw") // fails in CI, skips elsewhere
	}
	if mapDigest(t, a1) != mapDigest(t, a2) {
		t.Fatal("two renderings of one report's map differ: the digest cannot compare worlds")
	}
	if mapDigest(t, a1) == mapDigest(t, l) {
		t.Fatal("the cleared reviewer's map (the depot, its zone) and the appraiser's (consultation cells) give one digest: it does not see the map")
	}
}
