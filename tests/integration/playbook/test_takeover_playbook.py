"""playbooks/takeover.yml on this machine (issue 17): it reads a reference installation's
files (tests/helpers/reference_stack.py, written to a temp dir) and writes, on the
controller, the site description and the secrets for review; nothing else. No Docker engine
answers here (DOCKER_HOST names a socket that does not exist): the review says the running
containers were not checked. The cross-check with running containers, and the switch
(playbooks/takeover_switch.yml), run against a running reference in Molecule."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers import playbook, reference_stack
from tests.helpers.sites import REPO_ROOT

pytestmark = [pytest.mark.playbook,
              pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="needs ansible-playbook")]


def _run(tmp_path, *args):
    inventory = tmp_path / "inventory" / "hosts.yml"
    inventory.parent.mkdir(exist_ok=True)
    inventory.write_text(yaml.safe_dump({"omero": {"hosts": {"lab": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "takeover_reference_dir": str(tmp_path / "opt-omero"), "takeover_base_dir": str(tmp_path / "srv-omero")}}}}))
    return playbook.run_playbook(REPO_ROOT / "playbooks" / "takeover.yml", inventory, *args, cwd=str(tmp_path),
                                 env={"ANSIBLE_LOCALHOST_WARNING": "false",
                                      "DOCKER_HOST": "unix://%s/no-engine.sock" % tmp_path})


def _review_messages(run):
    """The lines of the debug task that ends the describe step."""
    return [line for play in run.data.get("plays", []) for task in play.get("tasks", [])
            if task["task"]["name"].endswith(": What to review before the switch")
            for res in task.get("hosts", {}).values() for line in res.get("msg", [])]


def test_writes_the_description_and_the_secrets_for_review(tmp_path):
    reference_stack.write(tmp_path / "opt-omero")
    run = _run(tmp_path)
    assert run.rc == 0, "\n".join(run.failures()) or run.output[-4000:]
    out = tmp_path / "inventory" / "host_vars" / "lab"
    site_text = (out / "omero_site.yml").read_text()
    site = yaml.safe_load(site_text)
    assert site["omero_site_plugin_db_name"] == "omero-plugin"
    assert site["omero_site_paths"]["omero_data"] == str(tmp_path / "opt-omero" / "omero_data" / "omero_user_data")
    assert site["omero_site_generate_secrets"] is False
    assert "# - OMERO.web registered these apps" in site_text
    # no engine answers: the review says what was not checked, and the run does not fail on it
    unchecked = "the running containers were not checked: the Docker engine did not answer ("
    assert "# Checked against the running containers:\n# - " + unchecked in site_text
    assert site_text.count(unchecked) == 1
    assert [line for line in _review_messages(run) if line.startswith(unchecked)] != []
    secrets_file = out / "omero_secrets.yml"
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    secrets = yaml.safe_load(secrets_file.read_text())
    assert secrets["omero_secrets"]["omero_web_secret_key"] == reference_stack.WEB_SECRET_KEY
    assert secrets["takeover_previous_root_password"] == reference_stack.STRONG["ROOTPASS"]
    # no secret in the run's output, nothing written on the "host" but the controller's files
    for value in reference_stack.STRONG.values():
        assert value not in run.output and value not in site_text
    assert "srv-omero" not in os.listdir(tmp_path)
    # and the site model takes it, with its secrets
    model = build_site_model(site, secrets["omero_secrets"], local_files={})
    assert model["site"]["plugin_db_user"] == "omero-plugin"
    # a second run writes the same
    again = _run(tmp_path)
    assert again.rc == 0 and again.changed_tasks() == []


def test_no_reference_there(tmp_path):
    run = _run(tmp_path)
    assert run.rc != 0
    assert "set takeover_reference_dir" in "\n".join(run.failures())
