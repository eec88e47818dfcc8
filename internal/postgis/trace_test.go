package postgis

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/pgtest"
)

func TestStatementKind(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT 1":                           "SELECT",
		"  \n\tselect * from t":              "SELECT",
		"-- why\nINSERT INTO t VALUES (1)":   "INSERT",
		"/* a */ /* b */ with x as (select)": "WITH",
		"(SELECT 1) UNION (SELECT 2)":        "SELECT",
		"EXPLAIN SELECT 1":                   "OTHER",
		"":                                   "OTHER",
		"-- only a comment":                  "OTHER",
	} {
		if got := statementKind(sql); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", sql, got, want)
		}
	}
}

// The tracer sees the store's own statements, with their errors.
func TestObserveStatement(t *testing.T) {
	dsn := pgtest.New(t)
	if err := Migrate(context.Background(), dsn, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	failed := 0
	st, err := Open(context.Background(), dsn, Options{ObserveStatement: func(kind string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen[kind]++
		if err != nil {
			failed++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DataVersion(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _ = st.Pool().Exec(context.Background(), "SELECT * FROM no_such_table")
	mu.Lock()
	defer mu.Unlock()
	if seen["SELECT"] < 2 || failed < 1 {
		t.Fatalf("traced %v with %d failures; want the data version's SELECT and the failed one", seen, failed)
	}
}
