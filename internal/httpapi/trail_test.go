package httpapi

import (
	"encoding/json"
	"testing"
)

// TestCheckDetailIsJSON: the hand-written encoding of a check's entry is
// the JSON encoding/json would read back, whatever the strings hold.
func TestCheckDetailIsJSON(t *testing.T) {
	for _, rs := range []string{"2025.1", `quote " and \ backslash`, "tab\tnewline\n\x01", "Quy tắc – bản 2", ""} {
		d := checkDetail{Footprint: [32]byte{1, 2, 255}, BBox: [4]float64{106.5, 21.25, 106.5000001, -1e-7}, Features: 3,
			Verdict: "review", Findings: 2, Consultation: true, RuleSet: rs, Site: "x\"y"}
		b := d.appendJSON(nil)
		var back struct {
			Footprint    string     `json:"footprint_sha256"`
			BBox         [4]float64 `json:"bbox"`
			Features     int        `json:"features"`
			Verdict      string     `json:"verdict"`
			Findings     int        `json:"findings"`
			Consultation bool       `json:"consultation"`
			RuleSet      string     `json:"ruleset"`
			Site         string     `json:"site"`
		}
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back.Footprint[:6] != "0102ff" || len(back.Footprint) != 64 || back.BBox != d.BBox || back.Features != 3 || back.Verdict != "review" ||
			back.Findings != 2 || !back.Consultation || back.RuleSet != rs || back.Site != "x\"y" {
			t.Fatalf("%s read back as %+v", b, back)
		}
	}
}
