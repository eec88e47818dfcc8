package impact

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// AuditWorse is the audit action of a background re-check that made an
// approved appraisal's verdict worse.
const AuditWorse = zone.AuditAppraisalWorse

// Actor names the background re-check in records and the audit trail.
const Actor = "zoneplan (change impact)"

// Data is the data a re-check runs against, made current first (the
// in-memory index: Sync, then Snapshot).
type Data interface {
	Current(ctx context.Context) (check.Source, error)
}

// Rechecker marks stored appraisals stale (a LevelFunc of the watcher)
// and, unless it only flags them, re-checks them in the background.
type Rechecker struct {
	Store zone.Store
	Rules interface{ Engine() *check.Engine }
	Data  Data
	// Audit records an entry (audit.Recorder.RecordNow); nil: none.
	Audit func(zone.AuditEntry)
	// FlagOnly marks appraisals stale and re-checks none.
	FlagOnly bool
	Log      *slog.Logger
	// Batch is how many stale appraisals one round re-checks (default 50).
	Batch int

	wake chan struct{}
}

// NewRechecker makes a re-checker; Run starts it.
func NewRechecker(r Rechecker) *Rechecker {
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.Batch <= 0 {
		r.Batch = 50
	}
	r.wake = make(chan struct{}, 1)
	return &r
}

// Mark marks the appraisals im reaches stale and wakes the re-check.
func (r *Rechecker) Mark(ctx context.Context, im zone.Impact) error {
	n, err := r.Store.MarkStale(ctx, im)
	if err != nil {
		return err
	}
	if n > 0 {
		r.Log.Info("appraisals marked stale", "count", n, "reason", im[zone.Secret].Reason)
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// recheckPoll is how often the re-check looks for stale appraisals
// without being woken (marks made by another instance, failures retried).
const recheckPoll = 10 * time.Second

// Run re-checks stale appraisals until ctx ends (nothing when FlagOnly).
func (r *Rechecker) Run(ctx context.Context) {
	if r.FlagOnly {
		return
	}
	t := time.NewTicker(recheckPoll)
	defer t.Stop()
	for {
		for {
			n, err := r.Round(ctx)
			if err != nil && ctx.Err() == nil {
				r.Log.Warn("impact: re-check failed; retrying", "err", err)
			}
			if err != nil || n < r.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

// Round re-checks up to Batch stale appraisals and returns how many.
func (r *Rechecker) Round(ctx context.Context) (int, error) {
	stale, err := r.Store.StaleAppraisals(ctx, r.Batch)
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	src, err := r.Data.Current(ctx)
	if err != nil {
		return 0, err
	}
	e := r.Rules.Engine()
	for i, a := range stale {
		if err := r.recheck(ctx, e, src, a); err != nil {
			return i, err
		}
	}
	return len(stale), nil
}

func (r *Rechecker) recheck(ctx context.Context, e *check.Engine, src check.Source, a zone.StaleAppraisal) error {
	site, err := r.Store.GetComponent(ctx, a.SiteID, zone.Secret)
	if zone.ErrorCode(err) == zone.CodeNotFound {
		// The site was deleted: nothing to check; the mark stays for people.
		r.Log.Warn("impact: a stale appraisal's project site is gone", "appraisal", a.ID, "site", a.SiteID)
		return nil
	}
	if err != nil {
		return err
	}
	rec, _, err := e.StoredCheck(src, site, a.ID, Actor)
	if err != nil {
		return err
	}
	plan, err := r.Store.AddRecheck(ctx, rec, a.Gen)
	if err != nil {
		return err
	}
	if r.Audit != nil && (a.Status == zone.StatusApproved || a.Status == zone.StatusApprovedWithConditions) {
		r.auditWorse(a, plan)
	}
	return nil
}

// auditWorse records that the re-check made an approved appraisal worse,
// classified at the lowest clearance it is worse for (what its readers
// may know), with that clearance's verdicts and reason.
func (r *Rechecker) auditWorse(a zone.StaleAppraisal, plan zone.Recheck) {
	for _, cl := range zone.Classifications() {
		if !plan.Worse[cl] {
			continue
		}
		d := plan.Diffs[cl]
		detail, _ := json.Marshal(map[string]any{
			"verdict_from": d.VerdictFrom, "verdict_to": d.VerdictTo, "reason": plan.Reasons[cl], "status": a.Status,
		})
		r.Audit(zone.AuditEntry{Action: AuditWorse, Actor: Actor, ActorClearance: zone.Secret,
			Object: a.ID.String(), Classification: cl, Detail: detail})
		return
	}
}
