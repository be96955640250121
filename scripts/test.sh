#!/usr/bin/env bash
# test.sh - the project's one test command (CI runs it through .ci/run).
#
# Stages, each fails the run:
#   1. static checks: gofmt, go vet, actionlint on .github/workflows
#   2. unit and mock tests: go test ./... (stacks, components under mocks, policy pack)
#   3. the policy pack binary, built by the project's build step
#   4. integration tests (//go:build integration) against real PostgreSQL and MinIO
#      started on 127.0.0.1 by scripts/test-servers.sh, stopped again by pid
#   5. end-to-end (//go:build e2e): every stack deployed with the real engine and
#      Kubernetes provider on a local control plane, through the policy pack; the
#      minio resources applied to a fresh test MinIO (HTTPS only), the backup jobs run
#
# Environment: VX_CACHE (tool cache outside the clone, default ~/.cache/vxplatform).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

step() { printf '\n=== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...
go vet -tags integration ./...

step "GitHub workflows (actionlint)"
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 -color=false

step "unit and mock tests"
go test -count=1 ./...

if [ -x scripts/build-policy-pack.sh ]; then
  step "policy pack binary"
  scripts/build-policy-pack.sh
fi

# pgBackRest for the point-in-time-recovery tests (internal/pitr): Debian's 2.45,
# the version the database image pins.
if ! command -v pgbackrest >/dev/null 2>&1; then
  step "installing pgbackrest (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbackrest
fi

integration_packages=$(grep -rl --include='*_test.go' '^//go:build integration' . | xargs -r -n1 dirname | sort -u)
if [ -n "$integration_packages" ]; then
  step "integration tests against real PostgreSQL and MinIO"
  trap 'scripts/test-servers.sh stop || true' EXIT
  # An assignment, not eval "$(...)" directly: a failed start must stop the run.
  servers=$(scripts/test-servers.sh start)
  eval "$servers"
  # shellcheck disable=SC2086 # one argument per package directory
  go test -count=1 -tags integration -timeout 30m $integration_packages
fi

step "end-to-end: every stack on a local Kubernetes control plane (real engine, Kubernetes provider, policy pack)"
# Tool builds are no-ops when cached in VX_CACHE (outside the clone); a cold machine
# needs about 40 minutes for them.
scripts/tools.sh pulumi kubernetes-provider control-plane minio mc >/dev/null
go build -o "${VX_BIN:-bin}/vx-standin" ./e2e/standin
go build -o "${VX_BIN:-bin}/vx-miniotest" ./e2e/miniotest
scripts/build-policy-pack.sh >/dev/null
go vet -tags e2e ./e2e/...
(
  # A control plane of its own (state directory per clone, ports, 64Gi volumes for
  # the 50Gi databases), started fresh, so that a developer's plane from
  # scripts/deploy-local.sh or another clone's is never touched (a second run at
  # the same time fails on the ports, naming them); stopped by the pids it recorded.
  export VX_RUN="${VX_CACHE:-$HOME/.cache/vxplatform}/run/control-plane-e2e-$(pwd | sha256sum | cut -c1-8)" \
    VX_ETCD_PORT=23890 VX_ETCD_PEER_PORT=23900 VX_APISERVER_PORT=16543 VX_KCM_PORT=16357 \
    VX_SCHEDULER_PORT=16359 VX_KWOK_PORT=16347 VX_PV_SIZE=64Gi VX_PV_COUNT=20
  scripts/control-plane.sh stop
  trap 'scripts/control-plane.sh stop || true; scripts/test-servers.sh stop || true' EXIT
  KUBECONFIG=$(scripts/control-plane.sh start)
  export KUBECONFIG
  # Fresh test servers: the minio test double applies every stack's buckets and
  # identities to this MinIO, and the job runner uses its PostgreSQL programs.
  # MinIO speaks HTTPS only (production and staging require s3UseTLS), with a CA
  # of the instance (MINIO_CA_FILE) that every client of the test trusts.
  export VX_MINIO_TLS=1
  scripts/test-servers.sh stop
  servers=$(scripts/test-servers.sh start)
  eval "$servers"
  go test -count=1 -tags e2e -timeout 45m -v ./e2e/
)
