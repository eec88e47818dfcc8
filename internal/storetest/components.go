package storetest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func runComponents(t *testing.T, open func(t *testing.T) zone.Store) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		in := NewComponent(zone.LayerDefenceWorks, "Kho vũ khí K5 (giả lập)", Square(106.70, 21.85, 0.01))
		in.Kind = zone.KindDepot
		in.Code = "CT-K5"
		in.FunctionType = zone.FunctionC
		in.Group = zone.GroupII
		in.Classification = zone.Internal
		in.Properties = map[string]any{"note": "Số liệu giả lập", "capacity_t": 120.5, "tags": []any{"a", "b"}}
		in.Zones = []zone.ProtectionZone{
			{Kind: zone.RestrictedArea, Geometry: Square(106.699, 21.849, 0.012), Decision: "123/QĐ-BQP", DecisionDate: "2024-05-17"},
			{Kind: zone.SafetyBelt, WidthM: 500},
		}
		got, err := s.CreateComponent(ctx, in, "editor-1")
		if err != nil {
			t.Fatalf("CreateComponent: %v", err)
		}
		if got.ID == uuid.Nil {
			t.Fatal("CreateComponent assigned no id")
		}
		if got.Version != 1 {
			t.Errorf("version after create = %d, want 1", got.Version)
		}
		if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
			t.Errorf("timestamps not set: created %v updated %v", got.CreatedAt, got.UpdatedAt)
		}
		if got.CreatedBy != "editor-1" {
			t.Errorf("CreatedBy = %q, want editor-1", got.CreatedBy)
		}
		want := in.Clone()
		want.ID, want.Version = got.ID, 1
		want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
		want.CreatedBy, want.UpdatedBy = "editor-1", got.UpdatedBy
		SameComponent(t, want, got)

		read, err := s.GetComponent(ctx, got.ID, zone.Secret)
		if err != nil {
			t.Fatalf("GetComponent: %v", err)
		}
		SameComponent(t, got, read)

		// An explicit id is kept; creating it again is a conflict.
		fixed := NewComponent(zone.LayerCommuneHQs, "Trụ sở BCHQS xã Tân Mỹ", orb.Point{106.71, 21.86})
		fixed.ID = uuid.New()
		if c := Create(t, s, fixed); c.ID != fixed.ID {
			t.Fatalf("CreateComponent replaced the given id %s by %s", fixed.ID, c.ID)
		}
		_, err = s.CreateComponent(ctx, fixed, "editor-1")
		RequireCode(t, err, zone.CodeConflict, "creating an existing id again")

		upd := read.Clone()
		upd.Name = "Kho vũ khí K5 (đã đổi tên)"
		upd.Properties = map[string]any{"note": "đã cập nhật"}
		upd.Zones = upd.Zones[1:]
		upd.Geometry = orb.Point{106.705, 21.855}
		after, err := s.UpdateComponent(ctx, upd, 0, zone.Secret, "editor-2")
		if err != nil {
			t.Fatalf("UpdateComponent: %v", err)
		}
		if after.Version != 2 {
			t.Errorf("version after update = %d, want 2", after.Version)
		}
		if !sameTime(after.CreatedAt, got.CreatedAt) || after.CreatedBy != "editor-1" {
			t.Errorf("update changed creation: %v by %q, want %v by editor-1", after.CreatedAt, after.CreatedBy, got.CreatedAt)
		}
		if after.UpdatedBy != "editor-2" || after.UpdatedAt.Before(got.UpdatedAt) {
			t.Errorf("update stamp %v by %q, want >= %v by editor-2", after.UpdatedAt, after.UpdatedBy, got.UpdatedAt)
		}
		want = upd.Clone()
		want.Version, want.CreatedAt, want.CreatedBy = 2, got.CreatedAt, "editor-1"
		want.UpdatedAt, want.UpdatedBy = after.UpdatedAt, "editor-2"
		SameComponent(t, want, after)
		read, err = s.GetComponent(ctx, got.ID, zone.Secret)
		if err != nil {
			t.Fatalf("GetComponent after update: %v", err)
		}
		SameComponent(t, after, read)

		missing := upd.Clone()
		missing.ID = uuid.New()
		_, err = s.UpdateComponent(ctx, missing, 0, zone.Secret, "editor-2")
		RequireCode(t, err, zone.CodeNotFound, "updating an unknown id")

		if err := s.DeleteComponent(ctx, got.ID, 0, zone.Secret, "editor-2"); err != nil {
			t.Fatalf("DeleteComponent: %v", err)
		}
		_, err = s.GetComponent(ctx, got.ID, zone.Secret)
		RequireCode(t, err, zone.CodeNotFound, "getting a deleted component")
		err = s.DeleteComponent(ctx, got.ID, 0, zone.Secret, "editor-2")
		RequireCode(t, err, zone.CodeNotFound, "deleting a deleted component")
		if n := count(t, s, zone.Query{Clearance: zone.Secret}); n != 1 {
			t.Errorf("count after delete = %d, want 1", n)
		}
		_, err = s.GetComponent(ctx, uuid.New(), zone.Secret)
		RequireCode(t, err, zone.CodeNotFound, "getting an unknown id")
	})

	t.Run("VietnameseNames", func(t *testing.T) {
		s := open(t)
		precomposed := "Đồn Biên phòng Hữu Nghị"
		// The same words with combining marks (NFD): different bytes, kept as given.
		decomposed := "Đo\u0302\u0300n Bie\u0302n pho\u0300ng Hu\u031b\u0303u Nghi\u0323"
		if precomposed == decomposed {
			t.Fatal("test data: the two spellings must differ in bytes")
		}
		inputs := []*zone.Component{
			NewComponent(zone.LayerCombatBases, precomposed, orb.Point{106.75, 21.97}),
			NewComponent(zone.LayerCombatBases, decomposed, orb.Point{106.76, 21.97}),
			NewComponent(zone.LayerCommuneHQs, "Trụ sở BCHQS xã Đồng Đăng", orb.Point{106.70, 21.95}),
		}
		inputs[0].Code = "ĐBP-HN"
		inputs[2].Properties = map[string]any{"địa_chỉ": "Thị trấn Đồng Đăng, huyện Cao Lộc, tỉnh Lạng Sơn"}
		for _, in := range inputs {
			got := Create(t, s, in)
			read, err := s.GetComponent(t.Context(), got.ID, zone.Secret)
			if err != nil {
				t.Fatalf("GetComponent: %v", err)
			}
			if read.Name != in.Name {
				t.Errorf("name not byte-exact: stored %q (% x), got %q (% x)", in.Name, in.Name, read.Name, read.Name)
			}
			if read.Code != in.Code {
				t.Errorf("code not byte-exact: %q, got %q", in.Code, read.Code)
			}
			want := in.Clone()
			want.ID, want.Version, want.CreatedAt, want.UpdatedAt, want.CreatedBy, want.UpdatedBy =
				got.ID, 1, got.CreatedAt, got.UpdatedAt, got.CreatedBy, got.UpdatedBy
			SameComponent(t, want, read)
		}
		listed := names(listAll(t, s, zone.Query{Layers: []string{zone.LayerCombatBases}}))
		sort.Strings(listed)
		wantNames := []string{inputs[0].Name, inputs[1].Name}
		sort.Strings(wantNames)
		if fmt.Sprint(listed) != fmt.Sprint(wantNames) {
			t.Errorf("listed names %q, want %q", listed, wantNames)
		}
	})

	t.Run("ListOrderedByLayerThenID", func(t *testing.T) {
		s := open(t)
		layers := []string{zone.LayerProjectSites, zone.LayerBorderMarkers, zone.LayerCommuneHQs}
		var created []*zone.Component
		for i := 0; i < 15; i++ {
			l := layers[i%len(layers)]
			created = append(created, Create(t, s, NewComponent(l, fmt.Sprintf("Điểm %02d", i), orb.Point{106.7 + float64(i)/100, 21.8})))
		}
		got := listAll(t, s, zone.Query{Clearance: zone.Secret})
		if len(got) != len(created) {
			t.Fatalf("listed %d, want %d", len(got), len(created))
		}
		sort.Slice(created, func(i, j int) bool { return less(created[i], created[j]) })
		for i := range got {
			if got[i].ID != created[i].ID {
				t.Fatalf("position %d: got %s/%s, want %s/%s (order must be layer, then id)", i, got[i].Layer, got[i].ID, created[i].Layer, created[i].ID)
			}
			SameComponent(t, created[i], got[i])
		}
		if n := count(t, s, zone.Query{Clearance: zone.Secret}); n != len(got) {
			t.Errorf("count %d != listed %d", n, len(got))
		}

		byLayer := listAll(t, s, zone.Query{Layers: []string{zone.LayerCommuneHQs, zone.LayerBorderMarkers}, Clearance: zone.Secret})
		if len(byLayer) != 10 {
			t.Fatalf("two layers listed %d, want 10", len(byLayer))
		}
		for i, c := range byLayer {
			wantLayer := zone.LayerBorderMarkers
			if i >= 5 {
				wantLayer = zone.LayerCommuneHQs
			}
			if c.Layer != wantLayer {
				t.Errorf("position %d: layer %s, want %s", i, c.Layer, wantLayer)
			}
		}
		if n := count(t, s, zone.Query{Layers: []string{zone.LayerCommuneHQs}, Clearance: zone.Secret}); n != 5 {
			t.Errorf("count of one layer = %d, want 5", n)
		}

		ids := []uuid.UUID{created[3].ID, created[11].ID, uuid.New()}
		byID := listAll(t, s, zone.Query{IDs: ids, Clearance: zone.Secret})
		if len(byID) != 2 {
			t.Fatalf("listing by ids returned %d, want 2", len(byID))
		}
		if n := count(t, s, zone.Query{IDs: ids, Clearance: zone.Secret}); n != 2 {
			t.Errorf("count by ids = %d, want 2", n)
		}

		stop := errors.New("enough")
		calls := 0
		err := s.ListComponents(t.Context(), zone.Query{Clearance: zone.Secret}, func(*zone.Component) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 3 {
			t.Errorf("callback error: ListComponents returned %v after %d calls, want the callback's error after 3", err, calls)
		}
	})

	t.Run("LimitOffset", func(t *testing.T) {
		s := open(t)
		for i := 0; i < 12; i++ {
			Create(t, s, NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d", i), orb.Point{106.6 + float64(i)/100, 21.9}))
		}
		all := listAll(t, s, zone.Query{})
		var paged []*zone.Component
		for _, off := range []int{0, 5, 10} {
			page := listAll(t, s, zone.Query{Limit: 5, Offset: off})
			wantLen := min(5, 12-off)
			if len(page) != wantLen {
				t.Fatalf("page at offset %d has %d, want %d", off, len(page), wantLen)
			}
			paged = append(paged, page...)
		}
		for i := range all {
			if paged[i].ID != all[i].ID {
				t.Fatalf("paged position %d is %s, unpaged %s", i, paged[i].ID, all[i].ID)
			}
		}
		if page := listAll(t, s, zone.Query{Limit: 5, Offset: 12}); len(page) != 0 {
			t.Errorf("offset past the end returned %d", len(page))
		}
		if n := count(t, s, zone.Query{Limit: 5, Offset: 10}); n != 12 {
			t.Errorf("count ignores limit and offset: got %d, want 12", n)
		}
	})

	t.Run("ListByBound", func(t *testing.T) {
		s := open(t)
		box := orb.Bound{Min: orb.Point{106.0, 21.0}, Max: orb.Point{106.1, 21.1}}
		type tc struct {
			name  string
			layer string
			geom  orb.Geometry
			in    bool
		}
		holey := Rect(105.8, 20.8, 106.4, 21.4)
		hole := Rect(105.95, 20.95, 106.15, 21.15)[0]
		holey = append(holey, orb.Ring{hole[0], hole[3], hole[2], hole[1], hole[0]})
		cases := []tc{
			{"point inside", zone.LayerBorderMarkers, orb.Point{106.05, 21.05}, true},
			{"point on the east edge", zone.LayerBorderMarkers, orb.Point{106.1, 21.05}, true},
			{"point on the south-west corner", zone.LayerBorderMarkers, orb.Point{106.0, 21.0}, true},
			{"point just outside", zone.LayerBorderMarkers, orb.Point{106.1000001, 21.05}, false},
			{"point far away", zone.LayerBorderMarkers, orb.Point{107, 22}, false},
			{"square sharing the east edge", zone.LayerCombatBases, Rect(106.1, 21.0, 106.2, 21.1), true},
			{"square touching the north-east corner", zone.LayerCombatBases, Rect(106.1, 21.1, 106.2, 21.2), true},
			{"square around the box", zone.LayerCombatBases, Rect(105.9, 20.9, 106.3, 21.3), true},
			{"box inside a polygon's hole", zone.LayerCombatBases, holey, false},
			{"line crossing without a vertex inside", zone.LayerPatrolRoutes, orb.LineString{{105.9, 21.05}, {106.3, 21.05}}, true},
			{"line whose envelope overlaps but line misses", zone.LayerPatrolRoutes, orb.LineString{{106.09, 21.2}, {106.2, 21.09}}, false},
			{"line ending on the north edge", zone.LayerPatrolRoutes, orb.LineString{{106.05, 21.3}, {106.05, 21.1}}, true},
		}
		want := map[uuid.UUID]string{}
		for _, c := range cases {
			got := Create(t, s, NewComponent(c.layer, c.name, c.geom))
			if c.in {
				want[got.ID] = c.name
			}
		}
		q := zone.Query{Bound: &box}
		got := listAll(t, s, q)
		gotIDs := map[uuid.UUID]bool{}
		for _, c := range got {
			gotIDs[c.ID] = true
			if _, ok := want[c.ID]; !ok {
				t.Errorf("bound query returned %q, which does not intersect the box", c.Name)
			}
		}
		for id, name := range want {
			if !gotIDs[id] {
				t.Errorf("bound query missed %q, which intersects the box", name)
			}
		}
		if n := count(t, s, q); n != len(got) {
			t.Errorf("count %d != listed %d for the bound query", n, len(got))
		}
		q.Layers = []string{zone.LayerBorderMarkers}
		if got := listAll(t, s, q); len(got) != 3 {
			t.Errorf("bound and layer: got %q, want the 3 markers inside or on the edge", names(got))
		}
		if n := count(t, s, q); n != 3 {
			t.Errorf("bound and layer count = %d, want 3", n)
		}
	})
}

func less(a, b *zone.Component) bool {
	if a.Layer != b.Layer {
		return a.Layer < b.Layer
	}
	return a.ID.String() < b.ID.String()
}

func runValidation(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	bowTie := orb.Polygon{{{106.0, 21.0}, {106.1, 21.1}, {106.1, 21.0}, {106.0, 21.1}, {106.0, 21.0}}}
	unclosed := orb.Polygon{{{106.0, 21.0}, {106.1, 21.0}, {106.1, 21.1}, {106.0, 21.1}}}
	outOfRange := orb.Point{206.7, 21.8}
	cases := []struct {
		name string
		c    *zone.Component
		code zone.Code
		says string // a word the error must contain, naming the problem
	}{
		{"self-intersecting bow-tie", NewComponent(zone.LayerCombatBases, "Nơ", bowTie), zone.CodeInvalid, "intersect"},
		{"unclosed ring", NewComponent(zone.LayerCombatBases, "Hở", unclosed), zone.CodeInvalid, "not closed"},
		{"coordinate out of range", NewComponent(zone.LayerBorderMarkers, "Xa", outOfRange), zone.CodeInvalid, "outside"},
		{"kind not allowed", func() *zone.Component {
			c := NewComponent(zone.LayerBorderMarkers, "Sai loại", orb.Point{106.7, 21.8})
			c.Kind = zone.KindDepot
			return c
		}(), zone.CodeInvalid, "kind"},
		{"geometry class not allowed", NewComponent(zone.LayerBorderMarkers, "Mốc là đường", orb.LineString{{106.7, 21.8}, {106.8, 21.8}}), zone.CodeInvalid, "LineString"},
		{"missing name", NewComponent(zone.LayerBorderMarkers, "  ", orb.Point{106.7, 21.8}), zone.CodeInvalid, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateComponent(t.Context(), tc.c, "v")
			RequireCode(t, err, tc.code, "CreateComponent with "+tc.name)
			if text := ErrorText(err); !containsFold(text, tc.says) {
				t.Errorf("error %q does not name the problem (want it to mention %q)", text, tc.says)
			}
		})
	}
	t.Run("unknown layer", func(t *testing.T) {
		c := NewComponent("no_such_layer", "Không có lớp", orb.Point{106.7, 21.8})
		c.Kind = "x"
		_, err := s.CreateComponent(t.Context(), c, "v")
		if err == nil {
			t.Fatal("CreateComponent in an unknown layer succeeded")
		}
		if code := zone.ErrorCode(err); code != zone.CodeInvalid && code != zone.CodeNotFound {
			t.Errorf("unknown layer: code %s (%v), want invalid or not_found", code, err)
		}
		if !containsFold(ErrorText(err), "no_such_layer") {
			t.Errorf("error %q does not name the layer", ErrorText(err))
		}
	})
	t.Run("update rejects invalid", func(t *testing.T) {
		good := Create(t, s, NewComponent(zone.LayerCombatBases, "Căn cứ tốt", Square(106.3, 21.3, 0.01)))
		bad := good.Clone()
		bad.Geometry = bowTie
		_, err := s.UpdateComponent(t.Context(), bad, 0, zone.Secret, "v")
		RequireCode(t, err, zone.CodeInvalid, "UpdateComponent with a bow-tie")
		read, err := s.GetComponent(t.Context(), good.ID, zone.Secret)
		if err != nil {
			t.Fatal(err)
		}
		SameComponent(t, good, read)
	})
	if n := count(t, s, zone.Query{Clearance: zone.Secret}); n != 1 {
		t.Errorf("rejected components were stored: count = %d, want 1", n)
	}

	t.Run("code unique per layer", func(t *testing.T) {
		s := open(t)
		a := NewComponent(zone.LayerBorderMarkers, "Mốc 1116", orb.Point{106.72, 21.99})
		a.Code = "1116"
		Create(t, s, a)
		other := NewComponent(zone.LayerCommuneHQs, "Trụ sở cùng mã", orb.Point{106.72, 21.98})
		other.Code = "1116"
		Create(t, s, other)
		dup := NewComponent(zone.LayerBorderMarkers, "Mốc trùng mã", orb.Point{106.73, 21.99})
		dup.Code = "1116"
		_, err := s.CreateComponent(t.Context(), dup, "v")
		RequireCode(t, err, zone.CodeConflict, "a duplicate code in the same layer")
		if !containsFold(ErrorText(err), "1116") {
			t.Errorf("conflict %q does not name the code", ErrorText(err))
		}
		// Updating another component to the taken code is a conflict too.
		b := NewComponent(zone.LayerBorderMarkers, "Mốc 1117", orb.Point{106.74, 21.99})
		b.Code = "1117"
		b = Create(t, s, b)
		b2 := b.Clone()
		b2.Code = "1116"
		_, err = s.UpdateComponent(t.Context(), b2, 0, zone.Secret, "v")
		RequireCode(t, err, zone.CodeConflict, "updating to a taken code")
		if read, err := s.GetComponent(t.Context(), b.ID, zone.Secret); err != nil || read.Code != "1117" || read.Version != 1 {
			t.Errorf("after the refused update: %+v, %v; want code 1117 version 1", read, err)
		}
		// Freeing a code by deleting lets it be used again.
		if err := s.DeleteComponent(t.Context(), b.ID, 0, zone.Secret, "v"); err != nil {
			t.Fatal(err)
		}
		again := NewComponent(zone.LayerBorderMarkers, "Mốc 1117 mới", orb.Point{106.74, 21.99})
		again.Code = "1117"
		Create(t, s, again)
		if n := count(t, s, zone.Query{Layers: []string{zone.LayerBorderMarkers}}); n != 2 {
			t.Errorf("markers = %d, want 2", n)
		}
	})
}

