package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/probing"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/tiles"
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
	tileCacheMB := fs.Int("tile-cache-mb", tiles.DefaultCacheBytes>>20, "vector tile cache size in MiB (gzipped tiles); 0 turns the cache off")
	basemap := fs.String("basemap-url", envOr(e, "ZONEPLAN_BASEMAP_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"), "raster base map tile URL for the web page (env ZONEPLAN_BASEMAP_URL); empty: offline base map only")
	attribution := fs.String("basemap-attribution", envOr(e, "ZONEPLAN_BASEMAP_ATTRIBUTION", "© OpenStreetMap contributors"), "attribution shown for the base map")
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
	if err := parse(fs, args); err != nil {
		return err
	}
	// One log line per request: written out in batches (every 100 ms, and
	// at once for warnings and errors) instead of one write call each.
	lw := newLogWriter(e.stderr, 100*time.Millisecond)
	defer lw.Close()
	e = &env{getenv: e.getenv, stdin: e.stdin, stdout: e.stdout, stderr: lw,
		log: slog.New(flushOnWarn{slog.NewTextHandler(lw, &slog.HandlerOptions{Level: logLevel(e.getenv("ZONEPLAN_LOG_LEVEL"))}), lw})}

	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()

	if secret, err := auth.EnsureAdmin(ctx, st, time.Now()); err != nil {
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
	// The audit trail's recorder outlives the HTTP server (closed after it,
	// so the last requests' entries are appended) and the store outlives
	// the recorder (deferred first, closed last).
	trail := audit.NewRecorder(st, audit.Options{Backlog: *backlog, Log: e.log})
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = trail.Close(closeCtx)
	}()
	detector := probing.New(pc)
	ix := index.New()
	ready := new(atomic.Bool)
	handler := httpapi.NewServer(httpapi.Deps{
		Store: st, Index: ix, Rules: active, Log: e.log, Ready: ready, Web: web.Handler(),
		Auth: &auth.Authenticator{Tokens: st, PublicRead: *publicRead, CacheTTL: tokenCacheTTL},
		Config: httpapi.Config{BasemapURL: *basemap, BasemapAttribution: *attribution,
			PublicRead: *publicRead, Version: versionString()},
		Tiles: tiles.New(ix, tiles.Options{CacheBytes: int64(*tileCacheMB) << 20}),
		Audit: trail, Quota: quota.New(qc), Probing: detector,
	})

	start := time.Now()
	if err := ix.Load(ctx, st); err != nil {
		return err
	}
	ready.Store(true)
	e.log.Info("index loaded", "components", ix.Snapshot().Len(), "data_version", ix.Snapshot().Version(), "ms", time.Since(start).Milliseconds())
	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	go func() {
		if err := ix.Follow(followCtx, st, e.log); err != nil && !errors.Is(err, context.Canceled) {
			e.log.Error("index stopped following the store", "err", err)
		}
	}()
	// Rule sets loaded through another instance take effect here within this interval.
	go active.Follow(followCtx, 10*time.Second, e.log)
	// So do probing suspensions and lifts (and, at start, those in force).
	go detector.Follow(followCtx, st, 10*time.Second, e.log)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      5 * time.Minute, // a large export streams for a while
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	e.log.Info("zoneplan listening", "addr", ln.Addr().String(), "store", sc.describe(), "public_read", *publicRead)
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

// tokenCacheTTL is how long a server trusts a token it looked up; a token
// revoked through another instance stops working here within this time
// (through this instance, at once).
const tokenCacheTTL = 5 * time.Second

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

// envOr returns the environment variable key, or def when it is unset or
// empty (pass --basemap-url= to run with the offline base map only).
func envOr(e *env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}
