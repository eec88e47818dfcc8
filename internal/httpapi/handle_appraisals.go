package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/report"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// owner is how an appraisal records its creator: the token's name and id,
// so two tokens with the same name are still told apart.
func owner(p zone.Principal) string { return p.Name + " (" + p.TokenID.String() + ")" }

// appraisalView is an appraisal as one reader may see it: each check's
// result redacted for the reader's clearance.
type appraisalView struct {
	zone.Appraisal
	Checks []checkView `json:"checks,omitempty"`
	// Site is the project site as a GeoJSON Feature, its verdict as the
	// reader's own check would give it: the record carries it because the
	// site is not in its layer for readers until an admin publishes it.
	Site *geojson.Feature `json:"site,omitempty"`
	// History is the appraisal's audit trail, oldest first, as far as the
	// reader's clearance goes; null in the answer to a write when the
	// trail could not be read (respondAppraisal).
	History []auditEntryView `json:"history"`
	// CreatedByPerson and DecidedByPerson name the appraiser and the
	// reviewer as their tokens' holders (person and title), for showing
	// people rather than token names and ids; absent for a token with no
	// person.
	CreatedByPerson *personView `json:"created_by_person,omitempty"`
	DecidedByPerson *personView `json:"decided_by_person,omitempty"`
}

// personView is a token's holder as documents name them.
type personView struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
}

// namePeople fills the view's persons from the tokens the record names.
func (s *server) namePeople(ctx context.Context, v *appraisalView) error {
	people, err := s.signatories(ctx)
	if err != nil {
		return err
	}
	named := func(recorded string) *personView {
		if p, held := people(recorded); held {
			return &personView{Name: p.Name, Title: p.Title}
		}
		return nil
	}
	v.CreatedByPerson = named(v.CreatedBy)
	if v.Decision != nil {
		v.DecidedByPerson = named(v.Decision.By)
	}
	return nil
}

type checkView struct {
	zone.CheckRecord
	Result check.Result `json:"result"`
}

// view is an appraisal as read for p (the store gave each check as p's
// clearance sees it); a check stored before views were kept comes as its
// full result and is redacted here.
func (s *server) view(a *zone.Appraisal, p zone.Principal) (appraisalView, error) {
	v := appraisalView{Appraisal: *a}
	v.Appraisal.Checks = nil
	for _, c := range a.Checks {
		var res check.Result
		if err := json.Unmarshal(c.Result, &res); err != nil {
			return v, zone.InternalError(err, "stored check %s does not decode", c.ID)
		}
		if c.ViewOf > p.Clearance {
			res = check.Redact(res, p.Clearance, s.Rules.Engine().RuleSet())
			c.Verdict = string(res.Verdict)
		}
		if p.Clearance < zone.Secret {
			c.DataVersion = 0
		}
		c.Result = nil
		v.Checks = append(v.Checks, checkView{CheckRecord: c, Result: res})
	}
	if n := len(v.Checks); n > 0 {
		v.Verdict = v.Checks[0].Verdict
	}
	if site, ok := s.Index.Snapshot().Get(a.SiteID); ok {
		v.Site = site.ForClearance(p.Clearance).Feature()
	}
	return v, nil
}

// runStoredCheck checks a site's footprint once at full clearance and
// returns the record to store, with the check as every clearance sees it
// (check.Record), and the view of p's clearance.
func (s *server) runStoredCheck(site *zone.Component, appraisalID uuid.UUID, p zone.Principal) (zone.CheckRecord, check.Result, error) {
	fp := check.SiteFootprint(site.Geometry, site.Properties)
	start := time.Now()
	views := s.Rules.Engine().Record(s.Index.Snapshot(), fp)
	s.Metrics.ObserveCheck(time.Since(start), len(views[zone.Secret].Findings))
	full := views[zone.Secret]
	rec := zone.CheckRecord{
		ID: uuid.New(), AppraisalID: appraisalID, CreatedAt: time.Now().UTC(), CreatedBy: owner(p),
		RulesetVersion: full.RulesetVersion, DataVersion: full.DataVersion,
	}
	for cl, v := range views {
		raw, err := json.Marshal(v)
		if err != nil {
			return zone.CheckRecord{}, full, zone.InternalError(err, "encode check result")
		}
		rec.Views[cl] = zone.CheckView{Verdict: string(v.Verdict), Result: raw}
	}
	rec.Verdict, rec.Result = rec.Views[zone.Secret].Verdict, rec.Views[zone.Secret].Result
	return rec, views[level(p.Clearance)], nil
}

