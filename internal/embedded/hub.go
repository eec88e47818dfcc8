package embedded

import (
	"context"
	"sync"
)

// hub sends values to every subscriber, each through a channel holding up
// to buffer values. When a subscriber's channel is full, a send either
// skips it (coalescing: the change feed's "something changed" needs saying
// once) or, with dropLagging, ends its feed, closing its channel, so that
// it knows it may have missed a value (a revocation must not be lost
// silently). Only this process writes the file, so every change passes
// through a hub.
type hub[T any] struct {
	buffer      int
	dropLagging bool

	mu     sync.Mutex
	subs   map[chan T]chan struct{} // each subscriber's channel and its stop
	done   chan struct{}
	closed bool
}

func newHub[T any](buffer int, dropLagging bool) *hub[T] {
	return &hub[T]{buffer: buffer, dropLagging: dropLagging, subs: map[chan T]chan struct{}{}, done: make(chan struct{})}
}

// subscribe returns a channel that receives what is sent after it returns,
// closed when ctx ends, when the hub closes, or when it falls behind with
// dropLagging; false once the hub is closed.
func (h *hub[T]) subscribe(ctx context.Context) (<-chan T, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	ch, stop := make(chan T, h.buffer), make(chan struct{})
	h.subs[ch] = stop
	go func() {
		select {
		case <-ctx.Done():
		case <-h.done:
		case <-stop: // dropped for falling behind: nothing left to do
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.dropLocked(ch)
	}()
	return ch, true
}

// dropLocked closes a subscriber's channel and stops its goroutine, once.
func (h *hub[T]) dropLocked(ch chan T) {
	if stop, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
		close(stop)
	}
}

func (h *hub[T]) send(v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- v:
		default:
			if h.dropLagging {
				h.dropLocked(ch)
			}
		}
	}
}

func (h *hub[T]) close() {
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
