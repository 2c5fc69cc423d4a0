#!/usr/bin/env bash
# tests/deploy/images_test.sh [BUILD_DIR]: the runtime images, built for real and run.
# About a minute and a half from a cold cache (debootstrap included), 20 s warm. ECD_TEST_IMAGES=0
# skips it (exit 77, which ctest reports as skipped); so does running it as another user than
# root, which debootstrap and podman's storage here need. The images are tagged
# ECD_TEST_IMAGE_TAG (default `test`).
#
# Builds the images with scripts/images from the binaries in BUILD_DIR (deploy/Dockerfile's
# prebuilt path; the base image is cached in .local/images/), starts a private PostgreSQL, Redis
# and SMTP server (tests/e2e/smtp_sink.py) on free loopback ports, runs `catalogue --seed` in its
# image and `certificates --generate-key` in its own, starts the four services' containers with
# host networking as the images are meant to run (non-root, read-only root file system, no
# capabilities, secrets from mounted files), then with buf curl: health SERVING, the five seeded
# webinars listed, a new open event created and published, a participant registered, the
# availability read; the registration's outbox relayed to notifications, whose confirmation
# reaches the SMTP server (ListMessages shows it sent); the signing key listed, the event
# completed, attendance imported, a certificate requested and its PDF downloaded (the Arabic
# certificate name laid out with the image's Noto fonts, embedded), then mailed by notifications
# with that PDF attached. Last, SIGTERM to each
# container (registration with a stream still open): each must exit 0 within its drain deadline.
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
TAG=${ECD_TEST_IMAGE_TAG:-test}
CAT_IMAGE=localhost/ecd-catalogue:$TAG
REG_IMAGE=localhost/ecd-registration:$TAG
NOT_IMAGE=localhost/ecd-notifications:$TAG
CERT_IMAGE=localhost/ecd-certificates:$TAG
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
  if [[ -n ${smtp_pid:-} ]]; then kill "$smtp_pid" 2>/dev/null || true; fi
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
SMTP_PORT=$(ecd_free_port)
ecd_pg_start "$TMP/pg" "$PG_PORT"
ecd_redis_start "$TMP/redis" "$REDIS_PORT"
# The mail server notifications sends to: every accepted message lands in $TMP/mail as JSON.
"$PYTHON" "$ROOT/tests/e2e/smtp_sink.py" "$SMTP_PORT" "$TMP/mail" >"$TMP/smtp.log" 2>&1 &
smtp_pid=$!
for _ in $(seq 100); do
  grep -q listening "$TMP/smtp.log" && break
  kill -0 "$smtp_pid" 2>/dev/null || fail "SMTP sink: $(cat "$TMP/smtp.log")"
  sleep 0.1
done
grep -q listening "$TMP/smtp.log" || fail "SMTP sink not listening: $(cat "$TMP/smtp.log")"
echo "PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT," \
  "SMTP on 127.0.0.1:$SMTP_PORT"

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
NOT_PORT=$(ecd_free_port)
CERT_PORT=$(ecd_free_port)
CAT_DEADLINE_MS=10000
REG_DEADLINE_MS=3000
NOT_DEADLINE_MS=5000
CERT_DEADLINE_MS=3000

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

# The signing key, made by the certificates image itself (as user 10001, into a writable mount).
mkdir -m 777 "$TMP/keys"
keygen=$(podman_run --rm -v "$TMP/keys:/keys" "$CERT_IMAGE" \
  --generate-key /keys/signing-key 2>&1) ||
  fail "certificates --generate-key: $keygen"
KEY_ID=$(sed -n 's/^key id \([0-9a-f]*\) .*/\1/p' <<<"$keygen")
[[ -n $KEY_ID && -s $TMP/keys/signing-key ]] || fail "certificates --generate-key: $keygen"
install -m 444 "$TMP/keys/signing-key" "$TMP/secrets/signing-key"
echo "signing key $KEY_ID made in $CERT_IMAGE"

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
  -e ECD_CATALOGUE_CACHE_MS=0 -e ECD_NOTIFICATIONS_ADDRESS="127.0.0.1:$NOT_PORT" \
  -e ECD_SERVICE_TOKEN_FILE=/run/ecd/service-token \
  -e ECD_CANCEL_TOKEN_SECRET_FILE=/run/ecd/cancel-token-secret \
  "$REG_IMAGE" >/dev/null
