package httpapi_test

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// hugeFootprint is the attacker's footprint: two points 100 km apart,
// whose box spans most of Lạng Sơn and Bắc Giang, and which meets no
// hidden work itself (its check is clear at every clearance).
const hugeFootprint = `{"type":"MultiPoint","coordinates":[[105.9,21.0],[106.9,21.9]]}`

// hiddenDepot is a depot with a 500 m safety belt at p, of
// classification cl.
func hiddenDepot(name string, p orb.Point, cl zone.Classification) *zone.Component {
	return &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: name, Code: strings.ToUpper(name[len(name)-3:]),
		Classification: cl, FunctionType: zone.FunctionC, Group: zone.GroupI, Synthetic: true, Geometry: p,
		Zones: []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 500}}}
}

// fourDepots are four depots 20-70 km apart inside the huge footprint's
// box, none near its two points, moved east and north by dx, dy metres.
func fourDepots(dx, dy float64, cl [4]zone.Classification) []*zone.Component {
	spots := [4]orb.Point{{106.20, 21.30}, {106.50, 21.45}, {106.70, 21.70}, {106.35, 21.75}}
	var out []*zone.Component
	for i, p := range spots {
		out = append(out, hiddenDepot(fmt.Sprintf("Kho mật D%02d", i+1), at(p, dx, dy), cl[i]))
	}
	return out
}

// pdfStreams is every stream of a PDF, inflated when it is Flate-encoded:
// its pages' content streams (what is drawn where), its fonts, its images.
func pdfStreams(t *testing.T, pdf []byte) []string {
	t.Helper()
	var out []string
	for _, m := range pdfStream.FindAllSubmatch(pdf, -1) {
		body := m[1]
		if r, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
			if b, err := io.ReadAll(r); err == nil {
				body = b
			}
		}
		out = append(out, string(body))
	}
	if len(out) == 0 {
		t.Fatalf("no stream in the PDF")
	}
	return out
}

var pdfStream = regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)

