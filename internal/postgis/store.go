// Package postgis is zoneplan's production store: zone.Store on PostgreSQL
// with PostGIS, through a pgx connection pool, with the schema migrations
// runner and a LISTEN/NOTIFY change feed that lets several server instances
// share one database.
//
// Geometries are WGS84 (EPSG:4326, longitude first) in and out; they cross
// the wire as WKB (ST_AsBinary / ST_GeomFromWKB(…, 4326)), so every stored
// geometry has SRID 4326 and coordinates keep their float64 bits.
//
// Multi-instance design: triggers log every committed change of a component
// (or of its zones) in change_log and NOTIFY zoneplan_changes. Transactions
// that write components take one advisory lock first, so they commit one at
// a time and change_log.seq follows commit order; a follower that has read
// up to seq N never misses a change below N. The price: a long import
// delays other component writes until it commits (reads never wait).
// Edits made with other tools (QGIS, psql) bump versions and reach
// followers the same way.
//
// Read instances (Options.Standby, standby.go) run on a hot standby, which
// takes no LISTEN and no writes: they poll the replicated change log and
// token revocation log by position, report the replay lag, and wait for a
// write's log position (read-your-writes).
package postgis

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Options tunes Open. The zero Options is usable.
type Options struct {
	// MaxConns caps the pool; 0 keeps pgxpool's default (the larger of 4
	// and the number of CPUs) or the DSN's pool_max_conns.
	MaxConns int32
	// MinConns is how many connections the pool keeps open when idle.
	MinConns int32
	// Settings are PostgreSQL run-time parameters set on every connection of
	// the pool at connect time, e.g. {"max_parallel_workers_per_gather": "0"}
	// for a pool that serves tiles under concurrent load (parallel query
	// halves tile throughput there).
	Settings map[string]string
	// AfterConnect, when set, runs on every new connection after Settings
	// apply (to register types or prepare statements).
	AfterConnect func(ctx context.Context, conn *pgx.Conn) error
	// ObserveStatement, when set, is told of every statement the pool's
	// connections run: its kind (the SQL command word), its time from send
	// to the last row, and its error (the server's metrics).
	ObserveStatement func(statement string, d time.Duration, err error)
	// ChangeRetention is how long change_log entries are kept; a follower
	// further behind reloads everything. 0 means 7 days; negative disables
	// pruning.
	ChangeRetention time.Duration
	// Logger receives the store's background events (listener reconnects,
	// pruning failures). nil discards them.
	Logger *slog.Logger
	// CallTimeout bounds every short database call (a lookup, a write, a
	// page of appraisals), so that a stalled database turns into an
	// unavailable error instead of a hang. 0 means DefaultCallTimeout;
	// negative disables it. Long calls (a full listing, a count, the change
	// feed, an import, pruning) are bounded by their caller's context only.
	CallTimeout time.Duration
	// ConnectTimeout bounds opening one connection, unless the DSN sets
	// connect_timeout. It matters even when callers have deadlines: pgxpool
	// keeps connecting in the background after an Acquire gives up (for 2
	// minutes by default), and a frozen server's kernel completes the TCP
	// handshake without the server ever answering. 0 means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// StatementTimeout and IdleInTransactionTimeout set statement_timeout
	// and idle_in_transaction_session_timeout on every connection of the
	// pool, unless the DSN or Settings set them: the server's own limits,
	// for when the client cannot cancel (an application server frozen or cut
	// off in the middle of a transaction would otherwise keep its locks,
	// the component writers' advisory lock among them). 0 leaves the
	// server's setting. Long calls lift the statement limit for their own
	// transaction (a full listing of a large store may take longer); the
	// server sets both, the CLI neither (an import or export takes what it
	// takes).
	StatementTimeout         time.Duration
	IdleInTransactionTimeout time.Duration
	// ProbeInterval, when positive, runs a prober: every interval, and at
	// once when a call finds the database unavailable, it asks the database
	// on a connection of its own whether it answers (within a second).
	// While it does not, every call fails at once with CodeUnavailable and
	// a Retry-After instead of waiting for its deadline, so a server answers
	// what it can from memory and refuses the rest quickly; the first probe
	// that succeeds ends that. While a write has found the disk full
	// (SQLSTATE 53100), the prober also tries a write in the components'
	// tablespace (rolled back) and Ping reports CodeStorageFull until one
	// succeeds. 0 runs no prober: calls wait for their own deadlines.
	ProbeInterval time.Duration
	// Standby opens the store for a read instance on a hot standby (a
	// streaming replica, which takes no LISTEN and no writes): the change
	// feed and the token revocation feed poll their tables by position
	// (standby.go), ReplicaStatus reports the replay lag, WaitReplayed
	// waits for a write's position, and the store neither prunes the change
	// log nor writes anything of its own. Writes through it fail with
	// CodeReadOnly.
	Standby bool
	// PrimaryPosition, with Standby, gives the primary's write position
	// (a read instance asks the primary database it appends its audit
	// trail to, Store.WritePosition): the replay lag then also counts WAL
	// the standby has not received (a broken link to the primary), not
	// only WAL received and not yet replayed. nil: received WAL only.
	PrimaryPosition func(ctx context.Context) (Position, error)
}

