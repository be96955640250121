#!/usr/bin/env bash
# deploy-local.sh - the main job on a fresh machine: deploy the shared `previews` stack
# and a preview environment `pr-1` with the real program (Pulumi Automation API, real
# Kubernetes provider; random/docker are the stand-ins of e2e/standin, minio the test
# double of e2e/miniotest on a local test MinIO from scripts/test-servers.sh) into a
# local Kubernetes control plane on 127.0.0.1, then print the stack outputs, what is
# running, how to reach it and how to destroy and stop it.
#
# Usage:
#   scripts/deploy-local.sh                        build what is missing, start, deploy previews + pr-1
#   scripts/deploy-local.sh -stacks previews,pr-7  other stacks (-h lists the flags)
#   scripts/deploy-local.sh -destroy               destroy them again (the control plane stays up)
#   scripts/control-plane.sh stop                  stop the control plane (by its pids)
#
# This script only compiles the job (cmd/deploy-local) and runs it. The job checks its
# flags, the stacks and the control plane's variables first, and builds the tools
# (scripts/tools.sh: roughly 40 minutes on a cold machine, cached in
# ${VX_CACHE:-~/.cache/vxplatform}) and starts the plane only when those checks pass.
#
# Environment: VX_CACHE (tool cache), VX_BIN (project binaries, default bin/), and the
# control plane's variables (scripts/control-plane.sh help): VX_RUN is also where the
# job keeps its Pulumi state (VX_RUN/deploy-local).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
_VX_NAME=deploy-local
# shellcheck source=SCRIPTDIR/lib/common.sh
source scripts/lib/common.sh

# VX_BIN is relative to the clone, as scripts/build-policy-pack.sh takes it.
bin=$(readlink -m "${VX_BIN:-bin}")
export VX_BIN=$bin
mkdir -p "$bin"
go build -o "$bin/deploy-local" ./cmd/deploy-local &
build=$!
# Quick with a warm Go build cache; a cold one takes a minute or more: say so then.
for _ in {1..30}; do alive "$build" && sleep 0.1; done
if alive "$build"; then log "compiling the job (cmd/deploy-local; a first build takes a minute or two)"; fi
wait "$build"
exec "$bin/deploy-local" "$@"
