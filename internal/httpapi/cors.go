package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/cors"
)

// corsHandler lets web pages of the listed origins (a MapLibre or
// OpenLayers page served elsewhere) use the tiles, features and checks
// with their token: preflights are answered before routing and
// authentication (a preflight carries no token), the Authorization header
// is allowed, and the headers a client reads (ETag, Location, Content-Crs,
// Retry-After) are exposed. Credentials mode stays off: tokens travel in
// the Authorization header, never in cookies, and the Basic credentials a
// browser may keep are refused on requests from other sites (basicAllowed),
// so no page gets a caller's rights without holding the token. No origins: nothing is sent and
// browsers keep other origins out, as before.
func corsHandler(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return cors.Handler(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", PositionHeader},
		ExposedHeaders: []string{"ETag", "Location", "Content-Crs", "Retry-After", "Content-Disposition", "X-Request-Id", PositionHeader},
		MaxAge:         600,
	})
}

// ParseCORSOrigins reads a comma-separated list of origins
// ("https://map.example.vn,http://10.0.0.5:8080", or "*" for any): each a
// scheme and host with an optional port, nothing after it.
func ParseCORSOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("CORS origin %q is not scheme://host[:port] (http or https, nothing after it)", o)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}
