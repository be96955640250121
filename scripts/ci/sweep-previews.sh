#!/usr/bin/env bash
# sweep-previews.sh plan|one|run [flags] - the preview sweeper (vxops sweep):
#   plan                      the previews whose pull request is not open, as JSON
#   one -stack S -pr N        destroy one of them after reading #N again
#   run [-dry-run]            both, one stack after another (local use)
# Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, and common.sh's.
set -euo pipefail
_VX_NAME=ci-sweep-previews
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"
(($# >= 1)) || die "usage: $0 plan|one|run [flags]"
policy_pack
vxops sweep "$1" -workdir "$VX_WORKDIR" "${@:2}"
