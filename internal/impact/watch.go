// Package impact finds what each change of the defence data or of the rule
// set can change: it follows the store's change feed (every path that
// writes components reaches it: the API, imports, and edits made directly
// on the PostGIS tables, through the change-log triggers) and the rule set
// in force, works out for every reader clearance the lon/lat boxes a
// footprint must meet for its check to change, and tells its subscribers;
// stored appraisals so reached are marked stale and re-checked in the
// background (Rechecker).
//
// Secrecy: a reader of clearance cl is told of a component cl may see by
// its id, version and reach (its old and new geometry and approved zones,
// grown by the farthest any rule reaches it, check.Engine.Reach); of a
// component hidden from cl only through the consultation cells hidden from
// cl (package consult), and only when their union gains or loses a cell,
// which is exactly when the referral a caller of clearance cl gets can
// change. So an edit or a move of a hidden work that keeps its cells, or
// whose cells other hidden works cover too, tells such a reader nothing.
package impact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Func is told of one change's reach as a reader cleared for everything
// sees it: lon/lat boxes a footprint must meet for its check to change
// (all: every footprint, a rule-set change), and the reason.
type Func func(ctx context.Context, area []orb.Bound, all bool, reason string) error

// LevelFunc is told of one change's reach by reader clearance (zone.Impact).
type LevelFunc func(ctx context.Context, im zone.Impact) error

// Source is what the watcher reads: a full listing and the change feed.
type Source interface {
	ListComponents(ctx context.Context, q zone.Query, fn func(*zone.Component) error) error
	zone.ChangeFeed
}

// Rules is the rule set in force (check.Active).
type Rules interface {
	Engine() *check.Engine
	Watch(fn func(*check.Engine))
}

// pollInterval is how often the watcher reads the feed without a signal.
const pollInterval = 2 * time.Second

// Watcher follows the changes and tells its subscribers.
type Watcher struct {
	src   Source
	rules Rules
	log   *slog.Logger

	mu     sync.Mutex
	subs   []LevelFunc
	engine *check.Engine
	ruleCh chan *check.Engine
	ready  chan struct{}

	// Owned by Run's goroutine.
	version int64
	pending *zone.Impact // told to no subscriber yet (a subscriber failed): retried first
	comps   map[uuid.UUID]*state
	hidden  [zone.Secret]map[uint64]int // by clearance below secret: hidden works covering each cell
}

// state is what the watcher keeps of a component to tell what its next
// change reaches.
type state struct {
	version int64
	layer   string
	class   zone.Classification
	applies bool      // some rule can find it
	reach   orb.Bound // its geometry and zones grown by its reach
	cells   consult.Area
}

// New makes a watcher of src under the rules in force.
func New(src Source, rules Rules, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{src: src, rules: rules, log: log, ruleCh: make(chan *check.Engine, 1), ready: make(chan struct{})}
	w.engine = rules.Engine()
	rules.Watch(func(e *check.Engine) {
		select {
		case w.ruleCh <- e:
		default: // one pending: replace it with the newest
			select {
			case <-w.ruleCh:
			default:
			}
			w.ruleCh <- e
		}
	})
	return w
}

// Subscribe adds a subscriber told of the reach a cleared reader sees (the
// master-plan jobs' Recheck has this signature).
func (w *Watcher) Subscribe(fn Func) {
	w.SubscribeLevels(func(ctx context.Context, im zone.Impact) error {
		l := im[zone.Secret]
		if l.Empty() {
			return nil
		}
		return fn(ctx, l.Area, l.All, l.Reason)
	})
}

// SubscribeLevels adds a subscriber told of the reach by reader clearance.
func (w *Watcher) SubscribeLevels(fn LevelFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subs = append(w.subs, fn)
}

// Run loads the state of every component and then follows the changes
// until ctx ends. Changes made before Run loads are not reported: only
// what changes while it runs.
func (w *Watcher) Run(ctx context.Context) error {
	for {
		err := w.load(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		w.log.Warn("impact: cannot list the components; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pollInterval):
		}
	}
	close(w.ready)
	signals, err := w.src.Subscribe(ctx)
	if err != nil {
		w.log.Warn("impact: cannot subscribe to the change feed; polling", "err", err)
		signals = nil
	}
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-w.ruleCh:
			w.ruleChanged(ctx, e)
			continue
		case _, ok := <-signals:
			if !ok {
				signals = nil
			}
		case <-poll.C:
			if signals == nil {
				if signals, err = w.src.Subscribe(ctx); err != nil {
					signals = nil
				}
			}
		}
		if err := w.Sync(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("impact: cannot follow the store's changes; retrying", "version", w.version, "err", err)
		}
	}
}

// load reads every component's state, reporting nothing.
func (w *Watcher) load(ctx context.Context) error {
	version, cs, err := w.list(ctx)
	if err != nil {
		return err
	}
	w.comps = make(map[uuid.UUID]*state, len(cs))
	for l := range w.hidden {
		w.hidden[l] = map[uint64]int{}
	}
	e := w.currentEngine()
	for _, c := range cs {
		st := stateOf(e, c)
		w.comps[c.ID] = st
		w.count(st, 1, nil)
	}
	w.version = version
	return nil
}

