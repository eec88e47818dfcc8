package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// auditEntryView is an audit entry as a reader gets it. Its place in the
// chain (seq, prev_hash, hash) is shown only to a reader cleared for
// secret, who sees every entry: to others the gaps in the numbering would
// count the entries hidden from them. Listings continue from an entry's
// id for the same reason.
type auditEntryView struct {
	ID             uuid.UUID           `json:"id"`
	Seq            int64               `json:"seq,omitempty"`
	Time           time.Time           `json:"time"`
	Action         string              `json:"action"`
	Actor          auditActor          `json:"actor"`
	Object         string              `json:"object,omitempty"`
	Layer          string              `json:"layer,omitempty"`
	Classification zone.Classification `json:"classification"`
	Detail         json.RawMessage     `json:"detail"`
	PrevHash       string              `json:"prev_hash,omitempty"`
	Hash           string              `json:"hash,omitempty"`
	// SuspendedUntil, on a probing alert, is when the token's suspension
	// ends, while it lasts.
	SuspendedUntil *time.Time `json:"suspended_until,omitempty"`
}

type auditActor struct {
	TokenID   *uuid.UUID          `json:"token_id,omitempty"` // absent for a local command
	Name      string              `json:"name"`
	Role      zone.Role           `json:"role"`
	Clearance zone.Classification `json:"clearance"`
}

func viewEntry(e zone.AuditEntry, reader zone.Principal) auditEntryView {
	v := auditEntryView{ID: e.ID, Time: e.Time, Action: e.Action, Object: e.Object, Layer: e.Layer,
		Classification: e.Classification, Detail: e.Detail,
		Actor: auditActor{Name: e.Actor, Role: e.Role, Clearance: e.ActorClearance}}
	if e.ActorID != uuid.Nil {
		id := e.ActorID
		v.Actor.TokenID = &id
	}
	if reader.Clearance >= zone.Secret && e.Seq > 0 {
		v.Seq, v.PrevHash, v.Hash = e.Seq, hex.EncodeToString(e.Prev), hex.EncodeToString(e.Hash)
	}
	return v
}

// auditActions are the actions a filter may name: each, and each family
// as "family.*".
func auditActions() []string {
	return []string{zone.AuditCheck, zone.AuditAppraisalCreated, zone.AuditAppraisalRechecked, zone.AuditAppraisalDecided, zone.AuditAppraisalWorse,
		zone.AuditAppraisalPublished, zone.AuditReportRead, zone.AuditComponentCreated, zone.AuditComponentUpdated, zone.AuditComponentDeleted,
		zone.AuditComponentsImported, zone.AuditFeatureRead, zone.AuditExport, zone.AuditTokenCreated, zone.AuditTokenRevoked,
		zone.AuditTokenRefused, zone.AuditRuleSetLoaded, zone.AuditProbing, zone.AuditSuspensionLifted,
		zone.AuditPlanCreated, zone.AuditPlanCancelled, zone.AuditPlanRead}
}

func validAction(a string) bool {
	if fam, ok := strings.CutSuffix(a, ".*"); ok {
		return slices.ContainsFunc(auditActions(), func(x string) bool { return strings.HasPrefix(x, fam+".") })
	}
	return slices.Contains(auditActions(), a)
}

// auditParams are the query parameters of the audit listings.
func auditParams() []string {
	return []string{"actor", "action", "object", "component", "since", "until", "limit", "before"}
}

// parseAuditQuery reads an audit listing's filters; anything wrong is a
// 400 naming the parameter.
func parseAuditQuery(q url.Values, p zone.Principal) (zone.AuditQuery, error) {
	aq := zone.AuditQuery{Clearance: p.Clearance, Limit: 100}
	for k := range q { // each given once: checkQuery refused repeats
		if !slices.Contains(auditParams(), k) {
			return aq, fieldError(k, "unknown parameter %q (want %s)", k, strings.Join(auditParams(), ", "))
		}
	}
	aq.Actor = strings.TrimSpace(q.Get("actor"))
	aq.Action = strings.TrimSpace(q.Get("action"))
	if aq.Action != "" && !validAction(aq.Action) {
		return aq, fieldError("action", "unknown action %q: want one of %s, or a family such as appraisal.*", aq.Action, strings.Join(auditActions(), ", "))
	}
	aq.Object = strings.TrimSpace(q.Get("object"))
	if c := strings.TrimSpace(q.Get("component")); c != "" {
		if aq.Object != "" && aq.Object != c {
			return aq, fieldError("component", "component and object name different things; give one")
		}
		if _, err := uuid.Parse(c); err != nil {
			return aq, fieldError("component", "component %q is not a component id", c)
		}
		aq.Object = c
	}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"since", &aq.Since}, {"until", &aq.Until}} {
		raw := strings.TrimSpace(q.Get(f.name))
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return aq, fieldError(f.name, "%s %q is not an RFC 3339 time such as 2025-03-01T08:00:00+07:00", f.name, raw)
		}
		*f.t = t
	}
	if !aq.Since.IsZero() && !aq.Until.IsZero() && !aq.Since.Before(aq.Until) {
		return aq, fieldError("until", "until must be after since")
	}
	var err error
	if aq.Limit, err = intParam(q.Get("limit"), 100, 1, 1000, "limit"); err != nil {
		return aq, err
	}
	if raw := strings.TrimSpace(q.Get("before")); raw != "" {
		if aq.Before, err = uuid.Parse(raw); err != nil {
			return aq, fieldError("before", "before %q is not an audit entry id (take it from a listing's next link)", raw)
		}
	}
	return aq, nil
}

