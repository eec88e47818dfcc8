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
	"github.com/zoneplan/zoneplan/internal/zone"
)

var _ zone.AppraisalImpact = (*Store)(nil)

// staleColumns selects an appraisal's stale mark as a reader of clearance
// cl sees it (arrays are indexed from 1).
func staleColumns(cl zone.Classification) string {
	n := strconv.Itoa(level(cl) + 1)
	return `stale_reasons[` + n + `], stale_since[` + n + `], stale_rechecked[` + n + `], stale_worse[` + n + `]`
}

// scanStale builds the mark from staleColumns' values.
func scanStale(reason *string, since *time.Time, rechecked, worse *bool) *zone.StaleMark {
	if reason == nil {
		return nil
	}
	m := &zone.StaleMark{Reason: *reason, Rechecked: rechecked != nil && *rechecked, Worse: worse != nil && *worse}
	if since != nil {
		m.Since = since.UTC()
	}
	return m
}

// MarkStale marks the appraisals the impact reaches, every level in one
// UPDATE (each row written once). A level's area is matched against the
// project sites' boxes with the geometry index, one probe per box, once
// (an uncorrelated subquery). It is a long call: a rule-set change marks
// every appraisal; the caller's context bounds it.
func (s *Store) MarkStale(ctx context.Context, im zone.Impact) (_ int, err error) {
	if im.Empty() {
		return 0, nil
	}
	ctx, end, err := s.longCall(ctx, "mark appraisals stale")
	if err != nil {
		return 0, err
	}
	defer end(&err)
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	hits := make([]string, zone.Levels)
	var reasons, since, rechecked, anyHit []string
	for cl, l := range im {
		n := strconv.Itoa(cl + 1)
		switch {
		case l.All:
			hits[cl] = "true"
		case l.Empty():
			hits[cl] = "false"
		default:
			x0, y0, x1, y1 := make([]float64, len(l.Area)), make([]float64, len(l.Area)), make([]float64, len(l.Area)), make([]float64, len(l.Area))
			for i, b := range l.Area {
				x0[i], y0[i], x1[i], y1[i] = b.Min[0], b.Min[1], b.Max[0], b.Max[1]
			}
			hits[cl] = `a.site_id IN (SELECT c.id
				FROM unnest(` + param(x0) + `::float8[], ` + param(y0) + `::float8[], ` + param(x1) + `::float8[], ` + param(y1) + `::float8[]) AS b(x0, y0, x1, y1)
				JOIN components c ON c.geom && ST_MakeEnvelope(b.x0, b.y0, b.x1, b.y1, 4326)
				WHERE c.layer = ` + param(zone.LayerProjectSites) + `)`
		}
		h := "h.h" + n
		reasons = append(reasons, `CASE WHEN `+h+` THEN `+param(l.Reason)+`::text ELSE a.stale_reasons[`+n+`] END`)
		since = append(since, `CASE WHEN `+h+` THEN now() ELSE a.stale_since[`+n+`] END`)
		rechecked = append(rechecked, `CASE WHEN `+h+` THEN false ELSE a.stale_rechecked[`+n+`] END`)
		anyHit = append(anyHit, h)
	}
	sql := `WITH hit AS (SELECT a.id, ` + hits[0] + ` AS h1, ` + hits[1] + ` AS h2, ` + hits[2] + ` AS h3, ` + hits[3] + ` AS h4 FROM appraisals a)
		UPDATE appraisals a SET stale_reasons = ARRAY[` + strings.Join(reasons, ", ") + `],
			stale_since = ARRAY[` + strings.Join(since, ", ") + `]::timestamptz[],
			stale_rechecked = ARRAY[` + strings.Join(rechecked, ", ") + `],
			stale_gen = a.stale_gen + 1, recheck_pending = true
		FROM hit h WHERE a.id = h.id AND (` + strings.Join(anyHit, " OR ") + `)`
	var marked int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, sql, args...)
		marked = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, dbError(err, "mark appraisals stale")
	}
	return int(marked), nil
}

// StaleAppraisals lists appraisals awaiting their re-check, oldest first.
func (s *Store) StaleAppraisals(ctx context.Context, limit int) (_ []zone.StaleAppraisal, err error) {
	ctx, end, err := s.call(ctx, "list stale appraisals")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, site_id, status, stale_gen FROM appraisals WHERE recheck_pending ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, dbError(err, "list stale appraisals")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (zone.StaleAppraisal, error) {
		var a zone.StaleAppraisal
		err := r.Scan(&a.ID, &a.SiteID, &a.Status, &a.Gen)
		return a, err
	})
	if err != nil {
		return nil, dbError(err, "list stale appraisals")
	}
	return out, nil
}

// marks is an appraisal's stale marks, all levels, as stored.
type marks struct {
	reasons   []*string
	since     []*time.Time
	rechecked []bool
	worse     []bool
	gen       int64
}

// lockMarks reads an appraisal's marks and site for update.
func lockMarks(ctx context.Context, tx pgx.Tx, id uuid.UUID) (marks, uuid.UUID, error) {
	var m marks
	var site uuid.UUID
	err := tx.QueryRow(ctx, `SELECT stale_reasons, stale_since, stale_rechecked, stale_worse, stale_gen, site_id
		FROM appraisals WHERE id = $1 FOR UPDATE`, id).Scan(&m.reasons, &m.since, &m.rechecked, &m.worse, &m.gen, &site)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, site, zone.Errorf(zone.CodeNotFound, "appraisal %s not found", id)
	}
	if err != nil {
		return m, site, err
	}
	// Arrays written by another tool may be short: pad them.
	for len(m.reasons) < zone.Levels {
		m.reasons = append(m.reasons, nil)
	}
	for len(m.since) < zone.Levels {
		m.since = append(m.since, nil)
	}
	for len(m.rechecked) < zone.Levels {
		m.rechecked = append(m.rechecked, false)
	}
	for len(m.worse) < zone.Levels {
		m.worse = append(m.worse, false)
	}
	return m, site, nil
}

