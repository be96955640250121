# shellcheck shell=bash
# Shared by scripts/ci/*.sh (source it). The CI entry points are thin: each runs
# one vxops command (cmd/vxops), which takes everything from the environment the
# way the Pulumi CLI does: PULUMI (the CLI, .../bin/pulumi; default pulumi on
# PATH), PULUMI_BACKEND_URL, PULUMI_HOME, PULUMI_CONFIG_PASSPHRASE, KUBECONFIG,
# VX_POLICY_PACK, VX_CONFIG_<key>, GITHUB_*. The same scripts run in the
# workflows, on a laptop and in the end-to-end test (e2e/operations_test.go).

CI_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
REPO=$(readlink -f "$CI_DIR/../..")
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$REPO/scripts/lib/common.sh"

# VX_WORKDIR: where Pulumi.yaml and the stack files are (the clone in CI; the
# end-to-end test points it at its own Pulumi environment).
VX_WORKDIR=${VX_WORKDIR:-$REPO}

# vxops ARGS...: build cmd/vxops into VX_BIN (a no-op when up to date) and run it.
vxops() {
  local bin=${VX_BIN:-bin}
  [[ $bin == /* ]] || bin=$REPO/$bin
  mkdir -p "$bin"
  (cd "$REPO" && go build -o "$bin/vxops" ./cmd/vxops) || die "building cmd/vxops failed"
  "$bin/vxops" "$@"
}

# policy_pack: VX_POLICY_PACK, or the pack built by scripts/build-policy-pack.sh.
policy_pack() {
  if [[ -z ${VX_POLICY_PACK:-} ]]; then
    VX_POLICY_PACK=$("$REPO/scripts/build-policy-pack.sh")
  fi
  export VX_POLICY_PACK
}

# require_number NAME VALUE: a pull request number
require_number() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a pull request number, got '$2'"
}
