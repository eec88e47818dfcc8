package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// tokenRecord is a token as stored: zone.Token does not marshal its hash.
type tokenRecord struct {
	zone.Token
	Hash []byte `json:"hash"`
}

func (r tokenRecord) token() *zone.Token {
	t := r.Token
	t.Hash = r.Hash
	return &t
}

// CreateToken stores a token, assigning its id and creation time when unset.
func (s *Store) CreateToken(ctx context.Context, tok *zone.Token) error {
	if !tok.Role.Valid() {
		return zone.Errorf(zone.CodeInvalid, "unknown role %q", tok.Role)
	}
	if !tok.Clearance.Valid() {
		return zone.Errorf(zone.CodeInvalid, "invalid clearance %d", int(tok.Clearance))
	}
	if len(tok.Hash) == 0 {
		return zone.Errorf(zone.CodeInvalid, "token %q has no secret hash", tok.Name)
	}
	if tok.ID == uuid.Nil {
		id, err := newID()
		if err != nil {
			return err
		}
		tok.ID = id
	}
	if tok.CreatedAt.IsZero() {
		tok.CreatedAt = s.now()
	}
	rec, err := json.Marshal(tokenRecord{Token: *tok, Hash: tok.Hash})
	if err != nil {
		return err
	}
	return s.update(ctx, "create token", func(t *txn) error {
		tokens, hashes := t.tx.Bucket(bucketTokens), t.tx.Bucket(bucketTokenHash)
		if tokens.Get(tok.ID[:]) != nil {
			return zone.Errorf(zone.CodeConflict, "token %s already exists", tok.ID)
		}
		if hashes.Get(tok.Hash) != nil {
			return zone.Errorf(zone.CodeConflict, "a token with this secret already exists")
		}
		if err := tokens.Put(tok.ID[:], rec); err != nil {
			return err
		}
		return hashes.Put(tok.Hash, tok.ID[:])
	})
}

func (t *txn) token(id []byte) (*zone.Token, error) {
	b := t.tx.Bucket(bucketTokens).Get(id)
	if b == nil {
		return nil, nil
	}
	var r tokenRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return r.token(), nil
}

