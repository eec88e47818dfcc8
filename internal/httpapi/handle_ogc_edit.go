package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/paulmach/orb/geojson"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// OGC API - Features Part 4: create, replace, update (merge patch) and
// delete features, for editors. Bodies are GeoJSON Features validated by
// zone.FromFeature exactly as the import validates them.
//
// No answer to a write may tell of a component the editor cannot see, so:
// an editor writes only in layers whose every component they may see
// (zone.Scope.MayWrite: a clearance up to the layer's ceiling), where a
// duplicate code can only be one they see; and ids are the server's (a
// create with an id is refused whatever the id), so no id can be probed.

// ifMatchVersion reads an If-Match header holding one feature version
// ("3" or W/"3"); 0 when absent or "*".
func ifMatchVersion(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	t := strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(t, `"`), 10, 64)
	if err != nil || v < 1 || !strings.HasPrefix(t, `"`) || !strings.HasSuffix(t, `"`) {
		return 0, &zone.Error{Code: zone.CodeInvalid, Message: "If-Match must be one ETag of this feature, such as \"3\"",
			Details: []zone.Detail{{Index: -1, Pointer: "If-Match", Reason: "not a feature version: " + strconv.Quote(h)}}}
	}
	return v, nil
}

// preconditionFailed is the answer to a stale If-Match.
func (s *server) preconditionFailed(w http.ResponseWriter, r *http.Request, id uuid.UUID, current int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(current, 10)+`"`)
	writeErrorStatus(w, r, s.Log, zone.Errorf(zone.CodeConflict,
		"feature %s is at version %d, not the one in If-Match: reload it and apply the change again", id, current),
		http.StatusPreconditionFailed)
}

// decodeFeature reads a GeoJSON Feature body into a validated component
// of layer.
func decodeFeature(r *http.Request, layer string) (*zone.Component, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return featureComponent(b, layer)
}

func featureComponent(b []byte, layer string) (*zone.Component, error) {
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "the body is not JSON: " + err.Error(),
			Details: []zone.Detail{{Index: -1, Reason: err.Error()}}}
	}
	if probe.Type != "Feature" {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "the body must be one GeoJSON Feature",
			Details: []zone.Detail{{Index: -1, Pointer: "type", Reason: "want \"Feature\", got " + strconv.Quote(probe.Type)}}}
	}
	f, err := geojson.UnmarshalFeature(b)
	if err != nil {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "the body is not a valid GeoJSON Feature: " + err.Error(),
			Details: []zone.Detail{{Index: -1, Pointer: "geometry", Reason: err.Error()}}}
	}
	c, probs := zone.FromFeature(layer, f)
	if len(probs) > 0 {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "the feature is not valid", Details: probs}
	}
	return c, nil
}

// mayClassify refuses a classification above the editor's clearance: they
// could not see what they made.
func mayClassify(p zone.Principal, c zone.Classification) error {
	if p.Clearance.Allows(c) {
		return nil
	}
	return &zone.Error{Code: zone.CodeForbidden,
		Message: "you may not classify a feature above your own clearance (" + p.Clearance.String() + ")",
		Details: []zone.Detail{{Index: -1, Pointer: "properties.classification", Reason: "above your clearance"}}}
}

// mayWrite refuses a write in a layer the editor cannot see all of; the
// answer names only the layer's ceiling, a fact of the registry.
func mayWrite(p zone.Principal, l *zone.Layer) error {
	if p.Scope().MayWrite(l) {
		return nil
	}
	if l.ID == zone.LayerProjectSites {
		return zone.Errorf(zone.CodeForbidden, "editing project sites needs a role that may read every appraisal")
	}
	return zone.Errorf(zone.CodeForbidden, "layer %s holds components up to %s; editing it needs %s clearance (yours: %s)",
		l.ID, l.Ceiling, l.Ceiling, p.Clearance)
}

