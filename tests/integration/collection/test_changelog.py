"""The changelog is antsibull-changelog's: its fragments and changelogs/changelog.yaml
pass `antsibull-changelog lint` (the same check ansible-test's changelog sanity test
makes), run from this virtualenv's bin directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
TOOL = BIN / "antsibull-changelog"


def _changelog(*args):
    if not TOOL.is_file():
        pytest.skip(f"antsibull-changelog is not installed in {BIN} (requirements/test.txt pins it)")
    return subprocess.run([str(TOOL), *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False,
                          timeout=300)


def test_fragments_pass_antsibull_changelog_lint():
    proc = _changelog("lint")
    # lint reports each problem as a line and exits non-zero; a clean run prints nothing.
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_changelog_yaml_passes_its_linter():
    proc = _changelog("lint-changelog-yaml", "--strict", "changelogs/changelog.yaml")
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_changelog_config_renders_changelog_md():
    config = yaml.safe_load((REPO_ROOT / "changelogs" / "config.yaml").read_text())
    assert config["output"] == [{"file": "CHANGELOG.md", "format": "md"}]
    assert (REPO_ROOT / "changelogs" / "fragments").is_dir()