// level is cl as an index of a by-clearance array (an invalid one as public).
func level(cl zone.Classification) zone.Classification {
	if !cl.Valid() {
		return zone.Public
	}
	return cl
}

// holdUntil delays a write's answer to a caller below secret to the end
// of its band (bandEnd): the stored check examined the works hidden from
// that caller, and how long it took must not say how many there were near
// the footprint. Below the floor it says nothing; a check slower than the
// floor (a great many hidden works near) says only how many floors it
// took, not how long.
func (s *server) holdUntil(r *http.Request, p zone.Principal, start time.Time) {
	if p.Clearance >= zone.Secret || s.Config.UnclearedWriteFloor <= 0 {
		return
	}
	wait := time.Until(bandEnd(start, time.Now(), s.Config.UnclearedWriteFloor))
	if wait <= 0 {
		return
	}
	releaseSlot(r) // the work is done: waiting holds no check slot
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// failHeld answers a write that failed after its stored check ran: held
// like a success (holdUntil), as the failure's timing would otherwise be
// the full-clearance check's (a database that went away, a full disk).
func (s *server) failHeld(w http.ResponseWriter, r *http.Request, p zone.Principal, start time.Time, err error) {
	s.holdUntil(r, p, start)
	s.fail(w, r, err)
}

// bandEnd is when a write that started at start and was done at now is
// answered: the first multiple of floor after start that is not before
// now, and never sooner than floor.
func bandEnd(start, now time.Time, floor time.Duration) time.Time {
	n := (now.Sub(start) + floor - 1) / floor
	return start.Add(max(n, 1) * floor)
}

// syncIndex makes the in-memory index include the change just written, so
// the next tile or feature request shows it.
func (s *server) syncIndex(ctx context.Context) {
	// Reading the change log is a long call for the store (a follower far
	// behind reads much); here it follows one write, and must not hold the
	// answer up for long if the database stalls right after it.
	ctx, cancel := context.WithTimeout(ctx, syncIndexTimeout)
	defer cancel()
	if err := s.Index.Sync(ctx, s.Store); err != nil {
		s.Log.Warn("index sync after write failed; it will catch up from the change feed", "err", err)
	}
}

// syncIndexTimeout bounds the read-your-writes sync after a write.
const syncIndexTimeout = time.Second

type appraisalRequest struct {
	Name       string          `json:"name"`
	Investor   string          `json:"investor"`
	Sector     string          `json:"sector"`
	Kind       string          `json:"kind"`
	HeightM    *float64        `json:"height_m"`
	Activities []string        `json:"activities"`
	Footprint  json.RawMessage `json:"footprint"`
}

// handleAppraisalCreate makes the project site, checks it and stores the
// appraisal with its first check record, all in one store transaction.
func (s *server) handleAppraisalCreate() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		start := time.Now()
		// The project comes as a JSON body with a footprint member, or as
		// form fields beside an uploaded file (readFootprintInput).
		in, err := readFootprintInput(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var req appraisalRequest
		if in.Upload {
			req, err = appraisalFromForm(in.Fields)
		} else {
			req, err = decodeJSON[appraisalRequest](in.Data)
			in.Name, in.Data, in.Pointer = "footprint", req.Footprint, "footprint."
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if strings.TrimSpace(req.Name) == "" {
			s.failInput(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "the appraisal needs a project name",
				Details: []zone.Detail{{Index: -1, Pointer: "name", Reason: "name is required"}}})
			return
		}
		if err := appraisalTextLimits(req); err != nil {
			s.failInput(w, r, err)
			return
		}
		if len(bytes.TrimSpace(in.Data)) == 0 {
			s.failInput(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "the appraisal needs a footprint",
				Details: []zone.Detail{{Index: -1, Pointer: "footprint", Reason: "footprint (a GeoJSON geometry or Feature, or an uploaded file) is required"}}})
			return
		}
		dec, err := in.footprints()
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		fps := dec.Footprints
		if len(fps) != 1 {
			s.failInput(w, r, zone.Errorf(zone.CodeInvalid, "an appraisal has one footprint; %s holds %d features (merge them into one Multi geometry)", in.Name, len(fps)))
			return
		}
		if err := s.Quota.Spend(p, quota.Appraisals, 1); err != nil {
			s.fail(w, r, err)
			return
		}
		// The site is visible only to those who may read the appraisal
		// until an admin publishes it.
		props := map[string]any{zone.PropStatus: zone.StatusPending, zone.PropPublished: false}
		if req.Investor != "" {
			props[zone.PropInvestor] = req.Investor
		}
		if req.Sector != "" {
			props[zone.PropSector] = req.Sector
		}
		if req.HeightM != nil {
			props[zone.PropHeightM] = *req.HeightM
		}
		if len(req.Activities) > 0 {
			acts := make([]any, len(req.Activities))
			for i, a := range req.Activities {
				acts[i] = a
			}
			props[zone.PropActivities] = acts
		}
		site := &zone.Component{ID: uuid.New(), Layer: zone.LayerProjectSites, Kind: req.Kind, Name: strings.TrimSpace(req.Name),
			Classification: zone.Public, Properties: props, Geometry: fps[0].Geometry}
		if probs := site.Validate(); len(probs) > 0 {
			s.failInput(w, r, &zone.Error{Code: zone.CodeInvalid, Message: "the project's attributes are not valid", Details: probs})
			return
		}
		a := &zone.Appraisal{ID: uuid.New(), SiteID: site.ID, Name: site.Name, Status: zone.StatusPending, CreatedBy: owner(p)}
		rec, res, err := s.runStoredCheck(site, a.ID, p)
		if err != nil {
			s.failHeld(w, r, p, start, err)
			return
		}
		a.Verdict = rec.Verdict
		site.Properties[zone.PropVerdict] = rec.Verdict
		created, err := s.Store.CreateAppraisal(writeContext(r), a, site, rec)
		if err != nil {
			s.failHeld(w, r, p, start, err)
			return
		}
		s.recordCheck(r, p, zone.AuditAppraisalCreated, created.ID.String(), fps[:1], res, site.ID.String())
		s.syncIndex(r.Context())
		s.holdUntil(r, p, start)
		s.respondAppraisal(w, r, p, created.ID, http.StatusCreated)
	}
}

