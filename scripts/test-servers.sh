#!/usr/bin/env bash
# test-servers.sh - throwaway PostgreSQL 15 (Debian's) and MinIO servers for tests,
# on 127.0.0.1 only, with eval-able connection variables. This script is the one
# place that starts and stops them: Go code reads what it prints (package
# internal/localenv) and runs it for servers of a test's own.
#
# Usage:
#   eval "$(scripts/test-servers.sh start [postgres|minio]...)"
#         start the named servers (default: both), building minio/mc first if needed
#         (see scripts/tools.sh), wait until they are ready and print the variables
#         of every server this instance runs on stdout. A server that already runs
#         and is ready is left alone; what is left of one that died is stopped first.
#   scripts/test-servers.sh stop [--crash] [postgres|minio]...
#         stop the named servers (default: all, and the guard), by the pids 'start'
#         recorded. --crash stops them the way a failing machine would: SIGKILL to
#         minio, an immediate shutdown of postgres (no checkpoint, crash recovery at
#         the next start).
#   scripts/test-servers.sh destroy   stop everything and remove the instance's data,
#                                     logs and run directory
#   scripts/test-servers.sh env       print the variables (exit 1 unless every server
#                                     of the instance runs)
#   scripts/test-servers.sh status    exit 0 iff every server of the instance runs and
#                                     is ready
#   eval "$(scripts/test-servers.sh cert NAME CN SAN)"
#         issue a certificate and key signed by the instance's CA (VX_MINIO_TLS=1,
#         after 'start'), for a TLS server or client of a test; SAN is openssl's form,
#         e.g. DNS:localhost,IP:127.0.0.1. Prints TLS_CERT_FILE and TLS_KEY_FILE
#         (readable by the postgres user).
#
# Variables printed: VX_TEST_RUN, then for MinIO: MINIO_ENDPOINT (host:port) MINIO_URL
#   MINIO_ROOT_USER MINIO_ROOT_PASSWORD MINIO_PID MINIO MC MC_CONFIG_DIR MC_ALIAS,
#   and with VX_MINIO_TLS=1 also MINIO_CA_FILE;
#   for PostgreSQL: PGHOST PGPORT PGUSER PGBIN PGDATA PG_PID DATABASE_URL PG_SOCKET_DIR.
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
#   VX_TS_FRESH [1]   1: a server that is started begins with an empty data directory;
#                     0 keeps its data (a restart after 'stop' or a crash)
#   VX_TS_TIMEOUT [60]
#   VX_MINIO_TLS [0]  1: MinIO speaks HTTPS only (pgBackRest's S3 client needs it), with
#                     a CA and server certificate made by openssl in the instance
#                     (readable by the postgres user); MINIO_ENDPOINT is then
#                     localhost:PORT (TLS clients such as pgBackRest check names,
#                     not addresses), MINIO_URL https://..., MINIO_CA_FILE the CA, and
#                     mc trusts it. Like the ports, give it to every command of the
#                     instance (it is not recorded)
#   VX_PG_SETTINGS_FILE  server settings, one name=value a line (# comments), passed as
#                     '-c name=value' after the defaults (so they win), e.g. archive_mode
#   VX_PG_ENV_FILE    environment of the server, one NAME=value a line: what its
#                     archive_command needs (PGBACKREST_* variables); without it the
#                     server inherits this script's environment, as always. Both
#                     apply at every 'start' of the server they are given to; kept in
#                     the run directory as pg-settings and pg-env, 'destroy' removes them
#   VX_PG_SUPERUSER [postgres]  the cluster's superuser (PGUSER), as the postgres
#                     image names it from POSTGRES_USER
#   VX_PG_PASSWORD_FILE  the superuser's password (first line): every connection, local
#                     or TCP, must then authenticate (scram-sha-256) instead of trust;
#                     read at initdb only (a fresh data directory)
#   VX_TS_OWNER_PID   for an instance of one process's own (a test run): 'start' also
#                     starts a guard that runs 'destroy' as soon as that process ends,
#                     however it ends (killed, timed out), so nothing is left running
set -euo pipefail

_VX_NAME=test-servers
SCRIPTS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$SCRIPTS/lib/common.sh"

