package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Master-plan jobs (zone.PlanStore), migration 00015: plans, plan_parcels
// and plan_parcel_views (one row per parcel and clearance).

const planColumns = `id, name, state, created_by, created_at, updated_at, file, format, crs, mapping,
	total, done, counts, error, ruleset_version`

func scanPlan(row pgx.Row) (*zone.Plan, error) {
	var p zone.Plan
	var mapping, counts []byte
	if err := row.Scan(&p.ID, &p.Name, &p.State, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt, &p.File, &p.Format, &p.CRS,
		&mapping, &p.Total, &p.Done, &counts, &p.Error, &p.RulesetVersion); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if len(mapping) > 0 {
		if err := json.Unmarshal(mapping, &p.Mapping); err != nil {
			return nil, err
		}
		if len(p.Mapping) == 0 {
			p.Mapping = nil
		}
	}
	c, err := zone.ParsePlanCounts(counts)
	if err != nil {
		return nil, err
	}
	p.Counts = c
	return &p, nil
}

func planNotFound(id uuid.UUID) error {
	return zone.Errorf(zone.CodeNotFound, "plan %s not found", id)
}

// CreatePlan stores a job and its parcels (COPY through a temporary table,
// as imports do), unchecked, in one transaction.
func (s *Store) CreatePlan(ctx context.Context, p *zone.Plan, parcels []zone.PlanParcel) (_ *zone.Plan, err error) {
	if p == nil || strings.TrimSpace(p.Name) == "" {
		return nil, zone.Errorf(zone.CodeInvalid, "a plan needs a name")
	}
	if len(parcels) == 0 {
		return nil, zone.Errorf(zone.CodeInvalid, "a plan needs at least one parcel")
	}
	out := *p
	if out.ID == uuid.Nil {
		out.ID = uuid.New()
	}
	rows := make([][]any, len(parcels))
	for i := range parcels {
		pc := &parcels[i]
		if pc.Geometry == nil {
			return nil, zone.Errorf(zone.CodeInvalid, "parcel %d has no geometry", i)
		}
		g, err := wkb.Marshal(pc.Geometry)
		if err != nil {
			return nil, zone.Errorf(zone.CodeInvalid, "parcel %d: %v", i, err)
		}
		props := pc.Properties
		if props == nil {
			props = map[string]any{}
		}
		pj, err := json.Marshal(props)
		if err != nil {
			return nil, zone.Errorf(zone.CodeInvalid, "parcel %d: %v", i, err)
		}
		rows[i] = []any{int32(i), pc.Name, string(pj), g}
	}
	mapping, err := json.Marshal(out.Mapping)
	if err != nil {
		return nil, zone.Errorf(zone.CodeInvalid, "plan mapping: %v", err)
	}
	if out.Mapping == nil {
		mapping = []byte(`{}`)
	}
	ctx, end, err := s.longCall(ctx, "store the plan")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	var created *zone.Plan
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO plans (id, name, state, created_by, file, format, crs, mapping, total, counts)
			VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb)`,
			out.ID, out.Name, out.CreatedBy, out.File, out.Format, out.CRS, string(mapping), len(parcels),
			string(zone.PlanCountsJSON(out.Counts))); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE plan_import (seq integer, name text, properties jsonb, wkb bytea) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"plan_import"}, []string{"seq", "name", "properties", "wkb"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO plan_parcels (plan_id, seq, name, properties, geom)
			SELECT $1, seq, name, properties, ST_GeomFromWKB(wkb, 4326) FROM plan_import`, out.ID); err != nil {
			return err
		}
		var err error
		created, err = scanPlan(tx.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, out.ID))
		return err
	})
	if err != nil {
		return nil, dbError(err, "store the plan")
	}
	return created, nil
}

// GetPlan returns one job.
func (s *Store) GetPlan(ctx context.Context, id uuid.UUID) (_ *zone.Plan, err error) {
	ctx, end, err := s.call(ctx, "read the plan")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	p, err := scanPlan(s.pool.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, planNotFound(id)
	}
	if err != nil {
		return nil, dbError(err, "read the plan")
	}
	return p, nil
}

// ListPlans returns jobs newest first.
func (s *Store) ListPlans(ctx context.Context, createdBy string, states ...string) (_ []zone.Plan, err error) {
	ctx, end, err := s.call(ctx, "list the plans")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	if states == nil {
		states = []string{}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+planColumns+` FROM plans
		WHERE ($1 = '' OR created_by = $1) AND (cardinality($2::text[]) = 0 OR state = ANY($2))
		ORDER BY created_at DESC, id DESC`, createdBy, states)
	if err != nil {
		return nil, dbError(err, "list the plans")
	}
	defer rows.Close()
	var out []zone.Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, dbError(err, "list the plans")
		}
		out = append(out, *p)
	}
	return out, dbError(rows.Err(), "list the plans")
}

