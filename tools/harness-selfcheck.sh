#!/usr/bin/env bash
# Usage: tools/harness-selfcheck.sh VENV
# A test of the test harness: converge the harness scenario with a deliberately
# non-idempotent role (HARNESS_PROBE_BREAK=1) and require Molecule's idempotence
# step to FAIL. Exits non-zero if the broken role slips through.
source "$(dirname "$0")/common.sh"
venv="${1:?usage: harness-selfcheck.sh VENV}"
ANSIBLE_COLLECTIONS_PATH="$(collections_dir)"
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH
export MOLECULE_GLOB="molecule/*/molecule.yml" MOLECULE_HOST_DISTRO=trixie
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1 HARNESS_PROBE_BREAK=1
cd "$REPO_ROOT" || exit 1
trap 'molecule destroy -s harness >/dev/null 2>&1 || true' EXIT
molecule destroy -s harness >/dev/null 2>&1 || true
log "harness self-check: converging a deliberately non-idempotent role"
molecule converge -s harness >/dev/null 2>&1 || die "converge of the broken probe failed outright"
out="$(molecule idempotence -s harness 2>&1)" && {
  printf '%s\n' "$out" | tail -n 20 >&2
  die "harness self-check: the idempotence step PASSED a role that changes on every run"
}
printf '%s\n' "$out" | grep -q 'Idempotence test failed' \
  || { printf '%s\n' "$out" | tail -n 20 >&2; die "idempotence failed, but not for idempotence"; }
printf '%s\n' "$out" | grep -q 'Rewrite a timestamp on every run' \
  || die "idempotence failed without naming the non-idempotent task"
log "harness self-check passed: idempotence caught the non-idempotent task"
