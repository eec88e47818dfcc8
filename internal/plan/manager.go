// Package plan runs master-plan jobs: the parcels of a plan checked one by
// one in the background, each stored as every clearance sees it
// (check.Engine.Record), with the job's progress kept in the store so that
// a restarted server resumes a job at its first unchecked parcel. A
// bounded pool of workers runs the jobs; each batch of parcels is checked
// under a slot of the server's check class (internal/admission), so a plan
// takes turns with normal checks instead of starving them.
package plan

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Gate admits a batch of checks (admission.Gate).
type Gate interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// Options configure a Manager.
type Options struct {
	Store zone.PlanStore
	// Engine and Source give the rule engine and the data to check
	// against, as they are when a batch starts.
	Engine func() *check.Engine
	Source func() check.Source
	// Gate, when set, admits every batch (the server's check class).
	Gate Gate
	// Workers is how many jobs run at once (default 1).
	Workers int
	// Batch is how many parcels are checked under one slot of the gate
	// (default 32): normal checks wait at most one batch for a slot.
	Batch int
	// Page is how many parcels are stored in one transaction (default
	// 1024): a commit's fsync is paid once a page, not once a batch.
	Page int
	// Parallel is how many batches of one job are checked at once, each
	// under its own slot (default GOMAXPROCS).
	Parallel int
	Log      *slog.Logger
}

// Manager queues, runs, cancels and re-checks master-plan jobs.
type Manager struct {
	opt Options

	mu      sync.Mutex
	queue   []uuid.UUID
	queued  map[uuid.UUID]bool
	running map[uuid.UUID]*run
	wake    chan struct{}
	started bool
	wg      sync.WaitGroup
	stop    context.CancelFunc

	// rechecks waits for the recheck goroutine (RecheckLater), merged
	// into one request; recheckWake tells it there is one.
	rechecks    *recheckRequest
	recheckWake chan struct{}
}

// recheckRequest is what RecheckLater asked for and Recheck has not done yet.
type recheckRequest struct {
	area    []orb.Bound
	all     bool
	reasons []string
}

// maxPendingBoxes is how many boxes waiting rechecks keep apart before
// they are merged into a recheck of everything.
const maxPendingBoxes = 1024

// run is a job being worked on: its cancellation and its pace in this
// process (for the estimate of time left).
type run struct {
	cancel  context.CancelFunc
	started time.Time
	done    int
}

// New returns a manager; Start runs it.
func New(opt Options) *Manager {
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	if opt.Batch <= 0 {
		opt.Batch = 32
	}
	if opt.Page <= 0 {
		opt.Page = 1024
	}
	opt.Page = max(opt.Page, opt.Batch)
	if opt.Parallel <= 0 {
		opt.Parallel = runtime.GOMAXPROCS(0)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Manager{opt: opt, queued: map[uuid.UUID]bool{}, running: map[uuid.UUID]*run{}, wake: make(chan struct{}, 1),
		recheckWake: make(chan struct{}, 1)}
}

// Start queues every job the store holds as queued or running (those a
// stopped server left) and starts the workers; they stop when ctx ends or
// Close is called, leaving unfinished jobs to the next Start.
func (m *Manager) Start(ctx context.Context) error {
	pending, err := m.opt.Store.ListPlans(ctx, "", zone.PlanQueued, zone.PlanRunning)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		cancel()
		return errors.New("plan manager already started")
	}
	m.started, m.stop = true, cancel
	for i := len(pending) - 1; i >= 0; i-- { // oldest first
		m.enqueueLocked(pending[i].ID)
	}
	m.mu.Unlock()
	for range m.opt.Workers {
		m.wg.Add(1)
		go m.worker(ctx)
	}
	m.wg.Go(func() { m.rechecker(ctx) })
	return nil
}

// RecheckLater asks for Recheck in the background and returns at once:
// a subscriber of the change impact watcher must not hold the watcher
// (and the stale marking of appraisals behind it) for the minutes a
// rule-set change takes over a large plan. Requests made meanwhile are
// merged into one.
func (m *Manager) RecheckLater(area []orb.Bound, all bool, reason string) {
	if !all && len(area) == 0 {
		return
	}
	m.mu.Lock()
	r := m.rechecks
	if r == nil {
		r = &recheckRequest{}
		m.rechecks = r
	}
	r.all = r.all || all || len(r.area)+len(area) > maxPendingBoxes
	if r.all {
		r.area = nil
	} else {
		r.area = append(r.area, area...)
	}
	if len(r.reasons) < 3 {
		r.reasons = append(r.reasons, reason)
	}
	m.mu.Unlock()
	select {
	case m.recheckWake <- struct{}{}:
	default:
	}
}

