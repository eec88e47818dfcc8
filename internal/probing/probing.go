// Package probing flags tokens whose checks look like a search for hidden
// defence works: many different footprints, in a short time, that touch
// the same consultation cell (package consult). Ordinary appraisal work
// checks a few projects, each a few times, in different places; a
// bisection or a sweep around one work checks footprint after footprint
// around the same cells.
//
// The rule: a token is flagged when, within Window (default 1 h),
// Footprints (default 20) distinct check requests (by the hash of their
// footprints) got a referral from one same cell. Each footprint counts, one
// feature of a FeatureCollection as much as a footprint checked alone (each
// gets its own answer). A flag is an Alert, which the server writes to the
// audit trail (alert.probing, classified secret: its cells say where hidden
// works' areas lie) and lists at GET /api/audit/alerts; a token is flagged
// at most once per Window, or, with suspensions, again once its suspension
// has ended or been lifted.
//
// Suspension, when configured (Suspend > 0), refuses the flagged token's
// checks and appraisals until Suspend has passed (429 with Retry-After),
// or until an administrator lifts it. Its other requests (reading layers,
// its own appraisals) go on. Suspensions are kept in memory and shared
// through the audit trail: every instance adopts the alert.probing and
// alert.lifted entries of the others (Sync), and a restarted server those
// of the last Suspend, so a suspension outlives neither its time nor a
// lift, and survives a restart. Revoking the token ends its use for good.
package probing

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Config tunes a Detector. Zero fields take the defaults.
type Config struct {
	Window     time.Duration // default 1 h
	Footprints int           // distinct footprints at one cell within Window that flag; default 20
	Suspend    time.Duration // how long a flagged token's checks are refused; 0: flag only
	Now        func() time.Time
}

// Defaults.
const (
	DefaultWindow     = time.Hour
	DefaultFootprints = 20
)

// maxCellsPerToken bounds the cells followed for one token; the oldest are
// dropped past it (a sweep touching more cells than this in one window is
// flagged long before).
const maxCellsPerToken = 4096

// Detector follows every limited token's referrals. It is safe for
// concurrent use.
type Detector struct {
	cfg Config

	mu        sync.Mutex
	tokens    map[uuid.UUID]*track
	suspended map[uuid.UUID]time.Time
	synced    int64 // the last trail entry Sync adopted
	observes  int

	alerts atomic.Int64
}

// track is one token's recent referrals.
type track struct {
	cells   map[uint64][]sighting // by cell key; each list at most Footprints long, oldest first
	flagged time.Time             // when last flagged
	seen    time.Time             // last observed
}

type sighting struct {
	footprint [32]byte
	at        time.Time
}

