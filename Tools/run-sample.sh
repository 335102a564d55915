#!/usr/bin/env bash
# The main job on the sample data: load GeoData/ into an empty database, then show it.
# Usage: Tools/run-sample.sh LANDMAP_BINARY DB
set -euo pipefail
landmap=${1:-.build/release/landmap}
db=${2:-landmap.gpkg}
here=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -s "$db" ] && [ -x "$here/Tools/load-sample.sh" ]; then
  bash "$here/Tools/load-sample.sh" "$landmap" "$db"
fi
"$landmap" layers --db "$db"
