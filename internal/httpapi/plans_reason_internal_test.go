package httpapi

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestRecheckReasonOnlyForReadersClearedForEverything: change impact words
// a parcel's re-check reason as a reader cleared for everything sees the
// change (a hidden depot's id and layer), so a parcel view, JSON or CSV,
// carries it for such readers only; which parcels carry one would draw the
// hidden work's reach for anyone else.
func TestRecheckReasonOnlyForReadersClearedForEverything(t *testing.T) {
	const reason = "component 0196f2a0-0000-7000-8000-000000000001 (depots) version 3"
	pc := &zone.PlanParcel{Seq: 7, Name: "Lô 7", Geometry: orb.Point{106.7, 21.8}, Checked: true, Reason: reason}
	for _, cl := range zone.Classifications() {
		pc.Views[cl] = zone.CheckView{Verdict: "clear", Result: []byte(`{"verdict":"clear","findings":[]}`)}
	}
	for _, cl := range zone.Classifications() {
		pv, err := toParcelView(pc, cl)
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if cl == zone.Secret {
			want = reason
		}
		if pv.Reason != want || recheckReason(pc, cl) != want {
			t.Errorf("clearance %v: reason %q (csv %q), want %q", cl, pv.Reason, recheckReason(pc, cl), want)
		}
	}
}
