package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/basemap"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/metrics"
	"github.com/zoneplan/zoneplan/internal/plan"
	"github.com/zoneplan/zoneplan/internal/probing"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/report"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Config is what the server tells the web page and how it behaves.
type Config struct {
	// ReportIssuer is the body that issues appraisal reports, as their
	// heading names it (serve --report-issuer and friends).
	ReportIssuer       report.Issuer
	BasemapURL         string // raster tile URL template; "" for the offline base map only
	BasemapAttribution string
	// BasemapProbe, when set, knows whether BasemapURL answers; the page
	// is told, so that offline it requests no online tile.
	BasemapProbe *basemap.Probe
	// BasemapArchive, when set, is a local tile archive served at
	// basemap.TilesPath (public, as the offline outlines) and offered to
	// the page as its base map.
	BasemapArchive *basemap.Archive
	PublicRead     bool   // anonymous callers may read public features
	Version        string // build version, shown by /api/config and `zoneplan version`
	// UnclearedWriteFloor is the least time an appraisal write (create,
	// recheck) takes to answer a caller below secret, and the width of the
	// bands a slower one is answered at the end of: its stored check
	// examines works hidden from that caller, whose number near the
	// footprint the answer's timing must not tell. 0 turns it off.
	UnclearedWriteFloor time.Duration
	// BodyReadTimeout is how long a request body may take to start
	// arriving; then it must keep up 32 KiB/s on average (guardBody). 0:
	// DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// RequestTimeout is the answer deadline: a request's context ends when
	// its handler has written no byte of the answer within it (answers then
	// fail with 503 and Retry-After where the work heeds the context). A
	// streamed answer, once begun, is not cut by it: a large page or export
	// to a slow client is bounded by WriteStallTimeout (a client that stops
	// reading) and WriteTimeout (one that reads too slowly to finish)
	// instead. Waits on the database are bounded more tightly, call by
	// call, by the store. 0 means DefaultRequestTimeout; negative turns it
	// off.
	RequestTimeout time.Duration
	// WriteStallTimeout bounds each write of an answer: a client that reads
	// nothing for this long (its connection's buffers full) is cut off, so
	// clients that stop reading cannot hold connections, and with them the
	// connection cap, for the server's whole write timeout. Each write
	// moves the connection's write deadline on, but never past the
	// request's start and WriteTimeout: a client reading a little every so
	// often is still cut off there. 0 means DefaultWriteStallTimeout;
	// negative turns it off.
	WriteStallTimeout time.Duration
	// WriteTimeout is the server's write timeout (http.Server's, which
	// the caller sets to the same): the most the answer to a request may
	// take, from its start. 0 means DefaultWriteTimeout; negative: none.
	WriteTimeout time.Duration
	// CORSOrigins are the web origins whose pages may call the API from a
	// browser (ParseCORSOrigins, corsHandler); none: no CORS headers.
	CORSOrigins []string
	// ReadOnly makes this a read instance on a database replica: every
	// write is refused with 503 (code read_only) naming PrimaryURL, the
	// write instance's base URL (replicas.go).
	ReadOnly   bool
	PrimaryURL string
	// MaxReplicaLag: past it a read instance's /readyz is not ready (503). 0:
	// DefaultMaxReplicaLag.
	MaxReplicaLag time.Duration
	// PositionWait bounds a read instance's wait for a request's log
	// position (read-your-writes). 0: DefaultPositionWait; at most
	// MaxPositionWait.
	PositionWait time.Duration
	// MaxPositionWaiters bounds the requests waiting for a position at
	// once; past it a request carrying one gets 503 at once. 0:
	// DefaultMaxPositionWaiters.
	MaxPositionWaiters int
}

// DefaultWriteTimeout is WriteTimeout unless configured: a large page
// streams for a while.
const DefaultWriteTimeout = 5 * time.Minute