RUN=${VX_TEST_RUN:-$VX_CACHE/run/test-servers}
PIDS=$RUN/pids
PG_PORT=${VX_PG_PORT:-55432}
PG_SUPERUSER=${VX_PG_SUPERUSER:-postgres}
PG_PASSWORD_FILE=${VX_PG_PASSWORD_FILE:-}
PG_VERSION=${VX_PG_VERSION:-15}
PGBIN=/usr/lib/postgresql/$PG_VERSION/bin
MINIO_PORT=${VX_MINIO_PORT:-59000}
MINIO_TLS=${VX_MINIO_TLS:-0}
PG_SETTINGS_FILE=${VX_PG_SETTINGS_FILE:-}
PG_ENV_FILE=${VX_PG_ENV_FILE:-}
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
[[ $MINIO_TLS == 0 || $MINIO_TLS == 1 ]] || die "VX_MINIO_TLS must be 0 or 1, got '$MINIO_TLS'"
for _v in PG_SETTINGS_FILE PG_ENV_FILE; do
  [[ -z ${!_v} || -f ${!_v} ]] || die "VX_$_v=${!_v}: no such file"
done

# as_pg CMD...: run as the postgres user when we are root (initdb/postgres refuse root)
as_pg() {
  if ((AS_ROOT)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# postgres_dir NAME PORT: a directory of the instance that the postgres user can reach:
# $RUN/NAME, or /var/tmp/vxplatform/NAME-PORT when we are root and postgres cannot
# enter $RUN
postgres_dir() {
  if ((AS_ROOT)) && ! runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
    echo "/var/tmp/vxplatform/$1-$2"
  else
    echo "$RUN/$1"
  fi
}

# pg_dir: where the cluster lives (its parent directories must be enterable by postgres)
pg_dir() {
  if [[ -n ${VX_PG_DIR:-} ]]; then echo "$VX_PG_DIR"; return; fi
  postgres_dir pg "$PG_PORT"
}

# tls_dir: the CA and certificates of the instance (pgBackRest, run as postgres, reads them)
tls_dir() { cat "$RUN/tls-dir" 2>/dev/null || postgres_dir tls "$MINIO_PORT"; }

SERVERS=(postgres minio)

recorded() { if [[ -f $PIDS ]]; then awk -v n="$1" '$1 == n { print $2 }' "$PIDS" | tail -1; fi; }
# forget NAME: drop NAME's record (it was stopped)
forget() {
  [[ -f $PIDS ]] || return 0
  awk -v n="$1" '$1 != n' "$PIDS" >"$PIDS.new" && mv "$PIDS.new" "$PIDS"
  [[ -s $PIDS ]] || rm -f "$PIDS"
}
# instance_servers: the servers this instance runs (recorded by 'start'), in SERVERS order
instance_servers() {
  local name
  for name in "${SERVERS[@]}"; do [[ -n $(recorded "$name") ]] && echo "$name"; done
  return 0
}
minio_bin() { "$SCRIPTS/tools.sh" path minio 2>/dev/null || true; }
mc_bin() { "$SCRIPTS/tools.sh" path mc 2>/dev/null || true; }

minio_scheme() { if [[ $MINIO_TLS == 1 ]]; then echo https; else echo http; fi; }
# minio_host: TLS clients check the certificate's name, so they reach it as localhost
minio_host() { if [[ $MINIO_TLS == 1 ]]; then echo localhost; else echo 127.0.0.1; fi; }
minio_ready() {
  local tls=()
  [[ $MINIO_TLS == 0 ]] || tls=(--cacert "$(tls_dir)/ca.crt")
  curl -sf --max-time 2 "${tls[@]}" -o /dev/null "$(minio_scheme)://127.0.0.1:$MINIO_PORT/minio/health/ready"
}
pg_ready() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

# executable NAME: the program a recorded NAME process must be running
executable() {
  case $1 in
    minio) minio_bin ;;
    postgres) echo "$PGBIN/postgres" ;;
    guard) echo "$BASH" ;;
  esac
}

# ready NAME: the server answers (the guard has nothing to answer)
ready() {
  case $1 in
    minio) minio_ready ;;
    postgres) pg_ready ;;
    guard) true ;;
  esac
}

# server_running NAME: its recorded process is alive, runs the right program, and is ready
server_running() {
  local pid
  pid=$(recorded "$1")
  [[ -n $pid ]] && pid_is "$pid" "$(executable "$1")" && ready "$1"
}

