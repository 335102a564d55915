#!/usr/bin/env bash
# Tile throughput over HTTP. Cold: every tile of z14-z16 over DB's parcels requested once, in
# order (none can come from the cache). Warm: wrk cycling over 50 of those tiles (all cached).
# Usage: Tools/wrk-tiles.sh DB [LAYERS=parcels,zoning,admin] [SECONDS=20]
# GZIP=1 sends Accept-Encoding: gzip with the warm requests, as browsers and MapLibre do.
set -euo pipefail
db=$1; layers=${2:-parcels,zoning,admin}; seconds=${3:-20}
cd "$(dirname "$0")/.."
. Tools/lib.sh
bin=.build/release/landmap
[ -x "$bin" ] || swift build -c release --product landmap >/dev/null
work=$(mktemp -d)
trap 'stop_server' EXIT
serve_in_background "$bin" "$db" "$work/serve.log" --rate-limit off
pid=$server_pid
port=$server_port
bounds=$(curl -sf "http://127.0.0.1:$port/tiles/parcels.json" | python3 -c "import json,sys; print(*json.load(sys.stdin)['bounds'])")
python3 - $bounds > "$work/tiles.txt" <<'PY'
import math, sys, random
w, s, e, n = map(float, sys.argv[1:5])
def tile(lon, lat, z):
    k = 2 ** z; sl = math.sin(math.radians(lat))
    return int((lon / 360 + 0.5) * k), int((0.5 - 0.25 * math.log((1 + sl) / (1 - sl)) / math.pi) * k)
out = []
for z in (14, 15, 16):
    x0, y0 = tile(w, n, z); x1, y1 = tile(e, s, z)
    out += [f"{z}/{x}/{y}" for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
random.Random(1).shuffle(out)
print("\n".join(out[:4000]))
PY
cat > "$work/tiles.lua" <<LUA
local tiles = {}
for line in io.lines("$work/tiles.txt") do tiles[#tiles + 1] = "/tiles/$layers/" .. line .. ".mvt" end
local limit = tonumber(os.getenv("LIMIT") or #tiles)
local headers = os.getenv("GZIP") == "1" and {["Accept-Encoding"] = "gzip"} or {}
local i = 0
request = function()
  i = i % limit + 1
  return wrk.format("GET", tiles[i], headers)
end
LUA
n=$(wc -l < "$work/tiles.txt")
echo "cold: $n distinct z14-z16 tiles, each requested once (2 connections)"
start=$(date +%s.%N)
xargs -P 2 -I{} curl -sf -o /dev/null "http://127.0.0.1:$port/tiles/$layers/{}.mvt" < "$work/tiles.txt"
end=$(date +%s.%N)
python3 -c "print(f'cold: {$n/($end-$start):.1f} tiles/s ({$end-$start:.1f} s)')"
echo "warm: 50 cached tiles, wrk 2 threads x 8 connections, ${seconds}s"
head -50 "$work/tiles.txt" | xargs -I{} curl -sf -o /dev/null "http://127.0.0.1:$port/tiles/$layers/{}.mvt"
LIMIT=50 wrk -t2 -c8 -d"${seconds}s" --latency -s "$work/tiles.lua" "http://127.0.0.1:$port" | grep -E "Requests/sec|99%|50%|Non-2xx"
echo "server RSS: $(rss_mb $pid) MB"
