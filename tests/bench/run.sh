#!/usr/bin/env bash
# Run the deploy benchmark (tests/bench/bench.py) with the test virtualenv and images.
# On demand only: not part of tools/test.sh's pass/fail. BENCH_MULTINODE=0 leaves out the
# three-node Swarm site (scenario multinode).
source "$(dirname "$0")/../../tools/common.sh"
venv="$("$REPO_ROOT/tools/venv.sh" test)"
"$REPO_ROOT/tools/docker-engine.sh" ensure
"$REPO_ROOT/tests/images/build.sh" trixie
"$REPO_ROOT/tests/images/services/build.sh"
"$REPO_ROOT/tests/images/omero-web/build.sh"
"$REPO_ROOT/tests/images/omero-server/build.sh"
ANSIBLE_COLLECTIONS_PATH="$(collections_dir)"
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH
export MOLECULE_GLOB="molecule/*/molecule.yml" MOLECULE_HOST_DISTRO=trixie
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1
exec "$venv/bin/python" "$REPO_ROOT/tests/bench/bench.py"