// respondAppraisal reads an appraisal back after a write and writes the
// reader's view. The write is done: the history is best-effort, and when
// the trail cannot be read the answer goes without it ("history": null)
// rather than fail a write that happened (GET shows it).
func (s *server) respondAppraisal(w http.ResponseWriter, r *http.Request, p zone.Principal, id uuid.UUID, status int) {
	a, err := s.Store.GetAppraisal(r.Context(), id, p.Clearance)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.view(a, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.namePeople(r.Context(), &v); err != nil {
		s.Log.Warn("appraisal answered without its people: the tokens could not be read", "request_id", requestID(r.Context()),
			"appraisal", a.ID, "err", err)
	}
	if v.History, err = s.history(r.Context(), a.ID, p); err != nil {
		s.Log.Warn("appraisal answered without its history: the audit trail could not be read", "request_id", requestID(r.Context()),
			"appraisal", a.ID, "err", err)
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/appraisals/"+id.String())
	}
	encode(w, status, v)
}

// visibleAppraisal loads an appraisal the caller may see: their own, or any
// with PermReadAllAppr. Others are not found, like missing ones.
func (s *server) visibleAppraisal(r *http.Request, p zone.Principal) (*zone.Appraisal, error) {
	raw := chi.URLParam(r, "id")
	notFound := zone.Errorf(zone.CodeNotFound, "no appraisal %q", raw)
	id, err := uuid.Parse(raw)
	if err != nil {
		return nil, notFound
	}
	a, err := s.Store.GetAppraisal(r.Context(), id, p.Clearance)
	if zone.ErrorCode(err) == zone.CodeNotFound {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if a.CreatedBy != owner(p) && !p.Can(zone.PermReadAllAppr) {
		return nil, notFound
	}
	return a, nil
}

func (s *server) handleAppraisalList() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		q := r.URL.Query()
		aq := zone.AppraisalQuery{Status: q.Get("status"), Verdict: q.Get("verdict"), Text: q.Get("q"), Limit: 50, Clearance: p.Clearance}
		var err error
		if aq.Limit, err = intParam(q.Get("limit"), 50, 1, 500, "limit"); err != nil {
			s.fail(w, r, err)
			return
		}
		if aq.Offset, err = intParam(q.Get("offset"), 0, 0, 1<<31-1, "offset"); err != nil {
			s.fail(w, r, err)
			return
		}
		if aq.Status != "" && !oneOf(aq.Status, zone.StatusPending, zone.StatusApproved, zone.StatusApprovedWithConditions, zone.StatusRejected) {
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "status %q: want pending, approved, approved_with_conditions or rejected", aq.Status))
			return
		}
		if aq.Verdict != "" && !oneOf(aq.Verdict, "clear", "review", "conflict") {
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "verdict %q: want clear, review or conflict", aq.Verdict))
			return
		}
		if !p.Can(zone.PermReadAllAppr) {
			aq.CreatedBy = owner(p)
		}
		items, total, err := s.Store.ListAppraisals(r.Context(), aq)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if items == nil {
			items = []zone.Appraisal{}
		}
		encode(w, http.StatusOK, map[string]any{"items": items, "total": total, "limit": aq.Limit, "offset": aq.Offset})
	}
}