func runVersions(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	ctx := t.Context()
	c := Create(t, s, NewComponent(zone.LayerCombatBases, "Căn cứ V", Square(106.5, 21.5, 0.02)))
	if c.Version != 1 {
		t.Fatalf("version on create = %d", c.Version)
	}
	cur := c
	for i := 2; i <= 4; i++ {
		next := cur.Clone()
		next.Name = fmt.Sprintf("Căn cứ V%d", i)
		got, err := s.UpdateComponent(ctx, next, cur.Version, zone.Secret, "v")
		if err != nil {
			t.Fatalf("update %d with the current version: %v", i, err)
		}
		if got.Version != int64(i) {
			t.Fatalf("version after update = %d, want %d", got.Version, i)
		}
		cur = got
	}
	stale := cur.Clone()
	stale.Name = "ghi đè cũ"
	_, err := s.UpdateComponent(ctx, stale, 2, zone.Secret, "v")
	RequireCode(t, err, zone.CodeConflict, "UpdateComponent with a stale ifVersion")
	err = s.DeleteComponent(ctx, cur.ID, 3, zone.Secret, "v")
	RequireCode(t, err, zone.CodeConflict, "DeleteComponent with a stale ifVersion")
	read, err := s.GetComponent(ctx, cur.ID, zone.Secret)
	if err != nil {
		t.Fatalf("GetComponent after refused writes: %v", err)
	}
	SameComponent(t, cur, read)

	noCheck := cur.Clone()
	noCheck.Name = "không kiểm tra phiên bản"
	got, err := s.UpdateComponent(ctx, noCheck, 0, zone.Secret, "v")
	if err != nil || got.Version != 5 {
		t.Fatalf("update with ifVersion 0: version %v, %v; want 5", got, err)
	}
	if err := s.DeleteComponent(ctx, cur.ID, 5, zone.Secret, "v"); err != nil {
		t.Fatalf("delete with the current version: %v", err)
	}
	_, err = s.GetComponent(ctx, cur.ID, zone.Secret)
	RequireCode(t, err, zone.CodeNotFound, "get after delete")
}