// DefaultWriteStallTimeout is WriteStallTimeout unless configured: a
// reader taking a 64 KiB chunk in 30 s is slower than any client on a
// working network.
const DefaultWriteStallTimeout = 30 * time.Second

// DefaultRequestTimeout is RequestTimeout unless configured: longer than
// any answer that is not stuck takes to begin (a dense check, a large
// upload parsed, a low-zoom tile built), short enough that stuck work does
// not pile up.
const DefaultRequestTimeout = 30 * time.Second

// DefaultUnclearedWriteFloor is UnclearedWriteFloor unless configured:
// above the time of a dense check at a million components (p99 ~100 ms)
// and its store transaction.
const DefaultUnclearedWriteFloor = 400 * time.Millisecond

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
	// Admission bounds each class of heavy work (classes.go); nil gates
	// get their default sizes.
	Admission Admission
	// Metrics counts and times requests and checks; nil records nothing.
	Metrics *metrics.Metrics
	// Audit records the audit trail; nil records nothing (tests of other
	// parts). Its owner closes it after the server has stopped.
	Audit *audit.Recorder
	// Quota limits the checks and appraisals of callers below secret;
	// nil: no limits.
	Quota *quota.Limiter
	// Probing flags (and may suspend) tokens whose checks touch
	// consultation areas unusually often; nil: off.
	Probing *probing.Detector
	// Replica is a read instance's database replica (Config.ReadOnly):
	// its lag for /readyz, and waits for log positions. nil on a write
	// instance.
	Replica Replica
	// Positions gives a write instance the log position after a write, for
	// PositionHeader; nil: no header (the embedded store).
	Positions Positions
	// Primary is a read instance's primary database (token checks,
	// revocations, the audit trail): /readyz says degraded while it does
	// not answer, and not ready while neither it nor the replica does.
	// nil on a write instance.
	Primary Pinger
	// AuditLog is where the audit trail is read (GET /api/audit, alerts,
	// histories): a read instance's primary; nil: Store.
	AuditLog zone.AuditStore
	// PositionKey is the deployment's secret (at least 32 bytes, the same
	// on every write and read instance) that seals positions
	// (positions.go). Needed with Positions or Replica: without it no
	// position is given, and none is accepted.
	PositionKey []byte
	// Plans runs master-plan jobs (package plan); nil: NewServer makes
	// one on Store, Index and Rules under the check class's gate and
	// starts it, except on a read instance, which runs no jobs (it reads
	// theirs from the store).
	Plans *plan.Manager
}

// NewPlanManager is the job manager a server runs: jobs checked against
// the index and the rule set in force, each batch under a slot of the
// check class (gate), one job at a time.
func NewPlanManager(st zone.PlanStore, ix *index.Index, rs *check.Active, gate *admission.Gate, log *slog.Logger) *plan.Manager {
	return plan.New(plan.Options{Store: st, Engine: rs.Engine, Source: func() check.Source { return ix.Snapshot() }, Gate: gate, Log: log})
}

// Pinger is a database that can say whether it answers (zone.Store's
// Ping).
type Pinger interface {
	Ping(ctx context.Context) error
}

// server holds the dependencies the handlers close over.
type server struct {
	Deps
	refused refusals // token.refused entries, throttled
	// positions seals and opens PositionHeader values; nil without a
	// valid PositionKey.
	positions *positionSealer
	// waiters holds a slot per request waiting for a position
	// (Config.MaxPositionWaiters).
	waiters chan struct{}
	// basemap is the offline base map, decoded once for the reports' maps
	// (decoding it took 85% of a report's time).
	basemap func() []*geojson.FeatureCollection
}

