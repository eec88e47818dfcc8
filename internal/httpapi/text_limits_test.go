package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The texts a report prints are bounded where they are written: a name,
// investor or sector over its length or on more than one line, too many
// activities, and a decision note over its length or lines
// are each a 422 problem naming the field and the limit (in Vietnamese
// when asked), and nothing is stored; texts at the limits are taken.
func TestAppraisalTextLimits(t *testing.T) {
	ts := newTestServer(t, false)
	sc := newScene(t, ts)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	create := func(fields map[string]any, lang string) (int, []byte) {
		t.Helper()
		fields["footprint"] = json.RawMessage(sc.clear)
		body, _ := json.Marshal(fields)
		status, _, b := send(t, http.MethodPost, ts.URL+"/api/appraisals"+lang, admin, body)
		return status, b
	}
	type problem struct {
		Type   string `json:"type"`
		Errors []struct {
			Pointer string `json:"pointer"`
			Reason  string `json:"reason"`
		} `json:"errors"`
	}
	refused := func(what string, status int, b []byte, pointer, reason string) {
		t.Helper()
		var p problem
		if err := json.Unmarshal(b, &p); status != http.StatusUnprocessableEntity || err != nil || len(p.Errors) != 1 ||
			p.Errors[0].Pointer != pointer || !strings.Contains(p.Errors[0].Reason, reason) {
			t.Errorf("%s: %d %.300s, want 422 naming %s: %q", what, status, b, pointer, reason)
		}
	}
	long := func(n int) string { return strings.Repeat("ậ", n) }
	for _, c := range []struct {
		field   string
		value   any
		pointer string
		reason  string
	}{
		{"name", long(httpapi.MaxNameChars + 1), "name", "name is 301 characters long, more than the 300 allowed"},
		{"name", "Khu A\nKhu B", "name", "name has 2 lines, more than the 1 allowed"},
		{"investor", long(httpapi.MaxInvestorChars + 1), "investor", "more than the 300 allowed"},
		{"investor", strings.Repeat("A\n", 120), "investor", "investor has 120 lines"},
		{"sector", long(httpapi.MaxSectorChars + 1), "sector", "more than the 100 allowed"},
		{"activities", make([]string, httpapi.MaxActivities+1), "activities", "activities has 51 entries, more than the 50 allowed"},
	} {
		fields := map[string]any{"name": "Khu nghỉ dưỡng", c.field: c.value}
		status, b := create(fields, "")
		refused(c.field, status, b, c.pointer, c.reason)
	}
	status, b := create(map[string]any{"name": "Khu nghỉ dưỡng", "investor": long(httpapi.MaxInvestorChars + 1)}, "?lang=vi")
	refused("investor in Vietnamese", status, b, "investor", "investor dài 301 ký tự, vượt quá 300 ký tự cho phép")
	if status, _, b := get(t, ts.URL+"/api/appraisals", admin); status != http.StatusOK || strings.Contains(string(b), "Khu nghỉ dưỡng") {
		t.Errorf("a refused appraisal was stored: %d %.300s", status, b)
	}

	status, b = create(map[string]any{"name": long(httpapi.MaxNameChars), "investor": long(httpapi.MaxInvestorChars),
		"sector": long(httpapi.MaxSectorChars)}, "")
	if status != http.StatusCreated {
		t.Fatalf("texts at their limits: %d %.300s", status, b)
	}
	id := jsonField(t, b, "id")
	decide := func(note string) (int, []byte) {
		body, _ := json.Marshal(map[string]string{"outcome": "rejected", "note": note})
		status, _, b := send(t, http.MethodPost, ts.URL+"/api/appraisals/"+id+"/decision", admin, body)
		return status, b
	}
	status, b = decide(strings.Repeat("x\n", httpapi.MaxNoteLines+1))
	refused("note lines", status, b, "note", "note has 61 lines, more than the 60 allowed")
	status, b = decide(long(httpapi.MaxNoteChars + 1))
	refused("note length", status, b, "note", "note is 4001 characters long, more than the 4000 allowed")
	if status, b := decide(strings.Repeat("Dòng ghi chú.\n", httpapi.MaxNoteLines)); status != http.StatusOK {
		t.Errorf("a note at its limit: %d %.300s", status, b)
	}
}
