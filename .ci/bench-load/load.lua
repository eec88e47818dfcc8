-- wrk script of the mixed load benchmark (make bench-load): of every ten
-- requests, five are vector tiles (z10-14, all layers, gzip), three are OGC
-- API - Features pages (limit 100 in a 0.1-degree box) and two are checks
-- (POST /api/check of a 500 m square near a component). Inputs, one per line:
--   ZP_TILES  "z x y"            ZP_BOXES  "minLon,minLat,maxLon,maxLat"
--   ZP_CHECKS a GeoJSON Polygon  ZP_TOKEN  bearer token (appraiser)
-- done() prints one line of figures that .ci/bench-load/run parses.
-- ZP_MIX changes the mix (see below).
local tiles, boxes, checks = {}, {}, {}
for line in io.lines(os.getenv("ZP_TILES")) do
  local z, x, y = line:match("^(%d+) (%d+) (%d+)")
  if z then tiles[#tiles + 1] = "/tiles/all/" .. z .. "/" .. x .. "/" .. y .. ".mvt" end
end
for line in io.lines(os.getenv("ZP_BOXES")) do
  if #line > 0 then boxes[#boxes + 1] = "/ogc/collections/defence_works/items?limit=100&bbox=" .. line end
end
for line in io.lines(os.getenv("ZP_CHECKS")) do
  if #line > 0 then checks[#checks + 1] = line end
end
local auth = "Bearer " .. os.getenv("ZP_TOKEN")
local tileHeaders = { ["Authorization"] = auth, ["Accept-Encoding"] = "gzip" }
local getHeaders = { ["Authorization"] = auth }
local postHeaders = { ["Authorization"] = auth, ["Content-Type"] = "application/geo+json" }

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

-- ZP_MIX "tiles,items,checks" out of ten (default "5,3,2"), to load one
-- class alone when looking for where time goes.
local mixT, mixI = 5, 3
local mix = os.getenv("ZP_MIX")
if mix and #mix > 0 then
  local t, i = mix:match("^(%d+),(%d+),(%d+)$")
  mixT, mixI = tonumber(t), tonumber(t) + tonumber(i)
else
  mixI = mixT + mixI
end

local n = 0
function init(args)
  math.randomseed(seed * 7919)
end

function request()
  n = n + 1
  local slot = n % 10
  if slot < mixT then
    return wrk.format("GET", tiles[math.random(#tiles)], tileHeaders)
  elseif slot < mixI then
    return wrk.format("GET", boxes[math.random(#boxes)], getHeaders)
  end
  return wrk.format("POST", "/api/check", postHeaders, checks[math.random(#checks)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ZP_RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f errors_status=%d errors_socket=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