// rechecker runs the rechecks RecheckLater asked for, one merged request
// at a time; a failed one is asked for again after a second.
func (m *Manager) rechecker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.recheckWake:
		}
		m.mu.Lock()
		r := m.rechecks
		m.rechecks = nil
		m.mu.Unlock()
		if r == nil {
			continue
		}
		reason := strings.Join(r.reasons, "; ")
		if _, err := m.Recheck(ctx, r.area, r.all, reason); err != nil && ctx.Err() == nil {
			m.opt.Log.Warn("plan: re-check after a change failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			m.RecheckLater(r.area, r.all, reason)
		}
	}
}

// Close stops the workers and waits for them; jobs under way stay
// running in the store and resume at the next Start.
func (m *Manager) Close() {
	m.mu.Lock()
	stop := m.stop
	m.mu.Unlock()
	if stop != nil {
		stop()
	}
	m.wg.Wait()
}

func (m *Manager) enqueueLocked(id uuid.UUID) {
	if m.queued[id] || m.running[id] != nil {
		return
	}
	m.queued[id] = true
	m.queue = append(m.queue, id)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Submit stores a new job and queues it.
func (m *Manager) Submit(ctx context.Context, p *zone.Plan, parcels []zone.PlanParcel) (*zone.Plan, error) {
	created, err := m.opt.Store.CreatePlan(ctx, p, parcels)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.enqueueLocked(created.ID)
	m.mu.Unlock()
	return created, nil
}

// Cancel stops a job: it is marked cancelled in the store at once (a
// worker's later writes never revive it) and its run, if any, stops
// after the batch under way. Cancelling a finished job is a conflict.
func (m *Manager) Cancel(ctx context.Context, id uuid.UUID) (*zone.Plan, error) {
	p, err := m.opt.Store.GetPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	if zone.PlanFinished(p.State) {
		return nil, zone.Errorf(zone.CodeConflict, "plan %s is already %s", id, p.State)
	}
	p, err = m.opt.Store.SetPlanState(ctx, id, zone.PlanCancelled, "")
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if r := m.running[id]; r != nil {
		r.cancel()
	}
	if m.queued[id] {
		delete(m.queued, id)
		for i, q := range m.queue {
			if q == id {
				m.queue = append(m.queue[:i], m.queue[i+1:]...)
				break
			}
		}
	}
	m.mu.Unlock()
	return p, nil
}

// Remaining estimates the time left of a running job from its pace in
// this process; ok is false when it is not running here or has not
// finished a batch yet.
func (m *Manager) Remaining(p *zone.Plan) (time.Duration, bool) {
	m.mu.Lock()
	r := m.running[p.ID]
	var done int
	var started time.Time
	if r != nil {
		done, started = r.done, r.started
	}
	m.mu.Unlock()
	if r == nil || done == 0 {
		return 0, false
	}
	per := time.Since(started) / time.Duration(done)
	return per * time.Duration(max(p.Total-p.Done, 0)), true
}

func (m *Manager) worker(ctx context.Context) {
	defer m.wg.Done()
	for {
		id, ok := m.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-m.wake:
				continue
			}
		}
		m.runJob(ctx, id)
		if ctx.Err() != nil {
			return
		}
	}
}

func (m *Manager) next() (uuid.UUID, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queue) == 0 {
		return uuid.Nil, false
	}
	id := m.queue[0]
	m.queue = m.queue[1:]
	delete(m.queued, id)
	return id, true
}

// runJob checks a job's unchecked parcels batch by batch. Server shutdown
// (ctx) leaves the job running in the store, to be resumed; a cancel
// leaves it cancelled; a store that fails for good marks it failed.
func (m *Manager) runJob(ctx context.Context, id uuid.UUID) {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := m.opt.Store.SetPlanState(jctx, id, zone.PlanRunning, "")
	if err != nil {
		if zone.ErrorCode(err) != zone.CodeConflict && zone.ErrorCode(err) != zone.CodeNotFound {
			m.opt.Log.Warn("plan job could not start", "plan", id, "err", err)
			m.requeueLater(ctx, id)
		}
		return
	}
	r := &run{cancel: cancel, started: time.Now()}
	m.mu.Lock()
	m.running[id] = r
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.running, id)
		m.mu.Unlock()
	}()
	from := 0
	failures := 0
	for {
		if jctx.Err() != nil {
			return
		}
		var batch []*zone.PlanParcel
		err := m.opt.Store.ListParcels(jctx, id, zone.ParcelQuery{Clearance: zone.Secret, Unchecked: true, FromSeq: from, Limit: m.opt.Page},
			func(pc *zone.PlanParcel) error { batch = append(batch, pc); return nil })
		if err == nil && len(batch) == 0 {
			if _, err := m.opt.Store.SetPlanState(jctx, id, zone.PlanDone, ""); err != nil && jctx.Err() == nil && zone.ErrorCode(err) != zone.CodeConflict {
				m.opt.Log.Warn("plan job finished but its state could not be stored", "plan", id, "err", err)
				m.requeueLater(ctx, id)
			}
			return
		}
		if err == nil {
			err = m.checkBatch(jctx, id, batch, "")
		}
		if err != nil {
			if jctx.Err() != nil {
				return
			}
			if failures++; failures >= 5 {
				m.opt.Log.Error("plan job failed", "plan", id, "err", err)
				_, _ = m.opt.Store.SetPlanState(context.WithoutCancel(ctx), id, zone.PlanFailed, zone.ErrorMessage(err))
				return
			}
			m.opt.Log.Warn("plan batch failed; retrying", "plan", id, "err", err)
			if !sleep(jctx, time.Duration(failures)*time.Second) {
				return
			}
			continue
		}
		failures = 0
		from = batch[len(batch)-1].Seq + 1
		m.mu.Lock()
		r.done += len(batch)
		m.mu.Unlock()
	}
}

