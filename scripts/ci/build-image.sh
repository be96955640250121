#!/usr/bin/env bash
# build-image.sh IMAGE push [TAG] | IMAGE verify DIGEST [TAG] | list - the images
# this repository builds, one code path for all of them:
#
#   backup    ghcr.io/virdx/vxplatform-backup    cmd/vxbackup/Dockerfile   (backupTag)
#   database  ghcr.io/virdx/vxplatform-postgres  images/postgres/Dockerfile (databaseTag)
#
#   push    build and push TAG (default sha-<first 12 hex of HEAD>); when TAG
#           already exists it is never pushed again: the build is verified against
#           it instead (tags are immutable). Writes repository=, tag= and digest= to
#           GITHUB_OUTPUT when set, and prints the digest.
#   verify  build again without any cache and fail unless the digest is DIGEST:
#           the build is reproducible (SOURCE_DATE_EPOCH = the commit's time,
#           timestamps rewritten, no provenance attestation, -trimpath).
#   list    print the table: IMAGE REPOSITORY DOCKERFILE, one a line (the workflow
#           tests read it: every image is built here, every Dockerfile exists).
#
# Needs docker with buildx, logged in to ghcr.io for push. VX_IMAGE_REGISTRY
# overrides ghcr.io/virdx (tests, forks): the repository is then
# $VX_IMAGE_REGISTRY/vxplatform-<name>.
set -euo pipefail
# Without it a command substitution ignores errexit: a failed build would go on
# and "push" an empty digest.
shopt -s inherit_errexit
_VX_NAME=ci-build-image
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

REGISTRY=${VX_IMAGE_REGISTRY:-ghcr.io/virdx}

# The image table: name, repository (under REGISTRY), Dockerfile (from the
# repository root, which is the build context of every image).
IMAGES=(
  "backup vxplatform-backup cmd/vxbackup/Dockerfile"
  "database vxplatform-postgres images/postgres/Dockerfile"
)
names() { local row out=(); for row in "${IMAGES[@]}"; do out+=("${row%% *}"); done; echo "${out[*]}"; }
usage="usage: $0 IMAGE push [TAG] | IMAGE verify DIGEST [TAG] | list (IMAGE: $(names))"

if [[ ${1:-} == list ]]; then
  for row in "${IMAGES[@]}"; do
    read -r name repo dockerfile <<<"$row"
    echo "$name $REGISTRY/$repo $dockerfile"
  done
  exit 0
fi

(($# >= 2)) || die "$usage"
NAME=$1
IMAGE='' DOCKERFILE=''
for row in "${IMAGES[@]}"; do
  read -r name repo dockerfile <<<"$row"
  if [[ $name == "$NAME" ]]; then IMAGE=$REGISTRY/$repo DOCKERFILE=$dockerfile; fi
done
[[ -n $IMAGE ]] || die "image '$NAME' is not built here; allowed: $(names)"
shift

cd "$REPO"
[[ -f $DOCKERFILE ]] || die "$NAME: $DOCKERFILE does not exist"
command -v docker >/dev/null 2>&1 || die "docker is not installed"
commit=$(git rev-parse HEAD)
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct "$commit")
export SOURCE_DATE_EPOCH

# build OUTPUT_SPEC METADATA_FILE [EXTRA...]: one reproducible build; prints its
# digest, and fails unless the build succeeded and wrote one
build() {
  local output=$1 meta=$2 digest
  shift 2
  : >"$meta"
  docker buildx build -f "$DOCKERFILE" \
    --build-arg "VERSION=$TAG" --build-arg SOURCE_DATE_EPOCH \
    --provenance=false --sbom=false \
    --label "org.opencontainers.image.revision=$commit" \
    --label "org.opencontainers.image.source=https://github.com/${GITHUB_REPOSITORY:-virdx/vxplatform-infra}" \
    --output "$output,rewrite-timestamp=true" --metadata-file "$meta" "$@" . >&2 \
    || die "$NAME: docker buildx build -f $DOCKERFILE failed"
  digest=$(jq -r '."containerimage.digest" // empty' "$meta")
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "$NAME: the build wrote no image digest to its metadata (got '$digest')"
  echo "$digest"
}

# existing_digest: the digest TAG points at, or nothing when the registry says it
# does not exist. Any other failure (network, credentials) stops the job: taking
# it for "absent" would push over an existing, immutable tag.
existing_digest() {
  local out digest
  if out=$(docker buildx imagetools inspect "$IMAGE:$TAG" --format '{{json .Manifest}}' 2>"$errs"); then
    digest=$(jq -r '.digest // empty' <<<"$out")
    [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "$IMAGE:$TAG exists but its manifest names no digest: $out"
    echo "$digest"
  elif grep -Eqi 'not found|manifest unknown|name unknown' "$errs"; then
    return 0
  else
    die "cannot tell whether $IMAGE:$TAG exists: $(cat "$errs")"
  fi
}

meta=$(mktemp)
errs=$(mktemp)
trap 'rm -f "$meta" "$errs"' EXIT
case ${1:-} in
  push)
    TAG=${2:-sha-${commit:0:12}}
    have=$(existing_digest)
    if [[ -n $have ]]; then
      log "$IMAGE:$TAG exists ($have): not pushing again, verifying this build reproduces it"
      digest=$(build "type=image,name=$IMAGE:$TAG,push=false" "$meta")
      [[ $digest == "$have" ]] || die "$IMAGE:$TAG is $have, but this commit builds $digest: a tag is never overwritten"
    else
      digest=$(build "type=image,name=$IMAGE:$TAG,push=true" "$meta")
      log "pushed $IMAGE:$TAG ($digest)"
    fi
    if [[ -n ${GITHUB_OUTPUT:-} ]]; then printf 'repository=%s\ntag=%s\ndigest=%s\n' "$IMAGE" "$TAG" "$digest" >>"$GITHUB_OUTPUT"; fi
    echo "$digest"
    ;;
  verify)
    if ! (($# >= 2)) || ! [[ $2 =~ ^sha256:[0-9a-f]{64}$ ]]; then die "verify: DIGEST '${2:-}' is not sha256:<64 hex>; $usage"; fi
    TAG=${3:-sha-${commit:0:12}}
    digest=$(build "type=image,name=$IMAGE:$TAG,push=false" "$meta" --no-cache)
    [[ $digest == "$2" ]] || die "$IMAGE not reproducible: a clean build gives $digest, the pushed image is $2"
    log "reproducible: a clean build of $IMAGE gives the pushed digest $digest"
    ;;
  *) die "$usage" ;;
esac