// An uncleared appraiser's report says nothing of hidden works the stored
// check did not already say: a public appraiser makes an appraisal of a
// footprint whose box spans 100 km (two points, clear), rechecks it, and
// reads its report, HTML and PDF, in both languages. Across worlds where
// four hidden depots 20-70 km from the points are absent, present, moved
// by kilometres (into other consultation cells), of another
// classification (restricted), and of mixed classifications in either
// order (internal + secret, secret + internal, secret + secret), the HTML
// is byte for byte the same, and so are the PDF's text and every stream
// (its pages' content streams: no cell drawn, none drawn in another
// order). The appraisal and the check's dates are the base's, so the
// reports differ in nothing else; the worlds are read within one minute
// (the report prints its time to the minute).
func TestReportShowsNoHiddenWorks(t *testing.T) {
	S, R, I := zone.Secret, zone.Restricted, zone.Internal
	all := func(c zone.Classification) [4]zone.Classification { return [4]zone.Classification{c, c, c, c} }
	worlds := []struct {
		name   string
		hidden []*zone.Component
	}{
		{"absent", nil},
		{"secret", fourDepots(0, 0, all(S))},
		{"moved", fourDepots(6500, 4300, all(S))},
		{"restricted", fourDepots(0, 0, all(R))},
		{"internal+secret", fourDepots(0, 0, [4]zone.Classification{I, S, I, S})},
		{"secret+internal", fourDepots(0, 0, [4]zone.Classification{S, I, S, I})},
	}
	k := storeKinds()[0]
	st, handle := k.fresh(t)
	b := buildBase(t, st, []caller{{name: "appr", role: zone.RoleAppraiser, clearance: zone.Public}})
	appraiser := b.callers[0].token
	srv := serve(t, st, httpapi.Config{})
	status, h, body := send(t, http.MethodPost, srv.url+"/api/appraisals", appraiser,
		[]byte(`{"name":"Khu đô thị rộng","investor":"Công ty thăm dò","sector":"housing","footprint":`+hugeFootprint+`}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	loc := h.Get("Location")
	srv.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var servers []*worldServer
	for _, w := range worlds {
		wst := k.copyOf(t, handle)
		addHidden(t, wst, w.hidden)
		servers = append(servers, serve(t, wst, httpapi.Config{}))
	}

	// Keep clear of a minute's end: the rechecks' and the reports' times
	// are printed to the minute.
	if now := time.Now(); now.Second() > 40 {
		time.Sleep(time.Until(now.Truncate(time.Minute).Add(time.Minute)))
	}
	start := time.Now().Truncate(time.Minute)
	for i, srv := range servers {
		status, _, body := send(t, http.MethodPost, srv.url+loc+"/recheck", appraiser, nil)
		if status != http.StatusOK || !strings.Contains(string(body), `"verdict":"clear"`) {
			t.Fatalf("%s: recheck: %d %s", worlds[i].name, status, body)
		}
	}
	type report struct {
		html, text string
		streams    []string
	}
	read := func(srv *worldServer, name string) report {
		var r report
		for _, lang := range []string{"vi", "en"} {
			status, _, html := get(t, srv.url+loc+"/report?lang="+lang, appraiser)
			status2, _, pdf := get(t, srv.url+loc+"/report.pdf?lang="+lang, appraiser)
			if status != http.StatusOK || status2 != http.StatusOK {
				t.Fatalf("%s: reports: %d, %d", name, status, status2)
			}
			r.html += string(html)
			r.text += pdfTextForDiff(t, pdf)
			r.streams = append(r.streams, pdfStreams(t, pdf)...)
		}
		return r
	}
	var reports []report
	for i, srv := range servers {
		reports = append(reports, read(srv, worlds[i].name))
	}
	if end := time.Now().Truncate(time.Minute); !end.Equal(start) {
		t.Fatalf("the worlds were read across a minute's end (%s to %s): run again", start.Format("15:04"), end.Format("15:04"))
	}
	// The check was clear: the report has no referral, and must draw no
	// consultation area either (the base holds a secret work in the box).
	if strings.Contains(reports[0].html, "tham vấn") || strings.Contains(reports[0].html, "onsultation") {
		t.Errorf("LEAK: the report of a clear check shows a consultation area")
	}
	for i := 1; i < len(reports); i++ {
		a, w := reports[0], reports[i]
		if a.html != w.html {
			t.Errorf("LEAK: the HTML report differs between the worlds %q and %q (%s)", worlds[0].name, worlds[i].name, firstDiff(a.html, w.html))
		}
		if a.text != w.text {
			t.Errorf("LEAK: the PDF's text or map differs between the worlds %q and %q (%s)", worlds[0].name, worlds[i].name, firstDiff(a.text, w.text))
		}
		if len(a.streams) != len(w.streams) {
			t.Errorf("LEAK: the PDF has %d streams in world %q, %d in %q", len(a.streams), worlds[0].name, len(w.streams), worlds[i].name)
			continue
		}
		for j := range a.streams {
			if a.streams[j] != w.streams[j] {
				t.Errorf("LEAK: the PDF's stream %d differs between the worlds %q and %q (%s)", j, worlds[0].name, worlds[i].name, firstDiff(a.streams[j], w.streams[j]))
			}
		}
	}
}

// firstDiff shows where two strings part.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-60)
	return fmt.Sprintf("at byte %d: %q vs %q", i, a[from:min(len(a), i+60)], b[from:min(len(b), i+60)])
}

// Reading a report is recorded in the audit trail, like the appraisal's
// other steps: who read which appraisal's report, in which format and
// language, so re-reading reports is visible as re-checking is; not in
// the appraisal's history of steps.
func TestReportReadsAreAudited(t *testing.T) {
	st := newEmbeddedStore(t)
	ts := newAuditServer(t, st, auditOptions{})
	sc := newScene(t, ts.testServer)
	appraiser := ts.token(t, zone.RoleAppraiser, zone.Public)
	auditor := ts.token(t, zone.RoleAuditor, zone.Secret)
	status, _, body := send(t, http.MethodPost, ts.URL+"/api/appraisals", appraiser,
		[]byte(`{"name":"Khu nghỉ dưỡng","investor":"Công ty","sector":"tourism","footprint":`+sc.review+`}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	id := jsonField(t, body, "id")
	for _, path := range []string{"/report.pdf?lang=en", "/report", "/report.pdf"} {
		if status, _, body := get(t, ts.URL+"/api/appraisals/"+id+path, appraiser); status != http.StatusOK {
			t.Fatalf("%s: %d %.200s", path, status, body)
		}
	}
	if err := ts.Trail.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	page, _ := readAudit(t, ts.URL, "/api/audit?action=report.read&limit=100", auditor)
	var got []string
	for _, e := range page.Items {
		if e.Object != id || e.Actor.Role != "appraiser" || e.Actor.Clearance != "public" || e.Classification != "public" {
			t.Errorf("report read entry %+v: want the appraisal %s read by the public appraiser", e, id)
		}
		got = append(got, string(e.Detail))
	}
	// Newest first.
	if want := `[{"format":"pdf","lang":"vi"} {"format":"html","lang":"vi"} {"format":"pdf","lang":"en"}]`; fmt.Sprint(got) != want {
		t.Errorf("report reads in the trail: %s, want %s", got, want)
	}
	// The appraisal's history is its steps: reads, however many, never
	// crowd them out.
	status, _, body = get(t, ts.URL+"/api/appraisals/"+id, appraiser)
	var v struct {
		History []auditEntry `json:"history"`
	}
	if err := json.Unmarshal(body, &v); status != http.StatusOK || err != nil || len(v.History) != 1 || v.History[0].Action != zone.AuditAppraisalCreated {
		t.Errorf("the appraisal's history: %d %+v, want its creation only", status, v.History)
	}
}
