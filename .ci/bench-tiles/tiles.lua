-- wrk script of the tile benchmark: cycles through the tiles listed in
-- $ZP_TILES ("z x y" per line) as /tiles/$ZP_LAYER/{z}/{x}/{y}.mvt (layer
-- "all" when unset), with the
-- bearer token $ZP_TOKEN (none when empty: an anonymous caller); with ZP_GZIP=1 it accepts gzip as browsers do.
local layer = os.getenv("ZP_LAYER") or ""
if layer == "" then layer = "all" end
local paths = {}
for line in io.lines(os.getenv("ZP_TILES")) do
  local z, x, y = line:match("^(%d+) (%d+) (%d+)")
  if z then paths[#paths + 1] = "/tiles/" .. layer .. "/" .. z .. "/" .. x .. "/" .. y .. ".mvt" end
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
