package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func changesSince(tb testing.TB, s zone.Store, seq int64) ([]zone.Change, int64) {
	tb.Helper()
	var out []zone.Change
	reached, err := s.ChangesSince(context.Background(), seq, func(c zone.Change) error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		tb.Fatalf("ChangesSince(%d): %v", seq, err)
	}
	return out, reached
}

func runChangeFeed(t *testing.T, open func(t *testing.T) zone.Store) {
	t.Run("DataVersionAndChangesSince", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		v0 := dataVersion(t, s)
		if v0 != 0 {
			t.Errorf("DataVersion of a fresh store = %d, want 0", v0)
		}
		if changes, reached := changesSince(t, s, v0); len(changes) != 0 || reached != v0 {
			t.Errorf("fresh store: %d changes, reached %d; want none at %d", len(changes), reached, v0)
		}
		step := func(what string, prev int64) int64 {
			t.Helper()
			v := dataVersion(t, s)
			if v <= prev {
				t.Fatalf("DataVersion did not grow after %s: %d -> %d", what, prev, v)
			}
			return v
		}
		a := Create(t, s, NewComponent(zone.LayerCommuneHQs, "Trụ sở A", orb.Point{106.1, 21.1}))
		v1 := step("create A", v0)
		a2 := a.Clone()
		a2.Name = "Trụ sở A (sửa 1)"
		a2, err := s.UpdateComponent(ctx, a2, 0, zone.Secret, "f")
		if err != nil {
			t.Fatal(err)
		}
		v2 := step("update A", v1)
		a3 := a2.Clone()
		a3.Name = "Trụ sở A (sửa 2)"
		if a3, err = s.UpdateComponent(ctx, a3, 0, zone.Secret, "f"); err != nil {
			t.Fatal(err)
		}
		v3 := step("update A again", v2)
		b := NewComponent(zone.LayerDefenceWorks, "Công trình B", Square(106.2, 21.2, 0.01))
		b.Classification = zone.Secret
		b = Create(t, s, b)
		v4 := step("create B", v3)
		if err := s.DeleteComponent(ctx, b.ID, 0, zone.Secret, "f"); err != nil {
			t.Fatal(err)
		}
		v5 := step("delete B", v4)
		c := Create(t, s, NewComponent(zone.LayerBorderMarkers, "Mốc C", orb.Point{106.3, 21.3}))
		v6 := step("create C", v5)
		if _, err := s.ImportComponents(ctx, zone.LayerBorderMarkers, markers(3, "CF"), zone.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		v7 := step("import", v6)

		changes, reached := changesSince(t, s, v0)
		if reached != v7 {
			t.Errorf("ChangesSince reached %d, DataVersion is %d", reached, v7)
		}
		if len(changes) != 6 {
			t.Fatalf("ChangesSince(%d) gave %d changes, want 6 (one per component: A, B, C and 3 imported)", v0, len(changes))
		}
		for i := 1; i < len(changes); i++ {
			if changes[i].Seq <= changes[i-1].Seq {
				t.Errorf("changes out of sequence order: %d then %d", changes[i-1].Seq, changes[i].Seq)
			}
		}
		if last := changes[len(changes)-1].Seq; last > reached {
			t.Errorf("a change has seq %d beyond the reached %d", last, reached)
		}
		ca, cb, cc := changes[0], changes[1], changes[2]
		if ca.ID != a.ID || ca.Deleted || ca.Component == nil || ca.Layer != zone.LayerCommuneHQs {
			t.Fatalf("first change %+v, want component A's latest state", ca)
		}
		SameComponent(t, a3, ca.Component)
		if cb.ID != b.ID || !cb.Deleted || cb.Component != nil || cb.Layer != zone.LayerDefenceWorks {
			t.Errorf("second change %+v, want B deleted (layer %s, no component)", cb, zone.LayerDefenceWorks)
		}
		if cc.ID != c.ID || cc.Deleted || cc.Component == nil {
			t.Errorf("third change %+v, want C created", cc)
		} else {
			SameComponent(t, c, cc.Component)
		}
		for _, ch := range changes[3:] {
			if ch.Deleted || ch.Component == nil || ch.Layer != zone.LayerBorderMarkers {
				t.Errorf("import change %+v, want a border marker", ch)
			}
		}

		after, _ := changesSince(t, s, v4)
		if len(after) != 5 || after[0].ID != b.ID || !after[0].Deleted {
			t.Errorf("ChangesSince(after B's creation) = %d changes starting %+v; want B's delete, C and 3 imported", len(after), first(after))
		}
		if none, reached := changesSince(t, s, v7); len(none) != 0 || reached != v7 {
			t.Errorf("ChangesSince(latest) gave %d changes, reached %d; want none at %d", len(none), reached, v7)
		}
	})

	t.Run("Subscribe", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, err := s.Subscribe(ctx)
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		Create(t, s, NewComponent(zone.LayerCommuneHQs, "Trụ sở báo tin", orb.Point{106.4, 21.4}))
		select {
		case _, ok := <-ch:
			if !ok {
				t.Fatal("subscription closed before its context ended")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no notification within 10s of a committed change")
		}
		cancel()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("subscription channel not closed within 10s of its context ending")
			}
		}
	})
}

func first(cs []zone.Change) any {
	if len(cs) == 0 {
		return nil
	}
	return cs[0]
}
