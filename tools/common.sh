# shellcheck shell=bash
# Shared settings for the tools/ scripts. Source it; do not run it.
# Everything slow (virtualenvs, debootstrap trees, wheels) is cached outside the
# repository, under OMERO_STACK_CACHE.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OMERO_STACK_CACHE="${OMERO_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omero_docker_stack}"
export REPO_ROOT OMERO_STACK_CACHE
mkdir -p "$OMERO_STACK_CACHE"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# content_key FILE... : short sha256 over the named files' contents and names.
content_key() {
  local f
  for f in "$@"; do printf '%s\n' "${f#"$REPO_ROOT"/}"; cat "$f"; done | sha256sum | cut -c1-12
}

# pip_quiet VENV ARGS... : pip without the noise of this machine's find-links warnings.
# Returns pip's own status (pipefail; the filter alone can never fail the pipeline).
pip_quiet() {
  local venv="$1"; shift
  "$venv/bin/pip" --quiet "$@" 2>&1 | { grep -v '^WARNING: Location .* is ignored' >&2 || true; }
}

# docker_build_keyed IMAGE KEY CONTEXT [DOCKER-BUILD-ARG...] : the offline build of a test
# image (classic builder, nothing pulled), labelled with the key of its inputs; the build
# log is shown when it fails.
docker_build_keyed() {
  local image="$1" key="$2" ctx="$3" start=$SECONDS
  shift 3
  log "building $image"
  DOCKER_BUILDKIT=0 docker build --pull=false --force-rm -q --label "org.omero-stack.build-key=$key" \
    "$@" -t "$image" "$ctx" >"$ctx/build.log" 2>&1 \
    || { tail -n 60 "$ctx/build.log" >&2; die "docker build of $image failed"; }
  log "built $image in $((SECONDS - start)) s"
}

# collections_dir: the ANSIBLE_COLLECTIONS_PATH entry where tools/venv.sh exposes this
# checkout as omero_docker.stack (one per checkout, keyed by its path).
collections_dir() {
  printf '%s/collections/%s\n' "$OMERO_STACK_CACHE" "$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
}
