#!/usr/bin/env bash
# PostgreSQL backup of Icosistem: a timestamped pg_dump (custom format, compressed) plus its
# SHA-256, and the removal of dumps older than the retention.
#
#   scripts/backup.sh                 # pg_dump of $DATABASE_URL (pg_dump 15+ on this host)
#   scripts/backup.sh --compose       # pg_dump inside the compose `postgres` container
#   scripts/backup.sh --k8s           # pg_dump inside the postgres-0 pod (kubectl context set)
#
# Environment:
#   BACKUP_DIR              where dumps go (default ./backups)
#   BACKUP_RETENTION_DAYS   dumps older than this many days are deleted (default 14)
#   DATABASE_URL            for the default mode
#   COMPOSE_FILE, COMPOSE_ENV_FILE  for --compose (defaults: deploy/compose/docker-compose.prod.yml,
#                           deploy/compose/.env.prod)
#   K8S_NAMESPACE           for --k8s (default icosistem)
#
# Run it daily from cron or a systemd timer, e.g.
#   15 3 * * *  cd /srv/icosistem && BACKUP_DIR=/var/backups/icosistem scripts/backup.sh --compose
# and copy BACKUP_DIR off the host (object storage with its own retention/versioning).
#
# Restore (docs/DEPLOYMENT.md, "Backups and restore", has the whole procedure):
#   1. stop the writers: docker compose stop web worker   (or scale the Deployments to 0)
#   2. sha256sum -c icosistem-YYYYmmddTHHMMSSZ.dump.sha256
#   3. pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
#        -d "$DATABASE_URL" icosistem-YYYYmmddTHHMMSSZ.dump
#      (compose: docker compose exec -T postgres pg_restore … -U icosistem -d icosistem < file)
#   4. start the writers again and run scripts/smoke-test.sh
set -euo pipefail

mode=url
case "${1:-}" in
  "") ;;
  --compose) mode=compose ;;
  --k8s) mode=k8s ;;
  -h | --help) awk 'NR == 1 || /shellcheck|intended throughout/ { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
  *) echo "backup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
esac

BACKUP_DIR="${BACKUP_DIR:-./backups}"
RETENTION_DAYS="${BACKUP_RETENTION_DAYS:-14}"
case "$RETENTION_DAYS" in
  '' | *[!0-9]*) echo "backup.sh: BACKUP_RETENTION_DAYS must be a number of days" >&2; exit 2 ;;
esac

umask 077 # dumps hold every user's data
mkdir -p "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="icosistem-$stamp.dump"
partial="$BACKUP_DIR/.$name.partial"
trap 'rm -f "$partial"' EXIT

log() { printf '[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

log "backing up ($mode) to $BACKUP_DIR/$name"
case "$mode" in
  url)
    : "${DATABASE_URL:?DATABASE_URL is not set}"
    pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$partial" "$DATABASE_URL"
    ;;
  compose)
    compose_file="${COMPOSE_FILE:-deploy/compose/docker-compose.prod.yml}"
    env_file="${COMPOSE_ENV_FILE:-deploy/compose/.env.prod}"
    docker compose --env-file "$env_file" -f "$compose_file" exec -T postgres \
      pg_dump --format=custom --compress=6 --no-owner --no-privileges -U icosistem -d icosistem >"$partial"
    ;;
  k8s)
    kubectl -n "${K8S_NAMESPACE:-icosistem}" exec postgres-0 -c postgres -- \
      pg_dump --format=custom --compress=6 --no-owner --no-privileges -U icosistem -d icosistem >"$partial"
    ;;
esac

# An empty or truncated dump must not replace a good one: pg_restore --list reads the whole
# table of contents, which fails on a cut-off archive.
if [ ! -s "$partial" ]; then
  log "the dump is empty: keeping the previous backups untouched" >&2
  exit 1
fi
if command -v pg_restore >/dev/null 2>&1 && ! pg_restore --list "$partial" >/dev/null; then
  log "the dump is unreadable: keeping the previous backups untouched" >&2
  exit 1
fi
mv "$partial" "$BACKUP_DIR/$name"
(cd "$BACKUP_DIR" && sha256sum "$name" >"$name.sha256")
log "wrote $BACKUP_DIR/$name ($(du -h "$BACKUP_DIR/$name" | cut -f1))"

# Retention: only our own files, only after a successful dump.
removed=$(find "$BACKUP_DIR" -maxdepth 1 -type f \( -name 'icosistem-*.dump' -o -name 'icosistem-*.dump.sha256' \) \
  -mtime +"$RETENTION_DAYS" -print -delete | wc -l)
log "retention ${RETENTION_DAYS} days: removed $removed old file(s)"
