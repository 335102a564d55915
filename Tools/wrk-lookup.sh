#!/usr/bin/env bash
# /parcels/at over HTTP under load: `landmap serve` on DB, wrk (Debian) cycling through random
# points (a CSV of lon,lat, e.g. from `bench-lookup --points-out`), both cores busy.
# Prints requests/s, latency percentiles and non-2xx answers (wrk's), and the server's RSS
# before and after.
# Usage: Tools/wrk-lookup.sh DB POINTS.csv [SECONDS=30] [CONNECTIONS=4]
set -euo pipefail
db=$1; points=$2; seconds=${3:-30}; connections=${4:-4}
cd "$(dirname "$0")/.."
. Tools/lib.sh
bin=.build/release/landmap
[ -x "$bin" ] || swift build -c release --product landmap >/dev/null
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
trap 'stop_server' EXIT
serve_in_background "$bin" "$db" "$work/serve.log" --rate-limit off
pid=$server_pid
port=$server_port
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
echo "server RSS before: $(rss_mb $pid) MB"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/points.lua" "http://127.0.0.1:$port"
echo "server RSS after: $(rss_mb $pid) MB"