// pending is the marks not yet re-checked, by level.
func (m *marks) pending() [zone.Levels]*zone.StaleMark {
	var out [zone.Levels]*zone.StaleMark
	for l := range zone.Levels {
		if m.reasons[l] != nil && !m.rechecked[l] {
			out[l] = &zone.StaleMark{Reason: *m.reasons[l]}
		}
	}
	return out
}

// clear drops the marks of every level (keepWorse: but those whose re-check
// made the verdict worse).
func (m *marks) clear(keepWorse bool) {
	for l := range zone.Levels {
		if keepWorse && m.worse[l] {
			m.rechecked[l] = true
			continue
		}
		m.reasons[l], m.since[l], m.rechecked[l], m.worse[l] = nil, nil, false, false
	}
}

func (m *marks) write(ctx context.Context, tx pgx.Tx, id uuid.UUID, pending bool) error {
	_, err := tx.Exec(ctx, `UPDATE appraisals SET stale_reasons = $2, stale_since = $3, stale_rechecked = $4,
		stale_worse = $5, recheck_pending = $6 WHERE id = $1`, id, m.reasons, m.since, m.rechecked, m.worse, pending)
	return err
}

// latestViews reads the views of an appraisal's latest record; a level
// without its view (a record from before views were kept) is left empty.
func latestViews(ctx context.Context, tx pgx.Tx, id uuid.UUID) ([zone.Levels]zone.CheckView, error) {
	var out [zone.Levels]zone.CheckView
	var verdicts []string
	var pub, internal, restricted *string
	var full string
	err := tx.QueryRow(ctx, `SELECT verdicts, view_public::text, view_internal::text, view_restricted::text, result::text
		FROM check_records WHERE appraisal_id = $1 ORDER BY seq DESC LIMIT 1`, id).Scan(&verdicts, &pub, &internal, &restricted, &full)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, zone.Errorf(zone.CodeNotFound, "appraisal %s has no check", id)
	}
	if err != nil {
		return out, err
	}
	if len(verdicts) != zone.Levels {
		return out, nil
	}
	for l, r := range []*string{pub, internal, restricted, &full} {
		if r != nil {
			out[l] = zone.CheckView{Verdict: verdicts[l], Result: []byte(*r)}
		}
	}
	return out, nil
}

// AddRecheck writes a background re-check record (see zone.AppraisalImpact).
func (s *Store) AddRecheck(ctx context.Context, rec zone.CheckRecord, gen int64) (_ zone.Recheck, err error) {
	ctx, end, err := s.call(ctx, "add the re-check")
	if err != nil {
		return zone.Recheck{}, err
	}
	defer end(&err)
	rec, err = withViews(rec)
	if err != nil {
		return zone.Recheck{}, err
	}
	var plan zone.Recheck
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		m, siteID, err := lockMarks(ctx, tx, rec.AppraisalID)
		if err != nil {
			return err
		}
		prev, err := latestViews(ctx, tx, rec.AppraisalID)
		if err != nil {
			return err
		}
		if plan, err = zone.PlanRecheck(prev, rec.Views, m.pending()); err != nil {
			return err
		}
		rec.Recheck = true
		if err := insertCheck(ctx, tx, rec, &plan); err != nil {
			return err
		}
		now := time.Now()
		for l := range zone.Levels {
			if !plan.Shown[l] {
				continue
			}
			if m.reasons[l] == nil { // shown for a changed view without a mark
				r := plan.Reasons[l]
				m.reasons[l], m.since[l] = &r, &now
			}
			m.rechecked[l] = m.gen == gen || m.rechecked[l]
			m.worse[l] = m.worse[l] || plan.Worse[l]
		}
		if err := m.write(ctx, tx, rec.AppraisalID, m.gen != gen); err != nil {
			return err
		}
		touch := ""
		if plan.AllShown() {
			touch = `, updated_at = now()`
		}
		if _, err := tx.Exec(ctx, `UPDATE appraisals SET verdict = $2, verdicts = $3`+touch+` WHERE id = $1`,
			rec.AppraisalID, rec.Verdict, verdictArray(rec.Views)); err != nil {
			return err
		}
		if !plan.AllShown() {
			return nil
		}
		props := map[string]any{zone.PropVerdict: rec.Views[zone.Public].Verdict, zone.PropVerdicts: zone.SiteVerdicts(rec.Views)}
		return setSiteProperties(ctx, tx, siteID, props, rec.CreatedBy)
	})
	if err != nil {
		return zone.Recheck{}, dbError(err, "add the re-check")
	}
	return plan, nil
}

// recheckColumns are the values of a re-check record's shown, reasons and
// diffs columns (all NULL for a record people made).
func recheckColumns(plan *zone.Recheck) (shown []bool, reasons []*string, diffs []*string, err error) {
	if plan == nil {
		return nil, nil, nil, nil
	}
	shown = plan.Shown[:]
	reasons, diffs = make([]*string, zone.Levels), make([]*string, zone.Levels)
	for l := range zone.Levels {
		if !plan.Shown[l] {
			continue
		}
		r := plan.Reasons[l]
		reasons[l] = &r
		if d := plan.Diffs[l]; d != nil {
			b, err := json.Marshal(d)
			if err != nil {
				return nil, nil, nil, err
			}
			s := string(b)
			diffs[l] = &s
		}
	}
	return shown, reasons, diffs, nil
}
