// Package admission bounds how much of one class of work runs at once: a
// Gate has a fixed number of slots, a short queue in front of them (bounded
// in length and in how long anyone waits), and turns away whatever finds
// both full with a zone.CodeUnavailable error carrying RetryAfter (over
// HTTP, 503 with Retry-After). A burst of heavy work is thus refused
// quickly instead of slowing everything else down, and work whose caller
// gave up while queued leaves the queue at once.
//
// Light work passes no gate at all: what is never admitted cannot be
// starved by what is.
//
// A Budget bounds a quantity rather than a count (the bytes of request
// bodies held while they arrive): past it, work is refused at once.
package admission

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Limit is the size of a Gate.
type Limit struct {
	// Concurrent is how much of the work runs at once (at least 1).
	Concurrent int
	// Queue is how many may wait for a slot at once; one more is refused
	// at once. 0: none wait.
	Queue int
	// Wait is the longest anyone waits in the queue before being refused
	// (at least 1 ms when Queue > 0).
	Wait time.Duration
}

// Scaled is a Limit of perCPU slots for each of procs CPUs (at least one),
// a queue of queuePerSlot for each slot, and wait.
func Scaled(procs int, perCPU float64, queuePerSlot int, wait time.Duration) Limit {
	n := max(1, int(math.Round(float64(max(procs, 1))*perCPU)))
	return Limit{Concurrent: n, Queue: n * queuePerSlot, Wait: wait}
}

// Gate admits one class of work. It is safe for concurrent use.
type Gate struct {
	name   string
	lim    Limit
	slots  chan struct{}
	queued atomic.Int64
	// refused counts the work turned away (queue full or waited too long).
	refused atomic.Int64
}

// New returns a gate for the work called name ("heavy pages": it appears in
// refusal messages) with lim's slots and queue.
func New(name string, lim Limit) *Gate {
	lim.Concurrent = max(lim.Concurrent, 1)
	lim.Queue = max(lim.Queue, 0)
	if lim.Queue > 0 && lim.Wait < time.Millisecond {
		lim.Wait = time.Millisecond
	}
	return &Gate{name: name, lim: lim, slots: make(chan struct{}, lim.Concurrent)}
}

// Acquire takes a slot, waiting in the queue if none is free. It returns
// the function that gives the slot back (call it once, when the work is
// done), or a CodeUnavailable error, with RetryAfter, when the queue is
// full, the wait is over, or ctx ends while waiting.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	default:
	}
	if g.queued.Add(1) > int64(g.lim.Queue) {
		g.queued.Add(-1)
		return nil, g.busy("%s are at capacity (%d running, %d waiting)", g.name, g.lim.Concurrent, g.lim.Queue)
	}
	defer g.queued.Add(-1)
	timer := time.NewTimer(g.lim.Wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	case <-timer.C:
		return nil, g.busy("%s are at capacity: no slot came free within %s", g.name, g.lim.Wait)
	case <-ctx.Done():
		// The caller left; nobody reads this error but the log.
		return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "request cancelled while waiting for " + g.name, Err: ctx.Err()}
	}
}

func (g *Gate) release() { <-g.slots }

func (g *Gate) busy(format string, args ...any) error {
	g.refused.Add(1)
	return &zone.Error{Code: zone.CodeUnavailable, Message: "server busy: " + fmt.Sprintf(format, args...) + "; try again shortly",
		RetryAfter: g.RetryAfter()}
}

// RetryAfter is what a refusal tells the caller to wait: the queue's wait,
// and at least a second (Retry-After counts whole seconds).
func (g *Gate) RetryAfter() time.Duration { return max(time.Second, g.lim.Wait) }

// Name is the class of work the gate admits.
func (g *Gate) Name() string { return g.name }

// Limit is the gate's size.
func (g *Gate) Limit() Limit { return g.lim }

// InFlight is how much work holds a slot now.
func (g *Gate) InFlight() int { return len(g.slots) }

// Queued is how much work waits for a slot now.
func (g *Gate) Queued() int { return int(max(g.queued.Load(), 0)) }

// Refused is how much work the gate has turned away since it was made.
func (g *Gate) Refused() int64 { return g.refused.Load() }

// Budget is a quantity that work takes from as it goes and gives back when
// done (the bytes of request bodies held in memory): taking past its size
// is refused at once, never waited for, so what is held stays bounded and
// whoever would pass it is told to come back. It is safe for concurrent
// use.
type Budget struct {
	name    string
	size    int64
	used    atomic.Int64
	refused atomic.Int64
}

// NewBudget returns a budget of size for what name names ("request body
// memory": it appears in refusal messages).
func NewBudget(name string, size int64) *Budget { return &Budget{name: name, size: size} }

// Take takes n from the budget, or returns a CodeUnavailable error with a
// RetryAfter of a second when that would pass its size (and takes nothing).
func (b *Budget) Take(n int64) error {
	for {
		u := b.used.Load()
		if u+n > b.size {
			b.refused.Add(1)
			return &zone.Error{Code: zone.CodeUnavailable, RetryAfter: time.Second,
				Message: fmt.Sprintf("server busy: %s is spent (%d of %d bytes in use); try again shortly", b.name, u, b.size)}
		}
		if b.used.CompareAndSwap(u, u+n) {
			return nil
		}
	}
}

// Give gives n back.
func (b *Budget) Give(n int64) { b.used.Add(-n) }

// InUse is how much is taken now.
func (b *Budget) InUse() int64 { return b.used.Load() }

// Size is the budget's size.
func (b *Budget) Size() int64 { return b.size }

// Refused is how many takes the budget has refused since it was made.
func (b *Budget) Refused() int64 { return b.refused.Load() }
