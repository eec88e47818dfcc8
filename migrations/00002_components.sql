-- Components, their protection zones and the change log other server
-- instances follow.
--
-- Coordinates: every geometry is WGS84 (EPSG:4326), longitude first, degrees.
-- The store converts nothing; distances in metres are computed in Go.

-- +goose Up

-- components: one row per defence component or project site (zone.Component).
-- The application validates every row before writing (zone.Component.Validate);
-- the CHECK constraints here are the second line, for rows written by other
-- tools (QGIS, psql).
CREATE TABLE components (
    id             uuid PRIMARY KEY,
    -- A layer id of zone.Layers(). COLLATE "C" so ORDER BY layer is byte
    -- order, the order Go compares strings in.
    layer          text COLLATE "C" NOT NULL,
    kind           text NOT NULL,
    name           text NOT NULL,
    -- Optional identifier, unique within the layer (NULL when none: NULLs never collide).
    code           text COLLATE "C",
    function_type  text NOT NULL DEFAULT '',  -- '' or A-D (Law 25/2023/QH15 art. 5)
    "group"        text NOT NULL DEFAULT '',  -- '' or special, I, II, III
    -- 0 public, 1 internal, 2 restricted, 3 secret (zone.Classification).
    -- A caller with clearance c sees the rows with classification <= c.
    classification smallint NOT NULL DEFAULT 0,
    properties     jsonb NOT NULL DEFAULT '{}',  -- free and layer-specific properties
    synthetic      boolean NOT NULL DEFAULT false, -- generated demo or test data, never a real location
    version        bigint NOT NULL DEFAULT 1,    -- 1 on create, +1 on every change
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL DEFAULT '',
    updated_by     text NOT NULL DEFAULT '',
    geom           geometry(Geometry, 4326) NOT NULL,
    CONSTRAINT components_layer_code_key UNIQUE (layer, code),
    CONSTRAINT components_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT components_code_check CHECK (code <> ''),
    CONSTRAINT components_function_type_check CHECK (function_type IN ('', 'A', 'B', 'C', 'D')),
    CONSTRAINT components_group_check CHECK ("group" IN ('', 'special', 'I', 'II', 'III')),
    CONSTRAINT components_classification_check CHECK (classification BETWEEN 0 AND 3),
    CONSTRAINT components_properties_check CHECK (jsonb_typeof(properties) = 'object'),
    CONSTRAINT components_version_check CHECK (version >= 1),
    -- The typed column refuses another SRID; a geometry without one (SRID 0)
    -- written by another tool silently takes 4326 (PostGIS typmod
    -- coercion). The store always writes ST_GeomFromWKB(..., 4326) itself.
    CONSTRAINT components_geom_srid_check CHECK (ST_SRID(geom) = 4326),
    CONSTRAINT components_geom_type_check CHECK (GeometryType(geom) IN
        ('POINT', 'MULTIPOINT', 'LINESTRING', 'MULTILINESTRING', 'POLYGON', 'MULTIPOLYGON')),
    CONSTRAINT components_geom_valid_check CHECK (ST_IsValid(geom))
);
CREATE INDEX components_geom_idx ON components USING gist (geom);
-- Lists stream in (layer, id) order.
CREATE INDEX components_layer_id_idx ON components (layer, id);

-- protection_zones: the zones of a component (zone.ProtectionZone), at most
-- one per kind. An approved zone is a real polygon (geom), visible to GIS
-- users; a provisional zone has only a width in metres, measured on the
-- ellipsoid from the component's own geometry.
CREATE TABLE protection_zones (
    component_id     uuid NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    kind             text NOT NULL,
    ord              smallint NOT NULL DEFAULT 0,  -- position in Component.Zones: the API returns zones as given
    geom             geometry(MultiPolygon, 4326), -- approved polygon; NULL when provisional
    given_as_polygon boolean NOT NULL DEFAULT false, -- the approved zone was a Polygon (stored as a MultiPolygon of one)
    decision         text NOT NULL DEFAULT '',       -- number of the decision that set the zone
    decision_date    date,
    width_m          double precision NOT NULL DEFAULT 0, -- provisional width in metres; 0 when approved
    PRIMARY KEY (component_id, kind),
    CONSTRAINT protection_zones_kind_check CHECK (kind IN ('restricted_area', 'protected_area', 'safety_belt')),
    CONSTRAINT protection_zones_approved_or_width_check CHECK (
        (geom IS NOT NULL AND width_m = 0) OR (geom IS NULL AND width_m > 0 AND width_m <= 100000)),
    CONSTRAINT protection_zones_geom_srid_check CHECK (geom IS NULL OR ST_SRID(geom) = 4326),
    CONSTRAINT protection_zones_geom_valid_check CHECK (geom IS NULL OR ST_IsValid(geom))
);
CREATE INDEX protection_zones_geom_idx ON protection_zones USING gist (geom);

