#!/usr/bin/env bash
# preview-environment.sh PR - create or update the preview environment of a pull
# request: pulumi up of stack pr-<PR> (created when missing) through the policy
# pack, with the config the environment supplies (VX_CONFIG_<key>). In a GitHub
# job (GITHUB_REPOSITORY set) the pull request's comment gets the preview's URL
# (when its ingress is on) and its stack outputs. Environment: scripts/ci/common.sh.
set -euo pipefail
_VX_NAME=ci-preview-environment
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"
(($# == 1)) || die "usage: $0 PR"
require_number PR "$1"
policy_pack
args=(up -stack "pr-$1" -create -workdir "$VX_WORKDIR")
if [[ -n ${GITHUB_REPOSITORY:-} ]]; then args+=(-comment-pr "$1"); fi
vxops "${args[@]}"
