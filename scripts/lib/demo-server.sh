# shellcheck shell=bash
# Shared by the scripts that drive the example server on the in-memory store with its demo data
# (contract-fuzz.sh, sdk-check.sh): sourced after `cd` to the repository root.
#
#   pick_server "${1:-}"          sets SERVER: the given binary, else the release build in
#                                 $CARGO_TARGET_DIR when there is one, else the debug build
#                                 (built when missing).
#   python_tool VENV PKG==VER CMD  makes sure VENV has PKG at VER (checked by `VENV/bin/CMD
#                                 --version`), creating it from PyPI when not.
#   start_demo_server PORT LOG    starts SERVER on 127.0.0.1:PORT with the demo data, rate limits
#                                 and jobs off and unverified logins allowed (the clients sign up
#                                 and in at once), logging to LOG; sets BASE and SERVER_PID and
#                                 waits for /health (prints LOG and fails when it never answers).
#   stop_demo_server              stops it (for an EXIT trap).
#   demo_admin_token              the demo admin's access token.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icosistem-ci-target}"
DEMO_ADMIN_EMAIL=admin@icosistem.demo
DEMO_ADMIN_PASSWORD=Quebrada-del-Condor-2027
SERVER_PID=""

pick_server() {
  SERVER="${1:-}"
  if [ -z "$SERVER" ]; then
    if [ -x "${CARGO_TARGET_DIR}/release/icosistem-server" ]; then
      SERVER="${CARGO_TARGET_DIR}/release/icosistem-server"
    else
      cargo build -q -p icosistem-server
      SERVER="${CARGO_TARGET_DIR}/debug/icosistem-server"
    fi
  fi
}

python_tool() {
  local venv="$1" requirement="$2" command="$3"
  if ! "${venv}/bin/${command}" --version 2>/dev/null | grep -q "${requirement#*==}"; then
    python3 -m venv "$venv"
    timeout 300 "${venv}/bin/pip" install --quiet --disable-pip-version-check "$requirement"
  fi
}

start_demo_server() {
  local port="$1" log="$2"
  BASE="http://127.0.0.1:${port}"
  # No DATABASE_URL: the in-memory store with the demo data.
  env -u DATABASE_URL -u REDIS_URL \
    ICOSISTEM_ADDR="127.0.0.1:${port}" ICOSISTEM_RATE_LIMIT_ENABLED=false ICOSISTEM_RUN_JOBS=false \
    ICOSISTEM_REQUIRE_VERIFIED_EMAIL=false RUST_LOG=warn \
    "$SERVER" serve >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 60); do
    curl -fsS "${BASE}/health" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  curl -fsS "${BASE}/health" >/dev/null || { cat "$log"; echo "the server did not start" >&2; return 1; }
}

stop_demo_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

demo_admin_token() {
  curl -fsS -X POST "${BASE}/api/v2/auth/login" -H 'Content-Type: application/json' \
    --data-raw "{\"email\":\"${DEMO_ADMIN_EMAIL}\",\"password\":\"${DEMO_ADMIN_PASSWORD}\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
