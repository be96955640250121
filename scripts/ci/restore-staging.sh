#!/usr/bin/env bash
# restore-staging.sh - refresh staging from the latest production backup: a Job
# from the suspended CronJob restore-from-production in data-platform-staging,
# waited for, its result reported (exit 1 when it failed; staging is then left as
# it was). Environment: KUBECONFIG, VX_KUBE_CONTEXT (default: current context),
# VX_RESTORE_TIMEOUT (default 2h), VX_STAGING_NAMESPACE.
set -euo pipefail
_VX_NAME=ci-restore-staging
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"
(($# == 0)) || die "usage: $0 (no arguments)"
vxops restore-staging -context "${VX_KUBE_CONTEXT:-}" -timeout "${VX_RESTORE_TIMEOUT:-2h}" \
  -namespace "${VX_STAGING_NAMESPACE:-data-platform-staging}"
