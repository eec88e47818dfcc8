package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func runTokens(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	exp := now.Add(90 * 24 * time.Hour)
	hashA := sha256.Sum256([]byte("secret-a"))
	hashA[0], hashA[31] = 0x00, 0xff // zero and high bytes must survive
	// a is held by a person with a title (the report's signature block
	// prints them); b, a program's token, has neither.
	a := zone.Token{ID: uuid.New(), Name: "appr-an", Person: "Nguyễn Văn An", Title: "Trợ lý Tác chiến, Bộ CHQS tỉnh Lạng Sơn",
		Role: zone.RoleAppraiser, Clearance: zone.Internal, Hash: hashA[:], CreatedAt: now, ExpiresAt: &exp}
	hashB := sha256.Sum256([]byte("secret-b"))
	b := zone.Token{ID: uuid.New(), Name: "admin", Role: zone.RoleAdmin, Clearance: zone.Secret, Hash: hashB[:], CreatedAt: now}
	for _, tok := range []zone.Token{a, b} {
		if err := s.CreateToken(ctx, &tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
	}
	sameToken := func(want zone.Token, got *zone.Token) {
		t.Helper()
		if got == nil {
			t.Fatalf("token %s: got nil", want.Name)
		}
		if got.ID != want.ID || got.Name != want.Name || got.Person != want.Person || got.Title != want.Title || got.Role != want.Role || got.Clearance != want.Clearance ||
			!bytes.Equal(got.Hash, want.Hash) || !sameTime(got.CreatedAt, want.CreatedAt) ||
			!sameTimePtr(got.ExpiresAt, want.ExpiresAt) || !sameTimePtr(got.RevokedAt, want.RevokedAt) {
			t.Errorf("token differs:\n got %+v hash %x\nwant %+v hash %x", *got, got.Hash, want, want.Hash)
		}
	}
	got, err := s.TokenByHash(ctx, hashA[:])
	if err != nil {
		t.Fatalf("TokenByHash: %v", err)
	}
	sameToken(a, got)
	if !got.Active(now) {
		t.Error("a fresh token is not active")
	}
	other := sha256.Sum256([]byte("nobody"))
	_, err = s.TokenByHash(ctx, other[:])
	RequireCode(t, err, zone.CodeNotFound, "TokenByHash of an unknown hash")

	dup := zone.Token{ID: uuid.New(), Name: "trùng", Role: zone.RoleViewer, Hash: hashA[:], CreatedAt: now}
	RequireCode(t, s.CreateToken(ctx, &dup), zone.CodeConflict, "CreateToken with a hash in use")

	list, err := s.ListTokens(ctx)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("ListTokens gave %d, want 2", len(list))
	}
	for _, want := range []zone.Token{a, b} {
		found := false
		for i := range list {
			if list[i].ID == want.ID {
				found = true
				sameToken(want, &list[i])
			}
		}
		if !found {
			t.Errorf("ListTokens misses %s", want.Name)
		}
	}

	revokedAt := now.Add(time.Hour)
	if err := s.RevokeToken(ctx, a.ID, revokedAt); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	got, err = s.TokenByHash(ctx, hashA[:])
	if err != nil {
		t.Fatalf("TokenByHash of a revoked token: %v (revoked tokens are still returned)", err)
	}
	a.RevokedAt = &revokedAt
	sameToken(a, got)
	if got.Active(revokedAt.Add(time.Second)) {
		t.Error("a revoked token is active")
	}
	RequireCode(t, s.RevokeToken(ctx, uuid.New(), revokedAt), zone.CodeNotFound, "RevokeToken of an unknown id")
	got, err = s.TokenByHash(ctx, hashB[:])
	if err != nil {
		t.Fatal(err)
	}
	sameToken(b, got)
}

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameTime(*a, *b)
}