// TokenByHash returns the token whose secret has this hash.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*zone.Token, error) {
	var tok *zone.Token
	err := s.view(ctx, "token by hash", func(t *txn) error {
		id := t.tx.Bucket(bucketTokenHash).Get(hash)
		if id == nil {
			return nil
		}
		var err error
		tok, err = t.token(id)
		return err
	})
	if err == nil && tok == nil {
		err = zone.Errorf(zone.CodeNotFound, "no such token")
	}
	return tok, err
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]zone.Token, error) {
	var out []zone.Token
	err := s.view(ctx, "list tokens", func(t *txn) error {
		return t.tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var r tokenRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, *r.token())
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

// RevokeToken marks a token revoked at the given time.
func (s *Store) RevokeToken(ctx context.Context, id uuid.UUID, at time.Time) error {
	return s.update(ctx, "revoke token", func(t *txn) error {
		tok, err := t.token(id[:])
		if err != nil {
			return err
		}
		if tok == nil {
			return zone.Errorf(zone.CodeNotFound, "token %s not found", id)
		}
		at := at.UTC()
		tok.RevokedAt = &at
		rec, err := json.Marshal(tokenRecord{Token: *tok, Hash: tok.Hash})
		if err != nil {
			return err
		}
		t.tx.OnCommit(func() { s.revoked.send(id) })
		return t.tx.Bucket(bucketTokens).Put(id[:], rec)
	})
}

// checkRecord is a check as stored in the checks bucket: its metadata and
// verdicts by clearance. Its results by clearance are in check_views, one
// key each, so a reader reads only its own. A record written before views
// were kept holds its full result here (Result) and no Verdicts.
type checkRecord struct {
	zone.CheckRecord
	Result   []byte   `json:"result,omitempty"`
	Verdicts []string `json:"verdicts,omitempty"`
	// A background re-check's record (impact.go): the readers it is shown
	// to, and their reasons and diffs, by clearance; nil for records
	// people made, shown to every reader.
	Shown   []bool            `json:"shown,omitempty"`
	Reasons []string          `json:"reasons,omitempty"`
	Diffs   []*zone.CheckDiff `json:"diffs,omitempty"`
}

// checkKey orders an appraisal's checks by time, then id.
func checkKey(appraisal uuid.UUID, at time.Time, id uuid.UUID) []byte {
	k := make([]byte, 0, 41)
	k = append(k, appraisal[:]...)
	k = binary.BigEndian.AppendUint64(k, uint64(at.UnixNano())^(1<<63))
	return append(k, id[:]...)
}

// viewKey is the key of one clearance's view of a check.
func viewKey(check []byte, cl zone.Classification) []byte {
	return append(slices.Clone(check), byte(cl))
}

var verdicts = []string{"clear", "incomplete", "review", "conflict"}

func validVerdict(v string) error {
	if slices.Contains(verdicts, v) {
		return nil
	}
	return zone.Errorf(zone.CodeInvalid, "verdict %q is not clear, incomplete, review or conflict", v)
}

// prepareCheck validates a record's views and returns its metadata
// record; every clearance must have a view (check.Record).
func (s *Store) prepareCheck(rec *zone.CheckRecord, appraisal uuid.UUID, by string) ([]byte, error) {
	if rec.Views[zone.Secret].Verdict == "" {
		return nil, zone.Errorf(zone.CodeInvalid, "a check record needs its views by clearance (check.Record)")
	}
	vs := make([]string, zone.Levels)
	for _, cl := range zone.Classifications() {
		v := rec.Views[cl]
		if err := validVerdict(v.Verdict); err != nil {
			return nil, err
		}
		if !json.Valid(v.Result) {
			return nil, zone.Errorf(zone.CodeInvalid, "the %s view of the check is not valid JSON", cl)
		}
		vs[cl] = v.Verdict
		rec.Views[cl].Result = slices.Clone(v.Result)
	}
	rec.Verdict, rec.Result = rec.Views[zone.Secret].Verdict, rec.Views[zone.Secret].Result
	if rec.ID == uuid.Nil {
		id, err := newID()
		if err != nil {
			return nil, err
		}
		rec.ID = id
	}
	rec.AppraisalID = appraisal
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	rec.CreatedAt = rec.CreatedAt.UTC()
	if rec.CreatedBy == "" {
		rec.CreatedBy = by
	}
	meta := *rec
	meta.Result, meta.Views = nil, [zone.Levels]zone.CheckView{}
	meta.Reason, meta.Diff = "", nil
	return json.Marshal(checkRecord{CheckRecord: meta, Verdicts: vs})
}

func (t *txn) putCheck(rec zone.CheckRecord, b []byte) error {
	checks, views := t.tx.Bucket(bucketChecks), t.tx.Bucket(bucketViews)
	checks.FillPercent, views.FillPercent = 0.9, 0.9
	key := checkKey(rec.AppraisalID, rec.CreatedAt, rec.ID)
	if err := checks.Put(key, b); err != nil {
		return err
	}
	for _, cl := range zone.Classifications() {
		if err := views.Put(viewKey(key, cl), rec.Views[cl].Result); err != nil {
			return err
		}
	}
	return nil
}

// storedAppraisal is an appraisal as stored: its verdicts by clearance
// (a record written before they were kept has only Verdict).
type storedAppraisal struct {
	zone.Appraisal
	Verdicts []string `json:"verdicts,omitempty"`
	// Marks are the stale marks by clearance (impact.go), Gen counts them,
	// Pending says a re-check is due.
	Marks   []*zone.StaleMark `json:"marks,omitempty"`
	Gen     int64             `json:"stale_gen,omitempty"`
	Pending bool              `json:"recheck_pending,omitempty"`
}

// verdictFor is the verdict a reader of clearance cl sees. A record without
// verdicts by clearance shows a reader below secret "review" for anything
// but "clear": the referral such a reader would get.
func (a *storedAppraisal) verdictFor(cl zone.Classification) string {
	if !cl.Valid() {
		cl = zone.Public
	}
	if len(a.Verdicts) == zone.Levels {
		return a.Verdicts[cl]
	}
	if cl == zone.Secret || a.Verdict == "clear" {
		return a.Verdict
	}
	return "review"
}

// appraisal reads an appraisal as stored (nil when there is none), with
// its checks, newest first, as a reader of clearance cl sees them.
func (t *txn) appraisal(id uuid.UUID, withChecks bool, cl zone.Classification) (*storedAppraisal, error) {
	b := t.tx.Bucket(bucketAppraisals).Get(id[:])
	if b == nil {
		return nil, nil
	}
	var a storedAppraisal
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	a.Checks = nil
	if !withChecks {
		return &a, nil
	}
	if !cl.Valid() {
		cl = zone.Public
	}
	views := t.tx.Bucket(bucketViews)
	cur := t.tx.Bucket(bucketChecks).Cursor()
	// Newest first: walk the appraisal's keys backwards from past its end.
	end := append(slices.Clone(id[:]), bytes.Repeat([]byte{0xff}, 24)...)
	k, v := cur.Seek(end)
	if k == nil {
		k, v = cur.Last()
	} else if !bytes.HasPrefix(k, id[:]) || bytes.Compare(k, end) > 0 {
		k, v = cur.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, id[:]); k, v = cur.Prev() {
		var r checkRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, err
		}
		if len(r.Shown) == zone.Levels && !r.Shown[cl] {
			continue // a background re-check this reader is not shown
		}
		rec := r.CheckRecord
		if len(r.Reasons) == zone.Levels {
			rec.Reason = r.Reasons[cl]
		}
		if len(r.Diffs) == zone.Levels {
			rec.Diff = r.Diffs[cl]
		}
		if len(r.Verdicts) == zone.Levels {
			rec.Verdict, rec.ViewOf = r.Verdicts[cl], cl
			rec.Result = slices.Clone(views.Get(viewKey(k, cl)))
		} else {
			// written before views were kept: the full result, to redact
			rec.Result, rec.ViewOf = r.Result, zone.Secret
		}
		if cl != zone.Secret {
			rec.DataVersion = 0
		}
		a.Checks = append(a.Checks, rec)
	}
	return &a, nil
}

// forReader is the appraisal as a reader of clearance cl sees it.
func (a *storedAppraisal) forReader(cl zone.Classification) *zone.Appraisal {
	out := a.Appraisal
	out.Verdict = a.verdictFor(cl)
	out.Stale = nil
	if !cl.Valid() {
		cl = zone.Public
	}
	if len(a.Marks) == zone.Levels && a.Marks[cl] != nil {
		m := *a.Marks[cl]
		out.Stale = &m
	}
	return &out
}

func (t *txn) putAppraisal(a *storedAppraisal) error {
	stored := *a
	stored.Checks, stored.Stale = nil, nil
	b, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketAppraisals).Put(a.ID[:], b)
}

