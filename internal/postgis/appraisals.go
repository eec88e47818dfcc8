package postgis

import (
	"context"
	"encoding/json"
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

// appraisalColumns selects an appraisal as a reader of clearance cl sees
// it: the verdict is the reader's (verdicts is indexed from 1).
func appraisalColumns(cl zone.Classification) string {
	return `id, site_id, name, status, ` + verdictFor(cl) + `, created_by, created_at, updated_at,
	decision_outcome, decision_note, decision_by, decision_at, ` + staleColumns(cl)
}

// verdictFor is the SQL of an appraisal's verdict as a reader of clearance
// cl sees it. A row without verdicts by clearance (written before they were
// kept, or by another tool) shows a reader below secret "review" for
// anything but "clear": the referral such a reader would get.
func verdictFor(cl zone.Classification) string {
	n := strconv.Itoa(level(cl) + 1)
	if level(cl) == int(zone.Secret) {
		return `coalesce(verdicts[` + n + `], verdict)`
	}
	return `coalesce(verdicts[` + n + `], CASE WHEN verdict IN ('', 'clear') THEN verdict ELSE 'review' END)`
}

// level is cl as an index of the by-clearance arrays, an invalid clearance
// counting as public (the least it may see).
func level(cl zone.Classification) int {
	if !cl.Valid() {
		return int(zone.Public)
	}
	return int(cl)
}

// viewColumns are the check_records columns holding each clearance's view
// (a fixed list: never a name from a request).
var viewColumns = [zone.Levels]string{"view_public", "view_internal", "view_restricted", "result"}

func scanAppraisal(row pgx.Row) (*zone.Appraisal, error) {
	var a zone.Appraisal
	var outcome, note, by *string
	var at *time.Time
	var verdict, staleReason *string
	var staleSince *time.Time
	var rechecked, worse *bool
	if err := row.Scan(&a.ID, &a.SiteID, &a.Name, &a.Status, &verdict, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt,
		&outcome, &note, &by, &at, &staleReason, &staleSince, &rechecked, &worse); err != nil {
		return nil, err
	}
	a.Stale = scanStale(staleReason, staleSince, rechecked, worse)
	a.Verdict = deref(verdict)
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
func (s *Store) CreateAppraisal(ctx context.Context, a *zone.Appraisal, site *zone.Component, first zone.CheckRecord) (_ *zone.Appraisal, err error) {
	const cl = zone.Secret // the creator's view is read again by the caller
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
	first, err = withViews(first)
	if err != nil {
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
	sc.Properties[zone.PropVerdict] = first.Views[zone.Public].Verdict
	sc.Properties[zone.PropVerdicts] = zone.SiteVerdicts(first.Views)
	sc.Properties[zone.PropStatus] = out.Status
	sc, err = validated(sc)
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
	first.AppraisalID = out.ID
	if first.CreatedBy == "" {
		first.CreatedBy = out.CreatedBy
	}
	ctx, end, err := s.call(ctx, "store the appraisal")
	if err != nil {
		return nil, err
	}
	defer end(&err)
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
		if _, err := tx.Exec(ctx, `INSERT INTO appraisals (id, site_id, name, name_folded, status, verdict, verdicts, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			out.ID, out.SiteID, out.Name, strings.ToLower(out.Name), out.Status, first.Views[zone.Secret].Verdict,
			verdictArray(first.Views), out.CreatedBy); err != nil {
			return err
		}
		if err := insertCheck(ctx, tx, first, nil); err != nil {
			return err
		}
		var err error
		created, err = getAppraisal(ctx, tx, out.ID, cl)
		return err
	})
	if err != nil {
		return nil, dbError(err, "store the appraisal")
	}
	return created, nil
}

// withViews checks a record's views before it is written: every clearance
// has one (a record given only Verdict and Result is a full check with no
// views for lower clearances, which must then see a referral: such a
// record is refused rather than shown to them in full).
func withViews(rec zone.CheckRecord) (zone.CheckRecord, error) {
	if rec.Views[zone.Secret].Verdict == "" && rec.Verdict != "" {
		return rec, zone.Errorf(zone.CodeInvalid, "a check record needs its views by clearance (check.Record)")
	}
	for _, cl := range zone.Classifications() {
		v := rec.Views[cl]
		if err := checkVerdict(v.Verdict); err != nil {
			return rec, err
		}
		if !json.Valid(v.Result) {
			return rec, zone.Errorf(zone.CodeInvalid, "the %s view of the check is not valid JSON", cl)
		}
	}
	rec.Verdict, rec.Result = rec.Views[zone.Secret].Verdict, rec.Views[zone.Secret].Result
	return rec, nil
}

func verdictArray(views [zone.Levels]zone.CheckView) []string {
	out := make([]string, zone.Levels)
	for i, v := range views {
		out[i] = v.Verdict
	}
	return out
}

// insertCheck writes one check record with its views, and a background
// re-check's plan (nil for a record people made); its id and time default
// to new ones.
func insertCheck(ctx context.Context, tx pgx.Tx, rec zone.CheckRecord, plan *zone.Recheck) error {
	if rec.ID == uuid.Nil {
		rec.ID = uuid.New()
	}
	var at *time.Time
	if !rec.CreatedAt.IsZero() {
		at = &rec.CreatedAt
	}
	v := rec.Views
	shown, reasons, diffs, err := recheckColumns(plan)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO check_records
		(id, appraisal_id, created_at, created_by, verdict, ruleset_version, data_version, result,
		 verdicts, view_public, view_internal, view_restricted, recheck, shown, reasons, diffs)
		VALUES ($1, $2, coalesce($3, now()), $4, $5, $6, $7, $8::json, $9, $10::json, $11::json, $12::json,
		 $13, $14, $15, $16::json[])`,
		rec.ID, rec.AppraisalID, at, rec.CreatedBy, rec.Verdict, rec.RulesetVersion, rec.DataVersion, string(rec.Result),
		verdictArray(v), string(v[zone.Public].Result), string(v[zone.Internal].Result), string(v[zone.Restricted].Result),
		plan != nil, shown, reasons, diffs)
	return err
}

// getAppraisal reads an appraisal and its checks, newest first, as a
// reader of clearance cl sees them: only that clearance's view is read.
func getAppraisal(ctx context.Context, q pgx.Tx, id uuid.UUID, cl zone.Classification) (*zone.Appraisal, error) {
	a, err := scanAppraisal(q.QueryRow(ctx, `SELECT `+appraisalColumns(cl)+` FROM appraisals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, zone.Errorf(zone.CodeNotFound, "appraisal %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	lv := level(cl)
	n := strconv.Itoa(lv + 1)
	// A record without views (written before they were kept) gives its
	// full result, marked so, for the caller to redact. A background
	// re-check's record exists only for the readers it was shown to.
	rows, err := q.Query(ctx, `SELECT id, appraisal_id, created_at, created_by, ruleset_version, data_version,
			coalesce(verdicts[`+n+`], verdict), (verdicts IS NOT NULL),
			coalesce(`+viewColumns[lv]+`, result)::text, recheck, reasons[`+n+`], diffs[`+n+`]::text
		FROM check_records WHERE appraisal_id = $1 AND (shown IS NULL OR shown[`+n+`]) ORDER BY seq DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c zone.CheckRecord
		var result string
		var viewed bool
		var reason, diff *string
		if err := rows.Scan(&c.ID, &c.AppraisalID, &c.CreatedAt, &c.CreatedBy, &c.RulesetVersion, &c.DataVersion, &c.Verdict, &viewed, &result,
			&c.Recheck, &reason, &diff); err != nil {
			return nil, err
		}
		c.Reason = deref(reason)
		if diff != nil {
			c.Diff = new(zone.CheckDiff)
			if err := json.Unmarshal([]byte(*diff), c.Diff); err != nil {
				return nil, err
			}
		}
		c.CreatedAt = c.CreatedAt.UTC()
		c.Result = []byte(result)
		c.ViewOf = zone.Classification(lv)
		if !viewed {
			c.ViewOf = zone.Secret
		}
		if c.ViewOf != zone.Secret || lv != int(zone.Secret) {
			c.DataVersion = 0
		}
		a.Checks = append(a.Checks, c)
	}
	return a, rows.Err()
}

// GetAppraisal returns an appraisal with its checks, newest first, as a
// reader of clearance cl sees them.
func (s *Store) GetAppraisal(ctx context.Context, id uuid.UUID, cl zone.Classification) (_ *zone.Appraisal, err error) {
	ctx, end, err := s.call(ctx, "read the appraisal")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	var a *zone.Appraisal
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		a, err = getAppraisal(ctx, tx, id, cl)
		return err
	})
	if err != nil {
		return nil, dbError(err, "read the appraisal")
	}
	return a, nil
}

// setSiteProperties merges properties into an appraisal's project site as
// a change of the site (version + 1, so followers and editors see it). A
// site deleted meanwhile is left alone.
func setSiteProperties(ctx context.Context, tx pgx.Tx, siteID uuid.UUID, props map[string]any, by string) error {
	b, err := json.Marshal(props)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE components
		SET properties = properties || $2::jsonb,
		    version = version + 1, updated_at = now(), updated_by = $3
		WHERE id = $1`, siteID, string(b), by)
	return err
}

// AddCheck appends a check record and makes its verdicts the appraisal's
// and its site's latest.
func (s *Store) AddCheck(ctx context.Context, rec zone.CheckRecord, cl zone.Classification) (_ *zone.Appraisal, err error) {
	ctx, end, err := s.call(ctx, "add the check")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	rec, err = withViews(rec)
	if err != nil {
		return nil, err
	}
	var a *zone.Appraisal
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var siteID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE appraisals SET verdict = $2, verdicts = $3, updated_at = now() WHERE id = $1 RETURNING site_id`,
			rec.AppraisalID, rec.Verdict, verdictArray(rec.Views)).Scan(&siteID)
		if errors.Is(err, pgx.ErrNoRows) {
			return zone.Errorf(zone.CodeNotFound, "appraisal %s not found", rec.AppraisalID)
		}
		if err != nil {
			return err
		}
		if err := insertCheck(ctx, tx, rec, nil); err != nil {
			return err
		}
		m, _, err := lockMarks(ctx, tx, rec.AppraisalID)
		if err != nil {
			return err
		}
		m.clear(true)
		if err := m.write(ctx, tx, rec.AppraisalID, false); err != nil {
			return err
		}
		props := map[string]any{zone.PropVerdict: rec.Views[zone.Public].Verdict, zone.PropVerdicts: zone.SiteVerdicts(rec.Views)}
		if err := setSiteProperties(ctx, tx, siteID, props, rec.CreatedBy); err != nil {
			return err
		}
		a, err = getAppraisal(ctx, tx, rec.AppraisalID, cl)
		return err
	})
	if err != nil {
		return nil, dbError(err, "add the check")
	}
	return a, nil
}

