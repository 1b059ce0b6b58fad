"""Bad input to the docker_host role fails in validation, naming the variable.

Each case runs ``ansible-playbook --check`` against localhost (no host access beyond
that; validation fails before the role's first change) and checks the error text.
The role is used by its collection name through a temporary collections tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) or shutil.which(
    "ansible-playbook"
)

pytestmark = [pytest.mark.playbook,
              pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")]

PLAYBOOK = """\
- name: Run docker_host with the test's variables
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Apply the role
      ansible.builtin.include_role:
        name: omero_docker.stack.docker_host
        tasks_from: {entry}
"""


@pytest.fixture(scope="module")
def collections_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("collections")
    (root / "ansible_collections" / "omero_docker").mkdir(parents=True)
    (root / "ansible_collections" / "omero_docker" / "stack").symlink_to(REPO_ROOT)
    return root


def run_role(tmp_path, collections_tree, variables_yaml, entry="main"):
    """Run the role in check mode with the given variables (a YAML document, so that
    YAML typing such as unquoted numbers and dates applies as in an inventory)."""
    (tmp_path / "play.yml").write_text(PLAYBOOK.format(entry=entry))
    (tmp_path / "vars.yml").write_text(textwrap.dedent(variables_yaml))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(collections_tree),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
        ANSIBLE_HOME=str(tmp_path / "home"),
    )
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "--check", "-i", "localhost,", "-e", "@vars.yml", "play.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def assert_refused(rc, output, *patterns):
    assert rc != 0, output
    for pattern in patterns:
        assert re.search(pattern, output), f"{pattern!r} not in:\n{output}"
    # Validation stops the play before any task could change something.
    assert re.search(r"changed=0\b", output), output


def test_defaults_pass_validation(tmp_path, collections_tree):
    rc, output = run_role(tmp_path, collections_tree, "{}\n", entry="validate")
    assert rc == 0, output
    assert "Validating arguments against arg spec 'validate'" in output


def test_unknown_source_is_refused(tmp_path, collections_tree):
    rc, output = run_role(tmp_path, collections_tree, "docker_host_source: podman\n")
    assert_refused(rc, output, r"docker_host_source must be one of: docker_ce, debian", r"got: podman")


def test_version_pin_that_is_a_number_is_refused(tmp_path, collections_tree):
    rc, output = run_role(
        tmp_path,
        collections_tree,
        """\
        docker_host_docker_ce_versions:
          trixie:
            docker_ce: "5:28.5.2-1~debian.13~trixie"
            containerd: "1.7.28-1~debian.13~trixie"
            buildx: "0.29.1-1~debian.13~trixie"
            compose: 2.40
        """,
    )
    assert_refused(rc, output, r"docker_host_docker_ce_versions\.trixie", r"not strings", r'\\?"compose\\?": 2\.4')


def test_version_pin_missing_is_refused(tmp_path, collections_tree):
    rc, output = run_role(
        tmp_path,
        collections_tree,
        """\
        docker_host_docker_ce_versions:
          trixie:
            docker_ce: "5:28.5.2-1~debian.13~trixie"
        """,
    )
    assert_refused(rc, output, r"missing required arguments: buildx, compose, containerd", r"trixie")


def test_daemon_option_that_json_cannot_carry_is_refused(tmp_path, collections_tree):
    # An unquoted date is a YAML timestamp, not a string: JSON has no such type.
    rc, output = run_role(tmp_path, collections_tree, "docker_host_daemon_extra:\n  shutdown-after: 2026-01-01\n")
    assert_refused(rc, output, r"docker_host_daemon_extra holds a value that JSON cannot represent")


def test_daemon_option_of_the_wrong_type_is_refused(tmp_path, collections_tree):
    rc, output = run_role(tmp_path, collections_tree, "docker_host_daemon_log_max_file: three\n")
    assert_refused(rc, output, r"docker_host_daemon_log_max_file", r"unable to convert to int")


def test_daemon_extra_that_is_not_a_mapping_is_refused(tmp_path, collections_tree):
    rc, output = run_role(tmp_path, collections_tree, "docker_host_daemon_extra: [live-restore]\n")
    assert_refused(rc, output, r"docker_host_daemon_extra", r"unable to convert to dict")


def test_argument_specs_match_defaults():
    """Every variable has a spec, every spec has a default, and they agree."""
    import yaml

    role = REPO_ROOT / "roles" / "docker_host"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry in ("main", "validate"):
        options = specs[entry]["options"]
        assert set(options) == set(defaults), entry
        for name, spec in options.items():
            assert spec.get("default") == defaults[name], f"{entry}: {name}"
            assert spec.get("description"), f"{entry}: {name} has no description"


def test_readme_documents_every_variable():
    import yaml

    role = REPO_ROOT / "roles" / "docker_host"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    readme = (role / "README.md").read_text()
    missing = [name for name in defaults if f"`{name}`" not in readme]
    assert not missing