// respondFeature writes a feature with its ETag.
func (s *server) respondFeature(w http.ResponseWriter, r *http.Request, c *zone.Component, status int) {
	b, err := json.Marshal(c.Feature())
	if err != nil {
		s.fail(w, r, zone.InternalError(err, "encode feature"))
		return
	}
	w.Header().Set("ETag", etagOf(c))
	w.Header().Set("Content-Type", mediaGeoJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// handleOGCCreate serves POST /ogc/collections/{layer}/items.
func (s *server) handleOGCCreate() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		if s.refuseReadOnly(w, r) {
			return
		}
		l, err := ogcLayer(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := mayWrite(p, l); err != nil {
			s.fail(w, r, err)
			return
		}
		c, err := decodeFeature(r, l.ID)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		if c.ID != uuid.Nil {
			s.failInput(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "a new feature's id is assigned by the server: leave \"id\" out (PUT .../items/{id} replaces an existing feature)",
				Details: []zone.Detail{{Index: -1, Pointer: "id", Reason: "ids are assigned by the server"}}})
			return
		}
		if err := mayClassify(p, c.Classification); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		created, err := s.Store.CreateComponent(writeContext(r), c, p.Name)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		s.recordEdit(p, zone.AuditComponentCreated, nil, created)
		s.syncIndex(r.Context())
		w.Header().Set("Location", ogcBase(r)+"/collections/"+l.ID+"/items/"+created.ID.String())
		s.respondFeature(w, r, created, http.StatusCreated)
	}
}

// refuseReadOnly answers 405 to a write to a layer part (a collection of
// one geometry class of a mixed layer, a view for reading) and reports
// whether it did.
func (s *server) refuseReadOnly(w http.ResponseWriter, r *http.Request) bool {
	part, ok := zone.LookupLayerPart(chi.URLParam(r, "layer"))
	if !ok {
		return false
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeErrorStatus(w, r, s.Log, zone.Errorf(zone.CodeInvalid, "collection %s shows the %s of layer %s for reading; edit them through /ogc/collections/%s",
		part.ID, part.Class, part.Layer.ID, part.Layer.ID), http.StatusMethodNotAllowed)
	return true
}

// editTarget resolves the feature a PUT, PATCH or DELETE names, as the
// editor may see it in the store (not the index, which may lag).
func (s *server) editTarget(r *http.Request, p zone.Principal) (*zone.Layer, *zone.Component, int64, error) {
	l, err := ogcLayer(r)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := mayWrite(p, l); err != nil {
		return nil, nil, 0, err
	}
	raw := chi.URLParam(r, "id")
	notFound := zone.Errorf(zone.CodeNotFound, "no feature %q in collection %s", raw, l.ID)
	id, err := uuid.Parse(raw)
	if err != nil {
		return nil, nil, 0, notFound
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return nil, nil, 0, err
	}
	old, err := s.Store.GetComponent(r.Context(), id, p.Clearance)
	if zone.ErrorCode(err) == zone.CodeNotFound || (err == nil && old.Layer != l.ID) {
		return nil, nil, 0, notFound
	}
	if err != nil {
		return nil, nil, 0, err
	}
	return l, old, ifVersion, nil
}

// storeUpdate writes c over old and answers: 412 for a stale If-Match
// (checked again by the store, atomically), the new feature otherwise.
func (s *server) storeUpdate(w http.ResponseWriter, r *http.Request, p zone.Principal, old, c *zone.Component, ifVersion int64) {
	if ifVersion != 0 && old.Version != ifVersion {
		s.preconditionFailed(w, r, old.ID, old.Version)
		return
	}
	if err := mayClassify(p, c.Classification); err != nil {
		s.fail(w, r, err)
		return
	}
	c.ID, c.Layer = old.ID, old.Layer
	if vs, ok := old.Properties[zone.PropVerdicts]; ok {
		c.Properties[zone.PropVerdicts] = vs // the checker's, never a client's
	}
	if err := s.auditable(); err != nil {
		s.fail(w, r, err)
		return
	}
	updated, err := s.Store.UpdateComponent(writeContext(r), c, ifVersion, p.Clearance, p.Name)
	if err != nil {
		if ifVersion != 0 && zone.ErrorCode(err) == zone.CodeConflict {
			// Someone else wrote between our read and the store's check.
			if now, gerr := s.Store.GetComponent(r.Context(), old.ID, p.Clearance); gerr == nil && now.Version != ifVersion {
				s.preconditionFailed(w, r, old.ID, now.Version)
				return
			}
		}
		s.failInput(w, r, err)
		return
	}
	s.recordEdit(p, zone.AuditComponentUpdated, old, updated)
	s.syncIndex(r.Context())
	s.respondFeature(w, r, updated, http.StatusOK)
}

// handleOGCReplace serves PUT /ogc/collections/{layer}/items/{id}: the body
// replaces the feature. If-Match is optional; a stale one is 412.
func (s *server) handleOGCReplace() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		if s.refuseReadOnly(w, r) {
			return
		}
		l, old, ifVersion, err := s.editTarget(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c, err := decodeFeature(r, l.ID)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		if c.ID != uuid.Nil && c.ID != old.ID {
			s.failInput(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "the feature's id differs from the one in the path",
				Details: []zone.Detail{{Index: -1, Pointer: "id", Reason: "want " + old.ID.String() + " or no id"}}})
			return
		}
		s.storeUpdate(w, r, p, old, c, ifVersion)
	}
}