// DecideAppraisal records a reviewer's decision and sets the appraisal's and
// its site's status to its outcome. A later decision replaces an earlier one.
func (s *Store) DecideAppraisal(ctx context.Context, id uuid.UUID, d zone.Decision, cl zone.Classification) (_ *zone.Appraisal, err error) {
	ctx, end, err := s.call(ctx, "record the decision")
	if err != nil {
		return nil, err
	}
	defer end(&err)
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
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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
		if err := setSiteProperties(ctx, tx, siteID, map[string]any{zone.PropStatus: d.Outcome}, d.By); err != nil {
			return err
		}
		m, _, err := lockMarks(ctx, tx, id)
		if err != nil {
			return err
		}
		m.clear(false)
		if err := m.write(ctx, tx, id, false); err != nil {
			return err
		}
		a, err = getAppraisal(ctx, tx, id, cl)
		return err
	})
	if err != nil {
		return nil, dbError(err, "record the decision")
	}
	return a, nil
}

// ListAppraisals returns one page of the matching appraisals, newest first
// (without their checks), and how many match in all.
func (s *Store) ListAppraisals(ctx context.Context, q zone.AppraisalQuery) (_ []zone.Appraisal, _ int, err error) {
	ctx, end, err := s.call(ctx, "list appraisals")
	if err != nil {
		return nil, 0, err
	}
	defer end(&err)
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
		conds = append(conds, verdictFor(q.Clearance)+" = "+param(q.Verdict))
	}
	if q.Stale {
		conds = append(conds, "stale_reasons["+strconv.Itoa(level(q.Clearance)+1)+"] IS NOT NULL")
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
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM appraisals`+where, args...).Scan(&total); err != nil {
			return err
		}
		order := ` ORDER BY created_at DESC, seq DESC`
		if q.WorseFirst {
			order = ` ORDER BY (coalesce(stale_worse[` + strconv.Itoa(level(q.Clearance)+1) + `], false)
				AND status IN ('approved', 'approved_with_conditions')) DESC, created_at DESC, seq DESC`
		}
		sql := `SELECT ` + appraisalColumns(q.Clearance) + ` FROM appraisals` + where + order
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
