package postgis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/zoneplan/zoneplan/internal/zone"
)

const appraisalColumns = `id, site_id, name, status, verdict, created_by, created_at, updated_at,
	decision_outcome, decision_note, decision_by, decision_at`

func scanAppraisal(row pgx.Row) (*zone.Appraisal, error) {
	var a zone.Appraisal
	var outcome, note, by *string
	var at *time.Time
	if err := row.Scan(&a.ID, &a.SiteID, &a.Name, &a.Status, &a.Verdict, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt,
		&outcome, &note, &by, &at); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	if outcome != nil && at != nil {
		a.Decision = &zone.Decision{Outcome: *outcome, Note: deref(note), By: deref(by), At: at.UTC()}
	}
	return &a, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// projectSiteEnum returns the allowed values of a project-site property, from
// the layer registry.
func projectSiteEnum(prop string) []string {
	l, _ := zone.LookupLayer(zone.LayerProjectSites)
	spec, _ := l.Property(prop)
	return spec.Enum
}

func checkVerdict(v string) error {
	if allowed := projectSiteEnum(zone.PropVerdict); !slices.Contains(allowed, v) {
		return zone.Errorf(zone.CodeInvalid, "verdict %q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return nil
}

// CreateAppraisal stores the project site (layer project_sites), the
// appraisal and its first check in one transaction. The site's verdict and
// status properties are set from the check and the appraisal.
func (s *Store) CreateAppraisal(ctx context.Context, a *zone.Appraisal, site *zone.Component, first zone.CheckRecord) (*zone.Appraisal, error) {
	if a == nil || site == nil {
		return nil, zone.Errorf(zone.CodeInvalid, "an appraisal needs its record and its project site")
	}
	out := *a
	out.Checks, out.Decision = nil, nil
	if out.Status == "" {
		out.Status = zone.StatusPending
	}
	if allowed := projectSiteEnum(zone.PropStatus); !slices.Contains(allowed, out.Status) {
		return nil, zone.Errorf(zone.CodeInvalid, "appraisal status %q is not one of %s", out.Status, strings.Join(allowed, ", "))
	}
	if err := checkVerdict(first.Verdict); err != nil {
		return nil, err
	}
	if strings.TrimSpace(out.Name) == "" {
		return nil, zone.Errorf(zone.CodeInvalid, "appraisal name is required")
	}
	sc := site.Clone()
	if sc.Layer == "" {
		sc.Layer = zone.LayerProjectSites
	}
	if sc.Layer != zone.LayerProjectSites {
		return nil, zone.Errorf(zone.CodeInvalid, "a project site belongs to layer %s, not %s", zone.LayerProjectSites, sc.Layer)
	}
	if sc.Properties == nil {
		sc.Properties = map[string]any{}
	}
	sc.Properties[zone.PropVerdict] = first.Verdict
	sc.Properties[zone.PropStatus] = out.Status
	sc, err := validated(sc)
	if err != nil {
		return nil, err
	}
	if sc.ID == uuid.Nil {
		sc.ID = uuid.New()
	}
	v, err := valuesOf(sc)
	if err != nil {
		return nil, err
	}
	if out.ID == uuid.Nil {
		out.ID = uuid.New()
	}
	out.SiteID = sc.ID
	out.Verdict = first.Verdict
	first.AppraisalID = out.ID
	if first.CreatedBy == "" {
		first.CreatedBy = out.CreatedBy
	}
	var created *zone.Appraisal
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO components
			(id, layer, kind, name, code, function_type, "group", classification, properties, synthetic,
			 version, created_at, updated_at, created_by, updated_by, geom)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, 1, now(), now(), $11, $11, ST_GeomFromWKB($12, 4326))`,
			sc.ID, sc.Layer, sc.Kind, sc.Name, v.code, string(sc.FunctionType), string(sc.Group), int16(sc.Classification),
			v.properties, sc.Synthetic, out.CreatedBy, v.geom); err != nil {
			return writeError(err, sc, "store the project site")
		}
		if err := insertZones(ctx, tx, sc.ID, v.zones); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO appraisals (id, site_id, name, name_folded, status, verdict, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			out.ID, out.SiteID, out.Name, strings.ToLower(out.Name), out.Status, out.Verdict, out.CreatedBy); err != nil {
			return err
		}
		if err := insertCheck(ctx, tx, first); err != nil {
			return err
		}
		var err error
		created, err = getAppraisal(ctx, tx, out.ID)
		return err
	})
	if err != nil {
		return nil, dbError(err, "store the appraisal")
	}
	return created, nil
}

// insertCheck writes one check record; its id and time default to new ones.
func insertCheck(ctx context.Context, tx pgx.Tx, rec zone.CheckRecord) error {
	if rec.ID == uuid.Nil {
		rec.ID = uuid.New()
	}
	result := string(rec.Result)
	if len(rec.Result) == 0 {
		result = "null"
	}
	var at *time.Time
	if !rec.CreatedAt.IsZero() {
		at = &rec.CreatedAt
	}
	_, err := tx.Exec(ctx, `INSERT INTO check_records
		(id, appraisal_id, created_at, created_by, verdict, ruleset_version, data_version, result)
		VALUES ($1, $2, coalesce($3, now()), $4, $5, $6, $7, $8::json)`,
		rec.ID, rec.AppraisalID, at, rec.CreatedBy, rec.Verdict, rec.RulesetVersion, rec.DataVersion, result)
	return err
}

// getAppraisal reads an appraisal and its checks, newest first.
func getAppraisal(ctx context.Context, q pgx.Tx, id uuid.UUID) (*zone.Appraisal, error) {
	a, err := scanAppraisal(q.QueryRow(ctx, `SELECT `+appraisalColumns+` FROM appraisals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, zone.Errorf(zone.CodeNotFound, "appraisal %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, appraisal_id, created_at, created_by, verdict, ruleset_version, data_version, result::text
		FROM check_records WHERE appraisal_id = $1 ORDER BY seq DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c zone.CheckRecord
		var result string
		if err := rows.Scan(&c.ID, &c.AppraisalID, &c.CreatedAt, &c.CreatedBy, &c.Verdict, &c.RulesetVersion, &c.DataVersion, &result); err != nil {
			return nil, err
		}
		c.CreatedAt = c.CreatedAt.UTC()
		c.Result = []byte(result)
		a.Checks = append(a.Checks, c)
	}
	return a, rows.Err()
}

// GetAppraisal returns an appraisal with its checks, newest first.
func (s *Store) GetAppraisal(ctx context.Context, id uuid.UUID) (*zone.Appraisal, error) {
	var a *zone.Appraisal
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		a, err = getAppraisal(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, dbError(err, "read the appraisal")
	}
	return a, nil
}

// setSiteProperty sets one property of an appraisal's project site as a
// change of the site (version + 1, so followers and editors see it). A site
// deleted meanwhile is left alone.
func setSiteProperty(ctx context.Context, tx pgx.Tx, siteID uuid.UUID, prop, value, by string) error {
	_, err := tx.Exec(ctx, `UPDATE components
		SET properties = properties || jsonb_build_object($2::text, $3::text),
		    version = version + 1, updated_at = now(), updated_by = $4
		WHERE id = $1`, siteID, prop, value, by)
	return err
}

// AddCheck appends a check record and makes its verdict the appraisal's and
// its site's latest.
func (s *Store) AddCheck(ctx context.Context, rec zone.CheckRecord) (*zone.Appraisal, error) {
	if err := checkVerdict(rec.Verdict); err != nil {
		return nil, err
	}
	var a *zone.Appraisal
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var siteID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE appraisals SET verdict = $2, updated_at = now() WHERE id = $1 RETURNING site_id`,
			rec.AppraisalID, rec.Verdict).Scan(&siteID)
		if errors.Is(err, pgx.ErrNoRows) {
			return zone.Errorf(zone.CodeNotFound, "appraisal %s not found", rec.AppraisalID)
		}
		if err != nil {
			return err
		}
		if err := insertCheck(ctx, tx, rec); err != nil {
			return err
		}
		if err := setSiteProperty(ctx, tx, siteID, zone.PropVerdict, rec.Verdict, rec.CreatedBy); err != nil {
			return err
		}
		a, err = getAppraisal(ctx, tx, rec.AppraisalID)
		return err
	})
	if err != nil {
		return nil, dbError(err, "add the check")
	}
	return a, nil
}

// DecideAppraisal records a reviewer's decision and sets the appraisal's and
// its site's status to its outcome. A later decision replaces an earlier one.
func (s *Store) DecideAppraisal(ctx context.Context, id uuid.UUID, d zone.Decision) (*zone.Appraisal, error) {
	switch d.Outcome {
	case zone.StatusApproved, zone.StatusApprovedWithConditions, zone.StatusRejected:
	default:
		return nil, zone.Errorf(zone.CodeInvalid, "decision outcome %q is not %s, %s or %s", d.Outcome,
			zone.StatusApproved, zone.StatusApprovedWithConditions, zone.StatusRejected)
	}
	if d.At.IsZero() {
		d.At = time.Now()
	}
	var a *zone.Appraisal
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var siteID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE appraisals SET status = $2, decision_outcome = $2, decision_note = $3,
				decision_by = $4, decision_at = $5, updated_at = now()
			WHERE id = $1 RETURNING site_id`, id, d.Outcome, d.Note, d.By, d.At).Scan(&siteID)
		if errors.Is(err, pgx.ErrNoRows) {
			return zone.Errorf(zone.CodeNotFound, "appraisal %s not found", id)
		}
		if err != nil {
			return err
		}
		if err := setSiteProperty(ctx, tx, siteID, zone.PropStatus, d.Outcome, d.By); err != nil {
			return err
		}
		a, err = getAppraisal(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, dbError(err, "record the decision")
	}
	return a, nil
}

// ListAppraisals returns one page of the matching appraisals, newest first
// (without their checks), and how many match in all.
func (s *Store) ListAppraisals(ctx context.Context, q zone.AppraisalQuery) ([]zone.Appraisal, int, error) {
	var conds []string
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.CreatedBy != "" {
		conds = append(conds, "created_by = "+param(q.CreatedBy))
	}
	if q.Status != "" {
		conds = append(conds, "status = "+param(q.Status))
	}
	if q.Verdict != "" {
		conds = append(conds, "verdict = "+param(q.Verdict))
	}
	if q.Text != "" {
		// Folded in Go on both sides: Unicode case folding whatever the
		// database's locale; strpos needs no escaping of % and _.
		conds = append(conds, "strpos(name_folded, "+param(strings.ToLower(q.Text))+") > 0")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var list []zone.Appraisal
	var total int
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM appraisals`+where, args...).Scan(&total); err != nil {
			return err
		}
		sql := `SELECT ` + appraisalColumns + ` FROM appraisals` + where + ` ORDER BY created_at DESC, seq DESC`
		pageArgs := args
		if q.Limit > 0 {
			pageArgs = append(pageArgs, q.Limit)
			sql += fmt.Sprintf(" LIMIT $%d", len(pageArgs))
		}
		if q.Offset > 0 {
			pageArgs = append(pageArgs, q.Offset)
			sql += fmt.Sprintf(" OFFSET $%d", len(pageArgs))
		}
		rows, err := tx.Query(ctx, sql, pageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAppraisal(rows)
			if err != nil {
				return err
			}
			list = append(list, *a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, dbError(err, "list appraisals")
	}
	return list, total, nil
}
