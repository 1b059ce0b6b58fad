#!/usr/bin/env bash
# The whole test suite, in order, stopping at the first failure:
#   1. lint (ansible-lint production profile, yamllint, ruff, shellcheck)
#   2. ansible-test sanity
#   3. pytest tests/unit and tests/integration (but the live OMERO.server suite,
#      tests/integration/omero, which the stand-in test runs)
#   4. every Molecule scenario under molecule/
# It creates its own virtualenvs, installs the Debian tools it needs, makes sure a
# Docker engine answers (starting one if needed, and stopping only that one), and
# builds the offline test images. Set OMERO_STACK_STAGES to run some stages only
# (e.g. "unit molecule").
# With both stages, pytest (stage 3) runs beside the `stack` scenario, the last and longest
# (about a third of CI's 2 cores is idle while it runs), at the lowest priority (nice 19)
# so that it takes only what the scenario leaves; the other scenarios run alone before
# (their nested runs on three hosts slow down most under load). Its output is printed and
# its result counted when `stack` ends. OMERO_STACK_SERIAL=1 runs the stages one after the
# other.
source "$(dirname "$0")/common.sh"
stages="${OMERO_STACK_STAGES:-lint sanity unit molecule}"
t0=$SECONDS
"$REPO_ROOT/tools/apt-deps.sh" debootstrap shellcheck
venv="$("$REPO_ROOT/tools/venv.sh" test)"
export PATH="$venv/bin:$PATH"
ANSIBLE_COLLECTIONS_PATH="$(collections_dir)"
export ANSIBLE_COLLECTIONS_PATH
cd "$REPO_ROOT" || exit 1

done_stages=0
stage() { log "=== stage $1 ==="; }
beside=""
if [ -z "${OMERO_STACK_SERIAL:-}" ] && [[ " $stages " == *" unit "* ]] && [[ " $stages " == *" molecule "* ]]; then
  beside=1
fi
pytest_pid="" pytest_deferred="" pytest_args=()
pytest_log="$OMERO_STACK_CACHE/logs/pytest.log"
# pytest in the background, beside the stack scenario (see above).
start_pytest() {
  [ -n "$pytest_deferred" ] || return 0
  pytest_deferred=""
  mkdir -p "$(dirname "$pytest_log")"
  log "stage unit: pytest runs beside the scenarios that follow, at nice 19 (output: $pytest_log)"
  nice -n 19 pytest "${pytest_args[@]}" >"$pytest_log" 2>&1 &
  pytest_pid=$!
}
# The pytest started beside the Molecule stage: its output, and its failure as the unit stage's.
wait_pytest() {
  [ -n "$pytest_pid" ] || return 0
  log "waiting for pytest (stage unit)"
  local rc=0
  wait "$pytest_pid" || rc=$?
  pytest_pid=""
  cat "$pytest_log"
  if [ "$rc" -ne 0 ]; then
    done_stages=$((done_stages - 1))
    die "stage unit (pytest) failed (exit $rc)"
  fi
  log "stage unit (pytest) passed"
}
finish() {
  local rc=$?
  if [ -n "$pytest_pid" ]; then kill "$pytest_pid" 2>/dev/null || true; fi
  "$REPO_ROOT/tools/docker-engine.sh" stop || true
  if [ "$rc" -eq 0 ]; then
    log "all stages passed in $((SECONDS - t0)) s"
    echo "stages: $done_stages passed, 0 failed"
  else
    log "FAILED after $((SECONDS - t0)) s"
    echo "stages: $done_stages passed, 1 failed"
  fi
  exit "$rc"
}
trap finish EXIT

for s in $stages; do
  stage "$s"
  case "$s" in
    lint)
      yamllint --strict .
      ruff check .
      ansible-lint --profile production --offline
      git ls-files -z --cached --others --exclude-standard -- '*.sh' .ci/run 'roles/*/files/omero-stack-*' \
        | xargs -0 -r shellcheck
      ;;
    sanity)
      "$REPO_ROOT/tools/sanity.sh"
      ;;
    unit)
      # omero-py (with the patched zeroc-ice wheel) for the OMERO modules' tests; the
      # engine and the service test images for the tests of the image payloads
      # (pg-maintenance against a real PostgreSQL) and of the OMERO.server stand-in.
      "$REPO_ROOT/tools/omero-py.sh" "$venv"
      "$REPO_ROOT/tools/docker-engine.sh" ensure
      "$REPO_ROOT/tests/images/build.sh"
      "$REPO_ROOT/tests/images/services/build.sh" >/dev/null
      "$REPO_ROOT/tests/images/omero-server/build.sh" >/dev/null
      # Compose v2 for the tests that render and run manifests on this machine.
      DOCKER_COMPOSE_BINARY="$("$REPO_ROOT/tests/images/compose/extract.sh")"
      export DOCKER_COMPOSE_BINARY
      # Unit tests, then the integration tests (ansible-playbook, Docker, venvs, the
      # tarball; markers in pytest.ini). tests/integration/omero is the live suite:
      # tests/integration/images/test_omero_modules_on_standin.py runs it on the stand-in.
      pytest_args=(-q -p no:cacheprovider tests/unit tests/integration --ignore=tests/integration/omero)
      if [ -n "$beside" ]; then
        # Started by the Molecule stage, before the stack scenario (start_pytest).
        log "stage unit: pytest will run beside the stack scenario"
        pytest_deferred=1
      else
        pytest "${pytest_args[@]}"
      fi
      ;;
    molecule)
      "$REPO_ROOT/tools/docker-engine.sh" ensure
      "$REPO_ROOT/tests/images/build.sh"
      "$REPO_ROOT/tests/images/services/build.sh" >/dev/null
      # OMERO.web test base image and the OMERO.server stand-in (the stack scenario
      # builds the site images on them).
      "$REPO_ROOT/tests/images/omero-web/build.sh" >/dev/null
      "$REPO_ROOT/tests/images/omero-server/build.sh" >/dev/null
      if [ -n "${MOLECULE_SCENARIOS:-}" ]; then
        read -r -a scenarios <<<"$MOLECULE_SCENARIOS"
      else
        scenarios=()
        for f in "$REPO_ROOT"/molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$f")")"); done
      fi
      first=() last=()
      for sc in "${scenarios[@]}"; do
        if [ "$sc" = stack ]; then last+=("$sc"); else first+=("$sc"); fi
      done
      [ "${#first[@]}" -eq 0 ] || "$REPO_ROOT/tools/molecule-all.sh" "$venv" "${first[@]}"
      if [[ " ${scenarios[*]} " == *" harness "* ]]; then
        "$REPO_ROOT/tools/harness-selfcheck.sh" "$venv"
      fi
      start_pytest
      [ "${#last[@]}" -eq 0 ] || "$REPO_ROOT/tools/molecule-all.sh" "$venv" "${last[@]}"
      wait_pytest
      ;;
    *) die "unknown stage $s" ;;
  esac
  done_stages=$((done_stages + 1))
done
wait_pytest