// requeueLater queues a job again after a pause (its store was unreachable).
func (m *Manager) requeueLater(ctx context.Context, id uuid.UUID) {
	go func() {
		if sleep(ctx, 5*time.Second) {
			m.mu.Lock()
			m.enqueueLocked(id)
			m.mu.Unlock()
		}
	}()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// checkBatch checks parcels, Batch at a time under a slot of the gate
// and up to Parallel batches at once, and stores all their results in one
// transaction, with reason for a re-check.
func (m *Manager) checkBatch(ctx context.Context, id uuid.UUID, parcels []*zone.PlanParcel, reason string) error {
	eng, src := m.opt.Engine(), m.opt.Source()
	results := make([]zone.ParcelResult, len(parcels))
	chunks := make(chan []int, (len(parcels)+m.opt.Batch-1)/m.opt.Batch)
	for start := 0; start < len(parcels); start += m.opt.Batch {
		idx := make([]int, 0, m.opt.Batch)
		for i := start; i < min(start+m.opt.Batch, len(parcels)); i++ {
			idx = append(idx, i)
		}
		chunks <- idx
	}
	close(chunks)
	var wg sync.WaitGroup
	errs := make(chan error, m.opt.Parallel)
	for range min(m.opt.Parallel, cap(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idx := range chunks {
				release, err := m.acquire(ctx)
				if err != nil {
					errs <- err
					return
				}
				for _, i := range idx {
					pc := parcels[i]
					views := eng.Record(src, check.SiteFootprint(pc.Geometry, pc.Properties))
					res := zone.ParcelResult{Seq: pc.Seq, Reason: reason, At: time.Now().UTC()}
					for cl, v := range views {
						v.Consulted = nil
						raw, err := json.Marshal(v)
						if err != nil {
							release()
							errs <- zone.InternalError(err, "encode a parcel's check")
							return
						}
						res.Views[cl] = zone.CheckView{Verdict: string(v.Verdict), Result: raw}
					}
					results[i] = res
				}
				release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return m.opt.Store.SaveParcelResults(ctx, id, eng.RuleSet().Version, results)
}

// acquire takes a slot of the gate (none without one), giving way while
// the class is full of normal requests.
func (m *Manager) acquire(ctx context.Context) (func(), error) {
	if m.opt.Gate == nil {
		return func() {}, nil
	}
	for {
		rel, err := m.opt.Gate.Acquire(ctx)
		if err == nil {
			return rel, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
}

// Recheck checks again, parcel by parcel, the parcels of finished (done)
// jobs whose footprint intersects one of the lon/lat boxes in area
// (touching counts), or every parcel of them when all is set, storing
// the new results with reason (the change that called for it). It
// returns how many parcels it checked.
func (m *Manager) Recheck(ctx context.Context, area []orb.Bound, all bool, reason string) (int, error) {
	if !all && len(area) == 0 {
		return 0, nil
	}
	plans, err := m.opt.Store.ListPlans(ctx, "", zone.PlanDone)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range plans {
		var parcels []*zone.PlanParcel
		seen := map[int]bool{}
		collect := func(pc *zone.PlanParcel) error {
			if !seen[pc.Seq] {
				seen[pc.Seq] = true
				pc.Views = [zone.Levels]zone.CheckView{}
				parcels = append(parcels, pc)
			}
			return nil
		}
		if all {
			err = m.opt.Store.ListParcels(ctx, p.ID, zone.ParcelQuery{Clearance: zone.Public}, collect)
		} else {
			for i := range area {
				if err = m.opt.Store.ListParcels(ctx, p.ID, zone.ParcelQuery{Clearance: zone.Public, Bound: &area[i]}, collect); err != nil {
					break
				}
			}
		}
		if zone.ErrorCode(err) == zone.CodeNotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			return n, err
		}
		for start := 0; start < len(parcels); start += m.opt.Page {
			batch := parcels[start:min(start+m.opt.Page, len(parcels))]
			if err := m.checkBatch(ctx, p.ID, batch, reason); err != nil {
				if zone.ErrorCode(err) == zone.CodeNotFound {
					break
				}
				return n, err
			}
			n += len(batch)
		}
	}
	return n, nil
}