// DefaultCallTimeout bounds a short database call when Options.CallTimeout
// is 0. A request makes at most one such wait before the prober finds the
// database unreachable (and the token lookup before it has a shorter one,
// auth.DefaultLookupPatience), so every request is answered within 3 s with
// the database frozen.
const DefaultCallTimeout = 1500 * time.Millisecond

// DefaultConnectTimeout bounds opening a connection when neither
// Options.ConnectTimeout nor the DSN's connect_timeout says otherwise.
const DefaultConnectTimeout = 5 * time.Second

// DefaultProbeInterval is the prober's interval the server uses.
const DefaultProbeInterval = time.Second

// TCP keepalives on every connection: a database host that vanished (power,
// network) is noticed within about 30 s on an idle connection, the change
// feed's among them, instead of the kernel's default of over two hours. (A
// frozen server's kernel still answers keepalives: that case is the
// prober's and the call deadlines'.)
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
)

// DefaultChangeRetention is how long the change log is kept when
// Options.ChangeRetention is 0.
const DefaultChangeRetention = 7 * 24 * time.Hour

// pruneEvery is how often an open store prunes the change log.
const pruneEvery = time.Hour

// Store is zone.Store on PostgreSQL with PostGIS. Its schema comes from
// Migrate. It is safe for concurrent use.
type Store struct {
	pool        *pgxpool.Pool
	log         *slog.Logger
	retention   time.Duration
	callTimeout time.Duration
	// liftStatements: the pool's connections have a statement_timeout,
	// which long calls lift for their transaction.
	liftStatements bool
	probeInterval  time.Duration
	health         *health
	standby        *standby // nil unless Options.Standby

	// bg lives as long as the store: Close cancels it, which ends the pruning
	// loop and every subscription.
	bg       context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup
	closeOne sync.Once
}

var _ zone.Store = (*Store)(nil)

// Open connects to the database at dsn (a PostgreSQL URL or key=value
// string), checks it is reachable and that the schema is migrated, and
// starts pruning the change log in the background. Close releases it.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := poolConfig(dsn, opt)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "invalid database connection settings", Err: err}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, log: log, retention: opt.ChangeRetention, callTimeout: opt.CallTimeout,
		liftStatements: hasStatementTimeout(cfg), probeInterval: opt.ProbeInterval, health: newHealth()}
	if s.retention == 0 {
		s.retention = DefaultChangeRetention
	}
	if s.callTimeout == 0 {
		s.callTimeout = DefaultCallTimeout
	}
	if err := s.checkSchema(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.bg, s.stop = context.WithCancel(context.Background())
	if opt.Standby {
		// A standby follows its primary's pruning; it cannot write.
		s.standby = newStandby()
		s.wg.Add(1)
		go s.standbyLoop(s.bg)
		if opt.PrimaryPosition != nil {
			s.wg.Add(1)
			go s.primaryLoop(s.bg, opt.PrimaryPosition)
		}
	} else if s.retention > 0 {
		s.wg.Add(1)
		go s.pruneLoop(s.bg)
	}
	if s.probeInterval > 0 {
		s.wg.Add(1)
		go s.probeLoop(s.bg)
	}
	return s, nil
}

// NewPool opens a bare connection pool on dsn with opt's pool size,
// Settings and AfterConnect: for read-only SQL that needs its own pool
// settings, e.g. a vector-tile pool with max_parallel_workers_per_gather=0
// beside the store's. The caller closes it.
func NewPool(ctx context.Context, dsn string, opt Options) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(dsn, opt)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "invalid database connection settings", Err: err}
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, dbError(err, "connect to the database")
	}
	return pool, nil
}

// poolConfig parses dsn and applies opt.
func poolConfig(dsn string, opt Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The message leaves the DSN out: it may hold a password.
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: "cannot parse the database URL", Err: err}
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	if opt.MinConns > 0 {
		cfg.MinConns = opt.MinConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
		if cfg.ConnConfig.ConnectTimeout <= 0 {
			cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
		}
	}
	dialer := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true,
		Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount}}
	cfg.ConnConfig.DialFunc = dialer.DialContext
	setDefaultParam(cfg, "statement_timeout", opt.StatementTimeout)
	setDefaultParam(cfg, "idle_in_transaction_session_timeout", opt.IdleInTransactionTimeout)
	for k, v := range opt.Settings {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	if opt.AfterConnect != nil {
		cfg.AfterConnect = opt.AfterConnect
	}
	if opt.ObserveStatement != nil {
		cfg.ConnConfig.Tracer = statementTracer{observe: opt.ObserveStatement}
	}
	return cfg, nil
}

