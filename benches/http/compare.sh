#!/usr/bin/env bash
# Side by side: icosistem-server against the database's own speed, in one run (see README.md).
#
# On the release server (rate limits off, LOG_LEVEL=warn), for the memory store and PostgreSQL:
#   GET  /health                              (the floor: no store, no auth)
#   GET  /api/v2/projects/{id}                as the owner
#   GET  /api/v2/applications?program_id=…    as program staff, a page of 20
#   POST /api/v2/applications/{id}/submit     each prepared draft submitted once (http_loader)
#   POST /api/v2/auth/login                   argon2id: slow by design
# then pgbench -M prepared at the same concurrency on the same PostgreSQL server:
#   a PK select on the server's own `projects` table (the row the GET reads), and TPC-B-like.
# It prints one markdown table: requests/s, p50/p99, the ratio to the matching reference (GET
# project on PostgreSQL vs the PK select, submit vs TPC-B-like, GET project on memory vs
# /health), the server's peak RSS (VmHWM) through the whole run, logins included, and the time
# from exec to ready.
#
# Environment (all optional):
#   DURATION=10          seconds per measurement
#   ROUNDS=3             rounds of the ratio rows (GET /health and GET project; GET project and
#                        the PK select; submit and TPC-B-like), each measurement next to its
#                        reference; the table gives the medians
#   WARMUP=2             seconds of the same load, discarded, before each wrk and pgbench
#                        measurement (pool connections opened, statements prepared, caches
#                        warm: both sides are measured warm)
#   CONCURRENCY=16       connections in flight (wrk and pgbench clients)
#   ENTREPRENEURS=2000   entrepreneurs seeded, each with five projects submitted to the listed
#                        program (10,000 applications; each entrepreneur costs two argon2id
#                        hashes to seed)
#   SUBMIT_DRAFTS=12000  drafts prepared for each round's submit run
#   PGBENCH_SCALE=16     TPC-B-like scale (one branch per client)
#   PORT=18081           loopback port of the server under test
#   RUN_JOBS=false       whether the server under test also runs the outbox and the jobs
#                        (ICOSISTEM_RUN_JOBS). Off by default: it is measured as a web replica
#                        of a deployment whose `icosistem-server worker` delivers the outbox, as
#                        the deployment guide runs it. On, the seed's backlog (a verification
#                        email per entrepreneur, notices per submission: some 20,000 messages)
#                        is delivered during the measurements and competes with them.
#   DATABASE_URL         the PostgreSQL server (required); fresh databases are created on it and
#                        dropped on exit
#   STORES               "memory postgres" (default)
#   CARGO_TARGET_DIR     where the release build is (default: target)
# wrk is installed with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}"
CONCURRENCY="${CONCURRENCY:-16}"
ENTREPRENEURS="${ENTREPRENEURS:-2000}"
SUBMIT_DRAFTS="${SUBMIT_DRAFTS:-12000}"
PGBENCH_SCALE="${PGBENCH_SCALE:-16}"
PORT="${PORT:-18081}"
RUN_JOBS="${RUN_JOBS:-false}"
STORES="${STORES:-memory postgres}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# Every count must be a whole number of at least 1: a zero ROUNDS would report no ratio at all,
# and a typo would only fail deep inside seq or split.
for knob in DURATION ROUNDS CONCURRENCY ENTREPRENEURS SUBMIT_DRAFTS PGBENCH_SCALE PORT; do
  if ! [[ "${!knob}" =~ ^[1-9][0-9]*$ ]]; then
    echo "compare.sh: $knob must be a whole number of at least 1 (got '${!knob}')" >&2
    exit 2
  fi
done
BASE="http://127.0.0.1:${PORT}"
ADMIN_EMAIL="bench-owner@example.org"
ADMIN_PASSWORD="Side-By-Side-Passphrase-2027"
ADMIN_DB_URL="${DATABASE_URL:?compare.sh needs DATABASE_URL (a PostgreSQL server it may create databases on)}"

# shellcheck source=benches/http/lib.sh
source benches/http/lib.sh

for tool in curl jq psql pgbench; do command -v "$tool" >/dev/null || die "$tool is required"; done
if ! command -v wrk >/dev/null; then
  log "wrk not found: apt-get install wrk"
  timeout 300 apt-get install -y -q wrk >/dev/null || die "could not install wrk"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/icosistem-compare.XXXXXX")"
trap cleanup EXIT
trap 'exit 130' INT TERM

