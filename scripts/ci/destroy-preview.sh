#!/usr/bin/env bash
# destroy-preview.sh PR - destroy the preview environment of a pull request and
# remove its stack pr-<PR>. Only ever a pr-<N> stack: long-lived stacks are not
# destroyed by the pipeline. Environment: see scripts/ci/common.sh.
set -euo pipefail
_VX_NAME=ci-destroy-preview
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"
(($# == 1)) || die "usage: $0 PR"
require_number PR "$1"
policy_pack
vxops destroy -stack "pr-$1" -workdir "$VX_WORKDIR"
