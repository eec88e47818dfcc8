-- One view per layer (and per geometry class where a layer mixes classes),
-- each with a single geometry type, so QGIS and other GIS clients can open
-- the layers directly: layer_<layer id> for a layer of one class,
-- layer_<layer id>_points / _lines / _polygons for a mixed one. Geometries
-- are cast to their Multi type (a Point becomes a MultiPoint of one);
-- WGS84, EPSG:4326. Each view has a partial GiST index on the same
-- expression, so a client's bounding-box filter uses an index.
--
-- The layer ids mirror the registry in internal/zone/layers.go; a test in
-- internal/postgis checks every registered layer has its views. The views show
-- every classification: whoever may connect to the database sees everything.

-- +goose Up

CREATE INDEX layer_border_lines_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiLineString, 4326)))
    WHERE layer = 'border_lines' AND GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING');
CREATE VIEW layer_border_lines AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiLineString, 4326) AS geom
FROM components
WHERE layer = 'border_lines' AND GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING');

CREATE INDEX layer_border_markers_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPoint, 4326)))
    WHERE layer = 'border_markers' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');
CREATE VIEW layer_border_markers AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPoint, 4326) AS geom
FROM components
WHERE layer = 'border_markers' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');

CREATE INDEX layer_patrol_routes_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiLineString, 4326)))
    WHERE layer = 'patrol_routes' AND GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING');
CREATE VIEW layer_patrol_routes AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiLineString, 4326) AS geom
FROM components
WHERE layer = 'patrol_routes' AND GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING');

CREATE INDEX layer_combat_bases_points_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPoint, 4326)))
    WHERE layer = 'combat_bases' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');
CREATE VIEW layer_combat_bases_points AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPoint, 4326) AS geom
FROM components
WHERE layer = 'combat_bases' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');

CREATE INDEX layer_combat_bases_polygons_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPolygon, 4326)))
    WHERE layer = 'combat_bases' AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON');
CREATE VIEW layer_combat_bases_polygons AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPolygon, 4326) AS geom
FROM components
WHERE layer = 'combat_bases' AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON');

CREATE INDEX layer_commune_hqs_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPoint, 4326)))
    WHERE layer = 'commune_hqs' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');
CREATE VIEW layer_commune_hqs AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPoint, 4326) AS geom
FROM components
WHERE layer = 'commune_hqs' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');

CREATE INDEX layer_defence_works_points_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPoint, 4326)))
    WHERE layer = 'defence_works' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');
CREATE VIEW layer_defence_works_points AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPoint, 4326) AS geom
FROM components
WHERE layer = 'defence_works' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');

CREATE INDEX layer_defence_works_polygons_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPolygon, 4326)))
    WHERE layer = 'defence_works' AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON');
CREATE VIEW layer_defence_works_polygons AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPolygon, 4326) AS geom
FROM components
WHERE layer = 'defence_works' AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON');

CREATE INDEX layer_project_sites_points_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPoint, 4326)))
    WHERE layer = 'project_sites' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');
CREATE VIEW layer_project_sites_points AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPoint, 4326) AS geom
FROM components
WHERE layer = 'project_sites' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT');

CREATE INDEX layer_project_sites_lines_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiLineString, 4326)))
    WHERE layer = 'project_sites' AND GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING');
CREATE VIEW layer_project_sites_lines AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiLineString, 4326) AS geom
FROM components
WHERE layer = 'project_sites' AND GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING');

CREATE INDEX layer_project_sites_polygons_geom_idx ON components USING gist ((ST_Multi(geom)::geometry(MultiPolygon, 4326)))
    WHERE layer = 'project_sites' AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON');
CREATE VIEW layer_project_sites_polygons AS
SELECT id, kind, name, code, function_type, "group", classification, properties, synthetic,
       version, created_at, updated_at, created_by, updated_by,
       ST_Multi(geom)::geometry(MultiPolygon, 4326) AS geom
FROM components
WHERE layer = 'project_sites' AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON');

-- The approved protection zones, with their component's identity.
CREATE VIEW approved_protection_zones AS
SELECT z.component_id, c.layer, c.kind AS component_kind, c.name AS component_name, c.code AS component_code,
       c.classification, c.synthetic, z.kind, z.decision, z.decision_date, z.geom
FROM protection_zones z JOIN components c ON c.id = z.component_id
WHERE z.geom IS NOT NULL;

-- +goose Down
DROP VIEW approved_protection_zones;

DROP VIEW layer_border_lines;
DROP INDEX layer_border_lines_geom_idx;
DROP VIEW layer_border_markers;
DROP INDEX layer_border_markers_geom_idx;
DROP VIEW layer_patrol_routes;
DROP INDEX layer_patrol_routes_geom_idx;
DROP VIEW layer_combat_bases_points;
DROP INDEX layer_combat_bases_points_geom_idx;
DROP VIEW layer_combat_bases_polygons;
DROP INDEX layer_combat_bases_polygons_geom_idx;
DROP VIEW layer_commune_hqs;
DROP INDEX layer_commune_hqs_geom_idx;
DROP VIEW layer_defence_works_points;
DROP INDEX layer_defence_works_points_geom_idx;
DROP VIEW layer_defence_works_polygons;
DROP INDEX layer_defence_works_polygons_geom_idx;
DROP VIEW layer_project_sites_points;
DROP INDEX layer_project_sites_points_geom_idx;
DROP VIEW layer_project_sites_lines;
DROP INDEX layer_project_sites_lines_geom_idx;
DROP VIEW layer_project_sites_polygons;
DROP INDEX layer_project_sites_polygons_geom_idx;
