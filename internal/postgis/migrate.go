package postgis

import (
	"context"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/zoneplan/zoneplan/internal/zone"
	"github.com/zoneplan/zoneplan/migrations"
)

// migrateLockKey is the session advisory lock that serializes Migrate
// across server instances sharing a database.
const migrateLockKey int64 = 7318505613000

// Migrate brings the database at dsn to the latest schema in
// migrations.FS (creating the postgis extension first, which needs a
// superuser the first time). Several server instances may call it at once:
// a PostgreSQL advisory lock lets one migrate while the others wait, then
// find nothing left to do. log receives one line per applied migration; nil
// discards them.
func Migrate(ctx context.Context, dsn string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Parsed as a pool URL, so the pool_* parameters the store accepts are
	// understood here too rather than sent to the server.
	cfg, err := poolConfig(dsn, Options{})
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	defer db.Close()

	// The lock is held by one session (conn) while goose works through
	// others of db; it is released when conn is returned, even on failure.
	conn, err := db.Conn(ctx)
	if err != nil {
		return dbError(err, "connect to the database to migrate")
	}
	defer conn.Close()
	// A hot standby takes no writes: say so, and what to do, rather than
	// fail on goose's first statement.
	var standby bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil {
		return dbError(err, "connect to the database to migrate")
	}
	if standby {
		return &zone.Error{Code: zone.CodeReadOnly, Message: "the database is a hot standby (a replica in recovery): migrate its primary, " +
			"and run `zoneplan serve --read-only` on the standby"}
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return dbError(err, "take the migration lock")
	}
	defer func() {
		// A fresh context: the unlock must run even when ctx has ended.
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	}()

	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return zone.InternalError(err, "cannot load the schema migrations")
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return dbError(err, "migrate the database schema")
	}
	for _, r := range results {
		log.Info("applied migration", "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// latestMigration is the version of the newest embedded migration (the
// number its file name starts with).
func latestMigration() (int64, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return 0, zone.InternalError(err, "cannot list the schema migrations")
	}
	var latest int64
	for _, name := range names {
		digits, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return 0, zone.InternalError(err, "migration %s is not named NNNNN_what.sql", name)
		}
		latest = max(latest, v)
	}
	return latest, nil
}
