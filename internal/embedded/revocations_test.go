package embedded

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A watcher that falls too far behind has its feed ended (closed, so it
// knows to resubscribe), and nothing of it is left running.
func TestRevocationWatcherDroppedLeavesNothing(t *testing.T) {
	h := newHub[uuid.UUID](revocationBuffer, true)
	defer h.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := runtime.NumGoroutine()
	for round := range 20 {
		ch, ok := h.subscribe(ctx)
		if !ok {
			t.Fatal("subscribe refused")
		}
		for range revocationBuffer + 1 {
			h.send(uuid.New())
		}
		n := 0
		for range ch {
			n++
		}
		if n != revocationBuffer {
			t.Fatalf("round %d: the dropped watcher read %d revocations, want the %d buffered then its end", round, n, revocationBuffer)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after 20 dropped watchers, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
