package postgis

// Read instances on a hot standby (a streaming replica, Options.Standby).
//
// A standby takes no LISTEN, and NOTIFY does not replicate, but tables do:
// one poller per store reads, on a connection of its own, every
// standbyPollInterval (every standbyFastInterval while a read waits for a
// position), the replay position, the received position, the change log's
// data version and the token revocation log's last seq. Subscribers are
// signalled when the data version moves, revocation watchers get the ids
// appended since the last poll, waiters for a position are released once it
// is replayed, and the replay lag is the time the oldest WAL received but
// not yet replayed has been waiting.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Poll intervals of a standby store: the usual one bounds how long an edit
// replayed on the standby takes to reach the index (plus one Sync); the
// fast one applies while a read waits for a position (read-your-writes).
const (
	standbyPollInterval = 100 * time.Millisecond
	standbyFastInterval = 10 * time.Millisecond
)

// maxPendingWAL bounds the received-but-not-replayed positions the lag is
// measured from: one per poll, so about 15 minutes of lag at the usual
// interval; past it the lag is still at least that.
const maxPendingWAL = 10000

// Position is a place in PostgreSQL's write-ahead log (an LSN): what a
// write instance returns after a write, and what a read instance on a
// standby waits for its replica to have replayed (read-your-writes).
type Position uint64

// String is the position as PostgreSQL writes a pg_lsn: two hexadecimal
// halves, "16/B374D848".
func (p Position) String() string {
	return fmt.Sprintf("%X/%X", uint64(p)>>32, uint64(p)&0xFFFFFFFF)
}

// ParsePosition reads a position written as PostgreSQL writes a pg_lsn.
func ParsePosition(s string) (Position, error) {
	hi, lo, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok && len(hi) > 0 && len(hi) <= 8 && len(lo) > 0 && len(lo) <= 8 {
		h, err1 := strconv.ParseUint(hi, 16, 32)
		l, err2 := strconv.ParseUint(lo, 16, 32)
		if err1 == nil && err2 == nil {
			return Position(h<<32 | l), nil
		}
	}
	return 0, zone.Errorf(zone.CodeInvalid, "%q is not a log position (two hexadecimal numbers as PostgreSQL writes an LSN, like 0/16B3748)", s)
}

// ReplicaStatus is what a standby store knows of its replication.
type ReplicaStatus struct {
	// Known: the last poll succeeded; the rest is from it.
	Known bool
	// Standby: the database is in recovery (a hot standby). A store opened
	// with Options.Standby on a primary works too, with no lag.
	Standby bool
	// Replayed is the last position replayed (on a primary: written).
	Replayed Position
	// Lag is how long the oldest WAL the standby has not replayed has
	// been waiting since the poller first knew of it: WAL it received,
	// and with Options.PrimaryPosition WAL the primary wrote (so a broken
	// link to the primary counts too); 0 when it has replayed all of it.
	Lag time.Duration
}

// pendingWAL is a received position not yet replayed, and when the poller
// first saw it received.
type pendingWAL struct {
	pos  Position
	seen time.Time
}

// standby is a standby store's poller state.
type standby struct {
	kick    chan struct{}
	waiting atomic.Int32 // reads waiting for a position: poll fast

	mu      sync.Mutex
	status  ReplicaStatus
	version int64 // data version of the last successful poll
	revSeq  int64 // token_revocations seq the watchers have been told up to; -1: not read yet
	// covered is a position replayed before the last successful poll's
	// statement began, and coveredVersion that poll's data version: a
	// snapshot that late holds every transaction committed up to covered.
	covered        Position
	coveredVersion int64
	pending        []pendingWAL
	polled         chan struct{} // closed after each poll, then replaced
	subs           map[chan struct{}]struct{}
	watchers       map[chan uuid.UUID]struct{}
}

func newStandby() *standby {
	return &standby{kick: make(chan struct{}, 1), revSeq: -1, polled: make(chan struct{}),
		subs: map[chan struct{}]struct{}{}, watchers: map[chan uuid.UUID]struct{}{}}
}

