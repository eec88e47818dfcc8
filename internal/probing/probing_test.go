package probing

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/consult"
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
