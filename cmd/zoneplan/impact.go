package main

import (
	"context"
	"time"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/impact"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// leadRetry is how often a write instance that does not act on changes
// tries to take over from the one that does.
const leadRetry = 5 * time.Second

// followImpact marks the appraisals each change reaches stale and, unless
// flagOnly, re-checks them (package impact), until ctx ends. On PostGIS
// several write instances share the store: only the one holding the
// impact lock acts, and another takes over when it goes. A read-only
// instance never calls this.
//
// subscribers are told of each change's reach too (as a reader cleared for
// everything sees it): the master-plan jobs' Recheck is one.
func followImpact(ctx context.Context, e *env, st zone.Store, active *check.Active, ix *index.Index, trail *audit.Recorder, flagOnly bool, subscribers ...impact.Func) {
	cfg := impact.Config{Store: st, Rules: active, Index: ix, Audit: trail.RecordNow, FlagOnly: flagOnly, Log: e.log, Subscribers: subscribers}
	pg, shared := st.(*postgis.Store)
	if !shared {
		_, _, wait := impact.Start(ctx, cfg)
		wait()
		return
	}
	for {
		led, release, ok, err := pg.Lead(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("impact: cannot take the impact lock; retrying", "err", err)
		}
		if ok {
			e.log.Info("impact: this instance marks and re-checks stale appraisals")
			_, _, wait := impact.Start(led, cfg)
			<-led.Done()
			wait()
			release()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(leadRetry):
		}
	}
}
