package postgis

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// PostgreSQL error codes the store maps (SQLSTATE, Appendix A of the manual).
const (
	sqlUniqueViolation          = "23505"
	sqlCheckViolation           = "23514"
	sqlNotNullViolation         = "23502"
	sqlForeignKeyViolation      = "23503"
	sqlInvalidText              = "22P02" // invalid_text_representation
	sqlUntranslatable           = "22P05" // untranslatable_character, e.g. \u0000 in jsonb
	sqlCharacterNotInRepertoire = "22021"
	sqlSerialization            = "40001"
	sqlDeadlock                 = "40P01"
	sqlDiskFull                 = "53100"
	sqlTooManyConnections       = "53300"
	sqlAdminShutdown            = "57P01"
	sqlCrashShutdown            = "57P02"
	sqlCannotConnectNow         = "57P03"
	sqlQueryCanceled            = "57014" // statement_timeout, or a cancel request
	sqlIdleInTransactionTimeout = "25P03" // idle_in_transaction_session_timeout ended the session
	sqlReadOnlyTransaction      = "25006" // a write on a hot standby
)

// dbError turns a database failure while trying to do what (a phrase:
// "store the component") into a zone error. Messages never carry SQL text or
// server messages; the cause is kept in Err for the log.
//
// Constraint violations that the caller can act on are mapped by the
// callers first (they know which code or id was meant); what reaches here
// gets a generic but still coded message.
func dbError(err error, what string) error {
	if err == nil {
		return nil
	}
	var ze *zone.Error
	if errors.As(err, &ze) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return unavailable(what, "the request was cancelled or timed out", err)
	}
	// A failed connection attempt (server down, unknown database, refused
	// credentials) may wrap a server error: it is still unavailability.
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return unavailable(what, "cannot connect to the database", err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case sqlCheckViolation, sqlNotNullViolation:
			return &zone.Error{Code: zone.CodeInvalid, Message: "cannot " + what + ": the database refused the data (" + constraintReason(pe.ConstraintName) + ")", Err: err}
		case sqlInvalidText, sqlUntranslatable, sqlCharacterNotInRepertoire:
			return &zone.Error{Code: zone.CodeInvalid, Message: "cannot " + what + ": a value is not valid text or JSON for the database", Err: err}
		case sqlUniqueViolation:
			return &zone.Error{Code: zone.CodeConflict, Message: "cannot " + what + ": it already exists", Err: err}
		case sqlForeignKeyViolation:
			return &zone.Error{Code: zone.CodeConflict, Message: "cannot " + what + ": it refers to a record that does not exist", Err: err}
		case sqlSerialization, sqlDeadlock:
			return &zone.Error{Code: zone.CodeConflict, Message: "cannot " + what + ": a concurrent change interfered; try again", Err: err}
		case sqlTooManyConnections, sqlAdminShutdown, sqlCrashShutdown, sqlCannotConnectNow:
			return unavailable(what, "the database is not available", err)
		case sqlQueryCanceled, sqlIdleInTransactionTimeout:
			// The pool's statement and idle-in-transaction limits: a
			// backstop that fires when the database is too slow to answer
			// within them (a stall), so an outage like the others.
			return unavailable(what, "the database did not answer in time", err)
		case sqlDiskFull:
			return errDiskFull(what, err)
		case sqlReadOnlyTransaction:
			return &zone.Error{Code: zone.CodeReadOnly, Message: "cannot " + what + ": the database is a read-only standby; write through the primary", Err: err}
		}
		if len(pe.Code) == 5 && pe.Code[:2] == "08" { // connection exception class
			return unavailable(what, "the database is not available", err)
		}
		return zone.InternalError(err, "cannot %s: database error", what)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed) || pgconn.Timeout(err) {
		return unavailable(what, "the database is not reachable", err)
	}
	return zone.InternalError(err, "cannot %s: database error", what)
}

// unavailable is a call the database could not serve now: 503 with a
// Retry-After over HTTP.
func unavailable(what, why string, err error) error {
	return &zone.Error{Code: zone.CodeUnavailable, Message: "cannot " + what + ": " + why, Err: err, RetryAfter: RetryAfterUnavailable}
}

// constraintReason explains a CHECK constraint of the schema in words.
func constraintReason(name string) string {
	switch name {
	case "components_geom_valid_check", "protection_zones_geom_valid_check":
		return "the geometry is not valid by PostGIS's ST_IsValid"
	case "components_geom_srid_check", "protection_zones_geom_srid_check":
		return "the geometry is not in EPSG:4326"
	case "components_geom_type_check":
		return "the geometry type is not Point, LineString, Polygon or a Multi form"
	case "components_name_check":
		return "name is required"
	case "components_code_check":
		return "code must not be empty"
	case "components_properties_check":
		return "properties must be an object"
	case "protection_zones_approved_or_width_check":
		return "a zone is either an approved polygon or a width between 0 and 100000 m"
	case "":
		return "a required value is missing"
	}
	return "constraint " + name
}
