package httpapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
	"go.yaml.in/yaml/v3"
)

// openAPIYAML is the OpenAPI document of this API, kept as YAML for people
// and served as JSON for tools.
//
//go:embed openapi.yaml
var openAPIYAML []byte

func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReadyz answers 200 only when the store answers and the index is
// loaded, so a load balancer sends traffic only to instances that can serve
// it. It says nothing else: no counts, no data version (anyone may ask,
// and both would move with works the asker may not know of).
func (s *server) handleReadyz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Store.Ping(ctx); err != nil {
			s.fail(w, r, &zone.Error{Code: zone.CodeUnavailable, Message: "store unreachable", Err: err})
			return
		}
		if !s.Ready.Load() {
			s.fail(w, r, zone.Errorf(zone.CodeUnavailable, "index still loading"))
			return
		}
		encode(w, http.StatusOK, map[string]any{"status": "ready"})
	}
}

func (s *server) handleConfig() http.HandlerFunc {
	type config struct {
		BasemapURL         string `json:"basemap_url"`
		BasemapAttribution string `json:"basemap_attribution"`
		PublicRead         bool   `json:"public_read"`
		Version            string `json:"version"`
	}
	c := config{s.Config.BasemapURL, s.Config.BasemapAttribution, s.Config.PublicRead, s.Config.Version}
	return func(w http.ResponseWriter, r *http.Request) { encode(w, http.StatusOK, c) }
}

// openAPIJSON converts the embedded YAML document to JSON.
func openAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

func handleOpenAPI() http.HandlerFunc {
	doc, err := openAPIJSON()
	return func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			writeError(w, r, slog.Default(), zone.InternalError(err, "openapi document"))
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.0")
		_, _ = w.Write(doc)
	}
}

// handleMe returns the caller and what their role allows, so a client can
// show only the controls that will work.
func (s *server) handleMe() func(http.ResponseWriter, *http.Request, zone.Principal) {
	type me struct {
		zone.Principal
		Permissions []zone.Permission `json:"permissions"`
	}
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		encode(w, http.StatusOK, me{Principal: p, Permissions: p.Role.Permissions()})
	}
}

// layerInfo is a layer as /api/layers shows it: the registry entry plus the
// number of features the caller may see.
type layerInfo struct {
	zone.Layer
	Count int `json:"count"`
}

// handleLayers lists every layer with the caller's visible feature count.
// Every role may read every layer; what differs by clearance is which
// features exist, so counts are per clearance.
func (s *server) handleLayers() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		snap := s.Index.Snapshot()
		out := make([]layerInfo, 0, len(zone.Layers()))
		for _, l := range zone.Layers() {
			out = append(out, layerInfo{Layer: l, Count: snap.Count(l.ID, p.Scope())})
		}
		encode(w, http.StatusOK, out)
	}
}
