package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// storeConfig says which store a command opens: PostGIS when DatabaseURL is
// set, otherwise the embedded file.
type storeConfig struct {
	DatabaseURL string
	File        string
	NoDemo      bool
	// server: opened by serve, whose PostGIS pool gets the server's
	// deadlines (serverStoreOptions); the CLI's import and export may take
	// as long as their data needs.
	server bool
	// observe, when set, is told of every PostGIS statement (serve's
	// metrics).
	observe func(statement string, d time.Duration, err error)
	// standby: serve --read-only on a hot standby: no migrations (the
	// primary's are replayed), the store polls instead of listening.
	standby bool
	// primaryPosition: a standby's primary's write position, for its lag.
	primaryPosition func(ctx context.Context) (postgis.Position, error)
}

// serverStoreOptions are the PostGIS options of serve: statement and
// idle-in-transaction limits (a backstop for when the server cannot cancel:
// the store bounds each call by its own deadline first), and a prober that
// makes every call fail at once while the database does not answer.
func serverStoreOptions() postgis.Options {
	return postgis.Options{
		StatementTimeout:         15 * time.Second,
		IdleInTransactionTimeout: 15 * time.Second,
		ProbeInterval:            postgis.DefaultProbeInterval,
	}
}

// addStoreFlags registers the store flags, with defaults from the environment.
func addStoreFlags(fs *flag.FlagSet, e *env, sc *storeConfig, demoFlag bool) {
	fs.StringVar(&sc.DatabaseURL, "database-url", e.getenv("DATABASE_URL"), "PostGIS connection URL (env DATABASE_URL); empty: the embedded store")
	file := e.getenv("ZONEPLAN_DB")
	if file == "" {
		file = "./zoneplan.db"
	}
	fs.StringVar(&sc.File, "db", file, "embedded store file (env ZONEPLAN_DB)")
	if demoFlag {
		fs.BoolVar(&sc.NoDemo, "no-demo", false, "create a new embedded store empty, without the demo data")
	}
}

func (sc storeConfig) describe() string {
	if sc.DatabaseURL != "" {
		return "PostGIS"
	}
	return "embedded store " + sc.File
}

// openStore opens the configured store. PostGIS is migrated first (idempotent,
// under an advisory lock), so every command works on a fresh database. A new
// embedded file is seeded with the demo data unless NoDemo.
func openStore(ctx context.Context, e *env, sc storeConfig) (zone.Store, error) {
	if sc.DatabaseURL != "" {
		if !sc.standby {
			if err := postgis.Migrate(ctx, sc.DatabaseURL, e.log); err != nil {
				return nil, err
			}
		}
		opt := postgis.Options{}
		if sc.server {
			opt = serverStoreOptions()
			opt.Logger = e.log
		}
		opt.Standby, opt.PrimaryPosition = sc.standby, sc.primaryPosition
		opt.ObserveStatement = sc.observe
		return postgis.Open(ctx, sc.DatabaseURL, opt)
	}
	st, err := embedded.Open(sc.File, embedded.Options{})
	if err != nil {
		return nil, err
	}
	if st.Created() && !sc.NoDemo {
		n, err := seedDemo(ctx, e, st)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("seeding the new store %s with demo data: %w", sc.File, err)
		}
		e.log.Info("created embedded store with demo data", "file", sc.File, "components", n)
	}
	return st, nil
}

// seedDemo loads the demo data (real border lines, synthetic components and
// project sites) layer by layer.
func seedDemo(ctx context.Context, e *env, st zone.Store) (int, error) {
	byLayer, err := data.Demo()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range zone.LayerIDs() {
		if len(byLayer[l]) == 0 {
			continue
		}
		res, err := st.ImportComponents(ctx, l, byLayer[l], zone.ImportOptions{By: "seed"})
		if err == nil {
			err = recordImport(ctx, e, st, l, byLayer[l], res)
		}
		if err != nil {
			return n, fmt.Errorf("layer %s: %w", l, err)
		}
		n += res.Created + res.Updated
	}
	return n, seedCoverage(ctx, e, st)
}

// seedCoverage stores the demo's own coverage (where its data is complete),
// one audit entry each, appended together.
func seedCoverage(ctx context.Context, e *env, st zone.Store) error {
	cs, err := data.DemoCoverage()
	if err != nil {
		return err
	}
	p := zone.SystemPrincipal("cli:" + osUser(e))
	entries := make([]zone.AuditEntry, 0, len(cs))
	for i := range cs {
		c, err := st.PutCoverage(ctx, &cs[i], 0, zone.Secret, "seed")
		if err != nil {
			return fmt.Errorf("demo coverage of %s over %s: %w", cs[i].Layer, cs[i].Area, err)
		}
		b, _ := json.Marshal(map[string]any{"area": c.Area, "status": c.Status, "as_of": c.AsOf.Format(time.DateOnly), "version": c.Version})
		entries = append(entries, zone.AuditEntry{ID: uuid.New(), Time: time.Now(), Action: zone.AuditCoverageSet, Actor: p.Name, Role: p.Role,
			ActorClearance: p.Clearance, Object: c.ID.String(), Layer: c.Layer, Classification: c.Classification, Detail: b})
	}
	if _, err := st.AppendAudit(ctx, entries); err != nil {
		return fmt.Errorf("recording the demo coverage in the audit trail: %w", err)
	}
	return nil
}