containers+=("$RUN_ID-notifications")
podman_run -d --name "$RUN_ID-notifications" \
  -e ECD_LISTEN_ADDRESS="127.0.0.1:$NOT_PORT" -e ECD_PG_URL="$PG_URL" \
  -e ECD_TOKENS_FILE=/run/ecd/tokens -e ECD_SHUTDOWN_DEADLINE_MS=$NOT_DEADLINE_MS \
  -e ECD_CATALOGUE_ADDRESS="127.0.0.1:$CAT_PORT" -e ECD_CATALOGUE_CACHE_MS=0 \
  -e ECD_SERVICE_TOKEN_FILE=/run/ecd/service-token \
  -e ECD_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" -e ECD_SMTP_TIMEOUT_MS=5000 \
  -e ECD_SMTP_RETRY_BASE_MS=200 -e ECD_SMTP_RETRY_MAX_MS=1000 \
  "$NOT_IMAGE" >/dev/null
containers+=("$RUN_ID-certificates")
podman_run -d --name "$RUN_ID-certificates" \
  -e ECD_LISTEN_ADDRESS="127.0.0.1:$CERT_PORT" -e ECD_PG_URL="$PG_URL" \
  -e ECD_TOKENS_FILE=/run/ecd/tokens -e ECD_SHUTDOWN_DEADLINE_MS=$CERT_DEADLINE_MS \
  -e ECD_CATALOGUE_ADDRESS="127.0.0.1:$CAT_PORT" -e ECD_CATALOGUE_CACHE_MS=0 \
  -e ECD_REGISTRATION_ADDRESS="127.0.0.1:$REG_PORT" \
  -e ECD_NOTIFICATIONS_ADDRESS="127.0.0.1:$NOT_PORT" -e ECD_COURIER_INTERVAL_MS=200 \
  -e ECD_SERVICE_TOKEN_FILE=/run/ecd/service-token -e ECD_SIGNING_KEY_FILE=/run/ecd/signing-key \
  "$CERT_IMAGE" >/dev/null

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
SERVICES=(catalogue registration notifications certificates)
for c in "${SERVICES[@]}"; do wait_healthy "$RUN_ID-$c"; done
echo "all four containers SERVING (health_probe) $((SECONDS - started)) s into the test"

for c in "${SERVICES[@]}"; do
  user=$(podman inspect --format '{{.Config.User}}' "$RUN_ID-$c")
  [[ $user == 10001:10001 ]] || fail "$c runs as '$user', not 10001:10001"
  logs=$(podman logs "$RUN_ID-$c" 2>&1)
  [[ -n $logs && $(grep -vc '^{' <<<"$logs") == 0 ]] || fail "$c does not log JSON lines"
done

CAT=http://127.0.0.1:$CAT_PORT
REG=http://127.0.0.1:$REG_PORT
NOT=http://127.0.0.1:$NOT_PORT
CERTS=http://127.0.0.1:$CERT_PORT
curl_grpc() {  # token url [json]
  local token=$1 url=$2 data=${3:-"{}"}
  "$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 10s \
    -H "authorization: Bearer $token" -d "$data" "$url"
}
json() {  # python expression over j (the document on stdin)
  "$PYTHON" -c "import json, sys; j = json.load(sys.stdin); print($1)"
}

echo "== smoke"
for url in $CAT $REG $NOT $CERTS; do
  status=$("$BUF" curl --protocol grpc --http2-prior-knowledge "$url/grpc.health.v1.Health/Check" |
    json "j['status']")
  [[ $status == SERVING ]] || fail "$url health: $status"
done
echo "health: SERVING on all four (buf curl)"

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
    \"participantsPerCountry\": 4, \"emailVerification\": \"EMAIL_VERIFICATION_OFF\"}}") ||
  fail "CreateEvent"
event=$(json "j['event']['name']" <<<"$created")
curl_grpc "$ADMIN" "$CAT/ecd.catalogue.v1.CatalogueService/PublishEvent" "{\"name\": \"$event\"}" \
  >/dev/null || fail "PublishEvent"
echo "created and published $event"

registered=$(curl_grpc "$FRONTEND" "$REG/ecd.registration.v1.RegistrationService/Register" "{
  \"event\": \"$event\", \"requestId\": \"images-test-reg-$$\",
  \"participant\": {\"givenName\": \"Awa\", \"familyName\": \"Diop\",
    \"certificateName\": \"عوا ديوب\",
    \"email\": \"awa.diop@justice.example\", \"countryCode\": \"SN\",
    \"organisation\": \"Ministère de la Justice\", \"affiliation\": \"AFFILIATION_MINISTRY_OF_JUSTICE\",
    \"jobTitle\": \"Magistrate\", \"preferredLanguage\": \"fr\", \"timeZone\": \"Africa/Dakar\",
    \"privacyConsent\": true}}") || fail "Register"