// NewAppraisalInput returns what CreateAppraisal takes for a pending
// appraisal named name: the appraisal, its project site (a factory footprint
// in layer project_sites) and a first check record whose full verdict is
// verdict, with views by clearance as check.Record makes them: below
// secret the verdict is "review" (a referral) unless "clear", and each
// view's result names its clearance.
func NewAppraisalInput(name, by, verdict string, site orb.Geometry) (*zone.Appraisal, *zone.Component, zone.CheckRecord) {
	a := &zone.Appraisal{Name: name, Status: zone.StatusPending, CreatedBy: by}
	c := NewComponent(zone.LayerProjectSites, name, site)
	c.Kind = "factory"
	c.Properties = map[string]any{zone.PropInvestor: "Công ty TNHH " + name, zone.PropHeightM: 35.5, zone.PropActivities: []any{zone.ActivityBlasting}}
	rec := zone.CheckRecord{CreatedBy: by, RulesetVersion: "2025.1", DataVersion: 7}
	for _, cl := range zone.Classifications() {
		v := LowerVerdict(verdict, cl)
		rec.Views[cl] = zone.CheckView{Verdict: v, Result: json.RawMessage(fmt.Sprintf(
			`{"verdict":%q,"view":%q,"findings":[{"rule":"safety_belt","zone":"safety_belt","distance_m":312.5}],"note":"Dự án %s"}`, v, cl, name))}
	}
	return a, c, rec
}

