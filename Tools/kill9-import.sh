#!/usr/bin/env bash
# Shows that `kill -9` in the middle of an import leaves the database exactly as it was:
# loads the sample, notes the counts and data versions, starts importing N generated parcels
# (default 1 000 000), kills the process with SIGKILL once it is writing, then checks
# PRAGMA integrity_check and compares. Usage: Tools/kill9-import.sh [N] [WORKDIR]
set -euo pipefail
n=${1:-1000000}
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. Tools/lib.sh
swift build -c release --product landmap >/dev/null
swift build -c release --product generate-parcels >/dev/null
bin=.build/release
db="$work/kill9.gpkg"
parcels="$work/parcels-$n.geojson"
[ -s "$parcels" ] || "$bin/generate-parcels" --wards GeoData/admin/hcmc_wards_2025.geojson --count "$n" --out "$parcels"
rm -f "$db" "$db-wal" "$db-shm"
bash Tools/load-sample.sh "$bin/landmap" "$db" >/dev/null

before=$(db_state "$db")
echo "before: $before"

"$bin/landmap" import "$parcels" --layer parcels --mode upsert --fix --db "$db" >/dev/null 2>&1 &
pid=$!
# Wait until the import has written a good part of its transaction to the WAL, then kill it.
for _ in $(seq 1 600); do
  size=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
  [ "$size" -gt $((64 * 1024 * 1024)) ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if ! kill -0 "$pid" 2>/dev/null; then echo "the import finished before it could be killed: use a larger N" >&2; exit 1; fi
echo "killing import (pid $pid) with $(($(stat -c %s "$db-wal") / 1048576)) MiB in the WAL"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true

after=$(db_state "$db")
echo "after:  $after"
if [ "$before" = "$after" ]; then echo "kill -9: database unchanged (integrity ok)"; else echo "kill -9: DATABASE CHANGED" >&2; exit 1; fi
