# Shared by the Tools/ scripts that run LandMap: start a server and wait for it, stop it, read
# its memory, and the fingerprint of a database the crash tests compare. Source it:
#   . "$(dirname "$0")/lib.sh"

# serve_in_background BIN DB LOG [SERVE-OPTION…]: runs `BIN serve` on DB in the background (log
# level $server_log_level, default warning) with any further options (load tests pass
# `--rate-limit off`: all their requests come from one address), sets server_pid, server_port
# (kept if already set, so a restart answers at the same address) and server_url, and returns
# once /health answers. Fails, with the log's tail, if the server stops or is not up within two minutes.
serve_in_background() {
  local bin=$1 db=$2 log=$3
  shift 3
  server_port=${server_port:-$((20000 + RANDOM % 20000))}
  server_url="http://127.0.0.1:$server_port"
  "$bin" serve --db "$db" --port "$server_port" --log-level "${server_log_level:-warning}" "$@" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 240); do
    curl -sf -o /dev/null "$server_url/health" && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "landmap serve stopped: $(tail -5 "$log")" >&2; return 1; }
    sleep 0.5
  done
  echo "landmap serve did not answer $server_url/health within two minutes (see $log)" >&2
  return 1
}

# stop_server: stops the server serve_in_background started, if it still runs.
stop_server() {
  if [ -n "${server_pid:-}" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}

# rss_mb PID: resident memory of a process, in MB. For a server on a GeoPackage this includes the
# pages of the database file it maps (mmap_size), which are the kernel's file cache.
rss_mb() { echo $(( $(awk '/^VmRSS/ {print $2}' "/proc/$1/status") / 1024 )); }

# private_mb PID: the process's own memory (RssAnon: heap, stacks), in MB, without mapped files.
private_mb() { echo $(( $(awk '/^RssAnon/ {print $2}' "/proc/$1/status") / 1024 )); }

# db_state DB: integrity, data versions, parcel and R-tree counts, batches, history and audited
# writes, on one line: equal before and after a crash means nothing was half written.
db_state() {
  sqlite3 "$1" "PRAGMA integrity_check; SELECT name || '=' || data_version FROM landmap_layers ORDER BY name;
                SELECT 'parcels=' || count(*) FROM parcels; SELECT 'rtree=' || count(*) FROM rtree_parcels_geom;
                SELECT 'batches=' || count(*) FROM landmap_batches; SELECT 'history=' || count(*) FROM landmap_history;
                SELECT 'writes=' || count(*) FROM landmap_audit WHERE action = 'write';" | tr '\n' ' '
}

# nginx_serve ROOT WORK [DIRECTIVES]: nginx (2 workers, as SPEC §6's ceiling) serving the files
# under ROOT on a free port, its pid file, logs and temporary files in WORK, with any further
# server-block DIRECTIVES (a location that marks pre-gzipped tiles, say). Sets nginx_pid and
# nginx_url; returns once it answers. nginx's workers run as another user: ROOT and WORK must be
# readable by them (mode 755 up the path).
nginx_serve() {
  local root=$1 work=$2 directives=${3:-}
  local port=$((20000 + RANDOM % 20000))
  mkdir -p "$work/nginx-tmp"
  cat > "$work/nginx.conf" <<NGINX
daemon off; worker_processes 2; pid $work/nginx.pid; error_log $work/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp; fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  default_type application/json;
  server { listen 127.0.0.1:$port; root $root; $directives }
}
NGINX
  nginx -c "$work/nginx.conf" -p "$work" & nginx_pid=$!
  nginx_url="http://127.0.0.1:$port"
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "$nginx_url/" && return 0
    sleep 0.2
  done
  echo "nginx did not start (see $work/nginx-error.log)" >&2
  return 1
}

# nginx_stop: stops what nginx_serve started.
nginx_stop() {
  if [ -n "${nginx_pid:-}" ]; then kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null || true; fi
  nginx_pid=""
}

# wrk_p99_ms FILE: the 99th percentile of a `wrk --latency` report, in milliseconds.
wrk_p99_ms() {
  awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms/, "", v); else {sub(/s/, "", v); v *= 1000}; print v}' "$1"
}

# measure OUT CMD…: runs CMD and writes "WALL_SECONDS PEAK_PRIVATE_MB" to OUT: the wall time and
# the highest RssAnon (heap and stacks, not mapped files) of CMD and its children, sampled every
# 0.1 s. /usr/bin/time's maximum RSS counts the pages of files a program maps (a GeoPackage
# LandMap reads through mmap, tippecanoe's temporary files), which are the kernel's file cache.
measure() {
  local out=$1; shift
  local start; start=$(date +%s.%N)
  local peak=0 pid sum p v
  "$@" & pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sum=0
    for p in $pid $(pgrep -P "$pid"); do
      v=$(awk '/^RssAnon/ {print $2}' "/proc/$p/status" 2>/dev/null); sum=$((sum + ${v:-0}))
    done
    [ "$sum" -gt "$peak" ] && peak=$sum
    sleep 0.1
  done
  local rc=0; wait "$pid" || rc=$?
  echo "$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')") $((peak / 1024))" > "$out"
  return $rc
}

# cycle_lua LIST SCRIPT: a wrk script that GETs the paths of LIST (one per line) in turn, each
# thread from its own place in the list.
cycle_lua() {
  cat > "$2" <<LUA
local paths = {}
for line in io.lines("$1") do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
LUA
}
