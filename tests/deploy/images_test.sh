#!/usr/bin/env bash
# tests/deploy/images_test.sh [BUILD_DIR]: the runtime images, built for real and run.
# About a minute from a cold cache (debootstrap included), 20 s warm. ECD_TEST_IMAGES=0 skips it
# (exit 77, which ctest reports as skipped); so does running it as another user than root, which
# debootstrap and podman's storage here need.
#
# Builds the images with scripts/images from the binaries in BUILD_DIR (deploy/Dockerfile's
# prebuilt path; the base image is cached in .local/images/), starts a private PostgreSQL and
# Redis on free loopback ports, runs `catalogue --seed` in its image, starts each service's
# container with host networking as the images are meant to run (non-root, read-only root file
# system, no capabilities, secrets from mounted files), then with buf curl: health SERVING, the
# five seeded webinars listed, a new open event created and published, a participant registered,
# the availability read. Last, SIGTERM to each container (registration with a stream still open):
# each must exit 0 within its drain deadline.
set -euo pipefail

if [[ ${ECD_TEST_IMAGES:-1} == 0 ]]; then
  echo "SKIP: ECD_TEST_IMAGES=0"
  exit 77
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: the image test needs root (debootstrap, podman)"
  exit 77
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
BUILD=$(cd "${1:-$ECD_BUILD}" && pwd)
BUF=$ROOT/.local/npm/node_modules/.bin/buf
TAG=test
CAT_IMAGE=localhost/ecd-catalogue:$TAG
REG_IMAGE=localhost/ecd-registration:$TAG
PYTHON=/usr/bin/python3

started=$SECONDS
t0=$SECONDS
"$ROOT/scripts/images" --build "$BUILD" --tag "$TAG"
echo "images built in $((SECONDS - t0)) s"

TMP=$(mktemp -d "${ECD_TEST_TMP:-/tmp}/images-XXXXXX")
chmod 755 "$TMP"
RUN_ID=ecd-images-$$
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  if [[ -n ${stream_pid:-} ]]; then kill "$stream_pid" 2>/dev/null || true; fi
  ecd_redis_stop "$TMP/redis"
  ecd_pg_stop "$TMP/pg"
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  local c
  for c in "${containers[@]}"; do
    echo "--- logs of $c" >&2
    podman logs --tail 30 "$c" >&2 2>&1 || true
  done
  exit 1
}

PG_PORT=$(ecd_free_port)
REDIS_PORT=$(ecd_free_port)
ecd_pg_start "$TMP/pg" "$PG_PORT"
ecd_redis_start "$TMP/redis" "$REDIS_PORT"
echo "PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"

# Secrets as files, as Kubernetes mounts them (readable by the images' user 10001 only via group
# or world bits here, since the files belong to root).
ADMIN=$(ecd_token) FRONTEND=$(ecd_token) SERVICE=$(ecd_token)
mkdir -m 755 "$TMP/secrets"
printf 'admin:%s\nfrontend:%s\nservice:%s\n' "$(ecd_sha256 "$ADMIN")" "$(ecd_sha256 "$FRONTEND")" \
  "$(ecd_sha256 "$SERVICE")" >"$TMP/secrets/tokens"
