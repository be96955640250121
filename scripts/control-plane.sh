#!/usr/bin/env bash
# control-plane.sh - a real, local-only Kubernetes control plane for tests: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes, so pods
# are scheduled and report Ready and Deployments become Available). No kubelet, no
# container runtime, no network plugin. Everything listens on 127.0.0.1 only.
#
# Usage:
#   scripts/control-plane.sh start        start (building the binaries first if needed,
#                                         see scripts/tools.sh), wait until ready, print
#                                         the kubeconfig path on stdout. A no-op (that
#                                         still prints the path) when already healthy.
#   scripts/control-plane.sh stop         stop exactly the processes 'start' recorded
#   scripts/control-plane.sh status       per-process state and /readyz; exit 0 iff healthy
#   scripts/control-plane.sh kubeconfig   print the kubeconfig path (exit 1 if not running)
#   scripts/control-plane.sh env          eval-able: export KUBECONFIG=...
#   scripts/control-plane.sh check        validate the variables against the plane that
#                                         runs from VX_RUN, start and stop nothing; print
#                                         state=running|unhealthy|stopped, run=,
#                                         kubeconfig=, fresh= (VX_CP_FRESH)
#   scripts/control-plane.sh pv [N]       make sure N (default VX_PV_COUNT) hostPath
#                                         PersistentVolumes exist (Released ones are made
#                                         Available again by the Go code that deletes
#                                         claims: internal/localenv RecycleVolumes)
#   Typical:  export KUBECONFIG=$(scripts/control-plane.sh start)
#
# 'start' records the ports and settings it starts with in $VX_RUN/plane.env ('stop'
# removes it). While that plane runs, every command uses the recorded ports: a port
# variable set to another value is refused (exit 2) before anything is stopped or
# started, so a healthy plane is never torn down for a mismatch; so is an invalid
# value of any variable below.
#
# There is no storage provisioner: 'start' creates VX_PV_COUNT hostPath PVs (class
# VX_PV_STORAGE_CLASS, ReadWriteOnce, reclaim policy Retain) and that StorageClass
# (no-provisioner, Immediate binding, the default class unless VX_PV_DEFAULT_CLASS=0),
# so PVCs (StatefulSet volumeClaimTemplates) bind. Their data is not real: no kubelet.
#
# Environment (defaults in brackets):
#   VX_CACHE [$HOME/.cache/vxplatform]    tool cache (see scripts/tools.sh)
#   VX_RUN [$VX_CACHE/run/control-plane]  state: pki, etcd data, logs, pids, kubeconfig
#   VX_ETCD_PORT [23790] VX_ETCD_PEER_PORT [23800] VX_APISERVER_PORT [16443]
#   VX_KCM_PORT [16257] VX_SCHEDULER_PORT [16259] VX_KWOK_PORT [16247]
#   VX_KWOK_NODES [2]         fake nodes (32 CPU, 256Gi, 110 pods each)
#   VX_PV_COUNT [20] VX_PV_SIZE [10Gi] VX_PV_STORAGE_CLASS [local] VX_PV_DEFAULT_CLASS [1]
#   VX_CP_FRESH [1]           1: a cold start wipes etcd data (certificates are kept)
#   VX_CP_TIMEOUT [120]       seconds to wait for each component
set -euo pipefail

_VX_NAME=control-plane
SCRIPTS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$SCRIPTS/lib/common.sh"

RUN=${VX_RUN:-$VX_CACHE/run/control-plane}
PKI=$RUN/pki
LOGS=$RUN/logs
PIDS=$RUN/pids
KUBECONFIG_FILE=$RUN/kubeconfig

PLANE_RECORD=$RUN/plane.env

# Each port: shell variable, the environment variable that sets it, default.
PORTS=(ETCD_PORT:VX_ETCD_PORT:23790 ETCD_PEER_PORT:VX_ETCD_PEER_PORT:23800
  APISERVER_PORT:VX_APISERVER_PORT:16443 KCM_PORT:VX_KCM_PORT:16257
  SCHEDULER_PORT:VX_SCHEDULER_PORT:16259 KWOK_PORT:VX_KWOK_PORT:16247)
