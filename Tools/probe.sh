#!/usr/bin/env bash
# The outside probe of Docs/SECURITY.md, rerun against a fresh build: hostile uploads, private
# fields in every output, bad input, the server at its edges, what GIS clients rely on. Loads
# the sample into a temporary database, serves it on a loopback port, and prints one line per
# probe (PASS or FAIL, what was asked, what came back), then "N passed, N failed".
# Everything goes to 127.0.0.1 only; every loop is bounded.
# Usage: Tools/probe.sh [WORKDIR]      (LANDMAP_BIN=path/to/landmap to skip the build)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. Tools/lib.sh
work=${1:-$(mktemp -d)}
mkdir -p "$work"
bin=${LANDMAP_BIN:-}
if [ -z "$bin" ]; then
  swift build --product landmap >/dev/null || { echo "probe: the build failed" >&2; exit 1; }
  bin="$here/.build/debug/landmap"
fi
db="$work/probe.gpkg"
rm -f "$db" "$db-wal" "$db-shm"
"$bin" load-sample --db "$db" --sample-dir "$here/GeoData" >/dev/null || { echo "probe: could not load the sample" >&2; exit 1; }
editor=$("$bin" token create --role editor --name probe-editor --db "$db" 2>/dev/null)
reader=$("$bin" token create --role reader --name probe-reader --db "$db" 2>/dev/null)

passed=0; failed=0
# check NAME CONDITION-EXIT-CODE OBSERVED
check() {
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS $1: $3"; else failed=$((failed + 1)); echo "FAIL $1: $3"; fi
}
# status METHOD URL [curl args…]: the HTTP status code alone; the body is in $work/body.
status() { local m=$1 u=$2; shift 2; curl -s -o "$work/body" -w '%{http_code}' -X "$m" "$@" "$u"; }
upload() { status POST "$server_url/imports?layer=$1&filename=$(basename "$2")" -H "Authorization: Bearer $editor" --data-binary @"$2"; }
owner_like='"(owner|owner_id|chusudung|tenchusudung|hoten|cccd|cmnd|soccd|socccd|socmnd)"'

trap stop_server EXIT
server_log_level=info
serve_in_background "$bin" "$db" "$work/serve.log" || exit 1


# ---- Uploads may read only their own bytes -------------------------------------------------
cat > "$work/own-db.vrt" <<VRT
<OGRVRTDataSource><OGRVRTLayer name="parcels"><SrcDataSource>$db</SrcDataSource><SrcLayer>parcels</SrcLayer></OGRVRTLayer></OGRVRTDataSource>
VRT
code=$(upload stolen "$work/own-db.vrt")
[[ $code == 4* ]] && ! "$bin" layers --db "$db" 2>/dev/null | grep -q stolen; check "VRT naming the live database, POST /imports" $? "HTTP $code, $(head -c 160 "$work/body")"
"$bin" import "$work/own-db.vrt" --layer stolen --db "$db" > "$work/out" 2>&1; rc=$?
[ $rc -ne 0 ]; check "the same VRT, landmap import" $? "exit $rc: $(tail -1 "$work/out" | head -c 160)"
(cd "$work" && rm -f vrt.zip && cp own-db.vrt inner.vrt && python3 -c "import zipfile; z=zipfile.ZipFile('vrt.zip','w'); z.write('inner.vrt'); z.close()")
code=$(upload stolen "$work/vrt.zip")
[[ $code == 4* ]]; check "a .zip holding a VRT, POST /imports" $? "HTTP $code, $(head -c 160 "$work/body")"
"$bin" import "$work/vrt.zip" --layer stolen --db "$db" > "$work/out" 2>&1; rc=$?
[ $rc -ne 0 ]; check "the same .zip, landmap import" $? "exit $rc: $(tail -1 "$work/out" | head -c 160)"
"$bin" import "/vsicurl/$server_url/collections/parcels/items?f=json" --layer stolen --db "$db" > "$work/out" 2>&1; rc=$?
[ $rc -ne 0 ]; check "a /vsicurl/ path, landmap import" $? "exit $rc: $(tail -1 "$work/out" | head -c 160)"
sed "s#<SrcDataSource>.*</SrcDataSource>#<SrcDataSource>/vsicurl/$server_url/collections/parcels/items?f=json</SrcDataSource>#" "$work/own-db.vrt" > "$work/ssrf.vrt"
code=$(upload stolen "$work/ssrf.vrt")
[[ $code == 4* ]]; check "a VRT whose source is /vsicurl/ (SSRF), POST /imports" $? "HTTP $code, $(head -c 160 "$work/body")"
printf '{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"%s/collections?probe=crs-link","type":"ogcwkt"}},"features":[]}' "$server_url" > "$work/crs-link.geojson"
code=$(upload stolen "$work/crs-link.geojson")
sleep 0.3
[[ $code == 4* ]] && ! grep -q 'probe=crs-link' "$work/serve.log"; check "a GeoJSON whose crs is a link to fetch, POST /imports" $? "HTTP $code, $(head -c 160 "$work/body")"
cp "$work/own-db.vrt" "$work/disguised.geojson"
code=$(upload stolen "$work/disguised.geojson")
[[ $code == 4* ]]; check "a VRT named .geojson, POST /imports" $? "HTTP $code, $(head -c 160 "$work/body")"
ln -sf "$db" "$work/link.gpkg"
"$bin" import "$work/link.gpkg" --layer stolen --db "$db" > "$work/out" 2>&1; rc=$?
[ $rc -ne 0 ]; check "a symlink to the live database, landmap import" $? "exit $rc: $(tail -1 "$work/out" | head -c 160)"

