package httpapi

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// This file guards what a request brings before a handler sees it: its
// query string (checkQuery) and its body (bodyLimit, guardBody).

// checkQuery answers 400 for a query string Go would read only in part: a
// malformed one (a ';' separator, a bad %-escape), whose pairs
// r.URL.Query() silently drops, and one naming a parameter twice: every
// parameter of this API takes one value, and which of two counts would be
// a guess.
func (s *server) checkQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		values, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			s.fail(w, r, &zone.Error{Code: zone.CodeInvalid,
				Message: "malformed query string: " + strings.TrimPrefix(err.Error(), "invalid ") + " (separate parameters with &, and write ; % & = + in a value as %3B %25 %26 %3D %2B)",
				Details: []zone.Detail{{Index: -1, Pointer: "query", Reason: err.Error()}}})
			return
		}
		for name, vs := range values {
			if len(vs) > 1 {
				s.fail(w, r, fieldError(name, "%s: given %d times; give it once", name, len(vs)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bodyLimit bounds a route's request body to limit bytes: a body declared
// longer (Content-Length) is refused with 413 before anything is read, and
// one that turns out longer fails the read past limit (readBody and the
// upload reader answer 413).
func (s *server) bodyLimit(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				s.fail(w, r, tooLarge(limit))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Defaults of Config.BodyReadTimeout and the rate a body must keep.
const (
	DefaultBodyReadTimeout = 10 * time.Second
	bodyMinRate            = 32 << 10 // bytes a second, on average
)

// guardBody makes a request body keep arriving, so that a slow client
// cannot hold a connection and a handler (and an admission slot) for long:
// the body's bytes must come within BodyReadTimeout of the request plus a
// second for each 32 KiB already read (a deadline on the connection, moved
// on as bytes arrive and lifted when the body ends). A body that falls
// behind fails the read with a 400 saying so; one its handler never reads
// is bounded the same way while the server discards it.
func (s *server) guardBody(next http.Handler) http.Handler {
	timeout := s.Config.BodyReadTimeout
	if timeout <= 0 {
		timeout = DefaultBodyReadTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		g := &bodyGuard{body: r.Body, rc: http.NewResponseController(w), start: time.Now(), timeout: timeout}
		if err := g.rc.SetReadDeadline(g.deadline()); err != nil {
			next.ServeHTTP(w, r) // a writer without deadlines (tests' recorders)
			return
		}
		r.Body = g
		next.ServeHTTP(w, r)
	})
}

// bodyGuard is a request body under guardBody's deadline.
type bodyGuard struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	start   time.Time
	timeout time.Duration
	n       int64 // bytes read
	nextSet int64 // move the deadline again once n reaches this
	done    bool  // the body ended; the deadline is lifted
}

func (g *bodyGuard) deadline() time.Time {
	return g.start.Add(g.timeout + time.Duration(g.n*int64(time.Second)/bodyMinRate))
}

func (g *bodyGuard) Read(p []byte) (int, error) {
	if g.done {
		return g.body.Read(p)
	}
	if g.n >= g.nextSet {
		_ = g.rc.SetReadDeadline(g.deadline())
		g.nextSet = g.n + bodyMinRate
	}
	n, err := g.body.Read(p)
	g.n += int64(n)
	var ne net.Error
	switch {
	case err == io.EOF:
		// Lifted, or the server's watch for the client going away,
		// which starts now, would end the request at the deadline.
		g.done = true
		_ = g.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return n, zone.Errorf(zone.CodeInvalid, "the request body arrived too slowly (it must start within %s and keep up %d KiB/s; %d bytes came in %s)",
			g.timeout, bodyMinRate>>10, g.n, time.Since(g.start).Round(time.Millisecond))
	}
	return n, err
}

func (g *bodyGuard) Close() error { return g.body.Close() }

// redactQuery is a raw query string for the log with every token-like
// value replaced by "REDACTED": values of parameters named like a
// credential (token, access_token, api_key, password, secret...) and any
// value holding a zoneplan token ("zp_"). It reads the string as written,
// malformed or not, and keeps it as written otherwise.
func redactQuery(raw string) string {
	if !strings.Contains(raw, "=") && !strings.Contains(raw, "zp_") {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	rest := raw
	for rest != "" {
		var pair string
		i := strings.IndexAny(rest, "&;")
		if i < 0 {
			pair, rest = rest, ""
		} else {
			pair = rest[:i]
		}
		key, value, hasValue := strings.Cut(pair, "=")
		switch {
		case strings.Contains(unescape(key), "zp_"):
			b.WriteString("REDACTED")
		case hasValue && secretParam(key, value):
			b.WriteString(key)
			b.WriteString("=REDACTED")
		default:
			b.WriteString(pair)
		}
		if i >= 0 {
			b.WriteByte(rest[i])
			rest = rest[i+1:]
		}
	}
	return b.String()
}

// secretParam reports whether a query parameter carries a credential.
func secretParam(rawKey, rawValue string) bool {
	key, value := strings.ToLower(unescape(rawKey)), unescape(rawValue)
	for _, s := range []string{"token", "key", "secret", "password", "passwd", "auth", "bearer", "session", "signature"} {
		if strings.Contains(key, s) {
			return true
		}
	}
	return strings.Contains(value, "zp_")
}

// unescape is s with its query escapes decoded, or s when they are broken.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
