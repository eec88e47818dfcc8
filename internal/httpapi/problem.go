package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// problem is an RFC 9457 problem details document.
type problem struct {
	Type      string        `json:"type"`
	Title     string        `json:"title"`
	Status    int           `json:"status"`
	Detail    string        `json:"detail,omitempty"`
	Instance  string        `json:"instance,omitempty"`
	Code      zone.Code     `json:"code"`
	RequestID string        `json:"request_id,omitempty"`
	Errors    []zone.Detail `json:"errors,omitempty"`
	// WriteURL: a write refused by a read instance, to be sent here.
	WriteURL string `json:"write_url,omitempty"`
}

// statusOf is the one place that maps domain error codes to HTTP statuses.
func statusOf(c zone.Code) int {
	switch c {
	case zone.CodeInvalid:
		return http.StatusBadRequest
	case zone.CodeNotFound:
		return http.StatusNotFound
	case zone.CodeConflict:
		return http.StatusConflict
	case zone.CodeForbidden:
		return http.StatusForbidden
	case zone.CodeUnauthorized:
		return http.StatusUnauthorized
	case zone.CodeUnavailable, zone.CodeReadOnly:
		return http.StatusServiceUnavailable
	case zone.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case zone.CodeLimit:
		return http.StatusUnprocessableEntity
	case zone.CodeRateLimited:
		return http.StatusTooManyRequests
	case zone.CodeStorageFull:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// writeError writes err as problem+json. Internal errors are logged with the
// request id and shown only as "internal error" with that id. Invalid input
// that is well-formed but semantically wrong (a geometry) may ask for 422
// through status; 0 means "from the code".
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	writeErrorStatus(w, r, log, err, 0)
}

func writeErrorStatus(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, status int) {
	rid := requestID(r.Context())
	// Work the answer deadline stopped: the client is still waiting.
	late := stoppedByDeadline(r, err)
	if late {
		err, status = lateError(err), 0
	}
	code := zone.ErrorCode(err)
	if status == 0 {
		status = statusOf(code)
	}
	switch {
	case late:
		log.Warn("request failed: no answer within the request timeout", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", errors.Unwrap(err))
	case code == zone.CodeInternal || code == zone.CodeStorageFull:
		log.Error("request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err)
	case code == zone.CodeUnavailable && errors.Unwrap(err) != nil && !errors.Is(err, context.Canceled):
		// A dependency failed. Refusals at capacity (no cause) are counted
		// by the request log and the metrics, not logged again: under a
		// storm there are thousands, and each error line is flushed at once.
		log.Warn("request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p := problem{
		Type:      "https://zoneplan.example/problems/" + string(code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    zone.ErrorMessage(err),
		Instance:  r.URL.Path,
		Code:      code,
		RequestID: rid,
		Errors:    zone.ErrorDetails(err),
	}
	var elsewhere *writeElsewhere
	if errors.As(err, &elsewhere) {
		p.WriteURL = elsewhere.url
	}
	if code == zone.CodeInternal {
		p.Detail = "internal error (request " + rid + ")"
		p.Errors = nil
	}
	if localiseProblem(r, &p) {
		w.Header().Set("Content-Language", "vi")
	}
	if r.URL.Query().Get("lang") == "" {
		// The language followed Accept-Language: a cache must not give
		// one caller's language to another.
		w.Header().Add("Vary", "Accept-Language")
	}
	if ra := zone.ErrorRetryAfter(err); ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="zoneplan"`)
		// A client that sent Basic (a GIS client; the token is the
		// password) is challenged in its own scheme too. Others are not,
		// nor is a browser (it sends Sec-Fetch-Mode): it would answer a
		// Basic challenge with a login dialog, and keep what was typed.
		if auth.UsesBasic(r.Header.Get("Authorization")) && r.Header.Get("Sec-Fetch-Mode") == "" {
			w.Header().Add("WWW-Authenticate", `Basic realm="zoneplan", charset="UTF-8"`)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// RawProblem is err as a whole HTTP/1.1 response that closes the
// connection, written by the one writer above: for answering where there
// is no http.ResponseWriter (a connection refused at the cap, before the
// server reads its request).
func RawProblem(err error) []byte {
	rw := &rawResponse{header: http.Header{}}
	writeError(rw, &http.Request{Method: http.MethodGet, URL: &url.URL{}}, slog.New(slog.DiscardHandler), err)
	rw.header.Set("Content-Length", strconv.Itoa(rw.body.Len()))
	rw.header.Set("Connection", "close")
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", rw.status, http.StatusText(rw.status))
	_ = rw.header.Write(&b)
	b.WriteString("\r\n")
	b.Write(rw.body.Bytes())
	return b.Bytes()
}

// rawResponse is an http.ResponseWriter into memory.
type rawResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *rawResponse) Header() http.Header { return w.header }

func (w *rawResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *rawResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}
