#!/usr/bin/env bash
# The OpenAPI document fuzzed against the server: schemathesis (pinned, from PyPI, in a venv)
# runs its coverage, fuzzing and stateful phases with every check over the whole document,
# authenticated as the demo admin, against the example server on the in-memory store with demo
# data. Failures recorded in scripts/contract-fuzz.baseline.json (schemathesis --baseline; each
# entry a rule JSON Schema cannot state — cross-field, relative to the clock, or about the
# server's data — with its one-line `reason`) are expected; anything else fails the run. Ends
# with a summary: the requests the server answered (its own http_requests_total), by status
# class, and the outcome.
#
#   scripts/contract-fuzz.sh [SERVER_BINARY]
#
#   SERVER_BINARY   default: $CARGO_TARGET_DIR/release/icosistem-server when built, else the
#                   debug one (built when missing).
#
# Options (environment): FUZZ_MAX_EXAMPLES (default 60), FUZZ_MAX_TIME (seconds, default 210:
# the run is stopped after it, a stopped run fails), FUZZ_MIN_REQUESTS (default 10000: fewer
# fails the run), FUZZ_PORT (default 18087), FUZZ_REPORT (a JUnit file to write),
# FUZZ_BASELINE_UPDATE=1 (merge this run's failures into the baseline, to review and annotate).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icosistem-ci-target}"
SCHEMATHESIS_VERSION=4.32.5
VENV="${HOME}/.cache/icosistem-ci-venv/schemathesis-${SCHEMATHESIS_VERSION}"
PORT="${FUZZ_PORT:-18087}"
BASE="http://127.0.0.1:${PORT}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-60}"
MAX_TIME="${FUZZ_MAX_TIME:-210}"
MIN_REQUESTS="${FUZZ_MIN_REQUESTS:-10000}"
BASELINE=scripts/contract-fuzz.baseline.json

server="${1:-}"
if [ -z "$server" ]; then
  if [ -x "${CARGO_TARGET_DIR}/release/icosistem-server" ]; then
    server="${CARGO_TARGET_DIR}/release/icosistem-server"
  else
    cargo build -q -p icosistem-server
    server="${CARGO_TARGET_DIR}/debug/icosistem-server"
  fi
fi

if ! "${VENV}/bin/st" --version 2>/dev/null | grep -q "${SCHEMATHESIS_VERSION}"; then
  python3 -m venv "$VENV"
  timeout 180 "${VENV}/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}"
fi

log=$(mktemp)
# No DATABASE_URL: the in-memory store with the demo data. Rate limits off (the fuzzer sends
# thousands of requests as one user); unverified logins allowed (register → login journeys).
env -u DATABASE_URL -u REDIS_URL \
  ICOSISTEM_ADDR="127.0.0.1:${PORT}" ICOSISTEM_RATE_LIMIT_ENABLED=false ICOSISTEM_RUN_JOBS=false \
  ICOSISTEM_REQUIRE_VERIFIED_EMAIL=false RUST_LOG=warn \
  "$server" serve >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 60); do
  curl -fsS "${BASE}/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "${BASE}/health" >/dev/null || { cat "$log"; echo "the server did not start" >&2; exit 1; }

token=$(curl -fsS -X POST "${BASE}/api/v2/auth/login" -H 'Content-Type: application/json' \
  --data-raw '{"email":"admin@icosistem.demo","password":"Quebrada-del-Condor-2027"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

args=(run "${BASE}/api-docs/openapi.json"
  --url "$BASE"
  --header "Authorization: Bearer ${token}"
  --phases "coverage,fuzzing,stateful"
  --checks all
  --max-examples "$MAX_EXAMPLES"
  --request-timeout 10
  --workers 2
  --seed 20261206
  --suppress-health-check all
  --generation-database none
  # The SSE stream answers 200 and stays open: every valid request would wait out the timeout.
  --exclude-path /api/v2/notifications/stream
  --no-color)
[ -n "${FUZZ_REPORT:-}" ] && args+=(--report junit --report-junit-path "$FUZZ_REPORT")
# Accepted failures: schemathesis keys an entry by operation, check and status, so one entry
# covers that operation's refusals by the rule its `reason` names.
if [ "${FUZZ_BASELINE_UPDATE:-0}" = 1 ]; then
  args+=(--baseline "$BASELINE" --baseline-update)
elif [ -f "$BASELINE" ]; then
  args+=(--baseline "$BASELINE")
fi

# The server's own count of the requests it answered, by status class.
requests() {
  curl -fsS "${BASE}/metrics" | awk -v class="${1:-}" '
    /^http_requests_total\{/ {
      match($0, /status="[0-9]+"/); status = substr($0, RSTART + 8, 3)
      if (class == "" || substr(status, 1, 1) == class) total += $NF
    }
    END { printf "%d", total }'
}

started=$SECONDS
set +e
timeout --signal=INT "$MAX_TIME" "${VENV}/bin/st" "${args[@]}"
status=$?
set -e
total=$(requests)
printf '\n== contract fuzz summary: %s requests in %ss (2xx %s, 4xx %s, 5xx %s); schemathesis exit %s\n' \
  "$total" "$((SECONDS - started))" "$(requests 2)" "$(requests 4)" "$(requests 5)" "$status"
if [ "$status" = 124 ]; then
  echo "the run did not finish within ${MAX_TIME}s" >&2
fi
if [ "$status" = 0 ] && [ "$total" -lt "$MIN_REQUESTS" ]; then
  echo "only ${total} requests: fewer than ${MIN_REQUESTS}" >&2
  status=1
fi
exit "$status"