-- change_log: one row per changed component per statement, in commit order.
-- Server instances keep an in-memory index; they follow this log
-- (ChangesSince) when woken by NOTIFY zoneplan_changes.
CREATE TABLE change_log (
    seq          bigserial PRIMARY KEY,
    component_id uuid NOT NULL,
    layer        text COLLATE "C" NOT NULL,
    deleted      boolean NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);

-- change_log_state: how far the log was pruned. A follower behind
-- pruned_upto must reload everything (zone.ErrChangesPruned).
CREATE TABLE change_log_state (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_upto bigint NOT NULL DEFAULT 0
);
INSERT INTO change_log_state DEFAULT VALUES;

-- Writers to components and protection_zones take one transaction-scoped
-- advisory lock before their first statement touches a row. Transactions that
-- change components therefore commit one after another and change_log.seq
-- follows commit order: a follower that read up to seq N never later finds a
-- committed change below N. Taking it BEFORE the statement (not per row)
-- keeps the lock order fixed, so it cannot deadlock with row locks.
-- +goose StatementBegin
CREATE FUNCTION zoneplan_serialize_component_writes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7318505613001);  -- zoneplan component writers
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER components_serialize BEFORE INSERT OR UPDATE OR DELETE ON components
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_serialize_component_writes();
CREATE TRIGGER protection_zones_serialize BEFORE INSERT OR UPDATE OR DELETE ON protection_zones
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_serialize_component_writes();

-- Statement-level triggers with transition tables: an import of 100k rows
-- logs them in one INSERT ... SELECT and sends one notification.
-- +goose StatementBegin
CREATE FUNCTION zoneplan_log_component_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO change_log (component_id, layer, deleted)
        SELECT id, layer, true FROM old_rows ORDER BY id;
    ELSE
        INSERT INTO change_log (component_id, layer, deleted)
        SELECT id, layer, false FROM new_rows ORDER BY id;
    END IF;
    IF FOUND THEN
        -- Identical notifications of one transaction are delivered once.
        PERFORM pg_notify('zoneplan_changes', '');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER components_log_insert AFTER INSERT ON components
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_log_component_changes();
CREATE TRIGGER components_log_update AFTER UPDATE ON components
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_log_component_changes();
CREATE TRIGGER components_log_delete AFTER DELETE ON components
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_log_component_changes();

-- A zone change is a change of its component (one edited in QGIS, say).
-- (00006_external_edits.sql replaces this function: a zone change now
-- touches its component, which also bumps the component's version.) Zones
-- removed together with their component (ON DELETE CASCADE) are skipped: the
-- component's own delete is logged.
-- +goose StatementBegin
CREATE FUNCTION zoneplan_log_zone_changes() RETURNS trigger
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

CREATE TRIGGER protection_zones_log_insert AFTER INSERT ON protection_zones
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_log_zone_changes();
CREATE TRIGGER protection_zones_log_update AFTER UPDATE ON protection_zones
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_log_zone_changes();
CREATE TRIGGER protection_zones_log_delete AFTER DELETE ON protection_zones
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zoneplan_log_zone_changes();

-- +goose Down
DROP TABLE protection_zones;
DROP TABLE components;
DROP TABLE change_log_state;
DROP TABLE change_log;
DROP FUNCTION zoneplan_log_zone_changes();
DROP FUNCTION zoneplan_log_component_changes();
DROP FUNCTION zoneplan_serialize_component_writes();