func (w *Watcher) list(ctx context.Context) (int64, []*zone.Component, error) {
	version, err := w.src.DataVersion(ctx)
	if err != nil {
		return 0, nil, err
	}
	var cs []*zone.Component
	err = w.src.ListComponents(ctx, zone.Query{Clearance: zone.Secret}, func(c *zone.Component) error {
		cs = append(cs, c)
		return nil
	})
	return version, cs, err
}

func (w *Watcher) currentEngine() *check.Engine {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.engine
}

// Ready is closed once Run has loaded the components: changes committed
// after it are reported.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Sync reports every change committed after the watcher's version. When
// the store no longer keeps those changes (or is behind), it lists every
// component and reports the difference from what it held.
func (w *Watcher) Sync(ctx context.Context) error {
	if w.pending != nil {
		if err := w.tell(ctx, *w.pending); err != nil {
			return err
		}
		w.pending = nil
	}
	var batch []zone.Change
	reached, err := w.src.ChangesSince(ctx, w.version, func(ch zone.Change) error {
		batch = append(batch, ch)
		return nil
	})
	if errors.Is(err, zone.ErrChangesPruned) || err == nil && reached < w.version {
		return w.resync(ctx)
	}
	if err != nil {
		return err
	}
	if len(batch) == 0 {
		w.version = reached
		return nil
	}
	w.version = reached
	return w.report(ctx, w.apply(batch))
}

// report tells the subscribers of im, the state being already updated: a
// failure keeps im to tell again before anything newer (a subscriber may
// then be told twice; marking is idempotent).
func (w *Watcher) report(ctx context.Context, im zone.Impact) error {
	if err := w.tell(ctx, im); err != nil {
		w.pending = &im
		return err
	}
	return nil
}

// resync lists every component and reports its difference from the state
// held, as changes (a truncated table, a pruned log, a restored backup).
func (w *Watcher) resync(ctx context.Context) error {
	version, cs, err := w.list(ctx)
	if err != nil {
		return err
	}
	seen := make(map[uuid.UUID]bool, len(cs))
	var batch []zone.Change
	for _, c := range cs {
		seen[c.ID] = true
		if old, ok := w.comps[c.ID]; !ok || old.version != c.Version {
			batch = append(batch, zone.Change{ID: c.ID, Layer: c.Layer, Component: c})
		}
	}
	for id, old := range w.comps {
		if !seen[id] {
			batch = append(batch, zone.Change{ID: id, Layer: old.layer, Deleted: true})
		}
	}
	w.version = version
	return w.report(ctx, w.apply(batch))
}

// ruleChanged adopts a new rule set: every check may change, for every
// reader, and the cells and reaches are worked out again.
func (w *Watcher) ruleChanged(ctx context.Context, e *check.Engine) {
	w.mu.Lock()
	before := w.engine
	w.engine = e
	w.mu.Unlock()
	from, to := before.RuleSet().Version, e.RuleSet().Version
	if from == to {
		return
	}
	// Reaches and cells depend on the rules: relist under the new ones.
	// Changes committed meanwhile need no report of their own: every
	// appraisal is reached anyway.
	if err := w.load(ctx); err != nil && ctx.Err() == nil {
		w.log.Warn("impact: cannot relist after a rule-set change", "err", err)
	}
	var im zone.Impact
	reason := fmt.Sprintf("rule set %s replaced %s", to, from)
	for l := range im {
		im[l] = zone.ImpactLevel{All: true, Reason: reason}
	}
	if err := w.report(ctx, im); err != nil && ctx.Err() == nil {
		w.log.Warn("impact: cannot report a rule-set change; retrying", "err", err)
	}
}

// apply updates the state with a batch of changes and returns their
// combined impact.
func (w *Watcher) apply(batch []zone.Change) zone.Impact {
	e := w.currentEngine()
	var acc accumulator
	for _, ch := range batch {
		old := w.comps[ch.ID]
		var cur *state
		if !ch.Deleted && ch.Component != nil {
			cur = stateOf(e, ch.Component)
		}
		if old != nil && cur != nil && old.version == cur.version {
			continue // already held (a listing saw it before the feed did)
		}
		var delta [zone.Secret]map[uint64]int
		if old != nil {
			w.count(old, -1, &delta)
		}
		if cur != nil {
			w.count(cur, 1, &delta)
			w.comps[ch.ID] = cur
		} else {
			delete(w.comps, ch.ID)
		}
		for _, cl := range zone.Classifications() {
			acc.add(cl, visibleReach(cl, old, cur), describe(ch, old, cur))
			if cl < zone.Secret {
				acc.addCells(cl, w.flipped(cl, delta[cl], e.Grid()))
			}
		}
	}
	return acc.impact()
}

