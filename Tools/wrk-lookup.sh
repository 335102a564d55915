#!/usr/bin/env bash
# /parcels/at over HTTP under load: `landmap serve` on DB, wrk (Debian) cycling through random
# points (a CSV of lon,lat, e.g. from `bench-lookup --points-out`), both cores busy.
# Prints requests/s, latency percentiles and non-2xx answers (wrk's), and the server's RSS
# before and after.
# Usage: Tools/wrk-lookup.sh DB POINTS.csv [SECONDS=30] [CONNECTIONS=4]
set -euo pipefail
db=$1; points=$2; seconds=${3:-30}; connections=${4:-4}
cd "$(dirname "$0")/.."
bin=.build/release/landmap
[ -x "$bin" ] || swift build -c release --product landmap >/dev/null
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$bin" serve --db "$db" --port "$port" --log-level warning > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.5; done
cat > "$work/points.lua" <<LUA
local points = {}
for line in io.lines("$points") do
  local lon, lat = line:match("([^,]+),([^,]+)")
  if lon then points[#points + 1] = "/parcels/at?lon=" .. lon .. "&lat=" .. lat end
end
local i = math.random(#points)
request = function()
  i = i % #points + 1
  return wrk.format("GET", points[i])
end
LUA
# Warm the caches, then measure.
wrk -t2 -c"$connections" -d5s -s "$work/points.lua" "http://127.0.0.1:$port" > /dev/null
echo "server RSS before: $(( $(grep VmRSS /proc/$pid/status | awk '{print $2}') / 1024 )) MB"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/points.lua" "http://127.0.0.1:$port"
echo "server RSS after: $(( $(grep VmRSS /proc/$pid/status | awk '{print $2}') / 1024 )) MB"
