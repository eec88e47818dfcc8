-- wrk script of the tile benchmark: cycles through the tiles listed in
-- $ZP_TILES ("z x y" per line) as /tiles/$ZP_LAYER/{z}/{x}/{y}.mvt (layer
-- "all" when unset), with the
-- bearer token $ZP_TOKEN (none when empty: an anonymous caller); with ZP_GZIP=1 it accepts gzip as browsers do.
-- ZP_PREFIX and ZP_SUFFIX, when set, replace "/tiles/$ZP_LAYER" and ".mvt"
-- (pg_tileserv: "/public.zp_bench_defence_works" and ".pbf").
local layer = os.getenv("ZP_LAYER") or ""
if layer == "" then layer = "all" end
local prefix = os.getenv("ZP_PREFIX") or ""
if prefix == "" then prefix = "/tiles/" .. layer end
local suffix = os.getenv("ZP_SUFFIX") or ""
if suffix == "" then suffix = ".mvt" end
local paths = {}
for line in io.lines(os.getenv("ZP_TILES")) do
  local z, x, y = line:match("^(%d+) (%d+) (%d+)")
  if z then paths[#paths + 1] = prefix .. "/" .. z .. "/" .. x .. "/" .. y .. suffix end
end
local headers = {}
local token = os.getenv("ZP_TOKEN") or ""
if token ~= "" then headers["Authorization"] = "Bearer " .. token end
if os.getenv("ZP_GZIP") == "1" then headers["Accept-Encoding"] = "gzip" end
local i = 0

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end
