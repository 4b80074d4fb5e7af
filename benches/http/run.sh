#!/usr/bin/env bash
# HTTP load harness of icosistem-server: throughput, latency and memory of four endpoints under
# load, on the in-memory store and (when DATABASE_URL is set) on PostgreSQL. See README.md here.
#
# For each store it builds nothing new (one release build up front), starts the server on
# loopback with rate limiting off, seeds a realistic dataset through the API (http_loader seed:
# an admin, organizations, published programs, ENTREPRENEURS entrepreneurs with projects and
# submitted applications, a reviewer), then for each concurrency of CONCURRENCY measures
#   GET  /api/v2/projects/{id}              as the owner                            (oha)
#   GET  /api/v2/applications?program_id=…  as program staff, a page of 20          (oha)
#   POST /api/v2/applications/{id}/submit   each prepared draft submitted once      (http_loader)
#   POST /api/v2/auth/login                 argon2id: slow by design                (oha)
# for DURATION each, and prints one markdown table with the server's RSS after each run.
#
# Environment (all optional):
#   DURATION=10s           how long each measurement runs (oha -z syntax: 3s, 500ms, 1m)
#   CONCURRENCY="16 64"    connections in flight, one run per value
#   ENTREPRENEURS=200      entrepreneurs seeded (each: 5 projects, 1 submitted application)
#   SUBMIT_DRAFTS=8000     drafts prepared per concurrency value for the submit run; it stops
#                          early (and says so) if they run out before DURATION
#   PORT=18080             loopback port of the server under test
#   DATABASE_URL           PostgreSQL server to also measure on: the harness creates a fresh
#                          database icosistem_load_<timestamp> on it and drops it on exit
#   STORES                 "memory postgres" (default: memory, plus postgres when DATABASE_URL)
#   CARGO_TARGET_DIR       where the release build goes (default: target)
#   OHA                    the oha binary (default: oha on PATH, installed with cargo if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${DURATION:-10s}"
CONCURRENCY="${CONCURRENCY:-16 64}"
ENTREPRENEURS="${ENTREPRENEURS:-200}"
SUBMIT_DRAFTS="${SUBMIT_DRAFTS:-8000}"
PORT="${PORT:-18080}"
if [[ -z "${STORES:-}" ]]; then
  STORES="memory"
  [[ -n "${DATABASE_URL:-}" ]] && STORES="memory postgres"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BASE="http://127.0.0.1:${PORT}"
ADMIN_EMAIL="${ICOSISTEM_ADMIN_EMAIL:-load-admin@example.org}"
ADMIN_PASSWORD="${ICOSISTEM_ADMIN_PASSWORD:-Load-Harness-Admin-Passphrase}"

# shellcheck source=benches/http/lib.sh
source benches/http/lib.sh

for tool in curl jq; do command -v "$tool" >/dev/null || die "$tool is required"; done
OHA="${OHA:-$(command -v oha || true)}"
if [[ -z "$OHA" ]]; then
  log "oha not found: cargo install oha --locked (a few minutes, once)"
  cargo install oha --locked
  OHA="$(command -v oha || echo "$HOME/.cargo/bin/oha")"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/icosistem-load.XXXXXX")"
ADMIN_DB_URL="${DATABASE_URL:-}"

trap cleanup EXIT
trap 'exit 130' INT TERM

log "building icosistem-server and http_loader (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release -q -p icosistem-server -p icosistem-benches --bins
SERVER_BIN="$CARGO_TARGET_DIR/release/icosistem-server"
LOADER_BIN="$CARGO_TARGET_DIR/release/http_loader"

