#!/usr/bin/env bash
# tests/deploy/health_probe_test.sh HEALTH_PROBE CATALOGUE: the images' health check against a
# real catalogue (on the test PostgreSQL of scripts/test, ECD_TEST_PG_URL, in a database of its
# own): exit 0 and SERVING when serving, 1 when nothing listens or the service name is unknown,
# 2 on bad arguments; the address defaults to ECD_LISTEN_ADDRESS, a wildcard host meaning loopback.
set -euo pipefail
probe=$1 catalogue=$2
: "${ECD_TEST_PG_URL:?run through scripts/test (it starts the test PostgreSQL)}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/lib.sh"

failures=0
expect() {  # expected-exit description command...
  local want=$1 what=$2 got=0
  shift 2
  "$@" >"$TMP/out" 2>&1 || got=$?
  if [[ $got == "$want" ]]; then
    echo "ok: $what (exit $got)"
  else
    echo "FAIL: $what: exit $got, want $want: $(cat "$TMP/out")"
    failures=$((failures + 1))
  fi
}

TMP=$(mktemp -d "${ECD_TEST_TMP:-/tmp}/probe-XXXXXX")
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

db=probe_$$_$RANDOM
"${ECD_TEST_PG_BIN:-$ECD_PG_BIN}/psql" -qAt -d "$ECD_TEST_PG_URL" -c "CREATE DATABASE $db" >/dev/null
port=$(ecd_free_port)
ECD_LISTEN_ADDRESS=0.0.0.0:$port ECD_PG_URL="${ECD_TEST_PG_URL%/*}/$db" ECD_LOG_LEVEL=warn \
  "$catalogue" >"$TMP/catalogue.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  "$probe" --address "127.0.0.1:$port" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$TMP/catalogue.log"; exit 1; }
  sleep 0.1
done

expect 0 "SERVING catalogue" "$probe" --address "127.0.0.1:$port"
grep -qx SERVING "$TMP/out" || { echo "FAIL: printed $(cat "$TMP/out")"; failures=$((failures + 1)); }
expect 0 "address from ECD_LISTEN_ADDRESS=0.0.0.0:$port" env ECD_LISTEN_ADDRESS="0.0.0.0:$port" "$probe"
# The server reports one status for the whole server (the service name ""), which is what the
# Kubernetes probes and compose ask; any other name is unknown to it.
expect 1 "a service name" "$probe" --address "127.0.0.1:$port" --service no.such.Service
expect 1 "nothing listening" "$probe" --address "127.0.0.1:$(ecd_free_port)" --timeout-ms 500
expect 2 "no address at all" env -u ECD_LISTEN_ADDRESS "$probe"
expect 2 "a bad argument" "$probe" --timeout-ms soon

kill -TERM "$pid"
wait "$pid" || true
pid=""
expect 1 "after the catalogue stopped" "$probe" --address "127.0.0.1:$port" --timeout-ms 500
((failures == 0)) || { echo "$failures failed"; exit 1; }
echo "health_probe: all checks passed"
