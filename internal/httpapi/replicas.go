package httpapi

// Write instances and read instances (docs/scale-out.md).
//
// A write instance runs on the primary database; a read instance
// (Config.ReadOnly) on a hot standby. Every route that writes is wrapped in
// primaryOnly: on a read instance it is refused before authentication and
// before its body is read, with 503 problem+json (code read_only) whose
// write_url is the same request on the write instance (Config.PrimaryURL);
// on a write instance its successful answers carry the log position after
// the write (PositionHeader). A client that sends that position back to a
// read instance is answered once the read instance's replica has replayed
// it and its index holds it (awaitPosition): read-your-writes.
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

	"github.com/zoneplan/zoneplan/internal/zone"
)

// PositionHeader carries a log position: in the answer to a write on a
// write instance (where the write is in the primary's log), and in a
// request to a read instance (answer only once the replica has replayed
// it). Its value is a PostgreSQL LSN, "0/16B3748".
const PositionHeader = "Zoneplan-Position"

// DefaultMaxReplicaLag is Config.MaxReplicaLag unless configured: past
// it a read instance's /readyz says degraded.
const DefaultMaxReplicaLag = 10 * time.Second

// DefaultPositionWait is Config.PositionWait unless configured: how long a
// read instance waits for its replica to replay a request's position.
const DefaultPositionWait = 2 * time.Second

// Replica is a read instance's standby, as the server needs it
// (cmd/zoneplan adapts postgis.Store).
type Replica interface {
	// ReplicaLag is how long the oldest WAL the standby has not replayed
	// has waited; known is false while the standby cannot be asked.
	ReplicaLag() (lag time.Duration, known bool)
	// WaitReplayed blocks until the standby has replayed position (a
	// PositionHeader value; CodeInvalid when it is not one) and returns
	// the data version the index must reach to hold every change up to
	// it; an unavailable error when ctx ends first.
	WaitReplayed(ctx context.Context, position string) (dataVersion int64, err error)
}

// Positions gives a write instance the primary's log position after a
// write (cmd/zoneplan adapts postgis.Store).
type Positions interface {
	WritePosition(ctx context.Context) (string, error)
}

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
	if s.Positions == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &positionWriter{ResponseWriter: w, stamp: func(h http.Header) {
			// After the write committed (handlers answer after the store
			// returns), before the status goes out. The request may be
			// cancelled by now; the position is still worth a moment.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
			defer cancel()
			pos, err := s.Positions.WritePosition(ctx)
			if err != nil {
				s.Log.Warn("no log position for a write's answer", "request_id", requestID(r.Context()), "err", err)
				return
			}
			h.Set(PositionHeader, pos)
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

// awaitPosition makes a read instance answer a request that carries
// PositionHeader only once its replica has replayed that position and its
// index holds the changes up to it, waiting Config.PositionWait at most
// (then 503 with Retry-After, naming the write instance, where the data is
// current). It runs before authentication: a token created through the
// write instance works here with its answer's position.
func (s *server) awaitPosition(next http.Handler) http.Handler {
	if s.Replica == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pos := r.Header.Get(PositionHeader)
		if pos == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.Config.PositionWait)
		defer cancel()
		version, err := s.Replica.WaitReplayed(ctx, pos)
		if err == nil && s.Index != nil {
			err = s.Index.WaitFor(ctx, version)
		}
		switch {
		case err == nil:
			next.ServeHTTP(w, r)
		case zone.ErrorCode(err) == zone.CodeInvalid:
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "header %s: %s", PositionHeader, zone.ErrorMessage(err)))
		case errors.Is(r.Context().Err(), context.Canceled):
			s.fail(w, r, err) // the client left
		default:
			s.fail(w, r, &zone.Error{Code: zone.CodeUnavailable, RetryAfter: time.Second, Err: err,
				Message: "this read instance's replica has not reached log position " + pos + " within " + s.Config.PositionWait.String() +
					"; try again shortly, or read from the write instance at " + strings.TrimRight(s.Config.PrimaryURL, "/")})
		}
	})
}

// replicaReadiness is what /readyz adds on a read instance: the replica's
// lag, and degraded when it is unknown or past Config.MaxReplicaLag.
func (s *server) replicaReadiness(rd *readiness) {
	if s.Replica == nil {
		return
	}
	lag, known := s.Replica.ReplicaLag()
	if !known {
		if rd.Status == "ready" {
			rd.Status, rd.Reason = "degraded", "replica position unknown"
		}
		return
	}
	secs := lag.Seconds()
	rd.ReplicaLag = &secs
	if rd.Status == "ready" && lag > s.Config.MaxReplicaLag {
		rd.Status, rd.Reason = "degraded", "replica lag over "+s.Config.MaxReplicaLag.String()
	}
}
