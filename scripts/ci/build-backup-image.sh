#!/usr/bin/env bash
# build-backup-image.sh push [TAG] | verify DIGEST [TAG] - the backup image
# ghcr.io/virdx/vxplatform-backup from cmd/vxbackup/Dockerfile.
#
#   push    build and push TAG (default sha-<first 12 hex of HEAD>); when TAG
#           already exists it is never pushed again: the build is verified against
#           it instead (tags are immutable). Writes tag= and digest= to
#           GITHUB_OUTPUT when set, and prints the digest.
#   verify  build again without any cache and fail unless the digest is DIGEST:
#           the build is reproducible (SOURCE_DATE_EPOCH = the commit's time,
#           timestamps rewritten, no provenance attestation, -trimpath).
#
# Needs docker with buildx, logged in to ghcr.io for push. VX_BACKUP_IMAGE
# overrides the repository (tests, forks).
set -euo pipefail
_VX_NAME=ci-backup-image
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

IMAGE=${VX_BACKUP_IMAGE:-ghcr.io/virdx/vxplatform-backup}
cd "$REPO"
command -v docker >/dev/null 2>&1 || die "docker is not installed"
commit=$(git rev-parse HEAD)
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct "$commit")
export SOURCE_DATE_EPOCH

# build OUTPUT_SPEC METADATA_FILE [EXTRA...]: one reproducible build; prints its digest
build() {
  local output=$1 meta=$2
  shift 2
  docker buildx build -f cmd/vxbackup/Dockerfile \
    --build-arg "VERSION=$TAG" --build-arg SOURCE_DATE_EPOCH \
    --provenance=false --sbom=false \
    --label "org.opencontainers.image.revision=$commit" \
    --label "org.opencontainers.image.source=https://github.com/${GITHUB_REPOSITORY:-virdx/vxplatform-infra}" \
    --output "$output,rewrite-timestamp=true" --metadata-file "$meta" "$@" . >&2
  jq -er '."containerimage.digest"' "$meta"
}

existing_digest() { # the digest TAG points at, or nothing
  docker buildx imagetools inspect "$IMAGE:$TAG" --format '{{json .Manifest}}' 2>/dev/null | jq -r '.digest // empty'
}

meta=$(mktemp)
trap 'rm -f "$meta"' EXIT
case ${1:-} in
  push)
    TAG=${2:-sha-${commit:0:12}}
    if have=$(existing_digest) && [[ -n $have ]]; then
      log "$IMAGE:$TAG exists ($have): not pushing again, verifying this build reproduces it"
      digest=$(build "type=image,name=$IMAGE:$TAG,push=false" "$meta")
      [[ $digest == "$have" ]] || die "$IMAGE:$TAG is $have, but this commit builds $digest: a tag is never overwritten"
    else
      digest=$(build "type=image,name=$IMAGE:$TAG,push=true" "$meta")
      log "pushed $IMAGE:$TAG ($digest)"
    fi
    if [[ -n ${GITHUB_OUTPUT:-} ]]; then printf 'tag=%s\ndigest=%s\n' "$TAG" "$digest" >>"$GITHUB_OUTPUT"; fi
    echo "$digest"
    ;;
  verify)
    (($# >= 2)) || die "usage: $0 verify DIGEST [TAG]"
    TAG=${3:-sha-${commit:0:12}}
    digest=$(build "type=image,name=$IMAGE:$TAG,push=false" "$meta" --no-cache)
    [[ $digest == "$2" ]] || die "not reproducible: a clean build gives $digest, the pushed image is $2"
    log "reproducible: a clean build gives the pushed digest $digest"
    ;;
  *) die "usage: $0 push [TAG] | verify DIGEST [TAG]" ;;
esac
