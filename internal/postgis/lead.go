package postgis

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// impactLeaderLockKey is the session advisory lock held by the one server
// instance that marks appraisals stale and re-checks them (package
// impact): every write instance follows the change feed, one acts on it.
const impactLeaderLockKey int64 = 7318505613016

// leadCheckInterval is how often a leader checks that its lock's
// connection is alive.
const leadCheckInterval = 2 * time.Second

// Lead tries to become the instance that acts on changes: it takes the
// impact session advisory lock on a connection of its own. ok is false
// when another instance holds it. Otherwise led is a context that ends
// when the lock is lost (the connection dropped: the database released
// the lock, so another instance may take it) or ctx ends, and release
// gives the lock up.
func (s *Store) Lead(ctx context.Context) (led context.Context, release func(), ok bool, err error) {
	if s.standby != nil {
		return nil, nil, false, zone.Errorf(zone.CodeUnavailable, "a standby does not lead")
	}
	cfg := s.pool.Config().ConnConfig.Copy()
	cctx, ccancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	ccancel()
	if err != nil {
		return nil, nil, false, dbError(err, "connect for the impact lock")
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, impactLeaderLockKey).Scan(&ok); err != nil || !ok {
		closeConn(conn)
		if err != nil {
			return nil, nil, false, dbError(err, "take the impact lock")
		}
		return nil, nil, false, nil
	}
	led, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer closeConn(conn) // ends the session: the lock goes with it
		t := time.NewTicker(leadCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-led.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(led, leadCheckInterval)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil && led.Err() == nil {
					s.log.Warn("impact: lost the leader lock's connection", "err", err)
					cancel()
					return
				}
			}
		}
	}()
	return led, func() { cancel(); <-done }, true, nil
}
