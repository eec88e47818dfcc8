package embedded

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// WatchRevocations returns a channel that receives the id of every token
// revoked after it returns. Only this process writes the file, so every
// revocation passes through here. A watcher that falls revocationBuffer
// behind has its channel closed: it may have missed one.
func (s *Store) WatchRevocations(ctx context.Context) (<-chan uuid.UUID, error) {
	ch, ok := s.revoked.watch(ctx)
	if !ok {
		return nil, zone.Errorf(zone.CodeUnavailable, "the embedded store is closed")
	}
	return ch, nil
}

// revocationBuffer is how many revocations a watcher may have pending.
const revocationBuffer = 64

// revocationHub sends revoked token ids to every watcher.
type revocationHub struct {
	mu     sync.Mutex
	subs   map[chan uuid.UUID]chan struct{} // each watcher's channel and its stop
	done   chan struct{}
	closed bool
}

func newRevocationHub() *revocationHub {
	return &revocationHub{subs: map[chan uuid.UUID]chan struct{}{}, done: make(chan struct{})}
}

func (h *revocationHub) watch(ctx context.Context) (<-chan uuid.UUID, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	ch, stop := make(chan uuid.UUID, revocationBuffer), make(chan struct{})
	h.subs[ch] = stop
	go func() {
		select {
		case <-ctx.Done():
		case <-h.done:
		case <-stop: // dropped for falling behind: nothing left to do
			return
		}
		h.drop(ch)
	}()
	return ch, true
}

// drop ends a watcher's feed, once. Called with h.mu not held.
func (h *revocationHub) drop(ch chan uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(ch)
}

// dropLocked closes a watcher's channel and stops its goroutine.
func (h *revocationHub) dropLocked(ch chan uuid.UUID) {
	if stop, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
		close(stop)
	}
}

func (h *revocationHub) send(id uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- id:
		default: // too far behind: end its feed rather than lose a revocation silently
			h.dropLocked(ch)
		}
	}
}

func (h *revocationHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for ch := range h.subs {
		h.dropLocked(ch)
	}
	close(h.done)
}