# Always through cargo (a no-op when up to date): a shared CARGO_TARGET_DIR may hold another
# checkout's binaries.
log "building icosistem-server and http_loader (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release -q -p icosistem-server -p icosistem-benches --bins
SERVER_BIN="$CARGO_TARGET_DIR/release/icosistem-server"
LOADER_BIN="$CARGO_TARGET_DIR/release/http_loader"

# wrk prints oha-shaped JSON (the fields http_loader submit prints too) from this script.
cat >"$WORK/report.lua" <<'LUA'
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"metrics":{"requests_per_sec":%.1f,"latency_ms":{"p50":%.3f,"p99":%.3f}},'
      .. '"statusCodeDistribution":{"2xx":%d,"other":%d}}\n',
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests - summary.errors.status, bad))
end
LUA
wrk_json() { # wrk_json <out> <url> [header]
  local out="$1" url="$2"
  shift 2
  wrk -t 2 -c "$CONCURRENCY" -d "${WARMUP}s" -s "$WORK/report.lua" "$@" "$url" >/dev/null
  wrk -t 2 -c "$CONCURRENCY" -d "${DURATION}s" -s "$WORK/report.lua" "$@" "$url" | tail -n 1 >"$out"
}
# One connection: the latency of a request alone. At CONCURRENCY connections on a few cores a
# p50 is mostly queueing (connections / throughput); this one is what a request costs.
wrk_json_alone() { # wrk_json_alone <out> <url> [header]
  local out="$1" url="$2"
  shift 2
  wrk -t 1 -c 1 -d "${WARMUP}s" -s "$WORK/report.lua" "$@" "$url" >/dev/null
  wrk -t 1 -c 1 -d "${DURATION}s" -s "$WORK/report.lua" "$@" "$url" | tail -n 1 >"$out"
}

declare -A RPS P50 P99 BAD HWM READY
measure() { # measure <key> <json>
  RPS[$1]="$(jq -r '.metrics.requests_per_sec | floor' "$2")"
  P50[$1]="$(jq -r '.metrics.latency_ms.p50 | . * 100 | round / 100' "$2")"
  P99[$1]="$(jq -r '.metrics.latency_ms.p99 | . * 100 | round / 100' "$2")"
  BAD[$1]="$(jq -r '[.statusCodeDistribution | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0' "$2")"
  log "$1: ${RPS[$1]} req/s, p50 ${P50[$1]} ms, p99 ${P99[$1]} ms, non-2xx ${BAD[$1]}"
  memory_note "$1"
}

# pgbench_measure <key> <url> [pgbench args…]: warm-up, then the measured run with a
# per-transaction log, read into RPS/P50/P99 like a wrk measurement.
pgbench_measure() {
  local key="$1" url="$2"
  shift 2
  pgbench -n -M prepared -c "$CONCURRENCY" -j 2 -T "$WARMUP" "$@" "$url" >/dev/null 2>&1
  (cd "$WORK" && rm -f pgbench_log.* &&
    pgbench -n -M prepared -c "$CONCURRENCY" -j 2 -T "$DURATION" -l "$@" "$url" >"$WORK/pgbench.out" 2>&1) ||
    { cat "$WORK/pgbench.out" >&2; die "pgbench failed ($key)"; }
  local p50 p99
  RPS[$key]="$(awk '/^tps = / { printf "%d", $3 }' "$WORK/pgbench.out")"
  read -r p50 p99 < <(cat "$WORK"/pgbench_log.* | awk '{ print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[int(NR * 0.5)] / 1000, v[int(NR * 0.99)] / 1000 }')
  P50[$key]="$p50" P99[$key]="$p99" BAD[$key]=0
  rm -f "$WORK"/pgbench_log.*
  log "$key: ${RPS[$key]} tps, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms"
}

# median <number>…: the middle value (the mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The server's resident memory now and its peak so far, in the log: which phase set the peak.
memory_note() {
  [[ -n "$SERVER_PID" && -r "/proc/$SERVER_PID/status" ]] || return 0
  log "$1: RSS $(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status") MiB, peak so far $(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status") MiB"
}

