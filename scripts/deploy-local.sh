#!/usr/bin/env bash
# deploy-local.sh - the main job on a fresh machine: build what is missing, start the
# local Kubernetes control plane on 127.0.0.1, deploy the shared `previews` stack and
# a preview environment `pr-1` into it with the real program (Pulumi Automation API,
# real Kubernetes provider; random/minio/docker are the stand-ins of e2e/standin),
# then print the stack outputs and what is running.
#
# Usage:
#   scripts/deploy-local.sh                    build, start, deploy previews + pr-1
#   scripts/deploy-local.sh -stacks previews,pr-7   other preview numbers
#   scripts/deploy-local.sh -destroy           destroy them again (control plane stays up)
#   scripts/control-plane.sh stop              stop the control plane (by its pids)
#
# A cold machine needs roughly 40 minutes for the tool builds (cached in
# ${VX_CACHE:-~/.cache/vxplatform}); later runs take under a minute.
#
# Environment: VX_CACHE (tool cache and state: $VX_CACHE/run/deploy-local), VX_BIN
# (project binaries, default bin/), and the control plane's variables
# (scripts/control-plane.sh help).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
_VX_NAME=deploy-local
# shellcheck source=lib/common.sh
source scripts/lib/common.sh

# VX_BIN is relative to the clone, as scripts/build-policy-pack.sh takes it.
bin=$(readlink -m "${VX_BIN:-bin}")
mkdir -p "$bin"
export VX_BIN=$bin

log "building missing tools (pulumi, kubernetes-provider, control-plane; cached in $VX_CACHE)"
scripts/tools.sh pulumi kubernetes-provider control-plane >/dev/null

log "building the stand-in providers (a test double for random, minio, docker)"
go build -o "$bin/vx-standin" ./e2e/standin
if [[ -x scripts/build-policy-pack.sh ]]; then
  log "building the policy pack"
  scripts/build-policy-pack.sh >/dev/null
fi
go build -o "$bin/deploy-local" ./cmd/deploy-local

log "starting the local control plane (a no-op when it already runs)"
KUBECONFIG=$(scripts/control-plane.sh start)
export KUBECONFIG

"$bin/deploy-local" "$@"
log "done. kubectl-style access: export KUBECONFIG=$KUBECONFIG; stop: scripts/control-plane.sh stop"
