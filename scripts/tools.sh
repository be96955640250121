#!/usr/bin/env bash
# shellcheck disable=SC2317 # builders are called indirectly ("build_$name")
# tools.sh - build the project's pinned tools from the Go module proxy, once, into a
# version-keyed cache OUTSIDE the clone, and print where they are.
#
# Usage:
#   scripts/tools.sh <name>... | all   build what is missing (stdout: one path per name)
#   scripts/tools.sh path <name>       print the path of a built tool; exit 1 if not built
#   scripts/tools.sh status            every tool: built or not, and where
#   scripts/tools.sh env               eval-able exports for the built tools
#   scripts/tools.sh key               cache key of all pins (and the Go toolchain)
#                                      for CI's actions/cache of $VX_CACHE
#   scripts/tools.sh help
#
# Tools (<name>: what `path` prints):
#   pulumi               Pulumi CLI                           .../bin/pulumi
#   kubernetes-provider  pulumi-resource-kubernetes plugin    .../bin/pulumi-resource-kubernetes
#   control-plane        etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#                        kwok and kwok-stages.yaml            .../bin (a directory)
#   minio, mc            MinIO server and client (AGPL-3.0: only ever run as separate
#                        processes, never imported)           .../bin/minio, .../bin/mc
#
# Cache layout: ${VX_CACHE:-$HOME/.cache/vxplatform}/<tool>-<version>/{bin,src,BUILDINFO}
# A tool counts as built when that directory exists with all its binaries: it is
# built in $VX_CACHE/.tmp and renamed into place in one step, so an interrupted build
# never looks built. A second run is a no-op (no go command runs). Concurrent runs
# wait for each other (flock per tool). To force a rebuild: rm -rf the tool directory.
#
# Needs: go (>= 1.26), the Go module proxy. Output paths go to stdout, progress to stderr.
set -euo pipefail

_VX_NAME=tools
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/common.sh"

# ---------------------------------------------------------------- pins ----
PULUMI_VERSION=v3.274.1
CLIPBOARD_REPLACE="github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"

K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_PROVIDER_SOURCE=v4.0.0-20260115033456-f47bc2d6f199 # the only provider version the proxy serves
K8S_PROVIDER_VERSION=4.32.0 # = github.com/pulumi/pulumi-kubernetes/sdk/v4 in go.mod

K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9

ALL_TOOLS=(minio mc pulumi control-plane kubernetes-provider)
CONTROL_PLANE_BINS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# Static, reproducible binaries; no C toolchain needed on a fresh machine.
export CGO_ENABLED=0 GOWORK=off GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}

# ---------------------------------------------------------- layout ----
tool_key() {
  case $1 in
    pulumi) echo "pulumi-$PULUMI_VERSION" ;;
    kubernetes-provider) echo "kubernetes-provider-$K8S_PROVIDER_VERSION-${K8S_PROVIDER_SOURCE##*-}" ;;
    control-plane) echo "control-plane-k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION" ;;
    minio) echo "minio-$MINIO_VERSION" ;;
    mc) echo "mc-$MC_VERSION" ;;
    *) return 1 ;;
  esac
}
tool_dir() { echo "$VX_CACHE/$(tool_key "$1")"; }

# tool_files NAME: files (relative to the tool dir) that must exist for it to count as built
tool_files() {
  local b
  case $1 in
    pulumi) echo bin/pulumi ;;
    kubernetes-provider) echo bin/pulumi-resource-kubernetes ;;
    control-plane) for b in "${CONTROL_PLANE_BINS[@]}"; do echo "bin/$b"; done; echo bin/kwok-stages.yaml ;;
    minio) echo bin/minio ;;
    mc) echo bin/mc ;;
  esac
}

# tool_path NAME [DIR]: what `path` prints
tool_path() {
  local d=${2:-$(tool_dir "$1")}
  case $1 in
    control-plane) echo "$d/bin" ;;
    *) echo "$d/$(tool_files "$1")" ;;
  esac
}

is_built() { # NAME [DIR]
  local d=${2:-$(tool_dir "$1")} f
  [[ -f $d/BUILDINFO ]] || return 1
  for f in $(tool_files "$1"); do
    [[ -s $d/$f ]] || return 1
    [[ $f == *.yaml || -x $d/$f ]] || return 1
  done
}

