package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/postgis"
)

// readOnlyConfig is serve's read instance settings (--read-only and the
// flags that go with it; docs/scale-out.md).
type readOnlyConfig struct {
	on bool
	// primaryURL is the write instance's base URL that refused writes name.
	primaryURL string
	// auditURL is the primary database, where the audit trail of this
	// instance's checks and reads is appended (a standby takes no writes).
	auditURL     string
	maxLag       time.Duration
	positionWait time.Duration
	maxWaiters   int
}

// validate checks the read instance's flags, sc being the store flags.
func (c readOnlyConfig) validate(sc storeConfig) error {
	if !c.on {
		return nil
	}
	switch {
	case sc.DatabaseURL == "":
		return exitError{code: 2, msg: "--read-only needs --database-url (or DATABASE_URL): a PostgreSQL hot standby"}
	case c.primaryURL == "":
		return exitError{code: 2, msg: "--read-only needs --primary-url: the write instance's address, which refused writes name"}
	case c.auditURL == "":
		return exitError{code: 2, msg: "--read-only needs --primary-database-url (or PRIMARY_DATABASE_URL): checks and reads of classified features are audited, and the audit trail is written only on the primary"}
	case c.maxLag <= 0 || c.positionWait <= 0:
		return exitError{code: 2, msg: "--max-replica-lag and --position-wait must be > 0"}
	case c.positionWait > httpapi.MaxPositionWait:
		return exitError{code: 2, msg: fmt.Sprintf("--position-wait %s is over %s: a waiting request holds a connection", c.positionWait, httpapi.MaxPositionWait)}
	case c.maxWaiters <= 0:
		return exitError{code: 2, msg: "--max-position-waiters must be > 0"}
	}
	u, err := url.Parse(c.primaryURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return exitError{code: 2, msg: fmt.Sprintf("--primary-url %q is not an http(s)://host[:port][/path] address", c.primaryURL)}
	}
	return nil
}

// openAuditPrimary opens the primary database of a read instance, for its
// audit trail, its token checks and the revocations it follows: no
// migrations (the write instances apply them), no change-log pruning
// (theirs too), a small pool (token checks are cached).
func openAuditPrimary(ctx context.Context, e *env, dsn string) (*postgis.Store, error) {
	opt := serverStoreOptions()
	opt.Logger = e.log.With("database", "primary (audit trail)")
	opt.ChangeRetention = -1
	opt.MaxConns = 4
	st, err := postgis.Open(ctx, dsn, opt)
	if err != nil {
		return nil, fmt.Errorf("--primary-database-url: %w", err)
	}
	return st, nil
}

// replicaOf adapts a standby store to what the HTTP server asks of a
// read instance's replica.
type replicaOf struct{ st *postgis.Store }

func (r replicaOf) ReplicaLag() (time.Duration, bool) {
	s := r.st.ReplicaStatus()
	return s.Lag, s.Known
}

func (r replicaOf) WaitReplayed(ctx context.Context, position uint64) (int64, error) {
	return r.st.WaitReplayed(ctx, postgis.Position(position))
}

// positionsOf adapts a primary store to what the HTTP server asks of a
// write instance: the log position after a write.
type positionsOf struct{ st *postgis.Store }

func (p positionsOf) WritePosition(ctx context.Context) (uint64, error) {
	pos, err := p.st.WritePosition(ctx)
	return uint64(pos), err
}