# ---- Two imports at once, one through the CLI and one over HTTP -----------------------------
python3 - "$work" <<'PY'
import json, sys
def square(i, x0, y0):
    x, y = x0 + (i % 100) * 0.0002, y0 + (i // 100) * 0.0002
    return {"type": "Feature", "properties": {"MaXa": "27484", "SoTo": 900 + i // 1000, "SoThua": i % 1000 + 1, "LoaiDat": "ODT"},
            "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.00015, y], [x + 0.00015, y + 0.00015], [x, y + 0.00015], [x, y]]]}}
for name, y0, base in (("cli", 10.70, 0), ("http", 10.68, 5000)):
    json.dump({"type": "FeatureCollection", "features": [square(base + i, 106.60, y0) for i in range(5000)]}, open(f"{sys.argv[1]}/{name}.geojson", "w"))
PY
count_before=$(sqlite3 "$db" "SELECT count(*) FROM parcels")
"$bin" import "$work/cli.geojson" --layer parcels --db "$db" > "$work/cli.out" 2>&1 & cli=$!
code=$(status POST "$server_url/imports?layer=parcels&filename=http.geojson" -H "Authorization: Bearer $editor" --data-binary @"$work/http.geojson")
wait $cli; rc=$?
count_after=$(sqlite3 "$db" "SELECT count(*) FROM parcels")
integrity=$(sqlite3 "$db" "PRAGMA integrity_check")
[ "$integrity" = ok ] && [ $rc -eq 0 ] && [[ $code == 2* ]] && [ $((count_after - count_before)) -eq 10000 ]
check "a CLI import and an HTTP import together" $? "CLI exit $rc, HTTP $code, parcels $count_before → $count_after (10 000 reported), integrity_check: $integrity"

# ---- Private fields, in every layer and every output ----------------------------------------
python3 - "$work" <<'PY'
import json, sys
def sq(x, y, d, props):
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}}
w = sys.argv[1]
json.dump({"type": "FeatureCollection", "features": [
    sq(106.7300, 10.7200, 0.0004, {"name": "Quán cà phê", "amenity": "cafe", "owner": "Nguyễn Văn A", "HoTen": "Nguyễn Văn A", "CCCD": "079000000001"}),
    {"type": "Feature", "properties": {"name": "Tiệm", "amenity": "shop", "ChuSuDung": "Lê Thị B", "SoCMND": "0790001"},
     "geometry": {"type": "Point", "coordinates": [106.7310, 10.7210]}}]}, open(f"{w}/custom.geojson", "w"))
json.dump({"type": "FeatureCollection", "features": [
    sq(106.7320, 10.7220, 0.0003, {"MaXa": "27484", "SoTo": 880, "SoThua": 1, "LoaiDat": "ODT",
                                   "TenChuSuDung": "Trần Văn C", "Owner": "Trần Văn C", "cmnd": "0790002"})]}, open(f"{w}/private-parcel.geojson", "w"))
PY
"$bin" import "$work/custom.geojson" --layer probe_shops --db "$db" >/dev/null 2>&1
"$bin" import "$work/private-parcel.geojson" --layer parcels --db "$db" >/dev/null 2>&1
leaks=""
for path in "/collections/probe_shops/items?limit=100" "/collections/probe_shops/items/1" "/collections/parcels/items?bbox=106.7319,10.7219,106.7324,10.7224" \
            "/collections/parcels/items/27484-880-1" "/parcels/at?lon=106.73215&lat=10.72215" "/parcels?ward=27484&sheet=880&number=1" \
            "/parcels/27484-880-1/history" "/tiles/parcels,probe_shops/17/104395/61609.geojson" "/tiles/parcels,probe_shops.json" \
            "/collections/probe_shops" "/collections/probe_shops/queryables" "/collections/parcels/queryables" \
            "/collections/probe_shops/schema" "/collections/parcels/schema" "/api" "/collections"; do
  curl -s --compressed "$server_url$path" > "$work/answer"
  grep -qiE "$owner_like|Nguyễn Văn A|Trần Văn C|079000000001" "$work/answer" && leaks="$leaks $path"
done
curl -s "$server_url/tiles/parcels,probe_shops/17/104395/61609.mvt" | gzip -dcf > "$work/tile.mvt"
grep -qaiE 'owner|hoten|cccd|cmnd|chusudung|Nguyễn Văn A|Trần Văn C' "$work/tile.mvt" && leaks="$leaks /tiles/…/17/104395/61609.mvt"
[ -z "$leaks" ]; check "anonymous callers see no owner-like field (16 routes and an MVT tile)" $? "${leaks:-no owner-like key or value in any answer}"
curl -s -H "Authorization: Bearer $reader" "$server_url/collections/probe_shops/items?limit=100" > "$work/answer"
grep -q '079000000001' "$work/answer"; check "a reader token still sees them" $? "$(grep -o '"CCCD":"[^"]*"' "$work/answer" | head -1)"

# ---- A parcel's cadastral key is unique ----------------------------------------------------
curl -s "$server_url/collections/parcels/items/27484-1-2" > "$work/p2.json"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
f = json.load(open(f"{w}/p2.json"))
props = {k: v for k, v in f["properties"].items() if k in ("ward_code", "sheet", "number", "land_use")}
props.update({"ward_code": "27484", "sheet": 1, "number": 1})
json.dump({"type": "Feature", "properties": props, "geometry": f["geometry"]}, open(f"{w}/dup-put.json", "w"))
json.dump({"type": "Feature", "id": "probe-new", "properties": props, "geometry": f["geometry"]}, open(f"{w}/dup-post.json", "w"))
PY
code=$(status PUT "$server_url/collections/parcels/items/27484-1-2" -H "Authorization: Bearer $editor" -H 'Content-Type: application/geo+json' --data-binary @"$work/dup-put.json")
[ "$code" = 409 ]; check "PUT parcel 27484-1-2 with the key of 27484-1-1" $? "HTTP $code, $(head -c 160 "$work/body")"
code=$(status POST "$server_url/collections/parcels/items" -H "Authorization: Bearer $editor" -H 'Content-Type: application/geo+json' --data-binary @"$work/dup-post.json")
[ "$code" = 409 ]; check "POST a new parcel with the key of 27484-1-1" $? "HTTP $code, $(head -c 160 "$work/body")"
n=$(curl -s "$server_url/parcels?ward=27484&sheet=1&number=1" | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d.get('features', d if isinstance(d, list) else [])))")
[ "$n" = 1 ]; check "/parcels?ward=27484&sheet=1&number=1 finds one parcel" $? "$n parcel(s)"

# ---- Bad input is refused, not accepted silently ---------------------------------------------
python3 - "$work" <<'PY'
import json, math, sys
w = sys.argv[1]
sq = lambda x, y, d: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]
json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"MaXa": "27484", "SoTo": 870, "SoThua": 1},
           "geometry": {"type": "Polygon", "coordinates": sq(106.70, 10.70, 0.0002)}}]}, open(f"{w}/lonlat.geojson", "w"))