// LowerVerdict is the verdict NewAppraisalInput gives clearance cl.
func LowerVerdict(verdict string, cl zone.Classification) string {
	if cl < zone.Secret && verdict != "clear" {
		return "review"
	}
	return verdict
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func runAppraisals(t *testing.T, open func(t *testing.T) zone.Store) {
	t.Run("Lifecycle", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a, site, rec := NewAppraisalInput("Nhà máy gạch Tân Thanh", "appraiser-1", "review", Square(106.55, 21.75, 0.005))
		got, err := s.CreateAppraisal(ctx, a, site, rec)
		if err != nil {
			t.Fatalf("CreateAppraisal: %v", err)
		}
		if got.ID == uuid.Nil || got.SiteID == uuid.Nil {
			t.Fatalf("CreateAppraisal assigned no id or site id: %+v", got)
		}
		if got.Name != a.Name || got.Status != zone.StatusPending || got.Verdict != "review" || got.CreatedBy != "appraiser-1" || got.CreatedAt.IsZero() {
			t.Errorf("created appraisal %+v; want name, pending, review, appraiser-1, stamped", got)
		}
		stored, err := s.GetComponent(ctx, got.SiteID, zone.Secret)
		if err != nil {
			t.Fatalf("the site component: %v", err)
		}
		if stored.Layer != zone.LayerProjectSites || stored.Name != a.Name || !geomEqual(stored.Geometry, site.Geometry) {
			t.Errorf("site stored as %s %q %v", stored.Layer, stored.Name, stored.Geometry)
		}
		if stored.Properties[zone.PropVerdict] != "review" || stored.Properties[zone.PropStatus] != zone.StatusPending ||
			stored.Properties[zone.PropInvestor] != site.Properties[zone.PropInvestor] {
			t.Errorf("site properties %v; want verdict review, status pending and the investor kept", stored.Properties)
		}
		if vs, ok := stored.Properties[zone.PropVerdicts].(map[string]any); !ok || vs["secret"] != "review" || vs["public"] != "review" {
			t.Errorf("site verdicts by clearance %v", stored.Properties[zone.PropVerdicts])
		}
		full, err := s.GetAppraisal(ctx, got.ID, zone.Secret)
		if err != nil {
			t.Fatalf("GetAppraisal: %v", err)
		}
		if len(full.Checks) != 1 {
			t.Fatalf("GetAppraisal gave %d checks, want 1", len(full.Checks))
		}
		c1 := full.Checks[0]
		if c1.ID == uuid.Nil || c1.AppraisalID != got.ID || c1.Verdict != "review" || c1.RulesetVersion != "2025.1" || c1.ViewOf != zone.Secret ||
			c1.DataVersion != 7 || c1.CreatedBy != "appraiser-1" || c1.CreatedAt.IsZero() || !jsonEqual(c1.Result, rec.Views[zone.Secret].Result) {
			t.Errorf("first check stored as %+v (result %s)", c1, c1.Result)
		}
		firstResult := append([]byte(nil), c1.Result...)
		versionBefore := dataVersion(t, s)

		time.Sleep(5 * time.Millisecond)
		_, _, rec2 := NewAppraisalInput(a.Name, "reviewer-1", "conflict", nil)
		rec2.AppraisalID = got.ID
		rec2.RulesetVersion = "2025.2"
		after, err := s.AddCheck(ctx, rec2, zone.Secret)
		if err != nil {
			t.Fatalf("AddCheck: %v", err)
		}
		if after.Verdict != "conflict" || after.Status != zone.StatusPending {
			t.Errorf("after AddCheck: verdict %q status %q; want conflict, pending", after.Verdict, after.Status)
		}
		// Each clearance reads its own view, nothing of the others.
		for _, cl := range []zone.Classification{zone.Public, zone.Internal, zone.Restricted} {
			seen, err := s.GetAppraisal(ctx, got.ID, cl)
			if err != nil {
				t.Fatal(err)
			}
			if seen.Verdict != "review" || len(seen.Checks) != 2 {
				t.Fatalf("%s reads verdict %q and %d checks, want review and 2", cl, seen.Verdict, len(seen.Checks))
			}
			for i, c := range seen.Checks {
				want := []zone.CheckRecord{rec2, rec}[i].Views[cl]
				if c.ViewOf != cl || c.Verdict != want.Verdict || !jsonEqual(c.Result, want.Result) || c.DataVersion != 0 {
					t.Errorf("%s reads check %d as %+v (result %s), want its own view %s and no data version", cl, i, c, c.Result, want.Result)
				}
			}
			list, _, err := s.ListAppraisals(ctx, zone.AppraisalQuery{Clearance: cl, Verdict: "conflict"})
			if err != nil || len(list) != 0 {
				t.Errorf("%s lists %d conflicts (%v); the conflict is not theirs to see", cl, len(list), err)
			}
		}
		if list, _, err := s.ListAppraisals(ctx, zone.AppraisalQuery{Clearance: zone.Secret, Verdict: "conflict"}); err != nil || len(list) != 1 || list[0].Verdict != "conflict" {
			t.Errorf("secret lists %v (%v), want the one conflict", list, err)
		}
		// A record without views by clearance is refused.
		bare := zone.CheckRecord{AppraisalID: got.ID, Verdict: "clear", Result: json.RawMessage(`{}`)}
		_, err = s.AddCheck(ctx, bare, zone.Secret)
		RequireCode(t, err, zone.CodeInvalid, "AddCheck without views")
		if v := dataVersion(t, s); v <= versionBefore {
			t.Errorf("AddCheck changed the site but not the data version (%d -> %d)", versionBefore, v)
		}
		stored2, err := s.GetComponent(ctx, got.SiteID, zone.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if stored2.Properties[zone.PropVerdict] != "review" || stored2.Version <= stored.Version {
			t.Errorf("site after AddCheck: verdict %v version %d; want the public view's review and a version above %d", stored2.Properties[zone.PropVerdict], stored2.Version, stored.Version)
		}
		if vs, _ := stored2.Properties[zone.PropVerdicts].(map[string]any); vs["secret"] != "conflict" || vs["restricted"] != "review" {
			t.Errorf("site verdicts after AddCheck %v", stored2.Properties[zone.PropVerdicts])
		}
		if f := stored2.ForClearance(zone.Secret); f.Properties[zone.PropVerdict] != "conflict" {
			t.Errorf("a secret reader sees the site's verdict %v", f.Properties[zone.PropVerdict])
		}
		full, err = s.GetAppraisal(ctx, got.ID, zone.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Checks) != 2 || full.Checks[0].Verdict != "conflict" || full.Checks[1].ID != c1.ID {
			t.Fatalf("checks after AddCheck: %+v; want the new one first, then the first", full.Checks)
		}
		if !bytes.Equal(full.Checks[1].Result, firstResult) {
			t.Errorf("AddCheck changed the first check's result bytes:\n%s\n%s", firstResult, full.Checks[1].Result)
		}
		secondResult := append([]byte(nil), full.Checks[0].Result...)

		_, _, lost := NewAppraisalInput("lost", "x", "clear", nil)
		lost.AppraisalID = uuid.New()
		_, err = s.AddCheck(ctx, lost, zone.Secret)
		RequireCode(t, err, zone.CodeNotFound, "AddCheck to an unknown appraisal")

		decidedAt := time.Now().UTC().Truncate(time.Millisecond)
		d := zone.Decision{Outcome: zone.StatusApprovedWithConditions, Note: "Giữ khoảng cách tối thiểu 300 m với kho", By: "reviewer-1", At: decidedAt}
		decided, err := s.DecideAppraisal(ctx, got.ID, d, zone.Secret)
		if err != nil {
			t.Fatalf("DecideAppraisal: %v", err)
		}
		if decided.Status != zone.StatusApprovedWithConditions || decided.Decision == nil ||
			decided.Decision.Note != d.Note || decided.Decision.By != d.By || decided.Decision.Outcome != d.Outcome || !sameTime(decided.Decision.At, decidedAt) {
			t.Errorf("decided appraisal %+v decision %+v", decided, decided.Decision)
		}
		stored3, err := s.GetComponent(ctx, got.SiteID, zone.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if stored3.Properties[zone.PropStatus] != zone.StatusApprovedWithConditions || stored3.Properties[zone.PropVerdict] != "review" {
			t.Errorf("site after the decision: %v", stored3.Properties)
		}
		_, err = s.DecideAppraisal(ctx, got.ID, zone.Decision{Outcome: "maybe", By: "reviewer-1", At: decidedAt}, zone.Secret)
		RequireCode(t, err, zone.CodeInvalid, "DecideAppraisal with an unknown outcome")
		_, err = s.DecideAppraisal(ctx, uuid.New(), d, zone.Secret)
		RequireCode(t, err, zone.CodeNotFound, "DecideAppraisal of an unknown appraisal")
		_, err = s.GetAppraisal(ctx, uuid.New(), zone.Secret)
		RequireCode(t, err, zone.CodeNotFound, "GetAppraisal of an unknown id")

		full, err = s.GetAppraisal(ctx, got.ID, zone.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if full.Status != zone.StatusApprovedWithConditions || full.Decision == nil || full.Decision.Note != d.Note {
			t.Errorf("GetAppraisal after the decision: status %q decision %+v", full.Status, full.Decision)
		}
		if len(full.Checks) != 2 || !bytes.Equal(full.Checks[1].Result, firstResult) || !bytes.Equal(full.Checks[0].Result, secondResult) {
			t.Errorf("check records changed after the decision")
		}
		if full.Checks[1].Verdict != "review" || full.Checks[1].RulesetVersion != "2025.1" || !sameTime(full.Checks[1].CreatedAt, c1.CreatedAt) {
			t.Errorf("first check record changed: %+v, was %+v", full.Checks[1], c1)
		}
	})

	t.Run("InvalidSiteStoresNothing", func(t *testing.T) {
		s := open(t)
		bowTie := orb.Polygon{{{106.0, 21.0}, {106.1, 21.1}, {106.1, 21.0}, {106.0, 21.1}, {106.0, 21.0}}}
		a, site, rec := NewAppraisalInput("Dự án hình nơ", "appraiser-1", "clear", bowTie)
		_, err := s.CreateAppraisal(t.Context(), a, site, rec)
		RequireCode(t, err, zone.CodeInvalid, "CreateAppraisal with a self-intersecting site")
		if _, total, err := s.ListAppraisals(t.Context(), zone.AppraisalQuery{}); err != nil || total != 0 {
			t.Errorf("after a refused CreateAppraisal: total %d, %v; want 0", total, err)
		}
		if n := count(t, s, zone.Query{Clearance: zone.Secret}); n != 0 {
			t.Errorf("a refused CreateAppraisal stored %d components", n)
		}
	})

	t.Run("List", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		inputs := []struct{ name, by, verdict string }{
			{"Nhà máy Xi măng Đồng Đăng", "alice", "review"},
			{"Khu nghỉ dưỡng Mẫu Sơn", "bob", "conflict"},
			{"Đường tỉnh lộ 4B", "alice", "clear"},
			{"Mỏ đá ĐỒNG MỎ", "carol", "conflict"},
			{"Cảng cạn Đồng Đăng", "bob", "review"},
		}
		ids := make([]uuid.UUID, len(inputs))
		for i, in := range inputs {
			a, site, rec := NewAppraisalInput(in.name, in.by, in.verdict, Square(106+float64(i)/10, 21.5, 0.01))
			got, err := s.CreateAppraisal(ctx, a, site, rec)
			if err != nil {
				t.Fatalf("CreateAppraisal %q: %v", in.name, err)
			}
			ids[i] = got.ID
			time.Sleep(3 * time.Millisecond) // distinct creation times: lists are newest first
		}
		if _, err := s.DecideAppraisal(ctx, ids[1], zone.Decision{Outcome: zone.StatusRejected, Note: "Chồng lấn căn cứ", By: "rv", At: time.Now()}, zone.Secret); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			q     zone.AppraisalQuery
			want  []int // indexes into inputs, newest first
			total int
		}{
			{"all", zone.AppraisalQuery{}, []int{4, 3, 2, 1, 0}, 5},
			{"by creator", zone.AppraisalQuery{CreatedBy: "alice"}, []int{2, 0}, 2},
			{"by status rejected", zone.AppraisalQuery{Status: zone.StatusRejected}, []int{1}, 1},
			{"by status pending", zone.AppraisalQuery{Status: zone.StatusPending}, []int{4, 3, 2, 0}, 4},
			{"by verdict", zone.AppraisalQuery{Verdict: "conflict", Clearance: zone.Secret}, []int{3, 1}, 2},
			{"by verdict as public sees it", zone.AppraisalQuery{Verdict: "review"}, []int{4, 3, 1, 0}, 4},
			{"text lower-case Vietnamese", zone.AppraisalQuery{Text: "đồng đăng"}, []int{4, 0}, 2},
			{"text upper-case Vietnamese", zone.AppraisalQuery{Text: "ĐỒNG"}, []int{4, 3, 0}, 3},
			{"text mixed case", zone.AppraisalQuery{Text: "đá đồng mỎ"}, []int{3}, 1},
			{"creator and verdict", zone.AppraisalQuery{CreatedBy: "bob", Verdict: "review", Clearance: zone.Secret}, []int{4}, 1},
			{"page", zone.AppraisalQuery{Limit: 2, Offset: 1}, []int{3, 2}, 5},
			{"page past the end", zone.AppraisalQuery{Limit: 2, Offset: 5}, nil, 5},
			{"no match", zone.AppraisalQuery{Text: "không có"}, nil, 0},
		}
		for _, tc := range cases {
			list, total, err := s.ListAppraisals(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var got []string
			for _, a := range list {
				got = append(got, a.Name)
			}
			var want []string
			for _, i := range tc.want {
				want = append(want, inputs[i].name)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) || total != tc.total {
				t.Errorf("%s: got %q total %d, want %q total %d", tc.name, got, total, want, tc.total)
			}
		}
	})
}

func runRuleSets(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	ctx := t.Context()
	_, _, err := s.ActiveRuleSet(ctx)
	RequireCode(t, err, zone.CodeNotFound, "ActiveRuleSet of an empty store")
	docA := []byte("version: \"2025.1\"\nrules:\n  - id: safety_belt\n    basis: \"Luật 25/2023/QH15 điều 17\"\n")
	docB := []byte("version: \"2025.2\"\nrules: []\n")
	docOld := []byte("version: \"2024.9\"\nrules: []\n")
	active := func(wantVersion string, wantDoc []byte) {
		t.Helper()
		v, doc, err := s.ActiveRuleSet(ctx)
		if err != nil {
			t.Fatalf("ActiveRuleSet: %v", err)
		}
		if v != wantVersion || !bytes.Equal(doc, wantDoc) {
			t.Errorf("active rule set %q %q, want %q %q", v, doc, wantVersion, wantDoc)
		}
	}
	if err := s.SaveRuleSet(ctx, "2025.1", docA, "admin"); err != nil {
		t.Fatalf("SaveRuleSet: %v", err)
	}
	active("2025.1", docA)
	RequireCode(t, s.SaveRuleSet(ctx, "2025.1", docB, "admin"), zone.CodeConflict, "saving a version twice")
	active("2025.1", docA)
	if err := s.SaveRuleSet(ctx, "2025.2", docB, "admin"); err != nil {
		t.Fatal(err)
	}
	active("2025.2", docB)
	// The latest saved is active, whatever its version string sorts like.
	if err := s.SaveRuleSet(ctx, "2024.9", docOld, "admin"); err != nil {
		t.Fatal(err)
	}
	active("2024.9", docOld)
}
