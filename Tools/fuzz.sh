#!/usr/bin/env bash
# Fuzzes LandMap's input paths with libFuzzer (swiftc -sanitize=fuzzer, with AddressSanitizer):
#   geojson  the strict JSON parser, GeoJSON geometry decoding and the RFC 7946 lint
#   wkb      WKB (both byte orders) and GeoPackage geometry blobs, and WKT
#   cql2     CQL2 text and JSON: parse, print both ways and read back, type-check, run in SQLite
#   query    tile and query parameters through the real router (every GET route)
#   upload   POST /imports (dry run): raw bodies, zips, multipart forms, file names
# Each target runs MINUTES (default 5), one after another (heavy: run alone on 2 cores).
# Corpora grow in .build-fuzz/corpus/<target> from Tools/Fuzz/seeds/<target>; a crash is
# saved in .build-fuzz/crashes/<target>/ and replays with `swift run fuzz-<target> FILE`.
# Prints executions and crashes per target.  Usage: Tools/fuzz.sh [MINUTES=5] [TARGET…]
set -uo pipefail
minutes=${1:-5}; shift || true
targets=${*:-geojson wkb cql2 query upload}
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out"
summary=()
for t in $targets; do
  echo "fuzz: building fuzz-$t (libFuzzer + ASan, release)"
  swift build -c release --build-path "$out" --product "fuzz-$t" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLANDMAP_FUZZ -Xswiftc -use-ld=lld >"$out/build-$t.log" 2>&1 \
    || { echo "fuzz: build of fuzz-$t failed (see $out/build-$t.log)" >&2; exit 1; }
  corpus="$out/corpus/$t"; crashes="$out/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  cp -n Tools/Fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  log="$out/fuzz-$t.log"
  echo "fuzz: running fuzz-$t for $minutes min"
  ASAN_OPTIONS=detect_leaks=0 "$out/release/fuzz-$t" "$corpus" -max_total_time=$((minutes * 60)) -max_len=65536 \
    -timeout=20 -rss_limit_mb=4096 -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1
  status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  found=$(ls "$crashes" | wc -l)
  summary+=("fuzz-$t: ${runs:-?} executions in $minutes min, $found crash/timeout inputs saved (exit $status)")
  echo "${summary[-1]}"
done
printf '%s\n' "${summary[@]}"
