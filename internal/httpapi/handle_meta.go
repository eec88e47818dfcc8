package httpapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/zoneplan/zoneplan/internal/basemap"
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

// readiness is the /readyz answer: a status and, when not plainly ready, a
// fixed short reason. Nothing else (no counts, no versions, no times, not
// even a read instance's replica lag, which is in the metrics only): anyone
// may ask, and counts, versions and lags move with works the asker may not
// know of (a bulk secret import shows as a lag spike).
type readiness struct {
	Status string `json:"status"` // ready, degraded
	Reason string `json:"reason,omitempty"`
}

// handleReadyz tells a load balancer whether to send this instance traffic:
//   - 200 ready: the index is loaded and the store answers;
//   - 200 degraded: the database is unreachable, but the index is loaded,
//     so tiles, items, searches and checks are answered from memory for
//     tokens validated recently, while writes get 503 with Retry-After.
//     200, so that a load balancer keeps sending the reads: every instance
//     on the same database is degraded alike, and taking them all out of
//     rotation would turn a database outage into a total one. (A balancer
//     that can tell instances apart by body may prefer "ready" ones.)
//   - 503 not ready: the index is still loading, the store's disk is full
//     (writes would fail with 507), or the store fails otherwise.
//
// A read instance (on a replica, replicas.go) is also not ready while its
// replica's lag is past Config.MaxReplicaLag or while neither its replica
// nor its primary answers, and degraded while only one of them answers.
func (s *server) handleReadyz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !s.Ready.Load() {
			s.fail(w, r, zone.Errorf(zone.CodeUnavailable, "not ready: the index is loading"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := s.Store.Ping(ctx)
		rd := readiness{Status: "ready"}
		switch zone.StoreStateOf(err) {
		case zone.StoreReady:
		case zone.StoreDegraded:
			rd = readiness{Status: "degraded", Reason: "database unreachable"}
		case zone.StoreStorageFull:
			s.fail(w, r, &zone.Error{Code: zone.CodeUnavailable, Message: "not ready: storage full", Err: err})
			return
		default:
			s.fail(w, r, &zone.Error{Code: zone.CodeUnavailable, Message: "not ready: store failing", Err: err})
			return
		}
		if err := s.replicaReadiness(ctx, &rd); err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, rd)
	}
}

func (s *server) handleConfig() http.HandlerFunc {
	type config struct {
		BasemapURL         string `json:"basemap_url"`
		BasemapAttribution string `json:"basemap_attribution"`
		// BasemapReachable: whether the server reached BasemapURL on its
		// last probe; absent when it has not probed (no probe, or the
		// first is still under way after a short wait): the page probes.
		BasemapReachable *bool                `json:"basemap_reachable,omitempty"`
		BasemapArchive   *basemap.ArchiveInfo `json:"basemap_archive,omitempty"`
		PublicRead       bool                 `json:"public_read"`
		Version          string               `json:"version"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		c := config{BasemapURL: s.Config.BasemapURL, BasemapAttribution: s.Config.BasemapAttribution,
			PublicRead: s.Config.PublicRead, Version: s.Config.Version}
		if a := s.Config.BasemapArchive; a != nil {
			info := a.Info()
			c.BasemapArchive = &info
		}
		if p := s.Config.BasemapProbe; p != nil && c.BasemapURL != "" {
			// The first probe takes at most basemap.ProbeTimeout; a page
			// loaded just after start waits for it rather than guessing.
			ctx, cancel := context.WithTimeout(r.Context(), basemap.ProbeTimeout+500*time.Millisecond)
			ok, known := p.Reachable(ctx)
			cancel()
			if known {
				c.BasemapReachable = &ok
			}
		}
		encode(w, http.StatusOK, c)
	}
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
