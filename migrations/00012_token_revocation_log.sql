-- Token revocations as rows, for read instances on a hot standby: a
-- standby takes no LISTEN and NOTIFY does not replicate, but a table does.
-- Every revocation (revoked_at set, or the row deleted) through any
-- instance, the CLI or psql is appended here as well as notified on
-- zoneplan_tokens; a read instance reads what came after the last seq it
-- saw (postgis.Store.WatchRevocations with Options.Standby). Revocations
-- are rare, so the table stays small; it is not pruned.

-- +goose Up
CREATE TABLE token_revocations (
    seq      bigserial PRIMARY KEY,
    token_id uuid NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION zoneplan_notify_token_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO token_revocations (token_id) VALUES (OLD.id);
        PERFORM pg_notify('zoneplan_tokens', OLD.id::text);
    ELSIF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
        INSERT INTO token_revocations (token_id) VALUES (NEW.id);
        PERFORM pg_notify('zoneplan_tokens', NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION zoneplan_notify_token_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('zoneplan_tokens', OLD.id::text);
    ELSIF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
        PERFORM pg_notify('zoneplan_tokens', NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DROP TABLE token_revocations;