// setSiteProperty changes one property of an appraisal's site, as a new
// version of that component (so the change feed carries it). A site deleted
// since is left alone.
func (t *txn) setSiteProperties(siteID uuid.UUID, props map[string]any, by string) error {
	old, err := t.component(siteID)
	if err != nil || old == nil {
		return err
	}
	c := old.Clone()
	for k, v := range props {
		c.Properties[k] = v
	}
	if probs := c.Validate(); len(probs) > 0 {
		return invalid("project site", probs)
	}
	c.Version++
	c.UpdatedAt, c.UpdatedBy = later(t.s.now(), old.UpdatedAt), by
	return t.put(c, old)
}

// CreateAppraisal stores the project site, the appraisal and its first
// check in one transaction.
func (s *Store) CreateAppraisal(ctx context.Context, a *zone.Appraisal, site *zone.Component, first zone.CheckRecord) (*zone.Appraisal, error) {
	a = cloneAppraisal(a)
	if a.Status == "" {
		a.Status = zone.StatusPending
	}
	if err := validStatus(a.Status); err != nil {
		return nil, err
	}
	site = site.Clone()
	if site.Layer == "" {
		site.Layer = zone.LayerProjectSites
	}
	if site.Layer != zone.LayerProjectSites {
		return nil, zone.Errorf(zone.CodeInvalid, "a project site belongs to layer %s, not %s", zone.LayerProjectSites, site.Layer)
	}
	if a.Name == "" {
		a.Name = site.Name
	}
	if site.Properties == nil {
		site.Properties = map[string]any{}
	}
	site.Properties[zone.PropVerdict] = first.Views[zone.Public].Verdict
	site.Properties[zone.PropVerdicts] = zone.SiteVerdicts(first.Views)
	site.Properties[zone.PropStatus] = a.Status
	if probs := site.Validate(); len(probs) > 0 {
		return nil, invalid("project site", probs)
	}
	now := s.now()
	if a.ID == uuid.Nil {
		id, err := newID()
		if err != nil {
			return nil, err
		}
		a.ID = id
	}
	if site.ID == uuid.Nil {
		id, err := newID()
		if err != nil {
			return nil, err
		}
		site.ID = id
	}
	site.Version, site.CreatedAt, site.UpdatedAt, site.CreatedBy, site.UpdatedBy = 1, now, now, a.CreatedBy, a.CreatedBy
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.CreatedAt = a.CreatedAt.UTC()
	recBytes, err := s.prepareCheck(&first, a.ID, a.CreatedBy)
	if err != nil {
		return nil, err
	}
	a.UpdatedAt, a.SiteID, a.Verdict = now, site.ID, first.Verdict
	stored := &storedAppraisal{Appraisal: *a, Verdicts: make([]string, zone.Levels)}
	for _, cl := range zone.Classifications() {
		stored.Verdicts[cl] = first.Views[cl].Verdict
	}
	err = s.update(ctx, "create appraisal", func(t *txn) error {
		if t.tx.Bucket(bucketAppraisals).Get(a.ID[:]) != nil {
			return zone.Errorf(zone.CodeConflict, "appraisal %s already exists", a.ID)
		}
		if t.comps.Get(site.ID[:]) != nil {
			return zone.Errorf(zone.CodeConflict, "component %s already exists", site.ID)
		}
		if err := t.put(site, nil); err != nil {
			return err
		}
		if err := t.putAppraisal(stored); err != nil {
			return err
		}
		return t.putCheck(first, recBytes)
	})
	if err != nil {
		return nil, err
	}
	out := *a
	rec := first
	rec.Views, rec.ViewOf = [zone.Levels]zone.CheckView{}, zone.Secret
	out.Checks = []zone.CheckRecord{rec}
	return &out, nil
}

