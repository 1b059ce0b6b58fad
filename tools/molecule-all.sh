#!/usr/bin/env bash
# Usage: tools/molecule-all.sh VENV [SCENARIO...]
# Runs `molecule test` for every scenario under molecule/ (or the named ones), in
# name order, stopping at the first failure. MOLECULE_SCENARIOS (space-separated)
# also restricts the list. A scenario whose molecule.yml has the line
# `# host_distro: NAME` runs on the omero-stack-test/host:NAME image.
source "$(dirname "$0")/common.sh"
venv="${1:?usage: molecule-all.sh VENV [SCENARIO...]}"; shift
scenarios=("$@")
if [ "${#scenarios[@]}" -eq 0 ] && [ -n "${MOLECULE_SCENARIOS:-}" ]; then
  read -r -a scenarios <<<"$MOLECULE_SCENARIOS"
fi
if [ "${#scenarios[@]}" -eq 0 ]; then
  for f in "$REPO_ROOT"/molecule/*/molecule.yml; do
    scenarios+=("$(basename "$(dirname "$f")")")
  done
fi
export PATH="$venv/bin:$PATH"
ANSIBLE_COLLECTIONS_PATH="$(collections_dir)"
export ANSIBLE_COLLECTIONS_PATH
export MOLECULE_GLOB="molecule/*/molecule.yml"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1
cd "$REPO_ROOT" || exit 1
logdir="$OMERO_STACK_CACHE/logs/molecule"
mkdir -p "$logdir"

# failure_summary LOG: each failed task of a Molecule log (the TASK line before it and the
# failure, cut to 1,500 characters), the last 15, so the end of the output says what broke.
failure_summary() {
  awk '/^TASK \[/ { task = $0 }
       /^(fatal|failed): \[/ { print "  " task; print "    " substr($0, 1, 1500) }' "$1" | tail -n 30
}

passed=0
for s in "${scenarios[@]}"; do
  distro="$(sed -n 's/^# host_distro: *\([a-z]*\).*/\1/p' "molecule/$s/molecule.yml")"
  export MOLECULE_HOST_DISTRO="${distro:-trixie}"
  log "molecule scenario $s (host $MOLECULE_HOST_DISTRO)"
  start=$SECONDS
  logf="$logdir/$s.log"
  if ! molecule test -s "$s" 2>&1 | tee "$logf"; then
    log "molecule scenario $s FAILED after $((SECONDS - start)) s; its failed tasks (full log: $logf):"
    failure_summary "$logf" >&2
    echo "molecule: $passed passed, 1 failed"
    exit 1
  fi
  log "molecule scenario $s passed in $((SECONDS - start)) s"
  passed=$((passed + 1))
done
echo "molecule: $passed passed, 0 failed"
