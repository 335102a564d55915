#!/usr/bin/env bash
# Installs what LandMap needs on Debian/Ubuntu, and only what is missing:
# GEOS, PROJ (with its EPSG database), GDAL (library, ogrinfo/ogr2ogr, and its Python bindings for
# Tools/make-sheet.py), SQLite, pkg-config,
# Noto Sans (fonts-noto-core) for the map's label glyphs, and PostgreSQL 15 + PostGIS 3 (the
# second backend; tests start a throwaway cluster of their own with Tools/postgres), and nginx
# and wrk for Tools/cluster, Tools/cluster-lag and Tools/cluster-faults (several nodes behind a
# load balancer, under load), Prometheus (with promtool) for the alert rules in Tools/monitoring,
# and Node.js (18 or newer) and Chromium for Tools/csp-check.mjs (the web map in a headless
# browser; Tools/viewer-check.mjs wants Node 20.10 or newer), and QGIS 3.22 headless (python3-qgis,
# qgis-providers) for QGISClientTests.
# Safe to run again. Swift itself (6.1 or newer) must already be on PATH.
set -euo pipefail

packages=(pkg-config zlib1g-dev libsqlite3-dev libgeos-dev libproj-dev proj-data libgdal-dev gdal-bin python3-gdal sqlite3 fonts-noto-core postgresql-15 postgresql-15-postgis-3 nginx wrk prometheus nodejs chromium python3-qgis qgis-providers)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (LandMap needs Swift 6.1 or newer)" >&2; exit 1; }
for lib in geos proj gdal sqlite3; do
  pkg-config --exists "$lib" || { echo "setup: pkg-config cannot find $lib after installing" >&2; exit 1; }
done
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "setup: PostgreSQL 15's binaries are not in /usr/lib/postgresql/15/bin after installing" >&2; exit 1; }
echo "setup: ok (GEOS $(pkg-config --modversion geos), PROJ $(pkg-config --modversion proj), GDAL $(pkg-config --modversion gdal), SQLite $(pkg-config --modversion sqlite3), $(/usr/lib/postgresql/15/bin/postgres --version | sed 's/postgres (PostgreSQL)/PostgreSQL/'))"

# MapLibre GL JS for the viewer, from the PyPI package `maplibre` (it ships maplibre-gl.js 5.x
# and its CSS): extracted into Styles/viewer/vendor/, served by LandMap, never from a CDN.
here=$(cd "$(dirname "$0")/.." && pwd)
vendor="$here/Styles/viewer/vendor"
if [ ! -s "$vendor/maplibre-gl.js" ]; then
  tmp=$(mktemp -d)
  if python3 -m pip download --no-deps -q -d "$tmp" maplibre >/dev/null 2>&1; then
    mkdir -p "$vendor"
    python3 - "$tmp" "$vendor" <<'PY'
import glob, sys, zipfile
wheel = zipfile.ZipFile(glob.glob(sys.argv[1] + "/maplibre-*.whl")[0])
for name in ("maplibre-gl.js", "maplibre-gl.css"):
    with open(f"{sys.argv[2]}/{name}", "wb") as out:
        out.write(wheel.read(f"maplibre/srcjs/{name}"))
PY
    echo "setup: MapLibre GL JS installed in Styles/viewer/vendor/"
  else
    echo "setup: could not download the PyPI package maplibre: the web map will lack MapLibre GL JS" >&2
  fi
  rm -rf "$tmp"
fi

# SDF glyph ranges for the styles' text labels (GET /fonts/...), made once from Noto Sans with
# FreeType (PyPI freetype-py): no prebuilt glyph set is reachable from these machines.
fonts="$here/Styles/fonts"
if [ ! -s "$fonts/Noto Sans Bold/7680-7935.pbf" ]; then
  python3 -c "import freetype" 2>/dev/null || python3 -m pip install -q freetype-py >/dev/null 2>&1 || true
  if python3 "$here/Tools/make-glyphs.py" --out "$fonts"; then
    echo "setup: label glyphs made in Styles/fonts/"
  else
    echo "setup: could not make the label glyphs (needs fonts-noto-core and freetype-py): the map will lack text labels" >&2
  fi
fi

# Independent readers the tests use when present: OGC schema validation, PMTiles, MVT.
# rdflib and pyshacl: the DCAT-AP 3.0 catalogue's parse and SHACL check (Tools/validate-catalog.py).
# owslib: the OGC API client whose filters must reach the server (GDALClientTests).
if ! python3 -c "import jsonschema, yaml, referencing, pmtiles, mapbox_vector_tile, rdflib, pyshacl, owslib" 2>/dev/null; then
  python3 -m pip install -q jsonschema pyyaml referencing pmtiles mapbox-vector-tile rdflib pyshacl owslib >/dev/null 2>&1 \
    && echo "setup: Python test readers installed (jsonschema, pyyaml, pmtiles, mapbox-vector-tile, rdflib, pyshacl, owslib)" \
    || echo "setup: could not install the Python test readers: those checks will be skipped" >&2
fi
