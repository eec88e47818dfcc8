package impact

import (
	"context"
	"log/slog"
	"sync"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// IndexData is the re-check's data: the in-memory index, brought up to the
// store's latest change before each round (so a re-check never runs on
// data older than the change that marked it).
type IndexData struct {
	Index *index.Index
	Store index.LoadSource
}

// Current syncs the index and returns its snapshot.
func (d IndexData) Current(ctx context.Context) (check.Source, error) {
	if err := d.Index.Sync(ctx, d.Store); err != nil {
		return nil, err
	}
	return d.Index.Snapshot(), nil
}

// Config is what Start wires together.
type Config struct {
	Store zone.Store
	Rules *check.Active
	Index *index.Index
	// Audit records an audit entry (audit.Recorder.RecordNow); nil: none.
	Audit func(zone.AuditEntry)
	// FlagOnly marks stale appraisals and re-checks none.
	FlagOnly bool
	Log      *slog.Logger
	// Subscribers are told of each change's reach as a reader cleared for
	// everything sees it (the master-plan jobs' Recheck has this signature).
	Subscribers []Func
}

// Start runs a watcher whose subscriber is the stored appraisals (marked
// stale, and re-checked unless FlagOnly) until ctx ends; wait returns when
// both have stopped.
func Start(ctx context.Context, c Config) (w *Watcher, rc *Rechecker, wait func()) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	w = New(c.Store, c.Rules, c.Log)
	rc = NewRechecker(Rechecker{Store: c.Store, Rules: c.Rules, Data: IndexData{Index: c.Index, Store: c.Store},
		Audit: c.Audit, FlagOnly: c.FlagOnly, Log: c.Log})
	w.SubscribeLevels(rc.Mark)
	for _, fn := range c.Subscribers {
		w.Subscribe(fn)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil && ctx.Err() == nil {
			c.Log.Error("impact: the watcher stopped", "err", err)
		}
	})
	wg.Go(func() { rc.Run(ctx) })
	return w, rc, wg.Wait
}
