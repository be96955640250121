#!/usr/bin/env bash
# test-servers.sh - throwaway PostgreSQL 15 (Debian's) and MinIO servers for tests,
# on 127.0.0.1 only, with eval-able connection variables.
#
# Usage:
#   eval "$(scripts/test-servers.sh start)"  start both (building minio/mc first if
#                                            needed, see scripts/tools.sh), wait until
#                                            ready, print the variables on stdout. A no-op
#                                            (that prints them again) when both run.
#   scripts/test-servers.sh stop             stop both, by the pids 'start' recorded
#   scripts/test-servers.sh env              print the variables (exit 1 if not running)
#   scripts/test-servers.sh status           exit 0 iff both are running and ready
#
# Variables printed: MINIO_ENDPOINT (host:port) MINIO_URL MINIO_ROOT_USER
#   MINIO_ROOT_PASSWORD MINIO_PID MINIO MC MC_CONFIG_DIR MC_ALIAS PGHOST PGPORT PGUSER
#   PGBIN PGDATA PG_PID DATABASE_URL
#
# MinIO and mc are AGPL-3.0: built from the Go module proxy by scripts/tools.sh and
# only ever run as separate processes; never import them into the project.
# PostgreSQL: initdb refuses to run as root, so as root the cluster runs as the
# 'postgres' user (runuser) in a directory it owns; since that user cannot enter a
# 0700 $HOME, the data then lives in /var/tmp/vxplatform/pg-<port> (VX_PG_DIR).
#
# Environment (defaults in brackets):
#   VX_CACHE [$HOME/.cache/vxplatform]  VX_TEST_RUN [$VX_CACHE/run/test-servers]
#   VX_PG_PORT [55432] VX_PG_VERSION [15] VX_PG_DIR [$VX_TEST_RUN/pg, see above]
#   VX_MINIO_PORT [59000] VX_MINIO_CONSOLE_PORT [59001]
#   VX_MINIO_ROOT_USER [vxadmin] VX_MINIO_ROOT_PASSWORD [vxadmin-secret-123]
#   VX_TS_FRESH [1]   1: a cold start begins with empty data directories
#   VX_TS_TIMEOUT [60]
set -euo pipefail

_VX_NAME=test-servers
SCRIPTS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$SCRIPTS/lib/common.sh"

RUN=${VX_TEST_RUN:-$VX_CACHE/run/test-servers}
PIDS=$RUN/pids
PG_PORT=${VX_PG_PORT:-55432}
PG_VERSION=${VX_PG_VERSION:-15}
PGBIN=/usr/lib/postgresql/$PG_VERSION/bin
MINIO_PORT=${VX_MINIO_PORT:-59000}
MINIO_CONSOLE_PORT=${VX_MINIO_CONSOLE_PORT:-59001}
ROOT_USER=${VX_MINIO_ROOT_USER:-vxadmin}
ROOT_PASSWORD=${VX_MINIO_ROOT_PASSWORD:-vxadmin-secret-123}
MC_ALIAS=local
FRESH=${VX_TS_FRESH:-1}
TIMEOUT=${VX_TS_TIMEOUT:-60}
AS_ROOT=0
[[ $(id -u) -eq 0 ]] && AS_ROOT=1

for _v in PG_PORT MINIO_PORT MINIO_CONSOLE_PORT TIMEOUT; do
  [[ ${!_v} =~ ^[0-9]+$ ]] || die "VX_$_v must be a number, got '${!_v}'"
