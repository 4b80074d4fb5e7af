#!/usr/bin/env bash
# PostgreSQL restart drill: the release server under write load while its database restarts.
#
# It starts a PRIVATE PostgreSQL (initdb/pg_ctl as the `postgres` user, on its own port and a
# directory under /tmp — never the machine's shared server), the release `icosistem-server` on
# it, seeds drafts with `http_loader seed`, and has WORKERS loops submit them (each once) while
# the database is stopped (`pg_ctl stop -m fast`), kept down DOWN_SECS, and started again. It
# then checks, and fails otherwise:
#   - every answer was 2xx, or 503 with `Retry-After` — never a 500, never a hang (curl gives up
#     after 10 s, which the acquire timeout is far below);
#   - every submit answered 2xx is `submitted` in the database afterwards;
#   - a request succeeded within RECOVERY_MS (2000) of the database accepting connections.
# Bounded: the load stops after LOAD_SECS; the whole drill takes well under two minutes.
#
# Environment (all optional): DRILL_PG_PORT=55432, DRILL_HTTP_PORT=18091, WORKERS=4,
# LOAD_SECS=12, DOWN_SECS=2, RECOVERY_MS=2000, CARGO_TARGET_DIR (default
# $HOME/.cache/icosistem-ci-target).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT="${DRILL_PG_PORT:-55432}"
HTTP_PORT="${DRILL_HTTP_PORT:-18091}"
WORKERS="${WORKERS:-4}"
LOAD_SECS="${LOAD_SECS:-12}"
DOWN_SECS="${DOWN_SECS:-2}"
RECOVERY_MS="${RECOVERY_MS:-2000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icosistem-ci-target}"
BASE="http://127.0.0.1:${HTTP_PORT}"
DB_URL="postgres://postgres@127.0.0.1:${PG_PORT}/postgres"
ADMIN_EMAIL="ops-lead@example.org"
ADMIN_PASSWORD="Restart-Under-Load-Passphrase-27"