start_server() { # start_server <store> [database url]
  local store="$1" db_env=() t0
  [[ -n "${2:-}" ]] && db_env=(DATABASE_URL="$2")
  t0="$(date +%s%N)"
  env -u DATABASE_URL \
    ICOSISTEM_ADDR="127.0.0.1:${PORT}" \
    JWT_SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" \
    ICOSISTEM_ADMIN_EMAIL="$ADMIN_EMAIL" ICOSISTEM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    ICOSISTEM_REQUIRE_VERIFIED_EMAIL=false ICOSISTEM_RATE_LIMIT_ENABLED=false LOG_LEVEL=warn \
    ICOSISTEM_RUN_JOBS="$RUN_JOBS" \
    "${db_env[@]}" "$SERVER_BIN" serve >"$WORK/server-$store.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null "$BASE/health/ready"; then
      READY[$store]="$(( ($(date +%s%N) - t0) / 1000000 ))"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server-$store.log" >&2; die "the server exited"; }
    sleep 0.05
  done
  die "the server did not become ready on $BASE"
}

# summarize <key> <rounds…>: the median over the rounds of "<key> #<round>" as "<key>" (req/s,
# p50, p99), and the non-2xx answers of every round added up.
summarize() {
  local key="$1" r each n rps=() p50=() p99=() bad=0
  shift
  for r in "$@"; do
    each="$key #$r"
    rps+=("${RPS[$each]}") p50+=("${P50[$each]}") p99+=("${P99[$each]}")
    n="${BAD[$each]}"
    bad=$((bad + n))
  done
  RPS[$key]="$(median "${rps[@]}" | awk '{ printf "%d", $1 }')"
  P50[$key]="$(median "${p50[@]}")" P99[$key]="$(median "${p99[@]}")" BAD[$key]="$bad"
}

