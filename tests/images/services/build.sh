#!/usr/bin/env bash
# Usage: tests/images/services/build.sh [NAME...]     (default: every image here)
# Builds the offline stand-ins for the official service images (see README.md) from
# Debian packages, on the local base image omero-stack-test/debian:trixie (built by
# tests/images/build.sh when missing). Nothing is ever pulled.
#
# Each image NAME (a directory here) is tagged
#   omero-stack-test/NAME:VERSION-kKEY   KEY = hash of the directory's files (names,
#                                        modes, contents) and of the base image id
#   omero-stack-test/NAME:VERSION        alias of the current keyed tag
# VERSION is the `ARG VERSION=` of the Dockerfile (checked against the installed
# package during the build). A keyed tag that exists already is not rebuilt, so a
# second run takes seconds. Older keyed tags of NAME are untagged.
#
# Prints the alias tags on stdout, one a line (progress goes to stderr), e.g.
#   docker save $(tests/images/services/build.sh) | docker exec -i HOST docker load
# Environment:
#   OMERO_STACK_SERVICES_BASE   base image (default omero-stack-test/debian:trixie;
#                               the pinned versions are trixie's)
#   OMERO_STACK_BUILD_JOBS      parallel builds (default 3)
#   OMERO_STACK_REBUILD=1       build again (without the layer cache) even when the
#                               keyed tag exists
source "$(dirname "$0")/../../../tools/common.sh"
here="$REPO_ROOT/tests/images/services"
base="${OMERO_STACK_SERVICES_BASE:-omero-stack-test/debian:trixie}"
jobs="${OMERO_STACK_BUILD_JOBS:-3}"
logdir="$OMERO_STACK_CACHE/logs/services"
mkdir -p "$logdir"

names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
  for d in "$here"/*/; do
    [ -f "$d/Dockerfile" ] && names+=("$(basename "$d")")
  done
fi
for n in "${names[@]}"; do
  [ -f "$here/$n/Dockerfile" ] || die "no image '$n' (no $here/$n/Dockerfile)"
done

# one build.sh at a time on this machine (a second run then finds its tags current)
exec 9>"$OMERO_STACK_CACHE/services-build.lock"
flock 9

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

if ! image_exists "$base"; then
  case "$base" in
    omero-stack-test/debian:*)
      log "$base is missing: building it"
      "$REPO_ROOT/tests/images/build.sh" "${base#omero-stack-test/debian:}" >&2 ;;
    *) die "base image $base is missing" ;;
  esac
fi
base_id="$(docker image inspect -f '{{.Id}}' "$base")"

# key NAME: hash of every file of the image's directory (path, mode, contents) + base id
image_key() {
  local dir="$here/$1" f
  {
    printf 'base %s\n' "$base_id"
    while IFS= read -r -d '' f; do
      printf '%s %s\n' "${f#"$dir"/}" "$(stat -c %a "$f")"
      if [ -L "$f" ]; then readlink "$f"; else cat "$f"; fi
    done < <(find "$dir" \( -type f -o -type l \) -print0 | LC_ALL=C sort -z)
  } | sha256sum | cut -c1-12
}

image_version() {
  local v
  v="$(sed -n 's/^ARG VERSION=\([^[:space:]]*\).*/\1/p' "$here/$1/Dockerfile" | head -n1)"
  [ -n "$v" ] || die "$1/Dockerfile has no 'ARG VERSION=...' line"
  printf '%s\n' "$v"
}

# build_one NAME VERSION KEY: runs in the background, writes its log and status
build_one() {
  local name="$1" version="$2" key="$3" start rc=0
  local repo="omero-stack-test/$name" log="$logdir/$name.log"
  start="$(date +%s)"
  local nocache=()
  [ "${OMERO_STACK_REBUILD:-}" = 1 ] && nocache=(--no-cache)
  docker build --pull=false "${nocache[@]}" \
    --build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version" \
    --label "org.opencontainers.image.title=$repo" \
    --label "org.opencontainers.image.version=$version" \
    --label "omero-stack-test.key=$key" \
    --label "omero-stack-test.base=$base@$base_id" \
    -t "$repo:$version-k$key" "$here/$name" >"$log" 2>&1 || rc=$?
  echo "$rc $(( $(date +%s) - start ))" >"$logdir/$name.status"
}

declare -A version key
pending=()
for n in "${names[@]}"; do
  version[$n]="$(image_version "$n")"
  key[$n]="$(image_key "$n")"
  rm -f "$logdir/$n.status"
  if [ "${OMERO_STACK_REBUILD:-}" != 1 ] && image_exists "omero-stack-test/$n:${version[$n]}-k${key[$n]}"; then
    log "omero-stack-test/$n:${version[$n]} is current (key ${key[$n]})"
  else
    pending+=("$n")
  fi
done

if [ "${#pending[@]}" -gt 0 ]; then
  # longest builds first
  mapfile -t pending < <(for n in "${pending[@]}"; do
    case "$n" in postgres) w=0 ;; prometheus) w=1 ;; *) w=2 ;; esac
    printf '%s %s\n' "$w" "$n"
  done | sort | cut -d' ' -f2)
  log "building ${pending[*]} (up to $jobs at a time; logs in $logdir)"
  for n in "${pending[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    log "build $n"
    build_one "$n" "${version[$n]}" "${key[$n]}" &
  done
  wait
fi

failed=()
for n in "${pending[@]}"; do
  read -r rc secs <"$logdir/$n.status" || { rc=1; secs=0; }
  if [ "$rc" != 0 ]; then
    failed+=("$n")
    log "FAILED $n after ${secs}s; end of $logdir/$n.log:"
    tail -n 30 "$logdir/$n.log" >&2
  else
    log "built omero-stack-test/$n:${version[$n]}-k${key[$n]} in ${secs}s"
  fi
done
[ "${#failed[@]}" -eq 0 ] || die "failed to build: ${failed[*]}"

for n in "${names[@]}"; do
  repo="omero-stack-test/$n"
  current="$repo:${version[$n]}-k${key[$n]}"
  docker tag "$current" "$repo:${version[$n]}"
  # untag older keyed builds (an image still used by a container keeps its tag)
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$repo" \
    | { grep -E ":.+-k[0-9a-f]{12}$" || true; } | { grep -vxF "$current" || true; } \
    | while IFS= read -r old; do docker rmi "$old" >/dev/null 2>&1 || true; done
  printf '%s\n' "$repo:${version[$n]}"
done
