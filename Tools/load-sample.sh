#!/usr/bin/env bash
# Loads the sample in GeoData/ into a database (HCMC's 168 wards, District 7's zoning plots,
# the generated D7 parcels) and prints each import's QA report. The recipe itself is
# `landmap load-sample` (Sources/Import/SampleLoader.swift), which `landmap serve` also uses.
# Usage: Tools/load-sample.sh LANDMAP_BINARY DB
set -euo pipefail
landmap=${1:-.build/release/landmap}
db=${2:-landmap.gpkg}
here=$(cd "$(dirname "$0")/.." && pwd)
"$landmap" load-sample --db "$db" --sample-dir "$here/GeoData"
