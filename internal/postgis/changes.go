package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// changesChannel is the NOTIFY channel the change_log triggers signal on.
const changesChannel = "zoneplan_changes"

// DataVersion is the sequence number of the latest committed change: the
// largest change_log seq, or how far the log was pruned when it is empty.
func (s *Store) DataVersion(ctx context.Context) (_ int64, err error) {
	ctx, end, err := s.call(ctx, "read the data version")
	if err != nil {
		return 0, err
	}
	defer end(&err)
	var v int64
	err = s.pool.QueryRow(ctx, `SELECT greatest(
			(SELECT coalesce(max(seq), 0) FROM change_log),
			(SELECT pruned_upto FROM change_log_state))`).Scan(&v)
	if err != nil {
		return 0, dbError(err, "read the data version")
	}
	return v, nil
}

// ChangesSince calls fn, in sequence order, with the latest state of every
// component changed after seq. It reads one snapshot (repeatable read), so
// the pruning horizon, the log and the components agree. It is a long call
// (a follower far behind reads many changes).
func (s *Store) ChangesSince(ctx context.Context, seq int64, fn func(zone.Change) error) (_ int64, err error) {
	ctx, end, err := s.longCall(ctx, "read the change log")
	if err != nil {
		return seq, err
	}
	defer end(&err)
	reached := seq
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		var pruned int64
		if err := tx.QueryRow(ctx, `SELECT pruned_upto FROM change_log_state`).Scan(&pruned); err != nil {
			return err
		}
		if seq < pruned {
			return zone.ErrChangesPruned
		}
		rows, err := tx.Query(ctx, `WITH latest AS (
				SELECT DISTINCT ON (component_id) seq, component_id, layer
				FROM change_log WHERE seq > $1
				ORDER BY component_id, seq DESC)
			SELECT l.seq, l.component_id, l.layer, c.id IS NULL, `+componentSelectList(true)+`
			FROM latest l
			LEFT JOIN components c ON c.id = l.component_id
			LEFT JOIN `+zonesLateral+` ON true
			ORDER BY l.seq`, seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ch zone.Change
			var r componentRow
			dest := append([]any{&ch.Seq, &ch.ID, &ch.Layer, &ch.Deleted}, r.dest()...)
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			if !ch.Deleted {
				c, err := r.component()
				if err != nil {
					return err
				}
				ch.Component = c
				ch.Layer = c.Layer
			}
			if err := fn(ch); err != nil {
				return callbackError{err}
			}
			reached = ch.Seq
		}
		return rows.Err()
	})
	var ce callbackError
	if errors.As(err, &ce) {
		return reached, ce.err
	}
	if err != nil {
		return seq, dbError(err, "read the change log")
	}
	return reached, nil
}

// callbackError carries a caller's callback error through a transaction
// unchanged.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }
func (e callbackError) Unwrap() error { return e.err }

// PruneChanges removes change_log entries older than retention and records
// how far the log now reaches back; followers behind that point get
// zone.ErrChangesPruned. It returns the number of entries removed. Entries
// go by sequence number, not time alone: nothing newer than a kept entry's
// predecessors is removed.
func (s *Store) PruneChanges(ctx context.Context, retention time.Duration) (_ int64, err error) {
	ctx, end, err := s.longCall(ctx, "prune the change log")
	if err != nil {
		return 0, err
	}
	defer end(&err)
	var removed int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		var upto *int64
		if err := tx.QueryRow(ctx, `SELECT max(seq) FROM change_log WHERE at < now() - make_interval(secs => $1)`,
			retention.Seconds()).Scan(&upto); err != nil {
			return err
		}
		if upto == nil {
			return nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM change_log WHERE seq <= $1`, *upto)
		if err != nil {
			return err
		}
		removed = tag.RowsAffected()
		_, err = tx.Exec(ctx, `UPDATE change_log_state SET pruned_upto = greatest(pruned_upto, $1)`, *upto)
		return err
	})
	if err != nil {
		return 0, dbError(err, "prune the change log")
	}
	return removed, nil
}

// Listener reconnect backoff.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// Subscribe listens on the zoneplan_changes channel on a dedicated
// connection. The channel receives a value soon after any committed change
// to components, by this or any other server instance; values coalesce.
// When the connection drops, Subscribe reconnects with backoff and then
// sends one value, since changes may have been missed meanwhile. The
// channel is closed when ctx ends.
//
// The first LISTEN happens before Subscribe returns, so every change
// committed after it returns is signalled. On a standby (Options.Standby)
// the values come from polling the change log's data version instead.
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	if s.bg.Err() != nil {
		return nil, zone.Errorf(zone.CodeUnavailable, "the store is closed")
	}
	if s.standby != nil {
		return s.subscribeStandby(ctx)
	}
	if err := s.refuse("listen for changes"); err != nil {
		return nil, err
	}
	conn, err := s.listen(ctx, changesChannel)
	if err != nil {
		return nil, dbError(err, "listen for changes")
	}
	// The subscription ends with ctx or with the store, whichever is first.
	ctx, cancel := context.WithCancel(ctx)
	stopWithStore := context.AfterFunc(s.bg, cancel)
	out := make(chan struct{}, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer stopWithStore()
		defer cancel()
		s.follow(ctx, conn, out)
	}()
	return out, nil
}

// listen opens a connection outside the pool (it is held for as long as the
// subscription lives) and LISTENs on channel (a constant of this package)
// on it, within the connect timeout: connecting is most of the work, and
// a busy server may take a while to start a backend.
func (s *Store) listen(ctx context.Context, channel string) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// closeConn closes a listening connection, giving up after a few seconds
// on a dead socket.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

func (s *Store) follow(ctx context.Context, conn *pgx.Conn, out chan struct{}) {
	defer close(out)
	signal := func() {
		select {
		case out <- struct{}{}:
		default: // a value is already pending: coalesce
		}
	}
	backoff := listenBackoffMin
	for {
		_, err := conn.WaitForNotification(ctx)
		if err == nil {
			signal()
			backoff = listenBackoffMin
			continue
		}
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("change listener lost its connection; reconnecting", "err", err)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, listenBackoffMax)
			conn, err = s.listen(ctx, changesChannel)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("change listener cannot reconnect", "err", err, "retry_in", backoff)
		}
		s.log.Info("change listener reconnected")
		signal() // changes may have been committed while it was away
	}
}
