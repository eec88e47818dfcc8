// Package quota limits how much one token below secret clearance may check
// and appraise: a rate (a token bucket per token: Burst requests at once,
// refilled at Rate a minute) and a daily budget (units a calendar day in
// Vietnam's time, UTC+7, which has no daylight saving), for checks and for
// appraisals apart, and a cap on the features of one check. Callers cleared
// for secret see everything a check could tell them and are not limited.
//
// A request over a limit is refused with zone.CodeRateLimited (429) and a
// RetryAfter: until the bucket holds a request again, or until the next
// day. A check spends one request of its rate and, of its budget, one unit
// per footprint it checks (a FeatureCollection of 20 spends 20); an
// appraisal (created or rechecked) one of each. A check over the feature
// cap is refused while it is read, as content over a limit
// (zone.CodeLimit, 422): retrying does not help, so there is no
// Retry-After.
//
// The state is per server instance, in memory: sharing it would cost a
// database round trip on every check (which the audit trail's recorder
// exists to avoid) and would fail with the database, when checks are meant
// to go on from memory. Behind a load balancer with n instances a token can
// therefore do up to n times the limits; set them for that. A restart
// starts every budget afresh. The counters (Stats) are for metrics.
package quota

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Kind is what a limit applies to.
type Kind int

const (
	Checks Kind = iota
	Appraisals
	kinds
)

func (k Kind) String() string {
	if k == Appraisals {
		return "appraisals"
	}
	return "checks"
}

// Limits are one kind's limits. A zero field is no limit of that sort.
type Limits struct {
	Rate  float64 // requests a minute, sustained
	Burst int     // requests at once (the bucket's size); at least 1 when Rate is set
	Daily int     // units a day
}

// Config is every limit.
type Config struct {
	Checks     Limits
	Appraisals Limits
	// MaxFeatures caps the features of one check of a limited caller; 0:
	// the check API's own maximum.
	MaxFeatures int
	Now         func() time.Time // nil: time.Now
}

// Defaults: enough for one appraiser's working day (tens of projects, each
// drawn and checked a few times, some uploaded as several parcels), far
// too little to sweep a province cell by cell.
const (
	DefaultCheckRate      = 10  // a minute
	DefaultCheckBurst     = 20  // at once
	DefaultCheckDaily     = 500 // footprints a day
	DefaultAppraisalRate  = 2
	DefaultAppraisalBurst = 5
	DefaultAppraisalDaily = 50
	DefaultMaxFeatures    = 50
)

// DefaultConfig returns the default limits.
func DefaultConfig() Config {
	return Config{
		Checks:      Limits{Rate: DefaultCheckRate, Burst: DefaultCheckBurst, Daily: DefaultCheckDaily},
		Appraisals:  Limits{Rate: DefaultAppraisalRate, Burst: DefaultAppraisalBurst, Daily: DefaultAppraisalDaily},
		MaxFeatures: DefaultMaxFeatures,
	}
}

// vietnam is the time zone of the daily budgets' day.
func vietnam() *time.Location { return time.FixedZone("ICT", 7*3600) }

// Limiter keeps every token's buckets and budgets. It is safe for
// concurrent use.
type Limiter struct {
	cfg    Config
	limits [kinds]Limits
	day    *time.Location // of the daily budgets

	mu     sync.Mutex
	tokens map[uuid.UUID]*usage

	refusedRate, refusedDaily [kinds]atomic.Int64
}

// usage is one token's state.
type usage struct {
	bucket [kinds]float64   // requests in the bucket
	filled [kinds]time.Time // when the bucket was last topped up
	day    time.Time        // the day spent counts
	spent  [kinds]int
}

// New returns a limiter with cfg's limits.
func New(cfg Config) *Limiter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{cfg: cfg, limits: [kinds]Limits{cfg.Checks, cfg.Appraisals}, day: vietnam(), tokens: map[uuid.UUID]*usage{}}
	for k := range l.limits {
		if l.limits[k].Rate > 0 && l.limits[k].Burst < 1 {
			l.limits[k].Burst = 1
		}
	}
	return l
}