# start_server <store>: starts the server in the background, waits until it is ready.
start_server() {
  local store="$1" db_env=()
  if [[ "$store" == postgres ]]; then
    new_db LOAD_DB icosistem_load
    db_env=(DATABASE_URL="$(db_url_for "$LOAD_DB")")
  fi
  # LOG_LEVEL=warn keeps per-request logging out of what is measured; the outbox and job
  # intervals are the defaults. Rate limiting would turn the load into 429s.
  env -u DATABASE_URL \
    ICOSISTEM_ADDR="127.0.0.1:${PORT}" \
    JWT_SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" \
    ICOSISTEM_ADMIN_EMAIL="$ADMIN_EMAIL" \
    ICOSISTEM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    ICOSISTEM_REQUIRE_VERIFIED_EMAIL=false \
    ICOSISTEM_RATE_LIMIT_ENABLED=false \
    LOG_LEVEL=warn \
    "${db_env[@]}" \
    "$SERVER_BIN" serve >"$WORK/server-$store.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if curl -sf -o /dev/null "$BASE/health/ready"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server-$store.log" >&2; die "the server exited"; }
    sleep 0.2
  done
  die "the server did not become ready on $BASE"
}

rss_mib() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

ROWS="$WORK/rows.md"
: >"$ROWS"

# row <store> <endpoint> <concurrency> <json file>: one table row from oha-shaped JSON.
row() {
  local numbers
  # Latencies are null when no request finished within DURATION (slow logins at high
  # concurrency): shown as n/a.
  numbers="$(jq -r 'def ms: if . == null then "n/a" else (. * 100 | round / 100 | tostring) end;
      [ (.metrics.requests_per_sec // 0 | floor), (.metrics.latency_ms.p50 | ms), (.metrics.latency_ms.p99 | ms),
        ([.statusCodeDistribution | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0)
      ] | map(tostring) | join(" | ")' "$4")"
  local rss line
  rss="$(rss_mib)"
  line="| $1 | $2 | $3 | $numbers | $rss |"
  echo "$line" >>"$ROWS"
  echo "$line" >&2
}

oha_json() { "$OHA" --no-tui --output-format json -z "$DURATION" "$@"; }

read -r -a levels <<<"$CONCURRENCY"
for store in $STORES; do
  if [[ "$store" == postgres && -z "$ADMIN_DB_URL" ]]; then die "STORES has postgres but DATABASE_URL is unset"; fi
  log "store: $store"
  start_server "$store"
  out="$WORK/$store"
  ICOSISTEM_ADMIN_EMAIL="$ADMIN_EMAIL" ICOSISTEM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$LOADER_BIN" seed --base "$BASE" --out "$out" --entrepreneurs "$ENTREPRENEURS" \
    --drafts $((SUBMIT_DRAFTS * ${#levels[@]}))
  # shellcheck disable=SC1091 # written by http_loader seed
  source "$out/targets.env"
  # One slice of drafts per concurrency level: a draft submits once.
  split -n "l/${#levels[@]}" -d -a 3 "$out/drafts.txt" "$out/drafts-"
  slice=0
  for c in "${levels[@]}"; do
    oha_json -c "$c" -H "authorization: Bearer $PROJECT_TOKEN" "$BASE$PROJECT_PATH" >"$out/project-$c.json"
    row "$store" "GET /projects/{id}" "$c" "$out/project-$c.json"

    oha_json -c "$c" -H "authorization: Bearer $STAFF_TOKEN" "$BASE$LIST_PATH" >"$out/list-$c.json"
    row "$store" "GET /applications?program_id (staff, 20/page)" "$c" "$out/list-$c.json"

    "$LOADER_BIN" submit --base "$BASE" --drafts "$out/drafts-$(printf '%03d' "$slice")" \
      --concurrency "$c" --duration "$DURATION" >"$out/submit-$c.json"
    row "$store" "POST /applications/{id}/submit" "$c" "$out/submit-$c.json"
    slice=$((slice + 1))

    oha_json -c "$c" -m POST -T application/json -d "$LOGIN_BODY" "$BASE/api/v2/auth/login" >"$out/login-$c.json"
    row "$store" "POST /auth/login (argon2id)" "$c" "$out/login-$c.json"
  done
  stop_server
  drop_dbs
done

echo
echo "HTTP load: $DURATION per row, loopback, $(nproc) CPUs, $ENTREPRENEURS entrepreneurs seeded"
echo
echo "| store | endpoint | concurrency | requests/s | p50 ms | p99 ms | non-2xx | server RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
cat "$ROWS"
