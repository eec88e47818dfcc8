package httpapi

// Write instances and read instances (docs/scale-out.md).
//
// A write instance runs on the primary database; a read instance
// (Config.ReadOnly) on a hot standby. Every route that writes is wrapped in
// primaryOnly: on a read instance it is refused before authentication and
// before its body is read, with 503 problem+json (code read_only) whose
// write_url is the same request on the write instance (Config.PrimaryURL);
// on a write instance its successful answers carry the log position after
// the write, sealed for the caller's token (PositionHeader, positions.go).
// A client that sends that value back to a read instance with the same
// token is answered once the read instance's replica has replayed it and
// its index holds it (awaitPosition, after authentication): read-your-writes.
//
// Refusing rather than redirecting: a 307 to another host makes clients
// send the body again and the bearer token to another origin, which many
// refuse (Go's client and curl drop Authorization across hosts), and a
// proxy forwarding writes would put a second hop and its failure modes in
// every write; a load balancer routing by method does the job in one place.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// PositionHeader carries a log position, sealed for one token
// (positions.go): in the answer to a write on a write instance (where the
// write is in the primary's log), and in a request to a read instance with
// the same token (answer only once the replica has replayed it). Its value
// is opaque: 48 base64url characters.
const PositionHeader = "Zoneplan-Position"

// DefaultMaxReplicaLag is Config.MaxReplicaLag unless configured: past
// it a read instance is not ready.
const DefaultMaxReplicaLag = 10 * time.Second

// DefaultPositionWait is Config.PositionWait unless configured: how long a
// read instance waits for its replica to replay a request's position.
const DefaultPositionWait = 2 * time.Second

// MaxPositionWait bounds Config.PositionWait: a request holds a
// connection and a waiter's slot while it waits.
const MaxPositionWait = 10 * time.Second

// DefaultMaxPositionWaiters is Config.MaxPositionWaiters unless
// configured.
const DefaultMaxPositionWaiters = 64

// Replica is a read instance's standby, as the server needs it
// (cmd/zoneplan adapts postgis.Store).
type Replica interface {
	// ReplicaLag is how long the oldest WAL the standby has not replayed
	// has waited; known is false while the standby cannot be asked.
	ReplicaLag() (lag time.Duration, known bool)
	// WaitReplayed blocks until the standby has replayed position (an
	// LSN) and returns the data version the index must reach to hold
	// every change up to it; an unavailable error when ctx ends first.
	WaitReplayed(ctx context.Context, position uint64) (dataVersion int64, err error)
}

// Positions gives a write instance the primary's log position (an LSN)
// after a write (cmd/zoneplan adapts postgis.Store).
type Positions interface {
	WritePosition(ctx context.Context) (uint64, error)
}

// callerSlot is the context key of the *zone.Principal that authed fills
// in for primaryOnly: the position of a write is sealed for its caller.
type callerSlot struct{}

// writeElsewhere is a write refused by a read instance, with where to send
// it; the problem document carries the address as write_url.
type writeElsewhere struct {
	err *zone.Error
	url string
}

func (e *writeElsewhere) Error() string { return e.err.Error() }
func (e *writeElsewhere) Unwrap() error { return e.err }

// primaryOnly marks h as a write. On a read instance it is refused with the
// write instance's address; on a write instance that has Positions, its
// successful answers carry the log position after the write.
func (s *server) primaryOnly(h http.Handler) http.Handler {
	if s.Config.ReadOnly {
		primary := strings.TrimRight(s.Config.PrimaryURL, "/")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			target := primary + r.URL.RequestURI()
			s.fail(w, r, &writeElsewhere{url: target, err: &zone.Error{Code: zone.CodeReadOnly,
				Message: "this is a read instance (on a database replica): send " + r.Method + " " + r.URL.Path + " to the write instance at " + target}})
		})
	}
	if s.Positions == nil || s.positions == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller := new(zone.Principal)
		r = r.WithContext(context.WithValue(r.Context(), callerSlot{}, caller))
		pw := &positionWriter{ResponseWriter: w, stamp: func(h http.Header) {
			if caller.TokenID == uuid.Nil {
				return // no token to seal it for
			}
			// After the write committed (handlers answer after the store
			// returns), before the status goes out. The request may be
			// cancelled by now; the position is still worth a moment.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
			defer cancel()
			pos, err := s.Positions.WritePosition(ctx)
			var sealed string
			if err == nil {
				sealed, err = s.positions.seal(caller.TokenID, pos)
			}
			if err != nil {
				s.Log.Warn("no log position for a write's answer", "request_id", requestID(r.Context()), "err", err)
				return
			}
			h.Set(PositionHeader, sealed)
		}}
		h.ServeHTTP(pw, r)
	})
}