// NewServer returns the whole HTTP API as one handler.
func NewServer(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Config.RequestTimeout == 0 {
		d.Config.RequestTimeout = DefaultRequestTimeout
	}
	if d.Config.WriteStallTimeout == 0 {
		d.Config.WriteStallTimeout = DefaultWriteStallTimeout
	}
	if d.Config.WriteTimeout == 0 {
		d.Config.WriteTimeout = DefaultWriteTimeout
	}
	if d.Config.MaxReplicaLag == 0 {
		d.Config.MaxReplicaLag = DefaultMaxReplicaLag
	}
	if d.Config.PositionWait == 0 {
		d.Config.PositionWait = DefaultPositionWait
	}
	d.Config.PositionWait = min(d.Config.PositionWait, MaxPositionWait)
	if d.Config.MaxPositionWaiters <= 0 {
		d.Config.MaxPositionWaiters = DefaultMaxPositionWaiters
	}
	if d.Ready == nil {
		d.Ready = new(atomic.Bool)
		d.Ready.Store(true)
	}
	if d.Tiles == nil && d.Index != nil {
		d.Tiles = tiles.New(d.Index, tiles.Options{CacheBytes: tiles.DefaultCacheBytes})
	}
	if d.Rules != nil && d.Index != nil {
		// The consultation cells of hidden works follow the rule set in
		// force (their reach is the rules').
		d.Rules.Watch(func(e *check.Engine) { d.Index.SetConsultation(e) })
	}
	d.Admission = d.Admission.withDefaults()
	if d.Plans == nil && !d.Config.ReadOnly && d.Store != nil && d.Index != nil && d.Rules != nil {
		d.Plans = NewPlanManager(d.Store, d.Index, d.Rules, d.Admission.Checks, d.Log)
		if err := d.Plans.Start(context.Background()); err != nil {
			d.Log.Error("plan jobs could not be resumed", "err", err)
		}
	}
	s := &server{Deps: d, waiters: make(chan struct{}, d.Config.MaxPositionWaiters), basemap: sync.OnceValue(basemapLayers)}
	if d.Positions != nil || d.Replica != nil {
		sealer, err := newPositionSealer(d.PositionKey)
		if err != nil {
			d.Log.Error("positions are neither given nor accepted (read-your-writes is off)", "err", err)
		} else {
			s.positions = sealer
		}
	}
	if d.Auth != nil && d.Audit != nil && d.Auth.OnInactive == nil {
		d.Auth.OnInactive = s.tokenRefused
	}
	return s.routes()
}

// authed wraps a handler that needs a caller with permission perm. The
// caller is resolved from the bearer token once, here.
func (s *server) authed(perm zone.Permission, h func(w http.ResponseWriter, r *http.Request, p zone.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if auth.UsesBasic(header) {
			if err := basicAllowed(r); err != nil {
				writeError(w, r, s.Log, err)
				return
			}
		}
		p, err := s.Auth.Authenticate(r.Context(), header)
		if err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		if err := p.Require(perm); err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		// The caller is known: a write's answer can carry its position
		// (primaryOnly), and a read instance can wait for the caller's own
		// position (never for anyone else's, never before this).
		if slot, ok := r.Context().Value(callerSlot{}).(*zone.Principal); ok {
			*slot = p
		}
		if !s.awaitPosition(w, r, p) {
			return
		}
		h(w, r, p)
	})
}

// basicAllowed refuses HTTP Basic credentials where a browser could send
// them for a page of another site: a browser keeps Basic credentials once
// given (a login dialog, a URL with them) and adds them to cross-site
// requests by itself, as it never does a bearer header. So Basic reads
// only (GET and HEAD: what GIS clients send) and never on a request a
// browser marks as coming from another site (Sec-Fetch-Site); writes,
// checks and appraisals take a bearer token.
func basicAllowed(r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return zone.Errorf(zone.CodeUnauthorized, "Basic credentials are accepted for reading only (GET, HEAD); %s takes Authorization: Bearer <token>", r.Method)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return zone.Errorf(zone.CodeUnauthorized, "Basic credentials are not accepted on a request from another site; send Authorization: Bearer <token>")
	}
	return nil
}

// fail writes err as a problem.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, s.Log, err)
}
