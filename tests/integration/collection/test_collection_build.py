"""`ansible-galaxy collection build` gives a tarball that installs without Galaxy and
whose roles and plugins Ansible then finds by FQCN from the installed copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.tarball


def _run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    # Build from what git would ship (tracked and new files), like a release would.
    files = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                 cwd=REPO_ROOT).stdout.split("\0")
    for rel in filter(None, files):
        if (REPO_ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / rel, src / rel)
    _run([BIN / "ansible-galaxy", "collection", "build", "--output-path", tmp / "dist", src])
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    tarball = tmp / "dist" / f"omero_docker-stack-{version}.tar.gz"
    assert tarball.is_file()
    dest = tmp / "collections"
    # --force: Molecule may have installed a copy under ~/.ansible already.
    _run([BIN / "ansible-galaxy", "collection", "install", "--offline", "--no-deps", "--force",
          "-p", dest, tarball], env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest)))
    return tarball, dest


def test_tarball_ships_roles_and_plugins_but_not_test_tooling(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "MANIFEST.json" in names
    for role in _roles():
        assert f"roles/{role}/tasks/main.yml" in names
    for module in (REPO_ROOT / "plugins" / "modules").glob("*.py"):
        assert f"plugins/modules/{module.name}" in names
    assert not any(n.startswith(("tools/", ".ci/", "molecule/")) for n in names)


def _roles():
    return sorted(p.parent.parent.name for p in (REPO_ROOT / "roles").glob("*/tasks/main.yml"))


def test_installed_collection_is_found_by_fqcn(installed):
    dest = installed[1]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest))
    listing = _run([BIN / "ansible-galaxy", "collection", "list", "omero_docker.stack",
                    "--format", "json"], env=env).stdout
    paths = json.loads(listing)
    assert str(dest / "ansible_collections") in paths, paths
    modules = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py"))
    if modules:
        doc = json.loads(_run([BIN / "ansible-doc", "-t", "module", "-l", "omero_docker.stack",
                               "--json"], env=env).stdout)
        assert sorted(k.split(".")[-1] for k in doc) == modules
    roles = _roles()
    if roles:
        doc = json.loads(_run([BIN / "ansible-doc", "-t", "role", "-l", "omero_docker.stack",
                               "--json"], env=env).stdout)
        assert sorted(k.split(".")[-1] for k in doc) == roles
    # A play that imports every role by FQCN: the syntax check resolves each one from
    # the installed copy, and fails if one is missing.
    play = dest / "play.yml"
    play.write_text(yaml.safe_dump([{
        "name": "FQCN smoke", "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": f"Import {r}", "ansible.builtin.import_role":
                   {"name": f"omero_docker.stack.{r}"}} for r in roles]
        or [{"name": "No roles yet", "ansible.builtin.meta": "noop"}],
    }]))
    _run([BIN / "ansible-playbook", "--syntax-check", "-i", "localhost,", play], env=env)