valid_tool() { tool_key "$1" >/dev/null 2>&1 || die "unknown tool '$1' (known: ${ALL_TOOLS[*]})"; }

# mod_dir MODULE@VERSION: download a module and print its directory in the module cache
mod_field() { # MODULE@VERSION FIELD
  local out
  out=$(go mod download -json "$1" 2>&1) || die "go mod download $1 failed: $out"
  sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" <<<"$out" | head -1
}

# ----------------------------------------------------------- builders ----
# Each build_<name> DIR gets an empty DIR and must leave DIR/bin/... ; its Go module (if
# any) goes to DIR/src and is kept next to the binaries for reference.

build_minio() {
  GOBIN=$1/bin go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION"
}

build_mc() {
  GOBIN=$1/bin go install -trimpath -ldflags "-s -w" "github.com/minio/mc@$MC_VERSION"
}

build_pulumi() {
  local d=$1 src=$1/src
  mkdir -p "$src"
  # `go install .../cmd/pulumi@v` fails (pkg/v3's go.mod has replace directives): use a
  # module of our own that requires pkg and sdk and repeats the clipboard replace.
  cat >"$src/go.mod" <<EOF
module vxplatform.local/tools/pulumi

go 1.26.0

require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
)
EOF
  cat >"$src/tools.go" <<'EOF'
//go:build tools

// Package tools pins the Pulumi CLI's main package for `go mod tidy`.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
EOF
  (
    cd "$src"
    go mod edit -replace "$CLIPBOARD_REPLACE"
    go mod tidy
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$d/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
  local v
  v=$(PULUMI_HOME=$d/.pulumi-home PULUMI_SKIP_UPDATE_CHECK=true "$d/bin/pulumi" version 2>&1) || true
  rm -rf "$d/.pulumi-home"
  [[ $v == "$PULUMI_VERSION" ]] || die "built pulumi reports version '$v', expected $PULUMI_VERSION"
}

build_kubernetes-provider() {
  local d=$1 src=$1/src mdir
  mkdir -p "$src"
  # The provider module has a replace directive and its cmd embeds two generated files
  # that are not in the module zip; we use our own main and generate them here.
  cat >"$src/go.mod" <<EOF
module vxplatform.local/tools/pulumi-resource-kubernetes

go 1.26.0

require $K8S_PROVIDER_MODULE $K8S_PROVIDER_SOURCE
EOF
  # Same as upstream's cmd/pulumi-resource-kubernetes/main.go.
  cat >"$src/main.go" <<'EOF'
// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider, exactly
// like upstream's cmd/pulumi-resource-kubernetes (built by scripts/tools.sh).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

var providerName = "kubernetes"

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve(providerName, version.Version, pulumiSchema, terraformMapping)
}
EOF
  # Upstream's generate.go unmarshals into schema.PackageSpec; a stdlib-only generator
  # avoids compiling pkg/codegen just for this: compact JSON, "version" set.
  cat >"$src/gen.go" <<'EOF'
//go:build ignore

// gen writes schema-embed.json and terraform-mapping-embed.json (compact JSON) from
// the provider module's schema.json / terraform-mapping.json. Usage: go run gen.go SRC_DIR VERSION
package main

import (
	"bytes"
	"encoding/json"
	"log"
	"os"
	"path/filepath"
)

