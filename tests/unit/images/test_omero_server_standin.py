"""The OMERO.server stand-in image (tests/images/omero-server) against a real PostgreSQL.

Runs tests/images/omero-server/smoke.sh, which builds (or reuses, keyed) the stand-in
image and the PostgreSQL test image, starts them on a network of their own and checks
the startup contract of the official openmicroscopy/omero-server image and the Ice
behaviour the collection's omero_* modules rely on (see the script's header). Skipped
when no Docker engine answers. Building the image needs the zeroc-ice wheel
(tests/images/wheels/zeroc-ice.sh, several minutes the first time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SMOKE = REPO_ROOT / "tests" / "images" / "omero-server" / "smoke.sh"


@pytest.fixture(scope="module")
def engine():
    if shutil.which("docker") is None:
        pytest.skip("no docker client")
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("docker info timed out")
    if info.returncode != 0:
        pytest.skip(f"no Docker engine answers (docker info: {info.stderr.strip()[:200]})")
    if os.geteuid() != 0:
        pytest.skip("needs root to give the bind-mounted scripts folder to uid 1000")


def test_smoke(engine):
    proc = subprocess.run(["bash", str(SMOKE)], capture_output=True, text=True, timeout=1800, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    for line in (
        "startup phase: 4064 open, login answers: PermissionDeniedException internal server error",
        "wrong password: PermissionDeniedException Password check failed for 'root'",
        "omero config get: db host/user/name/pass from CONFIG_*",
        "recreated with the mount: Smoke.py keeps id",
        "recreated without the mount: Smoke.py is gone",
        "without CONFIG_omero_db_host: omero.db.host=db",
        "wrong database password: exit",
        "OMERO.server stand-in smoke test passed",
    ):
        assert line in output, f"missing {line!r} in:\n{output[-6000:]}"
