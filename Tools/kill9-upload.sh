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
. Tools/lib.sh
swift build -c release --product landmap >/dev/null
swift build -c release --product generate-parcels >/dev/null
bin=.build/release
db="$work/kill9-upload.gpkg"
parcels="$work/parcels-$n.geojson"
[ -s "$parcels" ] || "$bin/generate-parcels" --wards GeoData/admin/hcmc_wards_2025.geojson --count "$n" --out "$parcels"
rm -f "$db" "$db-wal" "$db-shm"
bash Tools/load-sample.sh "$bin/landmap" "$db" >/dev/null
token=$("$bin/landmap" token create --role editor --name kill9 --db "$db" 2>/dev/null)

before=$(db_state "$db")
echo "before: $before"

trap stop_server EXIT
serve_in_background "$bin/landmap" "$db" "$work/serve.log"
pid=$server_pid
curl -s -o "$work/answer.json" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $token" --data-binary @"$parcels" \
  "$server_url/imports?layer=parcels&mode=upsert&fix=true&filename=parcels.geojson" > "$work/status" 2>/dev/null &
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
uploads=$( (find /tmp -maxdepth 1 -name "landmap-upload-$pid-*" 2>/dev/null || true) | wc -l)
echo "killing the server (pid $pid) during POST /imports, with $(($(stat -c %s "$db-wal") / 1048576)) MiB in the WAL and $uploads upload folder(s)"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
wait "$cpid" 2>/dev/null || true

after=$(db_state "$db")
echo "after:  $after"
if [ "$before" != "$after" ]; then echo "kill -9 during POST /imports: DATABASE CHANGED" >&2; exit 1; fi
echo "kill -9 during POST /imports: database unchanged (integrity ok)"

# The next server removes what the dead one left in the temporary folder.
serve_in_background "$bin/landmap" "$db" "$work/serve2.log"
stop_server
left=$( (find /tmp -maxdepth 1 -name "landmap-upload-$pid-*" 2>/dev/null || true) | wc -l)
echo "upload folders of the killed server left after a restart: $left"
[ "$left" = 0 ]
