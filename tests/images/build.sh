#!/usr/bin/env bash
# Usage: tests/images/build.sh [DISTRO...]   (default: trixie bookworm)
# Builds the offline test images from debootstrap; nothing is ever pulled.
#   omero-stack-test/debian:DISTRO  minimal Debian (minbase), base for test service images
#   omero-stack-test/host:DISTRO    Debian booting systemd as PID 1, with python3 and sudo,
#                                   used as a Molecule test host
# Each image is also tagged DISTRO-KEY, KEY being a hash of its inputs (this script,
# the host overlay files, the extra CA certificates). When that tag exists the build
# is skipped, so a second run costs seconds.
source "$(dirname "$0")/../../tools/common.sh"
here="$REPO_ROOT/tests/images"
distros=("$@")
[ "${#distros[@]}" -gt 0 ] || distros=(trixie bookworm)

# Extra CA certificates this machine trusts (TLS-inspecting egress): baked into the
# images so that pip inside test hosts works like on the controller.
mapfile -t cas < <(find /usr/local/share/ca-certificates -name '*.crt' -type f 2>/dev/null | sort)

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_rootfs() { # distro variant includes dir
  local distro="$1" include="$2" dir="$3"
  rm -rf "$dir"; mkdir -p "$dir"
  log "debootstrap $distro into $dir"
  debootstrap --variant=minbase ${include:+--include="$include"} "$distro" "$dir" \
    >"$dir.log" 2>&1 || { tail -n 40 "$dir.log" >&2; die "debootstrap $distro failed"; }
  if [ "${#cas[@]}" -gt 0 ]; then
    mkdir -p "$dir/usr/local/share/ca-certificates"
    cp "${cas[@]}" "$dir/usr/local/share/ca-certificates/"
    if [ -x "$dir/usr/sbin/update-ca-certificates" ]; then
      chroot "$dir" update-ca-certificates >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*_Packages
}

import_rootfs() { # dir image change...
  local dir="$1" image="$2"; shift 2
  local changes=()
  local c; for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$dir" -c . | docker import "${changes[@]}" - "$image" >/dev/null
}

build_one() {
  local distro="$1" work="$OMERO_STACK_CACHE/rootfs"
  mkdir -p "$work"
  local key_base key_host
  key_base="$(content_key "$here/build.sh" "${cas[@]}" | cut -c1-12)"
  local overlay; mapfile -t overlay < <(find "$here/host" -type f | sort)
  key_host="$(content_key "$here/build.sh" "${cas[@]}" "${overlay[@]}" | cut -c1-12)"

  local base="omero-stack-test/debian:$distro"
  if image_exists "$base-k$key_base"; then
    log "$base is current (key $key_base)"
  else
    build_rootfs "$distro" "ca-certificates" "$work/base-$distro"
    import_rootfs "$work/base-$distro" "$base-k$key_base" 'CMD ["/bin/bash"]'
    rm -rf "$work/base-$distro"
    log "built $base-k$key_base"
  fi
  docker tag "$base-k$key_base" "$base"

  local host="omero-stack-test/host:$distro"
  if image_exists "$host-k$key_host"; then
    log "$host is current (key $key_host)"
  else
    build_rootfs "$distro" \
      "systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,procps,iproute2,gnupg" \
      "$work/host-$distro"
    cp -a "$here/host/." "$work/host-$distro/"
    # shellcheck disable=SC2016 # expanded inside the chroot, not here
    chroot "$work/host-$distro" /bin/sh -c '
      set -e
      systemctl enable proc-sys-rw.service >/dev/null 2>&1
      for u in getty.target console-getty.service systemd-firstboot.service \
               systemd-udevd.service systemd-udev-trigger.service; do
        systemctl mask "$u" >/dev/null 2>&1 || true
      done
      : > /etc/machine-id
    '
    import_rootfs "$work/host-$distro" "$host-k$key_host" \
      'CMD ["/lib/systemd/systemd"]' 'ENV container=docker'
    rm -rf "$work/host-$distro"
    log "built $host-k$key_host"
  fi
  docker tag "$host-k$key_host" "$host"
}

for d in "${distros[@]}"; do build_one "$d"; done
