package httpapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// searchHit is one search result: enough to list it and zoom to it.
type searchHit struct {
	ID    string     `json:"id"`
	Layer string     `json:"layer"`
	Name  string     `json:"name"`
	Code  string     `json:"code,omitempty"`
	Kind  string     `json:"kind"`
	BBox  [4]float64 `json:"bbox"`
}

// handleSearch finds components by name or code, ignoring case and
// Vietnamese diacritics, among those the caller may see. Exact code matches
// come first, then names that start with the query, then the rest.
func (s *server) handleSearch() func(http.ResponseWriter, *http.Request, zone.Principal) {
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		limit, err := intParam(r.URL.Query().Get("limit"), 10, 1, 100, "limit")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len([]rune(q)) < 2 {
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "q: give at least 2 characters of a name or code"))
			return
		}
		needle := cql.FoldAccents(q)
		type ranked struct {
			rank int
			hit  searchHit
		}
		var found []ranked
		snap := s.Index.Snapshot()
		for _, l := range zone.Layers() {
			snap.SearchLayer(l.ID, world, p.Scope(), func(c *zone.Component) bool {
				name, code := cql.FoldAccents(c.Name), cql.FoldAccents(c.Code)
				rank := -1
				switch {
				case code != "" && code == needle:
					rank = 0
				case strings.HasPrefix(name, needle):
					rank = 1
				case strings.Contains(name, needle), code != "" && strings.Contains(code, needle):
					rank = 2
				}
				if rank >= 0 {
					b := c.Geometry.Bound()
					found = append(found, ranked{rank, searchHit{ID: c.ID.String(), Layer: c.Layer, Name: c.Name, Code: c.Code,
						Kind: c.Kind, BBox: [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}}})
				}
				return true
			})
		}
		sort.SliceStable(found, func(i, j int) bool {
			if found[i].rank != found[j].rank {
				return found[i].rank < found[j].rank
			}
			if found[i].hit.Name != found[j].hit.Name {
				return found[i].hit.Name < found[j].hit.Name
			}
			return found[i].hit.ID < found[j].hit.ID
		})
		out := make([]searchHit, 0, min(limit, len(found)))
		for i := 0; i < len(found) && i < limit; i++ {
			out = append(out, found[i].hit)
		}
		encode(w, http.StatusOK, out)
	}
}

// handleBasemap serves the offline base map: country outlines from Natural
// Earth (public domain), so the page is useful with no tile server.
func handleBasemap() http.HandlerFunc { return serveGeoJSON(data.BasemapGeoJSON()) }

// handleBasemapPlaces serves the offline base map's provincial centres.
func handleBasemapPlaces() http.HandlerFunc { return serveGeoJSON(data.BasemapPlacesGeoJSON()) }

func serveGeoJSON(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/geo+json")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(body)
	}
}
