package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/zoneplan/zoneplan/internal/basemap"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// routes is the one list of every route the server answers.
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.Metrics.Instrument, logRequests(s.Log), corsHandler(s.Config.CORSOrigins))
	// Every body is bounded (a route may bound it lower) and must keep
	// arriving; every query string must read whole.
	r.Use(answerDeadline(s.Config.RequestTimeout), writeStall(s.Config.WriteStallTimeout, s.Config.WriteTimeout))
	r.Use(s.guardBody, s.bodyLimit(maxUploadBody), s.checkQuery)
	// Writes (wrapped in write): refused by a read instance, naming the
	// write instance; on a write instance their answers carry the log
	// position after the write, sealed for the caller. (A read instance
	// waits for such a position in authed, after authentication.)
	write := s.primaryOnly
	small, jsonBody := r.With(s.bodyLimit(maxSmallBody)), r.With(s.bodyLimit(maxBody))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, zone.Errorf(zone.CodeNotFound, "no such resource: %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeErrorStatus(w, r, s.Log, zone.Errorf(zone.CodeInvalid, "method %s is not allowed on %s", r.Method, r.URL.Path), http.StatusMethodNotAllowed)
	})

	r.Get("/healthz", handleHealthz())
	r.Get("/readyz", s.handleReadyz())
	r.Get("/api/config", s.handleConfig())
	r.Get("/api/openapi.json", handleOpenAPI())
	r.Get("/api/basemap/countries.geojson", handleBasemap())
	r.Get("/api/basemap/places.geojson", handleBasemapPlaces())
	if a := s.Config.BasemapArchive; a != nil {
		r.Method(http.MethodGet, basemap.TilesPath+"*", a)
	}

	r.Method(http.MethodGet, "/api/me", s.authed(zone.PermRead, s.handleMe()))
	r.Method(http.MethodGet, "/api/layers", s.authed(zone.PermRead, s.handleLayers()))
	r.Method(http.MethodGet, "/api/search", s.authed(zone.PermRead, s.handleSearch()))

	getAndHead(r, "/ogc", s.authed(zone.PermRead, s.handleOGCLanding()))
	getAndHead(r, "/ogc/", s.authed(zone.PermRead, s.handleOGCLanding()))
	getAndHead(r, "/ogc/conformance", s.authed(zone.PermRead, s.handleOGCConformance()))
	getAndHead(r, "/ogc/api", s.authed(zone.PermRead, s.handleOGCAPI()))
	getAndHead(r, "/ogc/collections", s.authed(zone.PermRead, s.handleOGCCollections(false)))
	getAndHead(r, "/ogc/collections/{layer}", s.authed(zone.PermRead, s.handleOGCCollections(true)))
	getAndHead(r, "/ogc/collections/{layer}/queryables", s.authed(zone.PermRead, s.handleOGCQueryables()))
	getAndHead(r, "/ogc/collections/{layer}/items", s.authed(zone.PermRead, s.admit(s.itemsPage, s.handleOGCItems())))
	jsonBody.Method(http.MethodPost, "/ogc/collections/{layer}/items", write(s.authed(zone.PermEdit, s.admit(s.bodyWork, s.handleOGCCreate()))))
	getAndHead(r, "/ogc/collections/{layer}/items/{id}", s.authed(zone.PermRead, s.handleItem()))

	// Tiles answer HEAD too: GDAL's /vsicurl/ (the MVT driver on a tile URL)
	// asks for the size with HEAD before it reads.
	tile, ogcTile := s.authed(zone.PermRead, s.handleTile(false)), s.authed(zone.PermRead, s.handleTile(true))
	r.Method(http.MethodGet, "/tiles/{layer}/{z}/{x}/{y}.mvt", tile)
	r.Method(http.MethodHead, "/tiles/{layer}/{z}/{x}/{y}.mvt", tile)
	r.Method(http.MethodGet, "/tiles/{layer}.json", s.authed(zone.PermRead, s.handleTileJSON()))
	getAndHead(r, "/ogc/collections/{layer}/tiles", s.authed(zone.PermRead, s.handleOGCTilesets()))
	getAndHead(r, "/ogc/collections/{layer}/tiles/WebMercatorQuad", s.authed(zone.PermRead, s.handleOGCTileset()))
	r.Method(http.MethodGet, "/ogc/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}", ogcTile)
	r.Method(http.MethodHead, "/ogc/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}", ogcTile)
	getAndHead(r, "/ogc/tileMatrixSets", handleTileMatrixSets())
	getAndHead(r, "/ogc/tileMatrixSets/WebMercatorQuad", handleTileMatrixSet())
	jsonBody.Method(http.MethodPut, "/ogc/collections/{layer}/items/{id}", write(s.authed(zone.PermEdit, s.admit(s.bodyWork, s.handleOGCReplace()))))
	jsonBody.Method(http.MethodPatch, "/ogc/collections/{layer}/items/{id}", write(s.authed(zone.PermEdit, s.admit(s.bodyWork, s.handleOGCUpdate()))))
	small.Method(http.MethodDelete, "/ogc/collections/{layer}/items/{id}", write(s.authed(zone.PermEdit, s.handleOGCDelete())))

	// Checks and appraisals: a suspended or throttled token is refused
	// (limited) before its body is received and a slot waited for (admit).
	r.Method(http.MethodGet, "/api/rules", s.authed(zone.PermRead, s.handleRules()))
	small.Method(http.MethodPost, "/api/rules", write(s.authed(zone.PermManageRules, s.handleRulesLoad())))
	r.Method(http.MethodGet, "/api/coverage", s.authed(zone.PermRead, s.handleCoverageList()))
	r.Method(http.MethodGet, "/api/coverage/{id}", s.authed(zone.PermRead, s.handleCoverageGet()))
	jsonBody.Method(http.MethodPost, "/api/coverage", write(s.authed(zone.PermManageCover, s.handleCoveragePut(false))))
	jsonBody.Method(http.MethodPut, "/api/coverage/{id}", write(s.authed(zone.PermManageCover, s.handleCoveragePut(true))))
	small.Method(http.MethodDelete, "/api/coverage/{id}", write(s.authed(zone.PermManageCover, s.handleCoverageDelete())))
	r.Method(http.MethodPost, "/api/check", s.authed(zone.PermCheck, s.limited(quota.Checks, s.admit(s.checkWork, s.handleCheck()))))
	r.Get("/api/crs", handleCRSList())
	r.Method(http.MethodPost, "/api/convert", s.authed(zone.PermCheck, s.admit(s.uploadWork, s.handleConvert())))
	r.Method(http.MethodPost, "/api/appraisals", write(s.authed(zone.PermAppraise, s.limited(quota.Appraisals, s.admit(s.checkWork, s.handleAppraisalCreate())))))
	r.Method(http.MethodGet, "/api/appraisals", s.authed(zone.PermCheck, s.handleAppraisalList()))
	r.Method(http.MethodGet, "/api/appraisals/{id}", s.authed(zone.PermCheck, s.handleAppraisalGet()))
	r.Method(http.MethodGet, "/api/appraisals/{id}/report", s.authed(zone.PermCheck, s.admit(s.reportWork, s.handleAppraisalReport(false))))
	r.Method(http.MethodGet, "/api/appraisals/{id}/report.pdf", s.authed(zone.PermCheck, s.admit(s.reportWork, s.handleAppraisalReport(true))))
	small.Method(http.MethodPost, "/api/appraisals/{id}/recheck", write(s.authed(zone.PermAppraise, s.limited(quota.Appraisals, s.admit(s.checkWork, s.handleAppraisalRecheck())))))
	small.Method(http.MethodPost, "/api/appraisals/{id}/decision", write(s.authed(zone.PermDecide, s.handleAppraisalDecision())))
	small.Method(http.MethodPost, "/api/appraisals/{id}/publish", write(s.authed(zone.PermPublish, s.handleAppraisalPublish())))

	// Master-plan jobs: the upload is parsing work; reading a job's
	// results whole (summary, downloads) is a heavy page.
	r.Method(http.MethodPost, "/api/plans", write(s.authed(zone.PermAppraise, s.admit(s.uploadWork, s.handlePlanCreate()))))
	r.Method(http.MethodGet, "/api/plans", s.authed(zone.PermCheck, s.handlePlanList()))
	r.Method(http.MethodGet, "/api/plans/{id}", s.authed(zone.PermCheck, s.handlePlanGet()))
	small.Method(http.MethodDelete, "/api/plans/{id}", write(s.authed(zone.PermAppraise, s.handlePlanCancel())))
	r.Method(http.MethodGet, "/api/plans/{id}/parcels", s.authed(zone.PermCheck, s.handlePlanParcels()))
	r.Method(http.MethodGet, "/api/plans/{id}/parcels/{seq}", s.authed(zone.PermCheck, s.handlePlanParcel()))
	r.Method(http.MethodGet, "/api/plans/{id}/items", s.authed(zone.PermCheck, s.admit(s.itemsPage, s.handlePlanItems())))
	r.Method(http.MethodGet, "/api/plans/{id}/summary", s.authed(zone.PermCheck, s.admit(s.heavyWork, s.handlePlanSummary())))
	r.Method(http.MethodGet, "/api/plans/{id}/results.geojson", s.authed(zone.PermCheck, s.admit(s.heavyWork, s.handlePlanDownload("geojson"))))
	r.Method(http.MethodGet, "/api/plans/{id}/results.csv", s.authed(zone.PermCheck, s.admit(s.heavyWork, s.handlePlanDownload("csv"))))
	r.Method(http.MethodGet, "/api/plans/{id}/results.zip", s.authed(zone.PermCheck, s.admit(s.heavyWork, s.handlePlanDownload("shapefile"))))

	r.Method(http.MethodGet, "/api/tokens", s.authed(zone.PermManageTokens, s.handleTokenList()))
	small.Method(http.MethodPost, "/api/tokens", write(s.authed(zone.PermManageTokens, s.handleTokenCreate())))
	small.Method(http.MethodDelete, "/api/tokens/{id}", write(s.authed(zone.PermManageTokens, s.handleTokenRevoke())))

	r.Method(http.MethodGet, "/api/audit", s.authed(zone.PermReadAudit, s.handleAudit()))
	r.Method(http.MethodGet, "/api/audit/alerts", s.authed(zone.PermReadAudit, s.handleAuditAlerts()))
	r.Method(http.MethodDelete, "/api/audit/suspensions/{token}", write(s.authed(zone.PermManageTokens, s.handleSuspensionLift())))

	// Unknown paths under the APIs get problem+json, not the web page's
	// 404; a known path asked with a method it does not take gets 405
	// with Allow (OPTIONS: 204 with Allow). The catch-alls would otherwise
	// answer those too, with 404.
	mux := r
	for _, prefix := range []string{"/api/*", "/ogc/*", "/tiles/*"} {
		r.Handle(prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			allowed := allowedMethods(mux, prefix, r.URL.Path)
			switch {
			case len(allowed) == 0:
				s.fail(w, r, zone.Errorf(zone.CodeNotFound, "no such resource: %s", r.URL.Path))
			case r.Method == http.MethodOptions:
				w.Header().Set("Allow", strings.Join(append(allowed, http.MethodOptions), ", "))
				w.WriteHeader(http.StatusNoContent)
			default:
				w.Header().Set("Allow", strings.Join(allowed, ", "))
				writeErrorStatus(w, r, s.Log, zone.Errorf(zone.CodeInvalid, "method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", ")), http.StatusMethodNotAllowed)
			}
		}))
	}
	if s.Web != nil {
		r.Handle("/*", s.Web)
	}
	return r
}

// getAndHead routes GET and HEAD on path to h (HEAD answers the headers a
// GET would, as HTTP asks of every GET resource).
func getAndHead(r chi.Router, path string, h http.Handler) {
	r.Method(http.MethodGet, path, h)
	r.Method(http.MethodHead, path, h)
}

// allowedMethods lists the methods mux routes path with, other than to the
// catch-all pattern.
func allowedMethods(mux *chi.Mux, catchAll, path string) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		rctx := chi.NewRouteContext()
		if mux.Match(rctx, m, path) && rctx.RoutePattern() != catchAll {
			out = append(out, m)
		}
	}
	return out
}
