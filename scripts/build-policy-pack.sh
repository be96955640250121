#!/usr/bin/env bash
# build-policy-pack.sh - build the policy pack (policy/) as a binary and print its
# path, for `pulumi preview --policy-pack <path>`, which needs no Go language plugin.
#
# Environment (defaults in brackets):
#   VX_BIN [bin]   directory the binary is written to (relative to the repository root)
set -euo pipefail

_VX_NAME=build-policy-pack
SCRIPTS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib/common.sh
source "$SCRIPTS/lib/common.sh"

cd "$SCRIPTS/.."
command -v go >/dev/null 2>&1 || die "go is not on PATH (need Go >= 1.26)"
out="${VX_BIN:-bin}/policy-pack"
mkdir -p "$(dirname "$out")"
t0=$(now_ms)
go build -o "$out" ./policy
log "built $out in $(elapsed "$t0")s"
readlink -f "$out"
