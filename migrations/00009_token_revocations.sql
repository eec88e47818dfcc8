-- Token revocations reach every server instance at once: revoking a token
-- (setting revoked_at) or deleting its row, through any instance, the CLI
-- or psql, sends its id on the zoneplan_tokens channel
-- (postgis.Store.WatchRevocations), and each instance refuses it from its
-- token cache at once instead of after the cache's lifetime.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION zoneplan_notify_token_revoked() RETURNS trigger
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

CREATE TRIGGER tokens_notify_revoked AFTER UPDATE OR DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION zoneplan_notify_token_revoked();

-- +goose Down
DROP TRIGGER tokens_notify_revoked ON tokens;
DROP FUNCTION zoneplan_notify_token_revoked();
