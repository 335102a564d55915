#!/usr/bin/env bash
# SPEC §5 under load: opens N idle TCP connections (loopback only) to a fresh `landmap serve`,
# holds them HOLD seconds while timing GET /health once a second, then reports the answers,
# their latency, the server's CPU use meanwhile and how many idle connections the server closed
# (its --idle-timeout, IDLE seconds). NOFILE=1024 starts the server with that descriptor limit
# (soft and hard), to show it stays up, without spinning, when descriptors run out.
# Usage: [IDLE=60] [HOLD=20] [NOFILE=] Tools/idle-connections.sh [N] [BIN] [WORKDIR]
set -euo pipefail
n=${1:-10000}
bin=${2:-.build/debug/landmap}
work=${3:-$(mktemp -d)}
idle=${IDLE:-60}
hold=${HOLD:-20}
[ "$n" -le 20000 ] && [ "$hold" -le 300 ] || { echo "at most 20000 connections and 300 s" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. Tools/lib.sh
[ -x "$bin" ] || swift build --product landmap >/dev/null
db="$work/idle.gpkg"
[ -s "$db" ] || bash Tools/load-sample.sh "$bin" "$db" >/dev/null
trap stop_server EXIT
server_port=$((20000 + RANDOM % 20000)); server_url="http://127.0.0.1:$server_port"
( [ -z "${NOFILE:-}" ] || ulimit -n "$NOFILE"
  exec "$bin" serve --db "$db" --port "$server_port" --idle-timeout "$idle" --log-level notice ) > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do curl -sf -o /dev/null "$server_url/health" && break; sleep 0.5; done
echo "server pid $server_pid at $server_url, idle timeout ${idle}s, open files $(awk '/Max open files/ {print $4 "/" $5}' /proc/$server_pid/limits)"

echo opening > "$work/phase"
python3 - "$server_port" "$n" "$hold" "$work/phase" > "$work/clients.txt" 2>&1 <<'PY' &
import resource, socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
conns, failed = [], 0
for _ in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        conns.append(s)
    except OSError:
        failed += 1
print(f"opened {len(conns)} idle connections ({failed} refused)", flush=True)
open(sys.argv[4], "w").write("holding")
time.sleep(hold)
closed = 0
for s in conns:
    try:
        s.setblocking(False)
        if s.recv(1, socket.MSG_PEEK) == b"": closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(f"after {hold:.0f} s the server had closed {closed} of them (a reset from a full accept backlog counts too)", flush=True)
open(sys.argv[4], "w").write("closing")
for s in conns: s.close()
time.sleep(5)
PY
clients=$!
ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
start_ticks=$(ticks); start=$(date +%s.%N)
: > "$work/health.txt"
while kill -0 "$clients" 2>/dev/null; do
  phase=$(cat "$work/phase")
  curl -s -o /dev/null --max-time 5 -w "%{http_code} %{time_total} $phase\n" "$server_url/health" >> "$work/health.txt" || echo "000 5 $phase" >> "$work/health.txt"
  sleep 1
done
end_ticks=$(ticks); end=$(date +%s.%N)
cat "$work/clients.txt"
echo "server alive: $(kill -0 "$server_pid" 2>/dev/null && echo yes || echo NO); descriptors now: $(ls /proc/$server_pid/fd | wc -l)"
awk -v t="$(getconf CLK_TCK)" -v s="$start_ticks" -v e="$end_ticks" -v d="$(echo "$end - $start" | bc)" \
  'BEGIN { printf "server CPU while held: %.0f %% of one core\n", (e - s) / t / d * 100 }'
echo "/health once a second while the clients were opening, holding and closing their connections:"
sort -k3,3 -k2,2n "$work/health.txt" | awk '{ key = $3; n[key]++; v[key, n[key]] = $2; if ($1 != 200) bad[key]++ } END {
  for (k in n) printf "  %-8s %3d requests, %d not 200, median %.1f ms, max %.1f ms\n", k, n[k], bad[k], v[k, int((n[k] + 1) / 2)] * 1000, v[k, n[k]] * 1000 }'