# ratio <name> <key> <reference key> <rounds…>: each round's ratio of <key> to the reference
# measured next to it, in RATIOS[<name>] as "median % (round 1, round 2, …)".
declare -A RATIOS
ratio() {
  local name="$1" key="$2" ref="$3" r each=()
  shift 3
  for r in "$@"; do
    each+=("$(awk -v a="${RPS[$key #$r]}" -v b="${RPS[$ref #$r]}" 'BEGIN { printf "%.1f", (b > 0 ? 100 * a / b : 0) }')")
  done
  RATIOS[$name]="$(median "${each[@]}" | awk '{ printf "%.0f %%", $1 }') ($(IFS=,; echo "${each[*]}" | sed 's/,/, /g'))"
  log "$name: ${RATIOS[$name]}"
}

mapfile -t ROUND_LIST < <(seq 1 "$ROUNDS")
for store in $STORES; do
  log "store: $store"
  url=""
  if [[ "$store" == postgres ]]; then
    new_db LOAD_DB icosistem_compare_load
    url="$(db_url_for "$LOAD_DB")"
    # TPC-B-like's own database, initialized before the server starts (its writes and
    # checkpoint are done before anything is measured).
    new_db BENCH_DB icosistem_compare_tpcb
    bench_url="$(db_url_for "$BENCH_DB")"
    pgbench -i -q -s "$PGBENCH_SCALE" "$bench_url" >/dev/null 2>&1
  fi
  start_server "$store" "$url"
  memory_note "$store ready"
  out="$WORK/$store"
  ICOSISTEM_ADMIN_EMAIL="$ADMIN_EMAIL" ICOSISTEM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$LOADER_BIN" seed --base "$BASE" --out "$out" --entrepreneurs "$ENTREPRENEURS" --drafts "$((SUBMIT_DRAFTS * ROUNDS))"
  # shellcheck disable=SC1091 # written by http_loader seed
  source "$out/targets.env"
  memory_note "$store seeded"
  # Each round submits its own share of the drafts.
  split -n "l/$ROUNDS" -d -a 3 "$out/drafts.txt" "$out/drafts."
  if [[ "$store" == postgres ]]; then
    # The state pgbench -i leaves its own tables in: vacuumed, analyzed, checkpointed. Without
    # it autovacuum and the checkpoint of the seed's writes run during the first measurements.
    psql -q "$url" -c 'VACUUM (ANALYZE)' -c 'CHECKPOINT'
    # The row GET project reads, selected by primary key.
    echo 'SELECT * FROM projects WHERE id = :id;' >"$WORK/pk.sql"
  fi
  wrk_json "$out/list.json" "$BASE$LIST_PATH" -H "authorization: Bearer $STAFF_TOKEN"
  measure "$store list" "$out/list.json"
  wrk_json_alone "$out/list-alone.json" "$BASE$LIST_PATH" -H "authorization: Bearer $STAFF_TOKEN"
  measure "$store list alone" "$out/list-alone.json"
  # The ratios, round by round: each measurement next to its reference, so that a slower or
  # faster stretch of this shared machine moves both sides of a ratio alike. The server stays up
  # (idle) while pgbench runs.
  for r in "${ROUND_LIST[@]}"; do
    log "$store: round $r of $ROUNDS"
    wrk_json "$out/health.json" "$BASE/health"
    measure "$store health #$r" "$out/health.json"
    wrk_json "$out/project.json" "$BASE$PROJECT_PATH" -H "authorization: Bearer $PROJECT_TOKEN"
    measure "$store project #$r" "$out/project.json"
    if [[ "$store" == postgres ]]; then
      pgbench_measure "pk #$r" "$url" -D id="${PROJECT_PATH##*/}" -f "$WORK/pk.sql"
    fi
    "$LOADER_BIN" submit --base "$BASE" --drafts "$out/drafts.$(printf '%03d' $((r - 1)))" \
      --concurrency "$CONCURRENCY" --duration "${DURATION}s" >"$out/submit.json"
    measure "$store submit #$r" "$out/submit.json"
    if [[ "$store" == postgres ]]; then pgbench_measure "tpcb #$r" "$bench_url"; fi
  done
  summarize "$store health" "${ROUND_LIST[@]}"
  summarize "$store project" "${ROUND_LIST[@]}"
  summarize "$store submit" "${ROUND_LIST[@]}"
  if [[ "$store" == postgres ]]; then
    summarize pk "${ROUND_LIST[@]}"
    summarize tpcb "${ROUND_LIST[@]}"
    ratio "postgres project" "postgres project" pk "${ROUND_LIST[@]}"
    ratio "postgres submit" "postgres submit" tpcb "${ROUND_LIST[@]}"
  else
    ratio "$store project" "$store project" "$store health" "${ROUND_LIST[@]}"
  fi
  WRK_BODY="$LOGIN_BODY" wrk_json "$out/login.json" "$BASE/api/v2/auth/login"
  measure "$store login" "$out/login.json"
  HWM[$store]="$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status")"
  stop_server
done

line() { # line <store> <work> <key> [<reference> <ratio name>]
  local ratio="" ref=""
  [[ -n "${4:-}" ]] && { ratio="${RATIOS[$5]}"; ref="$4: ${RPS[$4]}"; }
  echo "| $1 | $2 | ${RPS[$3]} | ${P50[$3]} | ${P99[$3]} | ${BAD[$3]} | $ref | $ratio |"
}

echo
echo "icosistem-server (release, LOG_LEVEL=warn, rate limits off, ICOSISTEM_RUN_JOBS=$RUN_JOBS) vs pgbench -M prepared;"
echo "$CONCURRENCY connections, ${DURATION}s per measurement, loopback, $(nproc) CPUs, $((ENTREPRENEURS * 5)) applications in the listed program."
echo "Rows with a ratio: the median of $ROUNDS rounds, each measuring the work and then its reference;"
echo "the ratio is the median of the rounds' ratios (each round's in parentheses)."
echo
echo "| store | work | req/s | p50 ms | p99 ms | non-2xx | reference (req/s or tps) | ratio |"
echo "|---|---|---|---|---|---|---|---|"
for store in $STORES; do
  line "$store" "GET /health" "$store health"
  if [[ "$store" == postgres ]]; then
    line "$store" "GET /projects/{id} (owner)" "$store project" pk "postgres project"
  else
    line "$store" "GET /projects/{id} (owner)" "$store project" "$store health" "$store project"
  fi
  line "$store" "GET /applications?program_id (staff, 20/page)" "$store list"
  line "$store" "the same, 1 connection (latency)" "$store list alone"
  if [[ "$store" == postgres ]]; then
    line "$store" "POST /applications/{id}/submit" "$store submit" tpcb "postgres submit"
  else
    line "$store" "POST /applications/{id}/submit" "$store submit"
  fi
  line "$store" "POST /auth/login (argon2id)" "$store login"
done
if [[ " $STORES " == *" postgres "* ]]; then
  echo "| pgbench | PK select on projects (pk) | ${RPS[pk]} | ${P50[pk]} | ${P99[pk]} | | | |"
  echo "| pgbench | TPC-B-like, scale $PGBENCH_SCALE (tpcb) | ${RPS[tpcb]} | ${P50[tpcb]} | ${P99[tpcb]} | | | |"
fi
echo
echo "| store | peak RSS (VmHWM) MiB | time to ready ms |"
echo "|---|---|---|"
for store in $STORES; do echo "| $store | ${HWM[$store]} | ${READY[$store]} |"; done
