-- The raw PostGIS baseline of the tile benchmark: one SQL function that
-- builds, with ST_AsMVT, the same tile /tiles/all/{z}/{x}/{y}.mvt serves (every
-- layer as its own MVT layer, the same attributes, extent 4096, buffer 64;
-- from zoom 11 the protection_zones layer: approved polygons, provisional
-- widths buffered on the ellipsoid with ST_Buffer(geography)). It has no
-- thinning: ST_AsMVT encodes every feature of the tile.
-- Installed into the throwaway benchmark database only.
CREATE OR REPLACE FUNCTION zp_bench_tile(tz int, tx int, ty int) RETURNS bytea
LANGUAGE sql STABLE AS $$
WITH env AS (
    SELECT ST_TileEnvelope(tz, tx, ty) AS e3857,
           ST_Transform(ST_TileEnvelope(tz, tx, ty, margin => 64.0 / 4096), 4326) AS e4326
), comps AS (
    SELECT c.layer, c.id::text AS id, c.name, c.kind, c.code,
           (ARRAY['public', 'internal', 'restricted', 'secret'])[c.classification + 1] AS classification,
           NULLIF(c."group", '') AS "group",
           c.properties ->> 'verdict' AS verdict, c.properties ->> 'status' AS status,
           ST_AsMVTGeom(ST_Transform(c.geom, 3857), env.e3857, 4096, 64, true) AS geom
    FROM components c, env
    WHERE c.geom && env.e4326
), zones AS (
    SELECT c.id::text AS component_id, pz.kind, pz.geom IS NOT NULL AS approved, c.layer,
           ST_AsMVTGeom(ST_Transform(COALESCE(pz.geom, ST_Buffer(c.geom::geography, pz.width_m, 'quad_segs=8')::geometry), 3857),
                        env.e3857, 4096, 64, true) AS geom
    FROM components c JOIN protection_zones pz ON pz.component_id = c.id, env
    -- 0.011 degrees is at least the widest provisional zone (1,000 m) here.
    WHERE tz >= 11 AND c.geom && ST_Expand(env.e4326, 0.011)
), layers AS (
    SELECT ST_AsMVT(comps.*, comps.layer, 4096, 'geom') AS mvt FROM comps WHERE geom IS NOT NULL GROUP BY comps.layer
    UNION ALL
    SELECT ST_AsMVT(zones.*, 'protection_zones', 4096, 'geom') FROM zones WHERE geom IS NOT NULL HAVING count(*) > 0
)
SELECT COALESCE(string_agg(mvt, ''::bytea), ''::bytea) FROM layers
$$;

DROP TABLE IF EXISTS zp_bench_tiles;
CREATE TABLE zp_bench_tiles (i serial, z int, x int, y int);

-- One layer's tile, as a PostGIS tile server would serve a table: the
-- like-for-like baseline of /tiles/{layer}/{z}/{x}/{y}.mvt (no zones).
CREATE OR REPLACE FUNCTION zp_bench_layer_tile(tlayer text, tz int, tx int, ty int) RETURNS bytea
LANGUAGE sql STABLE AS $$
WITH env AS (
    SELECT ST_TileEnvelope(tz, tx, ty) AS e3857,
           ST_Transform(ST_TileEnvelope(tz, tx, ty, margin => 64.0 / 4096), 4326) AS e4326
), comps AS (
    SELECT c.id::text AS id, c.layer, c.name, c.kind, c.code,
           (ARRAY['public', 'internal', 'restricted', 'secret'])[c.classification + 1] AS classification,
           NULLIF(c."group", '') AS "group",
           ST_AsMVTGeom(ST_Transform(c.geom, 3857), env.e3857, 4096, 64, true) AS geom
    FROM components c, env
    WHERE c.layer = tlayer AND c.geom && env.e4326
)
SELECT COALESCE((SELECT ST_AsMVT(comps.*, tlayer, 4096, 'geom') FROM comps WHERE geom IS NOT NULL), ''::bytea)
$$;

-- The defence_works layer as pg_tileserv serves it (a table layer from a
-- view): the same attributes as /tiles/defence_works/{z}/{x}/{y}.mvt, the
-- classification by name, no zones. pg_tileserv writes its own ST_AsMVT
-- query against it (ST_Intersects on the GiST index of components.geom).
CREATE OR REPLACE VIEW zp_bench_defence_works AS
SELECT c.id::text AS id, c.layer, c.name, c.kind, c.code,
       (ARRAY['public', 'internal', 'restricted', 'secret'])[c.classification + 1] AS classification,
       NULLIF(c."group", '') AS "group", c.geom
FROM components c WHERE c.layer = 'defence_works';
