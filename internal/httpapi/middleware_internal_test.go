package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestAnswerDeadline: a handler that has written nothing when the deadline
// passes sees its context end with errAnswerDeadline; one that has begun
// streaming its answer keeps its context past the deadline.
func TestAnswerDeadline(t *testing.T) {
	const d = 50 * time.Millisecond
	causes := make(chan error, 1)
	stuck := answerDeadline(d)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			causes <- context.Cause(r.Context())
		case <-time.After(5 * time.Second):
			causes <- nil
		}
	}))
	start := time.Now()
	stuck.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if err := <-causes; !errors.Is(err, errAnswerDeadline) {
		t.Fatalf("a handler with no answer: context ended by %v, want the answer deadline", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the answer deadline of %s ended the context after %s", d, took)
	}

	streaming := answerDeadline(d)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"type":"FeatureCollection","features":[`))
		select {
		case <-r.Context().Done():
			causes <- context.Cause(r.Context())
		case <-time.After(4 * d):
			causes <- nil
		}
	}))
	streaming.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if err := <-causes; err != nil {
		t.Fatalf("a streaming answer begun before the deadline was cut: %v", err)
	}
}