// SetPlanState moves a job to state; a cancelled job stays cancelled.
func (s *Store) SetPlanState(ctx context.Context, id uuid.UUID, state, errText string) (_ *zone.Plan, err error) {
	switch state {
	case zone.PlanQueued, zone.PlanRunning, zone.PlanDone, zone.PlanCancelled, zone.PlanFailed:
	default:
		return nil, zone.Errorf(zone.CodeInvalid, "unknown plan state %q", state)
	}
	ctx, end, err := s.call(ctx, "update the plan")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	p, err := scanPlan(s.pool.QueryRow(ctx, `UPDATE plans SET state = $2, error = $3, updated_at = now()
		WHERE id = $1 AND (state <> 'cancelled' OR $2 = 'cancelled') RETURNING `+planColumns, id, state, errText))
	if errors.Is(err, pgx.ErrNoRows) {
		var st string
		if err := s.pool.QueryRow(ctx, `SELECT state FROM plans WHERE id = $1`, id).Scan(&st); errors.Is(err, pgx.ErrNoRows) {
			return nil, planNotFound(id)
		} else if err != nil {
			return nil, dbError(err, "update the plan")
		}
		return nil, zone.Errorf(zone.CodeConflict, "plan %s was cancelled", id)
	}
	if err != nil {
		return nil, dbError(err, "update the plan")
	}
	return p, nil
}

