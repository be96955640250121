#!/usr/bin/env bash
# test.sh - the project's one test command (CI runs it through .ci/run).
#
# Stages, each fails the run:
#   1. static checks: gofmt, go vet, actionlint on .github/workflows
#   2. unit and mock tests: go test ./... (stacks, components under mocks, policy pack)
#   3. the policy pack binary, built by the project's build step
#   4. integration tests (//go:build integration) against real PostgreSQL and MinIO
#      started on 127.0.0.1 by scripts/test-servers.sh, stopped again by pid
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
