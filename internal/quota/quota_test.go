package quota

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func caller(cl zone.Classification) zone.Principal {
	return zone.Principal{TokenID: uuid.New(), Name: "An", Role: zone.RoleAppraiser, Clearance: cl}
}

// TestRate: a burst, then a refusal saying how long to wait, and the
// bucket refilled at the rate.
func TestRate(t *testing.T) {
	c := &clock{time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	l := New(Config{Checks: Limits{Rate: 6, Burst: 2}, Now: c.now}) // one every 10 s
	p := caller(zone.Restricted)
	for i := range 2 {
		if err := l.Take(p, Checks); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	err := l.Take(p, Checks)
	if zone.ErrorCode(err) != zone.CodeRateLimited || zone.ErrorRetryAfter(err) != 10*time.Second {
		t.Fatalf("third take: %v (retry after %s), want rate limited for 10 s", err, zone.ErrorRetryAfter(err))
	}
	c.t = c.t.Add(4 * time.Second)
	if err := l.Take(p, Checks); zone.ErrorRetryAfter(err) != 6*time.Second {
		t.Fatalf("4 s later: %v, want 6 s more", err)
	}
	c.t = c.t.Add(6 * time.Second)
	if err := l.Take(p, Checks); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	if err := l.Take(caller(zone.Restricted), Checks); err != nil {
		t.Fatalf("another token has its own bucket: %v", err)
	}
	if err := l.Take(p, Appraisals); err != nil {
		t.Fatalf("appraisals have no rate here: %v", err)
	}
	for range 100 {
		if err := l.Take(caller(zone.Secret), Checks); err != nil {
			t.Fatalf("a secret caller is limited: %v", err)
		}
	}
}

// TestDailyBudget: units a day in UTC+7; a request over what is left is
// refused whole, until Vietnam's midnight.
func TestDailyBudget(t *testing.T) {
	// 16:30 UTC is 23:30 in Vietnam: the day ends in 30 minutes.
	c := &clock{time.Date(2025, 3, 1, 16, 30, 0, 0, time.UTC)}
	l := New(Config{Checks: Limits{Daily: 10}, Now: c.now})
	p := caller(zone.Public)
	if err := l.Spend(p, Checks, 7); err != nil {
		t.Fatal(err)
	}
	err := l.Spend(p, Checks, 4)
	if zone.ErrorCode(err) != zone.CodeRateLimited || zone.ErrorRetryAfter(err) != 30*time.Minute {
		t.Fatalf("over the budget: %v (retry after %s), want until midnight UTC+7, 30 min", err, zone.ErrorRetryAfter(err))
	}
	if err := l.Spend(p, Checks, 3); err != nil {
		t.Fatalf("what is left: %v", err)
	}
	if err := l.Spend(p, Checks, 1); err == nil {
		t.Fatal("a spent budget gave more")
	}
	c.t = c.t.Add(30 * time.Minute) // 00:00 in Vietnam
	if err := l.Spend(p, Checks, 10); err != nil {
		t.Fatalf("the next day: %v", err)
	}
	if s := l.Stats(); s.RefusedDaily["checks"] != 2 || s.Tokens != 1 {
		t.Errorf("stats %+v", s)
	}
	if l.MaxFeatures(caller(zone.Secret)) != 0 || New(DefaultConfig()).MaxFeatures(p) != DefaultMaxFeatures {
		t.Error("feature cap: secret callers have none, others the default")
	}
}
