#!/usr/bin/env bash
# Usage: tests/images/omero-server/build.sh   -> prints the image name it built or found
# Builds the OMERO.server STAND-IN test image (see Dockerfile and README.md here)
# offline from the local omero-stack-test/debian:bookworm image; nothing is ever pulled.
# Tag: omero-stack-test/omero-server:VERSION-kKEY, KEY hashing every build input (this
# script, the Dockerfile, entrypoint, startup steps, the stand-in's code, the bundled
# scripts and their modes, the zeroc-ice wheel, the CA bundle and the base image's id).
# When that tag exists nothing is built; older keyed tags are untagged after a build.
# The tag omero-stack-test/omero-server:VERSION is moved to the result.
source "$(dirname "$0")/../../../tools/common.sh"
here="$REPO_ROOT/tests/images/omero-server"
omero_server_version=5.6.17
omero_py_version=5.23.0
omero_scripts_version=5.10.0
base=omero-stack-test/debian:bookworm
ca_bundle="${OMERO_STACK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

docker image inspect "$base" >/dev/null 2>&1 || "$REPO_ROOT/tests/images/build.sh" bookworm
base_id="$(docker image inspect -f '{{.Id}}' "$base")"
# The wheel must match the image's Python (Debian 12: 3.11), like this machine's python3.
wheel="$("$REPO_ROOT/tests/images/wheels/zeroc-ice.sh")"
[ -f "$wheel" ] || die "no zeroc-ice wheel at '$wheel'"
[ -f "$ca_bundle" ] || die "no CA bundle at $ca_bundle"

inputs=("$here/build.sh" "$here/Dockerfile" "$here/entrypoint.sh")
mapfile -t -O "${#inputs[@]}" inputs < <(find "$here/startup" "$here/standin" "$here/scripts" -type f \
  ! -name '*.pyc' ! -path '*/__pycache__/*' | sort)
key="$( (content_key "${inputs[@]}"; stat -c '%a %n' "${inputs[@]}" | sed "s|$REPO_ROOT/||";
         sha256sum <"$wheel"; basename "$wheel"; sha256sum <"$ca_bundle";
         echo "$base_id $omero_server_version $omero_py_version $omero_scripts_version") | sha256sum | cut -c1-12)"
image="omero-stack-test/omero-server:$omero_server_version-k$key"

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image is current"
else
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cp -a "$here/Dockerfile" "$here/entrypoint.sh" "$here/startup" "$here/standin" "$here/scripts" "$ctx/"
  find "$ctx" \( -name '__pycache__' -o -name '*.pyc' \) -prune -exec rm -rf {} +
  cp "$wheel" "$ctx/"
  cp "$ca_bundle" "$ctx/ca-bundle.crt"
  docker_build_keyed "$image" "$key" "$ctx" \
    --build-arg "BASE_IMAGE=$base" \
    --build-arg "OMERO_PY_VERSION=$omero_py_version" \
    --build-arg "OMERO_SCRIPTS_VERSION=$omero_scripts_version" \
    --build-arg "ZEROC_ICE_WHEEL=$(basename "$wheel")"
  # Older keyed builds of this image are untagged (their layers go with the next prune).
  mapfile -t tags < <(docker image ls --format '{{.Repository}}:{{.Tag}}' omero-stack-test/omero-server)
  for old in "${tags[@]}"; do
    [[ "$old" =~ :$omero_server_version-k[0-9a-f]{12}$ && "$old" != "$image" ]] || continue
    docker rmi "$old" >/dev/null 2>&1 || true
  done
fi
docker tag "$image" "omero-stack-test/omero-server:$omero_server_version"
printf '%s\n' "$image"