say() { printf '[pg-restart-drill] %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
now_ms() { date +%s%3N; }

PG_BIN="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
[[ -x "$PG_BIN/initdb" ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
as_postgres() { if [[ "$(id -un)" == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi; }

DIR="$(mktemp -d /tmp/icosistem-pg-drill.XXXXXX)"
chmod 755 "$DIR"
chown postgres: "$DIR" 2>/dev/null || true
SERVER_PID=""
WORKER_PIDS=()
cleanup() {
  for pid in "${WORKER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  as_postgres "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg() { as_postgres "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/pg.log" -o "-p $PG_PORT -k $DIR -c listen_addresses=127.0.0.1" "$@"; }

say "private PostgreSQL on 127.0.0.1:$PG_PORT in $DIR"
as_postgres "$PG_BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync >/dev/null
pg -w -t 30 start >/dev/null

say "build (release)"
cargo build --release -q -p icosistem-server -p icosistem-benches --bins || die "build"

env -u DATABASE_URL -u REDIS_URL \
  DATABASE_URL="$DB_URL" ICOSISTEM_ADDR="127.0.0.1:${HTTP_PORT}" \
  JWT_SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" \
  ICOSISTEM_ADMIN_EMAIL="$ADMIN_EMAIL" ICOSISTEM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  ICOSISTEM_REQUIRE_VERIFIED_EMAIL=false ICOSISTEM_RATE_LIMIT_ENABLED=false LOG_LEVEL=warn \
  ICOSISTEM_DB_ACQUIRE_TIMEOUT_MS=1000 ICOSISTEM_RUN_JOBS=false \
  "$CARGO_TARGET_DIR/release/icosistem-server" serve >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do
  curl -sf -o /dev/null "$BASE/health/ready" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DIR/server.log" >&2; die "the server exited"; }
  sleep 0.1
done
curl -sf -o /dev/null "$BASE/health/ready" || die "the server did not become ready"

say "seed"
ICOSISTEM_ADMIN_EMAIL="$ADMIN_EMAIL" ICOSISTEM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  "$CARGO_TARGET_DIR/release/http_loader" seed --base "$BASE" --out "$DIR/seed" \
  --entrepreneurs 30 --organizations 2 --drafts 3000 --concurrency 8 2>"$DIR/seed.log" || {
  cat "$DIR/seed.log" >&2
  die "seed"
}
split -n "l/$WORKERS" -d -a 2 "$DIR/seed/drafts.txt" "$DIR/drafts-"

# One worker: submits its drafts in order, each once, until LOAD_SECS are over. Each answer is a
# line `<ms since epoch> <application id> <status> <retry-after>`.
worker() {
  local deadline=$(( $(now_ms) + LOAD_SECS * 1000 )) id token answer
  while read -r id token; do
    (( $(now_ms) < deadline )) || break
    answer="$(curl -s -o /dev/null --max-time 10 -X POST -H "authorization: Bearer $token" \
      -w '%{http_code} %header{retry-after}' "$BASE/api/v2/applications/$id/submit" || true)"
    echo "$(now_ms) $id ${answer:-000}"
  done <"$1"
}
for part in "$DIR"/drafts-*; do
  worker "$part" >"$part.answers" &
  WORKER_PIDS+=($!)
done

sleep 3
say "stopping PostgreSQL under load"
pg -m fast -w stop >/dev/null
STOPPED_AT="$(now_ms)"
sleep "$DOWN_SECS"
say "starting PostgreSQL again"
pg -w -t 30 start >/dev/null
UP_AT="$(now_ms)"
for pid in "${WORKER_PIDS[@]}"; do wait "$pid" || true; done
WORKER_PIDS=()

cat "$DIR"/drafts-*.answers | sort -n >"$DIR/answers"
total="$(wc -l <"$DIR/answers")"
ok="$(awk '$3 ~ /^2/' "$DIR/answers" | wc -l)"
unavailable="$(awk '$3 == 503 && $4 != ""' "$DIR/answers" | wc -l)"
during="$(awk -v a="$STOPPED_AT" -v b="$UP_AT" '$1 >= a && $1 <= b' "$DIR/answers" | wc -l)"
say "$total answers: $ok 2xx, $unavailable 503 with Retry-After, $during while the database was down"
bad="$(awk '!($3 ~ /^2/ || ($3 == 503 && $4 != ""))' "$DIR/answers")"
[[ -z "$bad" ]] || { echo "$bad" | head -n 20 >&2; tail -n 30 "$DIR/server.log" >&2; die "answers other than 2xx or 503 + Retry-After (first 20 above)"; }
(( unavailable > 0 || during == 0 )) || say "note: no 503 was seen"
(( ok > 0 )) || die "no submit succeeded"

first_after="$(awk -v up="$UP_AT" '$1 >= up && $3 ~ /^2/ { print $1; exit }' "$DIR/answers")"
[[ -n "$first_after" ]] || die "no request succeeded after the database came back"
recovery=$(( first_after - UP_AT ))
say "first success $recovery ms after the database accepted connections again"
(( recovery <= RECOVERY_MS )) || die "recovery took $recovery ms (> $RECOVERY_MS ms)"

# Every submit answered 2xx is in the database.
awk '$3 ~ /^2/ { print $2 }' "$DIR/answers" >"$DIR/ok-ids"
ids="$(paste -sd, "$DIR/ok-ids")"
missing="$(as_postgres "$PG_BIN/psql" -h "$DIR" -p "$PG_PORT" -U postgres -d postgres -qAt -c "
  SELECT count(*) FROM unnest('{${ids}}'::uuid[]) AS a(id) LEFT JOIN applications x ON x.id = a.id
   WHERE x.id IS NULL OR x.status <> 'submitted'")"
[[ "$missing" == 0 ]] || die "$missing submits answered 2xx are not submitted in the database"
say "passed: every 2xx submit ($ok) is in the database; no 500, no hang"
