package storetest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// markers returns n valid border markers of layer border_markers with codes
// prefix-000, prefix-001, ...
func markers(n int, prefix string) []*zone.Component {
	cs := make([]*zone.Component, n)
	for i := range cs {
		cs[i] = NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %s-%03d", prefix, i), orb.Point{106 + float64(i)/1000, 21.9})
		cs[i].Code = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return cs
}

func runImport(t *testing.T, open func(t *testing.T) zone.Store) {
	t.Run("AllGood", func(t *testing.T) {
		s := open(t)
		var mu sync.Mutex
		var progress []int
		cs := markers(100, "G")
		res, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, cs, zone.ImportOptions{
			By: "importer",
			Progress: func(done int) {
				mu.Lock()
				progress = append(progress, done)
				mu.Unlock()
			},
		})
		if err != nil {
			t.Fatalf("ImportComponents: %v", err)
		}
		if res.Created != 100 || res.Updated != 0 {
			t.Errorf("result %+v, want 100 created", res)
		}
		got := listAll(t, s, zone.Query{})
		if len(got) != 100 {
			t.Fatalf("stored %d, want 100", len(got))
		}
		byCode := map[string]*zone.Component{}
		for _, c := range got {
			byCode[c.Code] = c
			if c.Version != 1 || c.CreatedBy != "importer" || c.CreatedAt.IsZero() {
				t.Errorf("imported %q: version %d by %q at %v; want version 1 by importer, stamped", c.Code, c.Version, c.CreatedBy, c.CreatedAt)
			}
		}
		for _, in := range cs {
			c := byCode[in.Code]
			if c == nil {
				t.Fatalf("code %s not stored", in.Code)
			}
			if c.Name != in.Name || !geomEqual(c.Geometry, in.Geometry) {
				t.Errorf("code %s stored as %q %v, want %q %v", in.Code, c.Name, c.Geometry, in.Name, in.Geometry)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(progress) == 0 {
			t.Fatal("Progress was never called")
		}
		for i := 1; i < len(progress); i++ {
			if progress[i] < progress[i-1] {
				t.Errorf("progress went backwards: %v", progress)
			}
		}
		if last := progress[len(progress)-1]; last != 100 {
			t.Errorf("last progress %d, want 100", last)
		}
	})

	t.Run("BadFeaturesRejectAll", func(t *testing.T) {
		s := open(t)
		Create(t, s, NewComponent(zone.LayerBorderMarkers, "Mốc có sẵn", orb.Point{106.9, 21.9}))
		before, beforeVersion := count(t, s, zone.Query{}), dataVersion(t, s)
		cs := markers(100, "B")
		cs[7].Geometry = orb.Point{106.9, 121.9}                 // latitude out of range
		cs[42].Name = ""                                         // name missing
		cs[93].Geometry = orb.LineString{{106, 21}, {106.1, 21}} // a line in a point layer
		_, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, cs, zone.ImportOptions{By: "importer"})
		RequireCode(t, err, zone.CodeInvalid, "import with 3 bad features")
		indexes := map[int]bool{}
		for _, d := range zone.ErrorDetails(err) {
			indexes[d.Index] = true
			if d.Reason == "" {
				t.Errorf("detail for feature %d has no reason", d.Index)
			}
		}
		var got []int
		for i := range indexes {
			got = append(got, i)
		}
		sort.Ints(got)
		if fmt.Sprint(got) != "[7 42 93]" {
			t.Errorf("details name features %v, want [7 42 93] (details: %s)", got, ErrorText(err))
		}
		if after := count(t, s, zone.Query{}); after != before {
			t.Errorf("a refused import changed the store: count %d -> %d", before, after)
		}
		if v := dataVersion(t, s); v != beforeVersion {
			t.Errorf("a refused import moved the data version %d -> %d", beforeVersion, v)
		}
	})

	t.Run("EmptyAndWrongLayer", func(t *testing.T) {
		s := open(t)
		res, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, nil, zone.ImportOptions{})
		if err != nil || res != (zone.ImportResult{}) {
			t.Errorf("empty import: %+v, %v; want nothing and no error", res, err)
		}
		cs := markers(5, "L")
		cs[3].Layer = zone.LayerCommuneHQs
		cs[3].Kind = ""
		_, err = s.ImportComponents(t.Context(), zone.LayerBorderMarkers, cs, zone.ImportOptions{})
		RequireCode(t, err, zone.CodeInvalid, "importing a feature of another layer")
		details := zone.ErrorDetails(err)
		if len(details) == 0 || details[0].Index != 3 || !containsFold(ErrorText(err), zone.LayerCommuneHQs) {
			t.Errorf("wrong-layer import: details %+v, want feature 3 named with its layer", details)
		}
		if n := count(t, s, zone.Query{Clearance: zone.Secret}); n != 0 {
			t.Errorf("refused import stored %d", n)
		}
	})

	t.Run("UpsertByCode", func(t *testing.T) {
		s := open(t)
		first := markers(10, "U")
		if _, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, first, zone.ImportOptions{By: "a"}); err != nil {
			t.Fatal(err)
		}
		idByCode := map[string]uuid.UUID{}
		for _, c := range listAll(t, s, zone.Query{}) {
			idByCode[c.Code] = c.ID
		}
		second := markers(15, "U") // 10 existing codes, 5 new
		for _, c := range second {
			c.Name += " (sửa)"
		}
		res, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, second, zone.ImportOptions{Upsert: true, By: "b"})
		if err != nil {
			t.Fatalf("upsert by code: %v", err)
		}
		if res.Created != 5 || res.Updated != 10 {
			t.Errorf("upsert result %+v, want 5 created 10 updated", res)
		}
		got := listAll(t, s, zone.Query{})
		if len(got) != 15 {
			t.Fatalf("after upsert %d stored, want 15", len(got))
		}
		for _, c := range got {
			old, existed := idByCode[c.Code]
			wantVersion := int64(1)
			if existed {
				wantVersion = 2
				if c.ID != old {
					t.Errorf("upsert of code %s replaced id %s by %s", c.Code, old, c.ID)
				}
			}
			if c.Version != wantVersion || c.UpdatedBy != "b" || !strings.HasSuffix(c.Name, " (sửa)") {
				t.Errorf("after upsert %s: %q version %d by %q; want the new name, version %d by b", c.Code, c.Name, c.Version, c.UpdatedBy, wantVersion)
			}
		}
	})

	t.Run("UpsertByID", func(t *testing.T) {
		s := open(t)
		first := markers(5, "I")
		for _, c := range first {
			c.ID = uuid.New()
			c.Code = ""
		}
		if _, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, first, zone.ImportOptions{By: "a"}); err != nil {
			t.Fatal(err)
		}
		second := make([]*zone.Component, len(first))
		for i, c := range first {
			second[i] = c.Clone()
			second[i].Name = fmt.Sprintf("Mốc đổi %d", i)
		}
		res, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, second, zone.ImportOptions{Upsert: true, By: "b"})
		if err != nil {
			t.Fatalf("upsert by id: %v", err)
		}
		if res.Created != 0 || res.Updated != 5 {
			t.Errorf("upsert result %+v, want 5 updated", res)
		}
		for i, c := range first {
			got, err := s.GetComponent(t.Context(), c.ID, zone.Secret)
			if err != nil {
				t.Fatalf("get %s: %v", c.ID, err)
			}
			if got.Name != second[i].Name || got.Version != 2 {
				t.Errorf("after upsert by id: %q version %d, want %q version 2", got.Name, got.Version, second[i].Name)
			}
		}
		if n := count(t, s, zone.Query{}); n != 5 {
			t.Errorf("count after upsert by id = %d, want 5", n)
		}
	})

	t.Run("DuplicateWithoutUpsert", func(t *testing.T) {
		s := open(t)
		existing := markers(1, "D")[0]
		existing = Create(t, s, existing)
		before, beforeVersion := count(t, s, zone.Query{}), dataVersion(t, s)

		byCode := markers(6, "D") // D-000 exists
		_, err := s.ImportComponents(t.Context(), zone.LayerBorderMarkers, byCode, zone.ImportOptions{})
		RequireCode(t, err, zone.CodeConflict, "importing an existing code without upsert")

		byID := markers(3, "E")
		byID[2].ID = existing.ID
		_, err = s.ImportComponents(t.Context(), zone.LayerBorderMarkers, byID, zone.ImportOptions{})
		RequireCode(t, err, zone.CodeConflict, "importing an existing id without upsert")

		inBatch := markers(4, "F")
		inBatch[3].Code = inBatch[1].Code
		_, err = s.ImportComponents(t.Context(), zone.LayerBorderMarkers, inBatch, zone.ImportOptions{})
		if code := zone.ErrorCode(err); code != zone.CodeConflict && code != zone.CodeInvalid {
			t.Errorf("importing one code twice in a batch: %v, want conflict or invalid", err)
		}

		if after := count(t, s, zone.Query{}); after != before {
			t.Errorf("refused imports stored something: count %d -> %d", before, after)
		}
		if v := dataVersion(t, s); v != beforeVersion {
			t.Errorf("refused imports moved the data version %d -> %d", beforeVersion, v)
		}
	})
}