# running: every server of the instance runs and is ready (and there is one)
running() {
  local name any=0
  for name in $(instance_servers); do
    any=1
    server_running "$name" || return 1
  done
  ((any))
}

# shq VALUE: VALUE single-quoted for the shell (eval-able and plain to read)
shq() { local q="'\\''"; printf "'%s'" "${1//\'/$q}"; }

print_env() {
  local name value
  while read -r name value; do
    printf 'export %s=%s\n' "$name" "$(shq "$value")"
  done < <(
    echo "VX_TEST_RUN $RUN"
    if [[ -n $(recorded minio) ]]; then
      cat <<VARS
MINIO_ENDPOINT $(minio_host):$MINIO_PORT
MINIO_URL $(minio_scheme)://$(minio_host):$MINIO_PORT
MINIO_ROOT_USER $ROOT_USER
MINIO_ROOT_PASSWORD $ROOT_PASSWORD
MINIO_PID $(recorded minio)
MINIO $(minio_bin)
MC $(mc_bin)
MC_CONFIG_DIR $RUN/mc
MC_ALIAS $MC_ALIAS
VARS
      if [[ $MINIO_TLS == 1 ]]; then echo "MINIO_CA_FILE $(tls_dir)/ca.crt"; fi
    fi
    if [[ -n $(recorded postgres) ]]; then
      cat <<VARS
PGHOST 127.0.0.1
PGPORT $PG_PORT
PGUSER $PG_SUPERUSER
PGBIN $PGBIN
PGDATA $(pg_dir)/data
PG_PID $(recorded postgres)
DATABASE_URL postgres://$PG_SUPERUSER@127.0.0.1:$PG_PORT/postgres?sslmode=disable
VARS
      echo "PG_SOCKET_DIR $(pg_dir)"
    fi
  )
}

# A server's children outlive it when it is killed: a PostgreSQL whose archiver
# hangs in `pgbackrest archive-push` (an unreachable repository) does not finish
# a fast shutdown, is sent SIGKILL, and its archiver and pgBackRest keep running
# until pgBackRest times out. Every PostgreSQL child is a session (and process
# group) of its own (setsid), so killing the server's process group is not
# enough: the sessions of all its descendants are, as recorded while it ran.