// GetAppraisal returns an appraisal with its checks, newest first, as a
// reader of clearance cl sees them.
func (s *Store) GetAppraisal(ctx context.Context, id uuid.UUID, cl zone.Classification) (*zone.Appraisal, error) {
	var a *zone.Appraisal
	err := s.view(ctx, "get appraisal", func(t *txn) error {
		st, err := t.appraisal(id, true, cl)
		if st != nil {
			a = st.forReader(cl)
		}
		return err
	})
	if err == nil && a == nil {
		err = zone.Errorf(zone.CodeNotFound, "appraisal %s not found", id)
	}
	return a, err
}

// ListAppraisals returns one page of the matching appraisals, newest first,
// and how many match.
func (s *Store) ListAppraisals(ctx context.Context, q zone.AppraisalQuery) ([]zone.Appraisal, int, error) {
	text := strings.ToLower(q.Text)
	var all []zone.Appraisal
	err := s.view(ctx, "list appraisals", func(t *txn) error {
		return t.tx.Bucket(bucketAppraisals).ForEach(func(k, v []byte) error {
			var st storedAppraisal
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			a := st.forReader(q.Clearance)
			if (q.CreatedBy != "" && a.CreatedBy != q.CreatedBy) || (q.Status != "" && a.Status != q.Status) ||
				(q.Verdict != "" && a.Verdict != q.Verdict) || (text != "" && !strings.Contains(strings.ToLower(a.Name), text)) ||
				(q.Stale && a.Stale == nil) {
				return nil
			}
			a.Checks = nil
			all = append(all, *a)
			return nil
		})
	})
	if err != nil {
		return nil, 0, err
	}
	sort.Slice(all, func(i, j int) bool {
		if q.WorseFirst {
			if wi, wj := worseApproved(&all[i]), worseApproved(&all[j]); wi != wj {
				return wi
			}
		}
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.After(all[j].CreatedAt)
		}
		return bytes.Compare(all[i].ID[:], all[j].ID[:]) > 0
	})
	return page(all, q.Offset, q.Limit), len(all), nil
}

