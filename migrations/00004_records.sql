-- API tokens, appraisals with their immutable check records, and rule sets.

-- +goose Up

-- tokens: API tokens (zone.Token). Only the SHA-256 of a secret is kept.
CREATE TABLE tokens (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL,
    clearance  smallint NOT NULL,  -- 0 public .. 3 secret
    hash       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT tokens_hash_key UNIQUE (hash),
    CONSTRAINT tokens_hash_check CHECK (length(hash) > 0),
    CONSTRAINT tokens_role_check CHECK (role IN ('viewer', 'appraiser', 'reviewer', 'editor', 'admin')),
    CONSTRAINT tokens_clearance_check CHECK (clearance BETWEEN 0 AND 3)
);

-- appraisals: one civil project's appraisal (zone.Appraisal). site_id is the
-- project site in components; it is not a foreign key, so the appraisal
-- record outlives a deleted site.
CREATE TABLE appraisals (
    id               uuid PRIMARY KEY,
    site_id          uuid NOT NULL,
    name             text NOT NULL,
    name_folded      text NOT NULL,  -- name lower-cased by the application (Unicode), for case-insensitive search
    status           text NOT NULL DEFAULT 'pending',
    verdict          text NOT NULL DEFAULT '',  -- of the latest check
    created_by       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    decision_outcome text,
    decision_note    text,
    decision_by      text,
    decision_at      timestamptz,
    CONSTRAINT appraisals_status_check CHECK (status IN ('pending', 'approved', 'approved_with_conditions', 'rejected')),
    CONSTRAINT appraisals_decision_check CHECK ((decision_outcome IS NULL) = (decision_at IS NULL))
);
CREATE INDEX appraisals_created_idx ON appraisals (created_at DESC, id DESC);
CREATE INDEX appraisals_site_idx ON appraisals (site_id);

-- check_records: every check of an appraisal, kept as it was returned
-- (result is json, not jsonb, so its bytes are kept exactly). Rows are never
-- changed or removed: the triggers below refuse it.
CREATE TABLE check_records (
    id              uuid PRIMARY KEY,
    seq             bigserial NOT NULL UNIQUE,  -- insertion order: newest first is seq DESC
    appraisal_id    uuid NOT NULL REFERENCES appraisals (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL DEFAULT '',
    verdict         text NOT NULL,
    ruleset_version text NOT NULL DEFAULT '',
    data_version    bigint NOT NULL DEFAULT 0,
    result          json NOT NULL
);
CREATE INDEX check_records_appraisal_idx ON check_records (appraisal_id, seq);

-- +goose StatementBegin
CREATE FUNCTION zoneplan_check_records_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'check records are immutable: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER check_records_immutable BEFORE UPDATE OR DELETE ON check_records
    FOR EACH ROW EXECUTE FUNCTION zoneplan_check_records_immutable();
CREATE TRIGGER check_records_no_truncate BEFORE TRUNCATE ON check_records
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_check_records_immutable();

-- rule_sets: every conflict rule set an admin loaded; the latest saved (seq)
-- is active. doc is the document as loaded (YAML or JSON text).
CREATE TABLE rule_sets (
    seq        bigserial PRIMARY KEY,
    version    text NOT NULL,
    doc        text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT '',
    CONSTRAINT rule_sets_version_key UNIQUE (version),
    CONSTRAINT rule_sets_version_check CHECK (version <> '')
);

-- +goose Down
DROP TABLE rule_sets;
DROP TABLE check_records;
DROP FUNCTION zoneplan_check_records_immutable();
DROP TABLE appraisals;
DROP TABLE tokens;