// count adds (sign +1) or removes (-1) st's cells from the hidden cells of
// every clearance it is hidden from, noting each cell's net change in delta.
func (w *Watcher) count(st *state, sign int, delta *[zone.Secret]map[uint64]int) {
	for cl := range zone.Secret {
		if cl.Allows(st.class) {
			continue
		}
		for key := range st.cells {
			if delta != nil {
				if delta[cl] == nil {
					delta[cl] = map[uint64]int{}
				}
				delta[cl][key] += sign
			}
			if n := w.hidden[cl][key] + sign; n > 0 {
				w.hidden[cl][key] = n
			} else {
				delete(w.hidden[cl], key)
			}
		}
	}
}

// flipped returns the boxes of the cells whose presence in the union of
// the cells hidden from cl the net changes in delta (already counted)
// turned on or off.
func (w *Watcher) flipped(cl zone.Classification, delta map[uint64]int, g consult.Grid) []orb.Bound {
	var out []orb.Bound
	for key, d := range delta {
		if d == 0 {
			continue
		}
		after := w.hidden[cl][key]
		before := after - d
		if (before > 0) != (after > 0) {
			out = append(out, g.Bound(consult.CellOf(key)))
		}
	}
	return out
}

// visibleReach is the area in which the change of a component a reader of
// clearance cl sees (before or after it) can change that reader's check.
func visibleReach(cl zone.Classification, old, cur *state) []orb.Bound {
	var out []orb.Bound
	if old != nil && old.applies && cl.Allows(old.class) {
		out = append(out, old.reach)
	}
	if cur != nil && cur.applies && cl.Allows(cur.class) {
		out = append(out, cur.reach)
	}
	return out
}

// describe words a change for a reader who sees the component.
func describe(ch zone.Change, old, cur *state) string {
	switch {
	case cur == nil:
		v := int64(0)
		if old != nil {
			v = old.version
		}
		return fmt.Sprintf("component %s (%s) deleted at version %d", ch.ID, ch.Layer, v)
	case old == nil:
		return fmt.Sprintf("component %s (%s) created, version %d", ch.ID, cur.layer, cur.version)
	}
	return fmt.Sprintf("component %s (%s) changed to version %d", ch.ID, cur.layer, cur.version)
}

// cellsReason is the reason a reader below a hidden work's classification
// is given: the consultation areas, nothing of the work.
const cellsReason = "the consultation areas changed"

// stateOf is what the watcher keeps of c under engine e.
func stateOf(e *check.Engine, c *zone.Component) *state {
	st := &state{version: c.Version, layer: c.Layer, class: c.Classification}
	reach, ok := e.Reach(c)
	if !ok {
		return st
	}
	st.applies = true
	st.reach = consult.Widen(c.Bound(), reach)
	if c.Classification > zone.Public {
		geoms := []orb.Geometry{c.Geometry}
		for _, z := range c.Zones {
			if z.Geometry != nil {
				geoms = append(geoms, z.Geometry)
			}
		}
		st.cells = e.Grid().Covering(reach, geoms...)
	}
	return st
}

// tell calls every subscriber with im; the first error is returned after
// all were called.
func (w *Watcher) tell(ctx context.Context, im zone.Impact) error {
	if im.Empty() {
		return nil
	}
	w.mu.Lock()
	subs := append([]LevelFunc(nil), w.subs...)
	w.mu.Unlock()
	var first error
	for _, fn := range subs {
		if err := fn(ctx, im); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// maxReasons is how many changes' reasons one level's reason names.
const maxReasons = 3

// accumulator combines the impact of a batch of changes, level by level.
type accumulator struct {
	levels  [zone.Levels]zone.ImpactLevel
	reasons [zone.Levels][]string
	counts  [zone.Levels]int
}

func (a *accumulator) add(cl zone.Classification, area []orb.Bound, reason string) {
	if len(area) == 0 {
		return
	}
	a.levels[cl].Area = append(a.levels[cl].Area, area...)
	a.counts[cl]++
	if len(a.reasons[cl]) < maxReasons {
		a.reasons[cl] = append(a.reasons[cl], reason)
	}
}

func (a *accumulator) addCells(cl zone.Classification, cells []orb.Bound) {
	if len(cells) == 0 {
		return
	}
	a.levels[cl].Area = append(a.levels[cl].Area, cells...)
	if !containsString(a.reasons[cl], cellsReason) {
		a.counts[cl]++
		a.reasons[cl] = append(a.reasons[cl], cellsReason)
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func (a *accumulator) impact() zone.Impact {
	var im zone.Impact
	for cl := range im {
		l := a.levels[cl]
		if l.Empty() {
			continue
		}
		l.Reason = strings.Join(a.reasons[cl], "; ")
		if more := a.counts[cl] - len(a.reasons[cl]); more > 0 {
			l.Reason += fmt.Sprintf("; and %d more changes", more)
		}
		im[cl] = l
	}
	return im
}
