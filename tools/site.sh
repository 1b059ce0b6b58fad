#!/usr/bin/env bash
# The main job: run playbooks/site.yml against inventories/local (this host).
# Usage: tools/site.sh [ansible-playbook args...]   e.g. --check --diff, -i inventories/example
#        tools/site.sh plan [ansible-playbook args...] the change plan (playbooks/plan.yml) only
# Creates its cached virtualenv with the pinned requirements on first use.
source "$(dirname "$0")/common.sh"
venv="$("$REPO_ROOT/tools/venv.sh" run)"
ANSIBLE_COLLECTIONS_PATH="$(collections_dir)"
export ANSIBLE_COLLECTIONS_PATH
cd "$REPO_ROOT" || exit 1
playbook=playbooks/site.yml
if [ "${1:-}" = plan ]; then playbook=playbooks/plan.yml; shift; fi
inventory=(-i inventories/local)
for a in "$@"; do case "$a" in -i|--inventory|--inventory=*|-i*) inventory=() ;; esac; done
exec "$venv/bin/ansible-playbook" "${inventory[@]}" "$playbook" "$@"
