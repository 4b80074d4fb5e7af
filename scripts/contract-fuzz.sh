#!/usr/bin/env bash
# The OpenAPI document fuzzed against the server: schemathesis (pinned, from PyPI, in a venv)
# runs its coverage, fuzzing and stateful phases with every check over the whole document,
# authenticated as the demo admin, against the example server on the in-memory store with demo
# data. Failures recorded in scripts/contract-fuzz.baseline.json (schemathesis --baseline; each
# entry a rule JSON Schema cannot state — cross-field, relative to the clock, or about the
# server's data — with its one-line `reason`) are expected; anything else fails the run, and so
# does a "schema validation mismatch" warning (an operation refusing most of the data its schema
# allows) on any operation without such an entry. Ends
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

# shellcheck source=scripts/lib/demo-server.sh
. scripts/lib/demo-server.sh
SCHEMATHESIS_VERSION=4.32.5
VENV="${HOME}/.cache/icosistem-ci-venv/schemathesis-${SCHEMATHESIS_VERSION}"
PORT="${FUZZ_PORT:-18087}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-60}"
MAX_TIME="${FUZZ_MAX_TIME:-210}"
MIN_REQUESTS="${FUZZ_MIN_REQUESTS:-10000}"
BASELINE=scripts/contract-fuzz.baseline.json

pick_server "${1:-}"
python_tool "$VENV" "schemathesis==${SCHEMATHESIS_VERSION}" st

log=$(mktemp)
trap 'stop_demo_server; rm -f "$log" "${log}.toml"' EXIT
# The fuzzer sends thousands of requests as one user (rate limits off) and walks register →
# login journeys (unverified logins allowed): the demo server's settings.
start_demo_server "$PORT" "$log"
token=$(demo_admin_token)

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
# The settings: a validation mismatch fails the run, except on the operations of the baseline,
# whose refusals depend on the server's data, the clock or another field by design (their
# entries say which); schemathesis 4.32 can only silence an operation's warnings as a whole.
config="${log}.toml"
python3 - "$BASELINE" >"$config" <<'EOF'
import json, sys
operations = sorted({e["operation"] for e in json.load(open(sys.argv[1]))["entries"]})
print('[warnings]\nfail-on = ["validation_mismatch"]\n')
print("[[operations]]\ninclude-name = " + json.dumps(operations) + "\nwarnings = false")
EOF

timeout --signal=INT "$MAX_TIME" "${VENV}/bin/st" --config-file "$config" "${args[@]}"
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
