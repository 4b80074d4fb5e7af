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

# shellcheck source=scripts/lib/demo-server.sh
. scripts/lib/demo-server.sh
GENERATOR_VERSION=0.29.1
VENV="${HOME}/.cache/icosistem-ci-venv/openapi-python-client-${GENERATOR_VERSION}"
PORT="${SDK_PORT:-18088}"

pick_server "${1:-}"
python_tool "$VENV" "openapi-python-client==${GENERATOR_VERSION}" openapi-python-client

work=$(mktemp -d)
trap 'stop_demo_server; rm -rf "$work"' EXIT
# The journey registers a new entrepreneur and signs in at once (unverified logins allowed).
start_demo_server "$PORT" "${work}/server.log"

curl -fsS "${BASE}/api-docs/openapi.json" -o "${work}/openapi.json"
# No post-generation hooks: the formatter they run (ruff) is not needed to import the client.
# A download answers the media type its bytes have (application/pdf, image/png …); the generator
# reads bytes only as application/octet-stream, so every other non-JSON, non-text response type
# of the document is read as that.
{
  printf 'post_hooks: []\ncontent_type_overrides:\n'
  jq -r '[.paths[][] | objects | (.responses // {})[] | (.content // {}) | keys[]] | unique[]
    | select(test("json|^text/|^multipart/|^application/octet-stream$") | not)
    | "  \(.): application/octet-stream"' "${work}/openapi.json"
} >"${work}/config.yaml"
# --fail-on-warning: a schema the generator had to skip is a gap in the document.
timeout 300 "${VENV}/bin/openapi-python-client" generate --path "${work}/openapi.json" \
  --config "${work}/config.yaml" --meta none --output-path "${work}/icosistem_client" --fail-on-warning
timeout 120 "${VENV}/bin/python" scripts/sdk_journey.py "$BASE" "$work" "$DEMO_ADMIN_EMAIL" "$DEMO_ADMIN_PASSWORD"
