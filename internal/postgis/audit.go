package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// auditAppendLockKey is the transaction advisory lock every append to
// audit_log takes first (migrations/00010_audit_trail.sql): appends from
// every instance on the database then seal one after the other, each on
// the last committed row.
const auditAppendLockKey int64 = 7318505613002

const auditColumns = `seq, id, at, action, actor_id, actor, role, actor_clearance, object, layer, classification, detail, prev_hash, hash`

// AppendAudit seals and inserts entries in one transaction, under the
// append lock: read the last row's seq and hash, seal each entry on it,
// COPY them in. Entries whose id is already stored are skipped, so an
// append retried after a commit whose answer was lost adds nothing twice:
// such a retry starts with the entries of the lost commit, so only when
// the first entry is stored are all looked up (and should another clash,
// the append is done again looking all up).
func (s *Store) AppendAudit(ctx context.Context, entries []zone.AuditEntry) (_ []zone.AuditEntry, err error) {
	if len(entries) == 0 {
		return nil, nil
	}
	ctx, end, err := s.call(ctx, "append to the audit trail")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	out, err := s.appendAudit(ctx, entries, false)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlUniqueViolation && pe.ConstraintName == "audit_log_id_key" {
		out, err = s.appendAudit(ctx, entries, true)
	}
	if err != nil {
		return nil, dbError(err, "append to the audit trail")
	}
	return out, nil
}

func (s *Store) appendAudit(ctx context.Context, entries []zone.AuditEntry, lookAll bool) ([]zone.AuditEntry, error) {
	var out []zone.AuditEntry
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditAppendLockKey); err != nil {
			return err
		}
		skip := map[[16]byte]bool{}
		if !lookAll {
			var first bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE id = $1)`, [16]byte(entries[0].ID)).Scan(&first); err != nil {
				return err
			}
			lookAll = first
		}
		if lookAll {
			ids := make([][16]byte, len(entries))
			for i, e := range entries {
				ids[i] = e.ID
			}
			rows, err := tx.Query(ctx, `SELECT id FROM audit_log WHERE id = ANY($1)`, ids)
			if err != nil {
				return err
			}
			stored, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte])
			if err != nil {
				return err
			}
			for _, id := range stored {
				skip[id] = true
			}
		}
		var seq int64
		var prev []byte
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		out = make([]zone.AuditEntry, 0, len(entries))
		copyRows := make([][]any, 0, len(entries))
		for _, e := range entries {
			if skip[e.ID] {
				continue
			}
			skip[e.ID] = true
			if err := audit.Seal(&e, seq, prev); err != nil {
				return zone.Errorf(zone.CodeInvalid, "%v", err)
			}
			seq, prev = e.Seq, e.Hash
			out = append(out, e)
			// Ids as [16]byte: pgx encodes them directly (uuid.UUID goes
			// through database/sql's Valuer, a string and an error each).
			copyRows = append(copyRows, []any{e.Seq, [16]byte(e.ID), e.Time, e.Action, [16]byte(e.ActorID), e.Actor, string(e.Role),
				int16(e.ActorClearance), e.Object, e.Layer, int16(e.Classification), string(e.Detail), e.Prev, e.Hash})
		}
		if len(copyRows) == 0 {
			return nil
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_log"}, auditCopyColumns(), pgx.CopyFromRows(copyRows))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// auditCopyColumns are auditColumns as COPY takes them.
func auditCopyColumns() []string {
	return strings.Split(strings.ReplaceAll(auditColumns, " ", ""), ",")
}

func scanAudit(row pgx.Row) (zone.AuditEntry, error) {
	var e zone.AuditEntry
	var role string
	var actorCl, cl int16
	var detail []byte
	var id, actorID [16]byte
	if err := row.Scan(&e.Seq, &id, &e.Time, &e.Action, &actorID, &e.Actor, &role, &actorCl, &e.Object, &e.Layer,
		&cl, &detail, &e.Prev, &e.Hash); err != nil {
		return e, err
	}
	e.ID, e.ActorID = id, actorID
	e.Time = e.Time.UTC()
	e.Role, e.ActorClearance, e.Classification = zone.Role(role), zone.Classification(actorCl), zone.Classification(cl)
	e.Detail = json.RawMessage(detail)
	return e, nil
}

// ListAudit returns the entries q selects, newest first.
func (s *Store) ListAudit(ctx context.Context, q zone.AuditQuery) (_ []zone.AuditEntry, err error) {
	ctx, end, err := s.call(ctx, "read the audit trail")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	where := []string{"classification <= $1"}
	args := []any{int16(q.Clearance)}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Before != uuid.Nil {
		var seq int64
		err := s.pool.QueryRow(ctx, `SELECT seq FROM audit_log WHERE id = $1`, [16]byte(q.Before)).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, zone.Errorf(zone.CodeInvalid, "no audit entry %s to continue from", q.Before)
		}
		if err != nil {
			return nil, dbError(err, "read the audit trail")
		}
		where = append(where, "seq < "+arg(seq))
	}
	if q.Actor != "" {
		if id, err := uuid.Parse(q.Actor); err == nil {
			where = append(where, "actor_id = "+arg([16]byte(id)))
		} else {
			where = append(where, "actor = "+arg(q.Actor))
		}
	}
	if q.Action != "" {
		if p, ok := strings.CutSuffix(q.Action, "*"); ok {
			where = append(where, "starts_with(action, "+arg(p)+")")
		} else {
			where = append(where, "action = "+arg(q.Action))
		}
		if q.Action != zone.AuditCheck {
			// Lets the planner use audit_log_action_idx, which leaves
			// checks out (they are most rows, and dense).
			where = append(where, "action <> 'check'")
		}
	}
	if q.Object != "" {
		where = append(where, "object = "+arg(q.Object))
	}
	if q.AfterSeq > 0 {
		where = append(where, "seq > "+arg(q.AfterSeq))
	}
	if !q.Since.IsZero() {
		where = append(where, "at >= "+arg(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "at < "+arg(q.Until))
	}
	sql := `SELECT ` + auditColumns + ` FROM audit_log WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq DESC`
	if q.Limit > 0 {
		sql += " LIMIT " + arg(q.Limit)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, dbError(err, "read the audit trail")
	}
	defer rows.Close()
	var out []zone.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, dbError(err, "read the audit trail")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "read the audit trail")
	}
	return out, nil
}

// ScanAudit streams the entries after seq after in chain order (a long
// call: bounded by ctx only).
func (s *Store) ScanAudit(ctx context.Context, after int64, fn func(zone.AuditEntry) error) (err error) {
	ctx, end, err := s.longCall(ctx, "read the audit trail")
	if err != nil {
		return err
	}
	defer end(&err)
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq > $1 ORDER BY seq`, after)
	if err != nil {
		return dbError(err, "read the audit trail")
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return dbError(err, "read the audit trail")
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbError(err, "read the audit trail")
	}
	return nil
}
