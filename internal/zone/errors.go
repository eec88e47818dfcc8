package zone

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for callers: the HTTP layer maps each code to one
// status in one place, the CLI to an exit message.
type Code string

const (
	CodeInvalid      Code = "invalid"      // the caller's input is wrong; the message says where
	CodeNotFound     Code = "not_found"    // no such thing, or the caller may not know it exists
	CodeConflict     Code = "conflict"     // a duplicate code, a stale version
	CodeForbidden    Code = "forbidden"    // authenticated, but the role does not allow it
	CodeUnauthorized Code = "unauthorized" // no valid token
	CodeUnavailable  Code = "unavailable"  // a dependency (database, file lock) is not there now, or the server is at capacity
	CodeTooLarge     Code = "too_large"    // the request body is over the size limit
	CodeLimit        Code = "limit"        // well-formed content over a limit: features, vertices, entries, expanded bytes
	CodeRateLimited  Code = "rate_limited" // the caller's quota is spent for now; RetryAfter says when to come back
	CodeStorageFull  Code = "storage_full" // the store's disk is full: nothing was written
	CodeReadOnly     Code = "read_only"    // a write sent to a read instance (on a standby): it goes to the primary
	CodeInternal     Code = "internal"     // a bug or an unexpected failure; details are logged, not shown
)

// Error is a domain error with a code and a message that is safe to show the
// caller. Details lists per-item problems (for example one entry per bad
// feature of an import). Err, when set, is the underlying cause: it is logged
// but never shown.
type Error struct {
	Code    Code
	Message string
	Details []Detail
	Err     error
	// RetryAfter, when positive, is how long the caller should wait before
	// trying again (Retry-After over HTTP): quotas, admission control, a
	// database that is down.
	RetryAfter time.Duration
}

// Detail names one problem in a multi-part input: which item, where in it,
// and what is wrong.
type Detail struct {
	Index   int    `json:"index"`             // feature or record index, 0-based; -1 when not applicable
	Pointer string `json:"pointer,omitempty"` // where inside the item, e.g. "geometry.coordinates[0][3]"
	Reason  string `json:"reason"`
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Message
	if len(e.Details) > 0 {
		msg += fmt.Sprintf(" (%d problems, first: #%d %s)", len(e.Details), e.Details[0].Index, e.Details[0].Reason)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted, caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InternalError wraps an unexpected failure; the caller sees only "internal error".
func InternalError(err error, format string, args ...any) *Error {
	return &Error{Code: CodeInternal, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of err, CodeInternal for an error that is not an
// *Error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err: the message of an
// *Error that is not internal, otherwise "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "internal error"
}

// ErrorDetails returns the per-item details of err, if any.
func ErrorDetails(err error) []Detail {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}

// ErrorRetryAfter returns the RetryAfter of err, 0 when it has none.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// WithPointers returns err with each detail's pointer replaced by
// fn(pointer), as callers that embed an input in a larger request need
// (a footprint inside an appraisal's JSON); err unchanged when it is not
// a *Error.
func WithPointers(err error, fn func(string) string) error {
	ze, ok := err.(*Error)
	if !ok {
		return err
	}
	out := *ze
	out.Details = make([]Detail, len(ze.Details))
	for i, d := range ze.Details {
		d.Pointer = fn(d.Pointer)
		out.Details[i] = d
	}
	return &out
}