# Hà Nội, Hoàn Kiếm, in VN-2000 / UTM 48N (EPSG:3405): its cadastral sheets are drawn in TM-3 105°00'.
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3405"}},
           "features": [{"type": "Feature", "properties": {"name": "ha noi"},
           "geometry": {"type": "Polygon", "coordinates": sq(585500.0, 2323000.0, 30.0)}}]}, open(f"{w}/hanoi-utm.geojson", "w"))
n = 1_000_001
ring = [[106.60 + 0.01 * math.cos(2 * math.pi * i / n), 10.60 + 0.01 * math.sin(2 * math.pi * i / n)] for i in range(n)]
ring.append(ring[0])
with open(f"{w}/huge.geojson", "w") as f:
    json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "huge"},
               "geometry": {"type": "Polygon", "coordinates": [ring]}}]}, f)
PY
"$bin" import "$work/lonlat.geojson" --layer probe_crs --crs vn2000 --db "$db" > "$work/out" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -qi 'area of use' "$work/out" && grep -qi 'crs wgs84' "$work/out"; check "lon/lat imported with --crs vn2000" $? "exit $rc: $(grep -i 'area of use' "$work/out" | head -1 | head -c 300)"
"$bin" validate "$work/hanoi-utm.geojson" --layer probe_crs --db "$db" > "$work/out" 2>&1; rc=$?
grep -qiE 'warning.*EPSG:5897' "$work/out"; check "UTM 48N declared on a Hà Nội sheet: the TM-3 CRS named" $? "exit $rc: $(grep -iE 'warning.*(TM-3|EPSG:5897)' "$work/out" | head -1 | head -c 300)"
code=$(upload probe_huge "$work/huge.geojson")
[[ $code == 4* ]] && grep -q 'more than the limit' "$work/body"; check "a 1 000 001-vertex polygon, POST /imports" $? "HTTP $code, $(head -c 200 "$work/body")"
if command -v ogr2ogr >/dev/null; then
  ogr2ogr -f 'ESRI Shapefile' "$work/nodbf.shp" "$work/lonlat.geojson" 2>/dev/null
  cp "$work/nodbf.shp" "$work/baddbf.shp"; cp "$work/nodbf.shx" "$work/baddbf.shx"; head -c 40 /dev/urandom > "$work/baddbf.dbf"
  rm -f "$work/nodbf.dbf"
  "$bin" import "$work/nodbf.shp" --layer probe_shp --db "$db" > "$work/out" 2>&1; rc=$?
  [ $rc -ne 0 ]; check "a Shapefile without its .dbf" $? "exit $rc: $(tail -1 "$work/out" | head -c 160)"
  "$bin" import "$work/baddbf.shp" --layer probe_shp --db "$db" > "$work/out" 2>&1; rc=$?
  [ $rc -ne 0 ]; check "a Shapefile with a corrupt .dbf" $? "exit $rc: $(tail -1 "$work/out" | head -c 160)"
