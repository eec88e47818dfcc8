package check

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Active holds the engine for the rule set in force: the latest one an admin
// saved in the store, or the embedded default when none was. Readers take
// Engine() lock-free; Load and Refresh swap it atomically, so a check runs
// entirely against one rule-set version.
type Active struct {
	store zone.RuleSetStore
	cur   atomic.Pointer[activeSet]

	mu       sync.Mutex // serialises swaps, so watchers see them in order
	watchers []func(*Engine)
	outlines *Outlines // every engine's cache of outlines; guarded by mu
}

type activeSet struct {
	engine *Engine
	doc    []byte // the source document; nil for the embedded default
}

// NewActive loads the store's active rule set, or the default.
func NewActive(ctx context.Context, store zone.RuleSetStore) (*Active, error) {
	a := &Active{store: store, outlines: NewOutlines(DefaultOutlineBytes)}
	a.cur.Store(&activeSet{engine: New(rules.Default()).WithOutlines(a.outlines)})
	if err := a.Refresh(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Watch calls fn with the engine in force now and with every new one,
// before it is put in force: the server keeps the index's consultation
// cells in step this way, so a check never meets cells made for another
// rule set.
func (a *Active) Watch(fn func(*Engine)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.watchers = append(a.watchers, fn)
	fn(a.Engine())
}

// swap tells the watchers of a new rule set, then puts it in force.
func (a *Active) swap(set *activeSet) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.swapLocked(set)
}

// swapLocked is swap with a.mu held. The engine keeps the outlines cache.
func (a *Active) swapLocked(set *activeSet) {
	set = &activeSet{engine: set.engine.WithOutlines(a.outlines), doc: set.doc}
	for _, fn := range a.watchers {
		fn(set.engine)
	}
	a.cur.Store(set)
}

// UseOutlines makes every engine, the one in force and those of rule sets
// to come, keep zone outlines in o (nil: none kept; NewActive gives a cache
// of DefaultOutlineBytes). One cache outlives rule-set changes: its entries
// are per component state and width.
func (a *Active) UseOutlines(o *Outlines) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.outlines = o
	a.swapLocked(a.cur.Load())
}

// Engine returns the engine for the rule set in force.
func (a *Active) Engine() *Engine { return a.cur.Load().engine }

// Document returns the source of the rule set in force (nil for the default).
func (a *Active) Document() []byte { return a.cur.Load().doc }

// Refresh adopts the store's active rule set when its version differs from
// the one in force; other server instances' loads reach this one this way.
func (a *Active) Refresh(ctx context.Context) error {
	version, doc, err := a.store.ActiveRuleSet(ctx)
	if zone.ErrorCode(err) == zone.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if version == a.Engine().RuleSet().Version {
		return nil
	}
	rs, err := rules.Parse(doc)
	if err != nil {
		return zone.InternalError(err, "the stored rule set %s does not parse", version)
	}
	a.swap(&activeSet{engine: New(rs), doc: doc})
	return nil
}

// Load validates a rule-set document in full, saves it as the new active
// version and puts it in force. A document that does not validate changes
// nothing; its error names every problem and where.
func (a *Active) Load(ctx context.Context, doc []byte, by string) (*rules.RuleSet, error) {
	rs, err := rules.Parse(doc)
	if err != nil {
		return nil, err
	}
	if err := a.store.SaveRuleSet(ctx, rs.Version, doc, by); err != nil {
		return nil, err
	}
	a.swap(&activeSet{engine: New(rs), doc: doc})
	return rs, nil
}

// Follow refreshes the rule set every interval until ctx ends.
func (a *Active) Follow(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			before := a.Engine().RuleSet().Version
			if err := a.Refresh(ctx); err != nil {
				log.Warn("rule set refresh failed", "err", err)
			} else if v := a.Engine().RuleSet().Version; v != before {
				log.Info("rule set changed", "from", before, "to", v)
			}
		}
	}
}
