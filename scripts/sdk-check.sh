#!/usr/bin/env bash
# The OpenAPI document as a client generator reads it: openapi-python-client (pinned, from PyPI,
# in a venv) generates a Python client from the document the server serves, and
# scripts/sdk_journey.py drives one journey with it (login → organization → program → project →
# application → submit) against the example server on the in-memory store with demo data.
#
#   scripts/sdk-check.sh [SERVER_BINARY]
#
#   SERVER_BINARY   default: $CARGO_TARGET_DIR/release/icosistem-server when built, else the
#                   debug one (built when missing).
#
# Options (environment): SDK_PORT (default 18088).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icosistem-ci-target}"
GENERATOR_VERSION=0.29.1
VENV="${HOME}/.cache/icosistem-ci-venv/openapi-python-client-${GENERATOR_VERSION}"
PORT="${SDK_PORT:-18088}"
BASE="http://127.0.0.1:${PORT}"
ADMIN_EMAIL=admin@icosistem.demo
ADMIN_PASSWORD=Quebrada-del-Condor-2027

server="${1:-}"
if [ -z "$server" ]; then
  if [ -x "${CARGO_TARGET_DIR}/release/icosistem-server" ]; then
    server="${CARGO_TARGET_DIR}/release/icosistem-server"
  else
    cargo build -q -p icosistem-server
    server="${CARGO_TARGET_DIR}/debug/icosistem-server"
  fi
fi

if ! "${VENV}/bin/openapi-python-client" --version 2>/dev/null | grep -q "${GENERATOR_VERSION}"; then
  python3 -m venv "$VENV"
  timeout 300 "${VENV}/bin/pip" install --quiet --disable-pip-version-check "openapi-python-client==${GENERATOR_VERSION}"
fi

work=$(mktemp -d)
log="${work}/server.log"
# No DATABASE_URL: the in-memory store with the demo data; unverified logins allowed (the journey
# registers a new entrepreneur and signs in at once).
env -u DATABASE_URL -u REDIS_URL \
  ICOSISTEM_ADDR="127.0.0.1:${PORT}" ICOSISTEM_RATE_LIMIT_ENABLED=false ICOSISTEM_RUN_JOBS=false \
  ICOSISTEM_REQUIRE_VERIFIED_EMAIL=false RUST_LOG=warn \
  "$server" serve >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do
  curl -fsS "${BASE}/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "${BASE}/health" >/dev/null || { cat "$log"; echo "the server did not start" >&2; exit 1; }

curl -fsS "${BASE}/api-docs/openapi.json" -o "${work}/openapi.json"
# No post-generation hooks: the formatter they run (ruff) is not needed to import the client.
printf 'post_hooks: []\n' >"${work}/config.yaml"
# --fail-on-warning: a schema the generator had to skip is a gap in the document.
timeout 300 "${VENV}/bin/openapi-python-client" generate --path "${work}/openapi.json" \
  --config "${work}/config.yaml" --meta none --output-path "${work}/icosistem_client" --fail-on-warning
timeout 120 "${VENV}/bin/python" scripts/sdk_journey.py "$BASE" "$work" "$ADMIN_EMAIL" "$ADMIN_PASSWORD"
