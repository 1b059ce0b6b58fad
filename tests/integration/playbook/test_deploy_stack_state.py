"""How the deploy role reads a Swarm stack (roles/deploy/vars/main.yml, used by
tasks/stack.yml), evaluated by ansible-playbook on this machine from the role's own vars
file, on what `docker service inspect` and `docker service ls` print:

- _deploy_stack_changes: which services `docker stack deploy` would create, update or
  remove, from their stack-spec hash labels (none: the deploy is skipped);
- _deploy_stack_not_ready: what the health wait still waits for (an update in progress or
  paused, fewer running tasks than desired, a service missing), and nothing once every
  service runs all its tasks.

The Molecule scenario multinode runs the same code against a real Swarm (first deploy, a
no-op re-run, a one-service change); this covers the states it cannot provoke on demand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))
from tests.helpers.playbook import run_playbook  # noqa: E402

pytestmark = pytest.mark.playbook
LABEL = "org.omero-docker.stack.stack-spec-hash"
MODEL = {"site": {"project_name": "mn"},
         "stack": {"services": {"db": {"deploy": {"labels": {LABEL: "h-db"}}},
                                "web": {"deploy": {"labels": {LABEL: "h-web"}}},
                                "new": {"deploy": {"labels": {LABEL: "h-new"}}}}}}


def _evaluate(tmp_path, facts):
    playbook = tmp_path / "stack_state.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "vars": {"omero_site_model": MODEL},
        "tasks": [
            {"ansible.builtin.include_vars": {"file": str(REPO_ROOT / "roles" / "deploy" / "vars" / "main.yml")}},
            {"ansible.builtin.set_fact": facts},
            {"ansible.builtin.debug": {"msg": "{{ {'changes': _deploy_stack_changes,"
                                              " 'not_ready': _deploy_stack_not_ready} | to_json }}"}},
        ]}]))
    run = run_playbook(playbook, "localhost,", "-c", "local", "-e",
                       "ansible_python_interpreter=%s" % sys.executable)
    assert run.rc == 0, run.failures() or run.output[-3000:]
    for play in run.data["plays"]:
        for task in play["tasks"]:
            msg = task["hosts"]["localhost"].get("msg")
            if isinstance(msg, str) and msg.startswith("{"):
                return json.loads(msg)
    raise AssertionError("no debug output: %s" % run.output[-2000:])


def test_changes_name_the_created_updated_and_removed_services(tmp_path):
    running = ["mn_db h-db", "mn_web h-web-old", "mn_gone h-gone"]
    result = _evaluate(tmp_path, {"_deploy_running_specs": {"stdout_lines": running},
                                  "_deploy_stack_state": {"stdout_lines": []}})
    assert sorted(result["changes"]) == ["create mn_new", "remove mn_gone", "update mn_web"]


def test_nothing_changes_when_every_hash_matches(tmp_path):
    running = ["mn_db h-db", "mn_web h-web", "mn_new h-new"]
    result = _evaluate(tmp_path, {"_deploy_running_specs": {"stdout_lines": running},
                                  "_deploy_stack_state": {"stdout_lines": []}})
    assert result["changes"] == []


def test_the_wait_names_updates_missing_tasks_and_services(tmp_path):
    state = ["mn_db none", "mn_web updating", "--", "mn_db 1/1", "mn_web 0/1"]
    result = _evaluate(tmp_path, {"_deploy_running_specs": {"stdout_lines": []},
                                  "_deploy_stack_state": {"stdout_lines": state}})
    assert sorted(result["not_ready"]) == ["mn_new: no service", "mn_web: 0/1 tasks running",
                                           "mn_web: update updating"]


def test_the_wait_ends_when_every_service_runs_all_its_tasks(tmp_path):
    state = ["mn_db completed", "mn_new none", "mn_web rollback_completed", "--",
             "mn_db 1/1", "mn_new 3/3", "mn_web 1/1"]
    result = _evaluate(tmp_path, {"_deploy_running_specs": {"stdout_lines": []},
                                  "_deploy_stack_state": {"stdout_lines": state}})
    assert result["not_ready"] == []