// flushTrail makes a listing include what was recorded before it: the
// recorder appends its queue now (waiting at most a moment; past that the
// listing shows what is stored).
func (s *server) flushTrail(ctx context.Context) {
	if s.Audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = s.Audit.Flush(ctx)
}

// listAudit answers one page of a listing with a next link.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request, p zone.Principal, aq zone.AuditQuery) {
	s.flushTrail(r.Context())
	limit := aq.Limit
	aq.Limit++
	es, err := s.auditLog().ListAudit(r.Context(), aq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type page struct {
		Items []auditEntryView `json:"items"`
		Limit int              `json:"limit"`
		Next  string           `json:"next,omitempty"`
	}
	out := page{Items: []auditEntryView{}, Limit: limit}
	suspended := map[uuid.UUID]time.Time{}
	if s.Probing != nil {
		suspended = s.Probing.Suspensions()
	}
	for i, e := range es {
		if i == limit {
			q := r.URL.Query()
			q.Set("before", es[i-1].ID.String())
			out.Next = r.URL.Path + "?" + q.Encode()
			break
		}
		v := viewEntry(e, p)
		if e.Action == zone.AuditProbing {
			if id, err := uuid.Parse(e.Object); err == nil {
				if until, ok := suspended[id]; ok {
					v.SuspendedUntil = &until
				}
			}
		}
		out.Items = append(out.Items, v)
	}
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusOK, out)
}

// handleAudit serves GET /api/audit: the trail, newest first, as far as
// the reader's clearance goes.
func (s *server) handleAudit() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		aq, err := parseAuditQuery(r.URL.Query(), p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.listAudit(w, r, p, aq)
	}
}

// handleAuditAlerts serves GET /api/audit/alerts: the probing alerts,
// newest first, each with its suspension while it lasts.
func (s *server) handleAuditAlerts() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		q := r.URL.Query()
		if q.Has("action") {
			s.fail(w, r, fieldError("action", "the alerts listing is of action %s; use /api/audit for others", zone.AuditProbing))
			return
		}
		aq, err := parseAuditQuery(q, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		aq.Action = zone.AuditProbing
		s.listAudit(w, r, p, aq)
	}
}

// handleSuspensionLift serves DELETE /api/audit/suspensions/{token}: an
// administrator ends a probing suspension (on every instance, through the
// trail).
func (s *server) handleSuspensionLift() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		raw := chi.URLParam(r, "token")
		id, err := uuid.Parse(raw)
		notSuspended := zone.Errorf(zone.CodeNotFound, "token %q is not suspended", raw)
		if err != nil || s.Probing == nil {
			s.fail(w, r, notSuspended)
			return
		}
		if _, ok := s.Probing.Suspended(id); !ok {
			s.fail(w, r, notSuspended)
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		s.Probing.Lift(id)
		s.recordNow(entry(p, zone.AuditSuspensionLifted, id.String(), "", zone.Public, struct{}{}))
		w.WriteHeader(http.StatusNoContent)
	}
}

// maxHistory bounds the entries an appraisal record shows.
const maxHistory = 500

// history is the trail of appraisal id as reader p may see it, oldest
// first: what the store holds and what the recorder has not appended yet.
// The recorder's queue is read first: an entry leaves it only once
// appended, so one appended between the two reads is in the store's
// answer, and one still queued in the queue's (an entry in both is shown
// once).
func (s *server) history(ctx context.Context, id uuid.UUID, p zone.Principal) ([]auditEntryView, error) {
	obj := id.String()
	var queued []zone.AuditEntry
	if s.Audit != nil {
		queued = s.Audit.Queued(func(e *zone.AuditEntry) bool {
			return e.Object == obj && strings.HasPrefix(e.Action, "appraisal.") && p.Clearance.Allows(e.Classification)
		})
	}
	// Its steps only: reads of its report (report.read) are the trail's,
	// and however many there are they never crowd the steps out.
	es, err := s.auditLog().ListAudit(ctx, zone.AuditQuery{Object: obj, Action: "appraisal.*", Clearance: p.Clearance, Limit: maxHistory})
	if err != nil {
		return nil, err
	}
	slices.Reverse(es)
	seen := make(map[uuid.UUID]bool, len(es))
	for _, e := range es {
		seen[e.ID] = true
	}
	for _, e := range queued {
		if !seen[e.ID] {
			es = append(es, e)
		}
	}
	out := make([]auditEntryView, len(es))
	for i, e := range es {
		out[i] = viewEntry(e, p)
	}
	return out, nil
}

// auditLog is where the audit trail is read: the primary's on a read
// instance (Deps.AuditLog: current, where the standby's copy lags), else
// the store's.
func (s *server) auditLog() zone.AuditStore {
	if s.AuditLog != nil {
		return s.AuditLog
	}
	return s.Store
}
