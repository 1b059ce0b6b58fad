#!/usr/bin/env bash
# Usage: tests/images/omero-web/build.sh   -> prints the image name it built or found
# Builds the OMERO.web test base image (see Dockerfile here) offline from the local
# omero-stack-test/debian:bookworm image; nothing is ever pulled.
# Tag: omero-stack-test/omero-web:VERSION-kKEY, KEY hashing every build input (this
# script, the Dockerfile and startup files, the zeroc-ice wheel, the CA bundle and the
# base image's id). When that tag exists nothing is built. The tag
# omero-stack-test/omero-web:VERSION is moved to the result.
source "$(dirname "$0")/../../../tools/common.sh"
here="$REPO_ROOT/tests/images/omero-web"
omero_web_version=5.33.2
base=omero-stack-test/debian:bookworm
ca_bundle="${OMERO_STACK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

docker image inspect "$base" >/dev/null 2>&1 || "$REPO_ROOT/tests/images/build.sh" bookworm
base_id="$(docker image inspect -f '{{.Id}}' "$base")"
# The wheel must match the image's Python (Debian 12: 3.11), like this machine's python3.
wheel="$("$REPO_ROOT/tests/images/wheels/zeroc-ice.sh")"
[ -f "$wheel" ] || die "no zeroc-ice wheel at '$wheel'"
[ -f "$ca_bundle" ] || die "no CA bundle at $ca_bundle"

inputs=("$here/build.sh" "$here/Dockerfile" "$here/entrypoint.sh" "$here/01-default-webapps.omero")
mapfile -t -O "${#inputs[@]}" inputs < <(find "$here/startup" -type f | sort)
key="$( (content_key "${inputs[@]}"; sha256sum <"$wheel"; basename "$wheel"; sha256sum <"$ca_bundle";
         echo "$base_id $omero_web_version") | sha256sum | cut -c1-12)"
image="omero-stack-test/omero-web:$omero_web_version-k$key"

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image is current"
else
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cp -a "$here/Dockerfile" "$here/entrypoint.sh" "$here/01-default-webapps.omero" "$here/startup" "$ctx/"
  cp "$wheel" "$ctx/"
  cp "$ca_bundle" "$ctx/ca-bundle.crt"
  docker_build_keyed "$image" "$key" "$ctx" \
    --build-arg "BASE_IMAGE=$base" \
    --build-arg "OMERO_WEB_VERSION=$omero_web_version" \
    --build-arg "ZEROC_ICE_WHEEL=$(basename "$wheel")"
fi
docker tag "$image" "omero-stack-test/omero-web:$omero_web_version"
printf '%s\n' "$image"
