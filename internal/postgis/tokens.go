package postgis

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/zoneplan/zoneplan/internal/zone"
)

const tokenColumns = `id, name, role, clearance, hash, created_at, expires_at, revoked_at, person, title`

func scanToken(row pgx.Row) (*zone.Token, error) {
	var t zone.Token
	var role string
	var clearance int16
	if err := row.Scan(&t.ID, &t.Name, &role, &clearance, &t.Hash, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.Person, &t.Title); err != nil {
		return nil, err
	}
	t.Role, t.Clearance = zone.Role(role), zone.Classification(clearance)
	t.CreatedAt = t.CreatedAt.UTC()
	if t.ExpiresAt != nil {
		u := t.ExpiresAt.UTC()
		t.ExpiresAt = &u
	}
	if t.RevokedAt != nil {
		u := t.RevokedAt.UTC()
		t.RevokedAt = &u
	}
	return &t, nil
}

// CreateToken stores a token, assigning its id and creation time when they
// are zero. A secret hash in use is a conflict.
func (s *Store) CreateToken(ctx context.Context, t *zone.Token) (err error) {
	switch {
	case !t.Role.Valid():
		return zone.Errorf(zone.CodeInvalid, "token role %q is not a known role", t.Role)
	case !t.Clearance.Valid():
		return zone.Errorf(zone.CodeInvalid, "token clearance %d is not a classification", int(t.Clearance))
	case len(t.Hash) == 0:
		return zone.Errorf(zone.CodeInvalid, "token has no secret hash")
	case !utf8.ValidString(t.Name) || !utf8.ValidString(t.Person) || !utf8.ValidString(t.Title):
		return zone.Errorf(zone.CodeInvalid, "token name, person or title is not valid UTF-8")
	}
	if t.ID == uuid.Nil {
		t.ID = uuid.New()
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	ctx, end, err := s.call(ctx, "store the token")
	if err != nil {
		return err
	}
	defer end(&err)
	_, err = s.pool.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, t.Name, string(t.Role), int16(t.Clearance), t.Hash, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.Person, t.Title)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlUniqueViolation {
		if pe.ConstraintName == "tokens_hash_key" {
			return &zone.Error{Code: zone.CodeConflict, Message: "a token with this secret already exists", Err: err}
		}
		return &zone.Error{Code: zone.CodeConflict, Message: "token " + t.ID.String() + " already exists", Err: err}
	}
	return dbError(err, "store the token")
}

// TokenByHash returns the token whose secret has the given SHA-256 hash,
// revoked and expired ones included.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (_ *zone.Token, err error) {
	ctx, end, err := s.call(ctx, "read the token")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, zone.Errorf(zone.CodeNotFound, "no such token")
	}
	if err != nil {
		return nil, dbError(err, "read the token")
	}
	return t, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) (_ []zone.Token, err error) {
	ctx, end, err := s.call(ctx, "list tokens")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, dbError(err, "list tokens")
	}
	defer rows.Close()
	var out []zone.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, dbError(err, "list tokens")
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "list tokens")
	}
	return out, nil
}

// RevokeToken marks a token revoked at the given time (a token revoked
// before keeps its first revocation time).
func (s *Store) RevokeToken(ctx context.Context, id uuid.UUID, at time.Time) (err error) {
	ctx, end, err := s.call(ctx, "revoke the token")
	if err != nil {
		return err
	}
	defer end(&err)
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, at)
	if err != nil {
		return dbError(err, "revoke the token")
	}
	if tag.RowsAffected() == 0 {
		return zone.Errorf(zone.CodeNotFound, "token %s not found", id)
	}
	return nil
}

// tokensChannel is the NOTIFY channel the tokens trigger signals a
// revocation on, with the token's id as payload
// (migrations/00009_token_revocations.sql).
const tokensChannel = "zoneplan_tokens"

// WatchRevocations listens on the zoneplan_tokens channel on a connection
// of its own: every token revoked (or deleted) after it returns, through
// any server instance, the CLI or psql, is sent on the channel. The channel
// is closed when ctx ends, when the store closes, and when the connection
// is lost (revocations may then go unheard: the caller distrusts what it
// cached and watches again). On a standby (Options.Standby) it reads the
// token_revocations table by position instead, a table replicating where
// NOTIFY does not.
func (s *Store) WatchRevocations(ctx context.Context) (<-chan uuid.UUID, error) {
	if s.bg.Err() != nil {
		return nil, zone.Errorf(zone.CodeUnavailable, "the store is closed")
	}
	if err := s.refuse("watch token revocations"); err != nil {
		return nil, err
	}
	if s.standby != nil {
		return s.watchRevocationsStandby(ctx)
	}
	conn, err := s.listen(ctx, tokensChannel)
	if err != nil {
		return nil, dbError(err, "watch token revocations")
	}
	ctx, cancel := context.WithCancel(ctx)
	stopWithStore := context.AfterFunc(s.bg, cancel)
	out := make(chan uuid.UUID, 16)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer stopWithStore()
		defer cancel()
		defer close(out)
		defer closeConn(conn)
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("token revocation feed lost its connection", "err", err)
				}
				return
			}
			id, err := uuid.Parse(n.Payload)
			if err != nil {
				// Some token changed, but which is unknown: end the feed,
				// so the caller distrusts every token it cached.
				s.log.Warn("token revocation feed: unreadable notification; ending the feed", "payload", n.Payload)
				return
			}
			select {
			case out <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
