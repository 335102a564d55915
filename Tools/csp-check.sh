#!/usr/bin/env bash
# SPEC §12 in CI: serves the sample (a fresh temporary database, filled from GeoData/) with a
# raster basemap on another origin, runs Tools/csp-check.mjs against it in headless Chromium,
# and stops the server. Exit status: the check's (0 when the web map and the HTML pages run
# with no Content-Security-Policy violation and every page carries the headers).
# Usage: Tools/csp-check.sh [BIN]   (default .build/debug/landmap)
set -euo pipefail
cd "$(dirname "$0")/.."
. Tools/lib.sh
bin=${1:-.build/debug/landmap}
dir=$(mktemp -d)
trap 'stop_server; rm -rf "$dir"' EXIT
basemap="http://127.0.0.1:$((40000 + RANDOM % 10000))"
serve_in_background "$bin" "$dir/landmap.gpkg" "$dir/serve.log" --basemap-url "$basemap/{z}/{x}/{y}.png" --basemap-attribution "csp-check"
node Tools/csp-check.mjs "$server_url" --basemap "$basemap"
