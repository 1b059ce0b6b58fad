#!/usr/bin/env bash
# Usage: tests/images/wheels/zeroc-ice.sh   -> prints the path of a zeroc-ice wheel
# omero-py needs zeroc-ice 3.6.5, whose sdist does not compile on Python 3.11 as
# published. Two one-line source fixes make it build (see shared ENVIRONMENT.md):
#   src/Slice.cpp: drop `#include <eval.h>`
#   src/Util.cpp:  PyThreadState_GET()->frame -> PyThreadState_GetFrame(PyThreadState_GET())
# The wheel is cached outside the repository, keyed by what determines it (version,
# the source fixes, build tool pins, Python version); building takes several
# minutes, reuse is instant.
source "$(dirname "$0")/../../../tools/common.sh"
version=3.6.5
py="${PYTHON:-python3}"
pyver="$("$py" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
out="$OMERO_STACK_CACHE/wheels"
mkdir -p "$out"
fix_slice='/#include <eval.h>/d'
fix_util='s/PyThreadState_GET()->frame/PyThreadState_GetFrame(PyThreadState_GET())/'
build_pins=("setuptools==75.8.0" "wheel==0.45.1")
key="$(printf '%s\n' "$version" "$pyver" "$fix_slice" "$fix_util" "${build_pins[@]}" | sha256sum | cut -c1-12)"
dest="$out/zeroc-ice-$key"
# No cache directory yet is "not cached", not an error (find fails on it under pipefail).
cached() { [ -d "$dest" ] || return 0; find "$dest" -name "zeroc_ice-$version-*.whl" -print -quit; }
whl="$(cached)"; [ -n "$whl" ] && { printf '%s\n' "$whl"; exit 0; }
# One build at a time: a second caller waits for the first and reuses its wheel.
exec 9>"$out/.zeroc-ice.lock"
flock 9
whl="$(cached)"; [ -n "$whl" ] && { printf '%s\n' "$whl"; exit 0; }
for pkg in libssl-dev libbz2-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need="${need:-} $pkg"
done
if [ -n "${need:-}" ]; then
  log "installing build dependencies:$need"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "building zeroc-ice $version wheel for cp$pyver (several minutes, cached afterwards)"
"$py" -m venv "$work/venv"
pip_quiet "$work/venv" install "${build_pins[@]}"
pip_quiet "$work/venv" download --no-deps --no-binary :all: -d "$work/sdist" "zeroc-ice==$version"
tar -C "$work" -xzf "$work"/sdist/zeroc-ice-"$version".tar.gz
src="$work/zeroc-ice-$version"
sed -i "$fix_slice" "$src/src/Slice.cpp"
sed -i "$fix_util" "$src/src/Util.cpp"
grep -q 'eval.h' "$src/src/Slice.cpp" && die "Slice.cpp fix did not apply"
grep -q 'PyThreadState_GetFrame' "$src/src/Util.cpp" || die "Util.cpp fix did not apply"
(cd "$src" && "$work/venv/bin/python" setup.py -q build_ext -j "$(nproc)" bdist_wheel -d "$work/dist") \
  >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "zeroc-ice build failed"; }
mkdir -p "$dest"
cp "$work"/dist/zeroc_ice-*.whl "$dest/"
cached
