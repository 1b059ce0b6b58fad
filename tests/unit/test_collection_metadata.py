"""Checks of the collection's own metadata (cheap, no Ansible run)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load(rel):
    return yaml.safe_load((REPO_ROOT / rel).read_text())


def test_galaxy_identity_and_semver():
    galaxy = _load("galaxy.yml")
    assert galaxy["namespace"] == "omero_docker"
    assert galaxy["name"] == "stack"
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", galaxy["version"])


def test_galaxy_dependencies_match_requirements_yml():
    """Every collection galaxy.yml depends on is pinned in requirements.yml, and
    the pinned version satisfies galaxy.yml's range."""
    from ansible.module_utils.compat.version import LooseVersion

    deps = _load("galaxy.yml")["dependencies"]
    pins = {c["name"]: c["version"] for c in _load("requirements.yml")["collections"]}
    assert set(deps) == set(pins)
    for name, spec in deps.items():
        for clause in spec.split(","):
            op, ver = re.fullmatch(r"\s*(>=|<=|<|>|==)\s*(\S+)\s*", clause).groups()
            pinned = LooseVersion(pins[name])
            want = LooseVersion(ver)
            assert {
                ">=": pinned >= want,
                "<=": pinned <= want,
                "<": pinned < want,
                ">": pinned > want,
                "==": pinned == want,
            }[op], f"{name} {pins[name]} does not satisfy {spec}"


def test_every_collection_the_content_uses_is_a_dependency():
    """A module or plugin named by its FQCN in roles/ or playbooks/ comes from this
    collection, ansible.builtin, or a collection galaxy.yml depends on."""
    deps = set(_load("galaxy.yml")["dependencies"]) | {"ansible.builtin", "omero_docker.stack"}
    fqcn = re.compile(r"^\s*-?\s*([a-z_0-9]+\.[a-z_0-9]+)\.[a-z_0-9]+:", re.MULTILINE)
    used = {}
    for top in ("roles", "playbooks"):
        for path in sorted((REPO_ROOT / top).rglob("*.yml")):
            for name in fqcn.findall(path.read_text()):
                used.setdefault(name, str(path.relative_to(REPO_ROOT)))
    assert "community.docker" in used
    missing = dict((name, where) for name, where in used.items() if name not in deps)
    assert missing == {}, "collections used but not in galaxy.yml dependencies (first use): %s" % missing


def test_python_requirements_are_pinned():
    for rel in ("requirements/run.txt", "requirements/test.txt"):
        for raw in (REPO_ROOT / rel).read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("-r "):
                continue
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line), (
                f"{rel}: '{line}' is not pinned with =="
            )


def test_installed_collections_match_requirements_yml():
    """The collections the pinned `ansible` package brings are the versions
    requirements.yml names, so Galaxy and offline installs run the same code."""
    import importlib.util
    import json

    for entry in _load("requirements.yml")["collections"]:
        ns, name = entry["name"].split(".")
        spec = importlib.util.find_spec(f"ansible_collections.{ns}.{name}")
        assert spec is not None, f"{entry['name']} is not installed"
        manifest = Path(list(spec.submodule_search_locations)[0]) / "MANIFEST.json"
        version = json.loads(manifest.read_text())["collection_info"]["version"]
        assert version == entry["version"], entry["name"]


def test_runtime_requires_ansible():
    runtime = _load("meta/runtime.yml")
    assert runtime["requires_ansible"].startswith(">=")