printf '%s\n' "$SERVICE" >"$TMP/secrets/service-token"
printf '%s\n' "$(ecd_token)" >"$TMP/secrets/cancel-token-secret"
chmod 444 "$TMP/secrets"/*

PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/ecd"
CAT_PORT=$(ecd_free_port)
REG_PORT=$(ecd_free_port)
CAT_DEADLINE_MS=10000
REG_DEADLINE_MS=3000

# How the images run: host network (this machine has no other), runc, the ulimits it needs.
podman_run() {
  podman run --runtime runc --network=host \
    --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
    --read-only --cap-drop=ALL --security-opt no-new-privileges \
    -v "$TMP/secrets:/run/ecd:ro" "$@"
}

echo "== catalogue --seed in $CAT_IMAGE"
seed_out=$(podman_run --rm -e ECD_PG_URL="$PG_URL" "$CAT_IMAGE" --seed 2>&1) ||
  fail "seed: $seed_out"
echo "$seed_out" | tail -n 1
grep -q "seed: 6 created" <<<"$seed_out" || fail "seed did not create the series and 5 webinars"

echo "== starting the containers"
containers+=("$RUN_ID-catalogue")
podman_run -d --name "$RUN_ID-catalogue" \
  -e ECD_LISTEN_ADDRESS="127.0.0.1:$CAT_PORT" -e ECD_PG_URL="$PG_URL" \
  -e ECD_TOKENS_FILE=/run/ecd/tokens -e ECD_SHUTDOWN_DEADLINE_MS=$CAT_DEADLINE_MS \
  "$CAT_IMAGE" >/dev/null
containers+=("$RUN_ID-registration")
podman_run -d --name "$RUN_ID-registration" \
  -e ECD_LISTEN_ADDRESS="127.0.0.1:$REG_PORT" -e ECD_PG_URL="$PG_URL" \
  -e ECD_TOKENS_FILE=/run/ecd/tokens -e ECD_SHUTDOWN_DEADLINE_MS=$REG_DEADLINE_MS \
  -e ECD_REDIS_ADDRESS="127.0.0.1:$REDIS_PORT" -e ECD_CATALOGUE_ADDRESS="127.0.0.1:$CAT_PORT" \
  -e ECD_CATALOGUE_CACHE_MS=0 -e ECD_NOTIFICATIONS_ADDRESS=off \
  -e ECD_SERVICE_TOKEN_FILE=/run/ecd/service-token \
  -e ECD_CANCEL_TOKEN_SECRET_FILE=/run/ecd/cancel-token-secret \
  "$REG_IMAGE" >/dev/null

# The images' own health check: health_probe inside the container.
wait_healthy() {
  local c=$1
  for _ in $(seq 150); do
    podman exec "$c" /usr/local/bin/health_probe >/dev/null 2>&1 && return 0
    [[ $(podman inspect --format '{{.State.Running}}' "$c") == true ]] || fail "$c exited"
    sleep 0.2
  done
  fail "$c not SERVING after 30 s"
}
wait_healthy "$RUN_ID-catalogue"
wait_healthy "$RUN_ID-registration"
echo "both containers SERVING (health_probe)"

for c in catalogue registration; do
  user=$(podman inspect --format '{{.Config.User}}' "$RUN_ID-$c")
  [[ $user == 10001:10001 ]] || fail "$c runs as '$user', not 10001:10001"
  logs=$(podman logs "$RUN_ID-$c" 2>&1)
  [[ -n $logs && $(grep -vc '^{' <<<"$logs") == 0 ]] || fail "$c does not log JSON lines"
done

CAT=http://127.0.0.1:$CAT_PORT
REG=http://127.0.0.1:$REG_PORT
curl_grpc() {  # token url [json]
  local token=$1 url=$2 data=${3:-"{}"}
  "$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 10s \
    -H "authorization: Bearer $token" -d "$data" "$url"
}
json() {  # python expression over j (the document on stdin)
  "$PYTHON" -c "import json, sys; j = json.load(sys.stdin); print($1)"
}

echo "== smoke"
for url in $CAT $REG; do
  status=$("$BUF" curl --protocol grpc --http2-prior-knowledge "$url/grpc.health.v1.Health/Check" |
    json "j['status']")
  [[ $status == SERVING ]] || fail "$url health: $status"
done
echo "health: SERVING on both (buf curl)"

events=$(curl_grpc "$ADMIN" "$CAT/ecd.catalogue.v1.CatalogueService/ListEvents")
n=$(json "len(j.get('events', []))" <<<"$events")
[[ $n == 5 ]] || fail "ListEvents: $n events, want the 5 seeded: $events"
echo "ListEvents: $(json "', '.join(e['startTime'][:10] + ' ' + e['languageCode'] for e in j['events'])" <<<"$events")"

start=$(date -u -d '+30 days' +%Y-%m-%dT08:00:00Z)
end=$(date -u -d '+30 days' +%Y-%m-%dT09:45:00Z)
created=$(curl_grpc "$ADMIN" "$CAT/ecd.catalogue.v1.CatalogueService/CreateEvent" "{
  \"requestId\": \"images-test-$$\",
  \"event\": {\"title\": \"Image smoke webinar\", \"region\": \"REGION_AFRICA\",
    \"languageCode\": \"fr\", \"startTime\": \"$start\", \"endTime\": \"$end\",
    \"durationMinutes\": 100, \"platform\": \"Zoom\", \"invitedCountries\": [\"SN\"],
    \"participantsPerCountry\": 4}}") || fail "CreateEvent"
event=$(json "j['event']['name']" <<<"$created")
curl_grpc "$ADMIN" "$CAT/ecd.catalogue.v1.CatalogueService/PublishEvent" "{\"name\": \"$event\"}" \
  >/dev/null || fail "PublishEvent"
echo "created and published $event"

registered=$(curl_grpc "$FRONTEND" "$REG/ecd.registration.v1.RegistrationService/Register" "{
  \"event\": \"$event\", \"requestId\": \"images-test-reg-$$\",
  \"participant\": {\"givenName\": \"Awa\", \"familyName\": \"Diop\",
    \"email\": \"awa.diop@justice.example\", \"countryCode\": \"SN\",
    \"organisation\": \"Ministère de la Justice\", \"affiliation\": \"AFFILIATION_MINISTRY_OF_JUSTICE\",
    \"jobTitle\": \"Magistrate\", \"preferredLanguage\": \"fr\", \"timeZone\": \"Africa/Dakar\",
    \"privacyConsent\": true}}") || fail "Register"
status=$(json "j['registration']['status']" <<<"$registered")
[[ $status == REGISTRATION_STATUS_CONFIRMED ]] || fail "Register: $registered"
echo "Register: $status"

availability=$(curl_grpc "$FRONTEND" "$REG/ecd.registration.v1.RegistrationService/GetAvailability" \
  "{\"event\": \"$event\"}") || fail "GetAvailability"
seats=$(json "[(c['countryCode'], c.get('limit', 0), c.get('taken', 0)) for c in j['countries']]" \
  <<<"$availability")
[[ $seats == "[('SN', 4, 1)]" ]] || fail "GetAvailability: $availability"
echo "GetAvailability: SN 1 of 4 taken"

echo "== SIGTERM"
# A stream in flight: registration must still stop within its deadline.
"$BUF" curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $FRONTEND" \
  -d "{\"event\": \"$event\"}" "$REG/ecd.registration.v1.RegistrationService/WatchAvailability" \
  >"$TMP/stream.out" 2>&1 &
stream_pid=$!
for _ in $(seq 50); do
  grep -q countryCode "$TMP/stream.out" && break
  sleep 0.1
done
grep -q countryCode "$TMP/stream.out" || fail "WatchAvailability sent nothing: $(cat "$TMP/stream.out")"
echo "WatchAvailability: stream open"
stop_within() {  # container deadline_ms
  local c=$1 deadline_ms=$2 t_start code elapsed_ms
  t_start=$(date +%s%N)
  podman kill --signal TERM "$c" >/dev/null
  code=$(timeout $((deadline_ms / 1000 + 10)) podman wait "$c") || fail "$c did not exit"
  elapsed_ms=$((($(date +%s%N) - t_start) / 1000000))
  [[ $code == 0 ]] || fail "$c exited with $code after SIGTERM"
  # podman's own bookkeeping adds a little to the process's drain.
  ((elapsed_ms <= deadline_ms + 1500)) || fail "$c took $elapsed_ms ms (deadline $deadline_ms)"
  echo "$c: exit 0, $elapsed_ms ms after SIGTERM (deadline $deadline_ms ms)"
}
stop_within "$RUN_ID-registration" $REG_DEADLINE_MS
stop_within "$RUN_ID-catalogue" $CAT_DEADLINE_MS

echo "images test passed in $((SECONDS - started)) s"
