package postgis

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestDBErrorOutages: the server errors that say the database cannot
// serve now (connections, shutdowns, and the pool's statement and
// idle-in-transaction limits firing) are unavailable, with a Retry-After,
// and never carry the server's message; a full disk is storage full;
// other server errors are internal.
func TestDBErrorOutages(t *testing.T) {
	for code, want := range map[string]zone.Code{
		sqlQueryCanceled:            zone.CodeUnavailable,
		sqlIdleInTransactionTimeout: zone.CodeUnavailable,
		sqlTooManyConnections:       zone.CodeUnavailable,
		sqlAdminShutdown:            zone.CodeUnavailable,
		sqlCannotConnectNow:         zone.CodeUnavailable,
		"08006":                     zone.CodeUnavailable, // connection_failure
		sqlDiskFull:                 zone.CodeStorageFull,
		"42P01":                     zone.CodeInternal, // undefined_table
	} {
		err := dbError(&pgconn.PgError{Code: code, Message: "canceling statement due to statement timeout"}, "read the token")
		if got := zone.ErrorCode(err); got != want {
			t.Errorf("SQLSTATE %s: %s (%v), want %s", code, got, err, want)
		}
		if want == zone.CodeUnavailable && zone.ErrorRetryAfter(err) <= 0 {
			t.Errorf("SQLSTATE %s: no Retry-After", code)
		}
		if msg := zone.ErrorMessage(err); msg == "" || strings.Contains(msg, "canceling statement") {
			t.Errorf("SQLSTATE %s: message %q", code, msg)
		}
	}
}
