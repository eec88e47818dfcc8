package httpapi

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Config is what the server tells the web page and how it behaves.
type Config struct {
	BasemapURL         string // raster tile URL template; "" for the offline base map only
	BasemapAttribution string
	PublicRead         bool   // anonymous callers may read public features
	Version            string // build version, shown by /api/config and `zoneplan version`
}

// Deps are the parts the server is built from; cmd/zoneplan chooses them.
type Deps struct {
	Store  zone.Store
	Index  *index.Index
	Rules  *check.Active // the rule set in force and its engine
	Auth   *auth.Authenticator
	Log    *slog.Logger
	Config Config
	Web    http.Handler // the embedded web page and its assets, mounted at /
	// Ready reports whether start-up finished (index loaded); /readyz fails until then.
	Ready *atomic.Bool
	// Tiles builds and caches vector tiles; nil: one drawing from Index
	// with the default cache.
	Tiles *tiles.Service
}

// server holds the dependencies the handlers close over.
type server struct {
	Deps
}

// NewServer returns the whole HTTP API as one handler.
func NewServer(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Ready == nil {
		d.Ready = new(atomic.Bool)
		d.Ready.Store(true)
	}
	if d.Tiles == nil && d.Index != nil {
		d.Tiles = tiles.New(d.Index, tiles.Options{CacheBytes: tiles.DefaultCacheBytes})
	}
	s := &server{Deps: d}
	return s.routes()
}

// authed wraps a handler that needs a caller with permission perm. The
// caller is resolved from the bearer token once, here.
func (s *server) authed(perm zone.Permission, h func(w http.ResponseWriter, r *http.Request, p zone.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		if err := p.Require(perm); err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		h(w, r, p)
	})
}

// fail writes err as a problem.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, s.Log, err)
}