fi

# ---- The server at its edges ----------------------------------------------------------------
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$server_url/collections/parcels/items?limit=1")
[ "$code" = 200 ]; check "HEAD /collections/parcels/items" $? "HTTP $code"
for m in TRACE PATCH; do
  code=$(status $m "$server_url/collections/parcels" -D "$work/headers")
  [ "$code" = 405 ] && grep -qi '^allow:' "$work/headers"; check "$m /collections/parcels" $? "HTTP $code, $(grep -i '^allow:' "$work/headers" | tr -d '\r')"
done
long=$(head -c 100000 /dev/zero | tr '\0' 'a')
code=$(status GET "$server_url/collections/parcels/items?q=$long")
[[ $code == 4* ]] && grep -q '"status"' "$work/body"; check "a 100 KB query string" $? "HTTP $code, $(head -c 160 "$work/body")"
curl -s -o /dev/null "$server_url/collections/parcels/items?limit=3&probe=query-string-logged"
sleep 0.5
grep -q 'probe=query-string-logged' "$work/serve.log"; check "the request log holds the query string" $? "$(grep -o '[^ ]*probe=query-string-logged[^ ]*' "$work/serve.log" | head -1)"
python3 - "$server_port" 2000 > "$work/idle.out" <<'PY'
import socket, sys, time, urllib.request
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket(); s.settimeout(5)
    try: s.connect(("127.0.0.1", port)); socks.append(s)
    except OSError: break
for s in socks[: n // 2]: s.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")   # half a request: slow headers
t = time.time(); code = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).status
print(len(socks), code, round((time.time() - t) * 1000, 1))
PY
read -r opened hcode ms < "$work/idle.out"
[ "${hcode:-0}" = 200 ]; check "/health with $opened idle and slow-header connections open" $? "HTTP ${hcode:-none} in ${ms:-?} ms"

