#!/usr/bin/env bash
# drift.sh STACK - drift detection: pulumi preview --refresh --expect-no-changes
# of a long-lived stack through the policy pack. Exit 0: the live objects match
# the program; exit 2: drift, the drifted resources are listed (and written to
# the job summary); exit 1: the check itself failed. The program runs with the
# config of the stack's last update (pulumi config refresh): a fresh checkout
# holds none of the deploy-time config. Environment: common.sh.
set -euo pipefail
_VX_NAME=ci-drift
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"
(($# == 1)) || die "usage: $0 STACK"
policy_pack
vxops drift -stack "$1" -workdir "$VX_WORKDIR"
