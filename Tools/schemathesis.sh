#!/usr/bin/env bash
# Property-based API testing: schemathesis (PyPI) generates requests from /api (our OpenAPI
# document) for SECONDS (default 120) against a live `landmap serve` on the sample data, and
# checks every answer: no 5xx, responses that match the document, no crash. Prints the summary.
# Usage: Tools/schemathesis.sh [SECONDS] [LANDMAP_BINARY]
set -uo pipefail
seconds=${1:-120}
cd "$(dirname "$0")/.."
. Tools/lib.sh
bin=${2:-.build/release/landmap}
[ -x "$bin" ] || swift build -c release --product landmap >/dev/null
command -v st >/dev/null || pip install -q schemathesis
work=$(mktemp -d)
trap 'stop_server' EXIT  # the work folder stays, for its logs
server_log_level=info serve_in_background "$bin" "$work/st.gpkg" "$work/serve.log" --rate-limit off
port=$server_port
st run "http://127.0.0.1:$port/api" --max-time "$seconds" --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --workers 2 --no-color 2>&1 | tee "$work/st.log" | tail -40
echo "(full schemathesis log: $work/st.log)"
status=${PIPESTATUS[0]}
if kill -0 "$pid" 2>/dev/null; then echo "server: still up after the run"; else echo "server: DIED during the run" >&2; status=1; fi
echo "5xx answers in the server log: $(grep -c 'status=5' "$work/serve.log")"
exit "$status"