// Limited reports whether p's requests are limited: a caller below secret.
func (l *Limiter) Limited(p zone.Principal) bool { return l != nil && p.Clearance < zone.Secret }

// MaxFeatures is the feature cap of one check by p; 0 for none.
func (l *Limiter) MaxFeatures(p zone.Principal) int {
	if !l.Limited(p) {
		return 0
	}
	return l.cfg.MaxFeatures
}

func (l *Limiter) usage(id uuid.UUID, now time.Time) *usage {
	u := l.tokens[id]
	if u == nil {
		u = &usage{}
		for k := range u.bucket {
			u.bucket[k] = float64(l.limits[k].Burst)
			u.filled[k] = now
		}
		l.tokens[id] = u
	}
	if day := dayOf(now, l.day); !day.Equal(u.day) {
		u.day, u.spent = day, [kinds]int{}
	}
	return u
}

func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// Take takes one request of kind k from p's bucket, or refuses with
// CodeRateLimited and the wait until one is back.
func (l *Limiter) Take(p zone.Principal, k Kind) error {
	if !l.Limited(p) || l.limits[k].Rate <= 0 {
		return nil
	}
	lim := l.limits[k]
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.usage(p.TokenID, now)
	perSec := lim.Rate / 60
	u.bucket[k] = math.Min(float64(lim.Burst), u.bucket[k]+now.Sub(u.filled[k]).Seconds()*perSec)
	u.filled[k] = now
	if u.bucket[k] >= 1 {
		u.bucket[k]--
		return nil
	}
	l.refusedRate[k].Add(1)
	wait := time.Duration(math.Ceil((1 - u.bucket[k]) / perSec * float64(time.Second)))
	return &zone.Error{Code: zone.CodeRateLimited, RetryAfter: wait, Message: fmt.Sprintf(
		"too many %s: this token may make %g a minute (%d at once); try again in %s", k, lim.Rate, lim.Burst, roundUp(wait))}
}

// Spend spends n units of p's daily budget of kind k, or refuses with
// CodeRateLimited and the wait until the next day, spending nothing.
func (l *Limiter) Spend(p zone.Principal, k Kind, n int) error {
	if !l.Limited(p) || l.limits[k].Daily <= 0 {
		return nil
	}
	lim := l.limits[k]
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.usage(p.TokenID, now)
	if u.spent[k]+n <= lim.Daily {
		u.spent[k] += n
		return nil
	}
	l.refusedDaily[k].Add(1)
	wait := u.day.AddDate(0, 0, 1).Sub(now)
	unit := map[Kind]string{Checks: "footprints checked", Appraisals: "appraisals"}[k]
	return &zone.Error{Code: zone.CodeRateLimited, RetryAfter: wait, Message: fmt.Sprintf(
		"this token's daily budget of %d %s is spent (%d left, %d asked); it renews at midnight (UTC+7), in %s",
		lim.Daily, unit, lim.Daily-u.spent[k], n, roundUp(wait))}
}

// roundUp is d in whole seconds, at least one (as Retry-After says it).
func roundUp(d time.Duration) time.Duration {
	return max(time.Second, (d + time.Second - 1).Truncate(time.Second))
}

// Stats are the limiter's counters, for metrics.
type Stats struct {
	Tokens       int              // tokens with state
	RefusedRate  map[string]int64 // refusals by kind ("checks", "appraisals") for the rate
	RefusedDaily map[string]int64 // and for the daily budget
}

// Stats returns the limiter's counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	n := len(l.tokens)
	l.mu.Unlock()
	s := Stats{Tokens: n, RefusedRate: map[string]int64{}, RefusedDaily: map[string]int64{}}
	for k := range kinds {
		s.RefusedRate[k.String()] = l.refusedRate[k].Load()
		s.RefusedDaily[k.String()] = l.refusedDaily[k].Load()
	}
	return s
}
