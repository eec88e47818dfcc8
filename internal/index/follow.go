package index

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// LoadSource is what the index reads from the store: a full listing and the
// change feed. zone.Store satisfies it.
type LoadSource interface {
	ListComponents(ctx context.Context, q zone.Query, fn func(*zone.Component) error) error
	zone.ChangeFeed
}

// BulkSource is a LoadSource that lists everything faster in no order
// than ListComponents does in its order (both stores are): Load uses it.
// Its components may share property maps and short strings
// (zone.Sharer); the index treats every component as read-only anyway.
type BulkSource interface {
	ListAllComponents(ctx context.Context, fn func(*zone.Component) error) error
}

// pollInterval is how often Follow asks for changes without a signal, in
// case a notification was lost (a dropped LISTEN connection, say).
const pollInterval = 5 * time.Second

// Load rebuilds the index from a full listing of the store and publishes it.
// It reads the data version before listing, so the listing reflects at least
// that version; changes after it that the listing already holds are applied
// again by the next Sync, harmlessly (each change is a component's latest
// state). Until that Sync, the view may hold some changes newer than its
// version, never miss one older. Readers keep the previous view until the
// new one is published; writers wait.
func (ix *Index) Load(ctx context.Context, s LoadSource) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	version, err := s.DataVersion(ctx)
	if err != nil {
		return err
	}
	var cs []*zone.Component
	collect := func(c *zone.Component) error {
		cs = append(cs, c)
		return nil
	}
	if b, ok := s.(BulkSource); ok {
		err = b.ListAllComponents(ctx, collect)
	} else {
		err = s.ListComponents(ctx, zone.Query{Clearance: zone.Secret}, collect)
	}
	if err != nil {
		return err
	}
	ix.replace(cs, version)
	return nil
}

// Sync applies, as one batch, every change committed after the index's data
// version. When the store no longer keeps those changes, or is behind the
// index, it reloads everything. It is what Follow runs on each signal; a
// request handler may call it for read-your-writes without waiting for the
// signal.
func (ix *Index) Sync(ctx context.Context, s LoadSource) error {
	from := ix.Version()
	var batch []zone.Change
	reached, err := s.ChangesSince(ctx, from, func(ch zone.Change) error {
		batch = append(batch, ch)
		return nil
	})
	if errors.Is(err, zone.ErrChangesPruned) {
		return ix.Load(ctx, s)
	}
	if err != nil {
		return err
	}
	if reached < from {
		// The store is behind the index (restored from a backup, or a
		// different database): nothing the index holds can be trusted.
		return ix.Load(ctx, s)
	}
	ix.Apply(batch, reached)
	return nil
}

// Follow keeps the index current until ctx ends, then returns nil. It syncs
// once at the start, on every change signal of the store, and every few
// seconds as a safety net. Failures are logged (log may be nil) and
// retried, a failure to subscribe at the start too (the database may be
// down or slow just then): it polls until a subscription succeeds.
func (ix *Index) Follow(ctx context.Context, s LoadSource, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	signals, err := s.Subscribe(ctx)
	if err != nil {
		log.Warn("index: cannot subscribe to the change feed; polling", "err", err)
		signals = nil
	}
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	for {
		if err := ix.Sync(ctx, s); err != nil && ctx.Err() == nil {
			log.Warn("index: cannot follow the store's changes; retrying", "version", ix.Version(), "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-signals:
			if !ok {
				// The feed ended (a lost connection, or ctx): poll until a
				// new subscription succeeds.
				signals = nil
				if ctx.Err() == nil {
					log.Warn("index: change feed closed; polling until it is back", "version", ix.Version())
				}
			}
		case <-poll.C:
			if signals == nil {
				if signals, err = s.Subscribe(ctx); err != nil {
					log.Warn("index: cannot subscribe to the change feed; polling", "err", err)
					signals = nil
				}
			}
		}
	}
}
