package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
)

type ctxKey int

const requestIDKey ctxKey = 1

// requestID returns the id the logging middleware gave this request.
func requestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status and size of a response for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests gives each request an id (echoed in X-Request-Id), recovers
// panics as problem+json 500s, and logs one line per request (its query
// string with token-like values redacted).
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rid := newRequestID()
			r = r.WithContext(context.WithValue(r.Context(), requestIDKey, rid))
			w.Header().Set("X-Request-Id", rid)
			rec := &statusRecorder{ResponseWriter: w}
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic", "request_id", rid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					if rec.status == 0 {
						writeError(rec, r, log, zone.InternalError(fmt.Errorf("panic: %v", v), "panic"))
					}
				}
				// LogAttrs: typed attributes, no boxing (this runs for every request).
				attrs := [7]slog.Attr{slog.String("request_id", rid),
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
					slog.Int("bytes", rec.bytes), slog.Float64("ms", float64(time.Since(start).Microseconds())/1000)}
				n := 6
				if r.URL.RawQuery != "" {
					attrs[n] = slog.String("query", redactQuery(r.URL.RawQuery)) // never a token
					n++
				}
				log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs[:n]...)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// clientGone is the error of work stopped because its request's context
// ended: the client went away (or the server is shutting down).
func clientGone(err error) error {
	return &zone.Error{Code: zone.CodeUnavailable, Message: "request cancelled", Err: err}
}