KWOK_NODES=${VX_KWOK_NODES:-2}
PV_COUNT=${VX_PV_COUNT:-20}
PV_SIZE=${VX_PV_SIZE:-10Gi}
PV_CLASS=${VX_PV_STORAGE_CLASS:-local}
PV_DEFAULT_CLASS=${VX_PV_DEFAULT_CLASS:-1}
FRESH=${VX_CP_FRESH:-1}
TIMEOUT=${VX_CP_TIMEOUT:-120}

SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# ------------------------------------------------------------ settings ----
# bad_setting MESSAGE: a variable the user set is wrong; nothing was touched.
bad_setting() { log "ERROR: $*"; exit 2; }

# need_number VAR VALUE MIN WHAT
need_number() {
  if ! [[ $2 =~ ^[0-9]{1,6}$ ]] || ((10#$2 < $3)); then bad_setting "$1='$2' is not $4"; fi
}

# settings: validate every variable, then take the ports of the plane that runs from
# $RUN (adopt_recorded_ports). Exits 2, naming the variable, on anything wrong.
settings() {
  local spec var val
  for spec in "${PORTS[@]}"; do
    IFS=: read -r _ var val <<<"$spec"
    val=${!var:-$val}
    if ! [[ $val =~ ^[0-9]{1,5}$ ]] || ((10#$val < 1 || 10#$val > 65535)); then
      bad_setting "$var='$val' is not a port (allowed: 1-65535)"
    fi
    printf -v "${spec%%:*}" '%d' "$((10#$val))"
  done
  need_number VX_KWOK_NODES "$KWOK_NODES" 1 "a number of nodes (allowed: 1 or more)"
  need_number VX_PV_COUNT "$PV_COUNT" 0 "a number of volumes (allowed: 0 or more)"
  need_number VX_CP_TIMEOUT "$TIMEOUT" 1 "a number of seconds (allowed: 1 or more)"
  [[ $PV_SIZE =~ ^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$ ]] \
    || bad_setting "VX_PV_SIZE='$PV_SIZE' is not a Kubernetes quantity (allowed: e.g. 10Gi, 64Gi, 512Mi)"
  [[ $PV_DEFAULT_CLASS == [01] ]] || bad_setting "VX_PV_DEFAULT_CLASS='$PV_DEFAULT_CLASS' (allowed: 0 or 1)"
  [[ $FRESH == [01] ]] || bad_setting "VX_CP_FRESH='$FRESH' (allowed: 0 or 1)"
  adopt_recorded_ports
  local -A owner=()
  for spec in "${PORTS[@]}"; do
    IFS=: read -r short var _ <<<"$spec"
    val=${!short}
    [[ -z ${owner[$val]:-} ]] || bad_setting "$var and ${owner[$val]} are both $val (each component needs a port of its own)"
    owner[$val]=$var
  done
}

# recorded_setting VAR: the value the plane in $RUN was started with ("" if none).
recorded_setting() {
  if [[ -f $PLANE_RECORD ]]; then sed -n "s/^$1=//p" "$PLANE_RECORD" | tail -1; fi
}

# plane_live: a process that the last start recorded still exists. Looser than
# 'healthy' on purpose (no check of what the pid runs): it only ever makes a command
# refuse, never stop anything.
plane_live() {
  local _name pid
  [[ -f $PIDS ]] || return 1
  while read -r _name pid; do
    if alive "$pid"; then return 0; fi
  done <"$PIDS"
  return 1
}

# adopt_recorded_ports: while a recorded plane lives, use its ports; refuse a port
# variable set to another value (using it would find the plane unhealthy, and 'start'
# would then stop it to start another).
adopt_recorded_ports() {
  [[ -f $PLANE_RECORD ]] && plane_live || return 0
  local spec short var rec wrong=()
  for spec in "${PORTS[@]}"; do
    IFS=: read -r short var _ <<<"$spec"
    rec=$(recorded_setting "$var")
    [[ -n $rec ]] || continue
    if [[ -n ${!var:-} && $((10#${!var})) != "$rec" ]]; then wrong+=("$var=${!var} (the plane uses $rec)"); fi
    printf -v "$short" '%s' "$rec"
  done
  ((${#wrong[@]} == 0)) && return 0
  bad_setting "the control plane running from $RUN was started with other ports: ${wrong[*]}." \
    "Unset those variables or set them to the recorded values ($PLANE_RECORD), or stop that plane first (VX_RUN=$RUN $0 stop)."
}

# record_plane: what 'start' starts with, for later commands (adopt_recorded_ports)
# and for people (status).
record_plane() {
  local spec short var
  {
    echo "# written by scripts/control-plane.sh start at $(date -u +%Y-%m-%dT%H:%M:%SZ); removed by stop"
    for spec in "${PORTS[@]}"; do
      IFS=: read -r short var _ <<<"$spec"
      echo "$var=${!short}"
    done
    echo "VX_KWOK_NODES=$KWOK_NODES"
    echo "VX_PV_COUNT=$PV_COUNT"
    echo "VX_PV_SIZE=$PV_SIZE"
    echo "VX_PV_STORAGE_CLASS=$PV_CLASS"
  } >"$PLANE_RECORD.tmp"
  mv -f "$PLANE_RECORD.tmp" "$PLANE_RECORD"
}
# ------------------------------------------------------------ helpers ----
# api METHOD PATH [JSON]: call the API server as the admin user; prints the body
api() {
  local args=(-sS --fail-with-body --max-time 20 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key"
    -X "$1" "https://127.0.0.1:$APISERVER_PORT$2")
  if (($# > 2)); then args+=(-H "Content-Type: ${4:-application/json}" --data-binary "$3"); fi
  curl "${args[@]}"
}
api_ok() { api GET "$1" >/dev/null 2>&1; }

# recorded NAME: pid recorded for NAME (empty if none)
recorded() { if [[ -f $PIDS ]]; then awk -v n="$1" '$1 == n { print $2 }' "$PIDS" | tail -1; fi; }

# healthy: every component we recorded runs and the API server is ready
healthy() {
  local c pid
  [[ -f $PIDS && -f $KUBECONFIG_FILE ]] || return 1
  for c in "${COMPONENTS[@]}"; do
    pid=$(recorded "$c")
    [[ -n $pid ]] && pid_is "$pid" "$BIN/$c" || return 1
  done
  api_ok /readyz
}

bin_dir() { # BIN without building; empty if not built
  "$SCRIPTS/tools.sh" path control-plane 2>/dev/null || true
}

# ------------------------------------------------------------------ pki ----
make_pki() {
  ensure_debs openssl:openssl
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [[ -f $PKI/ca.crt && -f $PKI/apiserver.crt && -f $PKI/admin.crt && -f $PKI/sa.pub ]]; then return 0; fi
  log "creating certificates and service-account keys in $PKI"
  rm -f "$PKI"/*
  (
    cd "$PKI"
    umask 077
    openssl genrsa -out ca.key 2048 2>/dev/null
    openssl req -x509 -new -key ca.key -subj "/CN=vxplatform-local-ca" -days 3650 -out ca.crt \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
    sign() { # NAME SUBJECT EXTENSIONS
      openssl genrsa -out "$1.key" 2048 2>/dev/null
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    sign admin "/O=system:masters/CN=vxplatform-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() {
  local tmp=$KUBECONFIG_FILE.tmp
  (
    umask 077
    cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: vx-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: vx-admin
  user:
    client-certificate-data: $(base64 -w0 "$PKI/admin.crt")
    client-key-data: $(base64 -w0 "$PKI/admin.key")
contexts:
- name: vx-local
  context:
    cluster: vx-local
    user: vx-admin
current-context: vx-local
EOF
  )
  mv -f "$tmp" "$KUBECONFIG_FILE"
}

# -------------------------------------------------------------- process ----
# spawn NAME ARGS...: start $BIN/NAME detached (see spawn_server) and record its pid
spawn() {
  local name=$1 pid; shift
  pid=$(spawn_server "$RUN" "$name" "$LOGS/$name.log" "$BIN/$name" "$@")
  echo "$name $pid" >>"$PIDS"
  log "started $name (pid $pid), log $LOGS/$name.log"
}

# wait_component NAME[:WHAT] TIMEOUT COMMAND...: wait for WHAT while NAME's process lives
wait_component() {
  local name=${1%%:*} what=${1#*:} to=$2 pid; shift 2
  pid=$(recorded "$name")
  if ! wait_until "$what" "$to" "${pid:--}" "$@"; then
    log "last lines of $LOGS/$name.log:"
    tail -n 15 "$LOGS/$name.log" >&2 || true
    return 1
  fi
}

stop_recorded() {
  local name pid bin
  [[ -f $PIDS ]] || return 0
  bin=$(bin_dir)
  # reverse start order: kwok, scheduler, controller-manager, apiserver, etcd
  while read -r name pid; do
    [[ -n $pid ]] || continue
    if ! alive "$pid"; then continue; fi
    # Without the binaries nothing proves the pid is ours: never signal it then.
    if [[ -z $bin ]] || ! pid_is "$pid" "$bin/$name"; then
      warn "pid $pid is alive but is not our $name ($(readlink "/proc/$pid/exe" 2>/dev/null)): not touching it"
      continue
    fi
    stop_pid "$name" "$pid" 15
  done < <(tac "$PIDS")
  rm -f "$PIDS" "$PLANE_RECORD"
}

# ------------------------------------------------------------- objects ----
add_node() {
  local n=$1
  api_ok "/api/v1/nodes/$n" && return 0
  api POST /api/v1/nodes "$(
    cat <<EOF
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$n",
 "annotations":{"node.alpha.kubernetes.io/ttl":"0","kwok.x-k8s.io/node":"fake"},
 "labels":{"beta.kubernetes.io/arch":"amd64","beta.kubernetes.io/os":"linux","kubernetes.io/arch":"amd64",
  "kubernetes.io/hostname":"$n","kubernetes.io/os":"linux","kubernetes.io/role":"agent",
  "node-role.kubernetes.io/agent":"","type":"kwok"}},
 "spec":{},
 "status":{"allocatable":{"cpu":"32","memory":"256Gi","pods":"110","ephemeral-storage":"500Gi"},
  "capacity":{"cpu":"32","memory":"256Gi","pods":"110","ephemeral-storage":"500Gi"},
  "nodeInfo":{"architecture":"amd64","kubeProxyVersion":"fake","kubeletVersion":"fake","operatingSystem":"linux"},
  "phase":"Running"}}
EOF
  )" >/dev/null
}

# shellcheck disable=SC2317 # called indirectly, through wait_component
node_ready() {
  api GET "/api/v1/nodes/$1" | jq -e '.status.conditions[]? | select(.type == "Ready" and .status == "True")' >/dev/null
}

ensure_storage_class() {
  local default=false
  [[ $PV_DEFAULT_CLASS == 1 ]] && default=true
  api_ok "/apis/storage.k8s.io/v1/storageclasses/$PV_CLASS" && return 0
  api POST /apis/storage.k8s.io/v1/storageclasses "$(
    cat <<EOF
{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass",
 "metadata":{"name":"$PV_CLASS","annotations":{"storageclass.kubernetes.io/is-default-class":"$default"}},
 "provisioner":"kubernetes.io/no-provisioner","reclaimPolicy":"Retain","volumeBindingMode":"Immediate"}
EOF
  )" >/dev/null
  log "created StorageClass $PV_CLASS (default: $default)"
}

# ensure_pvs N: PVs vx-pv-000 .. N-1 exist. Released ones stay Released: whoever
# deletes claims makes them Available again (internal/localenv RecycleVolumes).
ensure_pvs() {
  local n=$1 i name created=0 existing
  ensure_storage_class
  existing=$(api GET "/api/v1/persistentvolumes?labelSelector=vxplatform.local%2Fpv%3Dtrue" \
    | jq -r '.items[].metadata.name')
  local curl_args=()
  for ((i = 0; i < n; i++)); do
    printf -v name 'vx-pv-%03d' "$i"
    if grep -qx "$name" <<<"$existing"; then continue; fi
    mkdir -p "$RUN/pv/$name"
    ((${#curl_args[@]} == 0)) || curl_args+=(--next)
    curl_args+=(-sS --fail-with-body -o /dev/null --max-time 20 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt"
      --key "$PKI/admin.key" -H "Content-Type: application/json" -X POST
      "https://127.0.0.1:$APISERVER_PORT/api/v1/persistentvolumes" --data-binary "$(
        cat <<EOF
{"apiVersion":"v1","kind":"PersistentVolume",
 "metadata":{"name":"$name","labels":{"vxplatform.local/pv":"true"}},
 "spec":{"capacity":{"storage":"$PV_SIZE"},"accessModes":["ReadWriteOnce"],
  "persistentVolumeReclaimPolicy":"Retain","storageClassName":"$PV_CLASS","volumeMode":"Filesystem",
  "hostPath":{"path":"$RUN/pv/$name","type":"DirectoryOrCreate"}}}
EOF
      )")
    created=$((created + 1))
  done
  # one curl process for all of them: one TLS connection instead of one per volume
  if ((created)); then curl "${curl_args[@]}" || die "creating PersistentVolumes failed"; fi
  log "PersistentVolumes: $created created, $((n - created)) already there ($n x $PV_SIZE, class $PV_CLASS)"
}

# ------------------------------------------------------------ commands ----
cmd_start() {
  mkdir -p "$RUN"
  take_lock
  BIN=$(bin_dir)
  if [[ -n $BIN ]] && healthy; then
    log "already running and healthy"
    echo "$KUBECONFIG_FILE"
    return 0
  fi
  if [[ -f $PIDS ]]; then
    log "found state of an earlier run that is not healthy: stopping what is left of it"
    stop_recorded
  fi
  ensure_debs curl:curl openssl:openssl jq:jq base64:coreutils
  if [[ -z $BIN ]]; then
    log "control-plane binaries not built yet: building them now (about 10 minutes cold)"
    BIN=$("$SCRIPTS/tools.sh" control-plane)
  fi
  require_free_ports etcd="$ETCD_PORT" etcd-peer="$ETCD_PEER_PORT" kube-apiserver="$APISERVER_PORT" \
    kube-controller-manager="$KCM_PORT" kube-scheduler="$SCHEDULER_PORT" kwok="$KWOK_PORT"

  local t0
  t0=$(now_ms)
  if [[ $FRESH == 1 ]]; then rm -rf "$RUN/etcd" "$RUN/pv"; fi
  rm -rf "$LOGS"
  mkdir -p "$LOGS"
  make_pki
  trap 'rc=$?; if ((rc != 0)); then log "start failed: stopping what was started"; stop_recorded; fi' EXIT
  record_plane

  spawn etcd --name vx-local --data-dir "$RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "vx-local=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) --log-level=warn
  wait_component etcd "$TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

  # --endpoint-reconciler-type=none: 1.37 refuses a loopback advertise address otherwise
  spawn kube-apiserver \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --endpoint-reconciler-type=none \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --allow-privileged=true --profiling=false --v=1
  wait_component kube-apiserver "$TIMEOUT" api_ok /readyz
  write_kubeconfig

  spawn kube-controller-manager \
    --kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=true --controllers='*' --profiling=false --v=1
  spawn kube-scheduler \
    --kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false --v=1
  ensure_pvs "$PV_COUNT" # needs only the API server: overlaps with the controllers' start
  wait_component kube-controller-manager "$TIMEOUT" curl -sfk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
  wait_component kube-scheduler "$TIMEOUT" curl -sfk --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"

  spawn kwok --kubeconfig="$KUBECONFIG_FILE" --config="$BIN/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=10.0.0.1/24 --node-ip=127.0.0.1 --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:$KWOK_PORT"
  wait_component kwok "$TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz"
  local i
  for ((i = 0; i < KWOK_NODES; i++)); do
    add_node "kwok-node-$i"
    wait_component "kwok:node kwok-node-$i" "$TIMEOUT" node_ready "kwok-node-$i"
  done
  # pods are refused until the namespace has its default service account
  wait_component "kube-controller-manager:default service account" "$TIMEOUT" \
    api_ok /api/v1/namespaces/default/serviceaccounts/default
  trap - EXIT
  log "control plane ready in $(elapsed "$t0")s: export KUBECONFIG=$KUBECONFIG_FILE"
  echo "$KUBECONFIG_FILE"
}

cmd_stop() {
  mkdir -p "$RUN"
  take_lock
  if [[ ! -f $PIDS ]]; then log "not running (no $PIDS)"; return 0; fi
  stop_recorded
  log "stopped"
}

cmd_status() {
  local c pid ok=0
  BIN=$(bin_dir)
  if [[ ! -f $PIDS ]]; then echo "not running"; return 1; fi
  for c in "${COMPONENTS[@]}"; do
    pid=$(recorded "$c")
    if [[ -n $pid && -n $BIN ]] && pid_is "$pid" "$BIN/$c"; then
      printf '%-24s pid %-8s running  rss %s\n' "$c" "$pid" "$(awk '/VmRSS/ {print $2 $3}' "/proc/$pid/status")"
    else
      printf '%-24s pid %-8s NOT running\n' "$c" "${pid:--}"; ok=1
    fi
  done
  if [[ -f $KUBECONFIG_FILE ]] && api_ok /readyz; then echo "kube-apiserver /readyz   ok (https://127.0.0.1:$APISERVER_PORT)"
  else echo "kube-apiserver /readyz   FAILING"; ok=1; fi
  echo "kubeconfig               $KUBECONFIG_FILE"
  if [[ -f $PLANE_RECORD ]]; then echo "started with             $(grep -v '^#' "$PLANE_RECORD" | tr '\n' ' ')"; fi
  return $ok
}

# cmd_check: what a caller (cmd/deploy-local) needs before deciding to build, start
# or deploy anything; 'settings' has already refused bad or mismatched variables.
cmd_check() {
  local state=stopped
  BIN=$(bin_dir)
  if [[ -n $BIN ]] && healthy; then state=running
  elif plane_live; then state=unhealthy; fi
  # fresh=1: a start from here begins with an empty etcd (VX_CP_FRESH)
  printf 'state=%s\nrun=%s\nkubeconfig=%s\nfresh=%s\n' "$state" "$RUN" "$KUBECONFIG_FILE" "$FRESH"
}

cmd_kubeconfig() {
  BIN=$(bin_dir)
  [[ -f $KUBECONFIG_FILE && -f $PIDS ]] || die "not running: run '$0 start' first"
  echo "$KUBECONFIG_FILE"
}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

main() {
  case ${1:-} in
    start | status | kubeconfig | env | pv | check) settings ;;
  esac
  case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    check) cmd_check ;;
    kubeconfig) cmd_kubeconfig ;;
    env) cmd_kubeconfig >/dev/null && echo "export KUBECONFIG=$KUBECONFIG_FILE" ;;
    pv)
      local n=${2:-$PV_COUNT}
      [[ $n =~ ^[0-9]+$ ]] || die "usage: $0 pv [N]"
      BIN=$(bin_dir)
      if [[ -z $BIN ]] || ! healthy; then die "not running: run '$0 start' first"; fi
      ensure_pvs "$n"
      ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"; exit
