-- Edits made outside zoneplan (QGIS, psql) keep the optimistic-concurrency
-- contract: every change of a component, or of one of its protection zones,
-- increments the component's version, so an editor holding the old version
-- gets a conflict instead of silently overwriting the edit.

-- +goose Up

-- zoneplan's own updates always set version = version + 1; an UPDATE that
-- leaves the version as it was comes from another tool, and gets the
-- increment, the time and (unless it names one) the database user as editor.
-- +goose StatementBegin
CREATE FUNCTION zoneplan_bump_external_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version = OLD.version THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
        IF NEW.updated_by IS NOT DISTINCT FROM OLD.updated_by THEN
            NEW.updated_by := session_user;
        END IF;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER components_bump_external_edit BEFORE UPDATE ON components
    FOR EACH ROW EXECUTE FUNCTION zoneplan_bump_external_edit();

-- A zone change is a change of its component: touch the component, which
-- bumps its version (above) and logs and signals the change (the component
-- triggers). A component this transaction already wrote (xmin is the
-- current transaction: zoneplan writes the component, then its zones) is
-- left alone, so zoneplan's own writes increment the version once. Zones
-- removed together with their component (ON DELETE CASCADE) find no
-- component left to touch; its delete is logged.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION zoneplan_log_zone_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE components c SET updated_at = now()
        WHERE c.id IN (SELECT component_id FROM new_rows) AND c.xmin <> pg_current_xact_id()::xid;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE components c SET updated_at = now()
        WHERE c.id IN (SELECT component_id FROM new_rows UNION SELECT component_id FROM old_rows)
          AND c.xmin <> pg_current_xact_id()::xid;
    ELSE
        UPDATE components c SET updated_at = now()
        WHERE c.id IN (SELECT component_id FROM old_rows) AND c.xmin <> pg_current_xact_id()::xid;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER components_bump_external_edit ON components;
DROP FUNCTION zoneplan_bump_external_edit();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION zoneplan_log_zone_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO change_log (component_id, layer, deleted)
        SELECT c.id, c.layer, false FROM components c
        WHERE c.id IN (SELECT component_id FROM new_rows) ORDER BY c.id;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO change_log (component_id, layer, deleted)
        SELECT c.id, c.layer, false FROM components c
        WHERE c.id IN (SELECT component_id FROM new_rows UNION SELECT component_id FROM old_rows) ORDER BY c.id;
    ELSE
        INSERT INTO change_log (component_id, layer, deleted)
        SELECT c.id, c.layer, false FROM components c
        WHERE c.id IN (SELECT component_id FROM old_rows) ORDER BY c.id;
    END IF;
    IF FOUND THEN
        PERFORM pg_notify('zoneplan_changes', '');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
