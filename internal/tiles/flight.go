package tiles

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// flight runs one build per cache key for every caller that asks for the
// key while it runs (a map page opened by many clients asks for the same
// tiles at once). Unlike singleflight, the build runs under a context of
// its own that ends when the last caller waiting for it has gone: a tile
// nobody waits for any more is abandoned, not finished, so clients that
// give up leave no work behind; and one caller leaving does not fail the
// others. A caller that arrives after a build was abandoned starts a new
// one. The zero value is ready to use.
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done    chan struct{} // closed when val and err are set
	val     cached
	err     error
	waiters int // callers waiting; guarded by flight.mu
	cancel  context.CancelFunc
}

// do returns build's result for key, running build at most once at a time
// per key.
func (f *flight) do(ctx context.Context, key string, build func(context.Context) (cached, error)) (cached, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall{}
	}
	c, ok := f.calls[key]
	if !ok {
		// The build keeps the first caller's values (request id) but not
		// its cancellation: its own ends when every waiter has left.
		bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &flightCall{done: make(chan struct{}), cancel: cancel}
		f.calls[key] = c
		go func() {
			// A panicking build would kill the server from this goroutine,
			// out of reach of the request's recovery: it fails the tile.
			defer func() {
				if v := recover(); v != nil {
					c.val, c.err = cached{}, zone.InternalError(fmt.Errorf("panic: %v\n%s", v, debug.Stack()), "building the tile failed")
				}
				f.mu.Lock()
				if f.calls[key] == c {
					delete(f.calls, key)
				}
				f.mu.Unlock()
				cancel()
				close(c.done)
			}()
			c.val, c.err = build(bctx)
		}()
	}
	c.waiters++
	f.mu.Unlock()

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		f.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			c.cancel()
			if f.calls[key] == c {
				delete(f.calls, key) // the next caller starts afresh
			}
		}
		f.mu.Unlock()
		return cached{}, &zone.Error{Code: zone.CodeUnavailable, Message: "request cancelled while its tile was built", Err: ctx.Err()}
	}
}

// waiting is the number of callers waiting for key's build.
func (f *flight) waiting(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[key]; ok {
		return c.waiters
	}
	return 0
}
