package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// AuditEntry returns an unsealed entry of action by a token named actor,
// with a fresh id, classified cl.
func AuditEntry(action, actor string, actorID uuid.UUID, object string, cl zone.Classification, at time.Time) zone.AuditEntry {
	return zone.AuditEntry{ID: uuid.New(), Time: at, Action: action, ActorID: actorID, Actor: actor,
		Role: zone.RoleAppraiser, ActorClearance: cl, Object: object, Classification: cl,
		Detail: json.RawMessage(`{"verdict":"review","note":"Kho K1 – Điện Biên","n":[1,2.5,{"a":null}]}`)}
}

func runAudit(t *testing.T, open func(t *testing.T) zone.Store) {
	t.Run("Chain", func(t *testing.T) { runAuditChain(t, open(t)) })
	t.Run("List", func(t *testing.T) { runAuditList(t, open(t)) })
	t.Run("ConcurrentAppends", func(t *testing.T) { runAuditConcurrent(t, open(t)) })
}

func runAuditChain(t *testing.T, s zone.Store) {
	ctx := t.Context()
	rep, err := audit.Verify(ctx, s)
	if err != nil || rep.Break != nil || rep.Entries != 0 || rep.Head.Seq != 0 {
		t.Fatalf("empty trail: %+v %v", rep, err)
	}
	base := time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	actor := uuid.New()
	var in []zone.AuditEntry
	for i := range 3 {
		in = append(in, AuditEntry(zone.AuditCheck, "Nguyễn Văn An", actor, "", zone.Public, base.Add(time.Duration(i)*time.Second)))
	}
	in[1].Detail = json.RawMessage("{ \"spaced\" : [ 1 , 2 ] }\n")
	sealed, err := s.AppendAudit(ctx, in)
	if err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if len(sealed) != 3 {
		t.Fatalf("AppendAudit sealed %d entries, want 3", len(sealed))
	}
	prev := audit.Genesis()
	for i, e := range sealed {
		if e.Seq != int64(i+1) || !bytes.Equal(e.Prev, prev) || !bytes.Equal(e.Hash, audit.HashOf(e.Prev, &e)) {
			t.Fatalf("entry %d: seq %d, prev %x (want %x), hash %x (want %x)", i, e.Seq, e.Prev, prev, e.Hash, audit.HashOf(e.Prev, &e))
		}
		if e.ID != in[i].ID || !e.Time.Equal(base.Add(time.Duration(i)*time.Second).Truncate(time.Microsecond)) || e.Time.Location() != time.UTC {
			t.Fatalf("entry %d: id %s time %s, want %s at %s UTC", i, e.ID, e.Time, in[i].ID, base.Add(time.Duration(i)*time.Second))
		}
		prev = e.Hash
	}
	if string(sealed[1].Detail) != "{ \"spaced\" : [ 1 , 2 ] }\n" {
		t.Errorf("detail not kept byte for byte: %q", sealed[1].Detail)
	}

	// The chain goes on across appends; an entry already stored is skipped.
	more := []zone.AuditEntry{in[2], AuditEntry(zone.AuditTokenCreated, "admin", uuid.New(), uuid.NewString(), zone.Public, base.Add(time.Minute))}
	sealed2, err := s.AppendAudit(ctx, more)
	if err != nil {
		t.Fatalf("AppendAudit again: %v", err)
	}
	if len(sealed2) != 1 || sealed2[0].Seq != 4 || !bytes.Equal(sealed2[0].Prev, sealed[2].Hash) {
		t.Fatalf("second append: %+v, want one entry, seq 4, linked to entry 3", sealed2)
	}
	bad := AuditEntry(zone.AuditCheck, "x", uuid.New(), "", zone.Public, base)
	bad.Detail = json.RawMessage(`{"unclosed":`)
	_, err = s.AppendAudit(ctx, []zone.AuditEntry{bad})
	RequireCode(t, err, zone.CodeInvalid, "AppendAudit of a detail that is not JSON")
	bad = AuditEntry(zone.AuditCheck, "bad \xff name", uuid.New(), "", zone.Public, base)
	_, err = s.AppendAudit(ctx, []zone.AuditEntry{bad})
	RequireCode(t, err, zone.CodeInvalid, "AppendAudit of an actor name that is not UTF-8")

	// Scanned back exactly as sealed.
	all := append(sealed, sealed2...)
	var got []zone.AuditEntry
	if err := s.ScanAudit(ctx, 0, func(e zone.AuditEntry) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("ScanAudit: %v", err)
	}
	if len(got) != len(all) {
		t.Fatalf("ScanAudit gave %d entries, want %d", len(got), len(all))
	}
	for i := range all {
		if d := auditDiff(all[i], got[i]); d != "" {
			t.Errorf("entry %d read back differs: %s", all[i].Seq, d)
		}
	}
	var after []int64
	if err := s.ScanAudit(ctx, 2, func(e zone.AuditEntry) error { after = append(after, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != "[3 4]" {
		t.Errorf("ScanAudit after 2 gave %v, want [3 4]", after)
	}
	rep, err = audit.Verify(ctx, s)
	if err != nil || rep.Break != nil || rep.Entries != 4 || rep.Head.Seq != 4 || !bytes.Equal(rep.Head.Hash, sealed2[0].Hash) {
		t.Fatalf("Verify: %+v %v, want intact with 4 entries", rep, err)
	}
	rep, err = audit.Verify(ctx, s, audit.Anchor{Seq: 2, Hash: sealed[1].Hash})
	if err != nil || rep.Break != nil {
		t.Fatalf("Verify with a true anchor: %+v %v", rep, err)
	}
	rep, err = audit.Verify(ctx, s, audit.Anchor{Seq: 2, Hash: sealed[0].Hash})
	if err != nil || rep.Break == nil || rep.Break.Seq != 2 || rep.Break.Field != "anchor" {
		t.Fatalf("Verify with a wrong anchor: %+v %v", rep, err)
	}
}

// auditDiff names the fields in which two entries differ.
func auditDiff(want, got zone.AuditEntry) string {
	var d []string
	if want.Seq != got.Seq || want.ID != got.ID || want.Action != got.Action || want.ActorID != got.ActorID ||
		want.Actor != got.Actor || want.Role != got.Role || want.ActorClearance != got.ActorClearance ||
		want.Object != got.Object || want.Layer != got.Layer || want.Classification != got.Classification {
		d = append(d, fmt.Sprintf("fields: want %+v, got %+v", want, got))
	}
	if !want.Time.Equal(got.Time) {
		d = append(d, "time: want "+want.Time.String()+", got "+got.Time.String())
	}
	if !bytes.Equal(want.Detail, got.Detail) {
		d = append(d, "detail: want "+string(want.Detail)+", got "+string(got.Detail))
	}
	if !bytes.Equal(want.Prev, got.Prev) || !bytes.Equal(want.Hash, got.Hash) {
		d = append(d, "hashes differ")
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

func runAuditList(t *testing.T, s zone.Store) {
	ctx := t.Context()
	base := time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC)
	an, binh := uuid.New(), uuid.New()
	appr := uuid.NewString()
	in := []zone.AuditEntry{
		AuditEntry(zone.AuditCheck, "An", an, "", zone.Public, base),                                     // 1
		AuditEntry(zone.AuditAppraisalCreated, "An", an, appr, zone.Public, base.Add(time.Hour)),         // 2
		AuditEntry(zone.AuditCheck, "Bình", binh, "", zone.Secret, base.Add(2*time.Hour)),                // 3
		AuditEntry(zone.AuditAppraisalRechecked, "Bình", binh, appr, zone.Secret, base.Add(3*time.Hour)), // 4
		AuditEntry(zone.AuditAppraisalDecided, "Bình", binh, appr, zone.Internal, base.Add(4*time.Hour)), // 5
		AuditEntry(zone.AuditCheck, "An", an, "", zone.Public, base.Add(5*time.Hour)),                    // 6
	}
	if _, err := s.AppendAudit(ctx, in[:4]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAudit(ctx, in[4:]); err != nil {
		t.Fatal(err)
	}
	seqs := func(q zone.AuditQuery) string {
		t.Helper()
		es, err := s.ListAudit(ctx, q)
		if err != nil {
			t.Fatalf("ListAudit(%+v): %v", q, err)
		}
		out := make([]int64, len(es))
		for i, e := range es {
			out[i] = e.Seq
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		name string
		q    zone.AuditQuery
		want string
	}{
		{"all for secret, newest first", zone.AuditQuery{Clearance: zone.Secret}, "[6 5 4 3 2 1]"},
		{"public reader sees public entries only", zone.AuditQuery{Clearance: zone.Public}, "[6 2 1]"},
		{"internal reader", zone.AuditQuery{Clearance: zone.Internal}, "[6 5 2 1]"},
		{"actor by token id", zone.AuditQuery{Clearance: zone.Secret, Actor: binh.String()}, "[5 4 3]"},
		{"actor by name", zone.AuditQuery{Clearance: zone.Secret, Actor: "An"}, "[6 2 1]"},
		{"action exact", zone.AuditQuery{Clearance: zone.Secret, Action: zone.AuditCheck}, "[6 3 1]"},
		{"action family", zone.AuditQuery{Clearance: zone.Secret, Action: "appraisal.*"}, "[5 4 2]"},
		{"object", zone.AuditQuery{Clearance: zone.Secret, Object: appr}, "[5 4 2]"},
		{"object, public reader", zone.AuditQuery{Clearance: zone.Public, Object: appr}, "[2]"},
		{"object and actor", zone.AuditQuery{Clearance: zone.Secret, Object: appr, Actor: an.String()}, "[2]"},
		{"since", zone.AuditQuery{Clearance: zone.Secret, Since: base.Add(3 * time.Hour)}, "[6 5 4]"},
		{"until is exclusive", zone.AuditQuery{Clearance: zone.Secret, Until: base.Add(2 * time.Hour)}, "[2 1]"},
		{"since and until", zone.AuditQuery{Clearance: zone.Secret, Since: base.Add(time.Hour), Until: base.Add(4 * time.Hour)}, "[4 3 2]"},
		{"limit", zone.AuditQuery{Clearance: zone.Secret, Limit: 2}, "[6 5]"},
		{"page after entry 5", zone.AuditQuery{Clearance: zone.Secret, Limit: 2, Before: in[4].ID}, "[4 3]"},
		{"page of an object after entry 4", zone.AuditQuery{Clearance: zone.Secret, Object: appr, Before: in[3].ID}, "[2]"},
		{"page of an actor after entry 4", zone.AuditQuery{Clearance: zone.Secret, Actor: binh.String(), Before: in[3].ID}, "[3]"},
		{"nobody", zone.AuditQuery{Clearance: zone.Secret, Actor: uuid.NewString()}, "[]"},
	} {
		if got := seqs(c.q); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	_, err := s.ListAudit(ctx, zone.AuditQuery{Clearance: zone.Secret, Before: uuid.New()})
	RequireCode(t, err, zone.CodeInvalid, "ListAudit continuing from an unknown entry")
}

// runAuditConcurrent appends from several goroutines at once: one chain,
// every entry once.
func runAuditConcurrent(t *testing.T, s zone.Store) {
	const writers, batches, per = 4, 10, 5
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var es []zone.AuditEntry
				for i := range per {
					es = append(es, AuditEntry(zone.AuditCheck, fmt.Sprintf("w%d", w), uuid.New(), fmt.Sprintf("%d/%d", b, i), zone.Public, time.Now()))
				}
				if _, err := s.AppendAudit(ctx, es); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent AppendAudit: %v", err)
	}
	rep, err := audit.Verify(ctx, s)
	if err != nil || rep.Break != nil || rep.Entries != writers*batches*per {
		t.Fatalf("after concurrent appends: %+v %v, want an intact chain of %d", rep, err, writers*batches*per)
	}
}
