#!/usr/bin/env bash
# vx-pgbackrest-sidecar: the second container of the database pod (same image,
# same data volume, same socket directory). It creates the pgBackRest stanza the
# first time the database runs with point-in-time recovery (and checks it on
# every later start: stanza-create is idempotent and refuses a repository that
# belongs to another cluster), proves that archive_command delivers WAL to the
# repository, and then serves pgBackRest's TLS protocol so that the backup and
# check CronJobs, which cannot mount the database's volume, reach its files.
#
# Every setting is a PGBACKREST_* variable (internal/pitr Settings.SidecarEnv);
# the archive identity's keys come from a Secret. Any failure exits non-zero, so
# the container restarts and the pod is not Ready: a database that does not
# archive is loud, never quiet.
#
# Optional: VX_PG_BIN_DIR [/usr/lib/postgresql/15/bin], VX_PG_WAIT_SECONDS [600]
#           (how long to wait for PostgreSQL, e.g. while initdb runs),
#           VX_STANZA_ATTEMPTS [5] (stanza-create/check tries, 10 s apart).
set -Eeuo pipefail

log() { printf '%s vx-pgbackrest-sidecar: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

required=(PGBACKREST_STANZA PGBACKREST_REPO1_S3_ENDPOINT PGBACKREST_REPO1_S3_BUCKET PGBACKREST_REPO1_PATH
  PGBACKREST_REPO1_S3_KEY PGBACKREST_REPO1_S3_KEY_SECRET PGBACKREST_PG1_PATH PGBACKREST_PG1_SOCKET_PATH
  PGBACKREST_PG1_PORT PGBACKREST_TLS_SERVER_ADDRESS PGBACKREST_TLS_SERVER_PORT PGBACKREST_TLS_SERVER_CERT_FILE
  PGBACKREST_TLS_SERVER_KEY_FILE PGBACKREST_TLS_SERVER_CA_FILE PGBACKREST_TLS_SERVER_AUTH)
missing=()
for v in "${required[@]}"; do [[ -n ${!v:-} ]] || missing+=("$v"); done
((${#missing[@]} == 0)) || die "not set: ${missing[*]} (the pod's environment comes from internal/pitr Settings.SidecarEnv and the archive identity's Secret)"

bin=${VX_PG_BIN_DIR:-/usr/lib/postgresql/15/bin}
wait_s=${VX_PG_WAIT_SECONDS:-600}
attempts=${VX_STANZA_ATTEMPTS:-5}
[[ $wait_s =~ ^[0-9]+$ && $attempts =~ ^[1-9][0-9]*$ ]] || die "VX_PG_WAIT_SECONDS='$wait_s' and VX_STANZA_ATTEMPTS='$attempts' must be whole numbers (attempts at least 1)"

log "waiting up to ${wait_s}s for PostgreSQL on ${PGBACKREST_PG1_SOCKET_PATH}:${PGBACKREST_PG1_PORT}"
for ((i = 0; ; i++)); do
  "$bin/pg_isready" -q -h "$PGBACKREST_PG1_SOCKET_PATH" -p "$PGBACKREST_PG1_PORT" && break
  ((i < wait_s)) || die "PostgreSQL did not accept connections within ${wait_s}s"
  sleep 1
done

# Retried: on the very first start the image's entrypoint runs initdb with a
# temporary server on the same socket and then restarts it.
for ((try = 1; ; try++)); do
  if pgbackrest stanza-create && pgbackrest check; then break; fi
  ((try < attempts)) || die "stanza-create/check of stanza '$PGBACKREST_STANZA' failed ${attempts} times: WAL is NOT being archived to s3://$PGBACKREST_REPO1_S3_BUCKET$PGBACKREST_REPO1_PATH"
  log "attempt $try of $attempts failed; retrying in 10s"
  sleep 10
done
log "stanza '$PGBACKREST_STANZA' is archiving to s3://$PGBACKREST_REPO1_S3_BUCKET$PGBACKREST_REPO1_PATH; serving TLS on ${PGBACKREST_TLS_SERVER_ADDRESS}:${PGBACKREST_TLS_SERVER_PORT}"
exec pgbackrest server