// AddCheck appends a check record and makes its verdicts the appraisal's
// and its site's.
func (s *Store) AddCheck(ctx context.Context, rec zone.CheckRecord, cl zone.Classification) (*zone.Appraisal, error) {
	recBytes, err := s.prepareCheck(&rec, rec.AppraisalID, "")
	if err != nil {
		return nil, err
	}
	var out *zone.Appraisal
	err = s.update(ctx, "add check", func(t *txn) error {
		a, err := t.appraisal(rec.AppraisalID, false, cl)
		if err != nil {
			return err
		}
		if a == nil {
			return zone.Errorf(zone.CodeNotFound, "appraisal %s not found", rec.AppraisalID)
		}
		if err := t.putCheck(rec, recBytes); err != nil {
			return err
		}
		a.clearMarks(true)
		a.Verdict, a.UpdatedAt = rec.Verdict, later(s.now(), a.UpdatedAt)
		a.Verdicts = make([]string, zone.Levels)
		for _, c := range zone.Classifications() {
			a.Verdicts[c] = rec.Views[c].Verdict
		}
		if err := t.putAppraisal(a); err != nil {
			return err
		}
		props := map[string]any{zone.PropVerdict: rec.Views[zone.Public].Verdict, zone.PropVerdicts: zone.SiteVerdicts(rec.Views)}
		if err := t.setSiteProperties(a.SiteID, props, rec.CreatedBy); err != nil {
			return err
		}
		if a, err = t.appraisal(a.ID, true, cl); err == nil {
			out = a.forReader(cl)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecideAppraisal records a reviewer's decision and sets the status of the
// appraisal and its site.
func (s *Store) DecideAppraisal(ctx context.Context, id uuid.UUID, d zone.Decision, cl zone.Classification) (*zone.Appraisal, error) {
	if d.Outcome == zone.StatusPending {
		return nil, zone.Errorf(zone.CodeInvalid, "a decision's outcome is approved, approved_with_conditions or rejected, not pending")
	}
	if err := validStatus(d.Outcome); err != nil {
		return nil, err
	}
	if d.At.IsZero() {
		d.At = s.now()
	}
	d.At = d.At.UTC()
	var out *zone.Appraisal
	err := s.update(ctx, "decide appraisal", func(t *txn) error {
		a, err := t.appraisal(id, false, cl)
		if err != nil {
			return err
		}
		if a == nil {
			return zone.Errorf(zone.CodeNotFound, "appraisal %s not found", id)
		}
		a.Status, a.Decision, a.UpdatedAt = d.Outcome, &d, later(s.now(), a.UpdatedAt)
		a.clearMarks(false)
		if err := t.putAppraisal(a); err != nil {
			return err
		}
		if err := t.setSiteProperties(a.SiteID, map[string]any{zone.PropStatus: d.Outcome}, d.By); err != nil {
			return err
		}
		if a, err = t.appraisal(id, true, cl); err == nil {
			out = a.forReader(cl)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func validStatus(s string) error {
	switch s {
	case zone.StatusPending, zone.StatusApproved, zone.StatusApprovedWithConditions, zone.StatusRejected:
		return nil
	}
	return zone.Errorf(zone.CodeInvalid, "status %q is not pending, approved, approved_with_conditions or rejected", s)
}

func cloneAppraisal(a *zone.Appraisal) *zone.Appraisal {
	c := *a
	c.Checks = nil
	if a.Decision != nil {
		d := *a.Decision
		c.Decision = &d
	}
	return &c
}

// ruleSetRecord is one saved rule set version.
type ruleSetRecord struct {
	Doc     []byte    `json:"doc"`
	SavedBy string    `json:"saved_by"`
	SavedAt time.Time `json:"saved_at"`
}

// ActiveRuleSet returns the latest saved rule set.
func (s *Store) ActiveRuleSet(ctx context.Context) (string, []byte, error) {
	var version string
	var doc []byte
	err := s.view(ctx, "active rule set", func(t *txn) error {
		v := t.meta.Get(metaRuleSet)
		if v == nil {
			return zone.Errorf(zone.CodeNotFound, "no rule set was saved")
		}
		b := t.tx.Bucket(bucketRuleSets).Get(v)
		if b == nil {
			return zone.InternalError(nil, "active rule set %q is missing", v)
		}
		var r ruleSetRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		version, doc = string(v), r.Doc
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return version, doc, nil
}

// SaveRuleSet stores a rule set version and makes it active.
func (s *Store) SaveRuleSet(ctx context.Context, version string, doc []byte, by string) error {
	if strings.TrimSpace(version) == "" {
		return zone.Errorf(zone.CodeInvalid, "a rule set needs a version")
	}
	b, err := json.Marshal(ruleSetRecord{Doc: doc, SavedBy: by, SavedAt: s.now()})
	if err != nil {
		return err
	}
	return s.update(ctx, "save rule set", func(t *txn) error {
		sets := t.tx.Bucket(bucketRuleSets)
		if sets.Get([]byte(version)) != nil {
			return zone.Errorf(zone.CodeConflict, "rule set version %q was saved before; give the new one another version", version)
		}
		if err := sets.Put([]byte(version), b); err != nil {
			return err
		}
		return t.meta.Put(metaRuleSet, []byte(version))
	})
}