// handleOGCUpdate serves PATCH /ogc/collections/{layer}/items/{id}: an RFC
// 7396 JSON merge patch applied to the feature (its properties merge, a
// null removes one, a geometry replaces the old one).
func (s *server) handleOGCUpdate() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		if s.refuseReadOnly(w, r) {
			return
		}
		l, old, ifVersion, err := s.editTarget(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		body, err := readBody(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var patch any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&patch); err != nil {
			s.fail(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "the body is not a JSON merge patch: " + err.Error(),
				Details: []zone.Detail{{Index: -1, Reason: err.Error()}}})
			return
		}
		if _, ok := patch.(map[string]any); !ok {
			s.fail(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "a merge patch of a feature must be a JSON object",
				Details: []zone.Detail{{Index: -1, Reason: "not an object"}}})
			return
		}
		current, err := json.Marshal(old.Feature())
		if err != nil {
			s.fail(w, r, zone.InternalError(err, "encode feature"))
			return
		}
		var target any
		dec = json.NewDecoder(bytes.NewReader(current))
		dec.UseNumber()
		if err := dec.Decode(&target); err != nil {
			s.fail(w, r, zone.InternalError(err, "decode feature"))
			return
		}
		merged, err := json.Marshal(mergePatch(target, patch))
		if err != nil {
			s.fail(w, r, zone.InternalError(err, "encode patched feature"))
			return
		}
		c, err := featureComponent(merged, l.ID)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		if c.ID != old.ID {
			s.failInput(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "a patch may not change the feature's id",
				Details: []zone.Detail{{Index: -1, Pointer: "id", Reason: "ids are fixed"}}})
			return
		}
		s.storeUpdate(w, r, p, old, c, ifVersion)
	}
}

// mergePatch applies an RFC 7396 merge patch to target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// handleOGCDelete serves DELETE /ogc/collections/{layer}/items/{id}.
func (s *server) handleOGCDelete() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		if s.refuseReadOnly(w, r) {
			return
		}
		_, old, ifVersion, err := s.editTarget(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if ifVersion != 0 && old.Version != ifVersion {
			s.preconditionFailed(w, r, old.ID, old.Version)
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.Store.DeleteComponent(writeContext(r), old.ID, ifVersion, p.Clearance, p.Name); err != nil {
			if ifVersion != 0 && zone.ErrorCode(err) == zone.CodeConflict {
				if now, gerr := s.Store.GetComponent(r.Context(), old.ID, p.Clearance); gerr == nil {
					s.preconditionFailed(w, r, old.ID, now.Version)
					return
				}
			}
			s.fail(w, r, err)
			return
		}
		s.recordEdit(p, zone.AuditComponentDeleted, old, nil)
		s.syncIndex(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}
}
