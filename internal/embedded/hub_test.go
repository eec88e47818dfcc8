package embedded

import (
	"context"
	"testing"
	"time"
)

// The change feed's hub coalesces: sends to a subscriber that has not
// read hold one value, and it is never dropped for it; its channel closes
// when its context ends, and every channel when the hub closes.
func TestHubCoalesces(t *testing.T) {
	h := newHub[struct{}](1, false)
	ctx, cancel := context.WithCancel(context.Background())
	ch, ok := h.subscribe(ctx)
	other, _ := h.subscribe(context.Background())
	if !ok {
		t.Fatal("subscribe refused")
	}
	for range 5 {
		h.send(struct{}{})
	}
	if n := len(ch); n != 1 {
		t.Fatalf("%d values pending after 5 sends, want 1", n)
	}
	<-ch
	h.send(struct{}{})
	select {
	case _, open := <-ch:
		if !open {
			t.Fatal("a subscriber that fell behind was dropped")
		}
	default:
		t.Fatal("nothing after a send to a subscriber that read")
	}
	cancel()
	waitClosed(t, ch, "a subscriber whose context ended")
	h.close()
	<-other // its pending value
	waitClosed(t, other, "a subscriber of a closed hub")
	if _, ok := h.subscribe(context.Background()); ok {
		t.Fatal("a closed hub took a subscriber")
	}
}

func waitClosed[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case _, open := <-ch:
		if open {
			t.Fatalf("%s got a value, want its channel closed", what)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: channel still open after 5 s", what)
	}
}
