package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Coverage routes: where each layer's data is complete, as GeoJSON
// features (zone.Coverage.Feature). A reader sees the coverage up to their
// clearance (a classified one does not exist for others, as a component
// does not); what is listed is an admin's statement, never anything
// derived from the components, so it is the same whatever the hidden data
// is. Only a caller who may manage coverage sees who last set each one.

// coverageFeature is c as the caller p may see it.
func coverageFeature(c *zone.Coverage, p zone.Principal) *geojson.Feature {
	f := c.Feature()
	if !p.Role.Can(zone.PermManageCover) {
		delete(f.Properties, "updated_by")
	}
	return f
}

// handleCoverageList serves GET /api/coverage[?layer=L]: a FeatureCollection.
func (s *server) handleCoverageList() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		layer := r.URL.Query().Get("layer")
		if _, ok := zone.LookupLayer(layer); layer != "" && !ok {
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "unknown layer %q", layer))
			return
		}
		cs, err := s.Store.ListCoverage(r.Context(), p.Clearance)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		fc := geojson.NewFeatureCollection()
		for i := range cs {
			if layer == "" || cs[i].Layer == layer {
				fc.Append(coverageFeature(&cs[i], p))
			}
		}
		writeGeoJSON(w, http.StatusOK, fc)
	}
}

func writeGeoJSON(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, mediaGeoJSON, v)
}

func coverageID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return uuid.Nil, zone.Errorf(zone.CodeNotFound, "no coverage %s", chi.URLParam(r, "id"))
	}
	return id, nil
}

// handleCoverageGet serves GET /api/coverage/{id}.
func (s *server) handleCoverageGet() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		id, err := coverageID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c, err := s.Store.GetCoverage(r.Context(), id, p.Clearance)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("ETag", `"`+strconv.FormatInt(c.Version, 10)+`"`)
		writeGeoJSON(w, http.StatusOK, coverageFeature(c, p))
	}
}

// decodeCoverage reads a GeoJSON Feature body into a coverage.
func decodeCoverage(r *http.Request) (*zone.Coverage, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &probe); err != nil || probe.Type != "Feature" {
		return nil, zone.Errorf(zone.CodeInvalid, "the body must be one GeoJSON Feature")
	}
	f, err := geojson.UnmarshalFeature(b)
	if err != nil {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "the body must be one GeoJSON Feature",
			Details: []zone.Detail{{Index: -1, Pointer: "geometry", Reason: err.Error()}}}
	}
	c, probs := zone.CoverageFromFeature(f)
	if len(probs) > 0 {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "the coverage is not valid", Details: probs}
	}
	return c, nil
}

// handleCoveragePut serves POST /api/coverage (create; an id in the body
// is refused) and PUT /api/coverage/{id} (replace, If-Match optional).
func (s *server) handleCoveragePut(replace bool) func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		var id uuid.UUID
		var ifVersion int64
		if replace {
			var err error
			if id, err = coverageID(r); err != nil {
				s.fail(w, r, err)
				return
			}
			if ifVersion, err = ifMatchVersion(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		c, err := decodeCoverage(r)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		switch {
		case !replace && c.ID != uuid.Nil:
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "a new coverage takes no id; the server gives it one"))
			return
		case replace && c.ID != uuid.Nil && c.ID != id:
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "the body's id differs from the path's"))
			return
		}
		c.ID = id
		if err := mayClassify(p, c.Classification); err != nil {
			s.fail(w, r, err)
			return
		}
		if replace {
			if _, err := s.Store.GetCoverage(r.Context(), id, p.Clearance); err != nil {
				s.fail(w, r, err) // replace only what exists; PUT never creates
				return
			}
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		ctx := writeContext(r)
		stored, err := s.Store.PutCoverage(ctx, c, ifVersion, p.Clearance, p.Name)
		if err != nil {
			if zone.ErrorCode(err) == zone.CodeConflict && ifVersion != 0 {
				writeErrorStatus(w, r, s.Log, err, http.StatusPreconditionFailed)
				return
			}
			s.failInput(w, r, err)
			return
		}
		action, status := zone.AuditCoverageSet, http.StatusCreated
		if replace {
			status = http.StatusOK
		}
		s.recordNow(entry(p, action, stored.ID.String(), stored.Layer, stored.Classification,
			map[string]any{"area": stored.Area, "status": stored.Status, "as_of": stored.AsOf.Format("2006-01-02"), "version": stored.Version}))
		s.followCoverage(ctx)
		w.Header().Set("ETag", `"`+strconv.FormatInt(stored.Version, 10)+`"`)
		if !replace {
			w.Header().Set("Location", "/api/coverage/"+stored.ID.String())
		}
		writeGeoJSON(w, status, coverageFeature(stored, p))
	}
}

// handleCoverageDelete serves DELETE /api/coverage/{id} (If-Match optional).
func (s *server) handleCoverageDelete() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		id, err := coverageID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ifVersion, err := ifMatchVersion(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		old, err := s.Store.GetCoverage(r.Context(), id, p.Clearance)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		ctx := writeContext(r)
		if err := s.Store.DeleteCoverage(ctx, id, ifVersion, p.Clearance, p.Name); err != nil {
			if zone.ErrorCode(err) == zone.CodeConflict {
				writeErrorStatus(w, r, s.Log, err, http.StatusPreconditionFailed)
				return
			}
			s.fail(w, r, err)
			return
		}
		s.recordNow(entry(p, zone.AuditCoverageDeleted, id.String(), old.Layer, old.Classification,
			map[string]any{"area": old.Area, "version": old.Version}))
		s.followCoverage(ctx)
		w.WriteHeader(http.StatusNoContent)
	}
}

// followCoverage puts the store's coverage in the index at once after a
// write here, so the writer's next check sees it (other instances follow
// the change feed). A failure leaves it to the follower.
func (s *server) followCoverage(ctx context.Context) {
	set, err := coverage.Load(ctx, s.Store)
	if err != nil {
		s.Log.Warn("coverage: cannot reload it after a write; the follower will", "err", err)
		return
	}
	s.Index.SetCoverage(set)
}
