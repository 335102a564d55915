#!/usr/bin/env bash
# Shows that `kill -9` of the server in the middle of a `POST /imports` leaves the database as it
# was: loads the sample, makes an editor token, uploads N generated parcels (default 200 000)
# to `landmap serve`, kills the server with SIGKILL once the import is writing, then checks
# PRAGMA integrity_check and the layers' counts, R-trees, versions, batches and history. A
# second server start then removes the dead server's upload folder.
# Usage: Tools/kill9-upload.sh [N] [WORKDIR]
set -euo pipefail
n=${1:-200000}
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
swift build -c release --product landmap >/dev/null
swift build -c release --product generate-parcels >/dev/null
bin=.build/release
db="$work/kill9-upload.gpkg"
parcels="$work/parcels-$n.geojson"
[ -s "$parcels" ] || "$bin/generate-parcels" --wards GeoData/admin/hcmc_wards_2025.geojson --count "$n" --out "$parcels"
rm -f "$db" "$db-wal" "$db-shm"
bash Tools/load-sample.sh "$bin/landmap" "$db" >/dev/null
token=$("$bin/landmap" token create --role editor --name kill9 --db "$db" 2>/dev/null)

state() {
  sqlite3 "$db" "PRAGMA integrity_check; SELECT name || '=' || data_version FROM landmap_layers ORDER BY name;
                 SELECT 'parcels=' || count(*) FROM parcels; SELECT 'rtree=' || count(*) FROM rtree_parcels_geom;
                 SELECT 'batches=' || count(*) FROM landmap_batches; SELECT 'history=' || count(*) FROM landmap_history;
                 SELECT 'writes=' || count(*) FROM landmap_audit WHERE action = 'write';" | tr '\n' ' '
}
before=$(state)
echo "before: $before"

port=$((20000 + RANDOM % 20000))
"$bin/landmap" serve --db "$db" --port "$port" --log-level warning > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.5; done
curl -s -o "$work/answer.json" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $token" --data-binary @"$parcels" \
  "http://127.0.0.1:$port/imports?layer=parcels&mode=upsert&fix=true&filename=parcels.geojson" > "$work/status" 2>/dev/null &
cpid=$!
# Wait until the import has written a good part of its transaction to the WAL, then kill the server.
for _ in $(seq 1 1200); do
  size=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
  [ "$size" -gt $((32 * 1024 * 1024)) ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
kill -0 "$pid" 2>/dev/null || { echo "the server stopped by itself: $(cat "$work/serve.log")" >&2; exit 1; }
if [ -s "$work/status" ]; then echo "the upload finished before it could be killed: use a larger N" >&2; exit 1; fi
uploads=$(find /tmp -maxdepth 1 -name "landmap-upload-$pid-*" | wc -l)
echo "killing the server (pid $pid) during POST /imports, with $(($(stat -c %s "$db-wal") / 1048576)) MiB in the WAL and $uploads upload folder(s)"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
wait "$cpid" 2>/dev/null || true

after=$(state)
echo "after:  $after"
if [ "$before" != "$after" ]; then echo "kill -9 during POST /imports: DATABASE CHANGED" >&2; exit 1; fi
echo "kill -9 during POST /imports: database unchanged (integrity ok)"

# The next server removes what the dead one left in the temporary folder.
"$bin/landmap" serve --db "$db" --port "$port" --log-level warning > "$work/serve2.log" 2>&1 &
pid2=$!
for _ in $(seq 1 240); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.5; done
kill "$pid2"; wait "$pid2" 2>/dev/null || true
left=$(find /tmp -maxdepth 1 -name "landmap-upload-$pid-*" | wc -l)
echo "upload folders of the killed server left after a restart: $left"
[ "$left" = 0 ]
