-- wrk script for make bench-features: cycles through the items pages
-- (limit=1000) of the boxes listed in $ZONEPLAN_BENCH_BOXES, one
-- "minLon,minLat,maxLon,maxLat" a line.
local paths = {}
local i = 0

function init(args)
  for line in io.lines(os.getenv("ZONEPLAN_BENCH_BOXES")) do
    if #line > 0 then
      paths[#paths + 1] = "/ogc/collections/defence_works/items?limit=1000&bbox=" .. line
    end
  end
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