func main() {
	dir, version := os.Args[1], os.Args[2]
	var schema map[string]json.RawMessage
	read(filepath.Join(dir, "schema.json"), &schema)
	if _, ok := schema["name"]; !ok {
		log.Fatal("schema.json has no name")
	}
	v, _ := json.Marshal(version)
	schema["version"] = v
	write("schema-embed.json", schema)
	var mapping json.RawMessage
	read(filepath.Join(dir, "terraform-mapping.json"), &mapping)
	var buf bytes.Buffer
	if err := json.Compact(&buf, mapping); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("terraform-mapping-embed.json", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func read(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func write(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
EOF
  mdir=$(mod_field "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_SOURCE" Dir)
  [[ -f $mdir/cmd/pulumi-resource-kubernetes/schema.json ]] \
    || die "schema.json not found in $mdir/cmd/pulumi-resource-kubernetes"
  (
    cd "$src"
    go run gen.go "$mdir/cmd/pulumi-resource-kubernetes" "$K8S_PROVIDER_VERSION"
    grep -q "\"version\":\"$K8S_PROVIDER_VERSION\"" schema-embed.json || die "schema-embed.json has no version $K8S_PROVIDER_VERSION"
    go mod tidy
    go build -trimpath \
      -ldflags "-s -w -X $K8S_PROVIDER_MODULE/pkg/version.Version=$K8S_PROVIDER_VERSION" \
      -o "$d/bin/pulumi-resource-kubernetes" .
  )
}

# k8s_ldflags: what the Kubernetes release build stamps into its binaries
k8s_ldflags() {
  local l="-s -w" p minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    l+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$l"
}

build_control-plane() {
  local d=$1 c gomod mods m kdir f first=1
  mkdir -p "$d/bin" "$d/src/etcd" "$d/src/k8s"

  # --- etcd: the server module has replace directives too: own module around etcdmain.Main
  log "control-plane: etcd $ETCD_VERSION"
  printf 'module vxplatform.local/tools/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$ETCD_VERSION" >"$d/src/etcd/go.mod"
  cat >"$d/src/etcd/main.go" <<'EOF'
// Command etcd is upstream's etcd server (etcdmain.Main), built by scripts/tools.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "$d/src/etcd" && go mod tidy && go build -trimpath -ldflags "-s -w" -o "$d/bin/etcd" .)

  # --- kube-*: k8s.io/kubernetes replaces every staging module with ./staging/...;
  # our module replaces each with its published release instead. The list is read
  # from k8s.io/kubernetes's own go.mod (minus the two sample modules the proxy refuses).
  log "control-plane: kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION"
  gomod=$(mod_field "k8s.io/kubernetes@$K8S_VERSION" GoMod)
  mods=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$gomod" \
    | grep -vx -e k8s.io/sample-cli-plugin -e k8s.io/sample-controller) || true
  [[ -n $mods ]] || die "found no staging replace directives in $gomod"
  {
    printf 'module vxplatform.local/tools/kubernetes\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    for m in $mods; do printf '\t%s => %s %s\n' "$m" "$m" "$K8S_STAGING_VERSION"; done
    printf ')\n'
  } >"$d/src/k8s/go.mod"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    mkdir -p "$d/src/k8s/cmd/$c"
    case $c in
      kube-apiserver) f=NewAPIServerCommand ;;
      kube-controller-manager) f=NewControllerManagerCommand ;;
      kube-scheduler) f=NewSchedulerCommand ;;
    esac
    # Same as upstream's cmd/<c>/<c>.go.
    cat >"$d/src/k8s/cmd/$c/main.go" <<EOF
// Command $c is upstream's $c $K8S_VERSION, built by scripts/tools.sh.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/$c/app"
)

func main() { os.Exit(cli.Run(app.$f())) }
EOF
  done
  (
    cd "$d/src/k8s"
    go mod tidy
    for c in kube-apiserver kube-controller-manager kube-scheduler; do
      go build -trimpath -ldflags "$(k8s_ldflags)" -o "$d/bin/$c" "./cmd/$c"
    done
  )
  "$d/bin/kube-apiserver" --version | grep -qF "$K8S_VERSION" || die "kube-apiserver --version is not $K8S_VERSION"

  # --- kwok: no replace directives, plain go install works
  log "control-plane: kwok $KWOK_VERSION"
  GOBIN=$d/bin go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The bare kwok binary has no behaviour stages (kwokctl adds them): collect the
  # upstream defaults from the module into one config file.
  kdir=$(mod_field "sigs.k8s.io/kwok@$KWOK_VERSION" Dir)
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ -f $kdir/kustomize/stage/$f ]] || die "kwok stage $f not found in $kdir/kustomize/stage"
    ((first)) || echo "---"
    first=0
    sed '/^---[[:space:]]*$/d' "$kdir/kustomize/stage/$f"
  done >"$d/bin/kwok-stages.yaml"
}

# ------------------------------------------------------------- driver ----
ensure_go() {
  command -v go >/dev/null 2>&1 || die "go is not on PATH (need Go >= 1.26)"
}

