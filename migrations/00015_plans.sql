-- Master-plan jobs: a plan's parcels are checked one by one in the
-- background (internal/plan). A job's state and progress live here so
-- that a restarted server resumes it from its first unchecked parcel.
-- Each parcel's check is kept as every clearance sees it, one row per
-- clearance (plan_parcel_views), so that reading one reader's view reads
-- nothing of the views above it (as check_records keeps its views apart).

-- +goose Up
CREATE TABLE plans (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    state           text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'cancelled', 'failed')),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    file            text NOT NULL DEFAULT '',
    format          text NOT NULL DEFAULT '',
    crs             text NOT NULL DEFAULT '',
    mapping         jsonb NOT NULL DEFAULT '{}',
    total           integer NOT NULL,
    done            integer NOT NULL DEFAULT 0,
    counts          jsonb NOT NULL DEFAULT '[]', -- by clearance: verdict -> parcels
    error           text NOT NULL DEFAULT '',
    ruleset_version text NOT NULL DEFAULT ''
);
CREATE INDEX plans_created ON plans (created_at DESC, id DESC);

CREATE TABLE plan_parcels (
    plan_id    uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    name       text NOT NULL DEFAULT '',
    properties jsonb NOT NULL DEFAULT '{}',
    geom       geometry(Geometry, 4326) NOT NULL,
    checked    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (plan_id, seq)
);
CREATE INDEX plan_parcels_unchecked ON plan_parcels (plan_id, seq) WHERE NOT checked;
CREATE INDEX plan_parcels_geom ON plan_parcels USING gist (geom);

CREATE TABLE plan_parcel_views (
    plan_id   uuid NOT NULL,
    clearance smallint NOT NULL,
    seq       integer NOT NULL,
    verdict   text NOT NULL,
    result    jsonb NOT NULL,
    reason    text NOT NULL DEFAULT '',
    at        timestamptz NOT NULL,
    PRIMARY KEY (plan_id, clearance, seq),
    FOREIGN KEY (plan_id, seq) REFERENCES plan_parcels (plan_id, seq) ON DELETE CASCADE
);
CREATE INDEX plan_parcel_views_verdict ON plan_parcel_views (plan_id, clearance, verdict, seq);

-- +goose Down
DROP TABLE plan_parcel_views;
DROP TABLE plan_parcels;
DROP TABLE plans;
