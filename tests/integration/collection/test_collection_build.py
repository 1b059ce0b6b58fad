"""`ansible-galaxy collection build` gives a tarball that installs without Galaxy and
whose roles and plugins Ansible then finds by FQCN from the installed copy; installed
with its dependencies resolved offline from a directory of collection tarballs (made
here from the copies the `ansible` package ships: Galaxy is not reachable), the main
playbook passes ansible-playbook's syntax check from that collections path alone."""

from __future__ import annotations

import hashlib
import io
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


def _artifact(src, tarball):
    """A Galaxy artifact of the installed collection ``src``: its files, a FILES.json that
    lists exactly them (the `ansible` package leaves out some its FILES.json names) and its
    MANIFEST.json pointing at that FILES.json, as `ansible-galaxy collection build` makes them."""
    files = [{"name": ".", "ftype": "dir", "chksum_type": None, "chksum_sha256": None, "format": 1}]
    paths = sorted(q for q in src.rglob("*") if "__pycache__" not in q.parts
                   and q.name not in ("MANIFEST.json", "FILES.json"))
    for path in paths:
        rel = path.relative_to(src).as_posix()
        if path.is_dir():
            files.append({"name": rel, "ftype": "dir", "chksum_type": None, "chksum_sha256": None, "format": 1})
        else:
            files.append({"name": rel, "ftype": "file", "chksum_type": "sha256",
                          "chksum_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "format": 1})
    files_json = json.dumps({"files": files, "format": 1}).encode()
    manifest = json.loads((src / "MANIFEST.json").read_text())
    manifest["file_manifest_file"].update(chksum_type="sha256", chksum_sha256=hashlib.sha256(files_json).hexdigest())
    with tarfile.open(tarball, "w:gz") as tar:
        for name, data in (("MANIFEST.json", json.dumps(manifest).encode()), ("FILES.json", files_json)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for path in paths:
            tar.add(path, arcname=path.relative_to(src).as_posix(), recursive=False)


def _dependency_tarballs(dest):
    """An artifact of each dependency galaxy.yml declares, and of theirs, from the copy the
    installed `ansible` package ships."""
    import ansible_collections  # the `ansible` package's collections (namespace package)

    roots = [Path(p) for p in ansible_collections.__path__]
    todo = list(yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["dependencies"])
    tarballs, seen = [], set()
    while todo:
        fqcn = todo.pop()
        if fqcn in seen:
            continue
        seen.add(fqcn)
        namespace, name = fqcn.split(".")
        src = next(r / namespace / name for r in roots if (r / namespace / name / "MANIFEST.json").is_file())
        info = json.loads((src / "MANIFEST.json").read_text())["collection_info"]
        todo.extend(info.get("dependencies") or {})
        tarball = dest / f"{namespace}-{name}-{info['version']}.tar.gz"
        _artifact(src, tarball)
        tarballs.append(tarball)
    return tarballs


def test_installs_with_its_dependencies_offline_and_site_yml_passes_the_syntax_check(installed, tmp_path):
    tarball = installed[0]
    deps = tmp_path / "tarballs"
    deps.mkdir()
    dest = tmp_path / "collections"
    # Only this path: neither ~/.ansible nor the `ansible` package's bundled collections.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    # Resolved from the tarballs given: nothing is fetched (--offline).
    _run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", dest, tarball,
          *_dependency_tarballs(deps)], env=env)
    listing = json.loads(_run([BIN / "ansible-galaxy", "collection", "list", "--format", "json"],
                              env=env).stdout)
    installed_here = listing.get(str(dest / "ansible_collections"), {})
    wanted = {"omero_docker.stack"} | set(yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["dependencies"])
    assert wanted <= set(installed_here), listing
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"omero": {"hosts": {"omero-host": {}}}}}}))
    _run([BIN / "ansible-playbook", "--syntax-check", "-i", inventory, "omero_docker.stack.site"], env=env)
    # Without the dependencies the same check fails: the check above saw them in that path.
    bare = tmp_path / "bare"
    _run([BIN / "ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", bare, tarball],
         env=dict(env, ANSIBLE_COLLECTIONS_PATH=str(bare)))
    failed = subprocess.run([BIN / "ansible-playbook", "--syntax-check", "-i", inventory, "omero_docker.stack.site"],
                            env=dict(env, ANSIBLE_COLLECTIONS_PATH=str(bare)), capture_output=True, text=True,
                            check=False)
    assert failed.returncode != 0 and "community.docker" in failed.stdout + failed.stderr, failed