// positionWriter calls stamp before a 2xx status is written.
type positionWriter struct {
	http.ResponseWriter
	stamp   func(http.Header)
	written bool
}

func (p *positionWriter) WriteHeader(code int) {
	if !p.written {
		p.written = true
		if code >= 200 && code < 300 {
			p.stamp(p.Header())
		}
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *positionWriter) Write(b []byte) (int, error) {
	if !p.written {
		p.WriteHeader(http.StatusOK)
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (p *positionWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// awaitPosition, on a read instance, holds a request that carries
// PositionHeader until its replica has replayed that position and its
// index holds the changes up to it, waiting Config.PositionWait at most
// (then 503 with Retry-After, naming the write instance, where the data is
// current). It runs after authentication (authed), so an anonymous or
// unknown caller cannot make the instance wait, and only for a position
// sealed for the caller's own token: anything else is 400. Past
// Config.MaxPositionWaiters waiting at once it is 503 at once. It reports
// whether the request may go on (false: answered).
func (s *server) awaitPosition(w http.ResponseWriter, r *http.Request, p zone.Principal) bool {
	if s.Replica == nil {
		return true
	}
	sealed := r.Header.Get(PositionHeader)
	if sealed == "" {
		return true
	}
	pos, ok := uint64(0), false
	if s.positions != nil && p.TokenID != uuid.Nil {
		pos, ok = s.positions.open(p.TokenID, sealed)
	}
	if !ok {
		s.fail(w, r, zone.Errorf(zone.CodeInvalid, "header %s: not a position this service gave your token; send back the value of the header in the answer to your own write, with the same token", PositionHeader))
		return false
	}
	select {
	case s.waiters <- struct{}{}:
		defer func() { <-s.waiters }()
	default:
		s.fail(w, r, &zone.Error{Code: zone.CodeUnavailable, RetryAfter: time.Second,
			Message: "too many requests are waiting for this read instance's replica; try again shortly, or read from the write instance at " + strings.TrimRight(s.Config.PrimaryURL, "/")})
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.Config.PositionWait)
	defer cancel()
	version, err := s.Replica.WaitReplayed(ctx, pos)
	if err == nil && s.Index != nil {
		err = s.Index.WaitFor(ctx, version)
	}
	switch {
	case err == nil:
		return true
	case errors.Is(r.Context().Err(), context.Canceled):
		s.fail(w, r, err) // the client left
	default:
		s.fail(w, r, &zone.Error{Code: zone.CodeUnavailable, RetryAfter: time.Second, Err: err,
			Message: "this read instance's replica has not reached your write's position within " + s.Config.PositionWait.String() +
				"; try again shortly, or read from the write instance at " + strings.TrimRight(s.Config.PrimaryURL, "/")})
	}
	return false
}

// replicaReadiness is what /readyz adds on a read instance, rd being the
// replica's own readiness: not ready (the error) past Config.MaxReplicaLag,
// or when neither the replica nor the primary answers; degraded when only
// one of them answers (the primary: tokens are checked on it and the audit
// trail is written there), or when the replica's position is unknown. No
// numbers: the lag is in the metrics.
func (s *server) replicaReadiness(ctx context.Context, rd *readiness) error {
	if s.Replica == nil {
		return nil
	}
	primaryDown := false
	if s.Primary != nil {
		primaryDown = zone.StoreStateOf(s.Primary.Ping(ctx)) != zone.StoreReady
	}
	if rd.Status != "ready" { // the replica does not answer
		if primaryDown {
			return zone.Errorf(zone.CodeUnavailable, "not ready: neither the replica nor the primary database answers")
		}
		return nil
	}
	lag, known := s.Replica.ReplicaLag()
	switch {
	case known && lag > s.Config.MaxReplicaLag:
		return zone.Errorf(zone.CodeUnavailable, "not ready: the replica's lag is over --max-replica-lag")
	case primaryDown:
		rd.Status, rd.Reason = "degraded", "primary database unreachable"
	case !known:
		rd.Status, rd.Reason = "degraded", "replica position unknown"
	}
	return nil
}
