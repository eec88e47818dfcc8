package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// This file is what the server writes to the audit trail (package audit)
// and the guards in front of the actions it audits: the trail's backlog
// (Admit), a probing token's suspension, and the caller's quota.
//
// Each entry is classified by what it reveals: a check (or an appraisal's)
// by the caller's clearance, since its verdict and whether consultation
// areas were touched are what a caller of that clearance was told; an edit
// or a read by the component's classification; tokens, rule sets,
// decisions and publications are public. An entry never names a hidden
// work: a check's entry holds the footprint's hash and box, the verdict
// as given and whether a referral was made, not the cells behind it (the
// probing alert, classified at the flagged caller's clearance, holds
// those).
//
// Reads: a feature above public read by id (GET .../items/{id}) is
// recorded, and `zoneplan export` records each export. Item pages, tiles
// and search are not: a page holds up to 10,000 features and a map view
// fetches tiles by the hundred, so an entry each would outweigh the rest
// of the trail; what they return is bounded by the caller's clearance,
// and each request is in the request log.
//
// Before an auditable action the server asks the recorder to admit it
// (admit): past the recorder's backlog the action is refused with 503
// rather than done unaudited (package audit).

// entry is an audit entry of action by p; detail is encoded as JSON
// (nil leaves it to the caller).
func entry(p zone.Principal, action, object, layer string, cl zone.Classification, detail any) zone.AuditEntry {
	var b []byte
	if detail != nil {
		var err error
		if b, err = json.Marshal(detail); err != nil {
			b = []byte(`{}`)
		}
	}
	return zone.AuditEntry{Action: action, ActorID: p.TokenID, Actor: p.Name, Role: p.Role, ActorClearance: level(p.Clearance),
		Object: object, Layer: layer, Classification: level(cl), Detail: b}
}

// auditable refuses an auditable action while the trail cannot take entries.
func (s *server) auditable() error {
	if s.Audit == nil {
		return nil
	}
	return s.Audit.Admit()
}

// writeContext is the context of an audited store write: the request's
// values without its cancellation. A write, once started, runs to its end
// (the store's own call timeouts bound it) whether or not the client
// stays, so a write that lands is never answered as a failure and left
// out of the trail: were it under the request's context, a client gone
// (or the answer deadline passed) while its COMMIT was in flight would
// make the store report an error for a write that committed, and the
// handler would skip its audit entry. Every store write a handler records
// is made under this, and what follows it to the entry (recordNow and the
// rest) does not heed the request's context.
func writeContext(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

// record queues an entry; recordNow appends it without waiting for the
// recorder's tick (for actions that wrote to the store anyway).
func (s *server) record(e zone.AuditEntry) {
	if s.Audit != nil {
		s.Audit.Record(e)
	}
}

func (s *server) recordNow(e zone.AuditEntry) {
	if s.Audit != nil {
		s.Audit.RecordNow(e)
	}
}

// limited wraps a check or appraisal route (kind k) between authed and
// admit: guard refuses the request before its body is received or a slot
// is waited for, so a suspended or throttled token takes nothing from the
// body memory budget or the gates others share (its refusals cost it
// nothing, and must cost no one else anything either). What needs the
// body (the daily budget, the feature cap) is spent by the handler.
func (s *server) limited(k quota.Kind, h func(http.ResponseWriter, *http.Request, zone.Principal)) func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		if err := s.guard(p, k); err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r, p)
	}
}

// guard admits one check or appraisal request of p before anything is
// read (limited): the trail must take its entry, a suspended token is
// refused until its suspension ends, and the request must be within p's
// rate.
func (s *server) guard(p zone.Principal, k quota.Kind) error {
	if err := s.auditable(); err != nil {
		return err
	}
	if until, ok := s.Probing.Suspended(p.TokenID); ok && p.Clearance < zone.Secret {
		return &zone.Error{Code: zone.CodeRateLimited, RetryAfter: time.Until(until), Message: "this token's checks and appraisals are suspended until " +
			until.UTC().Format(time.RFC3339) + ": its checks touched consultation areas unusually often; an administrator can lift the suspension"}
	}
	return s.Quota.Take(p, k)
}

// checkDetail is what a check's entry says (appendJSON writes it).
type checkDetail struct {
	Footprint    [32]byte   // footprint_sha256: of the footprints' WKB, in order
	BBox         [4]float64 // bbox: west, south, east, north
	Features     int        // features
	Verdict      string     // verdict, as given to the caller
	Findings     int        // findings, as given (a referral counts one)
	Consultation bool       // consultation: a referral was given
	RuleSet      string     // ruleset
	Site         string     // site: an appraisal's project site
}

