package probing

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/zone"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func fp(i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint(i))) }

// TestObserve: distinct footprints at one cell within the window flag
// the token once; the same footprint again, footprints spread over the
// window's edge, or at different cells do not; a secret caller is never
// followed.
func TestObserve(t *testing.T) {
	c := &clock{time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	d := New(Config{Window: time.Hour, Footprints: 5, Suspend: 2 * time.Hour, Now: c.now})
	p := zone.Principal{TokenID: uuid.New(), Name: "An", Clearance: zone.Internal}
	cell := []consult.Cell{{Row: 100, Col: 200}}

	for range 10 { // one footprint, checked again and again
		if a := d.Observe(p, fp(0), cell); a != nil {
			t.Fatal("the same footprint flagged")
		}
	}
	for i := range 20 { // different footprints, each at its own cell
		if a := d.Observe(p, fp(100+i), []consult.Cell{{Row: int32(i), Col: 0}}); a != nil {
			t.Fatal("scattered footprints flagged")
		}
	}
	for i := 1; i <= 3; i++ { // with fp(0): 4 distinct, then the window passes
		d.Observe(p, fp(i), cell)
	}
	c.t = c.t.Add(61 * time.Minute)
	for i := 4; i <= 7; i++ {
		if a := d.Observe(p, fp(i), cell); a != nil {
			t.Fatalf("footprint %d flagged with the older ones out of the window", i)
		}
	}
	a := d.Observe(p, fp(8), cell)
	if a == nil || a.Footprints != 5 || len(a.Cells) != 1 || a.Cells[0] != cell[0] || !a.SuspendedUntil.Equal(c.t.Add(2*time.Hour)) {
		t.Fatalf("fifth distinct footprint: %+v", a)
	}
	if until, ok := d.Suspended(p.TokenID); !ok || !until.Equal(a.SuspendedUntil) {
		t.Fatal("not suspended")
	}
	if a := d.Observe(p, fp(9), cell); a != nil {
		t.Fatal("flagged twice within the window")
	}
	if d.Alerts() != 1 {
		t.Fatalf("%d alerts", d.Alerts())
	}
	c.t = c.t.Add(2*time.Hour + time.Second)
	if _, ok := d.Suspended(p.TokenID); ok {
		t.Fatal("the suspension outlived its time")
	}
	secret := zone.Principal{TokenID: uuid.New(), Clearance: zone.Secret}
	for i := range 20 {
		if a := d.Observe(secret, fp(i), cell); a != nil {
			t.Fatal("a secret caller flagged")
		}
	}
}

// openTrail opens an embedded store, for its audit trail.
func openTrail(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "trail.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// appendEntry appends one entry as the server records it, at time at.
func appendEntry(t *testing.T, st zone.AuditStore, action string, token uuid.UUID, at time.Time, detail json.RawMessage) {
	t.Helper()
	if detail == nil {
		detail = json.RawMessage(`{}`)
	}
	e := zone.AuditEntry{ID: uuid.New(), Time: at, Action: action, Actor: "test", Role: zone.RoleAdmin,
		ActorClearance: zone.Secret, Object: token.String(), Classification: zone.Secret, Detail: detail}
	if _, err := st.AppendAudit(t.Context(), []zone.AuditEntry{e}); err != nil {
		t.Fatal(err)
	}
}

// TestLiftAdoptedForgets: a lift adopted from another instance through
// the trail forgets what flagged the token, as Lift does, so a further
// referred check there does not suspend it again; probing on from a fresh
// start is flagged again; and an instance adopting its own lift keeps
// what it saw since.
func TestLiftAdoptedForgets(t *testing.T) {
	st := openTrail(t)
	c := &clock{time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg := Config{Window: time.Hour, Footprints: 5, Suspend: 2 * time.Hour, Now: c.now}
	a, b := New(cfg), New(cfg)
	p := zone.Principal{TokenID: uuid.New(), Name: "An", Clearance: zone.Internal}
	cell := []consult.Cell{{Row: 100, Col: 200}}
	sync := func(d *Detector) {
		t.Helper()
		if err := d.Sync(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	sync(a)
	sync(b)

	var alert *Alert
	for i := range 5 {
		alert = b.Observe(p, fp(i), cell)
	}
	if alert == nil {
		t.Fatal("not flagged on b")
	}
	appendEntry(t, st, zone.AuditProbing, p.TokenID, c.t, alert.Detail())
	sync(a)
	if _, ok := a.Suspended(p.TokenID); !ok {
		t.Fatal("a does not adopt b's suspension")
	}

	c.t = c.t.Add(time.Minute)
	if !a.Lift(p.TokenID) {
		t.Fatal("nothing to lift on a")
	}
	appendEntry(t, st, zone.AuditSuspensionLifted, p.TokenID, c.t, nil)
	c.t = c.t.Add(time.Minute)
	for i := 200; i < 204; i++ { // a, after the lift: 4 footprints
		if a.Observe(p, fp(i), cell) != nil {
			t.Fatal("flagged on a before the fifth footprint after the lift")
		}
	}
	sync(a) // its own lift, adopted again
	sync(b)
	if _, ok := b.Suspended(p.TokenID); ok {
		t.Fatal("b keeps a lifted suspension")
	}
	if al := b.Observe(p, fp(100), cell); al != nil {
		t.Fatal("b suspends the token again on the sightings the lift judged")
	}
	if _, ok := b.Suspended(p.TokenID); ok {
		t.Fatal("b suspended after one referred check following the lift")
	}
	for i := 101; i < 104; i++ {
		if b.Observe(p, fp(i), cell) != nil {
			t.Fatal("b flagged before five footprints after the lift")
		}
	}
	if b.Observe(p, fp(104), cell) == nil {
		t.Fatal("b does not flag five footprints after the lift")
	}
	if a.Observe(p, fp(204), cell) == nil {
		t.Fatal("a forgot, on adopting its own lift again, the footprints seen since")
	}
}

// countingTrail records the queries a detector makes and the entries it
// gets back.
type countingTrail struct {
	zone.AuditStore
	queries []zone.AuditQuery
	read    int
}

func (c *countingTrail) ListAudit(ctx context.Context, q zone.AuditQuery) ([]zone.AuditEntry, error) {
	es, err := c.AuditStore.ListAudit(ctx, q)
	c.queries = append(c.queries, q)
	c.read += len(es)
	return es, err
}

// TestSyncFollowsTheHead: each Sync moves on to the trail's head, alerts
// or not, so the next one lists only entries after it, not every entry
// since the last alert.
func TestSyncFollowsTheHead(t *testing.T) {
	st := &countingTrail{AuditStore: openTrail(t)}
	c := &clock{time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	d := New(Config{Footprints: 5, Suspend: 2 * time.Hour, Now: c.now})
	tok := uuid.New()
	until := c.t.Add(time.Hour)
	appendEntry(t, st, zone.AuditProbing, tok, c.t, Alert{Footprints: 5, SuspendedUntil: until}.Detail())
	checks := func(n int) {
		for range n {
			appendEntry(t, st, zone.AuditCheck, uuid.New(), c.t, nil)
		}
	}
	checks(50) // the trail: seq 1 an alert, 2-51 checks
	round := func(wantAfter int64) (read int) {
		t.Helper()
		st.queries, st.read = nil, 0
		if err := d.Sync(t.Context(), st); err != nil {
			t.Fatal(err)
		}
		for _, q := range st.queries {
			if q.AfterSeq != wantAfter {
				t.Fatalf("a listing after seq %d, want after %d (the head at the last Sync)", q.AfterSeq, wantAfter)
			}
		}
		return st.read
	}
	round(0)
	if _, ok := d.Suspended(tok); !ok {
		t.Fatal("the alert was not adopted")
	}
	if n := round(51); n != 0 {
		t.Fatalf("a Sync with nothing new read %d entries", n)
	}
	checks(3)
	other := uuid.New()
	appendEntry(t, st, zone.AuditProbing, other, c.t, Alert{Footprints: 5, SuspendedUntil: until}.Detail())
	round(51)
	if _, ok := d.Suspended(other); !ok {
		t.Fatal("a new alert was not adopted")
	}
	if n := round(55); n != 0 {
		t.Fatalf("a Sync with nothing new read %d entries", n)
	}
}