status=$(json "j['registration']['status']" <<<"$registered")
[[ $status == REGISTRATION_STATUS_CONFIRMED ]] || fail "Register: $registered"
registration=$(json "j['registration']['name']" <<<"$registered")
participant_key=$(json "j['participantKey']" <<<"$registered")
echo "Register: $status ($registration)"

availability=$(curl_grpc "$FRONTEND" "$REG/ecd.registration.v1.RegistrationService/GetAvailability" \
  "{\"event\": \"$event\"}") || fail "GetAvailability"
seats=$(json "[(c['countryCode'], c.get('limit', 0), c.get('taken', 0)) for c in j['countries']]" \
  <<<"$availability")
[[ $seats == "[('SN', 4, 1)]" ]] || fail "GetAvailability: $availability"
echo "GetAvailability: SN 1 of 4 taken"

# Waits (30 s at most) until notifications lists a message of KIND for the registration as sent;
# leaves the listing in $messages.
wait_sent() {  # kind
  local kind=$1 state=""
  for _ in $(seq 150); do
    # NOT_FOUND until the relay has delivered the registration's first event.
    messages=$(curl_grpc "$ADMIN" "$NOT/ecd.notifications.v1.NotificationService/ListMessages" \
      "{\"registration\": \"$registration\"}") || { sleep 0.2; continue; }
    state=$(json "next((m.get('state', '') for m in j.get('messages', [])
                         if m['kind'] == '$kind'), '')" <<<"$messages")
    [[ $state == MESSAGE_STATE_SENT ]] && return 0
    sleep 0.2
  done
  fail "no $kind message sent for $registration: $messages"
}

# The registration's outbox, relayed to notifications, becomes the confirmation, sent over SMTP.
wait_sent confirmed
recipient=$(json "next(m['recipient'] for m in j['messages'] if m['kind'] == 'confirmed')" \
  <<<"$messages")
[[ $recipient == awa.diop@justice.example ]] || fail "confirmation to $recipient: $messages"
received=$("$PYTHON" - "$TMP/mail" <<'PY'
import glob, json, sys
for name in glob.glob(sys.argv[1] + "/*.json"):
    with open(name, encoding="utf-8") as f:
        m = json.load(f)
    if "awa.diop@justice.example" in m["rcpt_tos"] and m["ics"]:
        print(m["subject"])
        break
PY
)
[[ -n $received ]] ||
  fail "the SMTP server got no confirmation with an invitation: $(ls "$TMP/mail")"
echo "ListMessages: confirmation sent; the SMTP server got \"$received\" with its invitation"

# Certificates: the key listed, then a certificate for the participant once the event is over
# and attended, its PDF made in the container (Pango, Cairo, libqrencode, the Noto fonts).
keys=$(curl_grpc "$FRONTEND" "$CERTS/ecd.certificates.v1.CertificateService/ListSigningKeys") ||
  fail "ListSigningKeys"
signing=$(json "','.join(k['keyId'] for k in j.get('keys', []) if k.get('signing'))" <<<"$keys")
[[ $signing == "$KEY_ID" ]] || fail "ListSigningKeys: $keys (want $KEY_ID signing)"
echo "ListSigningKeys: $signing signing"
# The webinar took place: its slot moves into the past, attendance is imported (times in
# Paris time, as a Zoom account there writes them), then the event is completed.
curl_grpc "$ADMIN" "$CAT/ecd.catalogue.v1.CatalogueService/UpdateEvent" \
  "{\"event\": {\"name\": \"$event\", \"startTime\": \"2020-07-09T08:00:00Z\",
    \"endTime\": \"2020-07-09T09:45:00Z\"}, \"updateMask\": \"startTime,endTime\"}" \
  >/dev/null || fail "UpdateEvent (slot in the past)"
csv=$(printf '%s\n' "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)" \
  "Awa Diop,awa.diop@justice.example,07/09/2020 10:00:00 AM,07/09/2020 11:35:00 AM,95" |
  base64 -w0)
imported=$(curl_grpc "$ADMIN" "$REG/ecd.registration.v1.RegistrationService/ImportAttendance" \
  "{\"event\": \"$event\", \"reportCsv\": \"$csv\", \"timeZone\": \"Europe/Paris\"}") ||
  fail "ImportAttendance"
