#!/usr/bin/env bash
# Usage: tools/apt-deps.sh PACKAGE...
# Installs the named Debian packages when their commands are missing (the test
# machine is root and reaches Debian's packages). Commands checked by name:
# debootstrap, shellcheck, docker.io (dockerd), python3-venv (module ensurepip).
source "$(dirname "$0")/common.sh"
need=()
for pkg in "$@"; do
  case "$pkg" in
    docker.io) cmd=dockerd ;;
    *) cmd="$pkg" ;;
  esac
  if [ "$pkg" = python3-venv ]; then
    python3 -c 'import ensurepip' 2>/dev/null || need+=("$pkg")
    continue
  fi
  command -v "$cmd" >/dev/null || need+=("$pkg")
done
[ "${#need[@]}" -eq 0 ] && exit 0
log "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
