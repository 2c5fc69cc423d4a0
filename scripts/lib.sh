#!/usr/bin/env bash
# Shared by scripts/up, scripts/down, scripts/test and scripts/bench: paths, build, and private
# PostgreSQL and Redis servers on loopback.
set -euo pipefail

ECD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ECD_BUILD=${ECD_BUILD:-$ECD_ROOT/build}
ECD_PG_BIN=${ECD_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
# shellcheck source=scripts/deps.sh
source "$ECD_ROOT/scripts/deps.sh"

ecd_log() { printf '==> %s\n' "$*" >&2; }

ecd_build() {
  ecd_log "building ($ECD_BUILD, Release)"
  cmake -S "$ECD_ROOT" -B "$ECD_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ECD_BUILD" -j "$(nproc)"
}

ecd_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# PostgreSQL refuses to run as root: as root, its files belong to the postgres user.
ecd_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ecd_pg_start DIR PORT: a private cluster in DIR (created if needed) on 127.0.0.1:PORT.
ecd_pg_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    ecd_as_pg "$ECD_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  mkdir -p "$dir/sock"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir/sock"
  ecd_as_pg "$ECD_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir/sock -c max_connections=300 -c fsync=off" \
    start >/dev/null
  ecd_as_pg "$ECD_PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = 'ecd'" | grep -q 1 ||
    ecd_as_pg "$ECD_PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres ecd
}

ecd_pg_stop() {
  local dir=$1
  [[ -f $dir/data/postmaster.pid ]] || return 0
  ecd_as_pg "$ECD_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# ecd_redis_start DIR PORT
ecd_redis_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis did not start on port $port" >&2
  return 1
}

ecd_redis_stop() {
  local dir=$1
  [[ -f $dir/redis.pid ]] || return 0
  kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  rm -f "$dir/redis.pid"
}

# ecd_token: a fresh random bearer token; ecd_sha256 TOKEN: its hash as configured.
ecd_token() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ecd_sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
