#!/usr/bin/env bash
# A soak of mixed reads while another client writes: `landmap serve` on a copy of DB (default:
# the GeoData sample), wrk for SECONDS (default 60) cycling through parcel lookups at random
# points, tiles z14–z17 and items pages, while a second client creates, replaces and deletes
# parcels through OGC API – Features Part 4 with an editor token. Prints wrk's figures (its
# "Non-2xx" line must be absent), the writer's counts, and the server's RSS at start and end.
# Usage: Tools/soak.sh [SECONDS=60] [DB] [CONNECTIONS=8]
set -euo pipefail
seconds=${1:-60}; source_db=${2:-}; connections=${3:-8}
cd "$(dirname "$0")/.."
. Tools/lib.sh
bin=.build/release/landmap
[ -x "$bin" ] || swift build -c release --product landmap >/dev/null
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
db="$work/soak.gpkg"
if [ -n "$source_db" ]; then "$bin" backup --db "$source_db" "$db" >/dev/null; else bash Tools/load-sample.sh "$bin" "$db" >/dev/null; fi
token=$("$bin" token create --role editor --name soak-writer --db "$db" 2>/dev/null)
trap 'stop_server; rm -rf "$work"' EXIT
serve_in_background "$bin" "$db" "$work/serve.log" --rate-limit off
pid=$server_pid
port=$server_port

cat > "$work/mixed.lua" <<'LUA'
-- District 7's sample area: lookups, tiles and items pages in turn.
local minlon, maxlon, minlat, maxlat = 106.695, 106.745, 10.705, 10.755
local n = 0
local function tile(z, lon, lat)
  local x = math.floor((lon + 180) / 360 * 2 ^ z)
  local r = math.rad(lat)
  local y = math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ^ z)
  return x, y
end
request = function()
  n = n + 1
  local lon = minlon + math.random() * (maxlon - minlon)
  local lat = minlat + math.random() * (maxlat - minlat)
  local k = n % 3
  if k == 0 then
    return wrk.format("GET", string.format("/parcels/at?lon=%.6f&lat=%.6f", lon, lat))
  elseif k == 1 then
    local z = 14 + math.random(0, 3)
    local x, y = tile(z, lon, lat)
    return wrk.format("GET", string.format("/tiles/admin,zoning,parcels/%d/%d/%d.mvt", z, x, y))
  else
    return wrk.format("GET", string.format("/collections/parcels/items?limit=20&bbox=%.5f,%.5f,%.5f,%.5f", lon, lat, lon + 0.002, lat + 0.002))
  end
end
LUA

# The writer: create, replace (If-Match), every other one deleted, until the time is up.
writer() {
  local end=$((SECONDS + seconds)) i=0 ok=0 failed=0
  while [ $SECONDS -lt $end ]; do
    i=$((i + 1))
    local x y body etag code
    x=$(awk -v i="$i" 'BEGIN { printf "%.6f", 106.70 + (i % 200) * 0.0002 }')
    y=$(awk -v i="$i" 'BEGIN { printf "%.6f", 10.70 + int(i / 200) * 0.0002 }')
    body="{\"type\":\"Feature\",\"id\":\"soak-$i\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[$x,$y],[$x,$(awk -v y="$y" 'BEGIN{printf "%.6f", y+0.00015}')],[$(awk -v x="$x" 'BEGIN{printf "%.6f", x+0.00015}'),$(awk -v y="$y" 'BEGIN{printf "%.6f", y+0.00015}')],[$(awk -v x="$x" 'BEGIN{printf "%.6f", x+0.00015}'),$y],[$x,$y]]]},\"properties\":{\"land_use\":\"ODT\",\"owner\":\"Soak $i\"}}"
    etag=$(curl -s -o /dev/null -D - -X POST -H "Authorization: Bearer $token" --data-binary "$body" \
      "http://127.0.0.1:$port/collections/parcels/items" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
    if [ -n "$etag" ]; then ok=$((ok + 1)); else failed=$((failed + 1)); continue; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" -H "If-Match: $etag" \
      --data-binary "${body/ODT/TMD}" "http://127.0.0.1:$port/collections/parcels/items/soak-$i")
    if [ "$code" = 200 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
    if [ $((i % 2)) = 0 ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $token" "http://127.0.0.1:$port/collections/parcels/items/soak-$i")
      if [ "$code" = 204 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
    fi
  done
  echo "writer: $ok writes answered 2xx, $failed failed ($i parcels created)"
}

# Warm up, then measure.
wrk -t2 -c"$connections" -d5s -s "$work/mixed.lua" "http://127.0.0.1:$port" > /dev/null
start_rss=$(rss_mb $pid)
writer > "$work/writer.out" &
wpid=$!
# RSS every 10 s: the tile cache (64 MiB by default) fills first, then memory should stay level.
( for _ in $(seq 1 $((seconds / 10))); do sleep 10; printf '%s ' "$(rss_mb $pid)"; done > "$work/rss.out" ) &
spid=$!
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/mixed.lua" "http://127.0.0.1:$port" | tee "$work/wrk.out"
wait $wpid
wait $spid 2>/dev/null || true
cat "$work/writer.out"
echo "server RSS every 10 s (MB): $(cat "$work/rss.out")"
end_rss=$(rss_mb $pid)
echo "server RSS: $start_rss MB at the start, $end_rss MB at the end"
grep -q "Non-2xx" "$work/wrk.out" && { echo "soak: some reads failed" >&2; exit 1; }
grep -q " 0 failed" "$work/writer.out" || { echo "soak: some writes failed" >&2; exit 1; }
echo "soak: 0 errors"
