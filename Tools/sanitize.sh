#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer + LeakSanitizer (valgrind 3.19 crashes inside the
# Swift test runner before any test starts). Builds in .build-asan so the normal build stays.
# Usage: Tools/sanitize.sh [--filter REGEX]
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
ASAN_OPTIONS=detect_leaks=1 swift test --sanitize=address --scratch-path .build-asan "$@" 2>&1 | tee "$log" | grep -E "✔ Test run|✘|ERROR: AddressSanitizer"
echo "--- AddressSanitizer errors: $(grep -c 'ERROR: AddressSanitizer' "$log")"
echo "--- leak reports: $(grep -c 'ERROR: LeakSanitizer' "$log"); frames in our code or GEOS/PROJ/GDAL:"
grep -A8 "^Direct leak\|^Indirect leak" "$log" | grep -E "in (\\\$s[0-9]*(Geometry|Projection|Store|Formats|Import|Query|Features)|GEOS|proj_|GDAL|OGR|CPL)" | sort | uniq -c | head -20
echo "(full log: $log)"
