package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// maxBody bounds request bodies: a 100,000-vertex footprint in GeoJSON is
// about 4 MB; imports through the API are batches of features.
const maxBody = 64 << 20

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readBody reads a bounded request body.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, zone.Errorf(zone.CodeInvalid, "request body is larger than %d MiB", maxBody>>20)
	}
	if err != nil {
		return nil, zone.Errorf(zone.CodeInvalid, "reading request body: %v", err)
	}
	return b, nil
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
