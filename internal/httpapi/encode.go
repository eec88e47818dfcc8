package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Request body limits, each enforced while the body is read (bodyLimit)
// and answered with 413 problem+json when passed, by a declared
// Content-Length before anything is read:
//   - maxBody: a JSON footprint, feature or rule set: a 100,000-vertex
//     footprint in GeoJSON is about 4 MB; imports through the API are
//     batches of features;
//   - maxUploadBody: a multipart upload, the file (formats.MaxFileBytes)
//     and a few small fields; the largest any route takes;
//   - maxSmallBody: the small JSON documents of tokens and decisions.
const (
	maxBody       = 64 << 20
	maxUploadBody = formats.MaxFileBytes + 1<<20
	maxSmallBody  = 1 << 20
)

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, "application/json; charset=utf-8", v)
}

// writeEncoded writes b, a value already encoded as JSON, as encode would
// (with its newline); b may be extended in place.
func writeEncoded(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// readBody reads a bounded request body (at most maxBody, less when the
// route's limit is lower).
func readBody(r *http.Request) ([]byte, error) {
	if rb, ok := r.Body.(*receivedBody); ok { // received before admission
		if len(rb.data) > maxBody {
			return nil, tooLarge(maxBody)
		}
		return rb.data, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, bodyError(err, "reading request body")
	}
	return b, nil
}

// bodyError is the error for a failed body read: 413 (CodeTooLarge) past a
// size limit, the body guard's own error for a body arriving too slowly,
// else CodeInvalid saying what was being read.
func bodyError(err error, what string) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	var ze *zone.Error
	if errors.As(err, &ze) {
		return ze
	}
	return zone.Errorf(zone.CodeInvalid, "%s: %v", what, err)
}

// tooLarge is the error for a body over limit bytes.
func tooLarge(limit int64) error {
	return zone.Errorf(zone.CodeTooLarge, "request body is larger than %s (the limit of this endpoint)", formats.BytesText(limit))
}

// decode reads a JSON body into v, rejecting unknown fields so a misspelt
// field is an error rather than silently ignored.
func decode[T any](r *http.Request) (T, error) {
	var v T
	b, err := readBody(r)
	if err != nil {
		return v, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, zone.Errorf(zone.CodeInvalid, "request body is not valid JSON for this call: %v", err)
	}
	return v, nil
}
