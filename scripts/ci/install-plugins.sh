#!/usr/bin/env bash
# install-plugins.sh [list] - install the pinned provider plugins into PULUMI_HOME
# before any preview, up or destroy. The engine cannot find the minio plugin by
# itself (the program registers minio resources by token), and an unpinned
# plugin would be whatever version happens to be installed.
#
#   scripts/ci/install-plugins.sh        install what is missing, then check all
#   scripts/ci/install-plugins.sh list   print "name version" per pinned plugin
#
# The pins equal go.mod (kubernetes, random, docker SDKs), internal/minio's
# providerVersion and the README (internal/workflows tests this). A plugin that
# is already installed at its pinned version is not downloaded again (the
# workflows cache PULUMI_HOME/plugins). VX_PLUGIN_FILE_<name>=PATH installs a
# local binary instead of downloading (builds from scripts/tools.sh).
# Environment: PULUMI (CLI, default pulumi on PATH), PULUMI_HOME.
set -euo pipefail
_VX_NAME=ci-install-plugins
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

PLUGINS=(
  kubernetes=4.32.0
  random=4.21.2
  docker=4.10.0
  minio=0.17.1
)

if [[ ${1:-} == list ]]; then
  for p in "${PLUGINS[@]}"; do echo "${p%%=*} ${p#*=}"; done
  exit 0
fi
(($# == 0)) || die "usage: $0 [list]"
cli=${PULUMI:-pulumi}
command -v "$cli" >/dev/null 2>&1 || die "the Pulumi CLI '$cli' is not there (set PULUMI)"
ensure_debs jq:jq

# installed NAME VERSION: the exact version is installed as a resource plugin
installed() {
  "$cli" plugin ls --json 2>/dev/null \
    | jq -e --arg n "$1" --arg v "$2" 'any(.[]; .name == $n and .kind == "resource" and .version == $v)' >/dev/null
}

for p in "${PLUGINS[@]}"; do
  name=${p%%=*} version=${p#*=}
  if installed "$name" "$version"; then
    log "$name $version: installed"
    continue
  fi
  file_var=VX_PLUGIN_FILE_$name
  if [[ -n ${!file_var:-} ]]; then
    log "$name $version: installing ${!file_var}"
    "$cli" plugin install resource "$name" "$version" --file "${!file_var}" --non-interactive
  else
    log "$name $version: downloading"
    "$cli" plugin install resource "$name" "$version" --non-interactive
  fi
done

missing=()
for p in "${PLUGINS[@]}"; do installed "${p%%=*}" "${p#*=}" || missing+=("$p"); done
((${#missing[@]} == 0)) || die "plugins not installed after installing: ${missing[*]}"
log "all pinned plugins installed: ${PLUGINS[*]}"