done
((${#ROOT_PASSWORD} >= 8)) || die "VX_MINIO_ROOT_PASSWORD must have at least 8 characters"

# as_pg CMD...: run as the postgres user when we are root (initdb/postgres refuse root)
as_pg() {
  if ((AS_ROOT)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_dir: where the cluster lives (its parent directories must be enterable by postgres)
pg_dir() {
  if [[ -n ${VX_PG_DIR:-} ]]; then echo "$VX_PG_DIR"; return; fi
  if ((AS_ROOT)) && ! runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
    echo "/var/tmp/vxplatform/pg-$PG_PORT"
  else
    echo "$RUN/pg"
  fi
}

recorded() { if [[ -f $PIDS ]]; then awk -v n="$1" '$1 == n { print $2 }' "$PIDS" | tail -1; fi; }
minio_bin() { "$SCRIPTS/tools.sh" path minio 2>/dev/null || true; }
mc_bin() { "$SCRIPTS/tools.sh" path mc 2>/dev/null || true; }

minio_ready() { curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$MINIO_PORT/minio/health/ready"; }
pg_ready() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

running() { # both recorded servers alive (and the right programs) and ready
  local pid
  [[ -f $PIDS ]] || return 1
  pid=$(recorded minio); [[ -n $pid ]] && pid_is "$pid" "$(minio_bin)" || return 1
  pid=$(recorded postgres); [[ -n $pid ]] && pid_is "$pid" "$PGBIN/postgres" || return 1
  minio_ready && pg_ready
}

# shq VALUE: VALUE single-quoted for the shell (eval-able and plain to read)
shq() { local q="'\\''"; printf "'%s'" "${1//\'/$q}"; }

print_env() {
  local pgdir name value
  pgdir=$(pg_dir)
  while read -r name value; do
    printf 'export %s=%s\n' "$name" "$(shq "$value")"
  done <<EOF
MINIO_ENDPOINT 127.0.0.1:$MINIO_PORT
MINIO_URL http://127.0.0.1:$MINIO_PORT
MINIO_ROOT_USER $ROOT_USER
MINIO_ROOT_PASSWORD $ROOT_PASSWORD
MINIO_PID $(recorded minio)
MINIO $(minio_bin)
MC $(mc_bin)
MC_CONFIG_DIR $RUN/mc
MC_ALIAS $MC_ALIAS
PGHOST 127.0.0.1
PGPORT $PG_PORT
PGUSER postgres
PGBIN $PGBIN
PGDATA $pgdir/data
PG_PID $(recorded postgres)
DATABASE_URL postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable
EOF
}

stop_recorded() {
  local name pid exe
  [[ -f $PIDS ]] || return 0
  while read -r name pid; do
    if [[ -z $pid ]] || ! alive "$pid"; then continue; fi
    case $name in
      minio) exe=$(minio_bin) ;;
      postgres) exe=$PGBIN/postgres ;;
      *) continue ;;
    esac
    if ! pid_is "$pid" "$exe"; then
      warn "pid $pid is alive but is not our $name ($(readlink "/proc/$pid/exe" 2>/dev/null)): not touching it"
      continue
    fi
    # postgres: SIGINT is the "fast" shutdown (what pg_ctl -m fast sends)
    if [[ $name == postgres ]]; then stop_pid postgres "$pid" 30 INT; else stop_pid "$name" "$pid" 15; fi
  done < <(tac "$PIDS")
  rm -f "$PIDS"
}

start_postgres() {
  local dir t0 pid
  dir=$(pg_dir)
  if [[ $FRESH == 1 ]]; then rm -rf "$dir"; fi
  if ((AS_ROOT)) && [[ $dir == /var/tmp/vxplatform/* ]]; then
    install -d -m 0755 -o root -g root /var/tmp/vxplatform
  fi
  mkdir -p "$dir"
  ((AS_ROOT)) && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    t0=$(now_ms)
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$RUN/initdb.log" 2>&1 \
      || { tail -n 20 "$RUN/initdb.log" >&2; die "initdb failed (log: $RUN/initdb.log)"; }
    log "initdb took $(elapsed "$t0")s"
  fi
  rm -f "$dir/data/postmaster.pid" # only ours, and it is not running (checked by the caller)
  t0=$(now_ms)
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$TIMEOUT" -s \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 {LOCK_FD}>&- || { tail -n 20 "$dir/server.log" >&2; die "postgres did not start (log: $dir/server.log)"; }
  pid=$(head -1 "$dir/data/postmaster.pid")
  echo "postgres $pid" >>"$PIDS"
  wait_until postgres "$TIMEOUT" "$pid" pg_ready || die "postgres not ready (log: $dir/server.log)"
  log "postgres $PG_VERSION ready in $(elapsed "$t0")s (pid $pid, 127.0.0.1:$PG_PORT, data $dir/data)"
}

start_minio() {
  local minio=$1 pid t0
  if [[ $FRESH == 1 ]]; then rm -rf "$RUN/minio-data" "$RUN/mc"; fi
  mkdir -p "$RUN/minio-data"
  t0=$(now_ms)
  pid=$(MINIO_ROOT_USER=$ROOT_USER MINIO_ROOT_PASSWORD=$ROOT_PASSWORD \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
    spawn_server "$RUN" minio "$RUN/minio.log" "$minio" server --quiet --anonymous \
    --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
    "$RUN/minio-data")
  echo "minio $pid" >>"$PIDS"
  if ! wait_until minio "$TIMEOUT" "$pid" minio_ready; then
    tail -n 20 "$RUN/minio.log" >&2
    die "minio not ready (log: $RUN/minio.log)"
  fi
  log "minio ready in $(elapsed "$t0")s (pid $pid, http://127.0.0.1:$MINIO_PORT)"
}

cmd_start() {
  local minio mc
  mkdir -p "$RUN"
  take_lock
  if running; then
    log "already running"
    print_env
    return 0
  fi
  if [[ -f $PIDS ]]; then
    log "found state of an earlier run that is not healthy: stopping what is left of it"
    stop_recorded
  fi
  ensure_debs curl:curl "$PGBIN/initdb:postgresql-$PG_VERSION" "$PGBIN/psql:postgresql-client-$PG_VERSION"
  ((AS_ROOT == 0)) || id postgres >/dev/null 2>&1 || die "no 'postgres' user (it comes with the postgresql-common package)"
  minio=$(minio_bin)
  mc=$(mc_bin)
  if [[ -z $minio || -z $mc ]]; then
    log "building minio and mc first (about 10 minutes cold)"
    "$SCRIPTS/tools.sh" minio mc >/dev/null
    minio=$(minio_bin)
    mc=$(mc_bin)
  fi
  require_free_ports postgres="$PG_PORT" minio="$MINIO_PORT" minio-console="$MINIO_CONSOLE_PORT"
  trap 'rc=$?; if ((rc != 0)); then log "start failed: stopping what was started"; stop_recorded; fi' EXIT
  start_postgres
  start_minio "$minio"
  MC_CONFIG_DIR=$RUN/mc "$mc" alias set "$MC_ALIAS" "http://127.0.0.1:$MINIO_PORT" "$ROOT_USER" "$ROOT_PASSWORD" >/dev/null \
    || die "mc alias set failed"
  log "mc alias '$MC_ALIAS' set (MC_CONFIG_DIR=$RUN/mc)"
  trap - EXIT
  print_env
}

cmd_stop() {
  mkdir -p "$RUN"
  take_lock
  if [[ ! -f $PIDS ]]; then log "not running (no $PIDS)"; return 0; fi
  stop_recorded
  log "stopped"
}

cmd_status() {
  local pid rc=0
  pid=$(recorded minio)
  if [[ -n $pid ]] && pid_is "$pid" "$(minio_bin)" && minio_ready; then echo "minio     pid $pid ready http://127.0.0.1:$MINIO_PORT"
  else echo "minio     NOT running"; rc=1; fi
  pid=$(recorded postgres)
  if [[ -n $pid ]] && pid_is "$pid" "$PGBIN/postgres" && pg_ready; then echo "postgres  pid $pid ready 127.0.0.1:$PG_PORT"
  else echo "postgres  NOT running"; rc=1; fi
  return $rc
}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) if running; then print_env; else die "not running: run '$0 start'"; fi ;;
  help | -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
exit
