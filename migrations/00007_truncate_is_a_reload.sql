-- TRUNCATE removes rows without row triggers, so the change log cannot name
-- them. It is recorded as "everything changed": the log is emptied and the
-- pruning horizon moved past every sequence number handed out, so every
-- follower gets zone.ErrChangesPruned and reloads; the data version still
-- grows, and a notification wakes the followers.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION zoneplan_truncate_is_a_reload() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7318505613001);  -- zoneplan component writers
    DELETE FROM change_log;
    UPDATE change_log_state SET pruned_upto = nextval(pg_get_serial_sequence('change_log', 'seq'));
    PERFORM pg_notify('zoneplan_changes', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER components_truncate AFTER TRUNCATE ON components
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_truncate_is_a_reload();
CREATE TRIGGER protection_zones_truncate AFTER TRUNCATE ON protection_zones
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_truncate_is_a_reload();

-- +goose Down
DROP TRIGGER protection_zones_truncate ON protection_zones;
DROP TRIGGER components_truncate ON components;
DROP FUNCTION zoneplan_truncate_is_a_reload();
