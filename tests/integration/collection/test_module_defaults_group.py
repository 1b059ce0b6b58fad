"""meta/runtime.yml's action group `omero` holds exactly the modules that share the OMERO
connection options, and `module_defaults: {group/omero_docker.stack.omero: ...}` reaches
them: the required `password` comes from the group's defaults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def _connection_modules():
    out = []
    for module in sorted((REPO_ROOT / "plugins" / "modules").glob("*.py")):
        if re.search(r"^extends_documentation_fragment:\n(\s+- .*\n)*\s+- omero_docker\.stack\.omero_connection$",
                     module.read_text(), re.M):
            out.append(module.stem)
    return out


def test_omero_group_lists_the_modules_with_the_connection_options():
    groups = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())["action_groups"]
    assert sorted(groups["omero"]) == _connection_modules()
    assert _connection_modules()


@pytest.mark.playbook
def test_module_defaults_group_supplies_the_connection_options(tmp_path):
    tree = tmp_path / "ansible_collections" / "omero_docker"
    tree.mkdir(parents=True)
    (tree / "stack").symlink_to(REPO_ROOT)
    play = tmp_path / "play.yml"

    def run(module_defaults):
        play.write_text(yaml.safe_dump([{
            "hosts": "localhost", "gather_facts": False, "module_defaults": module_defaults,
            "tasks": [{"name": "Group", "omero_docker.stack.omero_group": {"groups": []}}],
        }]))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path), ANSIBLE_HOME=str(tmp_path / "home"),
                   ANSIBLE_NOCOLOR="1")
        proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                               "-e", f"ansible_python_interpreter={sys.executable}", str(play)],
                              capture_output=True, text=True, env=env, check=False, timeout=300)
        return proc.stdout + proc.stderr

    without = run({})
    assert "missing required arguments: password" in without, without
    # Nothing listens on port 9 of localhost: the module fails there (or earlier, when
    # omero-py is missing), after its options were accepted.
    with_group = run({"group/omero_docker.stack.omero": {
        "host": "127.0.0.1", "port": 9, "password": "x", "connect_timeout": 2, "invocation_timeout": 2}})
    assert "missing required arguments" not in with_group, with_group
    assert re.search(r'"error_kind": "(unreachable|missing_library|not_ready|timeout)"', with_group), with_group
