"""roles/omero_bootstrap with the real site model, for the stack scenario's inventory: what
reaches the omero_group, omero_user and omero_script modules (recorded by stand-ins).

The expected arguments are those the role passed when it still read the raw omero_groups,
omero_users and omero_scripts itself (recorded before it read omero_site_model.bootstrap);
the Molecule stack scenario (bootstrap_wire, scripts_survive) applies them to a server.
"""

# ruff: noqa: S105, S106 - test data: the scenario's fake user password, a password policy

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import playbook

REPO_ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.playbook
STACK = REPO_ROOT / "molecule" / "stack"

RECORDER = r'''#!/usr/bin/python
import json, os, sys
from ansible.module_utils.basic import _load_params
params = dict((k, v) for k, v in _load_params().items() if not k.startswith("_ansible"))
with open(os.environ["FAKE_OMERO_CALLS"], "a") as handle:
    handle.write(json.dumps({"module": "%s", "params": params}) + "\n")
print(json.dumps({"changed": False, "groups": [], "users": [], "password_changed": []}))
sys.stdout.flush()
os._exit(0)
'''


def _stack_group_vars(tmp_path):
    text = (STACK / "molecule.yml").read_text()
    text = text.replace("${MOLECULE_EPHEMERAL_DIRECTORY}", str(tmp_path)).replace(
        "${MOLECULE_SCENARIO_DIRECTORY}", str(STACK))
    return yaml.safe_load(text)["provisioner"]["inventory"]["group_vars"]["omero"]


def test_stack_inventory_reaches_the_modules_as_before(tmp_path):
    coll = tmp_path / "collections" / "ansible_collections" / "omero_docker" / "stack"
    for rel in ("roles/omero_bootstrap", "plugins/action", "plugins/module_utils", "plugins/filter", "files",
                "meta", "galaxy.yml"):
        (coll / rel).parent.mkdir(parents=True, exist_ok=True)
        (coll / rel).symlink_to(REPO_ROOT / rel)
    (coll / "plugins" / "modules").mkdir(parents=True)
    for name in ("omero_group", "omero_user", "omero_script"):
        (coll / "plugins" / "modules" / (name + ".py")).write_text(RECORDER % name)
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump([{
        "name": "bootstrap", "hosts": "omero", "gather_facts": False,
        "tasks": [{"name": "Model", "omero_docker.stack.site_model": None},
                  {"name": "Role", "ansible.builtin.import_role": {"name": "omero_docker.stack.omero_bootstrap"}}]}]))
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"children": {"omero": {
        "hosts": {"omero-host": {"ansible_connection": "local"}}, "vars": _stack_group_vars(tmp_path)}}}}))
    calls = tmp_path / "calls.jsonl"
    extra = {"ansible_python_interpreter": sys.executable, "ansible_connection": "local",
             "omero_bootstrap_interpreter": str(tmp_path / "bin" / "python"), "omero_bootstrap_root_password_file": ""}
    done = playbook.run_playbook(tmp_path / "playbook.yml", tmp_path / "inventory.yml", "-e", json.dumps(extra),
                                 env={"FAKE_OMERO_CALLS": str(calls),
                                      "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
                                      "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")}, timeout=240)
    assert done.rc == 0, done.failures() or done.output[-3000:]
    assert "e2e-user-password" not in done.output

    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert [c["module"] for c in recorded] == ["omero_group", "omero_group", "omero_user", "omero_script"]
    store = yaml.safe_load((tmp_path / "secrets" / "e2e.yml").read_text())
    login = {"host": "localhost", "port": 4064, "user": "root", "password": store["omero_root_password"]}
    groups, users, scripts = (c["params"] for c in recorded[1:])
    assert groups == dict(login, invocation_timeout=300, chmod_timeout=1800,
                          groups=[{"name": "e2e-lab", "permissions": "read-annotate"}])
    assert users == dict(login, invocation_timeout=300, update_password="on_create", users=[
        {"name": "job-service", "password": store["omero_job_service_password"], "update_password": "always",
         "admin_privileges": ["Sudo"]},
        {"name": "e2e-user", "password": "e2e-user-password", "groups": ["e2e-lab"]}])
    assert scripts == dict(login, invocation_timeout=300, official=[], official_version="5.10.0",
                           official_search_path=["/tmp/omero_bootstrap/omero-scripts-5.10.0"],  # noqa: S108
                           scripts=[{"path": "/facility/E2E_Hello.py",
                                     "content": (STACK / "files" / "E2E_Hello.py").read_text()}],
                           prune=False, managed_folders=["/facility"])
