#!/usr/bin/env bash
# Usage: tools/venv.sh run|test
# Creates (once) a virtualenv for the pinned requirements of that kind and an
# ansible_collections tree that exposes this checkout as omero_docker.stack,
# then prints the virtualenv's path. The venv is keyed by the requirement files'
# contents and the Python version, so a change of pins gives a fresh venv.
source "$(dirname "$0")/common.sh"
kind="${1:?usage: venv.sh run|test}"
req="$REPO_ROOT/requirements/$kind.txt"
[ -f "$req" ] || die "no requirements file $req"
py="${PYTHON:-python3}"
# Debian's python3 lacks ensurepip (and so venv) until python3-venv is installed.
"$py" -c 'import ensurepip' 2>/dev/null || "$REPO_ROOT/tools/apt-deps.sh" python3-venv
pyver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
key="$( (printf '%s\n' "$pyver"; cat "$REPO_ROOT"/requirements/*.txt) | sha256sum | cut -c1-12)"
venv="$OMERO_STACK_CACHE/venv-$kind-$key"
# One creator at a time: a second caller waits, then reuses the finished venv.
exec 9>"$OMERO_STACK_CACHE/.venv-$kind.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  log "creating virtualenv $venv (python $pyver)"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  pip_quiet "$venv" install --upgrade pip
  pip_quiet "$venv" install -r "$req" -c "$REPO_ROOT/requirements/constraints.txt"
  touch "$venv/.complete"
fi
# Expose this checkout as an installed collection (a symlink, so edits are live),
# in a tree of its own: two checkouts sharing one venv never see each other.
coll="$(collections_dir)/ansible_collections/omero_docker"
mkdir -p "$coll"
ln -sfn "$REPO_ROOT" "$coll/stack"
printf '%s\n' "$venv"