[[ $(json "j.get('matchedRows', 0)" <<<"$imported") == 1 ]] || fail "ImportAttendance: $imported"
[[ $(json "j['attendance'][0]['attendedMinutes']" <<<"$imported") == 95 ]] ||
  fail "ImportAttendance minutes: $imported"
curl_grpc "$ADMIN" "$CAT/ecd.catalogue.v1.CatalogueService/CompleteEvent" "{\"name\": \"$event\"}" \
  >/dev/null || fail "CompleteEvent"
issued=$(curl_grpc "$FRONTEND" "$CERTS/ecd.certificates.v1.CertificateService/RequestCertificate" \
  "{\"registration\": \"$registration\", \"participantKey\": \"$participant_key\"}") ||
  fail "RequestCertificate"
certificate=$(json "j['certificate']['name']" <<<"$issued")
pdf_sha256=$(json "j['certificate']['pdfSha256']" <<<"$issued")
"$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 10s \
  -H "authorization: Bearer $FRONTEND" \
  -d "{\"name\": \"$certificate\", \"participantKey\": \"$participant_key\"}" \
  "$CERTS/ecd.certificates.v1.CertificateService/DownloadCertificate" >"$TMP/download.json" ||
  fail "DownloadCertificate"
got_sha256=$("$PYTHON" - "$TMP/download.json" "$TMP/certificate.pdf" <<'PY'
import base64, hashlib, json, sys
text, decoder, at, pdf = open(sys.argv[1], encoding="utf-8").read(), json.JSONDecoder(), 0, b""
while True:
    while at < len(text) and text[at].isspace():
        at += 1
    if at == len(text):
        break
    message, at = decoder.raw_decode(text, at)
    pdf += base64.b64decode(message.get("chunk", ""))
open(sys.argv[2], "wb").write(pdf)
print(hashlib.sha256(pdf).hexdigest())
PY
)
[[ $(head -c 5 "$TMP/certificate.pdf") == "%PDF-" && $got_sha256 == "$pdf_sha256" ]] ||
  fail "DownloadCertificate: not the PDF of $certificate (sha256 $got_sha256, want $pdf_sha256)"
if command -v pdffonts >/dev/null; then
  # Every font embedded, the Arabic name in Noto Sans Arabic, and poppler has nothing to say.
  fonts=$(pdffonts "$TMP/certificate.pdf" 2>"$TMP/pdffonts.err")
  [[ ! -s $TMP/pdffonts.err ]] || fail "pdffonts: $(cat "$TMP/pdffonts.err")"
  grep -q 'NotoSansArabic-Bold' <<<"$fonts" || fail "the Arabic name is not in Noto Sans Arabic: $fonts"
  [[ $(tail -n +3 <<<"$fonts" | awk '{print $(NF-4)}' | sort -u) == yes ]] ||
    fail "a font is not embedded: $fonts"
  text=$(pdftotext -enc UTF-8 "$TMP/certificate.pdf" - | sed 's/\xe2\x80[\xab\xac]//g')
  grep -q 'عوا ديوب' <<<"$text" || fail "the name is not in the text layer: $text"
fi
echo "RequestCertificate, DownloadCertificate: $certificate," \
  "$(stat -c %s "$TMP/certificate.pdf") bytes of PDF, the Arabic name in Noto Sans Arabic, embedded"

# certificates hands the certificate to notifications, which mails it with the PDF attached.
wait_sent certificate_issued
attached=$("$PYTHON" - "$TMP/mail" <<'PY'
import email, email.policy, glob, hashlib, sys
for name in glob.glob(sys.argv[1] + "/*.eml"):
    with open(name, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "application/pdf":
            print(hashlib.sha256(part.get_payload(decode=True)).hexdigest())
PY
)
grep -qx "$pdf_sha256" <<<"$attached" ||
  fail "the SMTP server got no mail with the certificate's PDF (attachments: ${attached:-none})"
echo "ListMessages: certificate_issued sent; the SMTP server got the PDF attached"

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
stop_within "$RUN_ID-certificates" $CERT_DEADLINE_MS
stop_within "$RUN_ID-registration" $REG_DEADLINE_MS
stop_within "$RUN_ID-notifications" $NOT_DEADLINE_MS
stop_within "$RUN_ID-catalogue" $CAT_DEADLINE_MS

echo "images test passed in $((SECONDS - started)) s"