// setDefaultParam sets a run-time parameter in milliseconds on every
// connection, unless the DSN already sets it or d is not positive.
func setDefaultParam(cfg *pgxpool.Config, name string, d time.Duration) {
	if _, set := cfg.ConnConfig.RuntimeParams[name]; set || d <= 0 {
		return
	}
	cfg.ConnConfig.RuntimeParams[name] = strconv.FormatInt(d.Milliseconds(), 10)
}

// hasStatementTimeout reports whether the pool's connections get a
// statement_timeout or idle_in_transaction_session_timeout, which long
// calls then lift.
func hasStatementTimeout(cfg *pgxpool.Config) bool {
	for _, name := range []string{"statement_timeout", "idle_in_transaction_session_timeout"} {
		if v, ok := cfg.ConnConfig.RuntimeParams[name]; ok && v != "" && v != "0" {
			return true
		}
	}
	return false
}

// checkSchema fails with a clear message when the database was never
// migrated, or is behind the migrations this build carries.
func (s *Store) checkSchema(ctx context.Context) error {
	want, err := latestMigration()
	if err != nil {
		return err
	}
	ctx, cancel := s.callContext(ctx)
	defer cancel()
	var versioned bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&versioned); err != nil {
		return dbError(err, "connect to the database")
	}
	var have int64
	if versioned {
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&have); err != nil {
			return dbError(err, "read the schema version")
		}
	}
	switch {
	case have == 0:
		return zone.Errorf(zone.CodeUnavailable, "the database has no zoneplan schema: run `zoneplan migrate` first")
	case have < want:
		return zone.Errorf(zone.CodeUnavailable, "the database schema is at version %d, this build needs %d: run `zoneplan migrate`", have, want)
	case have > want:
		s.log.Warn("the database schema is newer than this build", "schema_version", have, "build_version", want)
	}
	return nil
}

// callContext bounds one short database call by the store's call timeout,
// or by ctx's own deadline when that is sooner.
func (s *Store) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.callTimeout <= 0 {
		return ctx, func() {}
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.callTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.callTimeout)
}

// call prepares one short database call, what being a phrase for messages
// ("read the token"). While the database is known unreachable it fails at
// once. Otherwise it returns ctx bounded by the call timeout and end, to be
// deferred with the address of the call's (zone) error: end releases the
// deadline and tells the prober of unavailability and of a full disk.
//
//	ctx, end, err := s.call(ctx, "read the token")
//	if err != nil {
//		return nil, err
//	}
//	defer end(&err)
func (s *Store) call(ctx context.Context, what string) (context.Context, func(*error), error) {
	if err := s.refuse(what); err != nil {
		return ctx, nil, err
	}
	cctx, cancel := s.callContext(ctx)
	// A call under way when the prober finds the database down ends then,
	// as the calls after it fail at once, rather than at its timeout.
	cctx, cancelOutage := context.WithCancel(cctx)
	stop := context.AfterFunc(s.health.calls(), cancelOutage)
	return cctx, func(errp *error) {
		stop()
		cancelOutage()
		cancel()
		s.observe(ctx, *errp)
	}, nil
}

// longCall is call for the long calls (a full listing, a count, the change
// feed, an import, pruning): the same, without the call timeout; their
// caller's context bounds them.
func (s *Store) longCall(ctx context.Context, what string) (context.Context, func(*error), error) {
	if err := s.refuse(what); err != nil {
		return ctx, nil, err
	}
	return ctx, func(errp *error) { s.observe(ctx, *errp) }, nil
}

// liftStatementTimeout lets the rest of a long call's transaction run past
// the pool's statement_timeout, and pause between statements (while its
// caller works through rows already received) past the idle-in-transaction
// limit: a long call is bounded by its caller's context. The long calls
// that run in the server (the index's full load and change feed reads,
// pruning) take no lock a writer waits for.
func (s *Store) liftStatementTimeout(ctx context.Context, tx pgx.Tx) error {
	if !s.liftStatements {
		return nil
	}
	_, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0`)
	return err
}

// Pool returns the store's connection pool, for read-only SQL other
// packages run directly (vector tiles with ST_AsMVT, say). Writes must go
// through the Store's methods, which keep versions and the change log.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database answers (CodeUnavailable when not) and
// has room for writes (CodeStorageFull while a write found its disk full
// and the prober has not found room since).
func (s *Store) Ping(ctx context.Context) (err error) {
	ctx, end, err := s.call(ctx, "reach the database")
	if err != nil {
		return err
	}
	defer end(&err)
	if err := s.pool.Ping(ctx); err != nil {
		return dbError(err, "reach the database")
	}
	if s.health.isFull() {
		return &zone.Error{Code: zone.CodeStorageFull, Message: "the database's disk is full"}
	}
	return nil
}

// Close stops the background pruning, ends every subscription (closing its
// channel) and closes every connection. It waits for running queries to
// finish.
func (s *Store) Close() error {
	s.closeOne.Do(func() {
		s.stop()
		s.wg.Wait()
		s.pool.Close()
	})
	return nil
}

func (s *Store) pruneLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		if _, err := s.PruneChanges(ctx, s.retention); err != nil && ctx.Err() == nil {
			s.log.Warn("pruning the change log failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
