-- Coverage: the areas where a layer's data is complete (loaded, or
-- reviewed against the source decisions, as of a date), set by admins.
-- A check whose footprint is not wholly inside the coverage of every layer a
-- rule tests gets the verdict 'incomplete' instead of 'clear'. Coverage has
-- a classification of its own (a caller below it neither sees it nor has it
-- count). Every change, a direct edit in psql or QGIS included, bumps
-- coverage_version and notifies zoneplan_changes, so every instance reloads
-- it; read instances on standbys poll coverage_version.

-- +goose Up
CREATE TABLE coverage (
    id             uuid PRIMARY KEY,
    layer          text NOT NULL,
    area           text NOT NULL,
    status         text NOT NULL CHECK (status IN ('loaded', 'reviewed')),
    as_of          date NOT NULL,
    classification smallint NOT NULL DEFAULT 0 CHECK (classification BETWEEN 0 AND 3),
    note           text NOT NULL DEFAULT '',
    geom           geometry(MultiPolygon, 4326) NOT NULL,
    version        bigint NOT NULL DEFAULT 1,
    updated_by     text NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX coverage_layer ON coverage (layer);

CREATE TABLE coverage_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint NOT NULL
);
INSERT INTO coverage_version VALUES (true, 0);

-- +goose StatementBegin
CREATE FUNCTION zoneplan_coverage_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE coverage_version SET version = version + 1;
    PERFORM pg_notify('zoneplan_changes', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER coverage_changed AFTER INSERT OR UPDATE OR DELETE ON coverage
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_coverage_changed();
CREATE TRIGGER coverage_truncated AFTER TRUNCATE ON coverage
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_coverage_changed();

-- +goose Down
DROP TABLE coverage;
DROP TABLE coverage_version;
DROP FUNCTION zoneplan_coverage_changed();
