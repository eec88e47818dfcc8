package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
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

// TestAnswerDeadlineIsA503: work the answer deadline stopped is answered
// 503 with Retry-After, saying so; work a client ended by going away is
// not taken for it, nor is an error the deadline did not cause.
func TestAnswerDeadlineIsA503(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	stopped := func(err func(ctx context.Context) error) http.Handler {
		return answerDeadline(20 * time.Millisecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			writeError(w, r, log, err(r.Context()))
		}))
	}
	gone := func(ctx context.Context) error { return clientGone(ctx.Err()) }
	rec := httptest.NewRecorder()
	stopped(gone).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || !strings.Contains(rec.Body.String(), "request timeout") {
		t.Fatalf("stopped by the deadline: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}

	// The client went away first: not the deadline's (nobody reads it).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec = httptest.NewRecorder()
	stopped(gone).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if rec.Header().Get("Retry-After") != "" || strings.Contains(rec.Body.String(), "request timeout") {
		t.Fatalf("a client gone taken for the deadline: %d %s", rec.Code, rec.Body)
	}

	// An answer of its own after the deadline stays what it is.
	rec = httptest.NewRecorder()
	stopped(func(context.Context) error { return zone.Errorf(zone.CodeNotFound, "no such thing") }).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("a 404 after the deadline: %d %s", rec.Code, rec.Body)
	}
}

// TestWriteStallKeepsTheTotalLimit: a client that reads a little more
// often than the stall timeout (enough that no write waits for it) keeps
// its answer streaming, but only until the total limit from the request's
// start (the server's write timeout), not for as long as it keeps reading.
func TestWriteStallKeepsTheTotalLimit(t *testing.T) {
	const stall, total = 300 * time.Millisecond, time.Second
	cut := make(chan time.Duration, 1)
	h := writeStall(stall, total)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		chunk := bytes.Repeat([]byte("x"), 4<<10) // 200 KiB/s
		rc := http.NewResponseController(w)
		for time.Since(start) < 10*time.Second {
			_, err := w.Write(chunk)
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				cut <- time.Since(start)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		cut <- -1
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go func() { // a little, every third of the stall timeout: up to 320 KiB/s
		buf := make([]byte, 32<<10)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				return
			}
			time.Sleep(stall / 3)
		}
	}()
	select {
	case d := <-cut:
		if d < 0 {
			t.Fatalf("a client reading every %s was served for 10 s: the total limit of %s did not hold", stall/3, total)
		}
		if d < total-100*time.Millisecond || d > total+stall {
			t.Fatalf("cut off after %s, want at the total limit of %s", d, total)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the handler never ended")
	}
}
