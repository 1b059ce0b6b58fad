"""The set-up scripts behind the README's two commands fail loudly on a fresh machine.

Both defects were found by running the test command with an empty cache: a warm cache
hid them. Each test runs the real script with a stub in place of the slow or networked
part (pip, the compiler's Python), so it takes a second and cannot pass by accident.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def _stub(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)
    return path


def _bash(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, OMERO_STACK_CACHE=str(tmp_path / "cache"), **env)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=full_env,
                          cwd=REPO_ROOT, timeout=120, check=False)


def test_pip_quiet_returns_pips_failure(tmp_path):
    """A failing pip must fail pip_quiet (it used to return 0: `|| true` reset PIPESTATUS),
    or a broken virtualenv is marked complete and reused by every later run."""
    venv = tmp_path / "venv"
    _stub(venv / "bin" / "pip",
          "echo 'WARNING: Location x is ignored' >&2; echo 'ERROR: no such package' >&2; exit 3\n")
    result = _bash('source tools/common.sh; if pip_quiet "$VENV" install nothing; then echo "rc=0"; '
                   'else echo "rc=$?"; fi', tmp_path, VENV=str(venv))
    assert result.stdout.strip() == "rc=3", result
    assert "ERROR: no such package" in result.stderr
    assert "is ignored" not in result.stderr


def test_pip_quiet_passes_pips_success(tmp_path):
    venv = tmp_path / "venv"
    _stub(venv / "bin" / "pip", "exit 0\n")
    result = _bash('source tools/common.sh; pip_quiet "$VENV" install something; echo "rc=$?"',
                   tmp_path, VENV=str(venv))
    assert result.stdout.strip() == "rc=0", result


def test_zeroc_ice_builds_with_an_empty_cache(tmp_path):
    """With no wheel cache yet, zeroc-ice.sh must go on to build (it used to exit 1 without a
    word: `find` on the missing directory failed under pipefail inside `$(...)`). The stub
    Python fails the build step, so the script must stop there, loudly."""
    python = _stub(tmp_path / "bin" / "python3",
                   'if [ "$1" = -c ]; then echo 311; exit 0; fi\necho "stub python: $*" >&2; exit 7\n')
    result = _bash("bash tests/images/wheels/zeroc-ice.sh", tmp_path, PYTHON=str(python))
    assert result.returncode != 0
    assert "building zeroc-ice 3.6.5 wheel for cp311" in result.stderr, result.stderr
    assert "stub python: -m venv" in result.stderr
