package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/basemap"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/connlimit"
	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/impact"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/metrics"
	"github.com/zoneplan/zoneplan/internal/plan"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/probing"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/report"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
	"github.com/zoneplan/zoneplan/web"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "serve [flags]", "Runs the HTTP server: the web map at /, the APIs under /api, /ogc and /tiles.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	addr := e.getenv("ZONEPLAN_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	fs.StringVar(&addr, "addr", addr, "listen address (env ZONEPLAN_ADDR)")
	publicRead := fs.Bool("public-read", false, "let anonymous callers read public features (no token needed)")
	checkCacheMB := fs.Int("check-cache-mb", check.DefaultOutlineBytes>>20, "zone outlines kept for checks, MiB for each clearance (a part each, up to 4 times this); 0: built for every check")
	tileCacheMB := fs.Int("tile-cache-mb", tiles.DefaultCacheBytes>>20, "vector tile cache size in MiB (gzipped tiles); 0 turns the cache off")
	basemapURL := fs.String("basemap-url", envOr(e, "ZONEPLAN_BASEMAP_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"), "raster base map tile URL for the web page (env ZONEPLAN_BASEMAP_URL); empty: offline base map only")
	writeFloor := fs.Duration("uncleared-write-floor", httpapi.DefaultUnclearedWriteFloor, "least time an appraisal create or recheck takes to answer a caller below secret, so its timing says nothing of hidden works; 0 turns it off")
	basemapFile := fs.String("basemap-file", envOr(e, "ZONEPLAN_BASEMAP_FILE", ""), "local base map archive (PMTiles v3, raster or vector tiles) served at /api/basemap/tiles/ and drawn by the page (env ZONEPLAN_BASEMAP_FILE); an MBTiles file is converted first with `pmtiles convert`")
	attribution := fs.String("basemap-attribution", envOr(e, "ZONEPLAN_BASEMAP_ATTRIBUTION", "© OpenStreetMap contributors"), "attribution shown for the base map")
	procs := runtime.GOMAXPROCS(0)
	maxConns := fs.Int("max-conns", connlimit.DefaultMax(), "most connections open at once; past it idle ones are closed to make room, else a new one gets 503 (the default is lower under a low descriptor limit)")
	idleTimeout := fs.Duration("idle-timeout", 15*time.Second, "how long a keep-alive connection may idle between requests (1 s from three quarters of --max-conns on)")
	headerTimeout := fs.Duration("read-header-timeout", 5*time.Second, "how long a client may take to send a request's headers")
	bodyTimeout := fs.Duration("body-read-timeout", httpapi.DefaultBodyReadTimeout, "how long a request body may take to start arriving; then it must keep up 32 KiB/s")
	maxHeavy := fs.Int("max-heavy-pages", httpapi.DefaultHeavyPages(procs).Concurrent, fmt.Sprintf("items pages of more than %d features served at once (up to 32 more wait per slot, 2 s at most; past that 503)", httpapi.HeavyPageItems))
	maxUploads := fs.Int("max-uploads", httpapi.DefaultUploads(procs).Concurrent, "uploads and large bodies parsed at once (up to 32 more wait per slot, 5 s at most; past that 503)")
	maxChecks := fs.Int("max-checks", httpapi.DefaultChecks(procs).Concurrent, "checks and appraisals run at once (up to 32 more wait per slot, 2 s at most; past that 503)")
	maxBodyMB := fs.Int("max-body-memory-mb", httpapi.DefaultBodyMemory>>20, "MiB of request bodies (uploads, checks) held in memory at once while they arrive and wait; past it 503")
	maxTileBuilds := fs.Int("max-tile-builds", tiles.DefaultBuilds().Concurrent, "tiles built at once on cache misses (up to 32 more wait per slot, 2 s at most; past that 503); cached tiles are not limited")
	writeStall := fs.Duration("write-stall-timeout", httpapi.DefaultWriteStallTimeout, "cut off a client that reads nothing of its answer for this long (each write must finish within it); so clients that stop reading cannot hold connections")
	requestTimeout := fs.Duration("request-timeout", httpapi.DefaultRequestTimeout, "answer deadline: a request's work is cancelled when no byte of its answer was written within this (streams once begun are not cut)")
	degradedTokenTTL := fs.Duration("degraded-token-ttl", defaultDegradedTokenTTL, "while the database is unreachable, tokens this server validated within this long keep working (revoked ones stay refused); 0: none")
	qc := quota.DefaultConfig()
	fs.Float64Var(&qc.Checks.Rate, "check-rate", qc.Checks.Rate, "checks a minute one token below secret may make, sustained; 0: no rate limit")
	fs.IntVar(&qc.Checks.Burst, "check-burst", qc.Checks.Burst, "checks one token below secret may make at once")
	fs.IntVar(&qc.Checks.Daily, "check-daily", qc.Checks.Daily, "footprints one token below secret may check a day (UTC+7); 0: no budget")
	fs.Float64Var(&qc.Appraisals.Rate, "appraisal-rate", qc.Appraisals.Rate, "appraisals (created or rechecked) a minute one token below secret may make; 0: no rate limit")
	fs.IntVar(&qc.Appraisals.Burst, "appraisal-burst", qc.Appraisals.Burst, "appraisals one token below secret may make at once")
	fs.IntVar(&qc.Appraisals.Daily, "appraisal-daily", qc.Appraisals.Daily, "appraisals one token below secret may make a day (UTC+7); 0: no budget")
	fs.IntVar(&qc.MaxFeatures, "check-max-features", qc.MaxFeatures, "features one check of a token below secret may hold (more: 422); 0: the API's maximum")
	pc := probing.Config{Window: probing.DefaultWindow, Footprints: probing.DefaultFootprints}
	fs.DurationVar(&pc.Window, "probing-window", pc.Window, "probing detection: the time window")
	fs.IntVar(&pc.Footprints, "probing-footprints", pc.Footprints, "probing detection: distinct footprints referred by one consultation cell within the window that flag a token")
	fs.DurationVar(&pc.Suspend, "probing-suspend", 0, "suspend a flagged token's checks and appraisals for this long (e.g. 24h); 0: flag only")
	backlog := fs.Int("audit-backlog", audit.DefaultBacklog, "audit entries kept in memory while the store cannot take them; past it auditable requests get 503")
	corsOrigins := fs.String("cors-origins", e.getenv("ZONEPLAN_CORS_ORIGINS"), "comma-separated web origins (scheme://host[:port], or *) whose pages may call the API from a browser with a token (env ZONEPLAN_CORS_ORIGINS); empty: none")
	var ro readOnlyConfig
	fs.BoolVar(&ro.on, "read-only", false, "a read instance on a PostgreSQL hot standby (DATABASE_URL): answers reads, refuses writes naming --primary-url, follows the replica's change log (docs/scale-out.md)")
	fs.StringVar(&ro.primaryURL, "primary-url", e.getenv("ZONEPLAN_PRIMARY_URL"), "--read-only: the write instance's base URL, named in refused writes (env ZONEPLAN_PRIMARY_URL)")
	fs.StringVar(&ro.auditURL, "primary-database-url", e.getenv("PRIMARY_DATABASE_URL"), "--read-only: the primary database's URL: tokens are checked and revocations followed there, and this instance's audit trail is appended and listed there (env PRIMARY_DATABASE_URL)")
	fs.DurationVar(&ro.maxLag, "max-replica-lag", httpapi.DefaultMaxReplicaLag, "--read-only: /readyz says not ready (503) past this replay lag")
	fs.DurationVar(&ro.positionWait, "position-wait", httpapi.DefaultPositionWait, "--read-only: how long a request carrying a Zoneplan-Position waits for the replica to replay it (then 503); at most 10s")
	fs.IntVar(&ro.maxWaiters, "max-position-waiters", httpapi.DefaultMaxPositionWaiters, "--read-only: requests waiting for a Zoneplan-Position at once; past it 503 at once")
	recheckStale := fs.Bool("recheck-stale", true, "re-check in the background the stored appraisals a change of the defence data or of the rule set made stale (a new record each); false: only mark them stale")
	issuer := addReportFlags(fs, e)
	metricsAddr := fs.String("metrics-addr", e.getenv("ZONEPLAN_METRICS_ADDR"), "serve Prometheus metrics at http://ADDR/metrics, a listener of its own (env ZONEPLAN_METRICS_ADDR); empty: off")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, n := range []*int{maxConns, maxHeavy, maxUploads, maxChecks, maxTileBuilds, maxBodyMB} {
		if *n < 1 {
			return exitError{code: 2, msg: "--max-conns, --max-heavy-pages, --max-uploads, --max-checks, --max-tile-builds and --max-body-memory-mb must be at least 1"}
		}
	}
	if int64(*maxBodyMB)<<20 < httpapi.MinBodyMemory {
		return exitError{code: 2, msg: fmt.Sprintf("--max-body-memory-mb must be at least %d: an upload at the size limit is held twice (its body and its file)", (httpapi.MinBodyMemory+1<<20-1)>>20)}
	}
	origins, err := httpapi.ParseCORSOrigins(*corsOrigins)
	if err != nil {
		return exitError{code: 2, msg: "--cors-origins: " + err.Error()}
	}
	if *requestTimeout <= 0 || *degradedTokenTTL < 0 {
		return exitError{code: 2, msg: "--request-timeout must be > 0 and --degraded-token-ttl >= 0"}
	}
	if err := ro.validate(sc); err != nil {
		return err
	}
	sc.server = true
	sc.standby = ro.on
	// One log line per request: written out in batches (every 100 ms, and
	// at once for warnings and errors) instead of one write call each.
	lw := newLogWriter(e.stderr, 100*time.Millisecond)
	defer lw.Close()
	e = &env{getenv: e.getenv, stdin: e.stdin, stdout: e.stdout, stderr: lw,
		log: slog.New(flushOnWarn{slog.NewTextHandler(lw, &slog.HandlerOptions{Level: logLevel(e.getenv("ZONEPLAN_LOG_LEVEL"))}), lw})}

	var m *metrics.Metrics
	if *metricsAddr != "" {
		m = metrics.New()
		sc.observe = func(statement string, d time.Duration, err error) { m.ObserveDBCall(statement, d, err != nil) }
	}
	// A read instance appends its audit trail to the primary database (a
	// standby takes no writes), and measures its replica's lag against
	// the primary's position too. Closed after the store (deferred first).
	var primary *postgis.Store
	if ro.on {
		if primary, err = openAuditPrimary(ctx, e, ro.auditURL); err != nil {
			return err
		}
		defer primary.Close()
		sc.primaryPosition = primary.WritePosition
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()

	var auditStore zone.AuditStore = st
	var replica httpapi.Replica
	var positions httpapi.Positions
	var positionKey []byte
	if pg, ok := st.(*postgis.Store); ok {
		if ro.on {
			auditStore, replica = primary, replicaOf{pg}
		} else {
			positions = positionsOf{pg}
		}
		// The key that seals positions, made once on the primary and
		// replicated (migration 00013): the same on every instance.
		if positionKey, err = pg.PositionKey(ctx); err != nil {
			return err
		}
	}

	// A read instance makes no first admin token: tokens are made on the
	// primary, by its write instances.
	if secret, err := ensureAdmin(ctx, st, ro.on); err != nil {
		return err
	} else if secret != "" {
		fmt.Fprintf(e.stderr, "\n"+
			"  ┌──────────────────────────────────────────────────────────────────────────┐\n"+
			"  │ First start: an admin token was created. It is shown only this once.    │\n"+
			"  │ Sign in to the web map with it, and create other tokens with it.        │\n"+
			"  └──────────────────────────────────────────────────────────────────────────┘\n"+
			"  %s\n\n", secret)
		lw.Flush()
	}

	active, err := check.NewActive(ctx, st)
	if err != nil {
		return err
	}
	active.UseOutlines(check.NewOutlines(int64(*checkCacheMB) << 20))
	// The audit trail's recorder outlives the HTTP server (closed after it,
	// so the last requests' entries are appended) and the store outlives
	// the recorder (deferred first, closed last).
	trail := audit.NewRecorder(auditStore, audit.Options{Backlog: *backlog, Log: e.log})
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = trail.Close(closeCtx)
	}()
	detector := probing.New(pc)
	ix := index.New()
	ready := new(atomic.Bool)
	// Each class of heavy work is bounded (see httpapi's classes.go); their
	// InFlight and Queued counts are there to read.
	gates := httpapi.Admission{
		HeavyPages: admission.New("heavy pages", scaledTo(httpapi.DefaultHeavyPages(procs), *maxHeavy)),
		Uploads:    admission.New("uploads", scaledTo(httpapi.DefaultUploads(procs), *maxUploads)),
		Checks:     admission.New("checks", scaledTo(httpapi.DefaultChecks(procs), *maxChecks)),
		Bodies:     admission.NewBudget("request body memory", int64(*maxBodyMB)<<20),
	}
	tileBuilds := admission.New("tile builds", scaledTo(tiles.DefaultBuilds(), *maxTileBuilds))
	limiter := quota.New(qc)
	tileService := tiles.New(ix, tiles.Options{CacheBytes: int64(*tileCacheMB) << 20, Builds: tileBuilds})
	// A read instance checks tokens on the primary, and follows
	// revocations and probing suspensions there (LISTEN works on a
	// primary): a revocation reaches it at once, whatever its replica's
	// lag, and while the primary does not answer only tokens it confirmed
	// within --degraded-token-ttl work (the degraded mode's rule).
	var tokens zone.TokenStore = st
	var tokenFeed zone.RevocationFeed = st
	var primaryDB httpapi.Pinger
	var auditLog zone.AuditStore
	if ro.on {
		tokens, tokenFeed, primaryDB, auditLog = primary, primary, primary, primary
	}
	authn := &auth.Authenticator{Tokens: tokens, PublicRead: *publicRead, CacheTTL: tokenCacheTTL, MaxStale: *degradedTokenTTL}
	// Whether the online base map answers is found out here, once for
	// every page: a page on a network without internet then asks for none
	// of its tiles.
	var archive *basemap.Archive
	if *basemapFile != "" {
		a, err := basemap.OpenArchive(*basemapFile)
		if err != nil {
			return fmt.Errorf("--basemap-file: %w", err)
		}
		defer a.Close()
		archive = a
		info := a.Info()
		e.log.Info("base map archive", "file", *basemapFile, "format", info.Format, "zooms", fmt.Sprintf("%d-%d", info.MinZoom, info.MaxZoom))
	}
	var basemapProbe *basemap.Probe
	if *basemapURL != "" {
		basemapProbe = basemap.NewProbe(*basemapURL, nil)
		probeCtx, stopProbe := context.WithCancel(ctx)
		defer stopProbe()
		go basemapProbe.Run(probeCtx, 10*time.Minute)
	}
	// Master-plan jobs run on write instances, a batch at a time under a
	// slot of the check class; started once the index is loaded, stopped
	// before the store closes (unfinished jobs resume at the next start).
	var plans *plan.Manager
	if !ro.on {
		plans = httpapi.NewPlanManager(st, ix, active, gates.Checks, e.log)
	}
	handler := httpapi.NewServer(httpapi.Deps{
		Store: st, Index: ix, Rules: active, Log: e.log, Ready: ready, Web: web.Handler(),
		Auth: authn,
		Config: httpapi.Config{BasemapURL: *basemapURL, BasemapAttribution: *attribution, BasemapProbe: basemapProbe, BasemapArchive: archive,
			PublicRead: *publicRead, Version: versionString(), CORSOrigins: origins, BodyReadTimeout: *bodyTimeout, UnclearedWriteFloor: *writeFloor,
			RequestTimeout: *requestTimeout, WriteStallTimeout: *writeStall, WriteTimeout: httpapi.DefaultWriteTimeout,
			ReadOnly: ro.on, PrimaryURL: ro.primaryURL, MaxReplicaLag: ro.maxLag, PositionWait: ro.positionWait, MaxPositionWaiters: ro.maxWaiters,
			ReportIssuer: *issuer},
		Tiles:     tileService,
		Admission: gates,
		Audit:     trail, Quota: limiter, Probing: detector, Metrics: m,
		Replica: replica, Positions: positions, PositionKey: positionKey, Primary: primaryDB, AuditLog: auditLog,
		Plans: plans,
	})

	start := time.Now()
	if err := ix.Load(ctx, st); err != nil {
		return err
	}
	// Coverage (where each layer's data is complete) before the first
	// check: until then every check would be judged without it.
	if set, err := coverage.Load(ctx, st); err != nil {
		return err
	} else {
		ix.SetCoverage(set)
	}
	ready.Store(true)
	e.log.Info("index loaded", "components", ix.Snapshot().Len(), "data_version", ix.Snapshot().Version(), "ms", time.Since(start).Milliseconds())
	// The load leaves garbage (rows, listings, the build's scratch): give
	// it back to the system now rather than carry it until the heap next
	// doubles.
	go debug.FreeOSMemory()
	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	go func() {
		if err := ix.Follow(followCtx, st, e.log); err != nil && !errors.Is(err, context.Canceled) {
			e.log.Error("index stopped following the store", "err", err)
		}
	}()
	if plans != nil {
		if err := plans.Start(followCtx); err != nil {
			return err
		}
		defer plans.Close()
	}
	// Coverage edits through any instance (or psql, QGIS) reach the
	// checks here on the change feed's signal, or within a second on a
	// read instance (a standby gets no signal).
	go func() {
		var signals <-chan struct{}
		if !ro.on {
			if ch, err := st.Subscribe(followCtx); err == nil {
				signals = ch
			}
		}
		coverage.Follow(followCtx, st, signals, time.Second, func() int64 { return ix.Snapshot().Coverage().Version() },
			ix.SetCoverage, e.log)
	}()
	// Rule sets loaded through another instance (or `zoneplan rules load`)
	// take effect here within this interval, and the appraisals they make
	// stale are marked then.
	go active.Follow(followCtx, 2*time.Second, e.log)
	// Stored appraisals a change reaches are marked stale and re-checked
	// (by one write instance).
	// Master-plan jobs' parcels are re-checked where a change reaches, by
	// the same instance.
	if !ro.on {
		var subscribers []impact.Func
		if plans != nil {
			subscribers = append(subscribers, func(_ context.Context, area []orb.Bound, all bool, reason string) error {
				plans.RecheckLater(area, all, reason) // in the manager's own goroutine: the watcher goes on marking
				return nil
			})
		}
		go followImpact(followCtx, e, st, active, ix, trail, !*recheckStale, subscribers...)
	}
	// Tokens revoked through any instance are refused here at once.
	go authn.FollowRevocations(followCtx, tokenFeed, e.log)
	// So do probing suspensions and lifts (and, at start, those in force),
	// from the audit trail (on a read instance, the primary's).
	go detector.Follow(followCtx, auditStore, 10*time.Second, e.log)

	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	// Past --max-conns a new connection is answered 503 by the listener
	// and closed, unless an idle or stalled one can be closed for it.
	ln := connlimit.Listen(inner, connlimit.Options{Max: *maxConns,
		Refusal: httpapi.RawProblem(&zone.Error{Code: zone.CodeUnavailable, RetryAfter: time.Second,
			Message: fmt.Sprintf("the server has too many open connections (%d); try again shortly", *maxConns)})})
	if m != nil {
		registerMetrics(m, served{store: st, index: ix, gates: gates, tileBuilds: tileBuilds, tiles: tileService,
			conns: ln, trail: trail, quota: limiter, probing: detector, rules: active, replica: replica})
		stopMetrics, err := serveMetrics(ctx, e, m, *metricsAddr)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopMetrics()
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: *headerTimeout,
		// No ReadTimeout: bodies are bounded by httpapi's body guard. A
		// ReadTimeout would also end the context of any request running
		// longer (the server's watch for the client leaving reads under
		// it), and with it a large page still streaming.
		// A large page streams for a while; httpapi keeps to the same
		// bound as it moves the write deadline (Config.WriteTimeout).
		WriteTimeout: httpapi.DefaultWriteTimeout,
		IdleTimeout:  *idleTimeout,
		ConnState:    ln.ConnState,
		BaseContext:  func(net.Listener) context.Context { return ctx },
	}
	e.log.Info("zoneplan listening", "addr", ln.Addr().String(), "store", sc.describe(), "read_only", ro.on, "public_read", *publicRead,
		"max_conns", *maxConns, "max_heavy_pages", *maxHeavy, "max_uploads", *maxUploads, "max_checks", *maxChecks, "max_tile_builds", *maxTileBuilds)
	fmt.Fprintf(e.stdout, "zoneplan serving on http://%s\n", displayAddr(ln.Addr()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	e.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// scaledTo is def with n slots and its queue kept in proportion.
func scaledTo(def admission.Limit, n int) admission.Limit {
	return admission.Limit{Concurrent: n, Queue: def.Queue / def.Concurrent * n, Wait: def.Wait}
}

// tokenCacheTTL is how long a server trusts a token it looked up before
// asking the store again. Revocations do not wait for it: they reach every
// instance at once through the store's revocation feed.
const tokenCacheTTL = time.Minute

// defaultDegradedTokenTTL is --degraded-token-ttl unless given: the
// bounded staleness of the degraded mode.
const defaultDegradedTokenTTL = 10 * time.Minute

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

// envOr returns the environment variable key, or def when it is unset or
// empty (pass --basemap-url= to run with the offline base map only).
// addReportFlags declares the flags (and their environment variables)
// naming the body that issues appraisal reports, as the heading of a
// report prints it (Decree 30/2020/NĐ-CP).
func addReportFlags(fs *flag.FlagSet, e *env) *report.Issuer {
	is := new(report.Issuer)
	for _, f := range []struct {
		to        *string
		name, env string
		usage     string
	}{
		{&is.Body, "report-issuer", "ZONEPLAN_REPORT_ISSUER", `the body that issues appraisal reports, printed in capitals at their top left, e.g. "Bộ Chỉ huy quân sự tỉnh Lạng Sơn"`},
		{&is.Parent, "report-issuer-parent", "ZONEPLAN_REPORT_ISSUER_PARENT", `its parent body, printed above it, e.g. "Quân khu 1"; empty: none`},
		{&is.Place, "report-place", "ZONEPLAN_REPORT_PLACE", `the place reports are dated at, e.g. "Lạng Sơn"; empty: the province of the project`},
		{&is.Code, "report-code", "ZONEPLAN_REPORT_CODE", `the document symbol after a report's number; empty: BC-TĐQP`},
		{&is.BodyEN, "report-issuer-en", "ZONEPLAN_REPORT_ISSUER_EN", `the issuing body's name in English reports; empty: --report-issuer`},
		{&is.ParentEN, "report-issuer-parent-en", "ZONEPLAN_REPORT_ISSUER_PARENT_EN", `the parent body's name in English reports; empty: --report-issuer-parent`},
		{&is.PlaceEN, "report-place-en", "ZONEPLAN_REPORT_PLACE_EN", `the place in English reports, e.g. "Lang Son"; empty: --report-place`},
	} {
		fs.StringVar(f.to, f.name, e.getenv(f.env), f.usage+" (env "+f.env+")")
	}
	return is
}

func envOr(e *env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

// ensureAdmin is auth.EnsureAdmin, except on a read instance (readOnly),
// which writes nothing.
func ensureAdmin(ctx context.Context, st zone.Store, readOnly bool) (string, error) {
	if readOnly {
		return "", nil
	}
	return auth.EnsureAdmin(ctx, st, time.Now())
}
