// Package httpapi is zoneplan's HTTP interface: NewServer wires every route
// (routes.go) to handlers made by handleX functions, one middleware chain,
// and one place (problem.go) that turns domain errors into RFC 9457
// problem+json responses.
//
// Every handler that returns defence data takes the caller's zone.Principal
// from the auth wrapper and passes its clearance down; nothing above it is
// ever shown, counted or hinted at.
package httpapi
