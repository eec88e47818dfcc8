package admission

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// waitFor polls cond for up to 2 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func refusedBusy(t *testing.T, err error) {
	t.Helper()
	if err == nil || zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
	if zone.ErrorRetryAfter(err) < time.Second {
		t.Fatalf("refusal without a Retry-After of a second or more: %v", err)
	}
}

// TestGateBoundsConcurrency: many workers through a gate of 3 slots never
// run more than 3 at once, and all of them run (the queue lets them wait).
func TestGateBoundsConcurrency(t *testing.T) {
	g := New("test work", Limit{Concurrent: 3, Queue: 100, Wait: 10 * time.Second})
	var running, peak atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := g.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			running.Add(-1)
			release()
		}()
	}
	wg.Wait()
	if peak.Load() != 3 {
		t.Fatalf("peak concurrency %d, want 3", peak.Load())
	}
	if g.InFlight() != 0 || g.Queued() != 0 {
		t.Fatalf("after the work: %d in flight, %d queued", g.InFlight(), g.Queued())
	}
}

// TestGateQueueFullRefusesAtOnce: with every slot taken and the queue
// full, the next caller is refused at once with RetryAfter, not after the
// wait.
func TestGateQueueFullRefusesAtOnce(t *testing.T) {
	g := New("heavy pages", Limit{Concurrent: 1, Queue: 2, Wait: time.Minute})
	release, err := g.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 2; i++ {
		go g.Acquire(ctx)
	}
	waitFor(t, "two are queued", func() bool { return g.Queued() == 2 })
	start := time.Now()
	_, err = g.Acquire(context.Background())
	refusedBusy(t, err)
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Fatalf("refusal took %s", el)
	}
	if g.Refused() != 1 {
		t.Fatalf("refused count %d", g.Refused())
	}
	cancel()
	waitFor(t, "the cancelled callers leave the queue", func() bool { return g.Queued() == 0 })
	release()
	if r2, err := g.Acquire(context.Background()); err != nil {
		t.Fatalf("after release: %v", err)
	} else {
		r2()
	}
}

// TestGateWaitIsBounded: a queued caller is refused once the wait is over.
func TestGateWaitIsBounded(t *testing.T) {
	g := New("checks", Limit{Concurrent: 1, Queue: 5, Wait: 80 * time.Millisecond})
	release, _ := g.Acquire(context.Background())
	defer release()
	start := time.Now()
	_, err := g.Acquire(context.Background())
	el := time.Since(start)
	refusedBusy(t, err)
	if el < 70*time.Millisecond || el > time.Second {
		t.Fatalf("refused after %s, want about 80 ms", el)
	}
}

// TestGateQueuedCallerGetsFreedSlot: a slot given back goes to the caller
// waiting for it.
func TestGateQueuedCallerGetsFreedSlot(t *testing.T) {
	g := New("uploads", Limit{Concurrent: 1, Queue: 1, Wait: 5 * time.Second})
	release, _ := g.Acquire(context.Background())
	got := make(chan error, 1)
	go func() {
		r, err := g.Acquire(context.Background())
		if err == nil {
			r()
		}
		got <- err
	}()
	waitFor(t, "one is queued", func() bool { return g.Queued() == 1 })
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the queued caller did not get the freed slot")
	}
}

// TestGateCancelledWhileQueued: a caller whose context ends while queued
// returns at once and leaves the queue.
func TestGateCancelledWhileQueued(t *testing.T) {
	g := New("tile builds", Limit{Concurrent: 1, Queue: 1, Wait: time.Minute})
	release, _ := g.Acquire(context.Background())
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := g.Acquire(ctx)
	if zone.ErrorCode(err) != zone.CodeUnavailable || time.Since(start) > time.Second {
		t.Fatalf("cancelled wait: %v after %s", err, time.Since(start))
	}
	if g.Queued() != 0 {
		t.Fatalf("%d still queued", g.Queued())
	}
}

func TestScaled(t *testing.T) {
	for _, c := range []struct {
		procs  int
		perCPU float64
		want   int
	}{{2, 1, 2}, {2, 0.5, 1}, {1, 0.5, 1}, {16, 0.5, 8}, {0, 2, 2}} {
		l := Scaled(c.procs, c.perCPU, 4, time.Second)
		if l.Concurrent != c.want || l.Queue != 4*c.want {
			t.Errorf("Scaled(%d, %g): %+v, want %d slots", c.procs, c.perCPU, l, c.want)
		}
	}
}

// TestBudget: takes within the size succeed, one past it is refused at
// once without taking anything, and what is given back can be taken again.
func TestBudget(t *testing.T) {
	b := NewBudget("request body memory", 100)
	if err := b.Take(60); err != nil {
		t.Fatal(err)
	}
	if err := b.Take(40); err != nil {
		t.Fatal(err)
	}
	err := b.Take(1)
	refusedBusy(t, err)
	if b.InUse() != 100 || b.Refused() != 1 {
		t.Fatalf("in use %d, refused %d", b.InUse(), b.Refused())
	}
	b.Give(60)
	if err := b.Take(50); err != nil || b.InUse() != 90 {
		t.Fatalf("after giving back: %v, in use %d", err, b.InUse())
	}
	// Concurrent takers never pass the size together.
	b = NewBudget("x", 1000)
	var wg sync.WaitGroup
	var taken atomic.Int64
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.Take(30) == nil {
				taken.Add(30)
			}
		}()
	}
	wg.Wait()
	if taken.Load() != 990 || b.InUse() != 990 {
		t.Fatalf("taken %d, in use %d, want 990 (33 takes of 30)", taken.Load(), b.InUse())
	}
}
