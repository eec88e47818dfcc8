-- wrk script for make bench-features: cycles through the items pages
-- (limit=1000) of the boxes listed in $ZONEPLAN_BENCH_BOXES, one
-- "minLon,minLat,maxLon,maxLat" a line; ZONEPLAN_BENCH_PATH, when set, is
-- the page's path before the box (pg_featureserv's for .ci/bench-features).
local paths = {}
local prefix = os.getenv("ZONEPLAN_BENCH_PATH") or ""
if prefix == "" then prefix = "/ogc/collections/defence_works/items?limit=1000&bbox=" end
local i = 0

function init(args)
  for line in io.lines(os.getenv("ZONEPLAN_BENCH_BOXES")) do
    if #line > 0 then
      paths[#paths + 1] = prefix .. line
    end
  end
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