// ReplicaStatus reports the standby's replication as last polled; zero
// (Known false) for a store not opened with Options.Standby.
func (s *Store) ReplicaStatus() ReplicaStatus {
	if s.standby == nil {
		return ReplicaStatus{}
	}
	s.standby.mu.Lock()
	defer s.standby.mu.Unlock()
	st := s.standby.status
	if st.Known && len(s.standby.pending) > 0 {
		st.Lag = time.Since(s.standby.pending[0].seen)
	}
	return st
}

// WritePosition returns the position after every transaction committed so
// far (the WAL insert position): a read instance whose standby has
// replayed it sees them all. On a standby it is the replay position.
func (s *Store) WritePosition(ctx context.Context) (_ Position, err error) {
	ctx, end, err := s.call(ctx, "read the log position")
	if err != nil {
		return 0, err
	}
	defer end(&err)
	var text string
	err = s.pool.QueryRow(ctx, `SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
		ELSE pg_current_wal_insert_lsn() END)::text`).Scan(&text)
	if err != nil {
		return 0, dbError(err, "read the log position")
	}
	p, err := ParsePosition(text)
	return recordEnd(p), err
}

// WAL page layout of PostgreSQL's default build (XLOG_BLCKSZ 8 KiB, 16 MiB
// segments): each page starts with a header, longer on a segment's first
// page.
const (
	walPage        = 8192
	walSegment     = 16 << 20
	walShortHeader = 24 // SizeOfXLogShortPHD
	walLongHeader  = 40 // SizeOfXLogLongPHD
)

// recordEnd turns the WAL insert position into the end of the last record
// written, which is what a standby's replay position reaches: when that
// record ended on a page boundary, the insert position is past the next
// page's header, and a standby that replayed everything would stay short
// of it until another record came. No record ends right after a page
// header (its part on that page is not empty), so the shift is exact.
func recordEnd(p Position) Position {
	switch {
	case p%walSegment == walLongHeader:
		return p - walLongHeader
	case p%walPage == walShortHeader && p%walSegment != walShortHeader:
		return p - walShortHeader
	}
	return p
}

// WaitReplayed blocks until the standby has replayed pos, and returns a
// data version whose changes hold every component change committed up to
// pos (the index is current for pos once it has that version). When ctx
// ends first it returns an unavailable error. Only a store opened with
// Options.Standby can wait.
func (s *Store) WaitReplayed(ctx context.Context, pos Position) (int64, error) {
	sb := s.standby
	if sb == nil {
		return 0, zone.Errorf(zone.CodeInternal, "WaitReplayed on a store not opened as a standby")
	}
	sb.waiting.Add(1)
	defer sb.waiting.Add(-1)
	for kicked := false; ; kicked = true {
		sb.mu.Lock()
		covered, version, polled := sb.covered, sb.coveredVersion, sb.polled
		sb.mu.Unlock()
		if covered >= pos {
			return version, nil
		}
		// One poll at once; then the poller's fast interval (a kick on
		// every wake would spin with a poller failing at once while the
		// standby is down).
		if !kicked {
			select {
			case sb.kick <- struct{}{}:
			default:
			}
		}
		select {
		case <-ctx.Done():
			return 0, &zone.Error{Code: zone.CodeUnavailable, RetryAfter: time.Second, Err: ctx.Err(),
				Message: "the replica has not replayed log position " + pos.String() + " yet"}
		case <-polled:
		}
	}
}

// subscribeStandby is Subscribe on a standby: a value after every poll
// that finds the data version moved, and after a poll that succeeds after
// failures (changes may have been missed meanwhile).
func (s *Store) subscribeStandby(ctx context.Context) (<-chan struct{}, error) {
	sb := s.standby
	ch := make(chan struct{}, 1)
	sb.mu.Lock()
	sb.subs[ch] = struct{}{}
	sb.mu.Unlock()
	s.whenEnded(ctx, func() {
		sb.mu.Lock()
		delete(sb.subs, ch)
		sb.mu.Unlock()
		close(ch)
	})
	return ch, nil
}

