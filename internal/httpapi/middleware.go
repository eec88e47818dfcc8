package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
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

// errAnswerDeadline is the cause of a request context ended by the answer
// deadline. The client is still there: the work the deadline stopped is
// answered 503 with Retry-After (writeError, lateError), while a context
// the client ended has nobody to answer (clientLeft).
var errAnswerDeadline = errors.New("no answer within the request timeout")

// retryAfterTimeout is the Retry-After of a request the answer deadline
// ended: the server was slow (overloaded, or the database stalled) and
// may not be a moment later.
const retryAfterTimeout = 5 * time.Second

// deadlinePassed reports whether r's context was ended by the answer
// deadline.
func deadlinePassed(r *http.Request) bool {
	return errors.Is(context.Cause(r.Context()), errAnswerDeadline)
}

// clientLeft reports whether r's context ended for another reason than
// the answer deadline: the client went away (or the server is shutting
// down), and there is nobody to answer.
func clientLeft(r *http.Request) bool { return r.Context().Err() != nil && !deadlinePassed(r) }

// stoppedByDeadline reports whether err is the failure of work the
// answer deadline stopped (writeError answers it with lateError).
func stoppedByDeadline(r *http.Request, err error) bool {
	return deadlinePassed(r) &&
		(zone.ErrorCode(err) == zone.CodeUnavailable || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// lateError is the answer to work the answer deadline stopped: 503 with
// Retry-After.
func lateError(err error) error {
	return &zone.Error{Code: zone.CodeUnavailable, RetryAfter: retryAfterTimeout, Err: err,
		Message: "the server could not answer within its request timeout (busy, or its database slow); try again shortly"}
}

// answerDeadline ends each request's context when its handler has written
// nothing within d (Config.RequestTimeout); once the answer has begun, the
// deadline no longer applies, so streams are not cut. d <= 0: no deadline.
func answerDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithCancelCause(r.Context())
			defer cancel(nil)
			aw := &answerWriter{ResponseWriter: w}
			aw.timer = time.AfterFunc(d, func() {
				if aw.state.CompareAndSwap(answerPending, answerExpired) {
					cancel(errAnswerDeadline)
				}
			})
			defer aw.timer.Stop()
			next.ServeHTTP(aw, r.WithContext(ctx))
		})
	}
}

// States of an answerWriter.
const (
	answerPending int32 = iota // nothing written, deadline running
	answerBegun                // written to: the deadline is off
	answerExpired              // the deadline passed first
)

// answerWriter notes when a handler begins its answer.
type answerWriter struct {
	http.ResponseWriter
	state atomic.Int32
	timer *time.Timer
}

func (a *answerWriter) begin() {
	if a.state.CompareAndSwap(answerPending, answerBegun) {
		a.timer.Stop()
	}
}

func (a *answerWriter) WriteHeader(code int) {
	a.begin()
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerWriter) Write(b []byte) (int, error) {
	a.begin()
	return a.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// writeStall gives each write of an answer d to complete (the connection's
// write deadline, moved on before every write): a client that stops
// reading is cut off after d instead of the server's whole write timeout,
// while one that keeps reading streams on, but never past total from the
// request's start (the server's write timeout, Config.WriteTimeout, which
// moving the deadline would otherwise lift): a client reading a chunk
// every d-ε cannot hold its connection, and a heavy page's slot, for
// ever. d <= 0: off (the server's own deadline stands); total <= 0: no
// bound but d.
func writeStall(d, total time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &stallWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: d}
			if total > 0 {
				sw.end = time.Now().Add(total)
			}
			next.ServeHTTP(sw, r)
		})
	}
}

// stallWriter moves the write deadline on before each write, up to end.
type stallWriter struct {
	http.ResponseWriter
	rc  *http.ResponseController
	d   time.Duration
	end time.Time // the latest deadline; zero: none
}

// deadline is the next write's deadline: d from now, but not past end.
func (s *stallWriter) deadline() time.Time {
	t := time.Now().Add(s.d)
	if !s.end.IsZero() && t.After(s.end) {
		return s.end
	}
	return t
}

func (s *stallWriter) Write(b []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(s.deadline())
	return s.ResponseWriter.Write(b)
}

// Flush moves the deadline on too: a flush writes to the connection.
func (s *stallWriter) Flush() {
	_ = s.rc.SetWriteDeadline(s.deadline())
	_ = s.rc.Flush()
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