// New returns a detector with cfg.
func New(cfg Config) *Detector {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Footprints <= 0 {
		cfg.Footprints = DefaultFootprints
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Detector{cfg: cfg, tokens: map[uuid.UUID]*track{}, suspended: map[uuid.UUID]time.Time{}}
}

// Config returns the detector's configuration (with defaults).
func (d *Detector) Config() Config { return d.cfg }

// Alert is one flagged token.
type Alert struct {
	Token          zone.Principal
	Cells          []consult.Cell // the cells the footprints gathered at
	Footprints     int            // distinct footprints at the busiest cell
	At             time.Time
	SuspendedUntil time.Time // zero when not suspended
}

// Detail is the alert as the audit entry's detail.
func (a Alert) Detail() json.RawMessage {
	type cell struct {
		Row int32 `json:"row"`
		Col int32 `json:"col"`
	}
	v := struct {
		Cells          []cell     `json:"cells"`
		Footprints     int        `json:"footprints"`
		SuspendedUntil *time.Time `json:"suspended_until,omitempty"`
	}{Footprints: a.Footprints}
	for _, c := range a.Cells {
		v.Cells = append(v.Cells, cell{c.Row, c.Col})
	}
	if !a.SuspendedUntil.IsZero() {
		u := a.SuspendedUntil.UTC()
		v.SuspendedUntil = &u
	}
	b, _ := json.Marshal(v)
	return b
}

// Observe records that one check request of p, whose footprints hash to
// footprint, got a referral from cells, and returns an alert when this
// flags the token (nil otherwise).
func (d *Detector) Observe(p zone.Principal, footprint [32]byte, cells []consult.Cell) *Alert {
	if len(cells) == 0 || p.Clearance >= zone.Secret {
		return nil
	}
	now := d.cfg.Now()
	since := now.Add(-d.cfg.Window)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.observes++
	if d.observes%1024 == 0 {
		d.sweep(since)
	}
	t := d.tokens[p.TokenID]
	if t == nil {
		t = &track{cells: map[uint64][]sighting{}}
		d.tokens[p.TokenID] = t
	}
	t.seen = now
	var hot []consult.Cell
	most := 0
	for _, c := range cells {
		k := c.Key()
		ss := prune(t.cells[k], since)
		if i := slices.IndexFunc(ss, func(s sighting) bool { return s.footprint == footprint }); i >= 0 {
			ss = slices.Delete(ss, i, i+1) // seen again: moves to the newest
		}
		ss = append(ss, sighting{footprint: footprint, at: now})
		if len(ss) > d.cfg.Footprints {
			ss = ss[len(ss)-d.cfg.Footprints:]
		}
		t.cells[k] = ss
		if len(ss) >= d.cfg.Footprints {
			hot = append(hot, c)
		}
		most = max(most, len(ss))
	}
	if len(t.cells) > maxCellsPerToken {
		t.dropOldest(len(t.cells) - maxCellsPerToken)
	}
	if len(hot) == 0 || d.flaggedLately(p.TokenID, t, since, now) {
		return nil
	}
	t.flagged = now
	d.alerts.Add(1)
	a := &Alert{Token: p, Cells: hot, Footprints: most, At: now}
	if d.cfg.Suspend > 0 {
		a.SuspendedUntil = now.Add(d.cfg.Suspend)
		d.suspended[p.TokenID] = a.SuspendedUntil
	}
	return a
}

// flaggedLately reports whether token id was flagged within the window
// and should not be flagged again yet: without suspensions, once a Window;
// with them, while the suspension lasts (once it ends, probing on is
// flagged, and suspended, again).
func (d *Detector) flaggedLately(id uuid.UUID, t *track, since, now time.Time) bool {
	if t.flagged.IsZero() || !t.flagged.After(since) {
		return false
	}
	if d.cfg.Suspend <= 0 {
		return true
	}
	until, ok := d.suspended[id]
	return ok && until.After(now)
}

// prune drops the sightings before since (the list is oldest first).
func prune(ss []sighting, since time.Time) []sighting {
	i := 0
	for i < len(ss) && ss[i].at.Before(since) {
		i++
	}
	return ss[i:]
}

// dropOldest forgets the n cells last seen longest ago.
func (t *track) dropOldest(n int) {
	type aged struct {
		key uint64
		at  time.Time
	}
	all := make([]aged, 0, len(t.cells))
	for k, ss := range t.cells {
		var at time.Time
		if len(ss) > 0 {
			at = ss[len(ss)-1].at
		}
		all = append(all, aged{k, at})
	}
	slices.SortFunc(all, func(a, b aged) int { return a.at.Compare(b.at) })
	for _, a := range all[:n] {
		delete(t.cells, a.key)
	}
}

// sweep forgets tokens not seen within the window and ended suspensions.
func (d *Detector) sweep(since time.Time) {
	for id, t := range d.tokens {
		if t.seen.Before(since) {
			delete(d.tokens, id)
		}
	}
	now := d.cfg.Now()
	for id, until := range d.suspended {
		if !until.After(now) {
			delete(d.suspended, id)
		}
	}
}

// Suspended returns when token id's suspension ends, and whether it is
// suspended now.
func (d *Detector) Suspended(id uuid.UUID) (time.Time, bool) {
	if d == nil {
		return time.Time{}, false
	}
	d.mu.Lock()
	until, ok := d.suspended[id]
	d.mu.Unlock()
	return until, ok && until.After(d.cfg.Now())
}

// Suspensions lists the suspensions in force, by token.
func (d *Detector) Suspensions() map[uuid.UUID]time.Time {
	now := d.cfg.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[uuid.UUID]time.Time{}
	for id, until := range d.suspended {
		if until.After(now) {
			out[id] = until
		}
	}
	return out
}

// Lift ends token id's suspension (an administrator's decision) and
// reports whether there was one.
func (d *Detector) Lift(id uuid.UUID) bool {
	now := d.cfg.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.suspended[id]
	d.forgive(id, now)
	return ok && until.After(now)
}

// forgive applies a lift made at time at, here (Lift) or on another
// instance (Sync): it ends token id's suspension and forgets the sightings
// up to at and the flag, so that probing on is flagged again from a fresh
// start (not only after a Window), and a further referred check does not
// re-suspend the token on what was judged. A flag raised here after at
// stands (the lift came before it), and sightings after at are kept, so an
// instance adopting its own lift again changes nothing. d.mu is held.
func (d *Detector) forgive(id uuid.UUID, at time.Time) {
	t := d.tokens[id]
	if t != nil && t.flagged.After(at) {
		return
	}
	delete(d.suspended, id)
	if t == nil {
		return
	}
	t.flagged = time.Time{}
	for k, ss := range t.cells {
		i := 0
		for i < len(ss) && !ss[i].at.After(at) {
			i++
		}
		if i == len(ss) {
			delete(t.cells, k)
		} else {
			t.cells[k] = slices.Clone(ss[i:])
		}
	}
}

// Alerts is how many alerts this detector raised, for metrics.
func (d *Detector) Alerts() int64 { return d.alerts.Load() }

// Sync adopts the suspensions and lifts in the trail since the last Sync
// (on the first, those of the last Suspend): other instances' alerts
// suspend their tokens here too. Entries this instance wrote are adopted
// again, which changes nothing.
//
// Each Sync moves on to the trail's head as it was before the alerts were
// read (the trail is one chain, appended in order), alerts or not: the
// next one reads what came since, not every entry since the last alert
// (a listing by action walks back to AfterSeq over all entries in the
// embedded store).
func (d *Detector) Sync(ctx context.Context, st zone.AuditStore) error {
	if d.cfg.Suspend <= 0 {
		return nil
	}
	d.mu.Lock()
	after := d.synced
	d.mu.Unlock()
	// The head first: whatever is appended after it is read next time.
	var head int64
	es, err := st.ListAudit(ctx, zone.AuditQuery{Clearance: zone.Secret, Limit: 1, AfterSeq: after})
	if err != nil {
		return err
	}
	if len(es) > 0 {
		head = es[0].Seq
	}
	if head <= after {
		return nil // nothing new
	}
	q := zone.AuditQuery{Action: "alert.*", Clearance: zone.Secret, Limit: 100, AfterSeq: after}
	if after == 0 {
		q.Since = d.cfg.Now().Add(-d.cfg.Suspend)
	}
	var fresh []zone.AuditEntry
	for {
		es, err := st.ListAudit(ctx, q)
		if err != nil {
			return err
		}
		done := len(es) < q.Limit
		for _, e := range es {
			if e.Seq <= after {
				done = true
				break
			}
			fresh = append(fresh, e)
		}
		if done {
			break
		}
		q.Before = es[len(es)-1].ID
	}
	slices.Reverse(fresh) // oldest first
	d.mu.Lock()
	defer d.mu.Unlock()
	d.synced = max(d.synced, head)
	for _, e := range fresh {
		d.synced = max(d.synced, e.Seq)
		id, err := uuid.Parse(e.Object)
		if err != nil {
			continue
		}
		switch e.Action {
		case zone.AuditProbing:
			var v struct {
				SuspendedUntil *time.Time `json:"suspended_until"`
			}
			if json.Unmarshal(e.Detail, &v) == nil && v.SuspendedUntil != nil {
				d.suspended[id] = *v.SuspendedUntil
			}
		case zone.AuditSuspensionLifted:
			d.forgive(id, e.Time)
		}
	}
	return nil
}

// Follow syncs at once and then every interval until ctx ends.
func (d *Detector) Follow(ctx context.Context, st zone.AuditStore, interval time.Duration, log *slog.Logger) {
	if d.cfg.Suspend <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := d.Sync(ctx, st); err != nil && ctx.Err() == nil {
			log.Warn("probing suspensions: reading the audit trail failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