# build_tool NAME: runs in its own subshell (see main), so that 'die' ends only this
# tool's build and the EXIT trap removes its temporary directory.
build_tool() {
  local name=$1 final tmp t0 lockfd rc f
  final=$(tool_dir "$name")
  if is_built "$name"; then
    log "$name: already built ($final)"
    tool_path "$name"
    return 0
  fi
  ensure_go
  mkdir -p "$VX_CACHE/.tmp" "$VX_CACHE/.locks"
  exec {lockfd}>"$VX_CACHE/.locks/$name.lock"
  if ! flock -n "$lockfd"; then
    log "$name: another build holds $VX_CACHE/.locks/$name.lock, waiting for it"
    flock "$lockfd"
  fi
  if is_built "$name"; then # built by whoever held the lock
    log "$name: already built ($final)"
    tool_path "$name"
    return 0
  fi
  # We hold this tool's lock: any temporary dir of it is left over from a killed build.
  rm -rf "$VX_CACHE/.tmp/$(tool_key "$name")".*
  tmp=$(mktemp -d "$VX_CACHE/.tmp/$(tool_key "$name").XXXXXX")
  chmod 755 "$tmp"
  # shellcheck disable=SC2064 # expand $tmp now
  trap "rm -rf '$tmp'" EXIT
  log "$name: building $(tool_key "$name") in $tmp ($(go env GOVERSION))"
  t0=$(now_ms)
  # Not 'build_x || die': that would switch off errexit inside build_x.
  set +e
  (set -e; "build_$name" "$tmp")
  rc=$?
  set -e
  ((rc == 0)) || die "$name: build failed (exit $rc) after $(elapsed "$t0")s; see the messages above"
  for f in $(tool_files "$name"); do [[ -s $tmp/$f ]] || die "$name: the build produced no $f"; done
  {
    echo "tool=$name"
    echo "key=$(tool_key "$name")"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "seconds=$(elapsed "$t0")"
    echo "go=$(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"
  } >"$tmp/BUILDINFO"
  if [[ -e $final ]]; then # an incomplete leftover (e.g. a binary deleted by hand)
    mv -T "$final" "$tmp.stale"
    rm -rf "$tmp.stale"
  fi
  mv -T "$tmp" "$final" # atomic: the tool appears complete or not at all
  trap - EXIT
  log "$name: built $(tool_key "$name") in $(elapsed "$t0")s -> $(tool_path "$name")"
  tool_path "$name"
}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

main() {
  (($#)) || { usage >&2; exit 2; }
  case $1 in
    help | -h | --help) usage ;;
    path)
      [[ $# -eq 2 ]] || die "usage: $0 path <name>"
      valid_tool "$2"
      is_built "$2" || { log "$2 is not built (run: $0 $2)"; exit 1; }
      tool_path "$2"
      ;;
    status)
      local t
      for t in "${ALL_TOOLS[@]}"; do
        if is_built "$t"; then
          printf '%-20s built  %s (%ss)\n' "$t" "$(tool_path "$t")" "$(sed -n 's/^seconds=//p' "$(tool_dir "$t")/BUILDINFO")"
        else printf '%-20s absent %s\n' "$t" "$(tool_path "$t")"; fi
      done
      ;;
    key)
      # Every pin that names a cache directory, plus what else goes into a build:
      # a changed pin (or Go release) means a new key, hence a cold build.
      local t
      {
        for t in "${ALL_TOOLS[@]}"; do tool_key "$t"; done
        echo "$CLIPBOARD_REPLACE $K8S_STAGING_VERSION $K8S_PROVIDER_SOURCE"
        go env GOVERSION GOOS GOARCH
      } | sha256sum | cut -c1-16 | sed 's/^/vxplatform-tools-/'
      ;;
    env)
      local t var
      for t in "${ALL_TOOLS[@]}"; do
        var=${t^^}; var=VX_${var//-/_}
        if is_built "$t"; then echo "export $var=$(tool_path "$t")"; fi
      done
      ;;
    *)
      local names=() n
      if [[ $1 == all ]]; then names=("${ALL_TOOLS[@]}"); else names=("$@"); fi
      for n in "${names[@]}"; do valid_tool "$n"; done
      local failed=()
      for n in "${names[@]}"; do
        # one subshell per tool: a failed build does not stop the next one
        (trap 'exit 130' INT; trap 'exit 143' TERM; build_tool "$n") || failed+=("$n")
      done
      ((${#failed[@]} == 0)) || die "failed to build: ${failed[*]}"
      ;;
  esac
}

main "$@"; exit
