"""The official scripts come from the installed, pinned omero-scripts distribution's files."""

from __future__ import annotations

import base64
import hashlib
import shutil
from importlib import metadata
from pathlib import Path

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_plan

REPO_ROOT = Path(__file__).resolve().parents[4]


def pinned(name):
    for line in (REPO_ROOT / "requirements" / "omero.txt").read_text().splitlines():
        if line.startswith(name + "=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("%s is not pinned in requirements/omero.txt" % name)


def test_installed_version_is_the_pin():
    assert metadata.version("omero-scripts") == pinned("omero-scripts")
    assert metadata.version("omero-py") == pinned("omero-py")


def test_official_list_is_the_distributions_file_record():
    """Exactly the .py files the distribution's RECORD lists under omero/, minus __init__.py."""
    dist = metadata.distribution("omero-scripts")
    expected = {
        "/" + str(f) for f in dist.files
        if str(f).startswith("omero/") and str(f).endswith(".py") and not str(f).endswith("__init__.py")
    }
    version, scripts = omero_plan.official_scripts(version=pinned("omero-scripts"))
    assert version == pinned("omero-scripts")
    assert set(scripts) == expected
    assert "/omero/figure_scripts/Split_View_Figure.py" in scripts
    for path, text in scripts.items():
        assert text == dist.locate_file(path.lstrip("/")).read_text(encoding="utf-8")


def test_official_scripts_found_in_a_target_directory(tmp_path):
    """A `pip install --target DIR` copy (what the role does in the container) is found via the search path."""
    dist = metadata.distribution("omero-scripts")
    for packaged in dist.files:
        dest = tmp_path / str(packaged)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dist.locate_file(packaged), dest)
    (tmp_path / "omero" / "figure_scripts" / "Extra_Not_In_Record.py").write_text("# not shipped\n")
    version, scripts = omero_plan.official_scripts(search_path=[str(tmp_path)])
    assert version == dist.version
    assert "/omero/figure_scripts/Extra_Not_In_Record.py" not in scripts


def test_missing_distribution_names_the_fix(monkeypatch):
    monkeypatch.setattr(omero_plan, "_find_distribution", lambda search_path: None)
    with pytest.raises(omero_plan.PlanError, match="pip install --no-deps omero-scripts==5"):
        omero_plan.official_scripts(version="5.10.0")


def test_installed_files_match_the_record_hashes():
    """The installed files are byte-identical to the ones the distribution's RECORD hashes."""
    dist = metadata.distribution("omero-scripts")
    checked = 0
    for packaged in dist.files:
        if packaged.hash is None or not str(packaged).endswith(".py"):
            continue
        digest = hashlib.new(packaged.hash.mode, dist.locate_file(packaged).read_bytes()).digest()
        assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == packaged.hash.value, packaged
        checked += 1
    assert checked > 10