# ---- What GIS clients rely on ---------------------------------------------------------------
curl -s "$server_url/api" > "$work/api.json"
python3 -c "import json,sys; d=json.load(open('$work/api.json')); p=d['paths']; ok='/collections/parcels/items' in p and any(q.get('name')=='land_use' for q in p['/collections/parcels/items']['get'].get('parameters',[]) if isinstance(q, dict)); sys.exit(0 if ok else 1)"
check "/api lists /collections/parcels/items with its queryables" $? "$(python3 -c "import json; print(sorted(k for k in json.load(open('$work/api.json'))['paths'] if 'parcels' in k or 'tiles' in k or 'styles' in k)[:8])")"
code=$(status GET "$server_url/collections/probe_shops/items?amenity=cafe")
n=$(python3 -c "import json; print(len(json.load(open('$work/body'))['features']))" 2>/dev/null)
[ "$code" = 200 ] && [ "$n" = 1 ]; check "?amenity=cafe on a custom layer" $? "HTTP $code, ${n:-?} feature(s)"
code=$(status GET "$server_url/collections/probe_shops/schema")
[ "$code" = 200 ] && grep -q amenity "$work/body"; check "/collections/probe_shops/schema lists amenity" $? "HTTP $code"
ogrinfo -q -ro "$db" > "$work/ogrinfo.out" 2>&1
! grep -q 'landmap_' "$work/ogrinfo.out"; check "ogrinfo lists no LandMap table as a layer" $? "$(tr '\n' ';' < "$work/ogrinfo.out" | head -c 200)"
grep -i 'probe_shops' "$work/ogrinfo.out" | grep -qvi 'polygon'; check "the mixed point/polygon layer is not declared Polygon" $? "$(grep -i probe_shops "$work/ogrinfo.out")"
cp "$db" "$work/copy.gpkg"
n=$(sqlite3 "$work/copy.gpkg" "SELECT count(*) FROM probe_shops" 2>&1)
[ "$n" = 2 ]; check "a copy of the .gpkg alone, just after an import, holds its features" $? "probe_shops: $n"
minzoom=$(curl -s "$server_url/tiles/parcels.json" | python3 -c "import json,sys; print(json.load(sys.stdin)['minzoom'])")
[ "${minzoom:-0}" -ge 12 ]; check "TileJSON minzoom of parcels is where parcels are drawn" $? "minzoom $minzoom"

# ---- A damaged database, a full disk ---------------------------------------------------------
# second_server DB LOG [env…]: another server on its own port; sets second_pid and second_url.
second_server() {
  local sdb=$1 log=$2; shift 2
  local port=$((server_port + 1))
  second_url="http://127.0.0.1:$port"
  env "$@" "$bin" serve --db "$sdb" --port "$port" --log-level warning > "$log" 2>&1 &
  second_pid=$!
  for _ in $(seq 1 120); do curl -s -o /dev/null "$second_url/health" && return 0; sleep 0.5; done
  return 1
}
stop_second() { kill "$second_pid" 2>/dev/null; wait "$second_pid" 2>/dev/null; }
cp "$db" "$work/damaged.gpkg"
root=$(sqlite3 "$work/damaged.gpkg" "SELECT rootpage FROM sqlite_master WHERE name = 'parcels'")
page=$(sqlite3 "$work/damaged.gpkg" "PRAGMA page_size")
head -c 512 /dev/zero | tr '\0' '\245' | dd of="$work/damaged.gpkg" bs=1 seek=$(((root - 1) * page)) conv=notrunc 2>/dev/null
if second_server "$work/damaged.gpkg" "$work/damaged.log"; then
  code=000
  for _ in $(seq 1 20); do code=$(status GET "$second_url/health"); [ "$code" = 503 ] && break; sleep 0.5; done
  [ "$code" = 503 ]; check "/health on a database that fails its quick check" $? "HTTP $code, $(head -c 160 "$work/body")"
  stop_second
else
  check "/health on a database that fails its quick check" 1 "the server did not start on the damaged copy: $(tail -2 "$work/damaged.log")"
fi
if mkdir -p "$work/full" && mount -t tmpfs -o size=2m tmpfs "$work/full" 2>/dev/null; then
  head -c 4000000 /dev/urandom | base64 > "$work/big.geojson"
  if second_server "$db" "$work/full.log" TMPDIR="$work/full"; then
    code=$(status POST "$second_url/imports?layer=probe_full&filename=big.geojson" -H "Authorization: Bearer $editor" --data-binary @"$work/big.geojson")
    [ "$code" = 507 ]; check "an upload onto a full disk" $? "HTTP $code, $(head -c 160 "$work/body")"
    stop_second
  fi
  umount "$work/full"
else
  echo "SKIP an upload onto a full disk: mounting a small tmpfs needs root"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