func runClearance(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	ctx := t.Context()
	byClass := map[zone.Classification]*zone.Component{}
	for i, cl := range zone.Classifications() {
		c := NewComponent(zone.LayerDefenceWorks, "Công trình "+cl.String(), Square(106.6+float64(i)/10, 21.7, 0.01))
		c.Kind = zone.KindCommandPost
		c.Classification = cl
		c.Code = "CL-" + cl.String()
		byClass[cl] = Create(t, s, c)
	}
	for _, clearance := range zone.Classifications() {
		t.Run(clearance.String(), func(t *testing.T) {
			seen := map[uuid.UUID]bool{}
			for _, c := range listAll(t, s, zone.Query{Clearance: clearance}) {
				seen[c.ID] = true
				if !clearance.Allows(c.Classification) {
					t.Errorf("clearance %s listed %s component %q", clearance, c.Classification, c.Name)
				}
			}
			want := 0
			for cl, c := range byClass {
				visible := clearance.Allows(cl)
				if visible {
					want++
				}
				if seen[c.ID] != visible {
					t.Errorf("clearance %s: %s component listed = %v, want %v", clearance, cl, seen[c.ID], visible)
				}
				got, err := s.GetComponent(ctx, c.ID, clearance)
				if visible {
					if err != nil {
						t.Errorf("clearance %s cannot get %s component: %v", clearance, cl, err)
					} else {
						SameComponent(t, c, got)
					}
					continue
				}
				RequireCode(t, err, zone.CodeNotFound, fmt.Sprintf("clearance %s getting a %s component", clearance, cl))
				upd := c.Clone()
				upd.Name = "bị lộ"
				_, err = s.UpdateComponent(ctx, upd, 0, clearance, "low")
				RequireCode(t, err, zone.CodeNotFound, fmt.Sprintf("clearance %s updating a %s component", clearance, cl))
				err = s.DeleteComponent(ctx, c.ID, 0, clearance, "low")
				RequireCode(t, err, zone.CodeNotFound, fmt.Sprintf("clearance %s deleting a %s component", clearance, cl))
			}
			if len(seen) != want {
				t.Errorf("clearance %s listed %d, want %d", clearance, len(seen), want)
			}
			if n := count(t, s, zone.Query{Clearance: clearance}); n != want {
				t.Errorf("clearance %s counted %d, want %d", clearance, n, want)
			}
			box := orb.Bound{Min: orb.Point{106.5, 21.6}, Max: orb.Point{107.0, 21.8}}
			if n := count(t, s, zone.Query{Clearance: clearance, Bound: &box}); n != want {
				t.Errorf("clearance %s counted %d in the bound, want %d", clearance, n, want)
			}
		})
	}
	for cl, c := range byClass {
		got, err := s.GetComponent(ctx, c.ID, zone.Secret)
		if err != nil {
			t.Fatalf("the %s component after refused writes: %v", cl, err)
		}
		SameComponent(t, c, got)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
