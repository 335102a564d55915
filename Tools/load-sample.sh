#!/usr/bin/env bash
# Loads the sample in GeoData/ into a database: HCMC's 168 wards (admin), District 7's zoning
# plots (zoning) and the generated D7 parcels (parcels). Each import prints its QA report;
# --fix repairs the few invalid rings the real ward data and the generator contain.
# Usage: Tools/load-sample.sh LANDMAP_BINARY DB
set -euo pipefail
landmap=${1:-.build/release/landmap}
db=${2:-landmap.gpkg}
here=$(cd "$(dirname "$0")/.." && pwd)

echo "== admin: HCMC wards and communes after 1 July 2025"
"$landmap" import "$here/GeoData/admin/hcmc_wards_2025.geojson" --layer admin --db "$db" \
  --map province_code=parent_code --fix
echo "== zoning: District 7 plots (City Science Lab @ HCMC, Saigon Peninsula)"
"$landmap" import "$here/GeoData/zoning/d7_zoning_plots.shp" --layer zoning --db "$db"
echo "== parcels: generated from the D7 plots (Tools/make-sample.sh)"
"$landmap" import "$here/GeoData/parcels/d7_parcels.geojson" --layer parcels --db "$db" --fix