func (s *server) handleAppraisalGet() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		a, err := s.visibleAppraisal(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v, err := s.view(a, p)
		if err == nil {
			err = s.namePeople(r.Context(), &v)
		}
		if err == nil {
			v.History, err = s.history(r.Context(), a.ID, p)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, v)
	}
}

// handleAppraisalRecheck checks the site again against the rules and data
// in force now and appends a new record; earlier records are kept as they are.
func (s *server) handleAppraisalRecheck() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		start := time.Now()
		a, err := s.visibleAppraisal(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.Quota.Spend(p, quota.Appraisals, 1); err != nil {
			s.fail(w, r, err)
			return
		}
		site, err := s.Store.GetComponent(r.Context(), a.SiteID, zone.Secret)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rec, res, err := s.runStoredCheck(site, a.ID, p)
		if err != nil {
			s.failHeld(w, r, p, start, err)
			return
		}
		if _, err := s.Store.AddCheck(writeContext(r), rec, p.Clearance); err != nil {
			s.failHeld(w, r, p, start, err)
			return
		}
		s.recordCheck(r, p, zone.AuditAppraisalRechecked, a.ID.String(), []check.Footprint{{Index: -1, Geometry: site.Geometry}}, res, site.ID.String())
		s.syncIndex(r.Context())
		s.holdUntil(r, p, start)
		s.respondAppraisal(w, r, p, a.ID, http.StatusOK)
	}
}

