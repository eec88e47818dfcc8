package audit

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Options tunes a Recorder. The zero value takes the defaults.
type Options struct {
	FlushEvery time.Duration // how often queued entries are appended; default 100 ms
	BatchMax   int           // entries per append transaction, and the queue length that triggers one at once; default 500
	// Backlog is how many queued entries Admit allows before it refuses
	// (default 50,000).
	Backlog int
	// RetryAfter is what a refused caller is told to wait; default 5 s.
	RetryAfter time.Duration
	// AppendTimeout bounds one append transaction; default 5 s.
	AppendTimeout time.Duration
	Log           *slog.Logger
	Now           func() time.Time // nil: time.Now
}

// Defaults.
const (
	DefaultFlushEvery = 100 * time.Millisecond
	DefaultBatchMax   = 500
	DefaultBacklog    = 50_000
)

// Recorder appends audit entries to a store in batches (see the package
// doc for the policy when the store cannot take them). It is safe for
// concurrent use.
type Recorder struct {
	store zone.AuditStore
	opt   Options

	mu      sync.Mutex
	queue   []zone.AuditEntry // queue[head:] wait to be appended, in order
	head    int
	queued  int64 // entries ever queued
	done    int64 // entries appended (or found already appended)
	changed *sync.Cond
	closed  bool

	ids *rand.ChaCha8 // entry ids' random bits; under mu

	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup

	appended, batches, failures, refused atomic.Int64
	failing                              atomic.Bool
}

// Stats are a recorder's counters, for metrics.
type Stats struct {
	Queued   int   // entries waiting now
	Appended int64 // entries appended since start
	Batches  int64 // append transactions committed
	Failures int64 // append transactions that failed (and were retried)
	Refused  int64 // Admit refusals (backlog full)
	Failing  bool  // the last append failed
}

// NewRecorder starts a recorder appending to st; Close stops it.
func NewRecorder(st zone.AuditStore, opt Options) *Recorder {
	if opt.FlushEvery <= 0 {
		opt.FlushEvery = DefaultFlushEvery
	}
	if opt.BatchMax <= 0 {
		opt.BatchMax = DefaultBatchMax
	}
	if opt.Backlog <= 0 {
		opt.Backlog = DefaultBacklog
	}
	if opt.RetryAfter <= 0 {
		opt.RetryAfter = 5 * time.Second
	}
	if opt.AppendTimeout <= 0 {
		opt.AppendTimeout = 5 * time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	r := &Recorder{store: st, opt: opt, ids: rand.NewChaCha8(seed), kick: make(chan struct{}, 1), stop: make(chan struct{})}
	r.changed = sync.NewCond(&r.mu)
	r.wg.Add(1)
	go r.loop()
	return r
}

// Admit reports whether an auditable action may go ahead: an error of
// CodeUnavailable, with RetryAfter, once the queue holds Backlog entries
// (the store has not taken entries for a while), or after Close.
func (r *Recorder) Admit() error {
	r.mu.Lock()
	n, closed := len(r.queue)-r.head, r.closed
	r.mu.Unlock()
	if closed {
		return &zone.Error{Code: zone.CodeUnavailable, Message: "the server is shutting down", RetryAfter: r.opt.RetryAfter}
	}
	if n >= r.opt.Backlog {
		r.refused.Add(1)
		return &zone.Error{Code: zone.CodeUnavailable, RetryAfter: r.opt.RetryAfter,
			Message: "the audit trail cannot take entries now (its store is not answering), and nothing auditable is done unaudited; try again shortly"}
	}
	return nil
}

// Record queues e for appending and returns at once. It sets e's ID and
// Time when they are zero. Entries are appended in the order recorded.
// An entry recorded after Close is appended at once, synchronously.
func (r *Recorder) Record(e zone.AuditEntry) {
	r.record(e, false)
}

// RecordNow is Record for actions that wrote to the store anyway (edits,
// tokens, rule sets, decisions): the entry is appended without waiting for
// the next tick, so it is durable moments after the action.
func (r *Recorder) RecordNow(e zone.AuditEntry) {
	r.record(e, true)
}

func (r *Recorder) record(e zone.AuditEntry, now bool) {
	r.mu.Lock()
	if e.Time.IsZero() {
		e.Time = r.opt.Now() // under the lock: queue order is time order
	}
	if e.ID == uuid.Nil {
		e.ID = r.newID(e.Time)
	}
	if r.closed {
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), r.opt.AppendTimeout)
		defer cancel()
		if _, err := r.store.AppendAudit(ctx, []zone.AuditEntry{e}); err != nil {
			r.opt.Log.Error("audit entry after close was lost", "action", e.Action, "err", err)
		}
		return
	}
	r.queue = append(r.queue, e)
	r.queued++
	n := len(r.queue) - r.head
	r.mu.Unlock()
	if now || n >= r.opt.BatchMax {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// newID is a UUIDv7 for an entry made at t: time-ordered, so the stores'
// id indexes grow at their end, with 74 random bits (from a generator
// seeded once from crypto/rand: an id needs to be unique, not secret).
// r.mu is held.
func (r *Recorder) newID(t time.Time) uuid.UUID {
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[:8], uint64(t.UnixMilli())<<16)
	_, _ = r.ids.Read(id[6:])
	id[6] = id[6]&0x0f | 0x70 // version 7
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// Flush waits until every entry recorded before the call is appended, or
// ctx ends (then it returns ctx's error; the entries stay queued).
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	target := r.queued
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.changed.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.done < target {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.changed.Wait()
	}
	return nil
}

