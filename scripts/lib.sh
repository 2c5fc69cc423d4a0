#!/usr/bin/env bash
# Shared by scripts/up, scripts/down, scripts/test and the benchmarks (scripts/bench, bench-mail,
# bench-groups): paths, build, private PostgreSQL and Redis servers on loopback, and the
# benchmarks' health wait and event creation.
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

# The African Group's 54 countries (ISO codes): the invited countries of the benchmarks' events.
# shellcheck disable=SC2034  # used by the scripts that source this file
ECD_AFRICAN_GROUP=DZ,AO,BJ,BW,BF,BI,CV,CM,CF,TD,KM,CG,CI,CD,DJ,EG,GQ,ER,SZ,ET,GA,GM,GH,GN,GW,KE,LS,LR,LY,MG,MW,ML,MR,MU,MA,MZ,NA,NE,NG,RW,ST,SN,SC,SL,SO,ZA,SS,SD,TZ,TG,TN,UG,ZM,ZW

# ecd_wait_serving PORT [TRIES]: waits (TRIES x 0.1 s, default 100) until the gRPC health check
# on 127.0.0.1:PORT answers SERVING; fails with a message otherwise.
ecd_wait_serving() {
  local _
  for _ in $(seq "${2:-100}"); do
    buf curl --protocol grpc --http2-prior-knowledge \
      "http://127.0.0.1:$1/grpc.health.v1.Health/Check" 2>/dev/null | grep -q SERVING && return 0
    sleep 0.1
  done
  echo "the service on port $1 did not become healthy" >&2
  return 1
}

# ecd_create_event CATALOGUE_PORT ADMIN_TOKEN TITLE COUNTRIES SEATS [EXTRA_JSON]: creates and
# publishes an open English webinar of the African region starting in 30 days, inviting
# COUNTRIES (comma-separated) with SEATS per country and no e-mail verification (EXTRA_JSON, an
# object, adds or replaces fields); prints the event's name.
ecd_create_event() {
  local body name extra=${6:-}
  [[ -n $extra ]] || extra='{}'
  body=$(python3 -c "
import json,sys,datetime
s=datetime.datetime.utcnow()+datetime.timedelta(days=30)
e=s+datetime.timedelta(minutes=105)
f=lambda d: d.strftime('%Y-%m-%dT%H:%M:%SZ')
event={'title':sys.argv[1],'region':'REGION_AFRICA','languageCode':'en',
  'startTime':f(s),'endTime':f(e),'durationMinutes':100,'participantsPerCountry':int(sys.argv[3]),
  'emailVerification':'EMAIL_VERIFICATION_OFF','invitedCountries':sys.argv[2].split(',')}
event.update(json.loads(sys.argv[4]))
print(json.dumps({'event':event}))" "$3" "$4" "$5" "$extra") || return 1
  name=$(buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $2" -d "$body" \
    "http://127.0.0.1:$1/ecd.catalogue.v1.CatalogueService/CreateEvent" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["event"]["name"])') || return 1
  buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $2" \
    -d "{\"name\":\"$name\"}" "http://127.0.0.1:$1/ecd.catalogue.v1.CatalogueService/PublishEvent" \
    >/dev/null || return 1
  echo "$name"
}

# ecd_postfix_tools: Postfix's smtp-sink (an SMTP server that accepts and discards) and
# smtp-source (an SMTP load generator), for scripts/bench-mail. They come from Debian's postfix
# package, downloaded and unpacked under .local/postfix rather than installed, so that no mail
# system is configured on the machine. Defines ecd_smtp_sink and ecd_smtp_source (the binaries
# look for Postfix's libraries in /usr/lib/postfix; these point them to the unpacked ones).
ecd_postfix_tools() {
  local dir=$ECD_ROOT/.local/postfix
  if [[ ! -x $dir/usr/sbin/smtp-sink || ! -x $dir/usr/sbin/smtp-source ]]; then
    ecd_log "unpacking smtp-sink and smtp-source from Debian's postfix package into $dir"
    local tmp
    mkdir -p "$ECD_ROOT/.local"
    tmp=$(mktemp -d "$ECD_ROOT/.local/postfix-XXXXXX") || return 1
    chmod 755 "$tmp"  # apt-get download writes as the _apt user where it can
    if ! (cd "$tmp" && apt-get download postfix >/dev/null 2>&1); then
      local sudo=""
      [[ $(id -u) -ne 0 ]] && sudo="sudo"
      $sudo apt-get update -qq
      (cd "$tmp" && apt-get download postfix >/dev/null 2>&1) ||
        { rm -rf "$tmp"; echo "apt-get download postfix failed" >&2; return 1; }
    fi
    { dpkg-deb -x "$tmp"/postfix_*.deb "$tmp/root" && rm -rf "$dir" &&
      mkdir -p "$dir/usr/sbin" "$dir/usr/lib" &&
      cp "$tmp/root/usr/sbin/smtp-sink" "$tmp/root/usr/sbin/smtp-source" "$dir/usr/sbin/" &&
      cp -r "$tmp/root/usr/lib/postfix" "$dir/usr/lib/"; } ||
      { rm -rf "$tmp"; echo "unpacking postfix failed" >&2; return 1; }
    rm -rf "$tmp"
  fi
  ECD_POSTFIX_DIR=$dir
}
# ecd_rss_kib PID: the process's resident memory in KiB (0 once it has gone).
ecd_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# ecd_cpu_ticks PID: the CPU time (user + system, in clock ticks: getconf CLK_TCK) a process used.
ecd_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

ecd_smtp_sink() {
  # As root it must be told whom to run as.
  local user=()
  [[ $(id -u) -eq 0 ]] && user=(-u nobody)
  # ECD_EXEC=exec replaces the calling (background) shell, so that its pid is the sink's.
  LD_LIBRARY_PATH=$ECD_POSTFIX_DIR/usr/lib/postfix ${ECD_EXEC:-} "$ECD_POSTFIX_DIR/usr/sbin/smtp-sink" \
    "${user[@]}" "$@"
}
ecd_smtp_source() {
  LD_LIBRARY_PATH=$ECD_POSTFIX_DIR/usr/lib/postfix "$ECD_POSTFIX_DIR/usr/sbin/smtp-source" "$@"
}