func (s *server) handleAppraisalDecision() func(http.ResponseWriter, *http.Request, zone.Principal) {
	type request struct {
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
	}
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		a, err := s.visibleAppraisal(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req, err := decode[request](r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !oneOf(req.Outcome, zone.StatusApproved, zone.StatusApprovedWithConditions, zone.StatusRejected) {
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "outcome %q: want approved, approved_with_conditions or rejected", req.Outcome))
			return
		}
		if req.Outcome == zone.StatusApprovedWithConditions && strings.TrimSpace(req.Note) == "" {
			s.fail(w, r, zone.Errorf(zone.CodeInvalid, "approval with conditions needs a note stating the conditions"))
			return
		}
		if err := decisionTextLimits(req.Note); err != nil {
			s.failInput(w, r, err)
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		d := zone.Decision{Outcome: req.Outcome, Note: req.Note, By: owner(p), At: time.Now().UTC()}
		if _, err := s.Store.DecideAppraisal(writeContext(r), a.ID, d, p.Clearance); err != nil {
			s.fail(w, r, err)
			return
		}
		s.recordNow(entry(p, zone.AuditAppraisalDecided, a.ID.String(), "", zone.Public, map[string]string{"outcome": req.Outcome}))
		s.syncIndex(r.Context())
		s.respondAppraisal(w, r, p, a.ID, http.StatusOK)
	}
}

// handleAppraisalPublish makes an appraisal's project site visible to
// every reader its classification admits (it is otherwise visible only to
// those who may read the appraisal); each reader sees the site's verdict
// as their own check would give it.
func (s *server) handleAppraisalPublish() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		a, err := s.visibleAppraisal(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		site, err := s.Store.GetComponent(r.Context(), a.SiteID, zone.Secret)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !site.Published() {
			if err := s.auditable(); err != nil {
				s.fail(w, r, err)
				return
			}
			c := site.Clone()
			c.Properties[zone.PropPublished] = true
			if _, err := s.Store.UpdateComponent(writeContext(r), c, site.Version, zone.Secret, p.Name); err != nil {
				s.fail(w, r, err)
				return
			}
			s.recordNow(entry(p, zone.AuditAppraisalPublished, a.ID.String(), "", zone.Public, map[string]string{"site": site.ID.String()}))
			s.syncIndex(r.Context())
		}
		s.respondAppraisal(w, r, p, a.ID, http.StatusOK)
	}
}

