#!/usr/bin/env bash
# Checks that every server metric the monitoring refers to is exported by a running server.
#
#   scripts/check-metrics.sh BASE_URL          # e.g. http://127.0.0.1:8080 (reads BASE_URL/metrics)
#   scripts/check-metrics.sh --file metrics.txt  # a saved /metrics answer
#   scripts/check-metrics.sh --list             # only print the names the monitoring uses
#
# The names come from the PromQL of the alert rules (deploy/monitoring/prometheus/rules/*.yml)
# and of the Grafana dashboards (deploy/monitoring/grafana/dashboards/*.json). A histogram's
# _bucket/_sum/_count series count as exported when the histogram is declared (# TYPE) even
# before its first observation; likewise a counter declared without samples yet.
#
# Not checked, because another process exports them: up and ALERTS (Prometheus itself),
# process_* (the client library's process collector; reported when missing, not failed),
# node_* (node-exporter), pg_* (postgres-exporter), redis_* (redis_exporter), and recording
# rules (names with a colon).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=url
src=""
case "${1:-}" in
  --file) mode="file"; src="${2:?--file needs a path}" ;;
  --list) mode=list ;;
  "" | -h | --help)
    awk 'NR == 1 || /shellcheck|intended throughout/ { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
    [ -n "${1:-}" ] && exit 0 || exit 2 ;;
  *) src="${1%/}" ;;
esac

exposition=""
if [ "$mode" = url ]; then
  exposition=$(mktemp)
  trap 'rm -f "$exposition"' EXIT
  if ! curl -fsS --max-time 10 "$src/metrics" -o "$exposition"; then
    echo "check-metrics: cannot read $src/metrics" >&2
    exit 1
  fi
elif [ "$mode" = file ]; then
  exposition="$src"
fi

MODE="$mode" EXPOSITION="$exposition" python3 - <<'PY'
import glob, json, os, re, sys

import yaml

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan", "atan2"}
# Exported by something other than the server.
EXTERNAL_PREFIXES = ("node_", "pg_", "redis_")
EXTERNAL_NAMES = {"up", "ALERTS", "ALERTS_FOR_STATE"}
# The client library's process collector: expected, but only reported when missing.
SOFT_PREFIXES = ("process_",)

def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\{[^{}]*\}", " ", e)            # label matchers (and Grafana's $vars in them)
    e = re.sub(r"\[[^\[\]]*\]", " ", e)          # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w$:.])([a-zA-Z_:][a-zA-Z0-9_:]*)", e):
        name = m.group(1)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):                 # a function or an aggregation
            continue
        if name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names

used = {}  # name -> where
def add(expr, where):
    for n in metric_names(expr):
        used.setdefault(n, set()).add(where)

for path in sorted(glob.glob("deploy/monitoring/prometheus/rules/*.yml")):
    with open(path) as f:
        doc = yaml.safe_load(f)
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            add(rule["expr"], f"{path}: {rule.get('alert') or rule.get('record')}")

def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))

for path in sorted(glob.glob("deploy/monitoring/grafana/dashboards/*.json")):
    with open(path) as f:
        dash = json.load(f)
    for p in walk_panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                add(t["expr"], f"{path}: {p.get('title')}")
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if var.get("type") == "query" and q:
            m = re.match(r"\s*label_values\((.*),\s*\w+\)\s*$", q)
            add(m.group(1) if m else q, f"{path}: ${var.get('name')}")

def category(name):
    if ":" in name:
        return "recording"
    if name in EXTERNAL_NAMES or name.startswith(EXTERNAL_PREFIXES):
        return "external"
    if name.startswith(SOFT_PREFIXES):
        return "process"
    return "server"

mode = os.environ["MODE"]
if mode == "list":
    for n in sorted(used):
        print(f"{category(n):9} {n}")
    sys.exit(0)

samples, declared = set(), {}
with open(os.environ["EXPOSITION"]) as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                declared[parts[2]] = parts[3]
            continue
        if line.startswith("#"):
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if m:
            samples.add(m.group(0))

def exported(name):
    if name in samples:
        return "exported"
    if name in declared:
        return f"declared {declared[name]}, no samples yet"
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and declared.get(base) in ("histogram", "summary"):
            return f"{declared[base]} {base} declared, no observations yet"
    return None

failed = 0
for name in sorted(used):
    cat = category(name)
    if cat in ("recording", "external"):
        print(f"skip     {name}  ({cat})")
        continue
    state = exported(name)
    if state:
        print(f"ok       {name}  ({state})")
    elif cat == "process":
        print(f"warn     {name}  not exported (process collector missing?): {', '.join(sorted(used[name]))}")
    else:
        failed += 1
        print(f"MISSING  {name}  used by: {', '.join(sorted(used[name]))}")

server = [n for n in used if category(n) == "server"]
print(f"\n{len(server) - failed} passed, {failed} failed (server metrics used by the alert rules and dashboards)")
sys.exit(1 if failed else 0)
PY
