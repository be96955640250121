# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; do not execute it.
#
# Everything built or run by these scripts lives OUTSIDE the clone, in
#   VX_CACHE (default: $HOME/.cache/vxplatform)
# so that several clones (and CI) share one set of pinned tool builds.

VX_CACHE=${VX_CACHE:-${HOME:?HOME is not set}/.cache/vxplatform}
export VX_CACHE

# _VX_NAME is the short name of the calling script, used as the log prefix.
_VX_NAME=${_VX_NAME:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}

log() { printf '[%s %s] %s\n' "$_VX_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
warn() { log "WARNING: $*"; }
die() { log "ERROR: $*"; exit 1; }

now_ms() { date +%s%3N; }
# elapsed START_MS: seconds since START_MS with one decimal
elapsed() { local d=$(( $(now_ms) - $1 )); printf '%d.%01d' $(( d / 1000 )) $(( (d % 1000) / 100 )); }

# ensure_debs CMD:PACKAGE ... : make sure each command exists; install the Debian
# packages that provide the missing ones when running as root, fail clearly otherwise.
ensure_debs() {
  local spec cmd pkg missing=()
  for spec in "$@"; do
    cmd=${spec%%:*}; pkg=${spec#*:}
    if [[ $cmd == /* ]]; then [[ -e $cmd ]] && continue
    else command -v "$cmd" >/dev/null 2>&1 && continue; fi
    missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]} (not root: run 'sudo apt-get install -y ${missing[*]}')"
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get on this machine"
  log "installing Debian packages: ${missing[*]}"
  # A stale or empty package list makes 'install' fail: update once first.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || warn "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

# alive PID: the process exists and is not a zombie. 'kill -0' succeeds on zombies,
# so read the state field of /proc/PID/stat (the field after the ")" of the comm).
alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z && ${stat%% *} != X ]]
}

# pid_is PID EXE_PATH: PID is alive and runs EXE_PATH (guards against pid reuse
# after a reboot or a long time: never signal a process we did not start).
pid_is() {
  local pid=$1 exe=$2 real
  alive "$pid" || return 1
  real=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  real=${real% (deleted)}
  [[ $real == "$(readlink -f "$exe")" ]]
}

# stop_pid NAME PID [TIMEOUT_S [SIGNAL]]: SIGNAL (default TERM), wait, then SIGKILL.
# Only this pid.
stop_pid() {
  local name=$1 pid=$2 to=${3:-10} sig=${4:-TERM} i
  alive "$pid" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < to * 10; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    warn "$name (pid $pid) still running ${to}s after SIG$sig: sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  fi
  log "stopped $name (pid $pid)"
}

# port_busy PORT: something listens on 127.0.0.1:PORT (or on the wildcard address).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_owner PORT: best-effort description of who listens on PORT.
port_owner() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -1
}

# require_free_ports NAME=PORT ...: fail clearly if one is taken.
require_free_ports() {
  local spec busy=()
  for spec in "$@"; do
    if port_busy "${spec#*=}"; then busy+=("$spec"); fi
  done
  ((${#busy[@]})) || return 0
  for spec in "${busy[@]}"; do
    log "port 127.0.0.1:${spec#*=} (${spec%%=*}) is already in use: $(port_owner "${spec#*=}")"
  done
  die "ports in use; stop what holds them or choose other ports (see the env vars in '$0 help')"
}

# wait_until DESCRIPTION TIMEOUT_S PIDFILE_OR_- COMMAND...: poll COMMAND every 0.1 s.
# Fails early when the given pid (if any) dies.
wait_until() {
  local what=$1 to=$2 pid=$3 t0 i; shift 3
  t0=$(now_ms)
  for ((i = 0; i < to * 10; i++)); do
    if "$@" >/dev/null 2>&1; then log "$what ready after $(elapsed "$t0")s"; return 0; fi
    if [[ $pid != - ]] && ! alive "$pid"; then log "$what: process $pid died"; return 1; fi
    sleep 0.1
  done
  log "timed out after ${to}s waiting for $what"
  return 1
}

# take_lock: serialise start/stop of one state dir ($RUN) between concurrent callers.
# The lock is an open fd (LOCK_FD): servers started while holding it must NOT inherit
# it (or the lock would stay held as long as they run): start them with {LOCK_FD}>&-
# (spawn_server does).
LOCK_FD=
take_lock() {
  mkdir -p "$RUN"
  exec {LOCK_FD}>"$RUN/.cmd.lock"
  if ! flock -n "$LOCK_FD"; then
    log "waiting for another $_VX_NAME command on $RUN to finish (lock $RUN/.cmd.lock)"
    flock -w 600 "$LOCK_FD" || die "timed out waiting for the lock $RUN/.cmd.lock"
  fi
}

# spawn_server PIDFILE_DIR NAME LOGFILE CMD...: start CMD in its own session (so the
# caller's Ctrl-C or the end of its shell does not kill it), detached from stdin, with
# the lock fd closed. The process writes its own pid before exec'ing CMD, so the pid
# printed on stdout is exactly the server's.
spawn_server() {
  local dir=$1 name=$2 logfile=$3 pidfile i pid; shift 3
  pidfile=$dir/.$name.pid
  rm -f "$pidfile"
  if [[ -n $LOCK_FD ]]; then
    # shellcheck disable=SC2016 # $$ and $0 are for the inner shell
    nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$logfile" 2>&1 </dev/null {LOCK_FD}>&- &
  else
    # shellcheck disable=SC2016
    nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$logfile" 2>&1 </dev/null &
  fi
  for ((i = 0; i < 50; i++)); do [[ -s $pidfile ]] && break; sleep 0.1; done
  pid=$(cat "$pidfile" 2>/dev/null) || die "$name did not start (log: $logfile)"
  rm -f "$pidfile"
  echo "$pid"
}
