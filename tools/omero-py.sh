#!/usr/bin/env bash
# Usage: tools/omero-py.sh VENV
# Makes omero-py importable in the virtualenv VENV: installs the patched zeroc-ice
# 3.6.5 wheel (tests/images/wheels/zeroc-ice.sh, built once and cached) and the pins of
# requirements/omero.txt, but only when `import omero, omero.gateway` fails there or
# the pins changed since the last install. A second run costs one Python start.
source "$(dirname "$0")/common.sh"
venv="${1:?usage: omero-py.sh VENV}"
py="$venv/bin/python"
[ -x "$py" ] || die "no Python in virtualenv $venv"
req="$REPO_ROOT/requirements/omero.txt"
stamp="$venv/.omero-py-$(content_key "$req" "$REPO_ROOT/requirements/constraints.txt" "$REPO_ROOT/tests/images/wheels/zeroc-ice.sh")"
if [ -f "$stamp" ] && "$py" -c 'import omero, omero.gateway' >/dev/null 2>&1; then
  exit 0
fi
log "installing omero-py into $venv"
whl="$(PYTHON="$py" "$REPO_ROOT/tests/images/wheels/zeroc-ice.sh")"
[ -f "$whl" ] || die "no zeroc-ice wheel at '$whl'"
pip_quiet "$venv" install "$whl" -r "$req" -c "$REPO_ROOT/requirements/constraints.txt"
"$py" -c 'import omero, omero.gateway' || die "omero-py does not import in $venv after installing it"
rm -f "$venv"/.omero-py-*
touch "$stamp"
log "omero-py ready in $venv"
