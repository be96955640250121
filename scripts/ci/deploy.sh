#!/usr/bin/env bash
# deploy.sh STACK - pulumi up of a long-lived stack through the policy pack, after
# setting the config the environment supplies (VX_CONFIG_<key>: image tags,
# credentials). Environment: see scripts/ci/common.sh.
set -euo pipefail
_VX_NAME=ci-deploy
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"
(($# == 1)) || die "usage: $0 STACK"
case $1 in
  production | staging | public | previews) ;;
  *) die "deploy.sh deploys production, staging, public or previews, not '$1' (previews of pull requests: preview-environment.sh)" ;;
esac
policy_pack
vxops up -stack "$1" -workdir "$VX_WORKDIR"
