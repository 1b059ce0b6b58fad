#!/usr/bin/env bash
# Usage: tests/images/compose/extract.sh
# Prints the path of a Docker Compose v2 binary for tests on the controller (e.g.
# `docker compose config --quiet` on rendered manifests). Debian 12 has no Compose v2;
# Debian 13's docker-compose package is a static binary that runs here too. It is
# installed in a throw-away container from the offline test image
# omero-stack-test/debian:trixie (tests/images/build.sh) and copied out once, cached in
# $OMERO_STACK_CACHE/bin/docker-compose. Nothing is pulled from a registry.
set -euo pipefail
cache="${OMERO_STACK_CACHE:-$HOME/.cache/omero_docker_stack}/bin"
bin="$cache/docker-compose"
if [ -x "$bin" ] && "$bin" version --short >/dev/null 2>&1; then
  echo "$bin"; exit 0
fi
mkdir -p "$cache"
name="omero-stack-compose-extract-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run --name "$name" omero-stack-test/debian:trixie bash -c \
  'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose' \
  >&2
docker cp "$name:/usr/libexec/docker/cli-plugins/docker-compose" "$bin.tmp" >&2
mv "$bin.tmp" "$bin"
"$bin" version --short >&2
echo "$bin"