// appendJSON appends d as a JSON object. Written by hand rather than by
// encoding/json because every check makes one: this is a tenth of the
// time and garbage.
func (d *checkDetail) appendJSON(b []byte) []byte {
	b = append(b, `{"footprint_sha256":"`...)
	b = hex.AppendEncode(b, d.Footprint[:])
	b = append(b, `","bbox":[`...)
	for i, v := range d.BBox {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	b = append(b, `],"features":`...)
	b = strconv.AppendInt(b, int64(d.Features), 10)
	b = append(b, `,"verdict":`...)
	b = appendJSONString(b, d.Verdict)
	b = append(b, `,"findings":`...)
	b = strconv.AppendInt(b, int64(d.Findings), 10)
	b = append(b, `,"consultation":`...)
	b = strconv.AppendBool(b, d.Consultation)
	b = append(b, `,"ruleset":`...)
	b = appendJSONString(b, d.RuleSet)
	if d.Site != "" {
		b = append(b, `,"site":`...)
		b = appendJSONString(b, d.Site)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped (as \u00XX), the rest as it is (UTF-8).
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// footprintDigest hashes the footprints' geometries (WKB, in order) and
// gives their box.
func footprintDigest(fps []check.Footprint) ([32]byte, [4]float64) {
	h := sha256.New()
	enc := wkb.NewEncoder(h)
	var b [4]float64
	for i, fp := range fps {
		_ = enc.Encode(fp.Geometry)
		bb := fp.Geometry.Bound()
		if i == 0 {
			b = [4]float64{bb.Min[0], bb.Min[1], bb.Max[0], bb.Max[1]}
			continue
		}
		b = [4]float64{min(b[0], bb.Min[0]), min(b[1], bb.Min[1]), max(b[2], bb.Max[0]), max(b[3], bb.Max[1])}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, b
}

// recordCheck records a check (or an appraisal's check) as given to p,
// and tells the probing detector of its referrals.
func (s *server) recordCheck(r *http.Request, p zone.Principal, action, object string, fps []check.Footprint, res check.Result, site string) {
	sum, box := footprintDigest(fps)
	d := checkDetail{Footprint: sum, BBox: box, Features: len(fps), Verdict: string(res.Verdict),
		Findings: len(res.Findings), Consultation: len(res.Consulted) > 0, RuleSet: res.RulesetVersion, Site: site}
	e := entry(p, action, object, "", p.Clearance, nil)
	e.Detail = d.appendJSON(make([]byte, 0, 256))
	if action == zone.AuditCheck {
		s.record(e)
	} else {
		s.recordNow(e) // an appraisal was written anyway
	}
	if s.Probing == nil || len(res.Consulted) == 0 {
		return
	}
	// Each footprint that got a referral is a sighting of its own: a
	// FeatureCollection's features each got their own answer.
	for _, c := range res.Consulted {
		digest := sum // a single footprint's is the request's
		if len(fps) > 1 {
			if i := slices.IndexFunc(fps, func(fp check.Footprint) bool { return fp.Index == c.Index }); i >= 0 {
				digest, _ = footprintDigest(fps[i : i+1])
			}
		}
		if a := s.Probing.Observe(p, digest, c.Cells); a != nil {
			// Secret: the alert's cells say where hidden works' areas lie,
			// more than the caller was told (one referral per footprint).
			s.recordNow(entry(p, zone.AuditProbing, p.TokenID.String(), "", zone.Secret, a.Detail()))
			s.Log.Warn("probing alert: a token's checks touch consultation areas unusually often", "request_id", requestID(r.Context()),
				"token_id", p.TokenID, "caller", p.Name, "footprints", a.Footprints, "cells", len(a.Cells), "suspended_until", a.SuspendedUntil)
		}
	}
}

// editDetail is what an edit's entry says.
type editDetail struct {
	BeforeVersion int64 `json:"before_version,omitempty"`
	AfterVersion  int64 `json:"after_version,omitempty"`
}

// recordEdit records a create (old nil), update or delete (c nil) of a
// component, classified at the higher of its classifications before and
// after.
func (s *server) recordEdit(p zone.Principal, action string, old, c *zone.Component) {
	var d editDetail
	var id uuid.UUID
	var layer string
	cl := zone.Public
	if old != nil {
		d.BeforeVersion, id, layer, cl = old.Version, old.ID, old.Layer, old.Classification
	}
	if c != nil {
		d.AfterVersion, id, layer, cl = c.Version, c.ID, c.Layer, max(cl, c.Classification)
	}
	s.recordNow(entry(p, action, id.String(), layer, cl, d))
}

// refusals throttles token.refused entries: one per token a minute, with
// the count of refusals since the last, so a client retrying a revoked
// token cannot flood the trail.
type refusals struct {
	mu   sync.Mutex
	last map[uuid.UUID]refusal
}

type refusal struct {
	at    time.Time
	count int
}

const refusalEvery = time.Minute

// tokenRefused records the use of a revoked or expired token.
func (s *server) tokenRefused(t *zone.Token, now time.Time) {
	s.refused.mu.Lock()
	if s.refused.last == nil {
		s.refused.last = map[uuid.UUID]refusal{}
	}
	r := s.refused.last[t.ID]
	r.count++
	write := now.Sub(r.at) >= refusalEvery
	n := r.count
	if write {
		r = refusal{at: now}
	}
	s.refused.last[t.ID] = r
	if len(s.refused.last) > 10_000 { // forget the old ones
		for id, x := range s.refused.last {
			if now.Sub(x.at) >= refusalEvery {
				delete(s.refused.last, id)
			}
		}
	}
	s.refused.mu.Unlock()
	if !write {
		return
	}
	d := struct {
		Revoked  bool `json:"revoked"`
		Expired  bool `json:"expired"`
		Refusals int  `json:"refusals"` // since the last entry for this token
	}{t.RevokedAt != nil, t.ExpiresAt != nil && !now.Before(*t.ExpiresAt), n}
	s.record(entry(t.Principal(), zone.AuditTokenRefused, t.ID.String(), "", zone.Public, d))
}
