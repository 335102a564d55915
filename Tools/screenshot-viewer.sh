#!/usr/bin/env bash
# Opens the web map in headless Chromium (Debian's `chromium`) and takes two screenshots:
# the sample data drawn, and the same view after a click has filled the side panel (the
# viewer's ?at=lon,lat asks /parcels/at on load, exactly as a click does).
# Usage: Tools/screenshot-viewer.sh [OUT_DIR=Docs/screenshots] [LANDMAP_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
. Tools/lib.sh
out=${1:-Docs/screenshots}
bin=${2:-.build/release/landmap}
[ -x "$bin" ] || swift build -c release --product landmap >/dev/null
command -v chromium >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq chromium >/dev/null; }
bash Tools/setup.sh >/dev/null
mkdir -p "$out"
work=$(mktemp -d)
trap 'stop_server' EXIT
serve_in_background "$bin" "$work/view.gpkg" "$work/serve.log"
pid=$server_pid
port=$server_port
# Warm the tiles and the lookup of both views, so the screenshots do not race a cold server.
for z in 16 17 18 19; do
  python3 - "$z" <<'PY' | while read -r t; do curl -sf -o /dev/null "http://127.0.0.1:$port/tiles/admin,zoning,parcels/$t.mvt" || true; done
import math, sys
z = int(sys.argv[1]); n = 2 ** z
lon, lat = 106.7483377, 10.734784
x = int((lon / 360 + 0.5) * n); s = math.sin(math.radians(lat)); y = int((0.5 - 0.25 * math.log((1 + s) / (1 - s)) / math.pi) * n)
for dx in (-2, -1, 0, 1, 2):
    for dy in (-2, -1, 0, 1, 2):
        print(f"{z}/{x + dx}/{y + dy}")
PY
done
curl -sf -o /dev/null "http://127.0.0.1:$port/parcels/at?lon=106.7483377&lat=10.734784"
shot() {
  chromium --headless=new --no-sandbox --disable-gpu --use-angle=swiftshader --enable-unsafe-swiftshader \
    --hide-scrollbars --window-size=1280,800 --virtual-time-budget=60000 --run-all-compositor-stages-before-draw \
    --screenshot="$1" "$2" >/dev/null 2>&1
  echo "screenshot: $1"
}
shot "$out/viewer-map.png" "http://127.0.0.1:$port/#16.5/10.7348/106.7483"
shot "$out/viewer-click.png" "http://127.0.0.1:$port/?at=106.7483377,10.734784#18/10.734784/106.7483377"
