#!/usr/bin/env bash
# preview.sh STACK [PR] - pulumi preview of a stack through the policy pack; with
# PR, the result (changes, policy findings) becomes that pull request's comment
# for the stack, updated on every push. Environment: see scripts/ci/common.sh.
set -euo pipefail
_VX_NAME=ci-preview
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"
(($# >= 1)) || die "usage: $0 STACK [PR]"
policy_pack
args=(preview -stack "$1" -workdir "$VX_WORKDIR")
if (($# > 1)); then require_number PR "$2"; args+=(-comment-pr "$2"); fi
vxops "${args[@]}"
