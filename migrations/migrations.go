// Package migrations holds zoneplan's PostgreSQL schema as numbered goose SQL
// migrations, embedded so the binary carries them; internal/postgis.Migrate
// applies them.
package migrations

import "embed"

// FS holds the SQL migrations, named NNNNN_what.sql, applied in order.
//
//go:embed *.sql
var FS embed.FS