// SaveParcelResults stores parcels' checks and moves the job's progress in
// one transaction: the job's row is locked first, so concurrent batches
// of one job count in turn.
func (s *Store) SaveParcelResults(ctx context.Context, id uuid.UUID, rulesetVersion string, rs []zone.ParcelResult) (err error) {
	if len(rs) == 0 {
		return nil
	}
	n := len(rs) * zone.Levels
	cls, seqs, verdicts, results, reasons, ats := make([]int16, 0, n), make([]int32, 0, n), make([]string, 0, n),
		make([]string, 0, n), make([]string, 0, n), make([]time.Time, 0, n)
	parcelSeqs := make([]int32, 0, len(rs))
	for _, r := range rs {
		for _, cl := range zone.Classifications() {
			v := r.Views[cl]
			if v.Verdict == "" || !json.Valid(v.Result) {
				return zone.Errorf(zone.CodeInvalid, "parcel %d: the %s view of its check is missing or not JSON", r.Seq, cl)
			}
			cls, seqs, verdicts = append(cls, int16(cl)), append(seqs, int32(r.Seq)), append(verdicts, v.Verdict)
			results, reasons, ats = append(results, string(v.Result)), append(reasons, r.Reason), append(ats, r.At.UTC())
		}
		parcelSeqs = append(parcelSeqs, int32(r.Seq))
	}
	ctx, end, err := s.call(ctx, "store the parcels' checks")
	if err != nil {
		return err
	}
	defer end(&err)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var countsJSON []byte
		var done int
		if err := tx.QueryRow(ctx, `SELECT counts, done FROM plans WHERE id = $1 FOR UPDATE`, id).Scan(&countsJSON, &done); errors.Is(err, pgx.ErrNoRows) {
			return planNotFound(id)
		} else if err != nil {
			return err
		}
		counts, err := zone.ParsePlanCounts(countsJSON)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT clearance, seq, verdict FROM plan_parcel_views WHERE plan_id = $1 AND seq = ANY($2)`, id, parcelSeqs)
		if err != nil {
			return err
		}
		checkedBefore := map[int32]bool{}
		for rows.Next() {
			var cl int16
			var seq int32
			var v string
			if err := rows.Scan(&cl, &seq, &v); err != nil {
				rows.Close()
				return err
			}
			if cl == int16(zone.Secret) {
				checkedBefore[seq] = true
			}
			if int(cl) < zone.Levels {
				if counts[cl][v]--; counts[cl][v] <= 0 {
					delete(counts[cl], v)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE plan_parcels SET checked = true WHERE plan_id = $1 AND seq = ANY($2)`, id, parcelSeqs)
		if err != nil {
			return err
		}
		seen := distinct(parcelSeqs)
		if int(tag.RowsAffected()) != len(seen) {
			return zone.Errorf(zone.CodeNotFound, "plan %s lacks some of the parcels checked", id)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO plan_parcel_views (plan_id, clearance, seq, verdict, result, reason, at)
			SELECT $1, u.cl, u.seq, u.verdict, u.result::jsonb, u.reason, u.at
			FROM unnest($2::smallint[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
			  AS u(cl, seq, verdict, result, reason, at)
			ON CONFLICT (plan_id, clearance, seq) DO UPDATE
			SET verdict = excluded.verdict, result = excluded.result, reason = excluded.reason, at = excluded.at`,
			id, cls, seqs, verdicts, results, reasons, ats); err != nil {
			return err
		}
		for i := range cls {
			counts[cls[i]][verdicts[i]]++
		}
		for seq := range seen {
			if !checkedBefore[seq] {
				done++
			}
		}
		_, err = tx.Exec(ctx, `UPDATE plans SET counts = $2::jsonb, done = $3,
			ruleset_version = CASE WHEN $4 = '' THEN ruleset_version ELSE $4 END,
			updated_at = CASE WHEN done = $3 THEN updated_at ELSE now() END WHERE id = $1`,
			id, string(zone.PlanCountsJSON(counts)), done, rulesetVersion)
		return err
	})
	return dbError(err, "store the parcels' checks")
}

func distinct(v []int32) map[int32]struct{} {
	m := make(map[int32]struct{}, len(v))
	for _, x := range v {
		m[x] = struct{}{}
	}
	return m
}

// ListParcels streams a job's parcels in order, each with the reader's view.
func (s *Store) ListParcels(ctx context.Context, id uuid.UUID, q zone.ParcelQuery, fn func(*zone.PlanParcel) error) (err error) {
	cl := zone.Classification(level(q.Clearance))
	ctx, end, err := s.longCall(ctx, "list the plan's parcels")
	if err != nil {
		return err
	}
	defer end(&err)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM plans WHERE id = $1`, id).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return planNotFound(id)
		} else if err != nil {
			return err
		}
		args := []any{id, int16(cl), int32(max(q.FromSeq, 0))}
		where := []string{"p.plan_id = $1", "p.seq >= $3"}
		if q.Unchecked {
			where = append(where, "NOT p.checked")
		}
		if q.Verdict != "" {
			args = append(args, q.Verdict)
			where = append(where, "v.verdict = $"+strconv.Itoa(len(args)))
		}
		if b := q.Bound; b != nil {
			args = append(args, b.Min[0], b.Min[1], b.Max[0], b.Max[1])
			n := len(args)
			where = append(where, "p.geom && ST_MakeEnvelope($"+strconv.Itoa(n-3)+", $"+strconv.Itoa(n-2)+", $"+strconv.Itoa(n-1)+", $"+strconv.Itoa(n)+", 4326)")
		}
		sql := `SELECT p.seq, p.name, p.properties, ST_AsBinary(p.geom), v.verdict, v.result, v.reason, v.at
			FROM plan_parcels p
			LEFT JOIN plan_parcel_views v ON v.plan_id = p.plan_id AND v.clearance = $2 AND v.seq = p.seq
			WHERE ` + strings.Join(where, " AND ") + ` ORDER BY p.seq`
		if q.Limit > 0 {
			args = append(args, q.Limit)
			sql += " LIMIT $" + strconv.Itoa(len(args))
		}
		if q.Offset > 0 {
			args = append(args, q.Offset)
			sql += " OFFSET $" + strconv.Itoa(len(args))
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				seq      int32
				name     string
				props, g []byte
				verdict  *string
				result   []byte
				reason   *string
				at       *time.Time
			)
			if err := rows.Scan(&seq, &name, &props, &g, &verdict, &result, &reason, &at); err != nil {
				return err
			}
			pc := &zone.PlanParcel{PlanID: id, Seq: int(seq), Name: name}
			if err := json.Unmarshal(props, &pc.Properties); err != nil {
				return err
			}
			if pc.Geometry, err = wkb.Unmarshal(g); err != nil {
				return err
			}
			if verdict != nil {
				pc.Checked, pc.Reason = true, deref(reason)
				if at != nil {
					pc.CheckedAt = at.UTC()
				}
				pc.Views[cl] = zone.CheckView{Verdict: *verdict, Result: json.RawMessage(result)}
			}
			if err := fn(pc); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return dbError(err, "list the plan's parcels")
}

// DeletePlan removes a job and everything of it.
func (s *Store) DeletePlan(ctx context.Context, id uuid.UUID) (err error) {
	ctx, end, err := s.call(ctx, "delete the plan")
	if err != nil {
		return err
	}
	defer end(&err)
	tag, err := s.pool.Exec(ctx, `DELETE FROM plans WHERE id = $1`, id)
	if err != nil {
		return dbError(err, "delete the plan")
	}
	if tag.RowsAffected() == 0 {
		return planNotFound(id)
	}
	return nil
}
