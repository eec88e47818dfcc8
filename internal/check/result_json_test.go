package check

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// reflected is Result without its own writer: encoding/json encodes it
// field by field, by reflection, the reference AppendJSON must match.
type reflected Result

func encodingJSON(t *testing.T, r *Result) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode((*reflected)(r)); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// A result writes itself byte for byte as encoding/json writes it: the
// dense checks' answers at three clearances, and results made to hold
// what is awkward to write (escapes, invalid UTF-8, tiny and huge
// numbers, empty and absent members, a collection's features).
func TestResultJSONMatchesEncodingJSON(t *testing.T) {
	src, fps := denseWorld(t, 20_000, 12)
	e := New(rules.Default())
	findings := 0
	for _, fp := range fps {
		for _, p := range []zone.Principal{cleared, callerAt(zone.Restricted), callerAt(zone.Public)} {
			res := e.Check(src, fp, p)
			findings += len(res.Findings)
			if got, want := string(res.AppendJSON(nil)), encodingJSON(t, &res); got != want {
				t.Fatalf("AppendJSON wrote\n%s\nencoding/json writes\n%s", got, want)
			}
		}
	}
	if findings < 100 {
		t.Fatalf("the dense checks found %d findings in all: too few to test the writer", findings)
	}

	f := func(v float64) *float64 { return &v }
	secret := zone.Secret
	odd := "quote \" backslash \\ slash / <tag> & \b\f\n\r\t \x00\x1f\x7f é Đồn \u2028\u2029 bad \xff\xfe end"
	results := []Result{
		{},
		{Verdict: rules.Clear, Findings: []Finding{}},
		{Verdict: rules.Conflict, RulesetVersion: odd, DataVersion: -42, DataView: odd, TookMS: 1e-7,
			Footprint: FootprintStats{AreaM2: 1e21, LengthM: 123456789.125},
			Findings: []Finding{
				{Verdict: rules.Review, Rule: odd, Zone: rules.ZoneTest(odd), Basis: odd, Message: odd, MessageVI: odd,
					Component: ComponentRef{ID: odd, Layer: "l", Kind: "k", Name: odd, Classification: &secret},
					DistanceM: f(0), OverlapAreaM2: f(-0.000001), Overlap: &Overlap{g: orb.Point{105.5, -0.00000001}},
					Provisional: true, EdgeTolerance: true, EscalatedFrom: rules.Notice, Band: odd, Contact: &rules.Text{VI: odd, EN: odd}},
				{Verdict: rules.Review, Rule: rules.RuleConsultation, Component: ComponentRef{Redacted: true}},
				{Component: ComponentRef{Kind: "only kind"}, DistanceM: f(math.MaxFloat64), OverlapAreaM2: f(5e-324)},
			},
			Features: []FeatureResult{
				{Index: 0, Verdict: rules.Clear},
				{Index: 7, Verdict: rules.Conflict, Footprint: FootprintStats{AreaM2: 0.1}, Findings: []Finding{{Band: "x"}}},
			},
		},
	}
	for i := range results {
		if got, want := string(results[i].AppendJSON(nil)), encodingJSON(t, &results[i]); got != want {
			t.Fatalf("result %d: AppendJSON wrote\n%s\nencoding/json writes\n%s", i, got, want)
		}
		// As a member of another value, through MarshalJSON.
		outer, err := json.Marshal(map[string]*Result{"r": &results[i]})
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]json.RawMessage
		if err := json.Unmarshal(outer, &back); err != nil {
			t.Fatal(err)
		}
		var again Result
		if err := json.Unmarshal(back["r"], &again); err != nil {
			t.Fatalf("result %d does not read back: %v", i, err)
		}
	}
}
