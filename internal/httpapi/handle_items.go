package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// visibleComponent looks a component up in the index for a caller: one above
// the caller's clearance, or in another layer, is not found, exactly like one
// that does not exist (the same message, so nothing is revealed).
func (s *server) visibleComponent(layer, rawID string, p zone.Principal) (*zone.Component, error) {
	if _, err := zone.GetLayer(layer); err != nil {
		return nil, err
	}
	notFound := zone.Errorf(zone.CodeNotFound, "no feature %q in collection %s", rawID, layer)
	id, err := uuid.Parse(rawID)
	if err != nil {
		return nil, notFound
	}
	c, ok := s.Index.Snapshot().Get(id)
	if !ok || c.Layer != layer || !p.Clearance.Allows(c.Classification) {
		return nil, notFound
	}
	return c, nil
}

// handleItem returns one feature as GeoJSON with its version as ETag.
func (s *server) handleItem() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		c, err := s.visibleComponent(chi.URLParam(r, "layer"), chi.URLParam(r, "id"), p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		etag := `"` + strconv.FormatInt(c.Version, 10) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		b, err := json.Marshal(c.Feature())
		if err != nil {
			s.fail(w, r, zone.InternalError(err, "encode feature"))
			return
		}
		w.Header().Set("Content-Type", "application/geo+json")
		_, _ = w.Write(b)
	}
}
