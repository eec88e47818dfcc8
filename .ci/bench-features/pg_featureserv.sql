-- The defence_works collection as pg_featureserv serves it (a view): the
-- same members as /ogc/collections/defence_works/items writes for each
-- feature (id, layer, kind, name, code, function_type, group,
-- classification by name, the free properties (note), protection zones
-- with approved polygons, synthetic, version, creation and update), so the
-- two servers' pages hold the same features with the same properties.
-- Installed into the throwaway benchmark database only.
CREATE OR REPLACE VIEW zp_bench_items AS
SELECT c.id, c.layer, c.kind, c.name, c.code, NULLIF(c.function_type, '') AS function_type,
       NULLIF(c."group", '') AS "group",
       (ARRAY['public', 'internal', 'restricted', 'secret'])[c.classification + 1] AS classification,
       c.properties ->> 'note' AS note,
       (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                   'kind', pz.kind, 'geometry', ST_AsGeoJSON(pz.geom)::jsonb,
                   'decision', NULLIF(pz.decision, ''), 'decision_date', pz.decision_date,
                   'width_m', NULLIF(pz.width_m, 0))) ORDER BY pz.ord, pz.kind)
          FROM protection_zones pz WHERE pz.component_id = c.id) AS zones,
       c.synthetic, c.version, c.created_at, c.created_by, c.updated_at, c.updated_by, c.geom
FROM components c WHERE c.layer = 'defence_works';
