-- The audit trail (package audit): one append-only table whose rows form a
-- hash chain. seq counts 1, 2, 3… in chain order; prev_hash is the hash of
-- the row before (32 zero bytes for the first); hash is SHA-256 of
-- prev_hash and the row's canonical encoding (audit.Canonical). The
-- application appends under the transaction advisory lock 7318505613002
-- (read the last row, seal, insert), so several server instances keep one
-- chain. detail is json, not jsonb: its bytes are kept exactly, as hashed.
--
-- The triggers refuse UPDATE, DELETE and TRUNCATE, and fire ALWAYS (also
-- under session_replication_role = replica). The table's owner can still
-- disable them; the chain then shows what was changed (zoneplan audit verify).
--
-- Also: the auditor role (reads the trail) among the token roles.

-- +goose Up
CREATE TABLE audit_log (
    seq             bigint PRIMARY KEY,
    id              uuid NOT NULL,
    at              timestamptz NOT NULL,
    action          text NOT NULL,
    actor_id        uuid NOT NULL,  -- the token; all zeros for a local command
    actor           text NOT NULL,
    role            text NOT NULL,
    actor_clearance smallint NOT NULL,
    object          text NOT NULL DEFAULT '',
    layer           text NOT NULL DEFAULT '',
    classification  smallint NOT NULL,  -- of what the entry reveals: 0 public .. 3 secret
    detail          json NOT NULL,
    prev_hash       bytea NOT NULL,
    hash            bytea NOT NULL,
    CONSTRAINT audit_log_id_key UNIQUE (id),
    CONSTRAINT audit_log_seq_check CHECK (seq > 0),
    CONSTRAINT audit_log_hash_check CHECK (length(hash) = 32 AND length(prev_hash) = 32),
    CONSTRAINT audit_log_classification_check CHECK (classification BETWEEN 0 AND 3)
);
-- Indexes for the listing's filters. Every check appends a row, so they are
-- kept few and cheap: object only where there is one (checks have none),
-- action only for the actions other than check (checks are most rows and
-- dense: a walk back through seq finds them; the application adds
-- "action <> 'check'" to a query of another action so that this index
-- serves it), and time as BRIN (rows come in time order; a BRIN index
-- costs next to nothing to keep).
CREATE INDEX audit_log_object_idx ON audit_log (object, seq) WHERE object <> '';
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_action_idx ON audit_log (action, seq) WHERE action <> 'check';
CREATE INDEX audit_log_at_idx ON audit_log USING brin (at);

-- +goose StatementBegin
CREATE FUNCTION zoneplan_audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION zoneplan_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_audit_log_append_only();
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

ALTER TABLE tokens DROP CONSTRAINT tokens_role_check,
    ADD CONSTRAINT tokens_role_check CHECK (role IN ('viewer', 'appraiser', 'reviewer', 'editor', 'admin', 'auditor'));

-- +goose Down
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check,
    ADD CONSTRAINT tokens_role_check CHECK (role IN ('viewer', 'appraiser', 'reviewer', 'editor', 'admin'));
DROP TABLE audit_log;
DROP FUNCTION zoneplan_audit_log_append_only();
