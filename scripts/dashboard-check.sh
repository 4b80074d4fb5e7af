#!/usr/bin/env bash
# The coordinator dashboard in a real browser: Playwright for Python (pinned, from PyPI, in a
# venv) drives Debian's Chromium (never Playwright's own download: its CDN is out of reach)
# against the example server on the in-memory store with demo data. scripts/dashboard-check.py
# signs in as the demo coordinator, checks the charts against the JSON API's figures, downloads
# the applications CSV and saves a screenshot to $CARGO_TARGET_DIR/dashboard.png.
#
#   scripts/dashboard-check.sh [SERVER_BINARY]
#
#   SERVER_BINARY   default: $CARGO_TARGET_DIR/release/icosistem-server when built, else the
#                   debug one (built when missing).
#
# Options (environment): DASHBOARD_PORT (default 18089), CHROMIUM (default: `chromium` on PATH,
# installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/demo-server.sh
. scripts/lib/demo-server.sh
PLAYWRIGHT_VERSION=1.65.3
VENV="${HOME}/.cache/icosistem-ci-venv/playwright-${PLAYWRIGHT_VERSION}"
PORT="${DASHBOARD_PORT:-18089}"
# examples/server/src/demo.rs: COORDINATOR_EMAIL, DEMO_PASSWORD.
COORDINATOR_EMAIL=lucia@andes-incubator.demo

pick_server "${1:-}"
CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ]; then
  # Debian's package: a machine without it gets it once (later runs find it on PATH).
  timeout 600 apt-get install -y -q chromium >/dev/null || { timeout 300 apt-get update -q >/dev/null && timeout 600 apt-get install -y -q chromium >/dev/null; }
  CHROMIUM="$(command -v chromium)"
fi
python_tool "$VENV" "playwright==${PLAYWRIGHT_VERSION}" playwright

work=$(mktemp -d)
trap 'stop_demo_server; rm -rf "$work"' EXIT
start_demo_server "$PORT" "${work}/server.log"

mkdir -p "$CARGO_TARGET_DIR"
timeout 240 "${VENV}/bin/python" scripts/dashboard-check.py \
  --base "$BASE" --chromium "$CHROMIUM" --screenshot "${CARGO_TARGET_DIR}/dashboard.png" \
  --email "$COORDINATOR_EMAIL" --password "$DEMO_ADMIN_PASSWORD" --downloads "$work"