// whenEnded calls release once ctx or the store ends.
func (s *Store) whenEnded(ctx context.Context, release func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-s.bg.Done():
		}
		release()
	}()
}

// watchRevocationsStandby is WatchRevocations on a standby: the ids the
// token_revocations table gains after it returns. The channel is closed
// when ctx ends, when the store closes, when a poll fails (revocations may
// go unheard until the caller watches again) and when the watcher does not
// keep up.
func (s *Store) watchRevocationsStandby(ctx context.Context) (<-chan uuid.UUID, error) {
	sb := s.standby
	ch := make(chan uuid.UUID, 16)
	sb.mu.Lock()
	if !sb.status.Known || sb.revSeq < 0 {
		sb.mu.Unlock()
		return nil, &zone.Error{Code: zone.CodeUnavailable, RetryAfter: RetryAfterUnavailable,
			Message: "cannot watch token revocations: the standby has not answered yet"}
	}
	sb.watchers[ch] = struct{}{}
	sb.mu.Unlock()
	s.whenEnded(ctx, func() {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		if _, ok := sb.watchers[ch]; ok { // not ended by a failed poll already
			delete(sb.watchers, ch)
			close(ch)
		}
	})
	return ch, nil
}

// standbyLoop polls until ctx ends.
func (s *Store) standbyLoop(ctx context.Context) {
	defer s.wg.Done()
	sb := s.standby
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			closeConn(conn)
		}
	}()
	for first := true; ; first = false {
		wait := standbyPollInterval
		switch {
		case first: // the status is known as soon as the standby answers
			wait = 0
		case sb.waiting.Load() > 0:
			wait = standbyFastInterval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		case <-sb.kick:
		}
		var err error
		if err = s.refuse("poll the standby"); err == nil {
			err = s.pollStandby(ctx, &conn)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if conn != nil {
				closeConn(conn)
				conn = nil
			}
			s.standbyFailed(err)
		}
	}
}

// standbyRow is one poll's reading.
type standbyRow struct {
	inRecovery        bool
	replayed, receive Position
	version, revSeq   int64
}

// pollStandby reads the standby's positions and logs on the poller's own
// connection (connecting first when there is none), then tells
// subscribers, watchers and waiters.
func (s *Store) pollStandby(ctx context.Context, conn **pgx.Conn) error {
	cctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if *conn == nil {
		c, err := pgx.ConnectConfig(cctx, s.pool.Config().ConnConfig.Copy())
		if err != nil {
			return err
		}
		*conn = c
	}
	var row standbyRow
	var replayed, receive string
	err := (*conn).QueryRow(cctx, `SELECT pg_is_in_recovery(),
			coalesce((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
				ELSE pg_current_wal_insert_lsn() END)::text, '0/0'),
			coalesce((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() END)::text, ''),
			greatest((SELECT coalesce(max(seq), 0) FROM change_log), (SELECT pruned_upto FROM change_log_state)),
			(SELECT coalesce(max(seq), 0) FROM token_revocations)`).
		Scan(&row.inRecovery, &replayed, &receive, &row.version, &row.revSeq)
	if err != nil {
		return err
	}
	if row.replayed, err = ParsePosition(replayed); err != nil {
		return err
	}
	if !row.inRecovery {
		row.replayed = recordEnd(row.replayed) // the insert position, on a primary
	}
	row.receive = row.replayed
	if receive != "" {
		if row.receive, err = ParsePosition(receive); err != nil {
			return err
		}
	}
	var revoked []uuid.UUID
	sb := s.standby
	sb.mu.Lock()
	from := sb.revSeq
	sb.mu.Unlock()
	if from >= 0 && row.revSeq > from {
		rows, err := (*conn).Query(cctx, `SELECT token_id FROM token_revocations WHERE seq > $1 AND seq <= $2 ORDER BY seq`, from, row.revSeq)
		if err != nil {
			return err
		}
		revoked, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
	}
	s.standbyPolled(row, revoked)
	return nil
}

