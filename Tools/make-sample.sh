#!/usr/bin/env bash
# Regenerates GeoData/parcels/d7_parcels.geojson: District 7's real zoning plots
# (GeoData/zoning) subdivided into parcels by the deterministic generator. Needs ogr2ogr.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ogr2ogr -f GeoJSON -t_srs EPSG:4326 "$tmp/plots.geojson" GeoData/zoning/d7_zoning_plots.shp
swift run -c release generate-parcels --wards GeoData/admin/hcmc_wards_2025.geojson \
  --from-zoning "$tmp/plots.geojson" --out GeoData/parcels/d7_parcels.geojson