# proc_table: "pid ppid session start" of every process (start: clock ticks since
# boot, which tells a process apart from a later one with the same pid)
proc_table() {
  local f stat fields
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue # no fork: this runs every 0.2 s
    read -r -a fields <<<"${stat##*) }"
    f=${f#/proc/}
    echo "${f%/stat} ${fields[1]} ${fields[3]} ${fields[19]}"
  done
}

# tree_sessions PID: "session leader-start" of PID's session and of every session
# led by one of its descendants (a session led from outside the tree is never
# named); nothing once PID is gone
tree_sessions() {
  proc_table | awk -v root="$1" '
    { ppid[$1] = $2; sid[$1] = $3; start[$1] = $4 }
    END {
      if (!(root in ppid)) exit
      inside[root] = 1
      do { grown = 0
        for (p in ppid) if (!(p in inside) && (ppid[p] in inside)) { inside[p] = 1; grown = 1 }
      } while (grown)
      for (p in inside) if (sid[p] in inside) print sid[p], start[sid[p]]
    }'
}

# kill_sessions FILE: SIGKILL every process still in a session FILE names, until
# none is left. A session's number is the pid of its leader, which the kernel
# does not reuse while the session has members: a live process with that pid
# but another start time means the session ended and the number now belongs to
# someone else, whose session is left alone.
kill_sessions() {
  local file=$1 round pids
  [[ -s $file ]] || return 0
  for ((round = 0; round < 50; round++)); do
    pids=$(proc_table | awk 'NR == FNR { leader[$1] = $2; next }
      { sid[$1] = $3; start[$1] = $4; n++; pid[n] = $1 }
      END { for (i = 1; i <= n; i++) { p = pid[i]; s = sid[p]
        if ((s in leader) && (!(s in start) || start[s] == leader[s])) print p } }' "$file" - |
      while read -r p; do if alive "$p"; then echo "$p"; fi; done)
    [[ -n $pids ]] || return 0
    if ((round == 0)); then
      log "killing what the server left running: $(ps -o pid=,args= -p "${pids//$'\n'/,}" 2>/dev/null | tr -s ' ' | paste -sd ';')"
    fi
    # shellcheck disable=SC2086 # one pid a word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  warn "processes of the server's sessions are still running: ${pids//$'\n'/ }"
}

# stop_server NAME [crash]: stop the recorded NAME process (if it still runs) and
# every process it started, and forget it
stop_server() {
  local name=$1 how=${2:-} pid exe sessions watcher
  pid=$(recorded "$name")
  if [[ -n $pid && $pid != "$$" ]] && alive "$pid"; then
    exe=$(executable "$name")
    if ! pid_is "$pid" "$exe"; then
      warn "pid $pid is alive but is not our $name ($(readlink "/proc/$pid/exe" 2>/dev/null)): not touching it"
    else
      # The sessions of the server's tree, recorded until it is gone (it may
      # start children while it shuts down).
      sessions=$(mktemp "$RUN/.sessions.XXXXXX")
      tree_sessions "$pid" >"$sessions"
      (while alive "$pid" && [[ ! -e $sessions.done ]]; do tree_sessions "$pid" >>"$sessions"; sleep 0.2; done) &
      watcher=$!
      if [[ $how == crash ]]; then
        # postgres: SIGQUIT is the "immediate" shutdown (what pg_ctl -m immediate sends)
        if [[ $name == postgres ]]; then stop_pid postgres "$pid" 30 QUIT; else stop_pid "$name" "$pid" 5 KILL; fi
      else
        # postgres: SIGINT is the "fast" shutdown (what pg_ctl -m fast sends)
        if [[ $name == postgres ]]; then stop_pid postgres "$pid" 30 INT; else stop_pid "$name" "$pid" 15; fi
      fi
      touch "$sessions.done" # stop_pid gives up on a process that survives SIGKILL
      wait "$watcher" || true
      sort -u -o "$sessions" "$sessions"
      kill_sessions "$sessions"
      rm -f "$sessions" "$sessions.done"
    fi
  fi
  forget "$name"
}

# pg_settings_options: the -c options of VX_PG_SETTINGS_FILE, quoted for pg_ctl -o
# (which hands them to a shell)
pg_settings_options() {
  local line n=0
  [[ -n $PG_SETTINGS_FILE ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    [[ $line =~ ^[a-z_][a-z0-9_.]*= ]] || die "VX_PG_SETTINGS_FILE=$PG_SETTINGS_FILE line $n: '$line' is not name=value (a PostgreSQL setting)"
    printf ' -c %s' "$(shq "$line")"
  done <"$PG_SETTINGS_FILE"
}

# pg_server_env: the NAME=value lines of VX_PG_ENV_FILE, checked, one a line
pg_server_env() {
  local line n=0
  [[ -n $PG_ENV_FILE ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    [[ -z $line ]] && continue
    [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "VX_PG_ENV_FILE=$PG_ENV_FILE line $n: not NAME=value"
    echo "$line"
  done <"$PG_ENV_FILE"
}

# initdb_cluster DIR: a new cluster in DIR/data whose superuser is PG_SUPERUSER; with
# PG_PASSWORD_FILE every connection authenticates with that password, otherwise trust
initdb_cluster() {
  local dir=$1 auth=(-A trust) pwfile
  if [[ -n $PG_PASSWORD_FILE ]]; then
    [[ -s $PG_PASSWORD_FILE ]] || die "VX_PG_PASSWORD_FILE=$PG_PASSWORD_FILE: no such file, or empty (allowed: a file whose first line is the password)"
    # initdb runs as postgres, which may not read the caller's file: a copy it owns,
    # removed as soon as initdb has read it.
    pwfile=$dir/initdb-pwfile
    install -m 0600 "$PG_PASSWORD_FILE" "$pwfile"
    ((AS_ROOT)) && chown postgres:postgres "$pwfile"
    auth=(-A scram-sha-256 --pwfile "$pwfile")
  fi
  as_pg "$PGBIN/initdb" -D "$dir/data" -U "$PG_SUPERUSER" "${auth[@]}" -E UTF8 --no-locale --no-sync
  local rc=$?
  [[ -z ${pwfile:-} ]] || rm -f "$pwfile"
  return $rc
}

start_postgres() {
  local dir t0 pid settings server_env=()
  settings=$(pg_settings_options)
  pg_server_env >/dev/null # a bad line fails here (mapfile would not)
  mapfile -t server_env < <(pg_server_env)
  dir=$(pg_dir)
  if [[ $FRESH == 1 ]]; then rm -rf "$dir"; fi
  if ((AS_ROOT)) && [[ $dir == /var/tmp/vxplatform/* ]]; then
    install -d -m 0755 -o root -g root /var/tmp/vxplatform
  fi
  mkdir -p "$dir"
  echo "$dir" >"$RUN/pg-dir" # for 'destroy', whatever VX_PG_PORT it is given
  ((AS_ROOT)) && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    t0=$(now_ms)
    initdb_cluster "$dir" >"$RUN/initdb.log" 2>&1 \
      || { tail -n 20 "$RUN/initdb.log" >&2; die "initdb failed (log: $RUN/initdb.log)"; }
    log "initdb took $(elapsed "$t0")s"
  fi
  rm -f "$dir/data/postmaster.pid" # only ours, and it is not running (checked by the caller)
  t0=$(now_ms)
  as_pg env "${server_env[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$TIMEOUT" -s \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off$settings" \
    start >&2 {LOCK_FD}>&- || { tail -n 20 "$dir/server.log" >&2; die "postgres did not start (log: $dir/server.log)"; }
  pid=$(head -1 "$dir/data/postmaster.pid")
  echo "postgres $pid" >>"$PIDS"
  wait_until postgres "$TIMEOUT" "$pid" pg_ready || die "postgres not ready (log: $dir/server.log)"
  log "postgres $PG_VERSION ready in $(elapsed "$t0")s (pid $pid, 127.0.0.1:$PG_PORT, data $dir/data)"
}

# ensure_ca: the instance's CA (a new one unless it exists)
ensure_ca() {
  local dir
  dir=$(tls_dir)
  [[ -f $dir/ca.crt && -f $dir/ca.key ]] && return 0
  if ((AS_ROOT)) && [[ $dir == /var/tmp/vxplatform/* ]]; then
    install -d -m 0755 -o root -g root /var/tmp/vxplatform
  fi
  mkdir -p "$dir"
  chmod 755 "$dir"
  echo "$dir" >"$RUN/tls-dir" # for 'destroy'
  openssl_quiet req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vxplatform-test-ca" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt"
  chmod 600 "$dir/ca.key"
  chmod 644 "$dir/ca.crt"
}

openssl_quiet() {
  local out
  out=$(openssl "$@" 2>&1) || { printf '%s\n' "$out" >&2; die "openssl $1 failed"; }
}

# issue_cert NAME CN SAN: NAME.crt and NAME.key in the TLS directory, signed by the CA,
# owned by the postgres user when we are root (pgBackRest runs as postgres)
issue_cert() {
  local name=$1 cn=$2 san=$3 dir
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ && $name != ca ]] || die "certificate name '$name': letters, digits, '_', '.', '-' (not 'ca')"
  [[ -n $cn ]] || die "certificate $name: an empty CN"
  [[ $san =~ ^(DNS|IP):[^,]+(,(DNS|IP):[^,]+)*$ ]] || die "certificate $name: SAN '$san' is not like DNS:localhost,IP:127.0.0.1"
  ensure_ca
  dir=$(tls_dir)
  openssl_quiet req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$dir/$name.key" -out "$dir/$name.csr"
  openssl_quiet x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile <(echo "subjectAltName=$san") -out "$dir/$name.crt"
  rm -f "$dir/$name.csr"
  chmod 600 "$dir/$name.key"
  chmod 644 "$dir/$name.crt"
  if ((AS_ROOT)) && id postgres >/dev/null 2>&1; then chown postgres:postgres "$dir/$name.key" "$dir/$name.crt"; fi
}

start_minio() {
  local minio mc pid t0 tls=() dir
  minio=$(minio_bin)
  mc=$(mc_bin)
  if [[ -z $minio || -z $mc ]]; then
    log "building minio and mc first (about 10 minutes cold)"
    "$SCRIPTS/tools.sh" minio mc >/dev/null
    minio=$(minio_bin)
    mc=$(mc_bin)
  fi
  if [[ $FRESH == 1 ]]; then rm -rf "$RUN/minio-data" "$RUN/mc"; fi
  mkdir -p "$RUN/minio-data"
  if [[ $MINIO_TLS == 1 ]]; then
    if [[ $FRESH == 1 ]]; then rm -rf "$(tls_dir)" "$RUN/tls-dir"; fi
    ensure_debs openssl:openssl
    dir=$(tls_dir)
    if [[ ! -f $dir/minio/public.crt ]]; then
      issue_cert minio localhost "DNS:localhost,IP:127.0.0.1"
      mkdir -p "$dir/minio"
      mv "$dir/minio.crt" "$dir/minio/public.crt"
      mv "$dir/minio.key" "$dir/minio/private.key"
    fi
    mkdir -p "$RUN/mc/certs/CAs"
    cp "$dir/ca.crt" "$RUN/mc/certs/CAs/vxplatform-test-ca.crt"
    tls=(--certs-dir "$dir/minio")
  fi
  t0=$(now_ms)
  pid=$(MINIO_ROOT_USER=$ROOT_USER MINIO_ROOT_PASSWORD=$ROOT_PASSWORD \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
    spawn_server "$RUN" minio "$RUN/minio.log" "$minio" server --quiet --anonymous "${tls[@]}" \
    --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
    "$RUN/minio-data")
  echo "minio $pid" >>"$PIDS"
  if ! wait_until minio "$TIMEOUT" "$pid" minio_ready; then
    tail -n 20 "$RUN/minio.log" >&2
    die "minio not ready (log: $RUN/minio.log)"
  fi
  log "minio ready in $(elapsed "$t0")s (pid $pid, $(minio_scheme)://$(minio_host):$MINIO_PORT)"
  MC_CONFIG_DIR=$RUN/mc "$mc" alias set "$MC_ALIAS" "$(minio_scheme)://$(minio_host):$MINIO_PORT" "$ROOT_USER" "$ROOT_PASSWORD" >/dev/null \
    || die "mc alias set failed"
  log "mc alias '$MC_ALIAS' set (MC_CONFIG_DIR=$RUN/mc)"
}

# proc_started PID: the process's start time (clock ticks since boot), which tells it
# apart from a later process that got the same pid
proc_started() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  awk '{ print $20 }' <<<"$stat"
}

# start_guard OWNER_PID: a process of its own session that runs 'destroy' when
# OWNER_PID ends (the owner's cleanup may never run: a killed or timed-out test)
start_guard() {
  local owner=$1 since pid
  if ! [[ $owner =~ ^[0-9]+$ ]] || ! since=$(proc_started "$owner"); then
    die "VX_TS_OWNER_PID=$owner is not a running process"
  fi
  if server_running guard; then return 0; fi
  stop_server guard
  pid=$(spawn_server "$RUN" guard "$RUN/guard.log" "$BASH" "$SCRIPTS/test-servers.sh" guard "$owner" "$since")
  echo "guard $pid" >>"$PIDS"
  log "guard started (pid $pid): destroys this instance when process $owner ends"
}

# cmd_guard OWNER_PID STARTED: wait for the owner to end, then destroy the instance
cmd_guard() {
  local owner=$1 since=$2
  while [[ $(proc_started "$owner") == "$since" ]]; do sleep 1; done
  log "process $owner ended: destroying the instance in $RUN"
  exec "$BASH" "$SCRIPTS/test-servers.sh" destroy
}

# stop_starting_on_failure: the EXIT trap of 'start': a failed start leaves nothing running
# shellcheck disable=SC2317 # invoked by the trap
stop_starting_on_failure() {
  local rc=$? name
  ((rc != 0)) || return 0
  log "start failed: stopping what was started"
  for name in "${STARTING[@]}"; do stop_server "$name"; done
}

cmd_start() {
  local name wanted=("$@")
  ((${#wanted[@]})) || wanted=("${SERVERS[@]}")
  for name in "${wanted[@]}"; do
    [[ $name == postgres || $name == minio ]] || die "unknown server '$name' (known: ${SERVERS[*]})"
  done
  mkdir -p "$RUN"
  take_lock
  ensure_debs curl:curl
  local ports=()
  STARTING=()
  for name in "${wanted[@]}"; do
    if server_running "$name"; then
      log "$name already running"
      continue
    fi
    if [[ -n $(recorded "$name") ]]; then
      log "found $name of an earlier run that is not healthy: stopping what is left of it"
      stop_server "$name"
    fi
    STARTING+=("$name")
  done
  if [[ " ${STARTING[*]} " == *" postgres "* ]]; then
    ensure_debs "$PGBIN/initdb:postgresql-$PG_VERSION" "$PGBIN/psql:postgresql-client-$PG_VERSION"
    ((AS_ROOT == 0)) || id postgres >/dev/null 2>&1 || die "no 'postgres' user (it comes with the postgresql-common package)"
    ports+=(postgres="$PG_PORT")
  fi
  if [[ " ${STARTING[*]} " == *" minio "* ]]; then
    ports+=(minio="$MINIO_PORT" minio-console="$MINIO_CONSOLE_PORT")
  fi
  ((${#ports[@]} == 0)) || require_free_ports "${ports[@]}"
  trap stop_starting_on_failure EXIT
  if [[ -n ${VX_TS_OWNER_PID:-} ]]; then start_guard "$VX_TS_OWNER_PID"; fi
  for name in "${STARTING[@]}"; do
    case $name in
      postgres) start_postgres ;;
      minio) start_minio ;;
    esac
  done
  trap - EXIT
  print_env
}

cmd_stop() {
  local how='' name wanted=()
  for name in "$@"; do
    case $name in
      --crash) how=crash ;;
      postgres | minio) wanted+=("$name") ;;
      *) die "unknown server '$name' (known: ${SERVERS[*]})" ;;
    esac
  done
  mkdir -p "$RUN"
  take_lock
  if [[ ! -f $PIDS ]]; then log "not running (no $PIDS)"; return 0; fi
  # postgres first: a server that archives WAL to this MinIO archives the rest at
  # a clean shutdown, which waits for the archive
  if ((${#wanted[@]} == 0)); then wanted=(postgres minio guard); fi
  for name in "${wanted[@]}"; do stop_server "$name" "$how"; done
  log "stopped ${wanted[*]}"
}

cmd_destroy() {
  local pgdir tlsdir
  mkdir -p "$RUN"
  take_lock
  for name in postgres minio guard; do stop_server "$name"; done # postgres first: see cmd_stop
  pgdir=$(cat "$RUN/pg-dir" 2>/dev/null || pg_dir)
  tlsdir=$(tls_dir)
  rm -rf "$pgdir" "$tlsdir" "$RUN/minio-data" "$RUN/mc" "$RUN/pg" "$RUN/tls" "$RUN"/*.log "$RUN/pg-dir" "$RUN/tls-dir" "$RUN/pg-settings" "$RUN/pg-env" "$PIDS" "$RUN/.cmd.lock"
  rmdir "$RUN" 2>/dev/null || warn "$RUN holds files this script did not make: left in place"
  if [[ $pgdir == /var/tmp/vxplatform/* || $tlsdir == /var/tmp/vxplatform/* ]]; then rmdir /var/tmp/vxplatform 2>/dev/null || true; fi
  log "destroyed the instance in $RUN"
}

cmd_status() {
  local name rc=0 where
  if [[ -z $(instance_servers) ]]; then echo "not running (nothing recorded in $RUN)"; return 1; fi
  for name in $(instance_servers); do
    where=127.0.0.1:$PG_PORT
    [[ $name == minio ]] && where=$(minio_scheme)://$(minio_host):$MINIO_PORT
    if server_running "$name"; then printf '%-9s pid %s ready %s\n' "$name" "$(recorded "$name")" "$where"
    else printf '%-9s NOT running\n' "$name"; rc=1; fi
  done
  return $rc
}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

cmd=${1:-}
shift || true
case $cmd in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  destroy) cmd_destroy ;;
  status) cmd_status ;;
  env) if running; then print_env; else die "not running: run '$0 start'"; fi ;;
  cert)
    (($# == 3)) || die "usage: $0 cert NAME CN SAN"
    mkdir -p "$RUN"
    take_lock
    issue_cert "$@"
    printf 'export TLS_CERT_FILE=%s\nexport TLS_KEY_FILE=%s\n' "$(shq "$(tls_dir)/$1.crt")" "$(shq "$(tls_dir)/$1.key")"
    ;;
  guard) cmd_guard "$@" ;; # internal: started by 'start' with VX_TS_OWNER_PID
  help | -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
exit