// Close appends what is queued (until ctx ends) and stops the recorder.
// Entries still queued when ctx ends are lost, and logged as such.
func (r *Recorder) Close(ctx context.Context) error {
	err := r.Flush(ctx)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return err
	}
	r.closed = true
	lost := len(r.queue) - r.head
	r.mu.Unlock()
	close(r.stop)
	r.wg.Wait()
	if lost > 0 {
		r.opt.Log.Error("audit entries not appended at shutdown were lost", "entries", lost, "err", err)
	}
	return err
}

// Queued returns the entries waiting to be appended that match, oldest
// first: a reader of the trail adds them to what the store gives, so an
// action is in its history at once.
func (r *Recorder) Queued(match func(*zone.AuditEntry) bool) []zone.AuditEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []zone.AuditEntry
	for i := r.head; i < len(r.queue); i++ {
		if match(&r.queue[i]) {
			out = append(out, r.queue[i])
		}
	}
	return out
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	q := len(r.queue) - r.head
	r.mu.Unlock()
	return Stats{Queued: q, Appended: r.appended.Load(), Batches: r.batches.Load(),
		Failures: r.failures.Load(), Refused: r.refused.Load(), Failing: r.failing.Load()}
}

// loop appends the queue every FlushEvery, when kicked, and backs off
// (up to 5 s) while appends fail.
func (r *Recorder) loop() {
	defer r.wg.Done()
	t := time.NewTicker(r.opt.FlushEvery)
	defer t.Stop()
	var wait time.Duration // back-off while failing
	var retryAt time.Time
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		case <-r.kick:
		}
		if !retryAt.IsZero() && time.Now().Before(retryAt) {
			continue
		}
		if err := r.drain(); err != nil {
			wait = min(max(2*wait, 100*time.Millisecond), 5*time.Second)
			retryAt = time.Now().Add(wait)
			continue
		}
		wait, retryAt = 0, time.Time{}
	}
}

// drain appends what is queued when it starts, batch by batch, until that
// is appended or an append fails. Entries that come meanwhile wait for the
// next tick (or kick): chasing them would commit a transaction for every
// few entries.
func (r *Recorder) drain() error {
	r.mu.Lock()
	target := r.queued
	r.mu.Unlock()
	for {
		r.mu.Lock()
		n := int(min(int64(len(r.queue)-r.head), int64(r.opt.BatchMax), target-r.done))
		// A copy: the store seals its entries while Record may grow the queue.
		batch := append([]zone.AuditEntry(nil), r.queue[r.head:r.head+max(n, 0)]...)
		r.mu.Unlock()
		if n <= 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.opt.AppendTimeout)
		sealed, err := r.store.AppendAudit(ctx, batch)
		cancel()
		if err != nil {
			r.failures.Add(1)
			if !r.failing.Swap(true) {
				r.opt.Log.Error("audit trail append failed; entries stay queued and are retried", "queued", r.Stats().Queued, "err", err)
			}
			return err
		}
		if r.failing.Swap(false) {
			r.opt.Log.Warn("audit trail appends work again", "queued", r.Stats().Queued)
		}
		r.appended.Add(int64(len(sealed)))
		r.batches.Add(1)
		r.mu.Lock()
		clear(r.queue[r.head : r.head+n]) // let the entries' bytes go
		r.head += n
		r.done += int64(n)
		// What came during the append moves to the front, in place: the
		// queue keeps its array instead of growing.
		n = copy(r.queue, r.queue[r.head:])
		clear(r.queue[n:])
		r.queue, r.head = r.queue[:n], 0
		r.changed.Broadcast()
		r.mu.Unlock()
	}
}
