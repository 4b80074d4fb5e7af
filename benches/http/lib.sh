# shellcheck shell=bash
# Shared by run.sh and compare.sh (sourced, after `cd` to the repository root): the server under
# test and the databases a run creates. The caller sets ADMIN_DB_URL (the PostgreSQL server it
# may create databases on, when it uses them) and WORK (its scratch directory), starts the
# server into SERVER_PID, and calls `trap cleanup EXIT`.

SERVER_PID=""
DBS=()

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # Graceful shutdown finishes in-flight requests; don't wait forever for it.
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

# DATABASE_URL with its database name replaced by $1 (keeps user, host, port and query).
db_url_for() {
  local scheme="${ADMIN_DB_URL%%://*}" rest="${ADMIN_DB_URL#*://}" query=""
  [[ "$rest" == *\?* ]] && query="?${rest#*\?}"
  rest="${rest%%\?*}"
  printf '%s://%s/%s%s' "$scheme" "${rest%%/*}" "$1" "$query"
}

# new_db <variable> <prefix>: creates a fresh database <prefix>_<timestamp>_<pid> and stores its
# name in <variable>. Not through `$(…)`: the name must be remembered (in DBS) by this shell,
# for drop_dbs.
new_db() {
  local name
  name="$2_$(date +%Y%m%d%H%M%S)_$$"
  psql "$ADMIN_DB_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$name\"" >/dev/null
  DBS+=("$name")
  printf -v "$1" '%s' "$name"
  log "created database $name"
}

# Drops every database new_db created; a failure is reported, not fatal (cleanup goes on).
drop_dbs() {
  local db
  for db in "${DBS[@]}"; do
    psql "$ADMIN_DB_URL" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
      log "could not drop database $db: drop it by hand"
  done
  DBS=()
}

cleanup() {
  stop_server
  drop_dbs
  rm -rf "$WORK"
}
