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
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SMOKE = REPO_ROOT / "tests" / "images" / "omero-server" / "smoke.sh"
sys.path.insert(0, str(REPO_ROOT / "tests" / "images" / "omero-server" / "standin"))

from omero_standin import rules  # noqa: E402 - the stand-in's pure rules (no Ice, no database)


@pytest.mark.parametrize(
    ("variable", "prop"),
    [("CONFIG_omero_db_host", "omero.db.host"), ("CONFIG_omero_web_server__list", "omero.web.server_list"),
     ("CONFIG_omero_jvmcfg_heap__size_blitz", "omero.jvmcfg.heap_size.blitz")],
)  # fmt: skip
def test_config_variable_names(variable, prop):
    assert rules.property_name(variable) == prop


def test_passwords_are_salted_hashes():
    a, b = rules.hash_password("secret", iterations=1000), rules.hash_password("secret", iterations=1000)
    assert a != b and "secret" not in a
    assert rules.password_matches(a, "secret") and not rules.password_matches(a, "Secret")
    assert not rules.password_matches(None, "") and not rules.password_matches("garbage", "x")


def test_membership_rules():
    with pytest.raises(rules.RuleError, match="Cannot set default group to: user"):
        rules.check_default_group(rules.USER_GROUP_ID)
    with pytest.raises(rules.RuleError, match="only the 'user' group"):
        rules.check_remove_groups(5, [3, rules.USER_GROUP_ID], [3], acting_user_id=0)
    with pytest.raises(rules.RuleError, match="may not be removed"):
        rules.check_remove_groups(rules.ROOT_ID, [0, 1], [0], acting_user_id=2)
    rules.check_remove_groups(5, [3, 4, rules.USER_GROUP_ID], [3], acting_user_id=0)
    assert rules.default_group([(1, "user"), (3, "lab")]) is None
    assert rules.default_group([(3, "lab"), (1, "user")]) == 3


def test_script_repository_rules():
    assert rules.split_script_path("omero/a/B.py") == ("/omero/a/", "B.py")
    assert rules.is_script_file("omero/a/B.py")
    assert not rules.is_script_file("omero/a/__init__.py") and not rules.is_script_file("omero/.x/B.py")
    assert not rules.is_script_file("omero/a/B.txt")
    with pytest.raises(rules.RuleError):
        rules.script_path("/omero/../etc/passwd")
    gone, new = rules.reconcile_scripts({"/omero/a/Kept.py": 1, "/omero/a/Lost.py": 2}, {"/omero/a/Kept.py", "/x/N.py"})
    assert (gone, new) == ([2], ["/x/N.py"])


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


@pytest.mark.docker
@pytest.mark.omero_server
def test_smoke(engine):
    proc = subprocess.run(["bash", str(SMOKE)], capture_output=True, text=True, timeout=1800, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    for line in (
        "startup phase: 4064 open, login answers: PermissionDeniedException internal server error",
        "wrong password: PermissionDeniedException Password check failed for 'root'",
        "secure=false: joined the session over OMERO.Glacier2/router:tcp -p 4063",
        "omero config get: db host/user/name/pass from CONFIG_*",
        "the collection's omero_group/omero_user/omero_script modules: first run changed, second unchanged",
        "recreated with the mount: Smoke.py keeps id",
        "recreated without the mount: Smoke.py is gone",
        "without CONFIG_omero_db_host: omero.db.host=db",
        "wrong database password: exit",
        "OMERO.server stand-in smoke test passed",
    ):
        assert line in output, f"missing {line!r} in:\n{output[-6000:]}"
