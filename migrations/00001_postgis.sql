-- PostGIS provides the geometry type every spatial column uses.
-- CREATE EXTENSION needs a superuser (or a database owner on PostgreSQL 13+
-- with postgis marked trusted) the first time; once it exists this is a no-op.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS postgis;

-- +goose Down
-- The extension stays: other schemas in the database may use it.
SELECT 1;
