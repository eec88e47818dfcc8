package postgis

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// probeTimeout bounds one probe: connecting, SELECT 1, the disk write.
const probeTimeout = time.Second

// probeGap is the least time between two probes, however often calls fail.
const probeGap = 100 * time.Millisecond

// RetryAfterUnavailable is the Retry-After of a call refused because the
// database does not answer: a few probe intervals.
const RetryAfterUnavailable = 5 * time.Second

// health is what the store knows of the database: whether it answers and
// whether its disk is full. down is set and cleared by the prober; full is
// set by a call that found the disk full (observe) and cleared by the
// prober once it finds room. Both are set only while a prober runs, so
// that nothing stays set with nobody to clear it.
type health struct {
	down flag
	full flag
	kick chan struct{} // a call found the database unavailable: probe now

	// outage ends (is cancelled) when the prober finds the database down,
	// and every call under way with it; a new one begins when it answers.
	outageMu  sync.Mutex
	outage    context.Context
	endOutage context.CancelFunc
}

func newHealth() *health {
	h := &health{kick: make(chan struct{}, 1)}
	h.outage, h.endOutage = context.WithCancel(context.Background())
	return h
}

// calls is the context that ends when the database is next found down.
func (h *health) calls() context.Context {
	h.outageMu.Lock()
	defer h.outageMu.Unlock()
	return h.outage
}

// wentDown ends the calls under way; cameBack starts a new context for
// those to come.
func (h *health) wentDown() {
	h.outageMu.Lock()
	defer h.outageMu.Unlock()
	h.endOutage()
}

func (h *health) cameBack() {
	h.outageMu.Lock()
	defer h.outageMu.Unlock()
	h.endOutage()
	h.outage, h.endOutage = context.WithCancel(context.Background())
}

func (h *health) isFull() bool { return h.full.Load() }

// flag is one condition of the database's health, and since when it holds.
type flag struct {
	on    atomic.Bool // read without the lock by every call
	mu    sync.Mutex
	since time.Time
}

// Load reports whether the condition holds.
func (f *flag) Load() bool { return f.on.Load() }

// set records whether the condition holds now and reports whether that
// changed and, when it ended, how long it lasted.
func (f *flag) set(on bool) (changed bool, lasted time.Duration) {
	if f.on.Load() == on {
		return false, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.on.Load() == on {
		return false, 0
	}
	f.on.Store(on)
	if on {
		f.since = time.Now()
		return true, 0
	}
	return true, time.Since(f.since)
}

// refuse fails a call at once while the database is known unreachable.
func (s *Store) refuse(what string) error {
	if !s.health.down.Load() {
		return nil
	}
	return &zone.Error{Code: zone.CodeUnavailable, Message: "cannot " + what + ": the database is unreachable",
		RetryAfter: RetryAfterUnavailable}
}

// observe tells the prober what a call found: unavailability (unless the
// caller cancelled: a client that went away says nothing of the database,
// while one whose deadline passed may have waited for it) makes it probe
// now; a full disk marks the store full.
func (s *Store) observe(caller context.Context, err error) {
	if s.probeInterval <= 0 {
		return
	}
	switch zone.ErrorCode(err) {
	case zone.CodeUnavailable:
		if !errors.Is(caller.Err(), context.Canceled) && !s.health.down.Load() {
			select {
			case s.health.kick <- struct{}{}:
			default:
			}
		}
	case zone.CodeStorageFull:
		s.setFull(true, err)
	}
}

// probeLoop probes every ProbeInterval and when kicked, until ctx ends.
func (s *Store) probeLoop(ctx context.Context) {
	defer s.wg.Done()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			closeConn(conn)
		}
	}()
	tick := time.NewTicker(s.probeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.health.kick:
		}
		err := s.probe(ctx, &conn)
		if ctx.Err() != nil {
			return
		}
		s.setDown(err)
		if err == nil && s.health.isFull() {
			err := probeDisk(ctx, conn)
			switch code := zone.ErrorCode(dbError(err, "probe the disk")); {
			case err == nil:
				s.setFull(false, nil)
			case code == zone.CodeStorageFull:
			default:
				s.log.Debug("disk probe failed", "err", err)
			}
		}
		select { // however often calls kick, probe at most every probeGap
		case <-ctx.Done():
			return
		case <-time.After(probeGap):
		}
	}
}

// probe asks the database for SELECT 1 on the prober's own connection (not
// the pool's, which may be busy), connecting first when there is none. An
// old connection that fails at once (broken by a restart) is replaced and
// the probe tried again: it says nothing of the database now.
func (s *Store) probe(ctx context.Context, conn **pgx.Conn) error {
	for {
		fresh := *conn == nil
		if fresh {
			cctx, cancel := context.WithTimeout(ctx, probeTimeout)
			c, err := pgx.ConnectConfig(cctx, s.pool.Config().ConnConfig.Copy())
			cancel()
			if err != nil {
				return err
			}
			*conn = c
		}
		cctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_, err := (*conn).Exec(cctx, `SELECT 1`)
		timedOut := cctx.Err() != nil
		cancel()
		if err == nil {
			return nil
		}
		// A timed-out connection is closed already (pgx closes a
		// connection whose context ended mid-call); Close returns at once.
		closeConn(*conn)
		*conn = nil
		if fresh || timedOut {
			return err
		}
	}
}

// probeDisk tries a write that needs a new page in the components'
// tablespace: in a transaction it rolls back, TRUNCATE disk_probe (made by
// a migration next to components), which gives the table a new empty file,
// then one INSERT, which must extend that file. It leaves nothing behind
// but the row version of pg_class that TRUNCATE replaced (creating a table
// each time left a dozen dead catalog rows). Instances probing at once
// take turns on the table's lock; one that waits past the lock timeout
// tries again at its next probe.
func probeDisk(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SET LOCAL lock_timeout = '200ms'; TRUNCATE disk_probe; INSERT INTO disk_probe VALUES (1)`)
	return err
}

// setDown records the outcome of a probe, logging changes.
func (s *Store) setDown(err error) {
	down := err != nil
	switch changed, lasted := s.health.down.set(down); {
	case !changed:
	case down:
		s.health.wentDown()
		s.log.Warn("database unreachable: database calls fail at once until it answers", "err", err)
	default:
		s.health.cameBack()
		s.log.Info("database reachable again", "after", lasted.Round(time.Millisecond))
	}
}

// setFull records whether the disk is full, logging changes.
func (s *Store) setFull(full bool, err error) {
	switch changed, lasted := s.health.full.set(full); {
	case !changed:
	case full:
		s.log.Error("database disk full: writes fail until the prober finds room", "err", err)
	default:
		s.log.Info("database disk has room again", "after", lasted.Round(time.Millisecond))
	}
}

// errDiskFull is a write refused because the database's disk is full.
func errDiskFull(what string, err error) error {
	return &zone.Error{Code: zone.CodeStorageFull, Message: "cannot " + what + ": the database's disk is full; nothing was written", Err: err}
}
