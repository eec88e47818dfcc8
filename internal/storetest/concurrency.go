package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func runConcurrency(t *testing.T, open func(t *testing.T) zone.Store) {
	t.Run("Creates", func(t *testing.T) {
		s := open(t)
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					c := NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d-%d", w, i), orb.Point{106 + float64(w)/10, 21 + float64(i)/100})
					c.Code = fmt.Sprintf("W%d-%d", w, i)
					if _, err := s.CreateComponent(t.Context(), c, fmt.Sprintf("writer-%d", w)); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent create: %v", err)
		}
		if n := count(t, s, zone.Query{}); n != writers*each {
			t.Errorf("after %d concurrent creates count = %d", writers*each, n)
		}
		if n := len(listAll(t, s, zone.Query{})); n != writers*each {
			t.Errorf("after %d concurrent creates listed %d", writers*each, n)
		}
	})

	t.Run("UpdatesOfOneComponent", func(t *testing.T) {
		s := open(t)
		base := Create(t, s, NewComponent(zone.LayerCombatBases, "Căn cứ tranh chấp", Square(106.2, 21.2, 0.01)))
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					c := base.Clone()
					c.Name = fmt.Sprintf("Căn cứ bởi %d lần %d", w, i)
					if _, err := s.UpdateComponent(t.Context(), c, 0, zone.Secret, "w"); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent update with ifVersion 0: %v", err)
		}
		got, err := s.GetComponent(t.Context(), base.ID, zone.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(1 + writers*each); got.Version != want {
			t.Errorf("final version %d, want %d: updates were lost", got.Version, want)
		}
	})

	t.Run("SameCodeRace", func(t *testing.T) {
		s := open(t)
		const writers = 8
		var wg sync.WaitGroup
		codes := make(chan zone.Code, writers)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc tranh %d", w), orb.Point{106.5, 21.5 + float64(w)/100})
				c.Code = "1200"
				_, err := s.CreateComponent(t.Context(), c, "w")
				codes <- zone.ErrorCode(err)
			}()
		}
		wg.Wait()
		close(codes)
		won, lost := 0, 0
		for code := range codes {
			switch code {
			case "":
				won++
			case zone.CodeConflict:
				lost++
			default:
				t.Errorf("racing create of one code failed with %s, want conflict", code)
			}
		}
		if won != 1 || lost != writers-1 {
			t.Errorf("racing creates of one code: %d stored, %d conflicts; want 1 and %d", won, lost, writers-1)
		}
		if n := count(t, s, zone.Query{}); n != 1 {
			t.Errorf("count = %d, want 1", n)
		}
	})
}