// standbyPolled records a successful poll and tells everyone concerned.
func (s *Store) standbyPolled(row standbyRow, revoked []uuid.UUID) {
	sb := s.standby
	now := time.Now()
	sb.mu.Lock()
	defer sb.mu.Unlock()
	wasKnown := sb.status.Known
	// The previous poll's replay position is covered by this poll's
	// snapshot, which began after that poll ended.
	if wasKnown {
		sb.covered, sb.coveredVersion = sb.status.Replayed, row.version
	}
	moved := !wasKnown || row.version != sb.version
	sb.status = ReplicaStatus{Known: true, Standby: row.inRecovery, Replayed: row.replayed}
	sb.version = row.version
	if !row.inRecovery {
		sb.pending = sb.pending[:0]
	} else {
		if row.receive > row.replayed {
			sb.addPending(row.receive, now)
		}
		i := 0
		for i < len(sb.pending) && sb.pending[i].pos <= row.replayed {
			i++
		}
		sb.pending = append(sb.pending[:0], sb.pending[i:]...)
	}
	if moved {
		for ch := range sb.subs {
			select {
			case ch <- struct{}{}:
			default: // a value is pending: coalesce
			}
		}
	}
	for _, id := range revoked {
		for ch := range sb.watchers {
			select {
			case ch <- id:
			default:
				// The watcher does not keep up: end its feed, so that it
				// distrusts what it cached and watches again.
				delete(sb.watchers, ch)
				close(ch)
			}
		}
	}
	sb.revSeq = row.revSeq
	close(sb.polled)
	sb.polled = make(chan struct{})
}

// primaryLoop asks the primary for its write position every poll
// interval, until ctx ends: a position the standby has not replayed waits
// in pending from when it was learnt. A primary that does not answer adds
// nothing (the lag then counts received WAL only).
func (s *Store) primaryLoop(ctx context.Context, position func(context.Context) (Position, error)) {
	defer s.wg.Done()
	sb := s.standby
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(standbyPollInterval):
		}
		cctx, cancel := context.WithTimeout(ctx, probeTimeout)
		p, err := position(cctx)
		cancel()
		if err != nil {
			continue
		}
		sb.mu.Lock()
		if sb.status.Known && sb.status.Standby && p > sb.status.Replayed {
			sb.addPending(p, time.Now())
		}
		sb.mu.Unlock()
	}
}

// addPending notes a position not yet replayed, first known at seen,
// keeping pending in position order. Called with mu held.
func (sb *standby) addPending(p Position, seen time.Time) {
	if (len(sb.pending) == 0 || p > sb.pending[len(sb.pending)-1].pos) && len(sb.pending) < maxPendingWAL {
		sb.pending = append(sb.pending, pendingWAL{pos: p, seen: seen})
	}
}

// standbyFailed records a failed poll: the status is unknown, and every
// revocation watcher's feed ends (revocations may go unheard until it
// watches again).
func (s *Store) standbyFailed(err error) {
	sb := s.standby
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.status.Known || sb.revSeq < 0 {
		s.log.Warn("standby poll failed: changes and revocations are not followed until it answers", "err", err)
	}
	sb.status = ReplicaStatus{}
	sb.pending = sb.pending[:0]
	for ch := range sb.watchers {
		delete(sb.watchers, ch)
		close(ch)
	}
	close(sb.polled)
	sb.polled = make(chan struct{})
}

// PositionKey returns the secret that seals log positions handed to
// clients (migration 00013: made once on the primary, replicated to its
// standbys, so write and read instances share it). It is never served.
func (s *Store) PositionKey(ctx context.Context) (_ []byte, err error) {
	ctx, end, err := s.call(ctx, "read the position key")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	var key []byte
	if err := s.pool.QueryRow(ctx, `SELECT key FROM position_key`).Scan(&key); err != nil {
		return nil, dbError(err, "read the position key")
	}
	return key, nil
}
