package index

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// unsubscribable is a real store whose change feed cannot be subscribed to
// the first times, as when the database is down or slow when a server
// starts following it.
type unsubscribable struct {
	*embedded.Store
	refusals atomic.Int32
}

func (u *unsubscribable) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	if u.refusals.Add(-1) >= 0 {
		return nil, zone.Errorf(zone.CodeUnavailable, "cannot listen for changes: the database is unreachable")
	}
	return u.Store.Subscribe(ctx)
}

// TestFollowSurvivesAFailedSubscription: when the change feed cannot be
// subscribed to at the start, Follow keeps the index current by polling
// and subscribing again, instead of giving up for good.
func TestFollowSurvivesAFailedSubscription(t *testing.T) {
	s := &unsubscribable{Store: openEmbedded(t, embedded.Options{})}
	s.refusals.Store(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ix := New()
	if err := ix.Load(ctx, s); err != nil {
		t.Fatal(err)
	}
	followed := make(chan error, 1)
	go func() { followed <- ix.Follow(ctx, s, nil) }()
	c, err := s.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở", Geometry: orb.Point{105.3, 21.3}}, by)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2*pollInterval + time.Second)
	for {
		if _, ok := ix.Snapshot().Get(c.ID); ok {
			break
		}
		select {
		case err := <-followed:
			t.Fatalf("Follow gave up: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("a change is not in the index %s after it was made", 2*pollInterval+time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
