"""The execution environment: execution-environment.yml (ansible-builder schema 3) makes a
build context offline, with the collection's requirement files and the versions the
collection pins; meta/execution-environment.yml is what ansible-builder reads from the
installed collection (`ansible-builder introspect`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
TOOL = BIN / "ansible-builder"


def _builder(*args, cwd=REPO_ROOT):
    if not TOOL.is_file():
        pytest.skip(f"ansible-builder is not installed in {BIN} (requirements/test.txt pins it)")
    proc = subprocess.run([str(TOOL), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _load(rel):
    return yaml.safe_load((REPO_ROOT / rel).read_text())


def _requirement_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    ctx = tmp_path_factory.mktemp("ee") / "context"
    _builder("create", "--file", "execution-environment.yml", "--context", str(ctx),
             "--output-filename", "Containerfile")
    return ctx


def test_create_writes_containerfile_and_requirement_files(context):
    assert (context / "Containerfile").is_file()
    build = context / "_build"
    assert (build / "requirements.txt").read_text() == (REPO_ROOT / "meta" / "ee-requirements.txt").read_text()
    assert (build / "bindep.txt").read_text() == (REPO_ROOT / "meta" / "bindep.txt").read_text()
    assert (build / "requirements.yml").is_file()
    containerfile = (context / "Containerfile").read_text()
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "COPY _build/bindep.txt bindep.txt" in containerfile


def test_ee_installs_this_collection_and_the_pinned_dependencies(context):
    collections = yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"]
    version = _load("galaxy.yml")["version"]
    assert collections[0] == {"name": f"/build/collections/omero_docker-stack-{version}.tar.gz", "type": "file"}
    pins = {c["name"]: str(c["version"]) for c in _load("requirements.yml")["collections"]}
    assert {c["name"]: str(c["version"]) for c in collections[1:]} == pins


def test_ee_pins_the_base_image_and_the_tested_ansible_core():
    ee = _load("execution-environment.yml")
    assert ee["version"] == 3
    image = ee["images"]["base_image"]["name"]
    assert re.fullmatch(r"[^:@]+(:[\w][\w.-]*)?(@sha256:[0-9a-f]{64})?", image) and ("@" in image or ":" in image)
    assert not image.endswith((":latest", ":main", ":devel")), image
    run = (REPO_ROOT / "requirements" / "run.txt").read_text()
    core = re.search(r"^ansible-core==(\S+)", run, re.M).group(1)
    assert ee["dependencies"]["ansible_core"]["package_pip"] == f"ansible-core=={core}"


def test_installed_collection_declares_its_ee_dependencies(tmp_path):
    """ansible-builder reads meta/execution-environment.yml with paths relative to the
    collection root; introspection of an installed copy finds the meta/ files."""
    meta = _load("meta/execution-environment.yml")
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt", "system": "meta/bindep.txt"}
    tree = tmp_path / "ansible_collections" / "omero_docker"
    tree.mkdir(parents=True)
    (tree / "stack").symlink_to(REPO_ROOT)
    found = yaml.safe_load(_builder("introspect", str(tmp_path), cwd=tmp_path).split("\n", 1)[1])
    suffix = "  # from collection omero_docker.stack"
    for kind, rel in (("python", "meta/ee-requirements.txt"), ("system", "meta/bindep.txt")):
        assert found[kind] == [line + suffix for line in _requirement_lines((REPO_ROOT / rel).read_text())], kind
