#!/usr/bin/env bash
# Backup of Icosistem: a timestamped pg_dump (custom format, compressed) plus its SHA-256, then
# an archive of the uploaded documents when they live on a filesystem (ICOSISTEM_BLOB_BACKEND=fs),
# and the removal of backups older than the retention.
#
# The order is what makes the pair consistent: a document's bytes are stored before its row
# commits and are never rewritten (a new version gets a new key), so every row in the dump has
# its blob in the archive taken after it. The archive may also hold blobs newer than the dump;
# the orphan sweep removes those after a restore. With ICOSISTEM_BLOB_BACKEND=s3 the bucket is
# not copied here: give it versioning and replication of its own (docs/DEPLOYMENT.md).
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
#   ICOSISTEM_BLOB_BACKEND  fs (default) or s3; s3 skips the document archive
#   UPLOAD_PATH             the documents' directory for the default mode (default ./uploads);
#                           --compose archives the `uploads` volume (COMPOSE_UPLOADS_VOLUME,
#                           default icosistem_uploads) through a throw-away busybox container
#   BACKUP_BLOBS            0 skips the document archive (default 1)
#
# Run it daily from cron or a systemd timer, e.g.
#   15 3 * * *  cd /srv/icosistem && BACKUP_DIR=/var/backups/icosistem scripts/backup.sh --compose
# and copy BACKUP_DIR off the host (object storage with its own retention/versioning).
#
# Restore (docs/DEPLOYMENT.md, "Backups and restore", has the whole procedure):
#   1. stop the writers: docker compose stop web worker   (or scale the Deployments to 0)
#   2. sha256sum -c icosistem-YYYYmmddTHHMMSSZ.dump.sha256 icosistem-YYYYmmddTHHMMSSZ.uploads.tar.gz.sha256
#   3. pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
#        -d "$DATABASE_URL" icosistem-YYYYmmddTHHMMSSZ.dump
#      (compose: docker compose exec -T postgres pg_restore … -U icosistem -d icosistem < file)
#      and unpack the documents into the empty upload directory (or volume):
#        tar -xzf icosistem-YYYYmmddTHHMMSSZ.uploads.tar.gz -C "$UPLOAD_PATH"
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

# The documents, after the dump (see the top of this file for why this order).
blobs="icosistem-$stamp.uploads.tar.gz"
blobs_partial="$BACKUP_DIR/.$blobs.partial"
trap 'rm -f "$partial" "$blobs_partial"' EXIT
backend=$(printf '%s' "${ICOSISTEM_BLOB_BACKEND:-fs}" | tr '[:upper:]' '[:lower:]')
if [ "${BACKUP_BLOBS:-1}" = 0 ]; then
  log "documents: skipped (BACKUP_BLOBS=0)"
elif [ "$backend" = s3 ]; then
  log "documents: in the S3 bucket, which keeps its own versions and replicas; not archived here"
else
  case "$mode" in
    url)
      upload_path="${UPLOAD_PATH:-./uploads}"
      if [ -d "$upload_path" ]; then
        tar -C "$upload_path" -czf "$blobs_partial" .
      else
        log "documents: $upload_path does not exist (nothing uploaded yet?): no archive"
      fi
      ;;
    compose)
      docker run --rm -v "${COMPOSE_UPLOADS_VOLUME:-icosistem_uploads}:/uploads:ro" busybox:1.37 \
        tar -C /uploads -czf - . >"$blobs_partial"
      ;;
    k8s)
      log "documents: the Kubernetes manifests keep them in S3 (ICOSISTEM_BLOB_BACKEND=s3); set it here too, or archive your volume yourself"
      ;;
  esac
  if [ -e "$blobs_partial" ]; then
    # A cut-off archive must not pass for a backup: gzip -t reads all of it.
    if ! gzip -t "$blobs_partial"; then
      log "the documents archive is unreadable: the dump is kept, the archive is not" >&2
      exit 1
    fi
    mv "$blobs_partial" "$BACKUP_DIR/$blobs"
    (cd "$BACKUP_DIR" && sha256sum "$blobs" >"$blobs.sha256")
    log "wrote $BACKUP_DIR/$blobs ($(du -h "$BACKUP_DIR/$blobs" | cut -f1))"
  fi
fi

# Retention: only our own files, only after a successful dump.
removed=$(find "$BACKUP_DIR" -maxdepth 1 -type f \( -name 'icosistem-*.dump' -o -name 'icosistem-*.dump.sha256' \
  -o -name 'icosistem-*.uploads.tar.gz' -o -name 'icosistem-*.uploads.tar.gz.sha256' \) \
  -mtime +"$RETENTION_DAYS" -print -delete | wc -l)
log "retention ${RETENTION_DAYS} days: removed $removed old file(s)"
