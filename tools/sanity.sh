#!/usr/bin/env bash
# Usage: tools/sanity.sh [ansible-test sanity args...]
# Runs `ansible-test sanity` on a copy of the collection placed at
# <tmp>/ansible_collections/omero_docker/stack (ansible-test requires that path),
# with the local Python and no containers, in its own cached virtualenv, into which
# ansible-test installs its pinned sanity requirements (--requirements).
source "$(dirname "$0")/common.sh"
venv="$("$REPO_ROOT/tools/venv.sh" sanity)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/ansible_collections/omero_docker/stack"
mkdir -p "$dest"
# Only what git would ship (tracked and new, not ignored files).
(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard) \
  | (cd "$REPO_ROOT" && xargs -0 -r tar -c --no-recursion -f - 2>/dev/null) \
  | tar -C "$dest" -x
cd "$dest" || exit 1
# Collections we depend on, next to ours, for the import and validate-modules tests.
site="$("$venv/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[-1]))')"
for c in community/docker ansible/posix; do
  mkdir -p "$tmp/ansible_collections/${c%/*}"
  ln -s "$site/ansible_collections/$c" "$tmp/ansible_collections/$c"
done
# ansible-test bootstraps pip into its per-test virtualenvs with a downloaded script
# from a host we cannot reach; give it our stand-in under the name it looks for.
pipver="$("$venv/bin/python" -c 'import re, ansible_test._internal.python_requirements as m, inspect; print(re.search(r"pip=.([0-9.]+).", inspect.getsource(m)).group(1))')"
mkdir -p "$HOME/.ansible/test/cache"
cp "$REPO_ROOT/tools/ansible-test-get-pip.py" "$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py"
"$venv/bin/ansible-test" sanity --requirements --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no "$@"
