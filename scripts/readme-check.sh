#!/usr/bin/env bash
# The README's Rust examples as a newcomer uses them: a new crate OUTSIDE the workspace whose
# [dependencies] are the README's snippet (its `../icosistem/` paths pointed at this checkout),
# one binary per ```rust block of the README, unchanged. Builds them all, runs each to the end,
# and a `no_run` block (a server) until it answers: its API's /health under the prefix, and its
# own protected route with the ecosystem's 401.
#
#   scripts/readme-check.sh
#
# Uses this checkout's Cargo.lock (the versions the workspace is tested with) and
# $CARGO_TARGET_DIR (shared with the workspace, so the libraries are not built twice).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icosistem-ci-target}"
crate=$(mktemp -d /tmp/icosistem-readme-XXXXXX)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$crate"' EXIT

python3 - "$repo" "$crate" <<'PY'
import pathlib, re, sys
repo, crate = map(pathlib.Path, sys.argv[1:])
readme = (repo / "README.md").read_text()
blocks = re.findall(r"^```([^\n]*)\n(.*?)^```$", readme, flags=re.S | re.M)
tomls = [body for lang, body in blocks if lang.strip() == "toml" and "[dependencies]" in body]
if not tomls:
    sys.exit("README.md has no ```toml block with [dependencies]")
deps = tomls[0].replace('"../icosistem/', f'"{repo}/')
if "../icosistem" in deps or "example.invalid" in deps:
    sys.exit("the README's dependency snippet must depend on the crates by ../icosistem/ paths")
(crate / "src" / "bin").mkdir(parents=True)
(crate / "Cargo.toml").write_text(
    '[package]\nname = "icosistem-readme-check"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n'
    + deps + "\n[workspace]\n")
kinds = []
for lang, body in blocks:
    attrs = [a.strip() for a in lang.split(",")]
    if attrs[0] != "rust" or "ignore" in attrs:
        continue
    n = len(kinds) + 1
    (crate / "src" / "bin" / f"readme_{n}.rs").write_text(body)
    kinds.append(f"readme_{n} {'server' if 'no_run' in attrs else 'run'}")
(crate / "bins").write_text("\n".join(kinds) + "\n")
print(f"{len(kinds)} Rust examples from README.md; dependencies:\n{deps}")
PY
cp Cargo.lock "$crate/"

cd "$crate"
cargo build --quiet --bins
while read -r bin kind; do
  if [ "$kind" = run ]; then
    echo "== $bin (runs to the end)"
    timeout 60 "${CARGO_TARGET_DIR}/debug/${bin}"
  else
    echo "== $bin (a server: until it answers)"
    JWT_SECRET_KEY="readme-check-$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')" \
      "${CARGO_TARGET_DIR}/debug/${bin}" &
    server_pid=$!
    up=""
    for _ in $(seq 1 100); do
      if curl -fsS -o /dev/null http://127.0.0.1:3000/ecosystem/health 2>/dev/null; then up=1; break; fi
      sleep 0.2
    done
    [ -n "$up" ] || { echo "$bin never answered on 127.0.0.1:3000/ecosystem/health" >&2; exit 1; }
    status=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:3000/hello)
    [ "$status" = 401 ] || { echo "$bin: /hello without a token answered $status, not 401" >&2; exit 1; }
    echo "/ecosystem/health 200, /hello 401 without a token"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  fi
done < bins
echo "README examples: built and run outside the workspace"