// handleAppraisalReport renders the report of the latest check, redacted
// for the reader, as an HTML page (pdf false) or a PDF document, in the
// language of ?lang= (vi, the default, or en).
func (s *server) handleAppraisalReport(pdf bool) func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		lang, err := report.ParseLang(r.URL.Query().Get("lang"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		a, err := s.visibleAppraisal(r, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(a.Checks) == 0 {
			s.fail(w, r, zone.InternalError(nil, "appraisal %s has no check", a.ID))
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		site, err := s.Store.GetComponent(r.Context(), a.SiteID, zone.Secret)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v, err := s.view(a, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// The history lists every check as the reader's view has it: a
		// record kept before views holds its full verdict, redacted in v.
		shown := *a
		shown.Checks = make([]zone.CheckRecord, len(v.Checks))
		for i, c := range v.Checks {
			shown.Checks[i] = c.CheckRecord
		}
		people, err := s.signatories(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d := report.Data{Appraisal: shown, Site: site, Latest: v.Checks[0].CheckRecord,
			Result: v.Checks[0].Result, Reader: owner(p), GeneratedAt: time.Now(), Lang: lang,
			Issuer: s.Config.ReportIssuer, People: func(by string) report.Person { p, _ := people(by); return p }, Basemap: s.basemap(), Rules: s.Rules.Engine().RuleSet()}
		if d.Map, err = s.mapFor(d, p); err != nil {
			s.fail(w, r, err)
			return
		}
		var buf bytes.Buffer
		if pdf {
			err = report.RenderPDF(r.Context(), &buf, d)
		} else {
			err = report.Render(r.Context(), &buf, d)
		}
		if err != nil && r.Context().Err() != nil {
			// Stopped: the reader left, or the answer's deadline passed
			// (a 503 to a reader still waiting).
			s.fail(w, r, err)
			return
		}
		if err != nil {
			s.fail(w, r, zone.InternalError(err, "render report"))
			return
		}
		if pdf {
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `inline; filename="`+lang.Pick("bao-cao-tham-dinh-", "appraisal-report-")+a.ID.String()[:8]+`.pdf"`)
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		}
		format := "html"
		if pdf {
			format = "pdf"
		}
		// A report is a read of the appraisal at the reader's clearance,
		// kept in the trail as reads of classified features are.
		s.record(entry(p, zone.AuditReportRead, a.ID.String(), "", zone.Public, map[string]string{"format": format, "lang": string(lang)}))
		w.Header().Set("Content-Language", string(lang))
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
	}
}

// signatories names the authors appraisals record ("name (token id)",
// owner) by their tokens' holders and titles; held says the token names a
// person (else the person is the token's name, or nothing for a token
// not found).
func (s *server) signatories(ctx context.Context) (func(recorded string) (p report.Person, held bool), error) {
	ts, err := s.Store.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*zone.Token, len(ts))
	for i := range ts {
		byID[ts[i].ID] = &ts[i]
	}
	return func(recorded string) (report.Person, bool) {
		i := strings.LastIndex(recorded, " (")
		if i < 0 || !strings.HasSuffix(recorded, ")") {
			return report.Person{}, false
		}
		id, err := uuid.Parse(recorded[i+2 : len(recorded)-1])
		if err != nil {
			return report.Person{}, false
		}
		t, ok := byID[id]
		if !ok {
			return report.Person{}, false
		}
		name, title := t.Signatory()
		return report.Person{Name: name, Title: title}, t.Person != ""
	}, nil
}

// mapFor is what the report's map may show reader p around the footprint:
// the defence components in p's scope, with their approved zones. It draws
// nothing for the works above p's clearance, not even their consultation
// cells: the reader's stored view of the check (the findings table's
// referral row) is all a report tells of them, and the live index, which
// follows hidden works as they come, move and go, is asked only for what
// p may see. (Drawing the cells across the map's frame told an uncleared
// appraiser where hidden works lay tens of kilometres from a footprint
// that met none of them, with no referral and no limit on re-reading.)
func (s *server) mapFor(d report.Data, p zone.Principal) ([]report.MapFeature, error) {
	box, err := report.MapExtent(d)
	if err != nil {
		return nil, err
	}
	var out []report.MapFeature
	s.Index.Snapshot().SearchScope(box, p.Scope(), func(c *zone.Component) bool {
		if c.Layer == zone.LayerProjectSites {
			return true
		}
		out = append(out, report.MapFeature{Geometry: c.Geometry, Layer: c.Layer})
		for _, z := range c.Zones {
			if z.Approved() {
				out = append(out, report.MapFeature{Geometry: z.Geometry, Layer: c.Layer, Zone: z.Kind})
			}
		}
		return true
	})
	return out, nil
}

// basemapLayers is the offline base map: every GeoJSON file of
// data/basemap, decoded (a file that does not decode is left out; the
// data package's tests hold them valid).
func basemapLayers() []*geojson.FeatureCollection {
	var out []*geojson.FeatureCollection
	entries, err := fs.ReadDir(data.FS(), "basemap")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".geojson") {
			continue
		}
		if b, err := fs.ReadFile(data.FS(), "basemap/"+e.Name()); err == nil {
			if fc, err := geojson.UnmarshalFeatureCollection(b); err == nil {
				out = append(out, fc)
			}
		}
	}
	return out
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(raw string, def, lo, hi int, name string) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, zone.Errorf(zone.CodeInvalid, "%s %q: want a whole number from %d to %d", name, raw, lo, hi)
	}
	return n, nil
}
